#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Run the kernel's checkpatch.pl --strict on the driver and the uapi header:
# driver/*.c driver/*.h uapi/drm/lpu_accel.h (generated *.mod.c left out),
# or on the files given as arguments.
#
# checkpatch.pl comes from ${LPU_CACHE:-/var/cache/lpu}/checkpatch (fetched
# by scripts/setup-deps.sh, which is run if it is missing).
#
# Exit status 1 if there is any ERROR or WARNING; CHECK messages (from
# --strict) are shown and counted, and fail the run too with
# --fail-on-check (or CHECKPATCH_FAIL_ON_CHECK=1).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LPU_CACHE=${LPU_CACHE:-/var/cache/lpu}
cp=$LPU_CACHE/checkpatch/checkpatch.pl
fail_on_check=${CHECKPATCH_FAIL_ON_CHECK:-0}

files=()
for a in "$@"; do
	case $a in
	--fail-on-check) fail_on_check=1 ;;
	*) files+=("$(realpath "$a")") ;;
	esac
done

if [ ! -f "$cp" ]; then
	echo "checkpatch: $cp missing, running scripts/setup-deps.sh" >&2
	"$ROOT/scripts/setup-deps.sh"
fi

cd "$ROOT"
if [ ${#files[@]} = 0 ]; then
	shopt -s nullglob
	for f in driver/*.c driver/*.h uapi/drm/lpu_accel.h; do
		case $f in *.mod.c) continue ;; esac
		files+=("$f")
	done
fi
[ ${#files[@]} -gt 0 ] || { echo "checkpatch: no files to check" >&2; exit 1; }

out=$(perl "$cp" --strict --no-tree --color=never --show-types -f \
	"${files[@]}" 2>&1) || true
printf '%s\n' "$out"

read -r errors warnings checks < <(printf '%s\n' "$out" | awk '
	/^total: [0-9]+ errors, [0-9]+ warnings, / {
		e += $2; w += $4; c += ($6 ~ /^[0-9]+$/) ? $6 : 0
	}
	END { print e + 0, w + 0, c + 0 }')
nfiles=$(printf '%s\n' "$out" | grep -c '^total: ' || true)
echo "checkpatch: ${#files[@]} files, $errors errors, $warnings warnings, $checks checks"
if [ "$nfiles" != ${#files[@]} ]; then
	echo "checkpatch: expected ${#files[@]} totals, got $nfiles" >&2
	exit 1
fi
[ "$errors" = 0 ] && [ "$warnings" = 0 ] || exit 1
[ "$fail_on_check" = 0 ] || [ "$checks" = 0 ] || exit 1
exit 0
