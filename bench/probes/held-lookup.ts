/**
 * The inbound table's lookups on held records, sorted by bucket as a flush adds them, on
 * the real shape (bench/records.ts makeRealBatches), one thread, CPU ns a record, least of
 * --rounds: the hash computed inside each lookup (findOrInsert) against hashed first in a
 * pass of its own (hashKeys, then findOrInsertHashed), for a fresh table (inserts and hits)
 * and a filled one (hits only); and what a call costs a hash when the key words are passed
 * as u32 (boxed past 2^31) or as int32.
 *
 *   node dist/bench/probes/held-lookup.js [--rows 3000000] [--rounds 5]
 */
import { ScanTable } from '../../src/engine/scan-table.js';
import { hashKeys, keyHash } from '../../src/engine/scan-core.js';
import { KEY_WORDS, KeyBuilder } from '../../src/engine/scan-ingest.js';
import { KEY_RF } from '../../src/engine/scan-layout.js';
import { SHARD_BUCKETS } from '../../src/flow/hash.js';
import { makeRealBatches, W } from '../records.js';
import { numArg as arg } from '../args.js';

const rows = arg('rows', 3_000_000);
const rounds = arg('rounds', 5);
const { batches } = makeRealBatches(rows, 11, 0.25);

// every record's key words and bucket, then stably sorted by bucket (what a flush reads)
const keys = new KeyBuilder(new ScanTable(W, 1 << 14));
const words = new Uint32Array(rows * KEY_WORDS);
const buckets = new Uint16Array(rows);
let n = 0;
for (const b of batches) {
  keys.ofBatch(b);
  words.set(keys.words.subarray(0, b.n * KEY_WORDS), n * KEY_WORDS);
  buckets.set(keys.buckets.subarray(0, b.n), n);
  n += b.n;
}
const start = new Int32Array(SHARD_BUCKETS + 1);
for (let i = 0; i < n; i++) start[buckets[i]! + 1]!++;
for (let b = 0; b < SHARD_BUCKETS; b++) start[b + 1]! += start[b]!;
const k = new Uint32Array(n * KEY_WORDS);
const bucketOfRow = new Uint16Array(n);
for (let i = 0; i < n; i++) {
  const r = start[buckets[i]!]!++;
  bucketOfRow[r] = buckets[i]!;
  k.set(words.subarray(i * KEY_WORDS, (i + 1) * KEY_WORDS), r * KEY_WORDS);
}
const hashes = new Uint32Array(n);

function lookupsHashInside(t: ScanTable): number {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const o = i * KEY_WORDS;
    x ^= t.findOrInsert(k[o]! | 0, k[o + 1]! | 0, k[o + 2]! | 0, k[o + 3]! | 0, k[o + 4]! | 0, k[o + 5]! | 0, bucketOfRow[i]!);
  }
  return x;
}

function lookupsHashed(t: ScanTable): number {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const o = i * KEY_WORDS;
    x ^= t.findOrInsertHashed(hashes[i]! | 0, k[o]! | 0, k[o + 1]! | 0, k[o + 2]! | 0, k[o + 3]! | 0, k[o + 4]! | 0, k[o + 5]! | 0, bucketOfRow[i]!);
  }
  return x;
}

/**
 * Five copies of one function, called in turn from one place: a call site of five targets,
 * which V8 does not inline (as a callee too large to inline is not): each key's words go
 * through a real call, as arguments.
 */
const callees = [0, 1, 2, 3, 4].map(() => new Function('keyHash', 'return (a, b, c, d, e, f) => keyHash(a, b, c, d, e, f);')(keyHash) as (...w: number[]) => number);

/** A keyHash call a key, its words as they come from the array (u32: those past 2^31 are not small integers). */
function callU32(): number {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const o = i * KEY_WORDS;
    x ^= callees[i % 5]!(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, k[o + 4]!, k[o + 5]! & KEY_RF);
  }
  return x;
}

/** The same calls with the words as int32 (the same bits, small integers to V8). */
function callInt32(): number {
  let x = 0;
  for (let i = 0; i < n; i++) {
    const o = i * KEY_WORDS;
    x ^= callees[i % 5]!(k[o]! | 0, k[o + 1]! | 0, k[o + 2]! | 0, k[o + 3]! | 0, k[o + 4]! | 0, k[o + 5]! & KEY_RF);
  }
  return x;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const results = new Map<string, number[]>();
const time = (name: string, f: () => unknown): void => {
  const t0 = cpuMs();
  f();
  const ms = cpuMs() - t0;
  results.set(name, [...(results.get(name) ?? []), ms]);
};
let sink = 0;
for (let round = 0; round < rounds; round++) {
  time('hashKeys: the hash pass alone', () => hashKeys(k, KEY_WORDS, n, hashes));
  const a = new ScanTable(W, Math.ceil(rows / 2));
  time('findOrInsert, hash inside: fresh table', () => (sink ^= lookupsHashInside(a)));
  time('findOrInsert, hash inside: filled table (hits)', () => (sink ^= lookupsHashInside(a)));
  const b = new ScanTable(W, Math.ceil(rows / 2));
  time('findOrInsertHashed after hashKeys: fresh table', () => (sink ^= lookupsHashed(b)));
  time('findOrInsertHashed after hashKeys: filled table (hits)', () => (sink ^= lookupsHashed(b)));
  if (a.count !== b.count) throw new Error(`${a.count} entries against ${b.count}`);
  time('a keyHash call, words passed as u32', () => (sink ^= callU32()));
  time('a keyHash call, words passed as int32', () => (sink ^= callInt32()));
}
console.log(`${n.toLocaleString('en-US')} held records sorted by bucket, one thread, CPU ns a record, least of ${rounds} rounds (${sink & 1})`);
console.log('| step | ns/record |');
console.log('|---|---:|');
for (const [name, ms] of results) console.log(`| ${name} | ${((Math.min(...ms) * 1e6) / n).toFixed(1)} |`);
