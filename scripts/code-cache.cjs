'use strict';
// Loads the bundles of the build (the command line's dist/src/cli/main.bundle.cjs and its
// chunks in dist/src/bundle/, each worker's dist/workers/<name>.bundle.cjs) as require() would,
// but compiled with V8's code cache of an earlier run, kept beside each file (<file>.v8cache).
// The build copies this file to dist/workers/code-cache.cjs; the command line's entry and the
// workers' (scripts/bundle.mjs, scripts/worker-shims.mjs) load through it.
//
// Why: every thread compiles its own copy of the code it runs: the main thread ~25 ms of CPU
// for detect's modules, each worker thread ~15 ms for the functions of its bundle as they were
// first called (bench/RESULTS.md, "V8's share and the fixed cost of a run"). A cache made at
// build time holds only the top-level code (measured: 2 ms a thread saved); this one is
// written at the end of a run (writeCodeCaches: the engine closing, the command line
// exiting), so it holds every function the run compiled. V8 checks a cache against its
// version and flags and rejects it otherwise (then the file is compiled as before and its
// cache written again); the header below ties it to the file's bytes, since V8 checks only
// the source's length. Where the install is not writable the caches go to the user's cache
// folder ($XDG_CACHE_HOME or ~/.cache, flowsieve/code-cache/). Node 22's
// module.enableCompileCache does this for every module; Node 20 has none.
// FLOWSIEVE_CODE_CACHE=off reads and writes none.
const { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { homedir } = require('node:os');
const { createRequire, isBuiltin } = require('node:module');
const { basename, dirname, join, resolve, sep } = require('node:path');
const { fileURLToPath } = require('node:url');
const vm = require('node:vm');

const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n})';

/** Each bundle loaded in this thread: its exports, its script, and whether its cache is to be written. */
const loaded = new Map();

const enabled = () => process.env.FLOWSIEVE_CODE_CACHE !== 'off';

/** The first line of a bundled worker's ES stub (scripts/bundle-mark.mjs BUNDLED_MARK). */
const BUNDLED_MARK = '// bundled by scripts/bundle.mjs\n';

/** The last line the build adds to every bundle file: a hash of its bytes (scripts/bundle.mjs). */
const BUILD_ID = /\n\/\/# flowsieve-bundle ([0-9a-f]+)\n?$/;

/**
 * The cache file of a bundle, one for each set of Node and V8 flags the process runs with (V8
 * rejects a cache made under other flags: runs with and without a flag, alternated, would
 * otherwise each reject and rewrite the other's).
 */
function cacheFileOf(file) {
  flagsSuffix ??= flagsSuffixNow();
  return `${file}${flagsSuffix}.v8cache`;
}

/** The part of a cache file's name that names the process's flags: the same for every file of the thread. */
let flagsSuffix;
function flagsSuffixNow() {
  const flags = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').trim();
  return flags === '' ? '' : `.${hashOf(flags)}`;
}

/** A short hash of a string (FNV-1a, 32 bits, hex). */
function hashOf(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * What ties a cache to this Node and this bundle's bytes: V8 checks its own version and flags,
 * and the source's length only. The build's hash of the bytes where the bundle has one, else
 * its size and time (npm gives every installed file the same time).
 */
function headerOf(file, source) {
  const id = BUILD_ID.exec(source.slice(-120));
  const st = id ? null : statSync(file);
  return Buffer.from(`flowsieve-code-cache 1 ${process.version} ${process.arch} ${id ? id[1] : `${st.size} ${st.mtimeMs}`}\n`, 'latin1');
}

/**
 * Where a bundle's cache goes when it cannot be written beside it (an install the user does not
 * own: `sudo npm install -g`, the container image): the user's cache folder, one file for each
 * bundle's place.
 */
function userCacheFileOf(file) {
  const home = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(home, 'flowsieve', 'code-cache', `${hashOf(dirname(file))}-${basename(cacheFileOf(file))}`);
}

/** The cache's V8 data (beside the bundle, else in the user's cache folder), or undefined when there is none for this bundle as it is now. */
function readCache(file, header) {
  // the user's folder named only when the bundle's own place has none (its name costs a
  // homedir() and a hash: ~0.4 ms of a small run's start over its 30 bundles)
  const data = readIfAny(cacheFileOf(file)) ?? readIfAny(userCacheFileOf(file));
  return data !== undefined && data.length > header.length && data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : undefined;
}

function readIfAny(place) {
  try {
    return readFileSync(place);
  } catch {
    return undefined;
  }
}

/** Writes a file whole or not at all: a temporary file renamed into place (a reader sees the old file or the new one). */
function writeWhole(target, data) {
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
    return true;
  } catch {
    rmSync(tmp, { force: true });
    return false;
  }
}

/** The bundle a worker's ES stub (dist/workers/<name>.js, scripts/bundle.mjs) stands for, or null when it is no stub. */
function bundleOfStub(stub) {
  const m = /^(.*)\.js$/.exec(stub);
  if (!m) return null;
  try {
    // as UTF-8, the encoding every other read of this thread uses: a thread's first 'latin1'
    // decode costs ~0.4 ms (the stubs are ASCII, read the same either way)
    return readFileSync(stub, 'utf8').startsWith(BUNDLED_MARK) ? `${m[1]}.bundle.cjs` : null;
  } catch {
    return null;
  }
}

