'use strict';
// A prototype of the command line in a user-land startup snapshot (Node 20's `--build-snapshot`):
// the entry that loads the main thread's bundles of a prepared copy of dist/ into the snapshot,
// each compiled with the V8 code cache a run wrote beside it, and runs the command line when a
// process starts from the blob. Not the product's: bench/probes/snapshot-proto.sh makes the copy
// and the blob, and says why each workaround below is needed (bench/RESULTS.md, session 20 bootsnap).
//   SNAP_DIST=COPY/dist SNAP_CHUNKS=a.cjs,b.cjs node --snapshot-blob B --build-snapshot bench/probes/snapshot-entry.cjs
//   node --snapshot-blob B COPY/dist/src/cli/main.cjs detect ...   (argv[1] stands where the script would)
const vm = require('node:vm');
const fs = require('node:fs');
const path = require('node:path');
const v8 = require('node:v8');

const DIST = process.env.SNAP_DIST;
const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const BUNDLED_MARK = '// bundled by scripts/bundle.mjs\n';
const builtinRequire = require; // while building, a snapshot's entry may require built-ins only
/** Each bundle loaded: its module object. */
const loaded = new Map();
/** False while the snapshot is built: packages are not loaded then (Node's CJS loader must not have run). */
let running = false;

/**
 * node:worker_threads as a module loaded at its first use: loaded while building, its cwd
 * counter (a SharedArrayBuffer, which a snapshot's builder does not have) is undefined, and
 * every worker then fails at its first process.cwd() (Node 20.20.2).
 */
const AT_FIRST_USE = new Set(['node:worker_threads', 'worker_threads']);
function atFirstUse(id) {
  let real;
  const get = () => (real ??= builtinRequire(id));
  return new Proxy(
    {},
    {
      get: (_, k) => get()[k],
      has: (_, k) => k in get(),
      ownKeys: () => Reflect.ownKeys(get()),
      getOwnPropertyDescriptor: (_, k) => {
        const d = Reflect.getOwnPropertyDescriptor(get(), k);
        return d && { ...d, configurable: true };
      },
    },
  );
}

function requireFor(file) {
  return (id) => {
    if (id.startsWith('file:')) id = require('node:url').fileURLToPath(id);
    if (id.startsWith('.') || id.startsWith('/')) {
      const f = path.resolve(path.dirname(file), id);
      if (f.endsWith('.cjs')) return load(f);
      if (f.endsWith('.js') && fs.readFileSync(f, 'utf8').startsWith(BUNDLED_MARK)) {
        const m = load(f.replace(/\.js$/, '.bundle.cjs')); // a worker's stub: its bundle
        return typeof m === 'function' ? { default: m } : m;
      }
      if (!running) throw new Error(`snapshot: ${f} is no bundle`);
      return require('node:module').createRequire(file)(f);
    }
    if (!running) return AT_FIRST_USE.has(id) ? atFirstUse(id) : builtinRequire(id);
    return id.startsWith('node:') ? builtinRequire(id) : require('node:module').createRequire(file)(id);
  };
}

/** A bundle's exports, compiled with its code cache (the file beside it, written by a run of the copy). */
function load(file) {
  const known = loaded.get(file);
  if (known) return known.exports;
  let source = fs.readFileSync(file, 'utf8');
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  let cachedData;
  try {
    const data = fs.readFileSync(`${file}.v8cache`);
    cachedData = data.subarray(data.indexOf(10) + 1); // the loader's one-line header
  } catch {
    // none: compiled from source
  }
  const script = new vm.Script(WRAP_HEAD + source + '\n})', { filename: file, cachedData });
  if (cachedData && script.cachedDataRejected) process.stderr.write(`snapshot: ${path.basename(file)}'s code cache rejected\n`);
  const mod = { exports: {} };
  loaded.set(file, mod);
  script.runInThisContext().call(mod.exports, mod.exports, requireFor(file), mod, file, path.dirname(file));
  return mod.exports;
}

globalThis.__flowsieveSnapshot = true; // the copy's main bundle does not run main() at its load
const cli = load(path.join(DIST, 'src/cli/main.bundle.cjs'));
delete globalThis.__flowsieveSnapshot;
for (const c of (process.env.SNAP_CHUNKS ?? '').split(',').filter(Boolean)) load(path.join(DIST, 'src/bundle', c));

function runCommandLine() {
  running = true;
  cli.main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
    if (process.argv[2] === 'detect' && process.platform === 'linux') process.exit(code);
  });
}
v8.startupSnapshot.setDeserializeMainFunction(runCommandLine);
