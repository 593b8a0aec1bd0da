/**
 * The inbound records the accumulator benchmarks share (bench/accumulate.ts,
 * bench/held-path.ts): a few million records over about a third as many one-endpoint
 * (key, endpoint) tuples, in random (arrival) order, the same on every run.
 */
import { allocBatch, type FlowBatchData } from '../src/flow/batch.js';

export const W = 21600;
export const T0 = 1717200000;

/** xorshift32: the same records on every run */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** `rows` inbound records over about rows / 3 tuples, in random (arrival) order, as 16,384-row batches. */
export function makeBatches(rows: number): FlowBatchData[] {
  const r = rng(7);
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

