#!/bin/bash
# usage: BASE=DIR IN=INPUT [NEW=DIR] bench/probes/replay-equal.sh
# Replay (format 2) check: the input converted by the base build and by NEW, then detect on each
# file by its own build at 1, 2 and 3 workers with --near-misses; compares scans/near-misses/outbound/summary.
NEW=${NEW:-$(pwd)}; BASE=${BASE:?set BASE to the baseline build}; IN=${IN:?set IN to a bucket or file}
tmp=$(mktemp -d)
(cd "$BASE" && node dist/src/cli/main.js convert "$IN" --out "$tmp/a.fsr" --quiet) || echo "base convert failed"
(cd "$NEW" && node dist/src/cli/main.js convert "$IN" --out "$tmp/b.fsr" --quiet) || echo "new convert failed"
cmp -s "$tmp/a.fsr" "$tmp/b.fsr" && echo "  same converted file" || echo "  converted files differ (bytes) — checking detect outputs"
for w in 1 2 3; do
  rm -rf "$tmp/oa" "$tmp/ob"
  (cd "$BASE" && node dist/src/cli/main.js detect "$tmp/a.fsr" --out "$tmp/oa" --quiet --no-enrich --near-misses --workers $w)
  (cd "$NEW" && node dist/src/cli/main.js detect "$tmp/b.fsr" --out "$tmp/ob" --quiet --no-enrich --near-misses --workers $w)
  for f in scans.ndjson near_misses.ndjson outbound.ndjson stats/scanners.ndjson stats/ports.ndjson stats/endpoints.ndjson; do
    cmp -s "$tmp/oa/$f" "$tmp/ob/$f" && echo "  same W=$w $f" || echo "  DIFF W=$w $f"
  done
  diff <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("memory","performance")]; w=lambda o: [w(v) for v in (o.values() if isinstance(o,dict) else o if isinstance(o,list) else [])] + [o.pop("bytes_read",None) if isinstance(o,dict) else 0]; w(d); s=d.get("settings",{}); [s.pop(k) for k in list(s) if ".fsr" in json.dumps(s[k])]; print(json.dumps(d,sort_keys=True,indent=1))' "$tmp/oa/summary.json") <(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("memory","performance")]; w=lambda o: [w(v) for v in (o.values() if isinstance(o,dict) else o if isinstance(o,list) else [])] + [o.pop("bytes_read",None) if isinstance(o,dict) else 0]; w(d); s=d.get("settings",{}); [s.pop(k) for k in list(s) if ".fsr" in json.dumps(s[k])]; print(json.dumps(d,sort_keys=True,indent=1))' "$tmp/ob/summary.json") > "$tmp/sd" && echo "  same W=$w summary" || { echo "  DIFF W=$w summary"; head -20 "$tmp/sd"; }
done
rm -rf "$tmp"
