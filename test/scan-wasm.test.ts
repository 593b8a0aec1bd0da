import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { HeldSorter, heldSorter, scanArena, useRingMemory } from '../dist/src/engine/scan-wasm.js';
import { BatchRing, createBatchRing } from '../dist/src/flow/batch-ring.js';
import { keyHash } from '../dist/src/engine/scan-core.js';
import { HELD_WORDS, KEY_RF } from '../dist/src/engine/scan-layout.js';
import { allocBatch } from '../dist/src/flow/batch.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import type { FlowBatchData } from '../dist/src/flow/batch.js';

const INBOUND = 1; // Feed.inbound (a const enum: not in the compiled module)
const OUTBOUND = 2;
const W = 3600;
const built = scanArena() !== null; // dist/wasm/scan-held.wasm (an install without AssemblyScript has none)

/** A seeded generator (xorshift32): the same batches every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

/**
 * Random batches of the shapes that probe the table differently: a few crowded sources with
 * thousands of endpoints (their bucket regions overflow: far probes), many keys of one
 * record, repeated records (runs of one key), IPv6 sources and destinations, words past
 * 2^31, unknown counts (NaN), several accounts, regions, clouds and windows, and records
 * that are not inbound.
 */
function randomBatches(seed: number, count: number, size: number): FlowBatchData[] {
  const r = rng(seed);
  const crowd = [0xc0a80001, 0x2d060101, 0xfe000001];
  const out: FlowBatchData[] = [];
  for (let k = 0; k < count; k++) {
    const b = allocBatch(size);
    b.strings = ['', 'acct-a', 'acct-b', 'eu-west-1', 'us-east-1', 'acct-c'];
    let prev = -1;
    for (let i = 0; i < size; i++) {
      const kind = r() % 10;
      const o = i * 4;
      if (kind === 0 && prev >= 0) {
        // the previous record again (a run of one key)
        b.src.copyWithin(o, prev * 4, prev * 4 + 4);
        b.dst.copyWithin(o, prev * 4, prev * 4 + 4);
        b.feed[i] = b.feed[prev]!;
        b.proto[i] = b.proto[prev]!;
        b.dport[i] = b.dport[prev]!;
        b.cloud[i] = b.cloud[prev]!;
        b.account[i] = b.account[prev]!;
        b.region[i] = b.region[prev]!;
        b.start[i] = b.start[prev]! + (r() % 5);
      } else {
        const s = kind <= 3 ? crowd[r() % crowd.length]! : r();
        if (kind === 9) b.src.set([0x20010db8, r(), r() % 3, r() % 50], o);
        else b.src.set([0, 0, 0xffff, s], o);
        if (r() % 13 === 0) b.dst.set([0x2a050000, 0, r() % 7, r() % 300], o);
        else b.dst.set([0, 0, 0xffff, kind <= 3 ? r() : 0x0a000000 + (r() % 64)], o);
        b.feed[i] = r() % 17 === 0 ? OUTBOUND : INBOUND;
        b.proto[i] = r() % 4 === 0 ? 17 : 6;
        b.dport[i] = r() % 3 === 0 ? r() % 65536 : [22, 23, 443, 3389][r() % 4]!;
        b.cloud[i] = r() % 3;
        b.account[i] = [1, 2, 5][r() % 3]!;
        b.region[i] = 3 + (r() % 2);
        b.start[i] = 1_700_000_000 + (r() % (4 * W));
      }
      b.end[i] = b.start[i]! + (r() % 120);
      b.packets[i] = r() % 11 === 0 ? NaN : 1 + (r() % 9);
      b.bytes[i] = r() % 7 === 0 ? NaN : 40 + (r() % 5000);
      prev = i;
    }
    b.n = size;
    out.push(b);
  }
  return out;
}

/** Everything a table holds, as bytes and strings, and its verdicts. */
function contents(t: ScanTable) {
  const s = t.exportState();
  const index = (t as unknown as { index: Uint32Array }).index;
  const opts = { thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 3 }, windowSeconds: W, nearMisses: true };
  return {
    n: s.n,
    words: Buffer.from(s.words.buffer, s.words.byteOffset, s.words.byteLength).toString('base64'),
    counts: Buffer.from(s.counts.buffer, s.counts.byteOffset, s.counts.byteLength).toString('base64'),
    index: Buffer.from(index.buffer, index.byteOffset, index.byteLength).toString('base64'),
    accounts: s.accounts,
    regions: s.regions,
    v6: [...s.v6],
    farProbes: t.farProbes,
    verdicts: t.finalize(opts).verdicts.map((v) => JSON.stringify(v)).sort(),
  };
}

