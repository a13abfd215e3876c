#!/usr/bin/env bash
# Fuzzes the readers of outside files with libFuzzer and AddressSanitizer:
# checkpoints (safetensors, loaded as floats and packed), corpora and sweep
# CSVs (Sources/fuzz-readers). Each target starts from the committed fixtures
# (Tests/Fixtures/fuzz/TARGET) and real files made here, runs FUZZ_SECONDS
# (600 by default), and stops at the first crash, which libFuzzer saves
# under .build-fuzz/crashes/ for a new fixture.
#
#   scripts/fuzz.sh [TARGET...]        (make fuzz [FUZZ_SECONDS=N])
set -euo pipefail
seconds=${FUZZ_SECONDS:-600}
targets=${*:-safetensors corpus sweep}
swift build -c release --product fuzz-readers --scratch-path .build-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -Xclang-linker -Xswiftc -fuse-ld=lld
swift build -c release --product mos
seeds=$(mktemp -d); trap 'rm -rf "$seeds"' EXIT
mkdir -p .build-fuzz/crashes
for t in safetensors corpus sweep; do mkdir -p "$seeds/$t"; cp Tests/Fixtures/fuzz/$t/* "$seeds/$t/"; done
# Real inputs beside the fixtures: a teacher, two students, a sweep's CSV.
mos=.build/release/mos
"$mos" train --profile smoke --steps 2 --threads 1 --out "$seeds/safetensors/teacher.safetensors" 2>/dev/null
"$mos" binarize --teacher "$seeds/safetensors/teacher.safetensors" --method btc --bits-per-weight 0.6 --transform true \
  --threads 1 --out "$seeds/safetensors/btc.safetensors" 2>/dev/null
"$mos" binarize --teacher "$seeds/safetensors/teacher.safetensors" --method mos --experts 2 --steps 2 \
  --threads 1 --out "$seeds/safetensors/mos.safetensors" 2>/dev/null
"$mos" sweep --teacher "$seeds/safetensors/teacher.safetensors" --profile smoke --method rtn --bits 2,3 \
  --out "$seeds/sweep/rtn.csv" 2>/dev/null
for t in $targets; do
  echo "fuzz: $t for ${seconds}s"
  # Foundation's file reading leaks a page per call (Swift 6.3): leaks are not what is looked for here.
  ASAN_OPTIONS=detect_leaks=0 FUZZ_TARGET=$t .build-fuzz/release/fuzz-readers "$seeds/$t" \
    -max_total_time="$seconds" -max_len=200000 -rss_limit_mb=4096 -detect_leaks=0 -print_final_stats=1 \
    -artifact_prefix=.build-fuzz/crashes/$t- 2>&1 |
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|==[0-9]+==ERROR|SUMMARY|Done)' || true
done
crashes=$(find .build-fuzz/crashes -type f | wc -l)
echo "fuzz: $crashes crash(es) saved under .build-fuzz/crashes"
[ "$crashes" = 0 ]
