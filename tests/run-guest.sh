#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Boot the guest kernel on the emulated LPU card under QEMU (TCG), run the
# guest tests (tests/guest/init.sh does that in the guest) and report.
#
# Usage: tests/run-guest.sh [options]
#
#   --tests LIST         run only these tests (comma- or space-separated,
#                        ".sh" may be left off), default all t_* programs
#   --shell              interactive shell in the guest (modules loaded;
#                        quit QEMU with Ctrl-A x)
#   --demo               run the demo (/bin/lpu-demo) instead of the tests
#   --timeout SEC        wall-clock limit for the whole boot (default 1200)
#   --test-timeout SEC   per-test limit inside the guest (default 60)
#   --no-bench, --bench  do not / do run lpu-bench after the tests (default:
#                        run it, unless --tests is given)
#   --bios B             auto (default: qboot, SeaBIOS if qboot leaves a BAR
#                        of the card unassigned), qboot or seabios
#   --device SPEC        the card's -device argument (default lpu-pci),
#                        "none" for no card
#   --append ARGS        more kernel command line (lpu.modargs=..., ...)
#   --extra-qemu-args A  more QEMU arguments (split on blanks)
#   --host-service CMD   a channel from the guest to a program on the host:
#                        a second serial port (the guest's /dev/ttyS1; the
#                        kernel command line gets lpu.host=/dev/ttyS1, which
#                        /init exports as LPU_HOST_SERVICE) on the FIFOs
#                        $BUILD/guest/host.in (to the guest) and host.out
#                        (from it). For every line the guest writes there
#                        the program CMD runs on the host with the line's
#                        words as arguments, and its last line of standard
#                        output goes back as one line, or "error MESSAGE"
#                        (its last line of standard error) if it fails.
#                        One request at a time; CMD's stdin is /dev/null.
#                        Log: $BUILD/guest/host-service.log. make demo
#                        uses scripts/engine-service.sh (lpu-bench
#                        --host-engine).
#   -q, --quiet          do not copy the console to stdout
#
# Environment: QEMU (the QEMU binary; default: what scripts/build-qemu.sh
# prints), BUILD (default build/), LPU_CACHE, LPU_KERNEL_DIR (the cached guest
# kernel, default the newest), and the defaults of the options:
# LPU_GUEST_TIMEOUT, LPU_TEST_TIMEOUT, LPU_BIOS, LPU_QEMU_DEVICE, LPU_APPEND,
# LPU_QEMU_ARGS, LPU_HOST_SERVICE_CMD; what scripts/build-initramfs.sh reads
# (LPU_MODULE, LPU_TEST_BIN, LPU_TOOLS_DIR, LPU_GUEST_EXTRA) passes through
# (the host service inherits the environment too).
#
# Output: the console (streamed, and in $BUILD/guest/console.log), then one
# line per test "PASS|FAIL|SKIP <name> <seconds>", the count of QEMU
# LOG_GUEST_ERROR messages ($BUILD/qemu-guest-errors.log) and, last,
#   guest: N passed, N failed, N skipped
# Also failed: a test with no result line, a guest that did not print
# LPU-GUEST-DONE (pseudo-test guest_done), kernel BUG/Oops/WARNING/panic/...
# messages (pseudo-test kernel_log). Exit status 0 only if nothing failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD=${BUILD:-$ROOT/build}
export LPU_CACHE=${LPU_CACHE:-/var/cache/lpu}

mode="test"
tests=
wall=${LPU_GUEST_TIMEOUT:-1200}
test_timeout=${LPU_TEST_TIMEOUT:-60}
bench=
bios=${LPU_BIOS:-auto}
device=${LPU_QEMU_DEVICE:-lpu-pci}
append=${LPU_APPEND:-}
extra_qemu=${LPU_QEMU_ARGS:-}
host_service=${LPU_HOST_SERVICE_CMD:-}
quiet=0

die() { printf 'run-guest: %s\n' "$*" >&2; exit 2; }
note() { printf 'run-guest: %s\n' "$*" >&2; }

usage() {
	sed -n '/^# Usage:/,/^# Environment:/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" |
		sed '$d'
	exit "${1:-0}"
}

while [ $# -gt 0 ]; do
	case $1 in
	--tests) tests=$2; shift 2 ;;
	--tests=*) tests=${1#*=}; shift ;;
	--shell) mode=shell; shift ;;
	--demo) mode=demo; shift ;;
	--timeout) wall=$2; shift 2 ;;
	--test-timeout) test_timeout=$2; shift 2 ;;
	--no-bench) bench=0; shift ;;
	--bench) bench=1; shift ;;
	--bios) bios=$2; shift 2 ;;
	--device) device=$2; shift 2 ;;
	--append) append="$append $2"; shift 2 ;;
	--extra-qemu-args) extra_qemu="$extra_qemu $2"; shift 2 ;;
	--host-service) host_service=$2; shift 2 ;;
	--host-service=*) host_service=${1#*=}; shift ;;
	-q|--quiet) quiet=1; shift ;;
	-h|--help) usage 0 ;;
	*) note "unknown argument $1"; usage 2 ;;
	esac
