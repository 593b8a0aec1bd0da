#!/usr/bin/env bash
# `npm pack`, then `npm install -g` of the tarball into an empty prefix, then .ci/smoke.sh runs
# the installed `flowsieve` from an empty folder. deploy/Dockerfile installs the same tarball
# the same way and copies the installed folder into the image, so this also tests the image's
# contents (no container runtime needed). The install compiles better-sqlite3 for this Node
# (nothing is downloaded but npm packages); npm-shrinkwrap.json in the tarball pins the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/flowsieve-install-XXXXXX")
trap 'rm -rf "$work"' EXIT
npm pack --silent --pack-destination "$work" >/dev/null
tarball=$(ls "$work"/flowsieve-*.tgz)
echo "install-test: $(basename "$tarball"), $(tar tzf "$tarball" | wc -l) files"
npm install -g --prefix "$work/prefix" --no-audit --no-fund --allow-scripts=better-sqlite3,msgpackr-extract "$tarball" >"$work/install.log" 2>&1 ||
  { cat "$work/install.log"; exit 1; }
installed="$work/prefix/lib/node_modules/flowsieve"
# only the package's files and its production dependencies
for dev in vitest typescript fast-check tinybench simdjson; do
  [ ! -e "$installed/node_modules/$dev" ] || { echo "install-test: devDependency $dev was installed" >&2; exit 1; }
done
PATH="$work/prefix/bin:$PATH" .ci/smoke.sh flowsieve
