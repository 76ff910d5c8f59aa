#!/bin/sh
# SPDX-License-Identifier: MIT
#
# /bin/lpu-demo: what "make demo" shows, run inside the guest by /init
# (lpu.mode=demo) once lpu.ko is loaded. The model comes from the host:
# scripts/demo.sh compiles it and puts it in /usr/share/lpu/demo/ (see
# there); first its directory is moved onto a tmpfs mounted
# huge=always (the fastest place to load a model from). Steps, each
# skipped with a note if its program or the model is missing:
#   1. the card: lpu-smi, else what sysfs says about /dev/accel/accel*;
#   2. text generation: lpu-run on the model, streaming, with statistics;
#   3. DMA round trip: the DMA guest tests (t_*dma*);
#   4. the benchmark: lpu-bench, with the model for the load and streaming
#      figures (200 tokens, 5 runs); when /init exported LPU_HOST_SERVICE
#      (tests/run-guest.sh --host-service, as scripts/demo.sh runs it) and
#      that device exists, with --host-engine on it, so that every
#      streaming run is paired with a run of the engine alone on the host
#      (lpu-sim) just before it: engine_tokens_per_s, stream_vs_engine.
# Exits 0 if every step that ran succeeded.
#
# Environment: LPU_DEMO_MODEL (default /usr/share/lpu/demo/model.lpu),
# LPU_DEMO_PROMPT, LPU_DEMO_TOKENS (default "Once upon a time", 40),
# LPU_DEMO_BENCH_TOKENS (lpu-bench --tokens, default 200; the model's
# context is 256), LPU_HOST_SERVICE (from /init).

TDIR=${LPU_TESTS_DIR:-/opt/lpu/tests}
MODEL=${LPU_DEMO_MODEL:-/usr/share/lpu/demo/model.lpu}
PROMPT=${LPU_DEMO_PROMPT:-Once upon a time}
TOKENS=${LPU_DEMO_TOKENS:-40}
BENCH_TOKENS=${LPU_DEMO_BENCH_TOKENS:-200}
failed=0

step() {
	echo
	echo "== $*"
}

show_sysfs() {
	for a in /sys/class/accel/accel*; do
		[ -e "$a" ] || { echo "no accel device"; return 1; }
		dev=$(readlink -f "$a/device")
		echo "/dev/accel/${a##*/}: PCI ${dev##*/}" \
			"vendor $(cat "$dev/vendor" 2>/dev/null)" \
			"device $(cat "$dev/device" 2>/dev/null)" \
			"driver $(basename "$(readlink "$dev/driver" 2>/dev/null)")"
		# Driver attributes (sysfs and hwmon), whatever the driver offers.
		for f in "$dev"/* "$dev"/hwmon/hwmon*/*_input; do
			if [ ! -f "$f" ] || [ ! -r "$f" ]; then
				continue
			fi
			case ${f##*/} in
			config|resource*|rom|remove|rescan|reset*|uevent|modalias|\
			driver_override|msi_bus|broken_parity_status|enable|\
			*irq*|local_cpu*|numa_node|power_state|d3cold_allowed|\
			vendor|device|subsystem_*|class|revision|dma_mask_bits|\
			consistent_dma_mask_bits|ari_enabled|current_link_*|\
			max_link_*|secondary_bus_number|subordinate_bus_number)
				continue ;;
			esac
			v=$(head -c 200 "$f" 2>/dev/null | head -n 1) || continue
			[ -n "$v" ] && echo "  ${f#"$dev"/}: $v"
		done
	done
}

echo "lpu demo: $(uname -sr), $(grep -c ^processor /proc/cpuinfo) CPUs"

# Models load fastest when their page cache is in huge pages (see
# Documentation/runtime.rst): the model's directory goes on a tmpfs
# mounted huge=always (within_size would give small pages to a file written
# by appending, as cp does), at the same path (the host service finds the
# host copy by that path). Without it, loads run from the initramfs's
# 4 KiB pages.
huge_models() {
	d=${MODEL%/*}
	[ -f "$MODEL" ] || return 0
	mkdir -p /run/lpu-stage && cp -a "$d"/. /run/lpu-stage/ || return 1
	if mount -t tmpfs -o huge=always,mode=0755 lpu-models "$d"; then
		cp -a /run/lpu-stage/. "$d"/ || return 1
		echo "(models: $d on tmpfs huge=always)"
	fi
	rm -rf /run/lpu-stage
}
huge_models || echo "(models: could not move $MODEL to a huge-page tmpfs)"

step "1. the card"
if command -v lpu-smi > /dev/null; then
	echo "\$ lpu-smi"
	lpu-smi || failed=1
else
	show_sysfs || failed=1
fi

step "2. text generation"
if ! command -v lpu-run > /dev/null; then
	echo "(lpu-run not built yet)"
elif [ ! -f "$MODEL" ]; then
	echo "(no model at $MODEL: scripts/demo.sh puts it there)"
else
	# (the weights are random: the text is not a story, but it comes
	# token by token from the card, with the model's own vocabulary)
	echo "\$ lpu-run ${MODEL##*/} --prompt \"$PROMPT\" --max-tokens $TOKENS"
	# /init reads our output line by line; straight to the console the
	# text shows token by token (after what is in the pipe already)
	out=/dev/stdout
	if [ -w /dev/console ]; then
		sleep 0.2
		out=/dev/console
	fi
	lpu-run "$MODEL" --prompt "$PROMPT" --max-tokens "$TOKENS" \
		> "$out" 2>&1 || failed=1
fi

step "3. DMA round trip"
# host -> SRAM -> host copies and compares (not the error cases)
ran=0
for t in "$TDIR"/t_dma_*; do
	[ -x "$t" ] || continue
	case ${t##*/} in
	*_einval*|*_erange*|*_enoent*|*_efault*|*_e2big*|*_enospc*) continue ;;
	esac
	ran=1
	echo "-- ${t##*/}"
	(cd "$TDIR" && "$t" < /dev/null)
	rc=$?
	case $rc in
	0) echo "-- ${t##*/}: ok" ;;
	77) echo "-- ${t##*/}: skipped" ;;
	*) echo "-- ${t##*/}: FAILED (exit status $rc)"; failed=1 ;;
	esac
done
[ $ran = 1 ] || echo "(no DMA test program built yet)"

step "4. benchmark"
if ! command -v lpu-bench > /dev/null; then
	echo "(lpu-bench not built yet)"
elif [ -f "$MODEL" ]; then
	set -- --program "$MODEL" --prompt-tokens 1 --tokens "$BENCH_TOKENS"
	if [ -n "${LPU_HOST_SERVICE:-}" ] && [ -c "$LPU_HOST_SERVICE" ]; then
		set -- "$@" --host-engine "$LPU_HOST_SERVICE"
	elif [ -n "${LPU_HOST_SERVICE:-}" ]; then
		echo "(no host service: $LPU_HOST_SERVICE is not a device)"
	else
		echo "(no host service: streaming only, no engine comparison)"
	fi
	echo "\$ lpu-bench $*" | sed "s|$MODEL|${MODEL##*/}|"
	lpu-bench "$@" || failed=1
else
	echo "\$ lpu-bench"
	lpu-bench || failed=1
fi

echo
if [ $failed = 0 ]; then
	echo "lpu demo: done"
else
	echo "lpu demo: done, with failures"
fi
exit $failed
