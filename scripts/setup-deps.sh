#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Install everything the lpu build and tests need on a Debian 12 (bookworm)
# machine, from Debian's mirror only. Idempotent: safe to run again.
#
# Adds bookworm-backports (binary + source) and trixie (source only) in a
# sources file of its own, installs build and test dependencies, and fetches
# the guest kernel (linux-image-amd64 from bookworm-backports) into the
# cache directory. Versions are resolved at run time from the meta packages.
#
# Environment:
#   LPU_CACHE   cache directory (default /var/cache/lpu)
set -euo pipefail

LPU_CACHE=${LPU_CACHE:-/var/cache/lpu}
export DEBIAN_FRONTEND=noninteractive

log() { printf 'setup: %s\n' "$*" >&2; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: must run as root (installs packages)" >&2
		exit 1
	fi
}

write_sources() {
	local f=/etc/apt/sources.list.d/lpu-extra.sources
	[ -f "$f" ] && return 0
	log "adding bookworm-backports and trixie deb-src to $f"
	cat > "$f" <<'SRC'
# Written by lpu scripts/setup-deps.sh
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
	rm -f "$LPU_CACHE/.apt-updated"
}

apt_update() {
	mkdir -p "$LPU_CACHE"
	if [ ! -f "$LPU_CACHE/.apt-updated" ]; then
		log "apt-get update"
		apt-get update -qq -o Acquire::Retries=3 \
			-o APT::Update::Error-Mode=any || apt-get update -qq
		touch "$LPU_CACHE/.apt-updated"
	fi
}

BASE_PKGS="build-essential pkgconf libdrm-dev libelf-dev check
busybox-static cpio gzip xz-utils zstd kmod
seabios qemu-system-data ninja-build libglib2.0-dev libpixman-1-dev
python3-venv python3-pip flex bison zlib1g-dev dpkg-dev perl file
clang libclang-rt-14-dev valgrind"

install_pkgs() {
	local missing=()
	local p
	for p in $BASE_PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q 'install ok installed' || missing+=("$p")
	done
	# libudev-dev must match the installed libudev1 (see platform notes).
	if ! dpkg-query -W -f='${Status}' libudev-dev 2>/dev/null |
			grep -q 'install ok installed'; then
		local v
		v=$(dpkg-query -W -f='${Version}' libudev1)
		missing+=("libudev-dev=$v")
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		log "installing: ${missing[*]}"
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
	fi
	# From backports, one package at a time, never a whole -t install.
	local bp
	for bp in meson python3-pycotap linux-headers-amd64; do
		local cand inst
		cand=$(apt-cache policy "$bp" | awk '/bookworm-backports/ {print prev} {prev = ($1 == "***") ? $2 : $1}' | head -1)
		inst=$(dpkg-query -W -f='${Version}' "$bp" 2>/dev/null || true)
		if [ -z "$inst" ] || ! dpkg --compare-versions "$inst" ge "${cand:-0}"; then
			log "installing $bp from bookworm-backports"
			apt-get install -y -qq --no-install-recommends "$bp/bookworm-backports"
		fi
	done
}

# The guest kernel release is the one linux-headers-amd64 from backports
# points at; print it (for example 6.12.95+deb12-amd64).
guest_krel() {
	local hdr
	hdr=$(dpkg-query -W -f='${Depends}' linux-headers-amd64 |
		sed -n 's/.*linux-headers-\([^ ,]*-amd64\).*/\1/p')
	echo "$hdr"
}

fetch_kernel() {
	local krel dir
	krel=$(guest_krel)
	[ -n "$krel" ] || { log "cannot resolve guest kernel release"; exit 1; }
	dir="$LPU_CACHE/kernel/$krel"
	if [ -f "$dir/vmlinuz" ] && [ -d "$dir/modules" ]; then
		return 0
	fi
	log "fetching linux-image-$krel"
	rm -rf "$dir.tmp"
	mkdir -p "$dir.tmp/deb"
	(cd "$dir.tmp/deb" && apt-get download -qq "linux-image-$krel")
	dpkg -x "$dir.tmp/deb"/linux-image-*.deb "$dir.tmp/root"
	cp "$dir.tmp/root/boot/vmlinuz-$krel" "$dir.tmp/vmlinuz"
	mv "$dir.tmp/root/lib/modules/$krel" "$dir.tmp/modules" 2>/dev/null ||
		mv "$dir.tmp/root/usr/lib/modules/$krel" "$dir.tmp/modules"
	rm -rf "$dir.tmp/root" "$dir.tmp/deb"
	# The package has no modules.dep (its postinst makes it); the guest
	# initramfs resolves lpu.ko's dependencies from it.
	log "depmod $krel"
	mkdir -p "$dir.tmp/base/lib/modules"
	ln -s "$dir.tmp/modules" "$dir.tmp/base/lib/modules/$krel"
	depmod -b "$dir.tmp/base" "$krel"
	rm -rf "$dir.tmp/base"
	rm -rf "$dir"
	mv "$dir.tmp" "$dir"
}

# checkpatch.pl and its data files, from linux-source-6.12 (backports).
fetch_checkpatch() {
	local dir="$LPU_CACHE/checkpatch"
	[ -f "$dir/checkpatch.pl" ] && return 0
	log "fetching checkpatch.pl from linux-source"
	local tmp
	tmp=$(mktemp -d)
	local src
	src=$(apt-cache depends linux-source/bookworm-backports 2>/dev/null |
		sed -n 's/.*Depends: \(linux-source-[0-9.]*\).*/\1/p' | head -1)
	[ -n "$src" ] || src=linux-source-6.12
	(cd "$tmp" && apt-get download -qq "$src/bookworm-backports")
	dpkg -x "$tmp"/linux-source-*.deb "$tmp/x"
	mkdir -p "$dir.tmp"
	tar -xf "$tmp"/x/usr/src/linux-source-*.tar.xz -C "$dir.tmp" \
		--wildcards --strip-components=2 \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' \
		'*/scripts/const_structs.checkpatch'
	rm -rf "$dir" "$tmp"
	mv "$dir.tmp" "$dir"
}

main() {
	need_root
	write_sources
	apt_update
	install_pkgs
	fetch_kernel
	fetch_checkpatch
	log "guest kernel $(guest_krel) in $LPU_CACHE/kernel"
}

main "$@"
