/**
 * The tail split (src/engine/tail.ts): a lone shard's inbound finalisation shared with the
 * engine's thread, each taking chunks of buckets from one counter over the table's shared
 * memory (scan-finalise.ts finalizeTableSplit, finalizeShare). Whichever thread takes which
 * buckets, the parts merged as shards' are must give the verdicts and endpoint-days of the
 * whole finalisation, byte for byte; a table that cannot be shared is not split.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { scanArena } from '../dist/src/engine/scan-wasm.js';
import { CHUNK_BUCKETS, finalizeShare, type TableShare } from '../dist/src/engine/scan-finalise.js';
import { compareVerdicts } from '../dist/src/engine/order.js';
import { mergeEndpointDays } from '../dist/src/engine/merge.js';
import { allocBatch } from '../dist/src/flow/batch.js';
import { SHARD_BUCKETS } from '../dist/src/flow/hash.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { detect } from '../dist/src/engine/run.js';
import { TAIL_SPLIT_MIN_ENTRIES, TAIL_SPLIT_MIN_OUTBOUND, tailSplitFits } from '../dist/src/engine/tail.js';
import { rng } from '../dist/bench/records.js';
import type { FinalizeOptions, FinalizeResult } from '../dist/src/engine/verdict.js';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, shuffled, writeV2, type Flow } from './helpers/aws.js';

const W = 3600;
const T0 = 1717200000; // 2024-06-01T00:00:00Z
const built = scanArena() !== null;
const CHUNKS = SHARD_BUCKETS / CHUNK_BUCKETS;

/**
 * Inbound records over thousands of buckets: scanners over hundreds of endpoints (some IPv6,
 * in several clouds and accounts), one source with a crowd of endpoints larger than the
 * module's scratch (finalised in JavaScript in its turn), and many one-endpoint sources.
 */
function tableOf(seed: number): InstanceType<typeof ScanTable> {
  const r = rng(seed);
  const t = new ScanTable(W, 1 << 12, 1, 1 << 14);
  let b = allocBatch(4096);
  const put = (src: number, v6: boolean, dst: number, port: number, start: number, packets: number, bytes: number): void => {
    if (b.n === 4096) {
      t.addBatch(b);
      b = allocBatch(4096);
    }
    if (b.strings.length <= 1) b.strings.push('111111111111', '222222222222', 'us-east-1', 'eu-west-1');
    const i = b.n++;
    b.feed[i] = 1;
    b.src.set(v6 ? [0x20010db8, 0, 0, src] : [0, 0, 0xffff, src >>> 0], i * 4);
    b.dst.set(dst % 11 === 0 ? [0x20010db8, 1, 0, dst] : [0, 0, 0xffff, (0x0a000000 + dst) >>> 0], i * 4);
    b.proto[i] = 6;
    b.dport[i] = port;
    b.packets[i] = packets;
    b.bytes[i] = bytes;
    b.start[i] = start;
    b.end[i] = start + Math.floor(r() * 40);
    b.cloud[i] = dst % 7 === 0 ? 1 : 0;
    b.account[i] = 1 + (dst % 2);
    b.region[i] = 3 + Math.floor(r() * 2);
  };
  const frac = (x: number): number => Math.floor(x * 1000) / 7; // not integers: sums show their order
  for (let k = 0; k < 300; k++) {
    const start = T0 + Math.floor(r() * W * 20);
    const n = 3 + Math.floor(r() * 200);
    const steady = k % 3 !== 0;
    for (let j = 0; j < n; j++) {
      put(0x2d000000 + k * 7919, k % 9 === 0, Math.floor(r() * 3000), [22, 23, 445][k % 3]!, start + Math.floor(r() * 600), steady ? 1.5 : frac(1 + r() * 9), steady ? 44.25 : frac(40 + r() * 900));
    }
  }
  for (let j = 0; j < 5000; j++) put(0x0b0b0b0b, false, 5000 + j, 22, T0 + 100 + (j % 500), 1, 60);
  for (let k = 0; k < 30000; k++) put(0x51000000 + k * 104729, k % 17 === 0, Math.floor(r() * 3000), 443, T0 + Math.floor(r() * W * 20), frac(1 + r() * 20), frac(60 + r() * 5000));
  if (b.n > 0) t.addBatch(b);
  return t;
}

const OPTIONS: FinalizeOptions[] = [
  { thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: true },
  { thresholds: { ...DEFAULT_THRESHOLDS, minEndpoints: 1 }, windowSeconds: W, nearMisses: true, endpointSources: true },
];

/** Parts merged as the engine merges shards' replies (run.ts finalize). */
function merged(parts: FinalizeResult[]): string {
  const verdicts = parts.flatMap((p) => p.verdicts).sort(compareVerdicts);
  const endpointDays = mergeEndpointDays(parts.map((p) => p.endpointDays));
  return JSON.stringify({ verdicts, endpointDays, keys: parts.reduce((s, p) => s + p.keys, 0), entries: parts.reduce((s, p) => s + p.entries, 0) });
}

