/**
 * The inbound table's held-back path alone (records held, sorted by bucket, added; no
 * finalisation), best of ROUNDS fills of a fresh table, one thread: the loop behind the
 * session-3 figures for a table that starts small (--capacity 16384), for a table that fits
 * in cache (--rows 60000) and for the flush's sort.
 *
 *   node dist/bench/held-path.js [--rows 300000] [--capacity ROWS] [--pending 1048576] [--rounds 40]
 */
import { ScanTable } from '../src/engine/scan-table.js';
import { makeBatches, W } from './records.js';
import { numArg as arg } from './args.js';

const rows = arg('rows', 300_000);
const capacity = arg('capacity', rows);
const pending = arg('pending', 1 << 20);
const batches = makeBatches(rows);
let best = Infinity;
let entries = 0;
for (let round = 0; round < arg('rounds', 40); round++) {
  const t = new ScanTable(W, capacity, 1, pending);
  const t0 = performance.now();
  for (const b of batches) t.addBatch(b);
  t.flush();
  best = Math.min(best, ((performance.now() - t0) * 1e6) / rows);
  entries = t.n;
}
console.log(`held path without finalisation: ${rows} records, ${entries} entries, table started at ${capacity}, ${pending} held: best ${best.toFixed(0)} ns/record`);
