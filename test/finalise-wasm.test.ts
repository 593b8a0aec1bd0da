/**
 * The inbound finalisation in WebAssembly (assembly/shared/scan-finalise.ts, a table in its
 * arena) against the JavaScript one (FLOWSIEVE_FINALISE=js): the same verdicts and
 * endpoint-days, byte for byte as JSON (fields, order, floating point), under several
 * thresholds, with a bucket too large for the module's scratch (finalised in JavaScript in
 * its turn).
 * Counts are fractional so that a sum in another order would show.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { scanArena } from '../dist/src/engine/scan-wasm.js';
import { sortByBucket, type FinaliseExports } from '../dist/src/engine/scan-finalise-wasm.js';
import { BUCKET_SHIFT, ENTRY_WORDS, RF, WIN } from '../dist/src/engine/scan-layout.js';
import { SHARD_BUCKETS } from '../dist/src/flow/hash.js';
import { allocBatch } from '../dist/src/flow/batch.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { rng } from '../dist/bench/records.js'; // xorshift32 in [0, 1)
import type { FinalizeOptions } from '../dist/src/engine/verdict.js';

const W = 3600;
const T0 = 1717200000; // 2024-06-01T00:00:00Z
const built = scanArena() !== null;

/**
 * Batches of inbound records: scanner sources over hundreds of endpoints (some IPv6, in
 * several clouds, accounts and regions, some counts unknown), endpoints seen twice, and
 * many one-endpoint keys; `crowd` endpoints more for one source on one port and window.
 */
function batchesOf(seed: number, crowd: number) {
  const r = rng(seed);
  const out = [];
  const size = 4096;
  let b = allocBatch(size);
  const strings = ['', '111111111111', '222222222222', 'us-east-1', 'eu-west-1', 'westeurope'];
  const put = (src: number, v6: boolean, dst: number, port: number, start: number, packets: number, bytes: number): void => {
    if (b.n === size) {
      out.push(b);
      b = allocBatch(size);
    }
    if (b.strings.length === 0) b.strings.push(...strings);
    const i = b.n++;
    b.feed[i] = 1;
    b.src.set(v6 ? [0x20010db8, 0, 0, src] : [0, 0, 0xffff, src >>> 0], i * 4);
    b.dst.set(dst % 11 === 0 ? [0x20010db8, 1, 0, dst] : [0, 0, 0xffff, (0x0a000000 + dst) >>> 0], i * 4);
    b.proto[i] = port === 53 ? 17 : 6;
    b.dport[i] = port;
    b.packets[i] = packets;
    b.bytes[i] = bytes;
    b.start[i] = start;
    b.end[i] = start + Math.floor(r() * 40);
    b.cloud[i] = dst % 7 === 0 ? 1 : dst % 13 === 0 ? 2 : 0;
    b.account[i] = 1 + (dst % 2);
    b.region[i] = 3 + Math.floor(r() * 3);
  };
  const frac = (x: number): number => Math.floor(x * 1000) / 7; // not integers: sums show their order
  for (let k = 0; k < 120; k++) {
    const steady = k % 3 !== 0;
    const start = T0 + Math.floor(r() * W * 30);
    const n = 3 + Math.floor(r() * 300);
    for (let j = 0; j < n; j++) {
      const dst = Math.floor(r() * 2000);
      const packets = k % 5 === 0 && j % 4 === 0 ? NaN : steady ? 1.5 : frac(1 + r() * 9);
      const bytes = k % 8 === 0 ? NaN : steady ? 44.25 : frac(40 + r() * 900);
      put(0x2d000000 + k * 7919, k % 9 === 0, dst, [22, 23, 445, 3389][k % 4]!, start + Math.floor(r() * 600), packets, bytes);
      if (r() < 0.15) put(0x2d000000 + k * 7919, k % 9 === 0, dst, [22, 23, 445, 3389][k % 4]!, start + Math.floor(r() * 600), frac(r() * 5), frac(r() * 500));
    }
  }
  for (let k = 0; k < 20000; k++) put(0x51000000 + k * 104729, k % 17 === 0, Math.floor(r() * 2000), 443, T0 + Math.floor(r() * W * 30), frac(1 + r() * 20), frac(60 + r() * 5000));
  for (let j = 0; j < crowd; j++) put(0x0b0b0b0b, false, 5000 + j, 22, T0 + 100 + (j % 500), 1, 60);
  if (b.n > 0) out.push(b);
  return out;
}

