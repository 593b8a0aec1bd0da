/** Moving flow rows between FlowBatchData column sets (conversion side; never the detect hot path). */
import { allocBatch, type FlowBatchData } from '../flow/batch.js';
import { BATCH_COLUMNS } from './file.js';
import type { Column } from './block.js';

type AnyColumn = Column & { set(a: ArrayLike<number>, o?: number): void; subarray(s: number, e: number): Column };

function col(b: FlowBatchData, name: keyof FlowBatchData): AnyColumn {
  return b[name] as unknown as AnyColumn;
}

/** Copy rows [from, from+count) of `src` to rows [to, to+count) of `dst` (ids unchanged). */
export function copyRows(src: FlowBatchData, from: number, count: number, dst: FlowBatchData, to: number): void {
  for (const [name, w] of BATCH_COLUMNS) col(dst, name).set(col(src, name).subarray(from * w, (from + count) * w), to * w);
}

/** dst[k] = src[order[k]] for k < order.length, every column. */
export function gatherRows(src: FlowBatchData, order: Int32Array, dst: FlowBatchData): void {
  const n = order.length;
  for (const [name, w] of BATCH_COLUMNS) {
    const s = col(src, name);
    const d = col(dst, name);
    if (w === 1) {
      for (let k = 0; k < n; k++) d[k] = s[order[k]!]!;
    } else {
      for (let k = 0; k < n; k++) {
        const a = order[k]! * w;
        for (let j = 0; j < w; j++) d[k * w + j] = s[a + j]!;
      }
    }
  }
  dst.n = n;
}

/** Rewrite the four dictionary-id columns of rows [from, to) through `map`. */
export function remapIds(b: FlowBatchData, from: number, to: number, map: ArrayLike<number>): void {
  const { account, region, iface, instance } = b;
  for (let i = from; i < to; i++) {
    account[i] = map[account[i]!]!;
    region[i] = map[region[i]!]!;
    iface[i] = map[iface[i]!]!;
    instance[i] = map[instance[i]!]!;
  }
}

/** min start and max end of rows [0, n). */
export function timeRange(b: FlowBatchData): [number, number] {
  let lo = 0xffffffff;
  let hi = 0;
  for (let i = 0; i < b.n; i++) {
    if (b.start[i]! < lo) lo = b.start[i]!;
    if (b.end[i]! > hi) hi = b.end[i]!;
  }
  return b.n === 0 ? [0, 0] : [lo, hi];
}

/**
 * The order of rows [0, n) by (src, protocol, dst port, dst, start): the records of one
 * accumulator entry (key and endpoint, any window length) come out next to each other.
 */
export function entryOrder(b: FlowBatchData): Int32Array {
  const { src, dst, proto, dport, start } = b;
  const order = Int32Array.from({ length: b.n }, (_, i) => i);
  order.sort((x, y) => {
    const a = x * 4;
    const c = y * 4;
    return (
      src[a + 3]! - src[c + 3]! || src[a + 2]! - src[c + 2]! || src[a + 1]! - src[c + 1]! || src[a]! - src[c]! ||
      proto[x]! - proto[y]! || dport[x]! - dport[y]! ||
      dst[a + 3]! - dst[c + 3]! || dst[a + 2]! - dst[c + 2]! || dst[a + 1]! - dst[c + 1]! || dst[a]! - dst[c]! ||
      start[x]! - start[y]! || x - y
    );
  });
  return order;
}

export { allocBatch };
