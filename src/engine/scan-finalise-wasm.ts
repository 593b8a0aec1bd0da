/**
 * The numeric part of the inbound finalisation in WebAssembly (assembly/shared/scan-finalise.ts,
 * part of the table's own module, assembly/scan-held.ts): the entries sorted by bucket,
 * grouped by key, and each key that can be a scan or a near miss folded into its features
 * and endpoints. scan-finalise.ts makes the verdict objects and the endpoint-days from what
 * it writes.
 *
 * A `detect` run finalises its table once, so the JavaScript loops ran mostly unoptimised
 * (bench/RESULTS.md: ~62 ns a record cold against ~27 warm). The module is compiled before
 * it runs, and one call a bucket lets V8 tier it up after the first calls (a function
 * runs on in the tier it was entered in).
 *
 * Only a table in an arena (scan-wasm.ts) is finalised here, in its own memory: in a room
 * the arena keeps after the index (finaliseRoom: the bucket starts, the entries by bucket
 * and a scratch of scratchEntries a bucket), never touched until then, so it costs no
 * memory before. A bucket with more entries than the scratch is finalised in JavaScript
 * (bucket() answers -1). A replay run's table has its arena too (workers/shard.ts). A table
 * in JavaScript arrays (FLOWSIEVE_ACCUMULATE=js, no module, or too large for one) is
 * finalised in JavaScript: copied into a module's memory (~25 ns an entry, fresh pages, and
 * the table's size again in memory) it gained nothing (bench/RESULTS.md, finwasm section).
 *
 * FLOWSIEVE_FINALISE=js (or FLOWSIEVE_ACCUMULATE=js, or a build without the module) keeps
 * the JavaScript finalisation, for A/B runs.
 */
import { SHARD_BUCKETS } from '../flow/hash.js';
import { nextPow2 } from './scan-layout.js';
import { inPieces, PIECE } from './wasm-pieces.js';
import type { Thresholds } from '../detect/rules.js';

/** The finalisation's exports (assembly/shared/scan-finalise.ts), in either module. */
export interface FinaliseExports {
  setLayout(u: number, d: number, start: number, order: number, at: number, entries: number, minTuples: number, minEndpoints: number): void;
  scratchBytes(entries: number): number;
  keysWritten(): number;
  keysAddress(): number;
  endpointsAddress(): number;
  sortBegin(): void;
  sortCount(from: number, to: number, upto: number): number;
  sortStarts(): void;
  sortPlace(from: number, to: number): void;
  bucket(b: number): number;
  scansOnly(minAccounts: number, minRegions: number, minClouds: number, maxCvPackets: number, maxCvBytes: number, maxCvFlows: number): void;
}

/** the bucket starts' bytes at the start of a finalisation's room */
const START_BYTES = (SHARD_BUCKETS + 1) * 4 + 12;
/** A key record (assembly/shared/scan-finalise.ts KEY_BYTES) as u32 words and as f64 slots. */
export const KEY_WORDS = 24;
export const KEY_SLOTS = 12;
// u32 words of a key record
export const K_ENTRY = 0; // the key's first entry
export const K_ENDPOINTS = 1;
export const K_CLOUDS = 2;
export const K_ACCOUNTS = 3;
export const K_REGIONS = 4;
export const K_N_PACKETS = 5; // endpoints with packet counts (0: cvPackets is null)
export const K_N_BYTES = 6;
export const K_FIRST = 7;
export const K_LAST = 8;
export const K_ENDPOINT_ROW = 9; // its first endpoint row
// f64 slots
export const K_FLOWS = 5;
export const K_PACKETS = 6;
export const K_BYTES = 7;
export const K_CV_PACKETS = 8;
export const K_CV_BYTES = 9;
export const K_CV_FLOWS = 10;

/** Whether finalisation runs in WebAssembly (not FLOWSIEVE_FINALISE=js nor FLOWSIEVE_ACCUMULATE=js; read at each call: tests switch it). */
export const finaliseInModule = (): boolean => process.env.FLOWSIEVE_FINALISE !== 'js' && process.env.FLOWSIEVE_ACCUMULATE !== 'js';

const align16 = (x: number): number => (x + 15) & ~15;

/** Entries a bucket may have in the module: the table's (small tables), else at least 64 Ki and an eighth of it. */
export function scratchEntries(cap: number): number {
  return Math.max(4096, Math.min(nextPow2(cap), Math.max(65536, nextPow2(cap >> 3))));
}

/** Bytes of a finalisation's room that its sort by bucket writes first for `count` entries: the bucket starts and the order. */
export function orderBytes(count: number): number {
  return START_BYTES + align16(count * 4);
}

/** Bytes a finalisation of a table of up to `cap` entries takes (finaliseIn's room; pages never touched cost no memory). */
export function finaliseRoom(ex: FinaliseExports, cap: number): number {
  return START_BYTES + align16(cap * 4) + ex.scratchBytes(scratchEntries(cap));
}

