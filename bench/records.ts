/**
 * The inbound records the accumulator benchmarks share (bench/accumulate.ts,
 * bench/held-path.ts, bench/finalise.ts): a few million records over about a third as
 * many one-endpoint (key, endpoint) tuples, in random (arrival) order, the same on every
 * run; and the same records as replay blocks.
 */
import { allocBatch, type FlowBatchData } from '../src/flow/batch.js';
import { bucketOf, hashAddress, SHARD_BUCKETS } from '../src/flow/hash.js';
import { gatherRows, entryOrder } from '../src/replay/rows.js';
import { blockRows, encodeRows, type BlockRows } from '../src/replay/row-codec.js';
import type { Column } from '../src/replay/block.js';

export const W = 21600;
export const T0 = 1717200000;

/** xorshift32 in [0, 1): the same records on every run (also test/finalise-reference.test.ts) */
export function rng(seed: number): () => number {
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


/** What a realistic data set holds (makeRealBatches): tuples and keys, for every figure. */
export interface RealShape {
  rows: number;
  tuples: number; // distinct (key, endpoint) tuples (one region per endpoint here)
  keys: number; // distinct scan keys
  multiTuples: number; // tuples of keys with more than one endpoint
  scannerKeys: number;
}

/**
 * Records with the shape of real multi-tenant logs (issue 19): scanners whose keys reach
 * 100-1,000 endpoints across accounts and regions, a few benign keys with 2-9 endpoints,
 * and many one-endpoint benign keys; about one tuple in four in a multi-endpoint key
 * (`multi`), one record a scanner tuple and about three records any other tuple, in random (arrival) order, 16,384-row batches.
 * 200 accounts in 2 clouds and 4 regions, 400 endpoints an account. The same records
 * on every run for a given seed.
 */
export function makeRealBatches(rows: number, seed = 11, multi = 0.25): { batches: FlowBatchData[]; shape: RealShape } {
  const r = rng(seed);
  const tuples = Math.max(1, Math.floor(rows / 3));
  const ACCOUNTS = 200;
  const PER_ACCOUNT = 400;
  const strings = [''];
  for (let a = 0; a < ACCOUNTS; a++) strings.push(String(100000000000 + a * 7919));
  const regionIds = ['us-east-1', 'eu-west-1', 'ap-south-1', 'us-west-2'].map((s) => strings.push(s) - 1);
  // the tuples, key by key: src, proto, port, and per tuple the endpoint (account, dst)
  const tSrc = new Uint32Array(tuples);
  const tPort = new Uint16Array(tuples);
  const tProto = new Uint8Array(tuples);
  const tEp = new Uint32Array(tuples); // account * PER_ACCOUNT + host
  let t = 0;
  let keys = 0;
  let scannerKeys = 0;
  const multiTarget = Math.floor(tuples * multi);
  const endpoint = (): number => Math.floor(r() * ACCOUNTS) * PER_ACCOUNT + Math.floor(r() * PER_ACCOUNT);
  // multi-endpoint keys: 60 % of their tuples in scanner keys (100-1,000 endpoints), the rest 2-9
  let scannerEnd = 0; // scanner tuples are [0, scannerEnd): one record each, as a probe is
  while (t < multiTarget) {
    const scanner = t < multiTarget * 0.6;
    const want = scanner ? 100 + Math.floor(r() * 901) : 2 + Math.floor(r() * 8);
    const src = (0x2d000000 + Math.imul(keys + 1, 2654435761)) >>> 0;
    const port = scanner ? [22, 23, 445, 3389, 8080][keys % 5]! : 1024 + (keys % 50000);
    const seen = new Set<number>();
    for (let k = 0; k < want && t < multiTarget; k++) {
      const ep = endpoint();
      if (seen.has(ep)) continue;
      seen.add(ep);
      tSrc[t] = src;
      tPort[t] = port;
      tProto[t] = 6;
      tEp[t++] = ep;
    }
    keys++;
    if (scanner) {
      scannerKeys++;
      scannerEnd = t;
    }
  }
  const multiTuples = t;
  for (; t < tuples; t++, keys++) {
    tSrc[t] = (0x51000000 + Math.imul(keys + 1, 2246822519)) >>> 0;
    tPort[t] = [443, 80, 53, 123][keys & 3]!;
    tProto[t] = keys % 5 === 0 ? 17 : 6;
    tEp[t] = endpoint();
  }
  const out: FlowBatchData[] = [];
  let b = allocBatch(16384);
  b.strings = strings;
  // every tuple at least once, the rest at random, all in random (arrival) order
  const pick = new Uint32Array(rows);
  for (let i = 0; i < rows; i++) pick[i] = i < tuples ? i : scannerEnd + Math.floor(r() * (tuples - scannerEnd));
  for (let i = rows - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    const x = pick[i]!;
    pick[i] = pick[j]!;
    pick[j] = x;
  }
  for (let i = 0; i < rows; i++) {
    if (b.n === 16384) {
      out.push(b);
      b = allocBatch(16384);
      b.strings = strings;
    }
    const x = pick[i]!;
    const k = b.n++;
    const ep = tEp[x]!;
    const acct = Math.floor(ep / PER_ACCOUNT);
    b.feed[k] = 1; // inbound
    b.src.set([0, 0, 0xffff, tSrc[x]!], k * 4);
    b.dst.set([0, 0, 0xffff, (0x0a000000 + ep) >>> 0], k * 4);
    b.proto[k] = tProto[x]!;
    b.dport[k] = tPort[x]!;
    b.cloud[k] = acct & 1;
    b.account[k] = 1 + acct;
    b.region[k] = regionIds[ep % regionIds.length]!;
    b.packets[k] = x < scannerEnd ? 1 : 1 + (Math.imul(x, 7) % 5);
    b.bytes[k] = x < scannerEnd ? 44 : 40 + (Math.imul(x, 13) % 400);
    b.start[k] = T0 + Math.floor(r() * W);
    b.end[k] = b.start[k]! + 5;
  }
  out.push(b);
  return { batches: out, shape: { rows, tuples, keys, multiTuples, scannerKeys } };
}

/** The same records as one batch per bucket, rows sorted by entry (what a replay file holds). */
export function replayBlocks(batches: FlowBatchData[]): FlowBatchData[] {
  const perBucket: number[][] = Array.from({ length: SHARD_BUCKETS }, () => []);
  const all = allocBatch(batches.reduce((s, b) => s + b.n, 0));
  all.strings = batches[0]!.strings; // one string table for all (makeRealBatches shares one)
  for (const b of batches) {
    gatherRows(b, Int32Array.from({ length: b.n }, (_, i) => i), all, all.n);
  }
  for (let i = 0; i < all.n; i++) perBucket[bucketOf(hashAddress(all.src, i * 4))]!.push(i);
  return perBucket
    .filter((ids) => ids.length > 0)
    .map((ids) => {
      const block = allocBatch(ids.length);
      block.strings = all.strings;
      gatherRows(all, Int32Array.from(ids), block);
      const sorted = allocBatch(ids.length);
      sorted.strings = all.strings;
      gatherRows(block, entryOrder(block), sorted);
      return sorted;
    });
}

/** The blocks in the replay file's column form (what a decoded block hands the table). */
export function blockForms(blocks: FlowBatchData[]): Array<{ rows: BlockRows; bucket: number }> {
  const dict = blocks[0]?.strings.slice() ?? [''];
  return blocks.map((b) => {
    const cols = new Map<string, Column>(encodeRows(b, b.n, false).map(([name, col]) => [name, col]));
    return { rows: blockRows(cols, b.n, dict), bucket: bucketOf(hashAddress(b.src, 0)) };
  });
}
