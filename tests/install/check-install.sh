#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Check "make install" and "make uninstall" at the top of the tree, the
# way a distribution packager runs them:
#
#   make install PREFIX=/usr DESTDIR=<temporary directory>
#
# must put every tool (each directory tools/lpu-*) into PREFIX/bin with
# mode 0755; liblpu (liblpu.so.0.1.0 0755 and its two links, liblpu.a),
# lpu.h, lpu.pc (with the installed paths) with mode 0644 into PREFIX/lib
# and PREFIX/include; the udev rule into /etc/udev/rules.d, 0644; and
# nothing else. With LD_LIBRARY_PATH unset, every installed tool must run
# ("--help"), the ones that link liblpu finding the staged PREFIX/lib/
# liblpu.so.0 through their run path $ORIGIN/../lib. "make uninstall"
# with the same variables must then leave no file behind (directories
# may stay).
#
#   tests/install/check-install.sh
#
# Builds what is missing first (make install does). BUILD (default
# build/) is the build tree used. Prints "ok ..." per check, then
# "PASS install" (exit 0) or the failures and "FAIL install" (exit 1).
# tests/run-all.sh counts it as one result; "make check-install" runs it.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
PREFIX=/usr
MAKE=${MAKE:-make}

unset LD_LIBRARY_PATH
tmp=$(mktemp -d /tmp/lpu-install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
stage=$tmp/stage
fails=0

ok() { echo "ok $*"; }
bad() { echo "FAIL: $*"; fails=$((fails + 1)); }

# mode_is PATH MODE: a regular file with exactly that mode
mode_is() {
	local m
	if [ -L "$1" ] || [ ! -f "$1" ]; then
		bad "${1#"$stage"}: not installed as a regular file"
		return
	fi
	m=$(stat -c %a "$1")
	if [ "$m" = "$2" ]; then
		ok "${1#"$stage"} mode $m"
	else
		bad "${1#"$stage"}: mode $m, expected $2"
	fi
}

# link_is PATH TARGET: a symbolic link to TARGET
link_is() {
	local t
	if [ ! -L "$1" ]; then
		bad "${1#"$stage"}: not a symbolic link"
		return
	fi
	t=$(readlink "$1")
	if [ "$t" = "$2" ]; then
		ok "${1#"$stage"} -> $t"
	else
		bad "${1#"$stage"} -> $t, expected -> $2"
	fi
}

tools=()
for d in "$ROOT"/tools/lpu-*/; do
	[ -f "$d/Makefile" ] && tools+=("$(basename "$d")")
done
[ "${#tools[@]}" -gt 0 ] || bad "no tools/lpu-*/Makefile found"

echo "install: make install PREFIX=$PREFIX DESTDIR=$stage"
if ! "$MAKE" -C "$ROOT" --no-print-directory install PREFIX="$PREFIX" \
		DESTDIR="$stage" BUILD="$BUILD" > "$tmp/install.log" 2>&1; then
	tail -n 30 "$tmp/install.log"
	bad "make install failed"
	echo "FAIL install"
	exit 1
fi

bin=$stage$PREFIX/bin
lib=$stage$PREFIX/lib
expected=()
for t in "${tools[@]}"; do
	mode_is "$bin/$t" 755
	expected+=("$PREFIX/bin/$t")
done
mode_is "$lib/liblpu.so.0.1.0" 755
link_is "$lib/liblpu.so.0" liblpu.so.0.1.0
link_is "$lib/liblpu.so" liblpu.so.0
mode_is "$lib/liblpu.a" 644
mode_is "$lib/pkgconfig/lpu.pc" 644
mode_is "$stage$PREFIX/include/lpu.h" 644
mode_is "$stage/etc/udev/rules.d/70-lpu.rules" 644
expected+=("$PREFIX/lib/liblpu.so.0.1.0" "$PREFIX/lib/liblpu.so.0"
	   "$PREFIX/lib/liblpu.so" "$PREFIX/lib/liblpu.a"
	   "$PREFIX/lib/pkgconfig/lpu.pc" "$PREFIX/include/lpu.h"
	   /etc/udev/rules.d/70-lpu.rules)

# Exactly these files, nothing else.
(cd "$stage" && find . ! -type d | sed 's|^\.||' | sort) > "$tmp/got"
printf '%s\n' "${expected[@]}" | sort > "$tmp/want"
if cmp -s "$tmp/got" "$tmp/want"; then
	ok "nothing else installed (${#expected[@]} files)"
else
	bad "installed files differ from the expected ones (< expected, > installed):"
	diff "$tmp/want" "$tmp/got" | grep '^[<>]'
fi

# The installed lpu.pc describes the installed tree.
if [ -f "$lib/pkgconfig/lpu.pc" ]; then
	pc() {
		PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$lib/pkgconfig" \
			pkg-config "$@" lpu 2>&1
	}
	for kv in "libdir $PREFIX/lib" "includedir $PREFIX/include"; do
		v=$(pc --variable="${kv%% *}")
		if [ "$v" = "${kv#* }" ]; then
			ok "lpu.pc ${kv%% *}=$v"
		else
			bad "lpu.pc ${kv%% *} is '$v', expected '${kv#* }'"
		fi
	done
	v=$(pc --modversion)
	[ -n "$v" ] && ok "lpu.pc version $v" || bad "pkg-config --modversion lpu failed"
fi

# Every tool runs from the staged tree without LD_LIBRARY_PATH; those
# that link liblpu load the staged copy (run path $ORIGIN/../lib).
for t in "${tools[@]}"; do
	[ -x "$bin/$t" ] || continue
	if "$bin/$t" --help > "$tmp/help.out" 2>&1; then
		ok "$PREFIX/bin/$t --help"
	else
		bad "$PREFIX/bin/$t --help exited $? (LD_LIBRARY_PATH unset):"
		head -n 5 "$tmp/help.out"
	fi
	if readelf -d "$bin/$t" 2>/dev/null | grep -q 'NEEDED.*\[liblpu\.so\.0\]'; then
		got=$(ldd "$bin/$t" 2>&1 | awk '$1 == "liblpu.so.0" { print $3 }')
		[ -z "$got" ] || got=$(realpath -s "$got")
		if [ "$got" = "$lib/liblpu.so.0" ]; then
			ok "$PREFIX/bin/$t loads $PREFIX/lib/liblpu.so.0"
		else
			bad "$PREFIX/bin/$t loads liblpu.so.0 from '${got:-nowhere}', expected $lib/liblpu.so.0"
		fi
	fi
done

echo "install: make uninstall PREFIX=$PREFIX DESTDIR=$stage"
if ! "$MAKE" -C "$ROOT" --no-print-directory uninstall PREFIX="$PREFIX" \
		DESTDIR="$stage" BUILD="$BUILD" > "$tmp/uninstall.log" 2>&1; then
	tail -n 30 "$tmp/uninstall.log"
	bad "make uninstall failed"
fi
left=$(cd "$stage" && find . ! -type d | sed 's|^\.||')
if [ -z "$left" ]; then
	ok "nothing left after make uninstall"
else
	bad "left after make uninstall:"
	echo "$left"
fi

if [ "$fails" = 0 ]; then
	echo "PASS install"
	exit 0
fi
echo "FAIL install ($fails failed checks)"
exit 1