/** finalizeShare in a thread of its own, as the engine's thread runs it beside the shard's. */
function inThread(share: TableShare, opts: FinalizeOptions): Promise<FinalizeResult> {
  const url = pathToFileURL(resolve('dist/src/engine/scan-finalise.js')).href;
  const code = `const { parentPort, workerData } = require('node:worker_threads');
import(${JSON.stringify(url)}).then((m) => parentPort.postMessage(m.finalizeShare(workerData.share, workerData.opts)));`;
  return new Promise((done, fail) => {
    const w = new Worker(code, { eval: true, workerData: { share, opts } });
    w.once('message', (r: FinalizeResult) => void w.terminate().then(() => done(r)));
    w.once('error', fail);
  });
}

afterEach(() => {
  delete process.env.FLOWSIEVE_FINALISE;
  delete process.env.FLOWSIEVE_SHARED_ARENA;
  delete process.env.FLOWSIEVE_TAILSPLIT;
});

describe.runIf(built)('the inbound finalisation shared between two threads', () => {
  it('gives the whole finalisation, byte for byte, however the buckets fall to either thread', async () => {
    for (const opts of OPTIONS) {
      const t = tableOf(11);
      const whole = merged([t.finalize(opts)]);
      expect(JSON.parse(whole).verdicts.length).toBeGreaterThan(50);
      // a fixed cut: the other thread's first 40 chunks (a share with a counter and end of its own), then the owner's rest
      const split = t.finalizeSplit(opts)!;
      expect(split).not.toBeNull();
      const { next, ...share } = split.share;
      const first = await inThread({ ...share, next: new Int32Array(new SharedArrayBuffer(4)), chunks: 40 }, opts);
      Atomics.store(next, 0, 40);
      const rest = split.own();
      expect(first.keys).toBeGreaterThan(0);
      expect(rest.keys).toBeGreaterThan(0);
      expect(merged([first, rest])).toBe(whole);
      // both threads at once, as a run does: whichever takes which chunk
      const race = t.finalizeSplit(opts)!;
      const other = inThread(race.share, opts);
      const own = race.own();
      expect(merged([await other, own])).toBe(whole);
      if (opts !== OPTIONS[0]) continue; // the cases below once
      // all in the other thread, none left to the owner
      const all = t.finalizeSplit(opts)!;
      const theirs = await inThread(all.share, opts);
      expect(Atomics.load(all.share.next, 0)).toBeGreaterThanOrEqual(CHUNKS);
      expect(merged([theirs, all.own()])).toBe(whole);
      // a thread that finds the sort under way waits; a sort handed back (its sorter failed) is taken up
      const handed = t.finalizeSplit(opts)!;
      Atomics.store(handed.share.sort, 0, 1); // sorting, as if by the owner
      const unsorted = (s: TableShare): void => void new Int32Array(s.memory.buffer, s.startAt, SHARD_BUCKETS + 1).fill(0); // no earlier split's sort left to read
      unsorted(handed.share);
      const waiting = inThread(handed.share, opts);
      await new Promise((r) => setTimeout(r, 200));
      Atomics.store(handed.share.sort, 0, 0); // handed back
      Atomics.notify(handed.share.sort, 0);
      expect(merged([await waiting, handed.own()])).toBe(whole);
      // the owner alone (the other thread never came): it sorts the table itself
      const alone = t.finalizeSplit(opts)!;
      unsorted(alone.share);
      expect(merged([alone.own()])).toBe(whole);
      expect(Atomics.load(alone.share.sort, 0)).toBe(2);
      // in this thread too (the view of the shared memory, no thread between): it took every
      // chunk, so the owner's part holds no verdict (Engine.finalize merges without it then)
      const here = t.finalizeSplit(opts)!;
      const taken = finalizeShare(here.share, opts);
      expect(taken.everyChunk).toBe(true);
      expect(merged([taken])).toBe(JSON.stringify({ ...JSON.parse(whole), entries: 0 }));
      expect(merged([taken, here.own()])).toBe(whole);
      // one chunk taken by the owner first: not every chunk
      const shared = t.finalizeSplit(opts)!;
      Atomics.store(shared.share.next, 0, 1);
      expect(finalizeShare(shared.share, opts).everyChunk).toBe(false);
    }
  }, 60_000);

  it('is not offered for a table that cannot be shared: plain memory, JavaScript finalisation, windows', () => {
    const opts = OPTIONS[0]!;
    process.env.FLOWSIEVE_SHARED_ARENA = 'off';
    const plain = tableOf(12);
    expect(plain.arena).not.toBeNull();
    expect(plain.finalizeSplit(opts)).toBeNull();
    const whole = merged([plain.finalize(opts)]);
    delete process.env.FLOWSIEVE_SHARED_ARENA;
    const t = tableOf(12);
    expect(merged([t.finalize(opts)])).toBe(whole);
    process.env.FLOWSIEVE_FINALISE = 'js';
    expect(t.finalizeSplit(opts)).toBeNull();
    delete process.env.FLOWSIEVE_FINALISE;
    expect(t.finalizeSplit({ ...opts, uptoWindow: Math.floor(T0 / W) + 5 })).toBeNull();
    expect(t.finalizeSplit({ ...opts, drop: true })).toBeNull();
    expect(t.finalizeSplit(opts)).not.toBeNull();
  });
});

