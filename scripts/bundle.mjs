// Bundles what tsc wrote for the command line and the two worker threads, after tsc (npm
// run build): the command line becomes a CommonJS bundle, dist/src/cli/main.bundle.cjs with
// its chunks in dist/src/bundle/, loaded by a stub written over tsc's main.js, and each
// worker's code one CommonJS file, dist/workers/<name>.bundle.cjs, which the worker's entry
// (scripts/worker-shims.mjs) loads; all through scripts/code-cache.cjs (V8's code cache).
//
// Why: every thread loads its own copy of its module graph, and Node's ESM loader pays for
// each module it resolves, reads and links (a hundred for detect on the main thread, thirty
// in a parse thread): loading `detect`'s graph as a bundle costs about half the CPU, and a
// worker that requires one CommonJS file starts no ESM loader at all (bench/RESULTS.md,
// start-up). Packages (node_modules) stay outside, loaded as before.
//
// Every other module stays where tsc wrote it (tests and tools import them from there);
// the commands other than detect, the object-store clients and the other lazily loaded
// modules become chunks of the bundle, so that no module is ever loaded twice in one
// thread. The chunks sit in dist/src/bundle/, a folder as deep as every dist/src/<folder>/,
// so that paths named from import.meta.url ('../../workers/', '../../data/') still resolve.
//
// Without rolldown (a platform it has no binary for), the unbundled files are kept: the
// build is slower to start, not broken. tsc rewrites main.js on every build, and a worker's
// entry takes its bundle only while tsc's <name>.js is the stub written here, so that a
// bundle never runs older code than tsc last wrote.
import { chmodSync, existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { BUNDLED_MARK } from './bundle-mark.mjs';
import { asciiSource } from './ascii-source.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const ENTRIES = ['src/cli/main'];
const WORKERS = ['parse', 'shard'];
// packages and node: built-ins are loaded from node_modules as before
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id);
// the bundles keep the packages' licence comments only: the doc comments (the sources' "why",
// in src/) are a third of a bundle's bytes, read and decoded at each start of each thread that
// loads it (parse bundle from its code cache: 5.4 -> 5.1 ms of CPU; bench/RESULTS.md, session 17, boot)
const BUNDLE_COMMENTS = { legal: true, annotation: false, jsdoc: false };

writeCommonJsBin();

let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch (err) {
  process.stderr.write(`bundle: rolldown not available (${err.message.split('\n')[0]}): dist/ left unbundled\n`);
  process.exit(0);
}

const main = join(dist, 'src/cli/main.js');
if (readFileSync(main, 'utf8').includes(BUNDLED_MARK)) {
  process.stderr.write('bundle: dist/src/cli/main.js is bundled already (no tsc run since)\n');
} else {
  await bundleMain();
}

/**
 * The command line's bundle: CommonJS, dist/src/cli/main.bundle.cjs and its chunks in
 * dist/src/bundle/, and over tsc's main.js (the package's bin) a stub that loads it through
 * the loader with V8's code cache (scripts/code-cache.cjs): Node 20 caches no ES module's
 * compiled code, and detect's modules cost ~25 ms of CPU to compile at every start.
 */
async function bundleMain() {
  rmSync(join(dist, 'src/bundle'), { recursive: true, force: true });
  const build = await rolldown({
    input: Object.fromEntries(ENTRIES.map((e) => [e, join(dist, `${e}.js`)])),
    external,
    platform: 'node',
    logLevel: 'warn',
  });
  const out = await build.write({
    dir: dist,
    format: 'cjs',
    entryFileNames: '[name].bundle.cjs',
    chunkFileNames: 'src/bundle/[name]-[hash].cjs',
    sourcemap: false,
    dynamicImportInCjs: false, // code compiled from V8's code cache cannot import() on Node 20
    comments: BUNDLE_COMMENTS,
  });
  await build.close();
  for (const chunk of out.output) stampBuild(join(dist, chunk.fileName));
  for (const e of ENTRIES) {
    if (!existsSync(join(dist, `${e}.bundle.cjs`))) throw new Error(`bundle: ${e}.bundle.cjs was not written`);
    writeFileSync(
      join(dist, `${e}.js`),
      [
        '#!/usr/bin/env node',
        BUNDLED_MARK.trimEnd(),
        '// the command line is the bundle beside this stub, compiled with V8\'s code cache of an',
        '// earlier run where one fits, and the caches written at exit (scripts/code-cache.cjs)',
        "import { builtinModules, createRequire } from 'node:module';",
        'const require = createRequire(import.meta.url);',
        "const loader = require('../../workers/code-cache.cjs');",
        "process.on('exit', () => loader.writeCodeCaches());",
        `loader.requireCached(require.resolve('./${e.split('/').pop()}.bundle.cjs'));`,
        '',
      ].join('\n'),
    );
  }
}

