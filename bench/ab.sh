#!/usr/bin/env bash
# Two builds side by side: `detect FILE` at 2 workers with each build's dist/, alternated,
# ROUNDS times (the machine varies ±15 %, so compare runs made in the same minutes).
#   bash bench/ab.sh FILE ROUNDS DIST_A DIST_B [more detect options]
# e.g. `cp -r dist /tmp/before`, change and build, then `bash bench/ab.sh a10m.log 3 /tmp/before dist`.
set -euo pipefail
f=$1; n=$2; a=$3; b=$4; shift 4
out=$(mktemp -d)
for _ in $(seq "$n"); do
  for d in "$a" "$b"; do
    rm -rf "$out/run"
    /usr/bin/time -f "%e %U %S %M" -o "$out/time" node "$d/src/cli/main.js" detect "$f" --out "$out/run" --workers 2 --quiet --no-enrich "$@" >/dev/null 2>&1 || true
    read -r e u s m < <(tail -n 1 "$out/time") # a partial run (exit 2) puts "Command exited ..." first
    recs=$(node -e "console.log(require('$out/run/summary.json').totals.records)")
    echo "$d wall=$e user=$u sys=$s rssMB=$((m / 1024)) rec/s=$(node -e "console.log(($recs / $e / 1e6).toFixed(2) + 'M')")"
  done
done
rm -rf "$out"
