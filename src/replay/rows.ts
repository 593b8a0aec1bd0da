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
  if (count <= 32) {
    // a few rows: element copies beat eighteen subarray + set calls
    for (let j = 0; j < count; j++) copyRow(src, from + j, dst, to + j);
    return;
  }
  for (const [name, w] of BATCH_COLUMNS) col(dst, name).set(col(src, name).subarray(from * w, (from + count) * w), to * w);
}

/** Row i of s to row k of d (s and d may be the same batch). */
export function copyRow(s: FlowBatchData, i: number, d: FlowBatchData, k: number): void {
  const a = i * 4;
  const b = k * 4;
  d.src[b] = s.src[a]!;
  d.src[b + 1] = s.src[a + 1]!;
  d.src[b + 2] = s.src[a + 2]!;
  d.src[b + 3] = s.src[a + 3]!;
  d.dst[b] = s.dst[a]!;
  d.dst[b + 1] = s.dst[a + 1]!;
  d.dst[b + 2] = s.dst[a + 2]!;
  d.dst[b + 3] = s.dst[a + 3]!;
  d.feed[k] = s.feed[i]!;
  d.proto[k] = s.proto[i]!;
  d.sport[k] = s.sport[i]!;
  d.dport[k] = s.dport[i]!;
  d.tcpFlags[k] = s.tcpFlags[i]!;
  d.packets[k] = s.packets[i]!;
  d.bytes[k] = s.bytes[i]!;
  d.start[k] = s.start[i]!;
  d.end[k] = s.end[i]!;
  d.cloud[k] = s.cloud[i]!;
  d.action[k] = s.action[i]!;
  d.direction[k] = s.direction[i]!;
  d.account[k] = s.account[i]!;
  d.region[k] = s.region[i]!;
  d.iface[k] = s.iface[i]!;
  d.instance[k] = s.instance[i]!;
}

/**
 * d[at + k] = s[order[k]] for k < order.length, every column; d.n becomes at + n.
 * Written out field by field: a loop over the column list would make every element
 * access polymorphic (slow).
 */
export function gatherRows(s: FlowBatchData, order: Int32Array, d: FlowBatchData, at = 0): void {
  const n = order.length;
  for (let j = 0; j < n; j++) copyRow(s, order[j]!, d, at + j);
  d.n = at + n;
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
