#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Build the program-file fuzz target (tests/fuzz/fuzz_program.c) with
# libFuzzer, ASan and UBSan, and run it briefly.
#
#   tests/fuzz/run.sh [SECONDS]      default 20 (env FUZZ_TIME works too)
#
# The seed corpus is the example programs (tests/programs/*.s, assembled
# with lpu-as) and the malformed fixtures (tests/programs/malformed/);
# the corpus the fuzzer grows is kept in $BUILD/fuzz/corpus between runs.
# Exits non-zero when the fuzzer finds a crash, a leak or undefined
# behaviour (the reproducer is left in $BUILD/fuzz/). Needs clang and
# libclang-rt-14-dev (scripts/setup-deps.sh installs it). libelf itself is
# not instrumented.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
out="$BUILD/fuzz"
secs=${1:-${FUZZ_TIME:-20}}
CLANG=${CLANG:-clang}

mkdir -p "$out/corpus" "$out/seeds"

echo "fuzz: building $out/fuzz_program"
"$CLANG" -g -O1 -std=gnu11 -D_GNU_SOURCE \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-I"$top/uapi" -I"$top/lib" \
	-o "$out/fuzz_program" \
	"$here/fuzz_program.c" "$top/lib/lpu_program.c" "$top/lib/lpu_insn.c" \
	-lelf -lm

echo "fuzz: seed corpus"
make --no-print-directory -s -C "$top/tests/programs" BUILD="$BUILD" >/dev/null
cp "$BUILD"/programs/*.lpu "$out/seeds/"
cp "$top"/tests/programs/malformed/*.lpu "$out/seeds/"

echo "fuzz: running for ${secs}s"
cd "$out"
# -error_exitcode: any crash, leak or UBSan report fails this script.
"$out/fuzz_program" -max_total_time="$secs" -error_exitcode=1 \
	-timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	"$out/corpus" "$out/seeds"
echo "fuzz: no crash in ${secs}s"
