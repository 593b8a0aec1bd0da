'use strict';
// Loads the worker bundles (dist/workers/<name>.bundle.cjs) as require() would, but compiled
// with V8's code cache of an earlier run, kept beside the bundle (<bundle>.v8cache). The build
// copies this file to dist/workers/code-cache.cjs; the workers' entries
// (scripts/worker-shims.mjs) and the bundles' ES stubs (scripts/bundle.mjs) load through it.
//
// Why: every thread compiles its own copy of the code it runs, and a run's worker threads
// spent ~25 ms of CPU compiling the bundles' functions as they were first called
// (bench/RESULTS.md, "V8's share and the fixed cost of a run"). A cache made at build time
// holds only the top-level code (measured: 2 ms a thread saved); this one is written at the
// end of a run (writeCodeCaches, when the engine closes), so it holds every function the run
// compiled. V8 checks a cache against its version and flags and rejects it otherwise (then it
// is compiled as before and written again); the header below ties it to the bundle's size and
// time, since V8 checks only the source's length. FLOWSIEVE_CODE_CACHE=off loads and writes none.
const { readFileSync, renameSync, rmSync, statSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname, join } = require('node:path');
const vm = require('node:vm');

const WRAP_HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const WRAP_TAIL = '\n})';

/** Each bundle loaded in this thread: its exports, its script, and whether its cache is to be written. */
const loaded = new Map();

const enabled = () => process.env.FLOWSIEVE_CODE_CACHE !== 'off';

/** The first line of a bundled worker's ES stub (scripts/bundle-mark.mjs BUNDLED_MARK). */
const BUNDLED_MARK = '// bundled by scripts/bundle.mjs\n';

/** The cache file of a bundle. */
function cacheFileOf(file) {
  return `${file}.v8cache`;
}

/** What ties a cache to this Node and this bundle's bytes (V8 checks its own version and flags, and the source's length only). */
function headerOf(file) {
  const st = statSync(file);
  return Buffer.from(`flowsieve-code-cache 1 ${process.version} ${process.arch} ${st.size} ${st.mtimeMs}\n`, 'latin1');
}

/** The cache's V8 data, or undefined when there is none for this bundle as it is now. */
function readCache(file, header) {
  let data;
  try {
    data = readFileSync(cacheFileOf(file));
  } catch {
    return undefined;
  }
  return data.length > header.length && data.subarray(0, header.length).equals(header) ? data.subarray(header.length) : undefined;
}

/**
 * The bundle's require(): a sibling worker's module ('./parse.js', which the shard thread loads
 * to read fused; the bundles are built with their dynamic imports as require calls) is its
 * bundle, loaded here too, while its stub stands. Why not import(): code compiled from a cache
 * has no dynamic import on Node 20 (V8 does not keep Node's callback with the cache).
 */
function requireFor(file) {
  const plain = createRequire(file);
  const sibling = (id) => {
    const m = /^\.\/([\w-]+)\.js$/.exec(id);
    if (!m) return null;
    const stub = join(dirname(file), id);
    try {
      return readFileSync(stub, 'latin1').startsWith(BUNDLED_MARK) ? join(dirname(file), `${m[1]}.bundle.cjs`) : null;
    } catch {
      return null;
    }
  };
  const req = (id) => {
    const bundle = sibling(id);
    return bundle ? requireCached(bundle) : plain(id);
  };
  req.resolve = plain.resolve;
  req.cache = plain.cache;
  return req;
}

/** The bundle's exports, compiled with its cache when one fits (FLOWSIEVE_CODE_CACHE=off: none); once per thread, as require() would. */
function requireCached(file) {
  const known = loaded.get(file);
  if (known) return known.module.exports;
  const header = headerOf(file);
  const cachedData = enabled() ? readCache(file, header) : undefined;
  const script = new vm.Script(WRAP_HEAD + readFileSync(file, 'utf8') + WRAP_TAIL, { filename: file, cachedData });
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
 * function compiled so far (call it when the work is done). A temporary file renamed into
 * place: a run reading it at the same time sees the old file or the whole new one.
 * Returns how many were written; one that cannot be written (a read-only install) is skipped.
 */
function writeCodeCaches() {
  let written = 0;
  for (const [file, entry] of loaded) {
    if (!entry.write) continue;
    entry.write = false;
    const target = cacheFileOf(file);
    const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      writeFileSync(tmp, Buffer.concat([entry.header, entry.script.createCachedData()]));
      renameSync(tmp, target);
      written++;
    } catch {
      rmSync(tmp, { force: true });
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

module.exports = { requireCached, writeCodeCaches, isCodeCacheTask, cacheFileOf, loadedFrom };
