#!/bin/bash
# A copy of a build's dist/ whose AWS module (dist/wasm/aws-lines.wasm) alone is recompiled from
# assembly/aws-lines.ts edited by sed (scripts/wasm.mjs's flags), for bench/probes/aws-wasm-pass.mjs:
# a stage run twice costs the stage once more (e.g. markSeparators), a knock-out sizes a piece.
#   bash bench/probes/aws-stage-variant.sh DIST OUT_DIR SED_ARGS...
#   e.g. bash bench/probes/aws-stage-variant.sh dist /tmp/m2 -e 's/^  markSeparators(len);/  markSeparators(len); markSeparators(len);/'
# FILE=shared/route.ts (or shared/token-ids.ts, ...): the file under assembly/ the edit applies to
# (default aws-lines.ts); the module compiled is aws-lines.ts with it. The sources are this
# checkout's assembly/: DIST should be this checkout's build (a table layout the JavaScript of
# another build's dist/ does not share reads wrong ids, though it times the same).
set -e
dist=$1 out=$2
shift 2
[ -n "$dist" ] && [ -n "$out" ] && [ $# -gt 0 ] || { echo "usage: aws-stage-variant.sh DIST OUT_DIR SED_ARGS..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$out" "$out.assembly"
cp -r "$dist" "$out"
find "$out" -name '*.v8cache' -delete
file=${FILE:-aws-lines.ts}
cp -r "$root/assembly" "$out.assembly"
sed -i "$@" "$out.assembly/$file"
if cmp -s "$root/assembly/$file" "$out.assembly/$file"; then echo "aws-stage-variant: the edit changed nothing" >&2; exit 1; fi
cd "$root" && node -e "
import('assemblyscript/asc').then(async ({ default: asc }) => {
  const { error } = await asc.main([process.argv[1] + '/aws-lines.ts', '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', '--initialMemory', '64', '--outFile', process.argv[2] + '/wasm/aws-lines.wasm'], { stdout: process.stdout, stderr: process.stderr });
  if (error) { console.error(error.message); process.exit(1); }
});" "$out.assembly" "$out"
