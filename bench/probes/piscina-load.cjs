#!/usr/bin/env node
// The CPU of loading piscina's two bundles through the build's code-cache loader, as a run's
// threads do: the pool's (dist/workers/piscina.bundle.cjs) in this thread, as the main thread
// loads it when a run makes its first pool, and piscina's worker (piscina-worker.bundle.cjs) in
// a worker thread, as each pool thread does at its boot; and whether node:assert and
// node:perf_hooks were loaded by each (process CPU, the other thread idle meanwhile).
//   node bench/probes/piscina-load.cjs [DIST]   (npm run build, and one detect run for the caches)
'use strict';
const { join, resolve } = require('node:path');
const { Worker } = require('node:worker_threads');
const dist = resolve(process.argv[2] ?? 'dist');
const loader = require(join(dist, 'workers/code-cache.cjs'));
const watched = (list) => list.filter((m) => m === 'NativeModule assert' || m === 'NativeModule perf_hooks').map((m) => m.split(' ')[1]);
const before = new Set(process.moduleLoadList);
const c0 = process.cpuUsage();
loader.requireCached(join(dist, 'workers/piscina.bundle.cjs'));
const c = process.cpuUsage(c0);
const pool = `pool ${((c.user + c.system) / 1000).toFixed(2)} ms [${watched(process.moduleLoadList.filter((m) => !before.has(m))).join(' ')}]`;
const w = new Worker(
  `
  const { parentPort } = require('node:worker_threads');
  const loader = require(${JSON.stringify(join(dist, 'workers/code-cache.cjs'))});
  const before = new Set(process.moduleLoadList);
  const c0 = process.cpuUsage();
  loader.requireCached(${JSON.stringify(join(dist, 'workers/piscina-worker.bundle.cjs'))});
  const c = process.cpuUsage(c0);
  parentPort.postMessage({ ms: (c.user + c.system) / 1000, loaded: process.moduleLoadList.filter((m) => !before.has(m)) });
`,
  { eval: true },
);
w.once('message', ({ ms, loaded }) => {
  console.log(`${pool}  worker ${ms.toFixed(2)} ms [${watched(loaded).join(' ')}]`);
  process.exit(0);
});
