#!/usr/bin/env bash
# Interrupts `make report` (smoke profile) with SIGINT, SIGTERM and SIGKILL at
# several moments, each time to the whole process group (make and the chapter
# it runs), then runs it to the end. It must finish; a chapter finished before
# an interruption is not run again; and a last run finds nothing to redo, so
# no interruption left a file that passes for finished when it is not.
#
#   scripts/check-interrupt.sh [DELAYS]     (make check-interrupt)
set -euo pipefail
delays=${1:-"INT:1 TERM:2 KILL:3 INT:5 KILL:7 TERM:12"}
dir=$(mktemp -d); trap 'rm -rf "$dir"' EXIT
figures=$dir/figures
run() { make --no-print-directory report PROFILE=smoke FIGURES="$figures"; }
done_files() { { find "$figures" -name .done -printf '%p %T@\n' 2>/dev/null || true; } | sort; }
make --no-print-directory build >/dev/null
# Job control: each run in its own process group, and SIGINT not ignored as it
# is for a script's background jobs without it.
set -m
for step in $delays; do
  signal=${step%%:*}; seconds=${step##*:}
  make --no-print-directory report PROFILE=smoke FIGURES="$figures" >"$dir/log" 2>&1 &
  group=$!
  sleep "$seconds"
  kill -s "$signal" -- "-$group" 2>/dev/null || true
  { wait "$group"; } 2>/dev/null || true
  echo "interrupt: SIG$signal after ${seconds}s: $(done_files | wc -l) chapter(s) finished so far"
done
before=$(done_files)
run >"$dir/log" 2>&1 || { cat "$dir/log"; echo "interrupt: the run after the interruptions failed"; exit 1; }
after=$(done_files)
# A chapter finished before the last run keeps its time stamp: it was not run again.
while read -r path stamp; do
  [ -z "$path" ] && continue
  grep -qF "$path $stamp" <<<"$after" || { echo "interrupt: $path was redone though it had finished"; exit 1; }
done <<<"$before"
echo "interrupt: the run after them finished ($(wc -l <<<"$after") chapters, $(grep -c . <<<"$before" || true) kept from before)"
[ -s "$figures/report.html" ] || { echo "interrupt: no report"; exit 1; }
page=$(stat -c %y "$figures/report.html")
run >"$dir/log" 2>&1
[ "$(done_files)" = "$after" ] || { echo "interrupt: a further run redid a chapter"; exit 1; }
[ "$(stat -c %y "$figures/report.html")" = "$page" ] || { cat "$dir/log"; echo "interrupt: a further run wove the page again"; exit 1; }
echo "interrupt: a further run had nothing to redo"
