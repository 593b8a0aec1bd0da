import { describe, expect, it } from 'vitest';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { allocBatch } from '../dist/src/flow/batch.js';
import { bucketOf, hashAddress } from '../dist/src/flow/hash.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
const INBOUND = 1; // Feed.inbound (a const enum: not in the compiled module)

const W = 21600;

/** A batch of inbound TCP/22 records from `src` (IPv4 as a number) to `dsts` destinations. */
/** n inbound records of one source (or of src(i)) to dstBase + i * dstStep, port 22. */
function batchOf(src: number | ((i: number) => number), n: number, dstBase = 0x0a000000, dstStep = 1) {
  const b = allocBatch(n);
  for (let i = 0; i < n; i++) {
    b.feed[i] = INBOUND;
    b.src.set([0, 0, 0xffff, typeof src === 'number' ? src : src(i)], i * 4);
    b.dst.set([0, 0, 0xffff, dstBase + i * dstStep], i * 4);
    b.proto[i] = 6;
    b.dport[i] = 22;
    b.packets[i] = 1;
    b.bytes[i] = 44;
    b.start[i] = 1700006400 + (i % 60);
    b.end[i] = b.start[i]! + 1;
  }
  b.n = n;
  return b;
}

describe('scan table: the bucket-laid-out index', () => {
  it('one source with far more endpoints than its bucket region holds: every entry found once, verdict exact', () => {
    // a small table: the one bucket's region overflows, the probe moves on, the table doubles many times
    const t = new ScanTable(W, 1 << 10, 2);
    const src = 0x2d060101;
    const n = 60000;
    t.addBatch(batchOf(src, n));
    t.addBatch(batchOf(src, n)); // the same records again: found, not inserted
    expect(t.n).toBe(n);
    const bucket = bucketOf(hashAddress([0, 0, 0xffff, src], 0));
    let inBucket = 0;
    let twice = 0;
    for (let e = 0; e < t.n; e++) {
      if (t.bucket(e) === bucket) inBucket++;
      if (t.f(e) === 2) twice++;
    }
    expect([inBucket, twice]).toEqual([n, n]);
    const r = t.finalize({ thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: false });
    expect(r.keys).toBe(1);
    expect(r.entries).toBe(n);
    expect(r.verdicts).toHaveLength(1);
    expect(r.verdicts[0]).toMatchObject({ src: '45.6.1.1', endpoints: n, flows: 2 * n, packets: 2 * n, cvFlows: 0 });
  });

  it('weighs the regions by the held records of each bucket: a crowded source fits its region (few far probes), in JavaScript and in the module', () => {
    // 8,000 endpoints of one source beside 40,000 one-endpoint sources, held back and added
    // into a table sized for them (no resize): with equal regions (~13 slots a bucket) the
    // crowded bucket's keys would nearly all probe far
    const records = (i: number) => (i % 6 === 0 ? 0x2d060101 : 0x2d000000 + i * 7919);
    const farProbes = (arena: null | undefined) => {
      const t = new ScanTable(W, 1 << 16, 1, 1 << 17, arena);
      t.addBatch(batchOf(records, 48000));
      expect(t.n).toBe(48000);
      return t.farProbes;
    };
    for (const arena of [null, undefined]) expect(farProbes(arena)).toBeLessThan(100);
  });

  it('gives the same verdicts for any index layout (shard count) and any insertion order', () => {
    const make = (shards: number, reverse: boolean) => {
      const t = new ScanTable(W, 1 << 10, shards);
      const sources = Array.from({ length: 300 }, (_, k) => 0x2d000000 + k * 7919);
      if (reverse) sources.reverse();
      for (const s of sources) t.addBatch(batchOf(s, 3 + (s % 9), 0x0a000000 + (s % 5)));
      const r = t.finalize({ thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 5 }, windowSeconds: W, nearMisses: true });
      return { keys: r.keys, entries: r.entries, verdicts: r.verdicts.map((v) => JSON.stringify(v)).sort() };
    };
    const base = make(1, false);
    expect(base.keys).toBe(300);
    expect(base.verdicts.length).toBeGreaterThan(100);
    for (const shards of [1, 2, 3, 8]) for (const rev of [false, true]) expect(make(shards, rev)).toEqual(base);
  });

  it('exported state merges into a table of another layout exactly', () => {
    const a = new ScanTable(W, 1 << 10, 4);
    for (let k = 0; k < 200; k++) a.addBatch(batchOf(0x2d000000 + k * 104729, 1 + (k % 12)));
    const b = new ScanTable(W, 1 << 10, 1);
    b.mergeState(a.exportState());
    b.mergeState(a.exportState());
    expect(b.n).toBe(a.n);
    const opts = { thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: true };
    const va = a.finalize(opts).verdicts.map((v) => ({ ...v, flows: v.flows * 2, packets: v.packets * 2, bytes: v.bytes * 2 }));
    const vb = b.finalize(opts).verdicts;
    const key = (v: { src: string; dstPort: number }) => `${v.src}|${v.dstPort}`;
    expect(vb.map((v) => JSON.stringify(v)).sort()).toEqual(
      va.sort((x, y) => (key(x) < key(y) ? -1 : 1)).map((v) => JSON.stringify(v)).sort(),
    );
  });
});

