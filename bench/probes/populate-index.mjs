/* global WebAssembly */
// The shard's index step alone (scan-core.ts writeIndexOnce): a fresh memory of the 7 M bucket's
// index size written with zeros (fill, what runs without populate) or populated in one madvise
// call (input/native.ts populate), alternated, process CPU (user + sys) of the step, medians.
//   node bench/probes/populate-index.mjs [ROUNDS] [BYTES]
import { populate } from '../../dist/src/input/native.js';

const rounds = Number(process.argv[2] ?? 21);
const bytes = Number(process.argv[3] ?? 30224384);
const took = { fill: [], populate: [] };
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < rounds; r++) {
  for (const way of ['fill', 'populate']) {
    const memory = new WebAssembly.Memory({ initial: Math.ceil(bytes / 65536) });
    const index = new Uint32Array(memory.buffer, 0, bytes >> 2);
    const t0 = cpuMs();
    if (way === 'fill') index.fill(0);
    else if (!populate(index)) throw new Error('populate: no native module, or the kernel lacks MADV_POPULATE_WRITE');
    took[way].push(cpuMs() - t0);
  }
}
const median = (v) => v.sort((a, b) => a - b)[v.length >> 1];
const f = median(took.fill);
const p = median(took.populate);
console.log(`index of ${bytes} bytes, ${rounds} rounds: fill(0) ${f.toFixed(1)} ms, populate ${p.toFixed(1)} ms, ratio ${(p / f).toFixed(3)}`);
