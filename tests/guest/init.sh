#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Guest /init of the lpu test initramfs (busybox sh, runs as PID 1).
#
# Mounts /proc, /sys, /dev (devtmpfs), /sys/kernel/debug; loads the DRM
# modules in /lib/modules/load-order, then /lib/modules/lpu.ko; waits for
# /dev/accel/accel0; runs the tests in /opt/lpu/tests (every executable t_*,
# sorted), each with a timeout; runs /usr/bin/lpu-bench if present; prints
# LPU-GUEST-DONE and powers off.
#
# Console protocol (parsed by tests/run-guest.sh):
#   ==== <name>                      a test starts
#     | <output>                     its stdout and stderr
#   RESULT <name> PASS|FAIL|SKIP <seconds>
#   BENCH-BEGIN / BENCH-END          around lpu-bench's (unprefixed) output
#   DEMO-BEGIN / DEMO-END            around the demo's output
#   LPU-PCI <bdf> bar<N>=<addr>...   the card's BARs as the guest sees them
#   LPU-PCI-UNASSIGNED <bdf> bar<N>  a BAR the firmware left unassigned
#   LPU-GUEST-DONE                   all done (then poweroff)
# Pseudo-tests: load_module (insmod of the DRM modules and lpu.ko; if it
# fails nothing else runs), accel_node (/dev/accel/accel0 appeared),
# lpu-bench (the benchmark's exit status).
#
# Kernel command line keys (all optional):
#   lpu.mode=test|shell|demo   default test
#   lpu.tests=t_a,t_b          run only these (".sh" may be left off)
#   lpu.timeout=SEC            per-test timeout, default 60
#   lpu.bench=0|1              run lpu-bench after the tests, default 1
#   lpu.bench_timeout=SEC      default 600
#   lpu.load=0                 do not insmod lpu.ko (the DRM modules still)
#   lpu.modargs=a=1;b=2        module parameters for lpu.ko (";"-separated)
#   lpu.devwait=SEC            wait for /dev/accel/accel0, default 10
#   lpu.loglevel=N             console loglevel while running, default 7
#   lpu.pcicheck=report|stop|0 stop: power off at once if a BAR of the
#                              card is unassigned; default report
#   lpu.pciid=VVVV:DDDD        the card's PCI ids, default 1234:4c50
#   lpu.host=DEV               a serial port to a service on the host
#                              (tests/run-guest.sh --host-service gives
#                              /dev/ttyS1): exported to the tests, the
#                              benchmark and the demo as LPU_HOST_SERVICE
#
# Tests run with the tests directory as working directory, stdin from
# /dev/null, in a session (and process group) of their own, with
# LPU_TEST_TIMEOUT, LPU_TESTS_DIR and LPU_GUEST=1 in the environment. A test
# that outlives its timeout gets SIGTERM, 5 s later SIGKILL; if it does not
# die (stuck in the kernel) the runner gives up on it after 10 s more.

export PATH=/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin:/opt/lpu/tests
export LD_LIBRARY_PATH=/usr/local/lib
export HOME=/root
export TERM=vt100

TDIR=/opt/lpu/tests
RUN=/run/lpu
PRELOAD=/usr/local/lib/libstdbuf.so

MODE="test"
TESTS=
TIMEOUT=60
BENCH=1
BENCH_TIMEOUT=600
LOAD=1
MODARGS=
DEVWAIT=10
LOGLEVEL=7
PCICHECK=report
PCIID=1234:4c50
HOST=

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug
mkdir -p "$RUN"