describe('a detect run with the tail split', () => {
  const dir = tempDir('flowsieve-tailsplit-');
  const input = join(dir, 'in');

  async function run(workers: number, split: boolean): Promise<unknown> {
    process.env.FLOWSIEVE_TAILSPLIT = split ? 'always' : 'off'; // a small table is split only when told to
    const r = await detect(detectOpts([input], { workers, pipeline: 'sharded', nearMisses: true }));
    const { scans, nearMisses, endpointDays, alerts, keys, entries, totals } = r;
    const findings = r.findings.map((f: unknown) => JSON.stringify(f)).sort(); // in shard order: compared as a set
    return JSON.stringify({ scans, nearMisses, endpointDays, findings, alerts, keys, entries, totals });
  }

  it('gives the results of the unsplit finalisation at 1 and 2 workers', async () => {
    const flows: Flow[] = [];
    for (let s = 0; s < 80; s++) flows.push(...scanner(`45.${s >> 4}.${s & 15}.1`, 8 + ((s * 7) % 40), { start: T0 + s * 61, dport: [22, 23, 445, 3389][s % 4]! }));
    for (let s = 0; s < 8; s++) flows.push(...scanner(`46.1.${s}.1`, 14 + s, { start: T0 + s * 17, dport: 80 }).map((f, k) => ({ ...f, bytes: 40 + ((k * k * 997) % 9000) })));
    for (let h = 0; h < 4; h++) for (let k = 0; k < 100; k++) flows.push({ src: `10.9.${h}.4`, dst: `52.${h}.${k >> 4}.${k & 15}`, dport: 22, start: T0 + k * 13, action: 'ACCEPT' });
    for (let i = 0; i < 3000; i++) flows.push({ src: `81.${(i >> 8) & 255}.${i & 255}.7`, dst: `10.1.${i % 200}.9`, dport: 443, start: T0 + i * 3 });
    const mixed = shuffled(flows, 5);
    mkdirSync(input);
    const per = Math.ceil(mixed.length / 40);
    for (let f = 0; f < 40; f++) writeV2(join(input, `${String(f).padStart(3, '0')}.log.gz`), mixed.slice(f * per, (f + 1) * per), { gzip: true });
    const unsplit = await run(1, false);
    expect(JSON.parse(unsplit as string).scans.length).toBeGreaterThan(20);
    expect(await run(1, true)).toBe(unsplit);
    expect(await run(2, true)).toBe(unsplit);
    // the spent ring and shared table are given back at the last finalise (engine/run.ts releaseSpentMemory): the same without
    process.env.FLOWSIEVE_RELEASE = 'off';
    try {
      expect(await run(1, true)).toBe(unsplit);
    } finally {
      delete process.env.FLOWSIEVE_RELEASE;
    }
  }, 60_000);
});

describe('tailSplitFits', () => {
  it('splits a large inbound table, or one beside an outbound table at least half its size (from TAIL_SPLIT_MIN_OUTBOUND)', () => {
    const was = process.env.FLOWSIEVE_TAILSPLIT;
    delete process.env.FLOWSIEVE_TAILSPLIT;
    try {
      expect(tailSplitFits(TAIL_SPLIT_MIN_ENTRIES)).toBe(true);
      expect(tailSplitFits(TAIL_SPLIT_MIN_ENTRIES - 1)).toBe(false);
      // GCP's blobs: 96 k inbound entries, 72 k outbound
      expect(tailSplitFits(96_042, 72_165)).toBe(true);
      // AWS text and gzip: a fifth as many outbound entries as inbound; split by the inbound
      // table's size alone (the 224 MB text file's 631 k entries and the 2 M bucket's 645 k split)
      expect(tailSplitFits(631_381, 120_000)).toBe(true);
      expect(tailSplitFits(644_634, 147_511)).toBe(true);
      expect(tailSplitFits(172_692, 33_167)).toBe(false);
      // a small outbound table is never worth a split
      expect(tailSplitFits(1000, TAIL_SPLIT_MIN_OUTBOUND - 1)).toBe(false);
      expect(tailSplitFits(2 * TAIL_SPLIT_MIN_OUTBOUND, TAIL_SPLIT_MIN_OUTBOUND)).toBe(true);
      expect(tailSplitFits(2 * TAIL_SPLIT_MIN_OUTBOUND + 1, TAIL_SPLIT_MIN_OUTBOUND)).toBe(false);
      process.env.FLOWSIEVE_TAILSPLIT = 'always';
      expect(tailSplitFits(10)).toBe(true);
    } finally {
      if (was === undefined) delete process.env.FLOWSIEVE_TAILSPLIT;
      else process.env.FLOWSIEVE_TAILSPLIT = was;
    }
  });
});
