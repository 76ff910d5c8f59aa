#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build QEMU 10.0 (Debian trixie source) with the emulated LPU card
# (tools/emulator/) compiled in, for x86_64 with a q35 machine only.
#
# Logs go to stderr; the only thing printed on stdout is the absolute path of
# the qemu-system-x86_64 binary (one line).
#
# Cache layout, under ${LPU_CACHE:-/var/cache/lpu}/qemu:
#   src-<ver>/          unpacked, patched QEMU source (device sources copied
#                       into hw/misc/lpu/ at every build)
#   build-<ver>/        configured build tree, reused across device changes,
#                       so a device change only recompiles the device
#   <ver>-<hash>/bin/qemu-system-x86_64
#                       final binary; <hash> covers the device sources,
#                       uapi/lpu/lpu_hw.h and this script. A second run with
#                       unchanged sources prints this path without building.
# Every step builds in a temporary place or leaves a stamp file when done,
# so an interrupted run is picked up (or redone) by the next one.
#
# Environment:
#   LPU_CACHE      cache directory (default /var/cache/lpu)
#   JOBS           parallel jobs (default $(nproc))
#   QEMU_SUITE     Debian suite to take the source from (default trixie)
#   LPU_QEMU_KEEP  how many built binaries to keep in the cache (default 5)
set -euo pipefail

# QEMU's own flags only: a caller's CFLAGS (from make) must not leak in.
unset CFLAGS CXXFLAGS CPPFLAGS LDFLAGS

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LPU_CACHE=${LPU_CACHE:-/var/cache/lpu}
QCACHE=$LPU_CACHE/qemu
JOBS=${JOBS:-$(nproc)}
QEMU_SUITE=${QEMU_SUITE:-trixie}
export DEBIAN_FRONTEND=noninteractive
export LC_ALL=C