# shellcheck disable=SC2013 # the command line is blank-separated words
for arg in $(cat /proc/cmdline); do
	case $arg in
	lpu.mode=*) MODE=${arg#*=} ;;
	lpu.tests=*) TESTS=${arg#*=} ;;
	lpu.timeout=*) TIMEOUT=${arg#*=} ;;
	lpu.bench=*) BENCH=${arg#*=} ;;
	lpu.bench_timeout=*) BENCH_TIMEOUT=${arg#*=} ;;
	lpu.load=*) LOAD=${arg#*=} ;;
	lpu.modargs=*) MODARGS=${arg#*=} ;;
	lpu.devwait=*) DEVWAIT=${arg#*=} ;;
	lpu.loglevel=*) LOGLEVEL=${arg#*=} ;;
	lpu.pcicheck=*) PCICHECK=${arg#*=} ;;
	lpu.pciid=*) PCIID=${arg#*=} ;;
	lpu.host=*) HOST=${arg#*=} ;;
	esac
done
[ -z "$HOST" ] || export LPU_HOST_SERVICE="$HOST"

echo "$LOGLEVEL" > /proc/sys/kernel/printk

# Used by the per-test watchdog to interrupt "wait" (PID 1 only gets the
# signals it has a handler for).
trap ':' USR1

now() {
	read -r up _ < /proc/uptime
	echo "$up"
}

since() {
	awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'
}

result() { # name PASS|FAIL|SKIP start
	echo "RESULT $1 $2 $(since "$3")"
}

finish() {
	echo "LPU-GUEST-DONE"
	poweroff -f
	# Not reached unless poweroff failed; with -no-reboot this ends QEMU.
	sleep 2
	reboot -f
}

# Kernel warnings from the boot (the console was quiet then).
boot_dmesg() {
	dmesg | grep -E 'BUG:|Oops|WARNING:|Kernel panic|general protection fault|Call Trace:|KASAN|UBSAN' |
		sed 's/^/boot-dmesg: /'
}

# Print the card's BARs; returns 1 if one is unassigned. (Under qboot the
# firmware assigns none: Linux does, within the host bridge windows.)
pci_check() {
	found=
	ok=0
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "0x${PCIID%:*}" ] || continue
		[ "$(cat "$d/device")" = "0x${PCIID#*:}" ] || continue
		found=1
		desc=
		bad=
		i=0
		while read -r start _ flags && [ $i -le 5 ]; do
			if [ "$flags" != 0x0000000000000000 ]; then
				desc="$desc bar$i=$start"
				[ "$start" = 0x0000000000000000 ] && bad="$bad bar$i"
			fi
			i=$((i + 1))
		done < "$d/resource"
		# A BAR the kernel could not place either has its flags cleared
		# (so it is not listed above) or is left at 0.
		for n in $(dmesg | sed -n "s/.* ${d##*/}: BAR \([0-9]\) .*failed to assign.*/\1/p"); do
			case " $bad " in *" bar$n "*) ;; *) bad="$bad bar$n" ;; esac
		done
		echo "LPU-PCI ${d##*/}$desc"
		if [ -n "$bad" ]; then
			echo "LPU-PCI-UNASSIGNED ${d##*/}$bad"
			ok=1
		fi
	done
	[ -n "$found" ] || echo "LPU-PCI: no device $PCIID"
	return $ok
}

# insmod the DRM modules, then lpu.ko; returns non-zero on the first error.
load_modules() {
	while read -r m; do
		out=$(insmod "$m" 2>&1) || {
			echo "  | insmod $m failed: $out"
			return 1
		}
	done < /lib/modules/load-order
	[ "$LOAD" = 0 ] && return 0
	if [ ! -f /lib/modules/lpu.ko ]; then
		echo "  | /lib/modules/lpu.ko missing"
		return 1
	fi
	# shellcheck disable=SC2086 # one word per module parameter
	out=$(IFS=';' && insmod /lib/modules/lpu.ko $MODARGS 2>&1) || {
		echo "  | insmod lpu.ko $MODARGS failed: $out"
		return 1
	}
	[ -z "$out" ] || echo "$out" | sed 's/^/  | /'
}

wait_accel() {
	n=$((DEVWAIT * 10))
	while [ ! -e /dev/accel/accel0 ] && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	[ -e /dev/accel/accel0 ]
}

# sleep, in a (sub)shell that SIGTERM ends together with its sleep (a plain
# "sleep" would outlive a killed subshell)
nap() {
	trap 'kill "$np" 2>/dev/null; exit 0' TERM
	sleep "$1" &
	np=$!
	wait "$np"
}

# run_prog NAME PATH TIMEOUT PREFIX: run one program as described above,
# its output piped through sed with PREFIX. Sets RC to its exit status,
# 124 if it timed out, 125 if it would not die.
run_prog() {
	rm -f "$RUN/out" "$RUN/timedout" "$RUN/stuck"
	mkfifo "$RUN/out"
	# awk, not sed: busybox sed holds a line back until it sees the next.
	awk -v p="$4" '{ print p $0; fflush() }' < "$RUN/out" &
	spid=$!
	if [ -f "$PRELOAD" ]; then
		(cd "$(dirname "$2")" && LD_PRELOAD=$PRELOAD _STDBUF_O=L \
			exec setsid "$2" < /dev/null > "$RUN/out" 2>&1) &
	else
		(cd "$(dirname "$2")" &&
			exec setsid "$2" < /dev/null > "$RUN/out" 2>&1) &
	fi
	tpid=$!
	(
		nap "$3"
		: > "$RUN/timedout"
		kill -TERM -"$tpid" "$tpid" 2>/dev/null
		nap 5
		kill -KILL -"$tpid" "$tpid" 2>/dev/null
		nap 10
		: > "$RUN/stuck"
		kill -USR1 1
	) &
	kpid=$!
	# (stderr: no "Terminated" from the shell when the watchdog kills it)
	wait "$tpid" 2>/dev/null
	RC=$?
	kill "$kpid" 2>/dev/null
	wait "$kpid" 2>/dev/null
	# Leftovers in the test's process group.
	kill -KILL -"$tpid" 2>/dev/null
	# Wait for the output to drain, but not forever (a child that left the
	# process group may still hold the pipe).
	(nap 3; kill "$spid" 2>/dev/null) &
	w=$!
	wait "$spid" 2>/dev/null
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
	if [ -e "$RUN/stuck" ]; then
		echo "${4}lpu-init: $1 did not die after SIGKILL (stuck in the kernel?)"
		RC=125
	elif [ -e "$RUN/timedout" ]; then
		echo "${4}lpu-init: $1 timed out after $3 s"
		RC=124
	elif [ "$RC" -gt 128 ]; then
		echo "${4}lpu-init: $1 killed by signal $((RC - 128))"
	elif [ "$RC" != 0 ] && [ "$RC" != 77 ]; then
		echo "${4}lpu-init: $1 exit status $RC"
	fi
	rm -f "$RUN/out"
}

