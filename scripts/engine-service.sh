#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The host side of lpu-bench --host-engine: runs the engine alone (lpu-sim)
# on the host when the guest asks, so that the guest can interleave engine
# runs with its own streaming runs. "make demo" (scripts/demo.sh) gives it
# to tests/run-guest.sh as --host-service; run-guest.sh calls it once per
# request line the guest writes to its second serial port, with the words
# of the line as arguments, and sends back the last line it prints.
#
# Usage: scripts/engine-service.sh engine GUEST_PROGRAM PROMPT_LIST TOKENS
#
#   GUEST_PROGRAM  the program's path in the guest; the host file is the
#                  same path under one of the directories of
#                  LPU_GUEST_EXTRA (colon-separated, the first that has it:
#                  the directories scripts/build-initramfs.sh copied over
#                  the guest root)
#   PROMPT_LIST    the prompt's token ids, comma-separated
#   TOKENS         the token budget (lpu-sim --steps)
#
# Runs "$LPU_TOOLS_DIR/lpu-sim PROGRAM --tokens PROMPT_LIST --steps TOKENS"
# (default $BUILD/tools/lpu-sim; its standard output is discarded) and
# prints one line
#   ok TOKENS_PER_S P50_MS P99_MS
# from lpu-sim's "host: ... tokens/s" line and its "host gaps: p50 ...
# ms, p99 ... ms" line (the wall time between consecutive tokens; "-" for
# both when fewer than two tokens were generated). "engine" is the only
# request: anything else, a path that maps to no file, or a failed lpu-sim
# is exit status 1 with a message on standard error (2 for malformed
# arguments).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SIM=${LPU_TOOLS_DIR:-$BUILD/tools}/lpu-sim

die() { # message [exit status, default 1]
	printf 'engine-service: %s\n' "$1" >&2
	exit "${2:-1}"
}

[ $# -ge 1 ] || die "no request" 2
case $1 in
engine) ;;
*) die "unknown request '$1' (only 'engine')" 2 ;;
esac
[ $# = 4 ] || die "usage: engine GUEST_PROGRAM PROMPT_LIST TOKENS" 2
gprog=$2 prompt=$3 tokens=$4
case $gprog in
/*) ;;
*) die "'$gprog' is not an absolute guest path" 2 ;;
esac
case /$gprog/ in
*/../*|*/./*) die "'$gprog': no '.' or '..' components allowed" 2 ;;
esac
case $prompt in
''|*[!0-9,]*) die "'$prompt' is not a comma-separated list of token ids" 2 ;;
esac
case $tokens in
''|*[!0-9]*) die "'$tokens' is not a token count" 2 ;;
esac

hprog=
IFS=: read -r -a extras <<< "${LPU_GUEST_EXTRA:-}"
for d in "${extras[@]}"; do
	[ -n "$d" ] || continue
	if [ -f "$d$gprog" ]; then
		hprog=$d$gprog
		break
	fi
done
[ -n "$hprog" ] ||
	die "$gprog is in none of the guest extra directories (LPU_GUEST_EXTRA='${LPU_GUEST_EXTRA:-}')"
[ -x "$SIM" ] || die "$SIM missing: run 'make' first"

err=$("$SIM" "$hprog" --tokens "$prompt" --steps "$tokens" 2>&1 >/dev/null) || {
	last=$(printf '%s\n' "$err" | tail -n 1)
	die "lpu-sim failed: ${last:-no message}"
}
rate=$(printf '%s\n' "$err" |
	sed -n 's/^host: .* s wall, \([0-9.]*\) tokens\/s.*/\1/p' | tail -n 1)
[ -n "$rate" ] || die "no 'host: ... tokens/s' line from lpu-sim"
p50=- p99=-
gaps=$(printf '%s\n' "$err" |
	sed -n 's/^host gaps: p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/\1 \2/p' |
	tail -n 1)
[ -z "$gaps" ] || read -r p50 p99 <<< "$gaps"
echo "ok $rate $p50 $p99"