/**
 * The package's bin, dist/src/cli/main.cjs: the command line entered as CommonJS, where tsc's
 * main.js is an ES module (the package's "type"), for which Node starts its ES module loader
 * before any of our code runs: ~3 ms of the main thread's CPU at every run (bench/RESULTS.md,
 * "a CommonJS bin"). It loads the bundle as main.js's stub does while that stub stands in
 * tsc's place, and main.js itself otherwise (no bundle, or a tsc run since).
 */
function writeCommonJsBin() {
  const bin = join(dist, 'src/cli/main.cjs');
  writeFileSync(
    bin,
    [
      '#!/usr/bin/env node',
      "'use strict';",
      '// the package\'s bin, written by scripts/bundle.mjs (its writeCommonJsBin says why)',
      "const { readFileSync } = require('node:fs');",
      `if (readFileSync(require.resolve('./main.js'), 'utf8').includes(${JSON.stringify(BUNDLED_MARK)})) {`,
      "  const loader = require('../../workers/code-cache.cjs');",
      '  process.on(\'exit\', () => loader.writeCodeCaches());',
      "  loader.requireCached(require.resolve('./main.bundle.cjs'));",
      '} else {',
      "  import('./main.js');",
      '}',
      '',
    ].join('\n'),
  );
  chmodSync(bin, 0o755);
}

/**
 * Writes a bundle file in ASCII (scripts/ascii-source.mjs says why) and ends it with a hash of
 * its bytes, which its code cache is tied to (scripts/code-cache.cjs), and removes the cache of
 * the file it replaced.
 */
function stampBuild(file) {
  const text = asciiSource(readFileSync(file, 'utf8'), file);
  writeFileSync(file, `${text}${text.endsWith('\n') ? '' : '\n'}//# flowsieve-bundle ${createHash('sha256').update(text).digest('hex').slice(0, 24)}\n`);
  const dir = dirname(file);
  const name = file.slice(dir.length + 1);
  for (const f of readdirSync(dir)) if (f.startsWith(`${name}.`) && f.endsWith('.v8cache')) rmSync(join(dir, f), { force: true });
}

for (const w of WORKERS) {
  const source = join(dist, `workers/${w}.js`);
  if (readFileSync(source, 'utf8').startsWith(BUNDLED_MARK)) continue; // bundled since tsc last wrote it
  const file = join(dist, `workers/${w}.bundle.cjs`);
  rmSync(file, { force: true });
  // another worker's module (the shard thread imports the parse code to read fused) stays
  // outside: it is loaded through its own stub, not a second time inside this bundle
  const sibling = (id) => WORKERS.some((o) => o !== w && id === `./${o}.js`);
  const worker = await rolldown({ input: source, external: (id) => external(id) || sibling(id), platform: 'node', logLevel: 'warn' });
  // dynamic imports as require calls: code compiled from V8's code cache cannot import() on
  // Node 20, and the loader maps './parse.js' to its bundle (scripts/code-cache.cjs)
  await worker.write({ file, format: 'cjs', codeSplitting: false, sourcemap: false, dynamicImportInCjs: false, comments: BUNDLE_COMMENTS });
  await worker.close();
  stampBuild(file);
  // the worker's entry (scripts/worker-shims.mjs) requires the bundle while this stub stands
  // in tsc's place (a later tsc run writes the module back, and the entry then imports it);
  // the stub is the module's ES face for whoever imports it (the inline shard, the fused parse)
  const exported = createRequire(import.meta.url)(file);
  const names = typeof exported === 'function' ? [] : Object.keys(exported).filter((k) => k !== 'default' && k !== '__esModule');
  writeFileSync(
    source,
    [
      BUNDLED_MARK.trimEnd(),
      "import { builtinModules, createRequire } from 'node:module';",
      '// through the loader with V8\'s code cache, as the entry loads it (scripts/code-cache.cjs)',
      'const require = createRequire(import.meta.url);',
      `const m = require('./code-cache.cjs').requireCached(require.resolve('./${w}.bundle.cjs'));`,
      "export default typeof m === 'function' ? m : m.default;",
      ...names.map((n) => `export const ${n} = m.${n};`),
      '',
    ].join('\n'),
  );
}

