#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the guest initramfs for the lpu tests: busybox, the DRM modules lpu.ko
# needs (decompressed, with a load-order list), lpu.ko, the guest test
# programs and tools with the shared libraries they use, and the guest /init.
#
# Usage: scripts/build-initramfs.sh [options] OUTPUT
#
#   --kernel-dir DIR  cached guest kernel ($LPU_KERNEL_DIR; default the newest
#                     $LPU_CACHE/kernel/<krel>, as fetched by setup-deps.sh)
#   --module FILE     the driver ($LPU_MODULE; default driver/lpu.ko);
#                     "none" leaves it out
#   --tests DIR       guest tests ($LPU_TEST_BIN; default
#                     $BUILD/tests/guest/bin): every file there is copied,
#                     the executables named t_* are the tests
#   --tools DIR       executables copied to /usr/bin ($LPU_TOOLS_DIR; default
#                     $BUILD/tools, lpu-bench among them)
#   --data DIR        test data, copied to /usr/share/lpu ($LPU_TEST_DATA;
#                     default $BUILD/tests/guest/data, left out if missing)
#   --extra DIR       copy DIR's contents over the guest root (repeatable;
#                     $LPU_GUEST_EXTRA, colon-separated)
#   --compress C      none, gzip or zstd ($LPU_INITRAMFS_COMPRESS; default
#                     none: under TCG unpacking a plain cpio is fastest)
#
# Besides OUTPUT it writes OUTPUT.tests, the names of the tests it holds, one
# per line in the order the guest runs them. Same inputs, same bytes out.
#
# Guest layout:
#   /init                          tests/guest/init.sh
#   /bin/lpu-demo                  tests/guest/demo.sh
#   /lib/modules/<krel>/kernel/..  the DRM module closure, decompressed
#   /lib/modules/load-order        those modules, in insmod order
#   /lib/modules/lpu.ko            the driver
#   /opt/lpu/tests/                the test programs
#   /usr/bin/                      the tools (lpu-bench, ...)
#   /usr/share/lpu/                the test data (programs, models, ...)
#   /usr/local/lib/                shared libraries from outside the system
#                                  directories (liblpu from the build tree)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LPU_CACHE=${LPU_CACHE:-/var/cache/lpu}
BUILD=${BUILD:-$ROOT/build}

# The modules lpu.ko needs even before lpu.ko exists; its own "depends" are
# added to these.
BASE_MODULES="drm drm_shmem_helper gpu-sched"

kernel_dir=${LPU_KERNEL_DIR:-}
module=${LPU_MODULE:-$ROOT/driver/lpu.ko}
test_bin=${LPU_TEST_BIN:-$BUILD/tests/guest/bin}
tools_dir=${LPU_TOOLS_DIR:-$BUILD/tools}
test_data=${LPU_TEST_DATA:-$BUILD/tests/guest/data}
compress=${LPU_INITRAMFS_COMPRESS:-none}
extras=()
if [ -n "${LPU_GUEST_EXTRA:-}" ]; then
	IFS=: read -r -a extras <<< "$LPU_GUEST_EXTRA"
fi
output=

die() { printf 'build-initramfs: %s\n' "$*" >&2; exit 1; }
warn() { printf 'build-initramfs: warning: %s\n' "$*" >&2; }

usage() {
	sed -n '/^# Usage:/,/^# Same inputs/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--kernel-dir) kernel_dir=$2; shift 2 ;;
	--module) module=$2; shift 2 ;;
	--tests) test_bin=$2; shift 2 ;;
	--tools) tools_dir=$2; shift 2 ;;
	--data) test_data=$2; shift 2 ;;
	--extra) extras+=("$2"); shift 2 ;;
	--compress) compress=$2; shift 2 ;;
	-h|--help) usage 0 ;;
	-*) die "unknown option $1" ;;
	*) [ -z "$output" ] || die "more than one OUTPUT"; output=$1; shift ;;
	esac
done
[ -n "$output" ] || usage 2
case $compress in none|gzip|zstd) ;; *) die "bad --compress $compress" ;; esac

# --- the guest kernel -------------------------------------------------------

