#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The back end of "make demo": compile a model on the host, boot the guest
# kernel on the emulated LPU card (QEMU, TCG) with the model in it, load
# lpu.ko and run /bin/lpu-demo (tests/guest/demo.sh: lpu-smi, lpu-run
# streaming text from the model, a DMA round trip, lpu-bench, which
# compares its streaming rate with the engine alone on the host, run by
# run). Assumes the tools are built ("make demo" builds first). Arguments
# go to tests/run-guest.sh, e.g. --device lpu-pci,sram-size=256M or
# --timeout SEC.
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
# The comparison with the engine: run-guest.sh runs with --host-service
# scripts/engine-service.sh, a serial line from the guest to the host, and
# the guest's "lpu-bench --host-engine" has the host run the engine alone
# (lpu-sim, on the host's copy of the same model: LPU_GUEST_EXTRA maps the
# guest path) just before each of its 5 streaming runs, one pair at a
# time, so that both figures of a pair come from the same moment of a
# machine whose speed drifts. After the guest this script repeats
# lpu-bench's lines
#   stream_tokens_per_s: X (...)
#   engine_tokens_per_s: Y (host runner, median of 5 runs interleaved ...)
#   stream_vs_engine: R (median of the 5 per-pair ratios ...; min, max)
# R being the share of the engine's speed an application gets through
# liblpu, the driver, the emulated PCI device and the guest. If the guest
# printed no stream_vs_engine line it says so (no figure is made up from
# runs at other times).
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
"$ROOT/tests/run-guest.sh" --demo \
	--host-service "$ROOT/scripts/engine-service.sh" "$@" || rc=$?

# --- the stream against the engine alone, as the guest measured it ------------

console=$BUILD/guest/console.clean
[ -f "$console" ] || exit "$rc"
echo
echo "==== streaming against the engine alone (lpu-bench in the guest, each run paired with lpu-sim on the host)"
found=0
for key in stream_tokens_per_s engine_tokens_per_s stream_vs_engine; do
	line=$(grep -a "^$key: " "$console" | tail -n 1 || true)
	if [ -n "$line" ]; then
		echo "$line"
		[ "$key" != stream_vs_engine ] || found=1
	fi
done
if [ $found = 0 ]; then
	echo "(no comparison: the guest printed no stream_vs_engine line;" \
		"see $BUILD/guest/host-service.log and $BUILD/guest/console.log)"
fi
exit "$rc"