// piscina, the pools' package, as two bundles beside the workers': dist/workers/piscina.bundle.cjs
// (the pool, loaded by the main thread: src/engine/run.ts) and piscina-worker.bundle.cjs (the
// code each worker thread runs before our entry). Loaded from node_modules, piscina's 14
// modules cost ~5.5 ms of the main thread's CPU to resolve, read and compile at every run, and
// its worker's 3 modules the same in each worker thread; bundled and through the loader, V8's
// code cache covers them (bench/RESULTS.md, "piscache"). The pool starts its threads on
// piscina's worker file, named from its own folder: here the stub that loads the bundle.
const PISCINA_WORKER = "(0, node_path_1.resolve)(__dirname, 'worker.js')";
const piscinaMain = createRequire(import.meta.url).resolve('piscina'); // piscina/dist/main.js
await bundlePackage(piscinaMain, 'piscina.bundle.cjs', (id, code) => {
  const named = /piscina[\\/]dist[\\/]index\.js$/.test(id) ? requireReplaced(code, PISCINA_WORKER, "(0, node_path_1.resolve)(__dirname, 'piscina-worker.cjs')") : code;
  const out = assertOnFailure(named, id);
  return out === code ? null : out;
});
await bundlePackage(join(dirname(piscinaMain), 'worker.js'), 'piscina-worker.bundle.cjs', (id, code) =>
  /piscina[\\/]dist[\\/]worker\.js$/.test(id) ? perfHooksOnUse(code, id) : null,
);
writeFileSync(
  join(dist, 'workers/piscina-worker.cjs'),
  [
    "'use strict';",
    '// Generated by scripts/bundle.mjs: piscina\'s worker (each pool thread\'s first module),',
    '// bundled and loaded with V8\'s code cache (scripts/code-cache.cjs)',
    "require('./code-cache.cjs').requireCached(require.resolve('./piscina-worker.bundle.cjs'));",
    '',
  ].join('\n'),
);

// maxmind (and mmdb-lib, tiny-lru), which every enriched run loads in the main thread to read
// the ASN database (src/enrich/ipdb.ts): 13 modules, ~6 ms of CPU from node_modules
await bundlePackage(createRequire(import.meta.url).resolve('maxmind'), 'maxmind.bundle.cjs', () => null);

/** One package's code as one CommonJS file in dist/workers/, built-ins and optional packages outside. */
async function bundlePackage(input, name, transform) {
  const file = join(dist, 'workers', name);
  rmSync(file, { force: true });
  const build = await rolldown({
    input,
    external: (id) => id.startsWith('node:') || builtinModules.includes(id) || id === '@napi-rs/nice',
    platform: 'node',
    logLevel: 'warn',
    plugins: [{ name: 'flowsieve-package', transform: (code, id) => transform(id, code) }],
  });
  await build.write({ file, format: 'cjs', codeSplitting: false, sourcemap: false, dynamicImportInCjs: false, comments: BUNDLE_COMMENTS });
  await build.close();
  stampBuild(file);
}

/**
 * piscina's assertions (`assert(cond)`, `assert.notStrictEqual`, all it uses) with node:assert
 * loaded only when one fails, to throw its error: the module and what it loads (its colours ask
 * for process.stderr, which makes the stream) cost the main thread ~3.5 ms of CPU as the first
 * pool is made (bench/RESULTS.md, session 20 bootsnap). A module using another of assert's
 * functions fails the build.
 */
function assertOnFailure(code, id) {
  const from = '__importDefault(require("node:assert"))';
  if (!code.includes(from)) return code;
  const other = [...code.matchAll(/node_assert_1\.default\.(\w+)/g)].map((m) => m[1]).filter((f) => f !== 'notStrictEqual');
  if (other.length > 0) throw new Error(`bundle: piscina's ${id} uses assert.${other[0]} (was it updated?)`);
  const lazy =
    '{ default: Object.assign((value, message) => { if (!value) require("node:assert")(value, message); }, ' +
    '{ notStrictEqual: (actual, expected, message) => { if (Object.is(actual, expected)) require("node:assert").notStrictEqual(actual, expected, message); } }) }';
  return code.replaceAll(from, lazy);
}

/**
 * piscina's worker with node:perf_hooks loaded at its first use: it times a task only where the
 * pool asks for the workers' histograms (`workerHistogram`, off in every pool here), and the
 * module costs each worker thread ~0.9 ms of CPU at its boot (bench/RESULTS.md, session 20 bootsnap).
 */
function perfHooksOnUse(code, id) {
  const from = 'const node_perf_hooks_1 = require("node:perf_hooks");';
  const other = [...code.matchAll(/node_perf_hooks_1\.(\w+)/g)].map((m) => m[1]).filter((f) => f !== 'performance');
  if (other.length > 0) throw new Error(`bundle: piscina's ${id} uses perf_hooks.${other[0]} (was it updated?)`);
  return requireReplaced(code, from, 'const node_perf_hooks_1 = { get performance() { return require("node:perf_hooks").performance; } };');
}

/** The code with `from` replaced by `to`; a package that changed its code fails the build rather than a run. */
function requireReplaced(code, from, to) {
  if (!code.includes(from)) throw new Error(`bundle: ${JSON.stringify(from)} not found in piscina (was it updated?)`);
  return code.replace(from, to);
}
