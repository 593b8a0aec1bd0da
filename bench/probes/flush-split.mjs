#!/usr/bin/env node
// What adding the held rows in more, smaller flushes costs (src/engine/tail.ts: the shards
// add what they hold at 90 % and 97 % of the input parsed, not all at the finalisation).
// The real shape (bench/records.ts makeRealBatches), one thread, a table whose held buffer
// is sized as the bucket's (~1.5 M rows for ~2 M records): the whole add (hold and every
// flush) timed as CPU, the two ways alternated, fresh tables each round.
//   npm run build && node bench/probes/flush-split.mjs [ROWS=1985446] [ROUNDS=5] [HELD=1500000] [SHARES=0.9,0.97]
import { ScanTable } from '../../dist/src/engine/scan-table.js';
import { makeRealBatches, W } from '../../dist/bench/records.js';

const rows = Number(process.argv[2] ?? 1985446);
const rounds = Number(process.argv[3] ?? 5);
const held = Number(process.argv[4] ?? 1500000);
const shares = (process.argv[5] ?? '0.9,0.97').split(',').map(Number);
const { batches } = makeRealBatches(rows, 11, 0.25);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

function run(early) {
  const t = new ScanTable(W, Math.ceil(rows / 2), 1, held);
  const t0 = cpuMs();
  let added = 0;
  let k = 0;
  for (const b of batches) {
    t.addBatch(b);
    added += b.n;
    if (early && k < shares.length && added >= shares[k] * rows) {
      k++;
      t.flush();
    }
  }
  if (t.n === 0) throw new Error('no entries'); // reading n adds what is held
  return cpuMs() - t0;
}

const res = { serial: [], early: [] };
run(false);
run(true); // both ways compiled and warm first
for (let r = 0; r < rounds; r++) {
  for (const early of r % 2 ? [true, false] : [false, true]) res[early ? 'early' : 'serial'].push(run(early));
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
for (const [k, xs] of Object.entries(res)) console.log(`${k.padEnd(6)} median ${med(xs).toFixed(1)} ms  (${xs.map((x) => x.toFixed(0)).join(' ')})`);
console.log(`ratio ${(med(res.early) / med(res.serial)).toFixed(3)} (${rows} records, held buffer ${held} rows)`);
