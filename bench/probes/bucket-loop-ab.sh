#!/bin/bash
# The shard threads' CPU in the inbound finalise's bucket loop (the module's bucket() calls and
# the verdicts made of what they write: tail-phases.mjs's "bucket loop" mark, the thread's own
# counter), two builds alternated, at --workers 2 (no tail split: each shard finalises its whole
# table), two runs a round after tail-phases' priming run; medians and their ratio.
#   bash bench/probes/bucket-loop-ab.sh ROUNDS BASE_DIST INPUT   (run `npm run build` first; this build's dist is "new")
R=${1:?rounds}; BASE=${2:?base dist}; IN=${3:?input}
out=$(mktemp)
for i in $(seq 1 "$R"); do
  for b in base new; do
    d=$([ $b = base ] && echo "$BASE" || echo dist)
    TAIL_DIST=$d TAIL_RUNS=2 node bench/probes/tail-phases.mjs "$IN" --workers 2 --quiet 2>/dev/null | awk -v b=$b '/bucket loop/{print b, $3}' >> "$out"
  done
done
python3 - "$out" <<'PY'
import statistics, collections, sys
d = collections.defaultdict(list)
for line in open(sys.argv[1]):
    b, v = line.split(); d[b].append(float(v))
for b in ('base', 'new'):
    print(f"{b:5} {len(d[b]):3} marks  median {statistics.median(d[b]):7.1f} ms CPU  {sorted(d[b])}")
print(f"ratio {statistics.median(d['new']) / statistics.median(d['base']):.3f}")
PY
rm -f "$out"
