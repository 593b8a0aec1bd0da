// Does the parse thread get ready sooner when the shard thread does not boot beside it?
// A bare copy of detect's start on the Azure blobs: a worker loads the parse bundle (through
// the code cache, as piscina's worker does) while this thread walks DIR as planning does
// (readdirSync + statSync); with `both`, a second worker loads the shard bundle at the same
// time, as the engine starts both pools. Prints when the walk ended and when the parse
// bundle was loaded, in wall ms from the start. Alternate the modes (npm run build first):
//   for i in $(seq 9); do node bench/probes/boot-pair.cjs both DIR; node bench/probes/boot-pair.cjs parse DIR; done
const { Worker } = require('node:worker_threads');
const { readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const [mode, root] = process.argv.slice(2);
if (!root || !['both', 'parse'].includes(mode)) {
  console.error('usage: node bench/probes/boot-pair.cjs both|parse DIR');
  process.exit(2);
}
const workers = join(__dirname, '../../dist/workers');
const loader = (bundle) =>
  `const cc = require(${JSON.stringify(join(workers, 'code-cache.cjs'))}); cc.requireCached(${JSON.stringify(join(workers, bundle))}); require('node:worker_threads').parentPort.postMessage(0);`;

const t0 = performance.now();
const parse = new Worker(loader('parse.bundle.cjs'), { eval: true });
const shard = mode === 'both' ? new Worker(loader('shard.bundle.cjs'), { eval: true }) : null;
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isFile()) statSync(join(dir, e.name));
    else if (e.isDirectory()) walk(join(dir, e.name));
  }
};
walk(root);
const walked = performance.now() - t0;
parse.on('message', () => {
  console.log(`${mode}: walk ended ${walked.toFixed(1)} ms, parse bundle loaded ${(performance.now() - t0).toFixed(1)} ms`);
  void parse.terminate();
  void shard?.terminate();
});