describe('scan table: a table that starts small', () => {
  it('grows under records added in bucket order without probing far', () => {
    // 40,000 sources of one endpoint each, held back and added a bucket at a time into a
    // table sized for 1,024 entries: crowded regions spill into their neighbours until the
    // table grows. Far probes once walked the cluster this made (tens of thousands of
    // slots a lookup); now each far probe moves to another part of the index.
    const sources = 40000;
    const b = batchOf((k) => (0x2d000000 + Math.imul(k, 2654435761)) >>> 0, sources, 0x0a000001, 0);
    const t = new ScanTable(W, 1 << 10, 1, 1 << 15);
    t.addBatch(b);
    t.addBatch(b);
    expect(t.n).toBe(sources);
    for (let e = 0; e < t.n; e++) if (t.f(e) !== 2) throw new Error(`entry ${e} holds ${t.f(e)} flows`);
    expect(t.farProbes / (2 * sources)).toBeLessThan(2);
  });
});

describe('scan table: held-back records', () => {
  it('give the same table as records added at once, whatever the hold size and however skewed the buckets', () => {
    // one source with 5,000 endpoints (its bucket's part fills again and again) among 3,000 others
    const batches = [batchOf(0x2d060101, 5000)];
    for (let k = 0; k < 3000; k++) batches.push(batchOf((0x2e000000 + Math.imul(k, 2654435761)) >>> 0, 1 + (k % 3)));
    const table = (pendingRows: number) => {
      const t = new ScanTable(W, 1 << 9, 2, pendingRows);
      for (const b of batches) t.addBatch(b);
      for (const b of batches.slice(0, 50)) t.addBatch(b); // seen again: found, not inserted
      const r = t.finalize({ thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 2 }, windowSeconds: W, nearMisses: true });
      return { entries: r.entries, keys: r.keys, verdicts: r.verdicts.map((v) => JSON.stringify(v)).sort() };
    };
    const atOnce = table(0);
    expect(atOnce.entries).toBe(5000 + 3000 * 2);
    for (const pending of [256, 1000, 4097, 1 << 16]) expect(table(pending)).toEqual(atOnce);
  });
});

describe('scan table: the index layout', () => {
  it('puts every key in the same slot as before (home and far slots computed in int32 and exact doubles)', async () => {
    // the slots of 60,000 keys, a seventh of them from one crowded source (far probes), with
    // u32 words past 2^31, through every resize: a checksum of the index taken before the
    // slot arithmetic was rewritten to avoid deoptimisations (the same slots, bit for bit).
    // Taken again when each resize began to weigh the buckets' regions by their entries
    // (ScanCore.layoutRegions): far probes 29,398 and 23,105 before, 1,873 and 1,262 after
    const { ScanCore } = await import('../dist/src/engine/scan-core.js');
    let sum = 0;
    const probes: number[] = [];
    for (const shards of [1, 3]) {
      const t = new ScanCore(60, 1 << 10, shards);
      let x = 12345;
      for (let i = 0; i < 60000; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        const crowd = i % 7 === 0;
        t.findOrInsert(crowd ? 0xc0a80001 : x, (6 << 16) | (i & 0xffff), i % 5, (((i % 4) << 30) | i) >>> 0, (x ^ 0x9e3779b9) >>> 0, i & 3, crowd ? 5 : (x >>> 20) & 4095);
      }
      const index = (t as unknown as { index: Uint32Array }).index;
      for (let s = 0; s < index.length; s++) sum = (Math.imul(sum, 31) + index[s]!) >>> 0;
      probes.push(t.farProbes);
    }
    expect(probes).toEqual([1873, 1262]);
    expect(sum).toBe(3402405880);
  });

  it('adds its held records at an early flush only once it holds entries, or when told to (tail.ts)', () => {
    const t = new ScanTable(W, 1 << 14, 1, 1 << 12); // a held buffer of 4,096 rows
    t.addBatch(batchOf((i) => 0x2d000000 + i * 7919, 1000));
    t.flushEarly(false); // an empty table: the rows wait for the finalisation's one pass
    expect(t.count).toBe(0);
    expect(t.entriesBound).toBe(1000);
    t.flushEarly(true);
    expect(t.count).toBe(1000);
    t.addBatch(batchOf((i) => 0x2e000000 + i * 7919, 500));
    t.flushEarly(false); // entries already: the rows held since are a pass of their own anyway
    expect(t.count).toBe(1500);
    t.addBatch(batchOf((i) => 0x2e000000 + i * 7919, 500)); // the same records again: found
    expect(t.n).toBe(1500);
  });
});

