// Bundles what tsc wrote for the command line and the two worker threads, after tsc (npm
// run build): dist/src/cli/main.js is rewritten as an ES module bundle, its chunks in
// dist/src/bundle/, and each worker's code becomes one CommonJS file,
// dist/workers/<name>.bundle.cjs, which the worker's entry (scripts/worker-shims.mjs) requires.
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
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { BUNDLED_MARK } from './bundle-mark.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const ENTRIES = ['src/cli/main'];
const WORKERS = ['parse', 'shard'];
// packages and node: built-ins are loaded from node_modules as before
const external = (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id);

let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch (err) {
  process.stderr.write(`bundle: rolldown not available (${err.message.split('\n')[0]}): dist/ left unbundled\n`);
  process.exit(0);
}

const main = join(dist, 'src/cli/main.js');
if (readFileSync(main, 'utf8').includes('from "../bundle/')) {
  process.stderr.write('bundle: dist/src/cli/main.js is bundled already (no tsc run since)\n');
} else {
  await bundleMain();
}

/** The command line's bundle: dist/src/cli/main.js and its chunks in dist/src/bundle/. */
async function bundleMain() {
  rmSync(join(dist, 'src/bundle'), { recursive: true, force: true });
  const build = await rolldown({
    input: Object.fromEntries(ENTRIES.map((e) => [e, join(dist, `${e}.js`)])),
    external,
    platform: 'node',
    logLevel: 'warn',
  });
  await build.write({
    dir: dist,
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: 'src/bundle/[name]-[hash].js',
    sourcemap: false,
  });
  await build.close();
  for (const e of ENTRIES) if (!existsSync(join(dist, `${e}.js`))) throw new Error(`bundle: ${e}.js was not written`);
}

for (const w of WORKERS) {
  const source = join(dist, `workers/${w}.js`);
  if (readFileSync(source, 'utf8').startsWith(BUNDLED_MARK)) continue; // bundled since tsc last wrote it
  const file = join(dist, `workers/${w}.bundle.cjs`);
  rmSync(file, { force: true });
  rmSync(`${file}.v8cache`, { force: true }); // the old bundle's code cache (scripts/code-cache.cjs)
  // another worker's module (the shard thread imports the parse code to read fused) stays
  // outside: it is loaded through its own stub, not a second time inside this bundle
  const sibling = (id) => WORKERS.some((o) => o !== w && id === `./${o}.js`);
  const worker = await rolldown({ input: source, external: (id) => external(id) || sibling(id), platform: 'node', logLevel: 'warn' });
  // dynamic imports as require calls: code compiled from V8's code cache cannot import() on
  // Node 20, and the loader maps './parse.js' to its bundle (scripts/code-cache.cjs)
  await worker.write({ file, format: 'cjs', codeSplitting: false, sourcemap: false, dynamicImportInCjs: false });
  await worker.close();
  // the worker's entry (scripts/worker-shims.mjs) requires the bundle while this stub stands
  // in tsc's place (a later tsc run writes the module back, and the entry then imports it);
  // the stub is the module's ES face for whoever imports it (the inline shard, the fused parse)
  const exported = createRequire(import.meta.url)(file);
  const names = typeof exported === 'function' ? [] : Object.keys(exported).filter((k) => k !== 'default' && k !== '__esModule');
  writeFileSync(
    source,
    [
      BUNDLED_MARK.trimEnd(),
      "import { createRequire } from 'node:module';",
      '// through the loader with V8\'s code cache, as the entry loads it (scripts/code-cache.cjs)',
      'const require = createRequire(import.meta.url);',
      `const m = require('./code-cache.cjs').requireCached(require.resolve('./${w}.bundle.cjs'));`,
      "export default typeof m === 'function' ? m : m.default;",
      ...names.map((n) => `export const ${n} = m.${n};`),
      '',
    ].join('\n'),
  );
}