/**
 * The finalisation of the table at uAt, dAt (`count` entries, room for `cap`) in the memory
 * of `ex`, with finaliseRoom(cap) bytes free from `at` (16-byte aligned); `count` entries of
 * windows <= uptoWindow sorted by bucket at once, or (`sortNow` false: every window) later by
 * ModuleFinalise.sortAll, in whichever thread comes first (the tail split, scan-finalise.ts).
 */
export function finaliseIn(
  ex: FinaliseExports, buffer: ArrayBufferLike, at: number, uAt: number, dAt: number, count: number, cap: number, uptoWindow: number, minTuples: number, minEndpoints: number,
  sortNow = true,
): ModuleFinalise {
  const orderAt = at + START_BYTES;
  const scratch = scratchEntries(cap);
  ex.setLayout(uAt, dAt, at, orderAt, orderAt + align16(cap * 4), scratch, minTuples, minEndpoints);
  const entries = sortNow ? sortByBucket(ex, count, uptoWindow) : count;
  return new ModuleFinalise(ex, buffer, at, orderAt, entries, scratch);
}

/**
 * Entries 0 .. count of windows <= upto sorted by bucket in the module (its layout set): their
 * number. Each pass in pieces (wasm-pieces.ts): one call over the 7 M-record bucket's 2.3 M
 * entries ran in Liftoff to its end.
 */
export function sortByBucket(ex: FinaliseExports, count: number, upto: number, piece = PIECE): number {
  ex.sortBegin();
  let m = 0;
  inPieces(count, piece, (from, to) => {
    m += ex.sortCount(from, to, upto);
  });
  ex.sortStarts();
  inPieces(count, piece, (from, to) => ex.sortPlace(from, to));
  return m;
}

/**
 * What another thread needs to finalise buckets of a table sorted by bucket in a shared
 * memory (tail split: scan-finalise.ts finalizeShare): the module (its compiled code
 * shared, tier included), the memory, where the table and the sort lie, and a scratch of its
 * own at `at` (scratchBytes(scratch) bytes no other thread touches).
 */
export interface FinaliseShare {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  uAt: number;
  dAt: number;
  startAt: number;
  orderAt: number;
  /** entries sorted (ModuleFinalise.entries) */
  entries: number;
  scratch: number;
  at: number;
  minTuples: number;
  minEndpoints: number;
}

/** An instance of the share's module over its memory, laid out on its own scratch (the sort: ModuleFinalise.sortAll, by one of the two threads). */
export function sharedFinalise(share: FinaliseShare): ModuleFinalise {
  const ex = new WebAssembly.Instance(share.module, { env: { memory: share.memory } }).exports as unknown as FinaliseExports;
  ex.setLayout(share.uAt, share.dAt, share.startAt, share.orderAt, share.at, share.scratch, share.minTuples, share.minEndpoints);
  return new ModuleFinalise(ex, share.memory.buffer, share.startAt, share.orderAt, share.entries, share.scratch);
}

export class ModuleFinalise {
  /** bucket b's entries are order[start[b], start[b + 1]) */
  readonly start: Int32Array;
  readonly order: Int32Array;
  /** the key records bucket() wrote (KEY_WORDS words, KEY_SLOTS slots each) and their endpoint rows (four words each) */
  readonly keyWords: Uint32Array;
  readonly keySlots: Float64Array;
  readonly endpointRows: Uint32Array;

  constructor(
    private readonly ex: FinaliseExports,
    b: ArrayBufferLike,
    readonly startAt: number,
    readonly orderAt: number,
    /** entries of the windows finalised */
    readonly entries: number,
    readonly scratch: number,
  ) {
    this.start = new Int32Array(b, startAt, SHARD_BUCKETS + 1);
    this.order = new Int32Array(b, orderAt, entries);
    const keysAt = ex.keysAddress();
    this.keyWords = new Uint32Array(b, keysAt, scratch * KEY_WORDS);
    this.keySlots = new Float64Array(b, keysAt, scratch * KEY_SLOTS);
    this.endpointRows = new Uint32Array(b, ex.endpointsAddress(), scratch * 4);
  }

  /**
   * Every one of the `entries` entries sorted by bucket (finaliseIn without sortNow: all
   * windows, so that the count is known before the sort). This instance's scratch holds the
   * sort's places; the starts and the order lie in the table's room, shared.
   */
  sortAll(): void {
    sortByBucket(this.ex, this.entries, 0xffffffff);
  }

  /**
   * Which keys bucket() writes: without near misses only scans (the module drops a key at its
   * first failed rule, before the features that rule does not need), else every key of
   * minEndpoints endpoints (the default of a new layout).
   */
  keep(thresholds: Thresholds, nearMisses: boolean): void {
    if (nearMisses) return;
    const t = thresholds;
    this.ex.scansOnly(t.minAccounts, t.minRegions, t.minClouds, t.maxCvPackets, t.maxCvBytes, t.maxCvFlows);
  }

  /** Group and fold bucket b: its distinct keys (keysWritten() records written), or -1 when JavaScript must. */
  bucket(b: number): number {
    return this.ex.bucket(b);
  }

  keysWritten(): number {
    return this.ex.keysWritten();
  }
}