done
case $bios in auto|qboot|seabios) ;; *) die "bad --bios $bios" ;; esac
if [ -z "$bench" ]; then
	bench=1
	[ -z "$tests" ] || bench=0
fi
for n in "$wall" "$test_timeout"; do
	case $n in ''|*[!0-9]*) die "timeouts are whole seconds, not '$n'" ;; esac
done
if [ -n "$host_service" ]; then
	case $host_service in
	*/*) [ -x "$host_service" ] ||
		die "--host-service: '$host_service' is not an executable" ;;
	*) command -v "$host_service" > /dev/null ||
		die "--host-service: no program '$host_service'" ;;
	esac
fi

# --- inputs -----------------------------------------------------------------

if [ -z "${QEMU:-}" ]; then
	[ -x "$ROOT/scripts/build-qemu.sh" ] ||
		die "scripts/build-qemu.sh missing; set QEMU=/path/to/qemu-system-x86_64"
	QEMU=$("$ROOT/scripts/build-qemu.sh" | tail -n 1) ||
		die "scripts/build-qemu.sh failed"
fi
[ -x "$QEMU" ] || die "QEMU '$QEMU' is not an executable"

kernel_dir=${LPU_KERNEL_DIR:-}
if [ -z "$kernel_dir" ]; then
	kernel_dir=$(find "$LPU_CACHE/kernel" -mindepth 1 -maxdepth 1 -type d \
		! -name '*.tmp' 2>/dev/null | sort -V | tail -n 1)
fi
if [ -z "$kernel_dir" ] || [ ! -f "$kernel_dir/vmlinuz" ]; then
	die "no guest kernel in $LPU_CACHE/kernel: run scripts/setup-deps.sh"
fi
export LPU_KERNEL_DIR=$kernel_dir

gdir=$BUILD/guest
mkdir -p "$gdir"
initrd=$gdir/initramfs.cpio
log=$gdir/console.log
results=$gdir/results.txt
errlog=$BUILD/qemu-guest-errors.log
rm -f "$results"

"$ROOT/scripts/build-initramfs.sh" "$initrd" || die "initramfs build failed"

# The tests the guest should report on.
expected=()
if [ -n "$tests" ]; then
	IFS=', ' read -r -a list <<< "$tests"
	for t in "${list[@]}"; do
		if ! grep -qx -- "$t" "$initrd.tests" &&
				grep -qx -- "$t.sh" "$initrd.tests"; then
			t=$t.sh
		fi
		expected+=("$t")
	done
	[ ${#expected[@]} -gt 0 ] || die "--tests: empty list"
else
	mapfile -t expected < "$initrd.tests"
fi
test_names=$(IFS=,; echo "${expected[*]}")
if [ "$bench" = 1 ] && [ -x "${LPU_TOOLS_DIR:-$BUILD/tools}/lpu-bench" ]; then
	expected+=(lpu-bench)
fi
expected=(load_module "${expected[@]}")

# --- QEMU command line --------------------------------------------------------

cmdline="console=ttyS0 quiet panic=-1 printk.time=1 lpu.mode=$mode"
if [ -n "$tests" ]; then
	cmdline+=" lpu.tests=$test_names"
fi
cmdline+=" lpu.timeout=$test_timeout"
[ "$bench" = 1 ] || cmdline+=" lpu.bench=0"
[ -z "$host_service" ] || cmdline+=" lpu.host=/dev/ttyS1"
[ -z "$append" ] || cmdline+=" ${append# }"
# x86 COMMAND_LINE_SIZE is 2048, and the kernel cuts the rest off silently.
[ ${#cmdline} -lt 2000 ] ||
	die "kernel command line too long (${#cmdline} bytes): fewer --tests"

qemu_args() { # bios
	local -a a
	a=(-M q35 -accel tcg -cpu max -m 2G -smp 2 -nographic -no-reboot
		-nic none -vga none)
	if [ "$1" = qboot ]; then
		a+=(-L /usr/share/qemu -bios /usr/share/qemu/qboot.rom)
	else
		a+=(-L /usr/share/seabios -L /usr/share/qemu)
	fi
	[ "$device" = none ] || a+=(-device "$device")
	a+=(-kernel "$kernel_dir/vmlinuz" -initrd "$initrd")
	a+=(-d guest_errors -D "$errlog")
	if [ -n "$host_service" ]; then
		# QEMU opens $hs.in (read: to the guest) and $hs.out (written:
		# from the guest), both O_RDWR. An isa-serial -device drops
		# -nographic's default serial port, so the console (port 0,
		# ttyS0, with the monitor on Ctrl-A c) is named here.
		# shellcheck disable=SC2054 # the commas are QEMU's
		a+=(-serial mon:stdio -chardev "pipe,id=lpuhost,path=$hs"
			-device isa-serial,chardev=lpuhost,index=1)
	fi
	# shellcheck disable=SC2206 # split on blanks, as documented
	a+=($extra_qemu)
	local c=$cmdline
	[ "$1:$bios" != qboot:auto ] || c+=" lpu.pcicheck=stop"
	a+=(-append "$c")
	printf '%s\0' "${a[@]}"
}

# --- the host service (--host-service) -----------------------------------------

hs=$gdir/host
hs_log=$gdir/host-service.log
hs_pid=

# One request: run CMD with the words of the line, print the reply line.
service_request() { # line
	local -a words
	local rc=0 reply
	read -r -a words <<< "$1"
	[ ${#words[@]} -gt 0 ] || return 0
	printf 'request: %s\n' "$1" >> "$hs_log"
	# a session of its own, so that a stop takes its children along
	setsid -w "$host_service" "${words[@]}" < /dev/null \
		> "$hs.stdout" 2> "$hs.stderr" &
	hs_cpid=$!
	wait "$hs_cpid" || rc=$?
	hs_cpid=
	sed 's/^/  stderr: /' "$hs.stderr" >> "$hs_log"
	if [ "$rc" = 0 ]; then
		reply=$(tr -d '\r' < "$hs.stdout" | sed '/^$/d' | tail -n 1)
		[ -n "$reply" ] || reply="error $host_service printed nothing"
	else
		reply=$(tr -d '\r' < "$hs.stderr" | sed '/^$/d' | tail -n 1)
		reply="error ${reply:-$host_service: exit status $rc}"
	fi
	printf 'reply: %s\n' "$reply" >> "$hs_log"
	printf '%s\n' "$reply"
}

# The loop, in the background until service_stop: requests from $hs.out,
# replies into $hs.in. Both FIFOs open read-write, so that neither open
# blocks (QEMU may not be there yet) and there is never an end of file.
service_loop() {
	local line
	hs_cpid=
	trap '[ -z "$hs_cpid" ] || kill -TERM -- "-$hs_cpid" "$hs_cpid" 2>/dev/null; exit 0' TERM
	exec 3<> "$hs.out" 4<> "$hs.in" < /dev/null
	while IFS= read -r -u 3 line; do
		line=${line//$'\r'/}
		service_request "$line" >&4
	done
}

service_start() {
	[ -n "$host_service" ] || return 0
	rm -f "$hs.in" "$hs.out"
	mkfifo "$hs.in" "$hs.out" || die "cannot make the FIFOs $hs.in, $hs.out"
	: > "$hs_log"
	service_loop &
	hs_pid=$!
	note "host service: $host_service on $hs.in/.out (guest /dev/ttyS1)"
}

service_stop() {
	if [ -n "$hs_pid" ]; then
		kill -TERM "$hs_pid" 2>/dev/null || true
		wait "$hs_pid" 2>/dev/null || true
		hs_pid=
	fi
	[ -z "$host_service" ] ||
		rm -f "$hs.in" "$hs.out" "$hs.stdout" "$hs.stderr"
}
trap service_stop EXIT

if [ "$mode" = shell ]; then
	fw=$bios
	[ "$fw" != auto ] || fw=qboot
	mapfile -d '' -t args < <(qemu_args "$fw")
	note "QEMU $QEMU, firmware $fw; quit with Ctrl-A x"
	[ -n "$host_service" ] || exec "$QEMU" "${args[@]}"
	service_start
	rc=0
	"$QEMU" "${args[@]}" || rc=$?
	exit "$rc"
fi

interrupted=0
qpid=
on_signal() {
	interrupted=1
	[ -z "$qpid" ] || kill -TERM "$qpid" 2>/dev/null || true
}
trap on_signal INT TERM HUP

# boot FIRMWARE: run QEMU once, console into $log; sets qrc and boot_secs.
boot() {
	local -a args
	local tpid="" t0
	mapfile -d '' -t args < <(qemu_args "$1")
	note "booting: $QEMU ${args[*]}"
	: > "$log"
	: > "$errlog"
	t0=$(date +%s.%N)
	timeout -k 10 "$wall" "$QEMU" "${args[@]}" < /dev/null > "$log" 2>&1 &
	qpid=$!
	if [ "$quiet" = 0 ]; then
		# (without the firmware's terminal reset and clear-screen)
		tail -n +1 -f --pid="$qpid" "$log" |
			sed -u -e 's/\x1bc//g' -e 's/\x1b\[?7l//g' -e 's/\x1b\[2J//g' &
		tpid=$!
	fi
	qrc=0
	while kill -0 "$qpid" 2>/dev/null; do
		wait "$qpid" && qrc=0 || qrc=$?
	done
	qpid=
	[ -z "$tpid" ] || wait "$tpid" || true
	boot_secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" \
		'BEGIN { printf "%.1f", b - a }')
}

fw=$bios
[ "$fw" != auto ] || fw=qboot
service_start
boot "$fw"
if [ "$bios" = auto ] && [ $interrupted = 0 ] &&
		grep -q '^LPU-PCI-UNASSIGNED' <(tr -d '\r' < "$log"); then
	note "qboot left a BAR of the card unassigned; booting again with SeaBIOS"
	cp "$log" "$gdir/console-qboot.log"
	fw=seabios
	boot "$fw"
fi
service_stop

# --- report -----------------------------------------------------------------

clean=$gdir/console.clean
tr -d '\r' < "$log" | sed -e 's/\x1bc//g' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' > "$clean"

# Kernel messages that fail a run: printk lines (timestamped) only, so that a
# test printing "WARNING:" does not count.
kpat='\[ *[0-9]+\.[0-9]+\].*(BUG:|Oops|WARNING:|Kernel panic|general protection fault|Call Trace:|KASAN|UBSAN|blocked for more than)'
mapfile -t klines < <(grep -aE "$kpat" "$clean" || true)
# shown with them: where the kernel was (RIP of an oops or warning)
mapfile -t kshow < <(grep -aE "$kpat|\[ *[0-9]+\.[0-9]+\] RIP: 0010:" "$clean" || true)

# Results in the order the guest printed them, then the expected tests that
# have none.
declare -A status secs
order=()
while read -r _ name st s _; do
	[ -n "${status[$name]:-}" ] || order+=("$name")
	status[$name]=$st
	secs[$name]=${s:-?}
done < <(grep -aE '^RESULT [^ ]+ (PASS|FAIL|SKIP)( |$)' "$clean" || true)
for name in "${expected[@]}"; do
	[ -n "${status[$name]:-}" ] || order+=("$name")
done

w=24
for name in "${order[@]}"; do
	[ "${#name}" -le "$w" ] || w=${#name}
done
passed=0 failed=0 skipped=0
out() { # status name secs [note]
	printf "%-4s %-${w}s %7s%s\n" "$1" "$2" "$3" "${4:+  $4}" | tee -a "$results"
	case $1 in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) failed=$((failed + 1)) ;;
	esac
}

done_seen=0
grep -qx 'LPU-GUEST-DONE' "$clean" && done_seen=1

echo
echo "==== guest results ($mode mode, $fw, ${boot_secs}s wall; console log $log)"
: > "$results"
if [ "$mode" = test ]; then
	for name in "${order[@]}"; do
		if [ -n "${status[$name]:-}" ]; then
			out "${status[$name]}" "$name" "${secs[$name]}"
		elif [ "${status[load_module]:-}" = FAIL ]; then
			out FAIL "$name" - "not run (load_module failed)"
		else
			out FAIL "$name" - "no result"
		fi
	done
else
	rc=$(sed -n 's/^DEMO-END \([0-9]*\)$/\1/p' "$clean" | tail -n 1)
	if [ "$rc" = 0 ]; then
		out PASS demo -
	elif [ -n "$rc" ]; then
		out FAIL demo - "exit status $rc"
	else
		out FAIL demo - "no DEMO-END"
	fi
fi
if [ $done_seen = 0 ]; then
	if [ $interrupted = 1 ]; then
		why="interrupted"
	elif [ "$qrc" = 124 ] || [ "$qrc" = 137 ]; then
		why="wall-clock timeout after $wall s"
	else
		why="QEMU exit status $qrc (crash, panic or hang)"
	fi
	out FAIL guest_done - "guest did not print LPU-GUEST-DONE: $why"
	tail -n 5 "$clean" | sed 's/^/     | /'
fi
if [ ${#klines[@]} -gt 0 ]; then
	out FAIL kernel_log - "${#klines[@]} kernel error lines:"
	printf '%s\n' "${kshow[@]}" | head -n 40 | sed 's/^/     | /' |
		tee -a "$results"
fi

nerr=0
[ ! -s "$errlog" ] || nerr=$(grep -c . "$errlog" || true)
echo "qemu guest errors (LOG_GUEST_ERROR): $nerr${nerr:+ ($errlog)}" |
	sed 's/: 0 (.*)$/: 0/'
# (not a failure: some tests provoke them on purpose)
[ "$nerr" = 0 ] || head -n 3 "$errlog" | sed 's/^/     | /'
echo "guest: $passed passed, $failed failed, $skipped skipped" | tee -a "$results"

[ $interrupted = 0 ] || exit 130
[ $failed = 0 ]