/**
 * A worker's module as its ES stub gives it (the default export and the named ones), from
 * its bundle through this loader; null when the file is no stub (tsc's module: import it).
 */
function requireStub(stub) {
  const bundle = bundleOfStub(stub);
  if (!bundle) return null;
  const m = requireCached(bundle);
  return typeof m === 'function' ? { default: m } : m;
}

/**
 * A bundle's require(): the other files of the bundles ('./x.cjs' chunks) and the workers'
 * stubs (the shard thread's './parse.js', which it loads to read fused; the command line's
 * shard in its own thread, by file URL) are loaded here too, so that they are compiled from
 * their caches as well; packages and built-ins as require() loads them. The bundles are built
 * with their dynamic imports as require calls: code compiled from a cache has no dynamic
 * import on Node 20 (V8 does not keep Node's callback with the cache).
 */
function requireFor(file) {
  const plain = createRequire(file);
  const dir = dirname(file);
  const req = (id) => {
    const builtin = builtins.get(id);
    if (builtin !== undefined) return builtin;
    const local = id.startsWith('file:') ? fileURLToPath(id) : id.startsWith('.') ? localPath(dir, id) : null;
    if (local !== null && local.endsWith('.cjs')) return requireCached(local);
    const worker = local === null ? null : requireStub(local);
    if (worker !== null) return worker;
    const m = plain(local ?? id);
    if (local === null && isBuiltin(id)) builtins.set(id, m);
    return m;
  };
  req.resolve = plain.resolve;
  req.cache = plain.cache;
  return req;
}

/**
 * The built-ins the bundles of this thread required, by the name they used ('node:fs', 'url'):
 * the same object require() gives. The main thread's bundles ask ~100 times for ~20 of them,
 * and each ask went through Node's module loader (~140 calls a run of detect), enough for V8 to
 * compile that loader's path and path.resolve with TurboFan while the run's threads booted.
 */
const builtins = new Map();

/**
 * The file a bundle's relative require names: a sibling ('./x.cjs', the chunks' form) joined
 * to the folder as text, which path.resolve gives too for a normal absolute folder (every
 * bundle's: require.resolve's, or made here); anything else through path.resolve.
 */
function localPath(dir, id) {
  const name = id.slice(2);
  if (!id.startsWith('./') || name.includes('/') || name.includes('\\') || name === '' || name === '.' || name === '..') return resolve(dir, id);
  return dir.endsWith(sep) ? `${dir}${name}` : `${dir}${sep}${name}`; // a folder at the root ends with its separator
}

/** The bundle's exports, compiled with its cache when one fits (FLOWSIEVE_CODE_CACHE=off: none); once per thread, as require() would. */
function requireCached(file) {
  const known = loaded.get(file);
  if (known) return known.module.exports;
  let source = readFileSync(file, 'utf8');
  if (source.startsWith('#!')) source = `//${source.slice(2)}`; // the command line's first line, a comment of the same length
  const header = headerOf(file, source);
  const cachedData = enabled() ? readCache(file, header) : undefined;
  const script = new vm.Script(WRAP_HEAD + source + WRAP_TAIL, { filename: file, cachedData });
  const mod = { exports: {}, filename: file, id: file, loaded: false };
  const from = cachedData === undefined ? 'source' : script.cachedDataRejected === true ? 'rejected' : 'cache';
  const entry = { module: mod, script, header, from, write: enabled() && from !== 'cache' };
  loaded.set(file, entry);
  script.runInThisContext().call(mod.exports, mod.exports, requireFor(file), mod, file, dirname(file));
  mod.loaded = true;
  return mod.exports;
}

/**
 * Writes the cache of every bundle this thread loaded without one that fitted, with every
 * function compiled so far (call it when the work is done): beside the bundle, or in the
 * user's cache folder where the install is not writable. Returns how many were written.
 */
function writeCodeCaches() {
  let written = 0;
  for (const [file, entry] of loaded) {
    if (!entry.write) continue;
    entry.write = false;
    const data = Buffer.concat([entry.header, entry.script.createCachedData()]);
    if (writeWhole(cacheFileOf(file), data)) written++;
    else {
      const user = userCacheFileOf(file);
      try {
        mkdirSync(dirname(user), { recursive: true });
      } catch {
        continue; // nowhere to write: compiled again next time
      }
      if (writeWhole(user, data)) written++;
    }
  }
  return written;
}

/** How this thread compiled a bundle: 'cache', 'source' (no cache that fitted) or 'rejected' (by V8); undefined: not loaded here. */
function loadedFrom(file) {
  return loaded.get(file)?.from;
}

/** True when a task asks a thread to write its code caches (the engine sends it when it closes). */
function isCodeCacheTask(task) {
  return task !== null && typeof task === 'object' && task.writeCodeCache === true;
}

module.exports = { requireCached, requireStub, writeCodeCaches, isCodeCacheTask, cacheFileOf, loadedFrom };
