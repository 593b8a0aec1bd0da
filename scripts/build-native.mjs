// Compiles native/inflate.c and the vendored libdeflate (native/libdeflate/, decompression
// only) into dist/native/inflate.node, after tsc (npm run build). The parse threads inflate
// whole gzip objects with it (src/input/read.ts gunzipWhole), ~1.5 times as fast as Node's
// zlib (bench/RESULTS.md, "gzip: libdeflate").
//
// A Node-API module: one build loads in Node 20, 22 and 24. It needs a C compiler (`cc`,
// or $CC) and Node's headers (node_api.h: beside the running node, or npm's nodedir), which
// a Node.js machine with node-gyp's prerequisites has; nothing is downloaded. Without them
// the build goes on without the module and gzip inflates with Node's zlib, as before
// (FLOWSIEVE_REQUIRE_NATIVE=1 makes that an error instead). Rebuilt only when a source changed.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'native', 'inflate.node');
const lib = join(root, 'native', 'libdeflate', 'lib');
const sources = [
  join(root, 'native', 'inflate.c'),
  join(root, 'native', 'files.c'),
  ...['deflate_decompress.c', 'gzip_decompress.c', 'crc32.c', 'utils.c', 'x86/cpu_features.c', 'arm/cpu_features.c'].map((f) => join(lib, f)),
];

/** Every file the module is made of, headers and this script included: any newer than the module rebuilds it. */
function inputs() {
  const files = [fileURLToPath(import.meta.url), ...['inflate.c', 'files.c', 'files.h'].map((f) => join(root, 'native', f))];
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(dir, e.name));
      else files.push(join(dir, e.name));
    }
  };
  walk(join(root, 'native', 'libdeflate'));
  return files;
}

function nodeHeaders() {
  const candidates = [
    process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
    resolve(dirname(process.execPath), '..', 'include', 'node'),
    '/usr/include/node',
    '/usr/local/include/node',
  ];
  return candidates.find((d) => d && existsSync(join(d, 'node_api.h')));
}

function fail(why) {
  rmSync(out, { force: true }); // an old module must not outlive its sources
  const message = `build-native: ${why}: no dist/native/inflate.node, gzip inflates with Node's zlib`;
  if (process.env.FLOWSIEVE_REQUIRE_NATIVE === '1') {
    process.stderr.write(`${message} (FLOWSIEVE_REQUIRE_NATIVE=1: failing)\n`);
    process.exit(1);
  }
  process.stderr.write(`${message}\n`);
  process.exit(0);
}

if (existsSync(out)) {
  const built = statSync(out).mtimeMs;
  if (inputs().every((f) => statSync(f).mtimeMs <= built)) process.exit(0);
}
const headers = nodeHeaders();
if (!headers) fail("Node's headers (node_api.h) not found");
mkdirSync(dirname(out), { recursive: true });
const partial = `${out}.${process.pid}.partial`;
const cc = process.env.CC || 'cc';
// -O2: as fast as -O3 on the bucket's objects; no -march: libdeflate picks its x86 and ARM
// routines (BMI2, PCLMUL, ...) at run time, so the module runs on any machine of its kind
const args = ['-O2', '-fPIC', '-shared', '-fvisibility=hidden', '-DNAPI_VERSION=8', `-I${headers}`, `-I${join(root, 'native', 'libdeflate')}`, '-o', partial, ...sources];
const run = spawnSync(cc, args, { encoding: 'utf8' });
if (run.error || run.status !== 0) {
  rmSync(partial, { force: true });
  fail(`${cc} failed${run.error ? ` (${run.error.message})` : `:\n${run.stderr}`}`);
}
renameSync(partial, out);
