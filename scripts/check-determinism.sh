#!/usr/bin/env bash
# Two runs with the same seed, profile and thread count give the same numbers.
# Runs, twice each, in two fresh folders: the smoke teacher's training, a sweep
# of distilled and post-training students, and the experts chapter; then
# compares every CSV byte for byte (the sweeps' `seconds` column, wall time,
# is the one thing left out) and the teachers' tensors.
#
#   scripts/check-determinism.sh [THREADS]     (make check-determinism)
set -euo pipefail
threads=${1:-2}
bin=.build/release
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
for run in a b; do
  out=$dir/$run; mkdir -p "$out"
  echo "determinism: run $run in $out"
  "$bin/mos" train --profile smoke --threads "$threads" --out "$out/teacher.safetensors" 2>/dev/null
  "$bin/mos" sweep --teacher "$out/teacher.safetensors" --profile smoke --method mos --experts 1,4 --seeds 3 \
    --steps 60 --jobs "$threads" --out "$out/sweep.csv" 2>/dev/null
  "$bin/mos" sweep --teacher "$out/teacher.safetensors" --profile smoke --method gptq --seeds 2 \
    --jobs "$threads" --out "$out/sweep.csv" 2>/dev/null
  "$bin/experts" --teacher "$out/teacher.safetensors" --profile smoke --seeds 2 --threads "$threads" \
    --out "$out/experts" >/dev/null 2>&1
done
python3 - "$dir" <<'PY'
import csv, io, pathlib, struct, sys
a, b = pathlib.Path(sys.argv[1], "a"), pathlib.Path(sys.argv[1], "b")
def tensors(p):
    data = p.read_bytes()
    return data[8 + struct.unpack("<Q", data[:8])[0]:]
def content(p):
    """The file's bytes; a sweep's rows without their `seconds` cells."""
    text = p.read_text()
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or "seconds" not in rows[0]:
        return text
    drop = rows[0].index("seconds")
    return [r[:drop] + r[drop + 1:] for r in rows]
problems, same = [], 0
if tensors(a / "teacher.safetensors") != tensors(b / "teacher.safetensors"):
    problems.append("the teachers' tensors differ")
else:
    same += 1
files = sorted(p.relative_to(a) for p in a.rglob("*.csv"))
for f in files:
    if not (b / f).exists():
        problems.append(f"{f}: only in the first run")
    elif content(a / f) != content(b / f):
        problems.append(f"{f}: differs")
    else:
        same += 1
for p in problems:
    print("determinism: " + p)
print(f"determinism: {same} of {len(files) + 1} outputs identical (teacher tensors, {len(files)} CSV files)")
sys.exit(1 if problems else 0)
PY
