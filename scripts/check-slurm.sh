#!/usr/bin/env bash
# The smoke profile's expert sweep through a real one-node Slurm (scripts/slurm-local.sh),
# against the same sweep run here:
#   1. mos sweep --slurm (an array job, then a collect job): its CSV equals the local one,
#      apart from the seconds column;
#   2. the same with one running task cancelled (scancel JOB_K): --collect names the missing
#      point, and running the command again completes the sweep, nothing lost or duplicated;
#   3. the expert chapter with --slurm (what make report SCHEDULER=slurm runs): its CSV too.
#
#   scripts/check-slurm.sh     (make test-slurm; needs root)
set -euo pipefail
bin=$PWD/.build/release
work=$(mktemp -d /tmp/mos-slurm-check.XXXXXX)
trap 'bash scripts/slurm-local.sh stop; rm -rf "$work"' EXIT
bash scripts/slurm-local.sh start
export SLURM_CONF=${SLURM_LOCAL:-/tmp/mos-slurm}/slurm.conf
say() { echo "slurm-check: $*"; }

"$bin/mos" train --profile smoke --threads 2 --out "$work/teacher.safetensors" 2>/dev/null
sweep() {
  "$bin/mos" sweep --teacher "$work/teacher.safetensors" --method mos --experts 1,2,4,8 --seeds 3 \
    --profile smoke "$@"
}
long() {     # points long enough (a few seconds) to cancel one while it runs
  "$bin/mos" sweep --teacher "$work/teacher.safetensors" --method mos --experts 1,4 --seeds 2 \
    --profile smoke --steps 1000 "$@"
}
settle() {   # until this cluster has no job left
  for _ in $(seq 600); do [ -z "$(squeue -h)" ] && return 0; sleep 1; done
  say "jobs still queued after 10 minutes"; squeue; exit 1
}
same() {     # two sweep CSVs equal apart from the seconds column
  python3 - "$1" "$2" <<'PY'
import csv, sys
a, b = ([{k: v for k, v in r.items() if k != "seconds"} for r in csv.DictReader(open(f))] for f in sys.argv[1:])
if a != b:
    print(f"slurm-check: {sys.argv[2]} differs from {sys.argv[1]}")
    sys.exit(1)
print(f"slurm-check: {len(a)} rows, identical apart from the seconds column")
PY
}

start=$(date +%s)
sweep --out "$work/local/experts.csv" --jobs "$(nproc)" 2>/dev/null
say "local sweep: $(( $(date +%s) - start )) s"

# 1. Through Slurm.
start=$(date +%s)
sweep --out "$work/slurm/experts.csv" --slurm 2>&1 | tee "$work/submit.log" | sed -n 1p
settle
say "through Slurm: $(grep -o 'submitted as array job [0-9]*' "$work/submit.log") with" \
    "$(ls "$work"/slurm/experts.points/slurm-*_*.out | wc -l) array tasks, $(( $(date +%s) - start )) s"
same "$work/local/experts.csv" "$work/slurm/experts.csv"

# 2. One task cancelled while it runs, then the same command again.
long --out "$work/long/experts.csv" --jobs "$(nproc)" 2>/dev/null
long --out "$work/killed/experts.csv" --slurm --throttle 1 >"$work/killed.log" 2>&1
job=$(grep -o 'array job [0-9]*' "$work/killed.log" | grep -o '[0-9]*$')
running=no
for _ in $(seq 3000); do
  [ "$(squeue -h -j "${job}_3" -o %T 2>/dev/null)" = RUNNING ] && { running=yes; break; }
  sleep 0.1
done
[ $running = yes ] || { say "task 3 was never seen running"; exit 1; }
scancel "${job}_3"
say "cancelled task 3 of array job $job while it ran"
settle
if long --out "$work/killed/experts.csv" --collect 2>"$work/collect.log"; then
  say "--collect did not notice the cancelled point"; exit 1
fi
say "--collect: $(tail -1 "$work/collect.log")"
long --out "$work/killed/experts.csv" --slurm 2>&1 | sed -n 1p
settle
same "$work/long/experts.csv" "$work/killed/experts.csv"

# 3. A chapter's sweep, as make report SCHEDULER=slurm runs it.
"$bin/experts" --teacher "$work/teacher.safetensors" --profile smoke --seeds 3 --out "$work/chapter" \
  --students "$work/chapter/students" --slurm 2>"$work/chapter.log" >/dev/null
same "$work/local/experts.csv" "$work/chapter/students/experts.csv"
say "passed"
