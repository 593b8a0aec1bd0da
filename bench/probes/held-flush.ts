/**
 * The inbound table's held path in two parts, on the real shape (bench/records.ts
 * makeRealBatches), one thread, CPU ms of each round: holding the records back (keys built,
 * rows written into the held buffer) and the one flush that sorts them by bucket and adds
 * them. The buffer holds every record, so the flush is one. `--js` keeps the table in
 * JavaScript arrays (the JavaScript add loop) where the default is WebAssembly memory where
 * built; `--detach` detaches one unrelated ArrayBuffer first (a 1-page WebAssembly memory
 * grown), which makes V8 check every typed-array access of the thread for a detached buffer
 * from then on (why src/engine/scan-wasm.ts never grows its memory).
 *
 *   node dist/bench/probes/held-flush.js [--rows 3000000] [--rounds 4] [--js] [--detach]
 */
import { ScanTable } from '../../src/engine/scan-table.js';
import { scanArena } from '../../src/engine/scan-wasm.js';
import { makeRealBatches, W } from '../records.js';
import { numArg as arg } from '../args.js';

const rows = arg('rows', 3_000_000);
const rounds = arg('rounds', 4);
const js = process.argv.includes('--js');
if (process.argv.includes('--detach')) new WebAssembly.Memory({ initial: 1 }).grow(1);
const { batches } = makeRealBatches(rows, 11, 0.25);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

const hold: number[] = [];
const flush: number[] = [];
for (let round = 0; round < rounds; round++) {
  let t0 = cpuMs();
  const t = new ScanTable(W, Math.ceil(rows / 2), 1, 1 << 22, js ? null : scanArena());
  for (const b of batches) t.addBatch(b);
  hold.push(cpuMs() - t0);
  t0 = cpuMs();
  if (t.n === 0) throw new Error('no entries');
  flush.push(cpuMs() - t0);
}
const list = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
console.log(`${js ? 'js' : 'wasm'}${process.argv.includes('--detach') ? ' detached' : ''}: hold ${list(hold)} ms, flush ${list(flush)} ms (${rows} records, least ${((Math.min(...flush) * 1e6) / rows).toFixed(1)} ns a record to flush)`);
