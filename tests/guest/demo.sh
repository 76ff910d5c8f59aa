#!/bin/sh
# SPDX-License-Identifier: MIT
#
# /bin/lpu-demo: what "make demo" shows, run inside the guest by /init
# (lpu.mode=demo) once lpu.ko is loaded. Three steps, each skipped with a
# note if its program is not built yet:
#   1. card status: lpu-smi, else what sysfs says about /dev/accel/accel*;
#   2. DMA round trip: the DMA guest tests (t_*dma*);
#   3. the benchmark: lpu-bench.
# Exits 0 if every step that ran succeeded.

TDIR=${LPU_TESTS_DIR:-/opt/lpu/tests}
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

step "1. card status"
if command -v lpu-smi > /dev/null; then
	lpu-smi || failed=1
else
	show_sysfs || failed=1
fi

step "2. DMA round trip"
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

step "3. benchmark"
if command -v lpu-bench > /dev/null; then
	lpu-bench || failed=1
else
	echo "(lpu-bench not built yet)"
fi

echo
if [ $failed = 0 ]; then
	echo "lpu demo: done"
else
	echo "lpu demo: done, with failures"
fi
exit $failed
