#!/usr/bin/env node
// The CPU and wall of loading a worker's bundle through the build's code-cache loader
// (scripts/code-cache.cjs), in this thread, and whether its cache was used: what a parse or
// shard thread pays for its code at start, apart from Node's own worker bootstrap.
//   node bench/probes/bundle-load.cjs [parse|shard] [DIST]   (npm run build, and one detect run for the cache)
// Profile it with `node --cpu-prof --cpu-prof-interval 50 bench/probes/bundle-load.cjs` (top level, vm.Script, reads).
'use strict';
const { join, resolve } = require('node:path');
const name = process.argv[2] ?? 'parse';
const dist = resolve(process.argv[3] ?? 'dist');
const c0 = process.cpuUsage();
const t0 = performance.now();
const loader = require(join(dist, 'workers/code-cache.cjs'));
const file = join(dist, `workers/${name}.bundle.cjs`);
loader.requireCached(file);
const c = process.cpuUsage(c0);
console.log(`${name}.bundle.cjs: ${((c.user + c.system) / 1000).toFixed(1)} ms CPU, ${(performance.now() - t0).toFixed(1)} ms wall, compiled from ${loader.loadedFrom(file)}`);
