/**
 * The outbound table's adds alone, one thread: 250,000 outbound records (nearly every one
 * a new entry, as a scanning host makes) among 20 times as many records of other feeds, in
 * 16,384-record batches. The loop behind the session-3 figure for the outbound layout.
 *
 *   node dist/bench/probes/outbound-add.js [--capacity 140000]
 */
import { allocBatch, type FlowBatchData } from '../../src/flow/batch.js';
import { OutboundTable } from '../../src/engine/outbound-table.js';

const N = 250_000;
const W = 21600;
const i = process.argv.indexOf('--capacity');
const capacity = i >= 0 ? Number(process.argv[i + 1]) : 140_000;
let x = 99;
const r = () => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};
const batches: FlowBatchData[] = [];
for (let k = 0; k < N; k += 800) {
  const b = allocBatch(16384);
  for (let j = 0; j < 16384; j++) {
    const out = j % 20 === 0 && k + j / 20 < N;
    b.feed[j] = out ? 2 : 1; // outbound : inbound
    b.src.set([0, 0, 0xffff, 0x0a000000 + (r() & 0xffff)], j * 4);
    b.dst.set([0, 0, 0xffff, r()], j * 4);
    b.proto[j] = 6;
    b.dport[j] = [22, 23, 443, 445][r() & 3]!;
    b.sport[j] = r() & 0xffff;
    b.packets[j] = 1;
    b.bytes[j] = 60;
    b.start[j] = 1717200000 + (r() % 20000);
    b.end[j] = b.start[j]! + 1;
  }
  b.n = 16384;
  b.strings = ['', 'acct', 'eni-x', 'us-east-1'];
  b.account.fill(1);
  b.iface.fill(2);
  b.region.fill(3);
  batches.push(b);
}
for (let round = 0; round < 4; round++) {
  const t = new OutboundTable(W, capacity);
  const t0 = performance.now();
  for (const b of batches) t.addBatch(b);
  const ms = performance.now() - t0;
  console.log(`round ${round + 1}: ${((ms * 1e6) / N).toFixed(0)} ns per outbound record (${t.n} entries)`);
}
