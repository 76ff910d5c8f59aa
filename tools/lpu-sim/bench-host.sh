#!/bin/bash
# SPDX-License-Identifier: MIT
#
# bench-host.sh: how fast the host engine runs a stories15M-sized model,
# and whether the cycles it counts are the ones the compiler predicted.
#
# Makes a random model of the llama2.c stories15M shape (dim 288, hidden
# 768, 6 layers, 6 heads, 6 kv heads, vocab 32000, seq_len 256, shared
# classifier), compiles it as f32 and as int8, runs each with lpu-sim from
# a one-token prompt for STEPS positions (default 64) and prints one line
# per program:
#
#   host_f32: X tok/s, Y GFLOP/s, cycles/token Z (predicted Z)
#   card_f32: N tok/s at 900 MHz (cycle model)
#
# tok/s is generated tokens per second of wall time of the whole run
# (lpu-sim's own figure). FLOPs per token count the multiply-adds of the
# model as 2 each:
#   2 * (n_layers * (2 dim^2 + 2 dim kv_dim + 3 dim hidden) + vocab dim)
#   + 4 * n_layers * dim * (average attended positions)
# (matrix-vector products, then attention scores and weighted values over
# positions 0..p; norms, RoPE and SiLU are left out, under 0.1 %). For the
# stories15M shape and 64 positions that is 30.6 MFLOP per token.
#
# Usage: tools/lpu-sim/bench-host.sh [STEPS]
# Environment: BUILD (default <repo>/build), the tools are built first.

set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-$TOP/build}
STEPS=${1:-64}
TOOLS=$BUILD/tools

DIM=288 HIDDEN=768 LAYERS=6 HEADS=6 KV_HEADS=6 VOCAB=32000 SEQ_LEN=256

for t in lpu-mkmodel lpu-compile lpu-sim; do
	make -s --no-print-directory -C "$TOP/tools/$t" BUILD="$BUILD" >&2
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/lpu-bench-host.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$TOOLS/lpu-mkmodel" -o "$WORK/model.bin" --tokenizer "$WORK/tok.bin" \
	--dim $DIM --hidden-dim $HIDDEN --layers $LAYERS --heads $HEADS \
	--kv-heads $KV_HEADS --vocab $VOCAB --seq-len $SEQ_LEN --shared --seed 1

# FLOPs per token, averaged over positions 0..STEPS-1
FLOPS=$(awk -v d=$DIM -v h=$HIDDEN -v l=$LAYERS -v nh=$HEADS \
	-v kv=$KV_HEADS -v v=$VOCAB -v n="$STEPS" 'BEGIN {
	kvd = d / nh * kv
	mat = l * (2 * d * d + 2 * d * kvd + 3 * d * h) + v * d
	printf "%.0f", 2 * mat + 4 * l * d * (n + 1) / 2 }')
echo "model: stories15M shape, $(awk -v f="$FLOPS" \
	'BEGIN { printf "%.1f", f / 1e6 }') MFLOP/token, $STEPS steps"

for q in f32 int8; do
	"$TOOLS/lpu-compile" "$WORK/model.bin" --tokenizer "$WORK/tok.bin" \
		--quantize $q -o "$WORK/model-$q.lpu"
	"$TOOLS/lpu-sim" "$WORK/model-$q.lpu" --tokens 1 --steps "$STEPS" \
		>/dev/null 2>"$WORK/report-$q"
	awk -v q=$q -v f="$FLOPS" '
	/^cycles:/ {
		for (i = 1; i <= NF; i++) {
			if ($(i + 1) == "per" && $(i + 2) == "token") {
				per = $i + 0; pred = $(i + 4); gsub(/[),]/, "", pred)
				pred += 0
			}
		}
	}
	/^host:/ { tps = $5 }
	END {
		printf "host_%s: %.1f tok/s, %.2f GFLOP/s, cycles/token %d (predicted %d)\n",
			q, tps, tps * f / 1e9, per, pred
		printf "card_%s: %.0f tok/s at 900 MHz (cycle model)\n",
			q, 900e6 / pred
		if (per != pred) {
			print "cycles per token differ from the prediction" > "/dev/stderr"
			exit 1
		}
	}' "$WORK/report-$q"
done