status_of() {
	case $1 in
	0) echo PASS ;;
	77) echo SKIP ;;
	*) echo FAIL ;;
	esac
}

run_test() { # name path
	echo "==== $1"
	t0=$(now)
	export LPU_TEST_TIMEOUT="$TIMEOUT" LPU_TESTS_DIR="$TDIR" LPU_GUEST=1
	run_prog "$1" "$2" "$TIMEOUT" '  | '
	result "$1" "$(status_of "$RC")" "$t0"
}

# The tests to run, one "name path" pair per line.
test_list() {
	if [ -n "$TESTS" ]; then
		echo "$TESTS" | tr ',' '\n' | while read -r t; do
			[ -n "$t" ] || continue
			if [ -f "$TDIR/$t" ]; then
				echo "$t $TDIR/$t"
			elif [ -f "$TDIR/$t.sh" ]; then
				echo "$t.sh $TDIR/$t.sh"
			else
				echo "$t -"
			fi
		done
	else
		for f in "$TDIR"/t_*; do
			[ -f "$f" ] && [ -x "$f" ] && echo "${f##*/} $f"
		done
	fi
}

run_tests() {
	test_list > "$RUN/list"
	echo "lpu-init: running $(wc -l < "$RUN/list") tests, timeout ${TIMEOUT} s each"
	while read -r name path; do
		if [ "$path" = - ]; then
			echo "==== $name"
			echo "  | lpu-init: no test $name in $TDIR"
			echo "RESULT $name FAIL 0.00"
			continue
		fi
		run_test "$name" "$path"
	done < "$RUN/list"
}

run_bench() {
	[ "$BENCH" != 0 ] && [ -x /usr/bin/lpu-bench ] || return 0
	t0=$(now)
	echo "BENCH-BEGIN"
	run_prog lpu-bench /usr/bin/lpu-bench "$BENCH_TIMEOUT" ''
	echo "BENCH-END"
	result lpu-bench "$(status_of "$RC")" "$t0"
}

echo "lpu-init: $(uname -r), mode $MODE, $(grep -c ^processor /proc/cpuinfo) CPUs, up $(now) s"
boot_dmesg
pci_ok=1
pci_check || pci_ok=0
if [ $pci_ok = 0 ] && [ "$PCICHECK" = stop ]; then
	echo "lpu-init: stopping (lpu.pcicheck=stop)"
	poweroff -f
fi

case $MODE in
shell)
	load_modules || echo "lpu-init: module loading failed"
	[ "$LOAD" = 0 ] || wait_accel || echo "lpu-init: no /dev/accel/accel0"
	echo "lpu-init: shell; tests in $TDIR; 'exit' powers off"
	cd "$TDIR" && setsid cttyhack sh -l
	cd /
	finish
	;;
demo)
	if ! load_modules; then
		echo "lpu-init: module loading failed, no demo"
	elif ! wait_accel; then
		echo "lpu-init: no /dev/accel/accel0, no demo"
	else
		echo "DEMO-BEGIN"
		run_prog lpu-demo /bin/lpu-demo "$BENCH_TIMEOUT" ''
		echo "DEMO-END $RC"
	fi
	finish
	;;
esac

# Test mode.
echo "==== load_module"
t0=$(now)
if ! load_modules; then
	result load_module FAIL "$t0"
	echo "lpu-init: not running the tests"
	finish
fi
result load_module PASS "$t0"
if [ "$LOAD" != 0 ]; then
	echo "==== accel_node"
	t0=$(now)
	if wait_accel; then
		find /dev/accel | sed 's/^/  | /'
		result accel_node PASS "$t0"
	else
		echo "  | lpu-init: no /dev/accel/accel0 after $DEVWAIT s"
		result accel_node FAIL "$t0"
	fi
fi
run_tests
run_bench
finish
