#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The back end of "make demo": compile a model on the host, boot the guest
# kernel on the emulated LPU card (QEMU, TCG) with the model in it, load
# lpu.ko and run /bin/lpu-demo (tests/guest/demo.sh: lpu-smi, lpu-run
# streaming text from the model, a DMA round trip, lpu-bench), then
# compare the guest's streaming rate with the engine alone on the host.
# Assumes the tools are built ("make demo" builds first). Arguments go to
# tests/run-guest.sh, e.g. --device lpu-pci,sram-size=256M or --timeout SEC.
#
# The model: a random Llama-2 model of the shape of llama2.c's stories15M
# (dim 288, 6 layers, 6 heads, vocabulary 32000, context 256; 15M
# parameters), made by lpu-mkmodel with its tokenizer and compiled by
# lpu-compile as f32: a 61 MB program, fast enough under TCG since the
# card's engine runs natively in QEMU. Its weights are random, so the
# text is not a story. Made once into $BUILD/demo/ (again when the tools
# change) and put into the guest at /usr/share/lpu/demo/model.lpu through
# LPU_GUEST_EXTRA.
#
# After the guest: lpu-bench printed "# stream: program P prompt L tokens
# N ..." and "stream_tokens_per_s: X"; lpu-sim runs the same program,
# prompt and budget on the host's engine (best of 3) and this script
# prints
#   engine_tokens_per_s: Y (lpu-sim on the host, ...)
#   stream_vs_engine: X/Y
# the share of the engine's speed an application gets through liblpu,
# the driver, the emulated PCI device and the guest.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD=${BUILD:-$ROOT/build}
TOOLS=${LPU_TOOLS_DIR:-$BUILD/tools}

DEMO=$BUILD/demo
DEMO_ROOT=$DEMO/root
GUEST_DIR=/usr/share/lpu/demo
MODEL=$DEMO_ROOT$GUEST_DIR/model.lpu
MODEL_OPTS="--dim 288 --hidden-dim 768 --layers 6 --heads 6 --kv-heads 6
	--vocab 32000 --seq-len 256 --shared --seed 15"

note() { printf 'demo: %s\n' "$*" >&2; }
die() { note "$*"; exit 1; }

# --- the model, on the host -------------------------------------------------

make_model() {
	local stamp=$DEMO/model.opts want
	want="$MODEL_OPTS $(cksum < "$TOOLS/lpu-mkmodel") $(cksum < "$TOOLS/lpu-compile")"
	if [ -f "$MODEL" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
		return 0
	fi
	note "making the model: lpu-mkmodel (stories15M shape) + lpu-compile"
	mkdir -p "$DEMO/work" "$(dirname "$MODEL")"
	# shellcheck disable=SC2086 # one word per option
	"$TOOLS/lpu-mkmodel" -o "$DEMO/work/model.bin" \
		--tokenizer "$DEMO/work/tokenizer.bin" $MODEL_OPTS
	"$TOOLS/lpu-compile" "$DEMO/work/model.bin" \
		--tokenizer "$DEMO/work/tokenizer.bin" -o "$MODEL.tmp"
	mv -f "$MODEL.tmp" "$MODEL"
	printf '%s\n' "$want" > "$stamp"
}

for t in lpu-mkmodel lpu-compile lpu-sim; do
	[ -x "$TOOLS/$t" ] || die "$TOOLS/$t missing: run 'make' first"
done
make_model
note "model: $MODEL ($(du -h "$MODEL" | cut -f1)), in the guest at $GUEST_DIR/model.lpu"
export LPU_GUEST_EXTRA=$DEMO_ROOT${LPU_GUEST_EXTRA:+:$LPU_GUEST_EXTRA}

# --- the guest ----------------------------------------------------------------

rc=0
"$ROOT/tests/run-guest.sh" --demo "$@" || rc=$?

# --- the engine alone, on the host, for the same run -------------------------

console=$BUILD/guest/console.clean
[ -f "$console" ] || exit "$rc"
stream=$(grep -a '^# stream: program ' "$console" | tail -n 1 || true)
rate=$(sed -n 's/^stream_tokens_per_s: \([0-9.]*\) .*/\1/p' "$console" |
	tail -n 1)
if [ -z "$stream" ] || [ -z "$rate" ]; then
	note "no streaming figure from lpu-bench in the guest: no comparison"
	exit "$rc"
fi
read -r _ _ _ gprog _ prompt _ tokens _ <<< "$stream"
tokens=${tokens%:}
case $gprog in
"$GUEST_DIR"/*) hprog=$DEMO_ROOT$gprog ;;
*) note "lpu-bench ran $gprog, which is not the demo's model"; exit "$rc" ;;
esac
best=0
for _ in 1 2 3; do
	r=$("$TOOLS/lpu-sim" "$hprog" --tokens "$prompt" --steps "$tokens" \
		2>&1 >/dev/null | sed -n 's/^host: .* s wall, \([0-9.]*\) tokens\/s.*/\1/p')
	[ -n "$r" ] || die "lpu-sim $hprog --tokens $prompt --steps $tokens failed"
	best=$(awk -v a="$best" -v b="$r" 'BEGIN { print ((b > a) ? b : a) }')
done
echo
echo "==== streaming against the engine alone (host, same program and prompt)"
echo "stream_tokens_per_s: $rate (guest, lpu-bench through liblpu)"
echo "engine_tokens_per_s: $best (lpu-sim on the host, prompt $prompt, $tokens tokens, best of 3)"
awk -v s="$rate" -v e="$best" 'BEGIN {
	printf "stream_vs_engine: %.2f (stream_tokens_per_s / engine_tokens_per_s)\n",
		(e > 0 ? s / e : 0) }'
exit "$rc"