describe('scan table: the index written before its first rows (ScanCore.touchIndex)', () => {
  it('writes a fresh index once, when the rows are enough to reach nearly every page, and never one that holds entries', () => {
    const slots = (t: ScanTable): number => (t as unknown as { index: Uint32Array }).index.length;
    // held rows: the first flush writes the index first (a table sized far above its rows does not)
    const big = new ScanTable(W, 1 << 16, 1, 1 << 12);
    expect(big.touchIndex(slots(big) / 512)).toBe(false); // too few rows for its pages
    expect(big.touchIndex(slots(big))).toBe(false); // once only: the first flush decides
    const fresh = new ScanTable(W, 1 << 16, 1, 1 << 12);
    expect(fresh.touchIndex(slots(fresh) / 256)).toBe(true);
    // a table holding entries: its index is left as it is, every entry found again
    const t = new ScanTable(W, 1 << 14, 1, 0);
    const b = batchOf(0x2d060101, 3000);
    t.addBatch(b);
    expect(t.touchIndex(1e9)).toBe(false);
    t.addBatch(b);
    expect(t.n).toBe(3000);
    const r = t.finalize({ thresholds: DEFAULT_THRESHOLDS, windowSeconds: W, nearMisses: false });
    expect(r.verdicts.map((v) => v.endpoints)).toEqual([3000]);
  });

  it('gives the same table whether its index was written first or not (held rows, in the module and in JavaScript, through growth)', () => {
    const batches = [batchOf(0x2d060101, 5000)];
    for (let k = 0; k < 3000; k++) batches.push(batchOf((0x2e000000 + Math.imul(k, 2654435761)) >>> 0, 1 + (k % 3)));
    const table = (pendingRows: number, capacity: number) => {
      const t = new ScanTable(W, capacity, 1, pendingRows);
      for (const b of batches) t.addBatch(b);
      const r = t.finalize({ thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 2 }, windowSeconds: W, nearMisses: true });
      return { entries: r.entries, verdicts: r.verdicts.map((v) => JSON.stringify(v)).sort() };
    };
    const atOnce = table(0, 1 << 14);
    expect(atOnce.entries).toBe(5000 + 3000 * 2);
    // a table sized for its rows (written first), one far larger (not), one that grows from small (rebuilt indexes written first)
    const saved = process.env.FLOWSIEVE_ACCUMULATE;
    try {
      // 'off': the index written by fill(0) as without the native module (input/native.ts populate);
      // 'now': populated by this thread alone, nothing backed ahead on the pool (populateLater)
      for (const populate of ['on', 'off', 'now']) {
        process.env.FLOWSIEVE_POPULATE = populate;
        for (const accumulate of ['wasm', 'js']) {
          process.env.FLOWSIEVE_ACCUMULATE = accumulate; // 'js': the table in JavaScript arrays (scan-wasm.ts heldModule)
          for (const [pending, capacity] of [[1 << 16, 1 << 14], [1 << 16, 1 << 22], [1 << 16, 1 << 10], [4097, 1 << 10]] as const) expect(table(pending, capacity)).toEqual(atOnce);
        }
      }
    } finally {
      delete process.env.FLOWSIEVE_POPULATE;
      if (saved === undefined) delete process.env.FLOWSIEVE_ACCUMULATE;
      else process.env.FLOWSIEVE_ACCUMULATE = saved;
    }
  });
});