/** A table that holds records back: in its arena (WebAssembly memory). */
function tableOf(seed: number, crowd: number): InstanceType<typeof ScanTable> {
  const t = new ScanTable(W, 1 << 12, 1, 1 << 14);
  for (const b of batchesOf(seed, crowd)) t.addBatch(b);
  return t;
}

/** The finalisation as JSON, in the order it came out (the module must give the same order). */
function finalised(t: InstanceType<typeof ScanTable>, opts: FinalizeOptions, js: boolean): string {
  if (js) process.env.FLOWSIEVE_FINALISE = 'js';
  else delete process.env.FLOWSIEVE_FINALISE;
  return JSON.stringify(t.finalize(opts));
}

const OPTIONS: FinalizeOptions[] = [
  { thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: true },
  { thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 1 }, windowSeconds: W, nearMisses: true, endpointSources: true },
  { thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 0 }, windowSeconds: W, nearMisses: false },
  { thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 3, minRegions: 2, minClouds: 2 }, windowSeconds: W, nearMisses: true, uptoWindow: Math.floor(T0 / W) + 12 },
];

describe.skipIf(!built)('finalisation in WebAssembly (assembly/shared/scan-finalise.ts)', () => {
  afterEach(() => {
    delete process.env.FLOWSIEVE_FINALISE;
  });

  it('gives the JavaScript verdicts and endpoint-days byte for byte under several thresholds', () => {
    const t = tableOf(7, 0);
    expect(t.arena?.finaliseScratch).toBeGreaterThan(0);
    for (const opts of OPTIONS) {
      const js = finalised(t, opts, true);
      const wasm = finalised(t, opts, false);
      expect(wasm).toBe(js);
      expect(JSON.parse(wasm).verdicts.length).toBeGreaterThan(0);
    }
  });

  it('keeps only the scans without near misses, each rule deciding in the module as in failedConditions', () => {
    const t = tableOf(7, 0);
    // the keys the module itself writes (JavaScript's kept() would hide one too many)
    const written = (opts: FinalizeOptions): number => {
      const mod = t.arena!.finalise(t.n, 0xffffffff, Math.max(1, opts.thresholds.minEndpoints), opts.thresholds.minEndpoints)!;
      mod.keep(opts.thresholds, opts.nearMisses);
      let n = 0;
      for (let b = 0; b < SHARD_BUCKETS; b++) {
        if (mod.start[b] === mod.start[b + 1]) continue;
        expect(mod.bucket(b)).toBeGreaterThan(0);
        n += mod.keysWritten();
      }
      return n;
    };
    const scans = (opts: FinalizeOptions): number => {
      const js = finalised(t, opts, true);
      expect(finalised(t, opts, false)).toBe(js);
      const verdicts = JSON.parse(js).verdicts.length;
      expect(written(opts)).toBe(verdicts);
      return verdicts;
    };
    const base = { ...DEFAULT_THRESHOLDS, minEndpoints: 3, maxCvPackets: 1, maxCvBytes: 1, maxCvFlows: 1 };
    const loose = scans({ thresholds: base, windowSeconds: W, nearMisses: false });
    expect(loose).toBeGreaterThan(2);
    // each rule alone, set so that it drops some of those scans but not all (NaN: every CV fails, as `!(cv <= NaN)`)
    const rules: Partial<typeof base>[] = [
      { minAccounts: 2 }, { minRegions: 3 }, { minClouds: 2 }, { maxCvPackets: 0.3 }, { maxCvBytes: 0.3 }, { maxCvFlows: 0.2 },
    ];
    for (const rule of rules) {
      const n = scans({ thresholds: { ...base, ...rule }, windowSeconds: W, nearMisses: false });
      expect(n, JSON.stringify(rule)).toBeGreaterThan(0);
      expect(n, JSON.stringify(rule)).toBeLessThan(loose);
    }
    expect(scans({ thresholds: { ...base, maxCvFlows: NaN }, windowSeconds: W, nearMisses: false })).toBe(0);
  });

  it('decides a CV at its threshold exactly without near misses: at the exact CV a key is kept, just below it dropped', () => {
    // the module decides most keys before sorting their endpoints, by a CV folded in another
    // order; one that near its threshold must get the exact CV (the sorted values' Welford)
    const t = tableOf(7, 0);
    const base = { ...DEFAULT_THRESHOLDS, minEndpoints: 3, maxCvPackets: 50, maxCvBytes: 50, maxCvFlows: 50 };
    const all = JSON.parse(finalised(t, { thresholds: base, windowSeconds: W, nearMisses: true }, true)).verdicts as Record<string, number | null>[];
    const below = (x: number): number => {
      const v = new DataView(new ArrayBuffer(8));
      v.setFloat64(0, x);
      v.setBigUint64(0, v.getBigUint64(0) - 1n);
      return v.getFloat64(0);
    };
    const has = (opts: FinalizeOptions, key: Record<string, number | null>): boolean => {
      const js = finalised(t, opts, true);
      expect(finalised(t, opts, false)).toBe(js);
      return (JSON.parse(js).verdicts as Record<string, number | null>[]).some((v) => v.src === key.src && v.window === key.window && v.dstPort === key.dstPort);
    };
    for (const [cv, rule] of [['cvPackets', 'maxCvPackets'], ['cvBytes', 'maxCvBytes'], ['cvFlows', 'maxCvFlows']] as const) {
      // the key of the highest such CV: every other key's is lower, so it alone comes and goes
      const key = all.filter((v) => typeof v[cv] === 'number' && v[cv]! > 0).sort((a, b) => b[cv]! - a[cv]!)[0]!;
      expect(key, cv).toBeDefined();
      expect(has({ thresholds: { ...base, [rule]: key[cv]! }, windowSeconds: W, nearMisses: false }, key), cv).toBe(true);
      expect(has({ thresholds: { ...base, [rule]: below(key[cv]!) }, windowSeconds: W, nearMisses: false }, key), cv).toBe(false);
    }
  });

  it('finalises a bucket larger than its scratch in JavaScript, in its turn', () => {
    const crowd = 70000;
    const t = tableOf(11, crowd);
    expect(t.arena?.finaliseScratch).toBeGreaterThan(0);
    expect(t.arena!.finaliseScratch).toBeLessThan(crowd); // the crowded source's bucket does not fit
    const opts = OPTIONS[0]!;
    const wasm = finalised(t, opts, false);
    expect(wasm).toBe(finalised(t, opts, true));
    expect(JSON.parse(wasm).verdicts.some((v: { endpoints: number }) => v.endpoints === crowd)).toBe(true);
  });

  it('sorts by bucket in pieces as one pass would: each bucket in entry order, windows past the bound left out', () => {
    const t = tableOf(5, 0);
    const count = t.n; // the held records added
    expect(count).toBeGreaterThan(3 * 8192); // several of the run's pieces
    const arena = t.arena!;
    // what the sort must give: a stable counting sort by source bucket of the entries of windows <= upto
    const reference = (upto: number): number[][] => {
      const byBucket: number[][] = Array.from({ length: SHARD_BUCKETS }, () => []);
      for (let e = 0; e < count; e++) if (t.u[e * ENTRY_WORDS + WIN]! <= upto) byBucket[t.u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT]!.push(e);
      return byBucket;
    };
    const sorted = (start: Int32Array, order: Int32Array): number[][] =>
      Array.from({ length: SHARD_BUCKETS }, (_, b) => Array.from(order.subarray(start[b]!, start[b + 1]!)));
    const upto = Math.floor(T0 / W) + 12;
    const some = reference(upto);
    const m = some.reduce((n, list) => n + list.length, 0);
    expect(m).toBeGreaterThan(0);
    expect(m).toBeLessThan(count);
    // the run's way (pieces of PIECE), then pieces cut at odd places through the module's exports
    const mod = arena.finalise(count, upto, 1, 0)!;
    expect(mod.entries).toBe(m);
    expect(sorted(mod.start, mod.order)).toEqual(some);
    const ex = (arena as unknown as { ex: FinaliseExports }).ex;
    for (const piece of [1, 3, 7, 1000, count]) {
      mod.order.fill(-1);
      expect(sortByBucket(ex, count, upto, piece)).toBe(m);
      expect(sorted(mod.start, mod.order)).toEqual(some);
    }
    // laid out now, sorted later (the tail split): every window
    const later = arena.finalise(count, 0xffffffff, 1, 0, false)!;
    expect(later.entries).toBe(count);
    later.sortAll();
    expect(sorted(later.start, later.order)).toEqual(reference(0xffffffff));
  });
});
