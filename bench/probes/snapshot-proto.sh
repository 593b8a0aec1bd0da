#!/bin/bash
# The command line in a user-land startup snapshot, a prototype for A/Bs (bench/RESULTS.md,
# session 20 bootsnap): copies a built dist/ to WORK, patches its copy where a snapshot needs it,
# writes its code caches by three runs of `detect INPUT`, and builds WORK/flowsieve.blob from
# bench/probes/snapshot-entry.cjs with the chunks those runs' main thread loaded.
#   bash bench/probes/snapshot-proto.sh DIST WORK INPUT
#   then: node --snapshot-blob WORK/flowsieve.blob WORK/dist/src/cli/main.cjs detect ...
#   against: node WORK/dist/src/cli/main.cjs detect ...   (the same copy, its code caches)
# The patches: (1) the main bundle runs main() at its load unless globalThis.__flowsieveSnapshot
# (the entry calls it when a process starts from the blob); (2) run.ts's `Atomics.waitAsync`
# read at its call, not at the module's load: a snapshot's builder has no Atomics,
# SharedArrayBuffer or WebAssembly (they are there again when a process starts from the blob).
set -euo pipefail
DIST=$(realpath "$1"); WORK=$(realpath -m "$2"); INPUT=$3
HERE=$(dirname "$(realpath "$0")")
rm -rf "$WORK"; mkdir -p "$WORK"
cp -r "$DIST" "$WORK/dist"; cp "$DIST/../package.json" "$WORK/"; mkdir -p "$WORK/src"; cp -r "$DIST/../src/data" "$WORK/src/data"; ln -s "$(realpath "$DIST/../node_modules")" "$WORK/node_modules"
find "$WORK/dist" -name '*.v8cache' -delete
python3 - "$WORK/dist" <<'PY'
import glob, sys
d = sys.argv[1]
run = glob.glob(f'{d}/src/bundle/run-*.cjs')[0]
s = open(run).read()
n = s.replace('const waitAsync = Atomics.waitAsync;', 'const waitAsync = (a, i, v) => Atomics.waitAsync(a, i, v);')
assert n != s, 'run chunk: waitAsync not found'
open(run, 'w').write(n)
m = f'{d}/src/cli/main.bundle.cjs'
s = open(m).read()
n = s.replace('main(process.argv.slice(2)).then((code) => {', 'if (!globalThis.__flowsieveSnapshot) main(process.argv.slice(2)).then((code) => {')
assert n != s, 'main bundle: the call of main not found'
open(m, 'w').write(n)
PY
OUT=$(mktemp -d)
for i in 1 2 3; do node "$WORK/dist/src/cli/main.cjs" detect "$INPUT" --out "$OUT" --quiet --no-enrich; done
rm -rf "$OUT"
CHUNKS=$(cd "$WORK/dist/src/bundle" && ls *.cjs.v8cache | sed 's/\.v8cache$//' | paste -sd,)
SNAP_DIST="$WORK/dist" SNAP_CHUNKS="$CHUNKS" node --snapshot-blob "$WORK/flowsieve.blob" --build-snapshot "$HERE/snapshot-entry.cjs" 2>&1 | grep -v 'not yet fully verified\|It may still work\|To request support\|trace-warnings' || true
ls -la "$WORK/flowsieve.blob"
