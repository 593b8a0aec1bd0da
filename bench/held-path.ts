/**
 * The inbound table's held-back path alone (records held, sorted by bucket, added; no
 * finalisation), best of ROUNDS fills of a fresh table, one thread: the loop behind the
 * session-3 figures for a table that starts small (--capacity 16384), for a table that fits
 * in cache (--rows 60000) and for the flush's sort.
 *
 *   node dist/bench/held-path.js [--rows 300000] [--capacity ROWS] [--pending 1048576] [--rounds 40]
 */
import { allocBatch, type FlowBatchData } from '../src/flow/batch.js';
import { ScanTable } from '../src/engine/scan-table.js';

const W = 21600;
const T0 = 1717200000;
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};

/** `rows` inbound records over rows / 3 one-endpoint keys, in random order (bench/accumulate.ts's data). */
function records(rows: number): FlowBatchData[] {
  let x = 7;
  const r = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
  const tuples = Math.floor(rows / 3);
  const out: FlowBatchData[] = [];
  let b = allocBatch(16384);
  for (let i = 0; i < rows; i++) {
    if (b.n === 16384) {
      out.push(b);
      b = allocBatch(16384);
    }
    const t = Math.floor(r() * tuples);
    const k = b.n++;
    b.feed[k] = 1; // inbound
    b.src.set([0, 0, 0xffff, (0x2d000000 + Math.imul(t, 2654435761)) >>> 0], k * 4);
    b.dst.set([0, 0, 0xffff, 0x0a000000 + (t % 4099)], k * 4);
    b.proto[k] = 6;
    b.dport[k] = [22, 23, 443, 445][t & 3]!;
    b.packets[k] = 1 + (t % 3);
    b.bytes[k] = 40 + (t % 7);
    b.start[k] = T0 + Math.floor(r() * W);
    b.end[k] = b.start[k]! + 5;
  }
  out.push(b);
  return out;
}

const rows = arg('rows', 300_000);
const capacity = arg('capacity', rows);
const pending = arg('pending', 1 << 20);
const batches = records(rows);
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
