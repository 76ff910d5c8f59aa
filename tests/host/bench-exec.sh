#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench-exec.sh: host tokens/s of a stories15M-shaped model through the
# card's EXEC path (tools/emulator/lpu_exec.c) next to the engine alone and
# lpu-sim, f32 and int8. The model is the one of tools/lpu-sim/bench-host.sh
# (random weights, llama2.c stories15M shape).
#
# Usage: tests/host/bench-exec.sh [STEPS]   (default 64)
# Environment: BUILD (default <repo>/build).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
STEPS=${1:-64}
TOOLS=$BUILD/tools

for t in lpu-mkmodel lpu-compile lpu-sim; do
	make -s --no-print-directory -C "$TOP/tools/$t" BUILD="$BUILD" >&2
done
make -s --no-print-directory -C "$HERE" "$BUILD/tests/host/bench_exec" \
	BUILD="$BUILD" >&2

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lpu-bench-exec.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$TOOLS/lpu-mkmodel" -o "$WORK/model.bin" --tokenizer "$WORK/tok.bin" \
	--dim 288 --hidden-dim 768 --layers 6 --heads 6 --kv-heads 6 \
	--vocab 32000 --seq-len 256 --shared --seed 1

for q in f32 int8; do
	"$TOOLS/lpu-compile" "$WORK/model.bin" --tokenizer "$WORK/tok.bin" \
		--quantize $q -o "$WORK/model-$q.lpu"
	echo "== $q"
	"$BUILD/tests/host/bench_exec" "$WORK/model-$q.lpu" "$STEPS"
	"$TOOLS/lpu-sim" "$WORK/model-$q.lpu" --tokens 1 --steps "$STEPS" \
		2>&1 >/dev/null | sed -n 's/^host:/lpu-sim:/p'
done