/** The same batches into a table of each storage, with a merge, an at-once batch and a window drop along the way. */
function fill(arena: ReturnType<typeof scanArena>, batches: FlowBatchData[], shards: number, pendingRows: number): ScanTable {
  const t = new ScanTable(W, 1 << 8, shards, pendingRows, arena);
  const other = new ScanTable(W, 1 << 8, 1, 0, null);
  batches.forEach((b, i) => {
    if (i % 7 === 3) t.addBatch(b, true); // added at once, in JavaScript, into the arena's arrays
    else t.addBatch(b);
    if (i % 5 === 1) other.addBatch(b);
    if (i === Math.floor(batches.length / 2)) t.mergeState(other.exportState());
  });
  t.dropWindowsUpTo(Math.floor(1_700_000_000 / W)); // the first window out: the index rebuilt over fewer entries
  for (const b of batches.slice(0, 3)) t.addBatch(b);
  return t;
}

describe.skipIf(!built)('inbound table in WebAssembly (assembly/scan-held.ts)', () => {
  it('holds the same entries, in the same order and index slots, with the same verdicts as the JavaScript path', () => {
    for (const [seed, shards, pendingRows] of [[1, 1, 1 << 12], [2, 3, 5000], [3, 2, 300], [4, 1, 1 << 16]] as const) {
      const batches = randomBatches(seed, 12, 3000);
      const js = contents(fill(null, batches, shards, pendingRows));
      expect(js.n).toBeGreaterThan(10000);
      expect(js.farProbes).toBeGreaterThan(0);
      expect(js.v6.length).toBeGreaterThan(0);
      const wasmTable = fill(scanArena(), batches, shards, pendingRows);
      expect(wasmTable.arena).not.toBeNull();
      expect(contents(wasmTable)).toEqual(js);
    }
  });

  it('sorts a part by the key hashes JavaScript makes (four rows at a time and the rest one by one)', () => {
    const r = rng(11);
    for (const m of [1, 3, 4, 5, 1002]) {
      const s = heldSorter(64 * 1024, 1024, W)!;
      for (let row = 0; row < m; row++) {
        // word 5 random: its bits 20-31 the row's bucket
        for (let w = 0; w < HELD_WORDS; w++) s.rec[row * HELD_WORDS + w] = w === 6 || w === 7 ? r() & 0xffff : r();
      }
      s.fill[0] = m;
      expect(s.sort(0, m)).toBe(0);
      for (let row = 0; row < m; row++) {
        const o = row * HELD_WORDS;
        const k = s.sorted;
        expect(s.sortedHash[row]).toBe(keyHash(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, k[o + 4]!, k[o + 5]! & KEY_RF) >>> 0);
      }
    }
  });

  it('holds batches in the module as in JavaScript: several stages a batch, a buffer grown and flushed in the middle, a string table past the maps', () => {
    for (const [seed, pendingRows] of [[5, 1 << 15], [6, 2000], [7, 1 << 16]] as const) {
      const batches = randomBatches(seed, 6, 9000); // past the stage (4,096 records)
      // a batch whose string table is larger than the module's maps (held in JavaScript), its ids among the others
      const wide = batches[2]!;
      wide.strings = [...wide.strings, ...Array.from({ length: 5000 }, (_, i) => `s${i}`)];
      for (let i = 0; i < wide.n; i += 3) wide.account[i] = 6 + (i % 4999);
      const js = contents(fill(null, batches, 1, pendingRows));
      expect(js.accounts.length).toBeGreaterThan(1000);
      expect(contents(fill(scanArena(), batches, 1, pendingRows))).toEqual(js);
    }
  });

  it('goes on in JavaScript arrays when the table outgrows the memory it may take, in the middle of a part', () => {
    const batches = randomBatches(9, 12, 3000);
    const js = contents(fill(null, batches, 1, 1 << 16));
    for (const maxBytes of [150_000, 600_000, 1_200_000]) {
      const t = fill(scanArena(maxBytes), batches, 1, 1 << 16);
      expect(t.arena).toBeNull();
      expect(contents(t)).toEqual(js);
    }
  });

  it('interns the IPv6 addresses of rows held in the module in record order, around records that stop it', () => {
    // mostly IPv6 records (held in the module, their addresses interned after each stop),
    // between records whose accounts are new (each stops the module), some of them IPv6 too
    const r = rng(11);
    const batches: FlowBatchData[] = [];
    for (let k = 0; k < 3; k++) {
      const b = allocBatch(6000); // past the stage (4,096 records)
      b.strings = ['', 'eu-west-1', ...Array.from({ length: 400 }, (_, i) => `acct-${k}-${i}`)];
      for (let i = 0; i < 6000; i++) {
        const o = i * 4;
        const side = r() % 4; // 0: both IPv6, 1: the source, 2: the destination, 3: neither
        b.src.set(side <= 1 ? [0x20010db8, 0, r() % 5, r() % 900] : [0, 0, 0xffff, 0x2d000000 + (r() % 900)], o);
        b.dst.set(side === 0 || side === 2 ? [0x2a050000, 0, 0, r() % 700] : [0, 0, 0xffff, 0x0a000000 + (r() % 64)], o);
        b.feed[i] = r() % 19 === 0 ? OUTBOUND : INBOUND;
        b.proto[i] = 6;
        b.dport[i] = [22, 443, 3389][r() % 3]!;
        // a new account every 15th record (it stops the module), else one seen already
        const seen = Math.min(400, Math.floor(i / 15) + 1);
        b.account[i] = 2 + (i % 15 === 0 ? seen - 1 : r() % seen);
        b.region[i] = 1;
        b.start[i] = 1_700_000_000 + (r() % (2 * W));
        b.end[i] = b.start[i]! + 1;
        b.packets[i] = 1 + (r() % 3);
        b.bytes[i] = 60 + (r() % 900);
      }
      b.n = 6000;
      batches.push(b);
    }
    for (const pendingRows of [1 << 15, 1500]) {
      const make = (arena: ReturnType<typeof scanArena>) => {
        const t = new ScanTable(W, 1 << 8, 1, pendingRows, arena);
        for (const b of batches) t.addBatch(b);
        return t;
      };
      const js = contents(make(null));
      expect(js.v6.length).toBeGreaterThan(2000);
      expect(js.accounts.length).toBeGreaterThan(1000);
      expect(contents(make(scanArena()))).toEqual(js);
    }
  });

  it('keeps counts that are not u32s exactly (wide rows), as records added at once do', () => {
    // whole counts below 2^32 - 2 are held as u32 words; the rest (fractions, 2^32 - 2 and
    // up, negative, infinite) as wide rows whose f64 counts wait in a list of their own
    const odd = [1.5, 0xfffffffe, 0xffffffff, 0xfffffffd, 2 ** 32 + 7, 1e15 + 0.5, -3, -0, Infinity, 0.25, 2 ** 53];
    const r = rng(13);
    const batches = randomBatches(12, 8, 3000);
    for (const b of batches) {
      for (let i = 0; i < b.n; i++) {
        if (r() % 4 === 0) b.packets[i] = odd[r() % odd.length]!;
        if (r() % 3 === 0) b.bytes[i] = odd[r() % odd.length]!;
      }
    }
    // the entries as a set (tables filled in other orders number them differently), counts to the bit
    const entries = (t: ScanTable): string[] => {
      const st = t.exportState();
      const bits = new Uint32Array(st.counts.buffer, st.counts.byteOffset, st.counts.length * 2);
      return Array.from({ length: st.n }, (_, e) => `${st.words.subarray(e * 9, e * 9 + 9).join(',')} ${bits.subarray(e * 4, e * 4 + 4).join(',')}`).sort();
    };
    const opts = { thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 3 }, windowSeconds: W, nearMisses: true };
    const verdicts = (t: ScanTable) => t.finalize(opts).verdicts.map((v) => JSON.stringify(v)).sort();
    const make = (arena: ReturnType<typeof scanArena>, pendingRows: number) => {
      const t = new ScanTable(W, 1 << 8, 1, pendingRows, arena);
      for (const b of batches) t.addBatch(b);
      return t;
    };
    const atOnce = make(null, 0);
    const want = entries(atOnce);
    expect(want.length).toBeGreaterThan(10000);
    const wantVerdicts = verdicts(atOnce);
    for (const pendingRows of [1 << 15, 700]) {
      // in the module; in JavaScript arrays; in the module until the table leaves its memory
      for (const arena of [scanArena(), null, scanArena(600_000)]) {
        const t = make(arena, pendingRows);
        expect(entries(t)).toEqual(want);
        expect(verdicts(t)).toEqual(wantVerdicts);
      }
    }
  });

  it('one key a record: every record a new entry through each resize', () => {
    const b = allocBatch(50000);
    for (let i = 0; i < 50000; i++) {
      b.feed[i] = INBOUND;
      b.src.set([0, 0, 0xffff, (0x2d000000 + Math.imul(i, 2654435761)) >>> 0], i * 4);
      b.dst.set([0, 0, 0xffff, 0x0a000001], i * 4);
      b.proto[i] = 6;
      b.dport[i] = 22;
      b.packets[i] = 1;
      b.bytes[i] = 60;
      b.start[i] = 1_700_000_000;
      b.end[i] = 1_700_000_001;
    }
    b.n = 50000;
    const make = (arena: ReturnType<typeof scanArena>) => {
      const t = new ScanTable(W, 1 << 6, 1, 1 << 15, arena);
      t.addBatch(b);
      t.addBatch(b);
      return t;
    };
    const w = make(scanArena());
    expect(w.n).toBe(50000);
    expect(contents(w)).toEqual(contents(make(null)));
  });

  it('holds batches read in place in the ring\'s memory as staged ones: ring and private batches mixed, IPv6, records that stop it, a buffer grown and flushed', () => {
    const batches = randomBatches(21, 10, 9000);
    // a batch whose string table is larger than the module's maps (held in JavaScript)
    batches[4]!.strings = [...batches[4]!.strings, ...Array.from({ length: 5000 }, (_, i) => `s${i}`)];
    for (let i = 0; i < 9000; i += 5) batches[4]!.account[i] = 6 + (i % 4999);
    const shared = createBatchRing(batches.length, 9000);
    expect(shared.memory).not.toBeNull();
    const ring = new BatchRing(shared);
    // every other batch copied into a ring slot (the others stay private: staged); one ring batch
    // with a feed column of its own (as --no-spill masks it: spill.ts maskDropped, not in the ring)
    // and one cut to its second half (a spill's slice: views into the slot)
    // each as a shard thread receives it: cloned (its buffer as long as the memory is then, grown since)
    shared.memory!.grow(1);
    const mixed = batches.map((b, k) => (k % 2 === 0 ? structuredClone(inSlot(ring, b)) : b));
    const masked = mixed[6]!;
    const feed = masked.feed.slice(0, masked.n);
    for (let i = 0; i < masked.n; i += 3) feed[i] = 0;
    mixed[6] = { ...masked, feed };
    mixed[8] = halfOf(mixed[8]!);
    const reference = mixed.map((b, k) => (k === 6 || k === 8 ? b : batches[k]!));
    const inPlace = countInPlace();
    try {
      for (const pendingRows of [1 << 15, 3000]) {
        const js = contents(fill(null, reference, 1, pendingRows));
        useRingMemory(shared.memory!, shared.id, shared.data.byteLength);
        const t = fill(scanArena(), mixed, 1, pendingRows);
        expect(contents(t)).toEqual(js);
      }
      expect(inPlace.count()).toBeGreaterThan(4);
    } finally {
      inPlace.restore();
    }
  });

  it('FLOWSIEVE_ACCUMULATE=js keeps the JavaScript arrays and loop', () => {
    const probe = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['-e', "import('./dist/src/engine/scan-table.js').then(({ ScanTable }) => console.log(new ScanTable(60, 1024, 1, 1000).arena === null))"], {
        env: { ...process.env, ...env },
        encoding: 'utf8',
      }).trim();
    expect(probe({ FLOWSIEVE_ACCUMULATE: 'js' })).toBe('true');
    expect(probe({ FLOWSIEVE_ACCUMULATE: '' })).toBe('false');
  });
});

