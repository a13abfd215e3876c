#!/usr/bin/env bash
# Two `make report` runs (smoke profile) on one folder at once: both must
# finish, one waiting for the other on the report's lock (naming it), and
# every sweep file must hold each point once. (Two sweeps on one CSV take
# turns on the sweep's own lock: SweepTests.)
#
#   scripts/check-concurrent.sh     (make check-concurrent)
set -euo pipefail
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
make --no-print-directory build >/dev/null
for run in a b; do
  make --no-print-directory report PROFILE=smoke FIGURES="$dir/figures" >"$dir/$run.log" 2>&1 &
done
status=0
for job in $(jobs -p); do wait "$job" || status=1; done
[ $status = 0 ] || { tail -n 20 "$dir/a.log" "$dir/b.log"; echo "concurrent: a run failed"; exit 1; }
waits=$(cat "$dir/a.log" "$dir/b.log" | grep -c 'is held by make report (pid .*; waiting for it to finish' || true)
[ "$waits" -ge 1 ] || { echo "concurrent: neither run waited for the other, naming it"; exit 1; }
echo "concurrent: both runs finished; $(grep -h -m1 'waiting for it to finish' "$dir/a.log" "$dir/b.log")"
python3 - "$dir/figures" <<'PY'
import csv, pathlib, sys
measured = {"seconds", "perplexity", "bits_per_byte", "floor_bits_per_byte", "bits_per_weight", "model_bytes", "threads", "kernels"}
bad = 0
for f in sorted(pathlib.Path(sys.argv[1]).rglob("students/*.csv")):
    rows = list(csv.DictReader(f.open()))
    keys = [tuple(v for k, v in r.items() if k not in measured) for r in rows]
    if len(set(keys)) != len(keys):
        print(f"concurrent: {f.name} holds a point twice")
        bad += 1
    else:
        print(f"concurrent: {f.name}: {len(rows)} points, each once")
sys.exit(1 if bad else 0)
PY