if [ -z "$kernel_dir" ]; then
	kernel_dir=$(find "$LPU_CACHE/kernel" -mindepth 1 -maxdepth 1 -type d \
		! -name '*.tmp' 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kernel_dir" ] ||
		die "no guest kernel in $LPU_CACHE/kernel: run scripts/setup-deps.sh"
fi
krel=$(basename "$kernel_dir")
kmods=$kernel_dir/modules
[ -d "$kmods/kernel" ] || die "$kmods/kernel missing: run scripts/setup-deps.sh"

# setup-deps.sh runs depmod when it fetches the kernel; an older cache may
# lack modules.dep, so make it here (once, about 10 s).
if [ ! -f "$kmods/modules.dep" ]; then
	command -v depmod >/dev/null || die "depmod missing (apt-get install kmod)"
	echo "build-initramfs: running depmod on $kmods" >&2
	tmpbase=$(mktemp -d)
	mkdir -p "$tmpbase/lib/modules"
	ln -s "$kmods" "$tmpbase/lib/modules/$krel"
	depmod -b "$tmpbase" "$krel" || { rm -rf "$tmpbase"; die "depmod failed"; }
	rm -rf "$tmpbase"
fi

if [ "$module" != none ]; then
	[ -f "$module" ] || die "$module missing: run 'make modules' first"
	vermagic=$(modinfo -F vermagic "$module" | awk '{print $1}')
	[ "$vermagic" = "$krel" ] ||
		die "$module is built for '$vermagic', the guest kernel is '$krel' (KDIR?)"
	deps=$(modinfo -F depends "$module" | tr ',' ' ')
	BASE_MODULES="$BASE_MODULES $deps"
fi

# Resolve the closure from modules.dep. Each line there lists a module's
# whole dependency closure, so sorting the set by closure size gives a valid
# load order (a module's closure strictly contains each dependency's).
raw=$(awk -v want="$BASE_MODULES" '
	function norm(p,  n) {
		n = p; sub(/.*\//, "", n); sub(/\.ko(\.[a-z]+)?$/, "", n)
		gsub(/-/, "_", n); return n
	}
	BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) {
		x = w[i]; gsub(/-/, "_", x); if (x != "") need[x] = 1 } }
	{ sub(/:$/, "", $1); path[norm($1)] = $1; line[norm($1)] = $0 }
	END {
		for (m in need) {
			if (!(m in path)) { print "MISSING " m; continue }
			split(line[m], f, " "); set[path[m]] = 1
			for (i = 2; i in f; i++) set[f[i]] = 1
		}
		for (p in set) {
			split(line[norm(p)], f, " "); c = 0
			for (i = 2; i in f; i++) c++
			printf "%04d %s\n", c, p
		}
	}' "$kmods/modules.dep")
if grep -q '^MISSING' <<< "$raw"; then
	die "modules not in $krel:$(sed -n 's/^MISSING/ /p' <<< "$raw" | tr -d '\n')"
fi
load_order=$(LC_ALL=C sort <<< "$raw" | awk '{print $2}')

# --- staging ------------------------------------------------------------------

stage=$(mktemp -d "${TMPDIR:-/tmp}/lpu-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,usr/local/lib,lib/modules} \
	"$stage"/{dev,proc,sys,tmp,run,root,etc,opt/lpu/tests}
chmod 1777 "$stage/tmp"

busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" | grep -q 'statically linked'; then
	die "need a static busybox (apt-get install busybox-static)"
fi
cp "$busybox" "$stage/bin/busybox"
"$stage/bin/busybox" --list-full | while read -r applet; do
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$stage/$(dirname "$applet")"
	ln -sf /bin/busybox "$stage/$applet"
done

install -m 0755 "$ROOT/tests/guest/init.sh" "$stage/init"
install -m 0755 "$ROOT/tests/guest/demo.sh" "$stage/bin/lpu-demo"
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$stage/etc/passwd"
printf 'root:x:0:\n' > "$stage/etc/group"
printf '%s\n' "$krel" > "$stage/etc/lpu-krel"

# Modules: decompressed (busybox insmod cannot read .ko.xz).
: > "$stage/lib/modules/load-order"
for m in $load_order; do
	dst=$stage/lib/modules/$krel/${m%.xz}
	dst=${dst%.zst}
	mkdir -p "$(dirname "$dst")"
	case $m in
	*.xz) xz -dc "$kmods/$m" > "$dst" ;;
	*.zst) zstd -qdc "$kmods/$m" > "$dst" ;;
	*) cp "$kmods/$m" "$dst" ;;
	esac
	printf '%s\n' "${dst#"$stage"}" >> "$stage/lib/modules/load-order"
done
[ "$module" = none ] || install -m 0644 "$module" "$stage/lib/modules/lpu.ko"

# Test programs: every regular file (helpers and data files too).
if [ -d "$test_bin" ]; then
	find "$test_bin" -maxdepth 1 -type f -print0 | sort -z |
		xargs -0r cp -t "$stage/opt/lpu/tests"
else
	warn "no guest tests in $test_bin ('make -C tests/guest')"
