#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Unload and reload the lpu module with no file open: rmmod succeeds, the
# accel node goes away, insmod brings it back, and a round trip works.
#
# Environment: LPU_DEVICE (default /dev/accel/accel0), LPU_MODULE (default
# /lib/modules/lpu.ko). Exit 0 pass, 1 fail, 77 skip.

name=t_module_reload
node=${LPU_DEVICE:-/dev/accel/accel0}
module=${LPU_MODULE:-/lib/modules/lpu.ko}
bindir=$(dirname "$0")

fail() { echo "$name: FAIL: $*" >&2; exit 1; }
skip() { echo "$name: SKIP: $*" >&2; exit 77; }

# wait_path exists|gone PATH: poll for up to 5 s.
wait_path() {
	i=0
	while [ $i -lt 50 ]; do
		if [ "$1" = exists ]; then
			[ -e "$2" ] && return 0
		else
			[ -e "$2" ] || return 0
		fi
		sleep 0.1 2>/dev/null || sleep 1
		i=$((i + 1))
	done
	return 1
}

[ -f "$module" ] || skip "no module at $module"
grep -q '^lpu ' /proc/modules || skip "the lpu module is not loaded"
[ -e "$node" ] || fail "$node missing before the test"

rmmod lpu || fail "rmmod lpu failed with no file open"
grep -q '^lpu ' /proc/modules && fail "lpu still in /proc/modules after rmmod"
wait_path gone "$node" || fail "$node still there 5 s after rmmod"

insmod "$module" || fail "insmod $module failed"
wait_path exists "$node" || fail "$node did not come back 5 s after insmod"

# Twice, to catch state left over from the old instance.
rmmod lpu || fail "second rmmod lpu failed"
insmod "$module" || fail "second insmod $module failed"
wait_path exists "$node" || fail "$node did not come back after the second insmod"

"$bindir/t_dma_4k" || fail "t_dma_4k failed after the reload"
"$bindir/t_query_ok" >/dev/null || fail "t_query_ok failed after the reload"
echo "$name: ok"
exit 0
