#!/bin/bash
# CPU by thread of `detect` on a folder, another build's and this one's alternated (pairs of
# thread-cpu-ns.py runs at --workers 1): main, V8's four helpers summed, parse, shard, and the
# total, one line a run. Run from the repository root after `npm run build`.
#   bash bench/probes/gcp-threads-ab.sh ROUNDS BASE_DIST [INPUT]   (INPUT: /tmp/json-data/json-10-1/gcp)
rounds=$1; base=$2; input=${3:-/tmp/json-data/json-10-1/gcp}
out=$(mktemp -d)
for i in $(seq 1 "$rounds"); do
  for b in "$base" dist; do
    python3 bench/probes/thread-cpu-ns.py node "$b/src/cli/main.js" detect "$input" --out "$out" --workers 1 --no-enrich --quiet 2>&1 |
      python3 -c "
import sys, re
v = [float(m) for m in re.findall(r'cpu ([\d.]+) ms', sys.stdin.read())]
print('%-5s main %.0f helpers %.0f parse %.0f shard %.0f total %.0f' % ('base' if sys.argv[1] != 'dist' else 'new', v[0], sum(v[1:-2]), v[-2], v[-1], sum(v)))" "$b"
  done
done
rm -rf "$out"