fi
find "$stage/opt/lpu/tests" -maxdepth 1 -type f -name 't_*' -perm -u+x \
	-printf '%f\n' | LC_ALL=C sort > "$output.tests.tmp"

if [ -d "$tools_dir" ]; then
	find "$tools_dir" -maxdepth 1 -type f -perm -u+x -print0 | sort -z |
		xargs -0r cp -t "$stage/usr/bin"
fi

# Makes the tests' stdout line-buffered in the pipe /init reads (LD_PRELOAD),
# so that the output of a test that hangs is not lost.
stdbuf=/usr/libexec/coreutils/libstdbuf.so
[ ! -f "$stdbuf" ] || install -m 0755 "$stdbuf" "$stage/usr/local/lib/libstdbuf.so"

if [ -d "$test_data" ]; then
	mkdir -p "$stage/usr/share/lpu"
	cp -a "$test_data/." "$stage/usr/share/lpu/"
fi

for x in "${extras[@]}"; do
	[ -d "$x" ] || die "--extra $x: not a directory"
	cp -a "$x/." "$stage/"
done

# Shared libraries: whatever ldd names for each dynamic ELF file, at the
# same path (system ones, so the loader's default search path finds them)
# or in /usr/local/lib (the rest; /init puts it in LD_LIBRARY_PATH).
libpath=$BUILD/lib:$BUILD/libruntime${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
copy_lib() {
	local src=$1 name=$2 dst
	case $src in
	/lib/*|/lib64/*|/usr/lib/*|/usr/lib64/*) dst=$stage$(dirname "$src")/$name ;;
	*) dst=$stage/usr/local/lib/$name ;;
	esac
	[ -e "$dst" ] && return 0
	mkdir -p "$(dirname "$dst")"
	cp -L "$src" "$dst"
}
missing_libs=
while IFS= read -r -d '' f; do
	[ "$(head -c 4 "$f" | od -An -c | tr -d ' ')" = '177ELF' ] || {
		# A script: its interpreter must exist in the guest.
		interp=$(head -n 1 "$f" | sed -n 's/^#! *\([^ ]*\).*/\1/p')
		if [ -n "$interp" ] && [ ! -e "$stage$interp" ] &&
				[ ! -L "$stage$interp" ]; then
			warn "${f#"$stage"}: interpreter $interp not in the guest"
		fi
		continue
	}
	out=$(LD_LIBRARY_PATH=$libpath ldd "$f" 2>/dev/null) || continue
	while read -r a b c _; do
		if [ "$b" = "=>" ] && [ "$c" = "not" ]; then
			missing_libs+=" ${f#"$stage"}:$a"
		elif [ "$b" = "=>" ] && [ "${c#/}" != "$c" ]; then
			copy_lib "$c" "$a"
		elif [ "${a#/}" != "$a" ]; then
			copy_lib "$a" "$(basename "$a")"	# the loader
		fi
	done <<< "$out"
done < <(find "$stage/opt" "$stage/usr/bin" "$stage/usr/local/lib" \
	-type f -perm -u+x -print0 | sort -z)
[ -z "$missing_libs" ] || die "libraries not found:$missing_libs"

# --- archive --------------------------------------------------------------------

# /dev/console must exist before /init runs (the kernel opens it for init's
# stdin/stdout). A hand-made newc archive holds it, so that building needs
# no root and no mknod; the kernel unpacks concatenated archives in order.
newc_entry() { # name mode rdevmajor rdevminor
	local name=$1 mode=$2 maj=$3 min=$4 namesize
	namesize=$((${#name} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%s\0' \
		0 "$mode" 0 0 1 0 0 0 0 "$maj" "$min" "$namesize" 0 "$name"
	# header (110 bytes) + name + NUL, padded to a multiple of 4
	local pad=$(( (4 - (110 + namesize) % 4) % 4 ))
	head -c "$pad" /dev/zero
}
dev_archive() {
	newc_entry dev $((0040755)) 0 0
	newc_entry dev/console $((0020600)) 5 1
	newc_entry TRAILER!!! 0 0 0
}

find "$stage" -exec touch -h -d @0 {} +
tmp_out=$output.tmp
{
	(cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio --quiet -o -H newc --reproducible -R 0:0)
	dev_archive
} | case $compress in
	none) cat ;;
	gzip) gzip -n -6 ;;
	zstd) zstd -q -T0 -10 ;;
esac > "$tmp_out"
mv "$tmp_out" "$output"
mv "$output.tests.tmp" "$output.tests"
echo "build-initramfs: $output ($(du -h "$output" | cut -f1)," \
	"$(wc -l < "$output.tests") tests, kernel $krel)" >&2
