#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run every lpu test: the host unit tests (make -C tests/host check, Check
# suites), then the guest tests (tests/run-guest.sh, arguments passed on).
# Assumes everything is built ("make check" builds first, then calls this).
#
# The last line is the summary:
#   TOTAL: N passed, N failed, N skipped
# Exit status 0 only if nothing failed and the guest reported results.
# Missing host tests, a host build or run that fails without a Check
# summary, and a guest run without a summary count as failures, never as
# passes. Besides the Check suites, checkpatch, a short fuzz run and
# "make install"/"make uninstall" (tests/install/check-install.sh) count
# one host result each. Logs: $BUILD/host-check.log, checkpatch.log,
# fuzz.log, install-check.log, guest-run.log.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD=${BUILD:-$ROOT/build}
mkdir -p "$BUILD"

hp=0 hf=0 hs=0
gp=0 gf=0 gs=0

echo "==== host tests (tests/host)"
hlog=$BUILD/host-check.log
if [ ! -f "$ROOT/tests/host/Makefile" ]; then
	echo "host: tests/host/Makefile missing: no host tests (counted as a failure)"
	hf=1
else
	make -C "$ROOT/tests/host" check 2>&1 | tee "$hlog"
	rc=${PIPESTATUS[0]}
	# Check prints one "NN%: Checks: X, Failures: F, Errors: E" per runner.
	read -r checks fails errs nsum < <(awk '
		match($0, /[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/) {
			s = substr($0, RSTART, RLENGTH); gsub(/[^0-9 ]/, "", s)
			split(s, v, " "); c += v[2]; f += v[3]; e += v[4]; n++
		}
		END { print c + 0, f + 0, e + 0, n + 0 }' "$hlog")
	hp=$((checks - fails - errs))
	hf=$((fails + errs))
	if [ "$nsum" = 0 ]; then
		echo "host: no Check summary line in the output (counted as a failure)"
		hf=$((hf + 1))
	fi
	if [ "$rc" != 0 ] && [ "$hf" = 0 ]; then
		echo "host: make -C tests/host check exited $rc (counted as a failure)"
		hf=1
	fi
fi

# The kernel code against the kernel's style checker: one result.
echo
echo "==== checkpatch (scripts/checkpatch.sh)"
if "$ROOT/scripts/checkpatch.sh" --fail-on-check > "$BUILD/checkpatch.log" 2>&1; then
	echo "PASS checkpatch"
	hp=$((hp + 1))
else
	tail -n 30 "$BUILD/checkpatch.log"
	echo "FAIL checkpatch (log: $BUILD/checkpatch.log)"
	hf=$((hf + 1))
fi

# The program-file parser under libFuzzer for a short while: one result.
echo
echo "==== fuzz (tests/fuzz/run.sh ${LPU_FUZZ_TIME:-20} s)"
if "$ROOT/tests/fuzz/run.sh" "${LPU_FUZZ_TIME:-20}" > "$BUILD/fuzz.log" 2>&1; then
	echo "PASS fuzz_program"
	hp=$((hp + 1))
else
	tail -n 20 "$BUILD/fuzz.log"
	echo "FAIL fuzz_program (log: $BUILD/fuzz.log)"
	hf=$((hf + 1))
fi

# make install / uninstall into a temporary DESTDIR: one result.
echo
echo "==== install (tests/install/check-install.sh)"
if "$ROOT/tests/install/check-install.sh" > "$BUILD/install-check.log" 2>&1; then
	echo "PASS install"
	hp=$((hp + 1))
else
	grep -v '^ok ' "$BUILD/install-check.log" | tail -n 30
	echo "FAIL install (log: $BUILD/install-check.log)"
	hf=$((hf + 1))
fi
echo "host: $hp passed, $hf failed, $hs skipped"

# Host engine figures (printed, not a test): stories15M-sized model.
echo
echo "==== host benchmark (tools/lpu-sim/bench-host.sh)"
"$ROOT/tools/lpu-sim/bench-host.sh" 2>&1 | tail -n 8 || echo "host benchmark did not run"

echo
echo "==== guest tests (tests/run-guest.sh)"
glog=$BUILD/guest-run.log
"$ROOT/tests/run-guest.sh" "$@" 2>&1 | tee "$glog"
rc=${PIPESTATUS[0]}
summary=$(tr -d '\r' < "$glog" |
	sed -n 's/^guest: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped$/\1 \2 \3/p' |
	tail -n 1)
if [ -z "$summary" ]; then
	echo "guest: tests/run-guest.sh gave no summary, exit status $rc (counted as a failure)"
	gf=1
else
	read -r gp gf gs <<< "$summary"
	if [ $((gp + gf + gs)) = 0 ]; then
		echo "guest: no results (counted as a failure)"
		gf=1
	fi
	if [ "$rc" != 0 ] && [ "$gf" = 0 ]; then
		echo "guest: tests/run-guest.sh exited $rc (counted as a failure)"
		gf=1
	fi
fi

echo
echo "host:  $hp passed, $hf failed, $hs skipped"
echo "guest: $gp passed, $gf failed, $gs skipped"
passed=$((hp + gp)) failed=$((hf + gf)) skipped=$((hs + gs))
echo "TOTAL: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
