// How long a worker thread takes to boot, bare and with a bundle required (the parse thread's
// gate before its first task): wall from `new Worker` to its first message,
// split at the worker's first line of JavaScript (the bare boot: Node's worker bootstrap) and
// after the require (a plain require, without the product's V8 code cache: an upper bound), N
// rounds a kind, alternated, medians. Node 20 has no threadCpuUsage, so this is wall only.
//    node bench/probes/worker-boot.mjs 15 dist/workers/parse.bundle.cjs dist/workers/shard.bundle.cjs
import { Worker } from 'node:worker_threads';
import { resolve } from 'node:path';
const [rounds, ...bundles] = process.argv.slice(2);
const kinds = [['bare', ''], ...bundles.map((b) => [b.split('/').pop(), resolve(b)])];
const body = (file) => `const first = performance.timeOrigin + performance.now(); ${file ? `require(${JSON.stringify(file)});` : ''}
require('node:worker_threads').parentPort.postMessage({ first, loaded: performance.timeOrigin + performance.now() });`;
const res = Object.fromEntries(kinds.map(([k]) => [k, { wall: [], first: [], load: [] }]));
for (let r = 0; r < Number(rounds); r++) {
  for (const [k, file] of kinds) {
    const t = performance.now();
    const t0 = performance.timeOrigin + t;
    const w = new Worker(body(file), { eval: true });
    const m = await new Promise((ok) => w.once('message', ok));
    res[k].wall.push(performance.now() - t);
    res[k].first.push(m.first - t0);
    res[k].load.push(m.loaded - m.first);
    await w.terminate();
  }
}
const med = (a) => a.sort((x, y) => x - y)[a.length >> 1].toFixed(1);
for (const [k] of kinds) console.log(`${k.padEnd(24)} to its first line ${med(res[k].first)} ms, require ${med(res[k].load)} ms, to its first message ${med(res[k].wall)} ms`);
