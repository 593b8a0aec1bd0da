#!/usr/bin/env bash
# Another build's `detect` against this build's, each --pipeline given, alternated ROUNDS
# times: medians of wall and CPU (user + sys of the process), and every round the scans,
# summary totals and files.ndjson compared with the other build's (a line says which differ).
#   bash bench/probes/pipeline-ab.sh BASE_DIR INPUT WORKERS ROUNDS [PIPELINE...]   (default: fused sharded)
# BASE_DIR holds the other build's dist/ (and a node_modules beside it), e.g. a copy of dist/
# taken before a change. The tiny-input start-up: INPUT a file of a few kB.
set -euo pipefail
base=$1; in=$2; w=$3; n=$4; shift 4
variants=("base" "${@:-fused sharded}")
[ $# -eq 0 ] && variants=(base fused sharded)
out=$(mktemp -d)
declare -A W U
for _ in $(seq "$n"); do
  for v in "${variants[@]}"; do
    rm -rf "$out/run"
    if [ "$v" = base ]; then cmd=(node "$base/dist/src/cli/main.js" detect "$in" --out "$out/run" --workers "$w" --quiet --no-enrich)
    else cmd=(node dist/src/cli/main.js detect "$in" --out "$out/run" --workers "$w" --quiet --no-enrich --pipeline "$v"); fi
    /usr/bin/time -f "%e %U %S" -o "$out/time" "${cmd[@]}" >/dev/null 2>&1 || true
    read -r e u s < <(tail -n 1 "$out/time")
    W[$v]+="$e "; U[$v]+="$(echo "$u + $s" | bc) "
    node -e "const s=require('$out/run/summary.json');console.log(JSON.stringify(s.totals))" > "$out/$v.totals"
    if [ "$v" = base ]; then cp "$out/run/scans.ndjson" "$out/base.scans"; cp "$out/run/files.ndjson" "$out/base.files"
    else
      cmp -s "$out/run/scans.ndjson" "$out/base.scans" || echo "scans differ: $v"
      cmp -s "$out/$v.totals" "$out/base.totals" || echo "totals differ: $v"
      cmp -s "$out/run/files.ndjson" "$out/base.files" || echo "files.ndjson differs: $v"
    fi
  done
done
med() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
for v in "${variants[@]}"; do echo "$(basename "$in") W=$w $v: wall $(echo "${W[$v]}" | med) s, CPU $(echo "${U[$v]}" | med) s  (CPU: ${U[$v]})"; done
rm -rf "$out"
