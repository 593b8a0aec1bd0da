#!/usr/bin/env bash
# V8's optimising-compiler jobs in one `flowsieve detect` run (all threads): the time of each
# job's concurrent phase summed by function, the total, and the deoptimisations by reason.
#   bash bench/compile-time.sh INPUT [WORKERS]
set -euo pipefail
input=$1
workers=${2:-2}
out=$(mktemp -d)
node --trace-opt --trace-deopt dist/src/cli/main.js detect "$input" --out "$out/run" --workers "$workers" --quiet --no-enrich > "$out/trace.log" 2>&1
grep "completed compiling" "$out/trace.log" |
  sed 's/.*<JSFunction \([^ >]*\).*took \([0-9.]*\), \([0-9.]*\), \([0-9.]*\) ms.*/\1 \3/' |
  awk '{ s[$1] += $2; n[$1]++; t += $2 } END { for (k in s) printf "%8.1f ms %3d compiles  %s\n", s[k], n[k], k; printf "%8.1f ms in all\n", t }' |
  sort -rn | head -15
echo "deoptimisations: $(grep -c 'bailout (kind: deopt' "$out/trace.log" || true)"
grep "bailout (kind: deopt" "$out/trace.log" | sed 's/.*reason: \([^)]*\)).*JSFunction \([^ ]*\) .*/\2: \1/' | sort | uniq -c | sort -rn | head -10 || true
rm -rf "$out"