log() { printf 'build-qemu: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Our files as copied into the QEMU tree: repo path -> path under hw/misc/lpu.
# Every .c listed is compiled into QEMU (hw/misc/lpu/meson.build is written
# from this list), so a new device source is one line here. Headers are
# found relative to the including file: lpu_card.h includes "lpu/lpu_hw.h".
DEV_SRC=(
	tools/emulator/lpu_pci.c:lpu_pci.c
	tools/emulator/lpu_card.c:lpu_card.c
	tools/emulator/lpu_card.h:lpu_card.h
	tools/emulator/lpu_exec.c:lpu_exec.c
	tools/emulator/lpu_exec.h:lpu_exec.h
	tools/emulator/lpu_engine.c:lpu_engine.c
	tools/emulator/lpu_engine.h:lpu_engine.h
	lib/lpu_insn.c:lpu_insn.c
	lib/lpu_insn.h:lpu_insn.h
	uapi/lpu/lpu_hw.h:lpu/lpu_hw.h
	uapi/lpu/lpu_isa.h:lpu/lpu_isa.h
)

# configs/devices/x86_64-softmmu/lpu.mak: the q35 machine, the card, an
# IOMMU (-device intel-iommu) to catch DMA-mapping bugs and PCIe root ports
# (-device pcie-root-port) to hot-plug and unplug the card.
DEVICES_MAK='CONFIG_Q35=y
CONFIG_LPU_PCI=y
CONFIG_VTD=y
CONFIG_PCIE_PORT=y'

CONFIGURE_OPTS=(
	--prefix=/usr
	--target-list=x86_64-softmmu
	--without-default-devices
	--with-devices-x86_64=lpu
	--python=/usr/bin/python3
	--disable-download
	--disable-docs
	--disable-tools
	--disable-user
	--disable-rust
	--disable-slirp
	--disable-fdt
	--disable-install-blobs
	--disable-guest-agent
	--disable-gtk
	--disable-sdl
	--disable-vnc
	--disable-spice
	--disable-opengl
	--disable-curses
	--disable-gio
	--disable-dbus-display
	--disable-xkbcommon
	--disable-libudev
	--disable-libusb
	--disable-usb-redir
	--disable-vhost-user
	--disable-vhost-user-blk-server
	--disable-plugins
	--disable-capstone
	--audio-drv-list=
)

# ---- dependencies --------------------------------------------------------

deps_ok() {
	local c
	for c in ninja flex bison pkg-config dpkg-source apt-get; do
		command -v "$c" >/dev/null 2>&1 || return 1
	done
	[ -x /usr/bin/meson ] || return 1
	dpkg --compare-versions "$(/usr/bin/meson --version 2>/dev/null || echo 0)" \
		ge 1.5 || return 1
	pkg-config --exists glib-2.0 pixman-1 zlib || return 1
	/usr/bin/python3 -c 'import venv, ensurepip, pip' 2>/dev/null || return 1
	[ -f /etc/apt/sources.list.d/lpu-extra.sources ] || return 1
	return 0
}

ensure_deps() {
	deps_ok && return 0
	log "build dependencies missing, running scripts/setup-deps.sh"
	[ "$(id -u)" -eq 0 ] || die "must run as root to install dependencies"
	"$ROOT/scripts/setup-deps.sh" >&2
	deps_ok || die "build dependencies still missing after setup-deps.sh"
}

# ---- version and hash ----------------------------------------------------

# Debian version of the QEMU source package, e.g. 10.0.13+ds-0+deb13u1.
# Asks apt (local package lists, no download).
qemu_version() {
	apt-get source --print-uris -qq "qemu/$QEMU_SUITE" 2>/dev/null |
		sed -n "s/^'[^']*' qemu_\(.*\)\.dsc .*/\1/p" | head -1
}

# Falls back to the newest prepared tree in the cache when apt cannot answer.
cached_version() {
	local d best=""
	for d in "$QCACHE"/src-*/.lpu-prepared; do
		[ -f "$d" ] || continue
		d=${d%/.lpu-prepared}
		d=${d##*/src-}
		if [ -z "$best" ] || dpkg --compare-versions "$d" gt "$best"; then
			best=$d
		fi
	done
	echo "$best"
}

source_hash() {
	local ent
	{
		for ent in "${DEV_SRC[@]}"; do
			printf '%s\n' "${ent%%:*}"
			cat "$ROOT/${ent%%:*}"
		done
		printf 'scripts/build-qemu.sh\n'
		cat "$ROOT/scripts/build-qemu.sh"
	} | sha256sum | cut -c1-16
}

# ---- source tree ---------------------------------------------------------

patch_tree() {
	local t=$1

	# The +ds tarball has no edk2 blobs (Debian's patch may already cover it).
	sed -i 's/^\( *\)unpack_edk2_blobs = bzip2\.found()/\1unpack_edk2_blobs = false/' \
		"$t/meson.build"

	cat >> "$t/hw/misc/Kconfig" <<'EOF'

config LPU_PCI
    bool
    depends on PCI
EOF
	hook_meson "$t"
}

# hw/misc/meson.build descends into hw/misc/lpu (idempotent; also moves a
# tree patched by an older version of this script, which listed the files
# in hw/misc/meson.build itself).
hook_meson() {
	local f=$1/hw/misc/meson.build
	if grep -q "CONFIG_LPU_PCI" "$f"; then
		sed -i '/CONFIG_LPU_PCI/d' "$f"
	fi
	grep -qx "subdir('lpu')" "$f" || echo "subdir('lpu')" >> "$f"
}

# Returns 1 if the download fails (stale apt lists, no mirror).
prepare_source() {
	local src=$QCACHE/src-$VER
	[ -f "$src/.lpu-prepared" ] && return 0
	log "fetching and unpacking QEMU $VER source"
	rm -rf "$src" "$src.tmp"
	mkdir -p "$src.tmp/dl"
	# apt drops privileges to _apt for downloads when it can write there.
	chown _apt "$src.tmp/dl" 2>/dev/null || true
	if ! (cd "$src.tmp/dl" &&
		apt-get source --download-only -qq "qemu/$QEMU_SUITE" >&2 2>&1) ||
		[ ! -f "$src.tmp/dl/qemu_$VER.dsc" ]; then
		log "apt-get source qemu/$QEMU_SUITE did not fetch qemu_$VER.dsc"
		rm -rf "$src.tmp"
		return 1
	fi
	dpkg-source --no-check -x "$src.tmp/dl/qemu_$VER.dsc" "$src.tmp/tree" \
		>&2 || die "dpkg-source -x failed"
	patch_tree "$src.tmp/tree"
	mv "$src.tmp/tree" "$src"
	rm -rf "$src.tmp"
	touch "$src/.lpu-prepared"
}

# Replace $2 with the content of $1 unless they are equal, so ninja only
# rebuilds what changed.
update_file() {
	if ! cmp -s "$1" "$2"; then
		mkdir -p "$(dirname "$2")"
		cp "$1" "$2.tmp"
		mv "$2.tmp" "$2"
	fi
}

# Copy our sources in and list the .c files in hw/misc/lpu/meson.build.
copy_device() {
	local src=$QCACHE/src-$VER ent from dst cfiles=() tmp
	for ent in "${DEV_SRC[@]}"; do
		from=$ROOT/${ent%%:*}
		dst=${ent#*:}
		[ -f "$from" ] || die "missing $from"
		update_file "$from" "$src/hw/misc/lpu/$dst"
		case $dst in *.c) cfiles+=("'$dst'") ;; esac
	done
	hook_meson "$src"
	tmp=$(mktemp)
	{
		echo "# Written by lpu scripts/build-qemu.sh"
		printf "system_ss.add(when: 'CONFIG_LPU_PCI', if_true: files(%s))\n" \
			"$(IFS=,; echo "${cfiles[*]}" | sed 's/,/, /g')"
	} > "$tmp"
	update_file "$tmp" "$src/hw/misc/lpu/meson.build"
	rm -f "$tmp"
}

# ---- configure and build -------------------------------------------------

configure_tree() {
	local src=$QCACHE/src-$VER bld=$QCACHE/build-$VER
	local want
	want=$(printf '%s\n' "${CONFIGURE_OPTS[@]}" "$DEVICES_MAK")
	if [ -f "$bld/.lpu-configured" ] && [ "$(cat "$bld/.lpu-configured")" = "$want" ]; then
		return 0
	fi
	log "configuring QEMU in $bld"
	rm -rf "$bld"
	mkdir -p "$bld"
	printf '%s\n' "$DEVICES_MAK" > "$src/configs/devices/x86_64-softmmu/lpu.mak"
	(cd "$bld" && "$src/configure" "${CONFIGURE_OPTS[@]}" >&2) ||
		{ rm -rf "$bld"; die "configure failed"; }
	printf '%s' "$want" > "$bld/.lpu-configured"
}

build_tree() {
	local bld=$QCACHE/build-$VER logf
	logf=$bld/lpu-ninja.log
	log "building qemu-system-x86_64 (-j$JOBS)"
	set +e
	ninja -C "$bld" -j "$JOBS" qemu-system-x86_64 2>&1 | tee "$logf" >&2
	local rc=${PIPESTATUS[0]}
	set -e
	[ "$rc" -eq 0 ] || die "ninja failed (log: $logf)"
	# QEMU release tarballs build without -Werror; hold our device to it.
	if grep -E 'hw/misc/lpu/[^ :]*:[0-9]+:[0-9]+: warning:' "$logf" >&2; then
		find "$bld" -path '*hw_misc_lpu_*.o' -delete 2>/dev/null || true
		die "compiler warnings in the LPU device sources"
	fi
}

install_binary() {
	local bld=$QCACHE/build-$VER out=$1
	rm -rf "$out.tmp"
	mkdir -p "$out.tmp/bin"
	cp "$bld/qemu-system-x86_64" "$out.tmp/bin/"
	{
		echo "qemu $VER"
		echo "hash $HASH"
		echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	} > "$out.tmp/BUILD-INFO"
	rm -rf "$out"
	mv "$out.tmp" "$out"
}

# Keep the newest few binaries (every device change adds a 40 MB one).
# A binary still running keeps working after its file is removed.
prune_binaries() {
	local keep=${LPU_QEMU_KEEP:-5} d
	# shellcheck disable=SC2012
	ls -1dt "$QCACHE"/[0-9]*-*/ 2>/dev/null | tail -n +$((keep + 1)) |
		while read -r d; do
			[ -f "$d/BUILD-INFO" ] || continue
			log "removing old build ${d%/}"
			rm -rf "${d%/}"
		done
}

main() {
	mkdir -p "$QCACHE"
	HASH=$(source_hash)

	VER=$(qemu_version || true)
	if [ -z "$VER" ]; then
		VER=$(cached_version)
		if [ -z "$VER" ]; then
			ensure_deps
			VER=$(qemu_version || true)
		fi
	fi
	[ -n "$VER" ] || die "cannot resolve the QEMU source version from apt"

	local out=$QCACHE/$VER-$HASH
	local bin=$out/bin/qemu-system-x86_64
	if [ -x "$bin" ]; then
		log "cached: $bin"
		echo "$bin"
		return 0
	fi

	ensure_deps
	exec 9>"$QCACHE/.lock"
	flock 9
	if [ -x "$bin" ]; then  # built by a concurrent run
		echo "$bin"
		return 0
	fi

	local t0=$SECONDS
	if ! prepare_source; then
		# The lists may name a version the mirror no longer has.
		log "refreshing the apt lists and retrying"
		apt-get update -qq >&2 || true
		local v
		v=$(qemu_version || true)
		[ -n "$v" ] || v=$(cached_version)
		[ -n "$v" ] || die "no QEMU source for $QEMU_SUITE (deb-src line?)"
		VER=$v
		out=$QCACHE/$VER-$HASH
		bin=$out/bin/qemu-system-x86_64
		if [ -x "$bin" ]; then
			echo "$bin"
			return 0
		fi
		prepare_source || die "cannot fetch the QEMU $VER source"
	fi
	copy_device
	configure_tree
	build_tree
	install_binary "$out"
	prune_binaries
	log "built $bin in $((SECONDS - t0)) s"
	echo "$bin"
}

main "$@"