/** A copy of the batch in a slot of the ring (its columns and strings). */
function inSlot(ring: BatchRing, b: FlowBatchData): FlowBatchData {
  const c = ring.take(b.n)!;
  for (const k of ['feed', 'src', 'dst', 'proto', 'sport', 'dport', 'tcpFlags', 'packets', 'bytes', 'start', 'end', 'cloud', 'action', 'direction', 'account', 'region', 'iface', 'instance'] as const) {
    (c[k] as Uint32Array).set(b[k] as Uint32Array);
  }
  c.n = b.n;
  c.strings = b.strings;
  return c;
}

/** The second half of a batch, as views of its columns (spill.ts slice). */
function halfOf(b: FlowBatchData): FlowBatchData {
  const from = b.n >> 1;
  const cut = <T extends { subarray(a: number, z: number): T }>(a: T, per = 1) => a.subarray(from * per, b.n * per);
  const { feed, src, dst, proto, sport, dport, tcpFlags, packets, bytes, start, end, cloud, action, direction, account, region, iface, instance } = b;
  return {
    ...b,
    n: b.n - from,
    feed: cut(feed), src: cut(src, 4), dst: cut(dst, 4), proto: cut(proto), sport: cut(sport), dport: cut(dport), tcpFlags: cut(tcpFlags),
    packets: cut(packets), bytes: cut(bytes), start: cut(start), end: cut(end), cloud: cut(cloud), action: cut(action), direction: cut(direction),
    account: cut(account), region: cut(region), iface: cut(iface), instance: cut(instance),
  };
}

/** Counts the batches HeldSorter reads in place from now on (restore() puts the method back). */
function countInPlace(): { count(): number; restore(): void } {
  const proto = HeldSorter.prototype as unknown as { readsInPlace(b: FlowBatchData): boolean };
  const real = proto.readsInPlace;
  let n = 0;
  proto.readsInPlace = function (this: unknown, b: FlowBatchData) {
    const yes = real.call(this, b);
    if (yes) n++;
    return yes;
  };
  return { count: () => n, restore: () => void (proto.readsInPlace = real) };
}
