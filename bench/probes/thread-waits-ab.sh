#!/usr/bin/env bash
# Two builds alternated under thread-waits.py: per run, each build's main thread, V8's helpers and
# libuv (the threads between), the parse and the shard thread (the last two: --workers 1) as ms
# run, and the last two's run-queue wait (runnable, no core), and the sum (bench/RESULTS.md,
# session 15 gcp).
#   bash bench/probes/thread-waits-ab.sh ROUNDS BASE_DIST NEW_DIST INPUT [detect options...]
set -euo pipefail
rounds=$1 base=$2 new=$3 input=$4
shift 4
here=$(dirname "$0")
out=$(mktemp -d)
for _ in $(seq "$rounds"); do
  for b in base new; do
    d=$base
    [ "$b" = new ] && d=$new
    python3 "$here/thread-waits.py" node "$d/src/cli/main.js" detect "$input" --out "$out/$b" --quiet --no-enrich "$@" |
      python3 -c "
import sys
rows = [l.split() for l in sys.stdin if l.strip() and l.split()[0].isdigit()]
run = [int(r[4]) for r in rows]; rq = [int(r[5]) for r in rows]
print('$b', 'main', run[0], 'helpers+uv', sum(run[1:-2]), 'parse', run[-2], 'rq', rq[-2], 'shard', run[-1], 'rq', rq[-1], 'all', sum(run))"
  done
done
rm -rf "$out"
