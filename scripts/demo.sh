#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# The back end of "make demo": boot the guest kernel on the emulated LPU
# card (QEMU, TCG), load lpu.ko and run /bin/lpu-demo (tests/guest/demo.sh:
# card status, a DMA round trip, the benchmark). Assumes everything is built
# ("make demo" builds first). Arguments go to tests/run-guest.sh, e.g.
# --device lpu-pci,sram-size=256M or --timeout SEC.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
exec "$ROOT/tests/run-guest.sh" --demo "$@"
