#!/bin/bash
# Compare every output file of `detect` between a build (default: the current dir) and a
# baseline build (BASE: a folder with the baseline checkout built, e.g. `git archive COMMIT | tar -x -C DIR`, node_modules linked, `npm run build`) on each INPUT.
# usage: BASE=DIR [NEW=DIR] [EXTRA="--workers 2 --near-misses"] bench/probes/outputs-equal.sh INPUT...
# Prints "same"/"DIFF" per file; summary.json is compared without its memory and performance blocks.
NEW=${NEW:-$(pwd)}
BASE=${BASE:?set BASE to the baseline build}
EXTRA=${EXTRA:-"--workers 2 --near-misses"}
tmp=$(mktemp -d)
strip() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); [d.pop(k,None) for k in ("memory","performance","timing","started","finished","elapsed_ms")]; print(json.dumps(d,sort_keys=True,indent=1))' "$1"; }
for inp in "$@"; do
  echo "== $inp ($EXTRA)"
  rm -rf "$tmp/a" "$tmp/b"
  (cd "$BASE" && node dist/src/cli/main.js detect "$inp" --out "$tmp/a" --quiet --no-enrich $EXTRA) 2>"$tmp/a.err"; ra=$?
  (cd "$NEW" && node dist/src/cli/main.js detect "$inp" --out "$tmp/b" --quiet --no-enrich $EXTRA) 2>"$tmp/b.err"; rb=$?
  [ $ra = $rb ] || echo "  exit codes differ: base $ra new $rb"
  (cd "$tmp/a" && find . -type f | sort) > "$tmp/la"; (cd "$tmp/b" && find . -type f | sort) > "$tmp/lb"
  diff -q "$tmp/la" "$tmp/lb" >/dev/null || { echo "  file lists differ:"; diff "$tmp/la" "$tmp/lb" | head; }
  while read -r f; do
    [ -f "$tmp/b/$f" ] || continue
    if [ "$(basename "$f")" = summary.json ]; then
      if diff <(strip "$tmp/a/$f") <(strip "$tmp/b/$f") >/dev/null; then echo "  same $f"; else echo "  DIFF $f"; diff <(strip "$tmp/a/$f") <(strip "$tmp/b/$f") | head -20; fi
    elif cmp -s "$tmp/a/$f" "$tmp/b/$f"; then echo "  same $f"; else echo "  DIFF $f"; fi
  done < "$tmp/la"
done
rm -rf "$tmp"
