/**
 * Ingest for the inbound accumulator: records (parsed batches or replay block rows) to
 * entry keys, and the records held back to be added in bucket order. One key builder
 * (KeyBuilder) serves all three ways in: a batch held back (holdRange), a batch added at
 * once (addRecords) and a replay block read in its own columns (addBlockRows).
 */
import { bucketOf, fmix32, hashAddress, mix, SHARD_BUCKETS } from '../flow/hash.js';
import { hashKeys, keyHash, type ScanCore } from './scan-core.js';
import * as layout from './scan-layout.js';
import { heldCount, heldSortBits, HELD_SORT_BITS, nextPow2 } from './scan-layout.js';
import { heldSorter, type HeldSorter } from './scan-wasm.js';
import type { FlowBatchData } from '../flow/batch.js';
import { putAddress, type BlockRows } from '../replay/row-codec.js';
import { Feed } from '../flow/types.js';
import { lz4Wasm, NOT_IN_MEMORY } from '../replay/lz4-wasm.js';
import type { StringDict } from '../flow/dict.js';

// the layout's flags as this module's own consts (scan-core.ts says why)
const { BUCKET_SHIFT, F_DST6, F_SRC6, HELD_BYTES, HELD_END, HELD_PACKETS, HELD_START, HELD_WIDE, HELD_WORDS, KEY_RF, countOfHeld } = layout;

const UNMAPPED = 0xffffffff;

/** A key's family bits (F_SRC6, F_DST6) from a replay row's af bits (1: an IPv6 source, 2: an IPv6 destination). */
function familyOf(af: number): number {
  return (af & 1 ? F_SRC6 : 0) | (af & 2 ? F_DST6 : 0);
}

/**
 * The key of the previous record and its entry: a run of records of one entry (replay
 * blocks are sorted so, and a source often repeats in a batch) skips the hash lookup.
 * Keys are six 32-bit words, in whatever order a table keeps them.
 */
export class LastKey {
  private k0 = 0;
  private k1 = 0;
  private k2 = 0;
  private k3 = 0;
  private k4 = 0;
  private k5 = -1; // no key: the region word (k5) never has every bit set (its bits 16-17 are 0 in a key; the other words may be anything)
  entry = -1;

  reset(): this {
    this.k5 = -1;
    this.entry = -1;
    return this;
  }

  /** True when the key is the previous record's; else remember it (the caller then sets entry). */
  same(k0: number, k1: number, k2: number, k3: number, k4: number, k5: number): boolean {
    // xor compares the words' bits exactly, u32 or int32 alike, without branches (k5 starts at -1, which no region word is)
    if (((k0 ^ this.k0) | (k1 ^ this.k1) | (k2 ^ this.k2) | (k3 ^ this.k3) | (k4 ^ this.k4) | (k5 ^ this.k5)) === 0) return true;
    this.k0 = k0;
    this.k1 = k1;
    this.k2 = k2;
    this.k3 = k3;
    this.k4 = k4;
    this.k5 = k5;
    return false;
  }
}

/**
 * The window of a record's start time, remembered as [lo, hi) seconds: the records of a
 * batch mostly share a window, so most calls compare instead of dividing.
 */
export class WindowOf {
  private lo = 1;
  private hi = 0;
  private w = 0;
  constructor(private readonly seconds: number) {}
  reset(): this {
    this.lo = 1;
    this.hi = 0;
    return this;
  }
  of(start: number): number {
    if (start < this.lo || start >= this.hi) {
      this.w = Math.floor(start / this.seconds);
      this.lo = this.w * this.seconds;
      this.hi = this.lo + this.seconds;
    }
    return this.w;
  }
}

/** Words of a record's key in KeyBuilder.words. */
export const KEY_WORDS = 6;

/** `s`'s id in `dict`, which may hold fewer than `limit` strings (the bits the key words give it). */
function idWithin(dict: StringDict, s: string, limit: number, tooMany: string): number {
  const id = dict.idOf(s);
  if (dict.size >= limit) throw new Error(tooMany);
  return id;
}

/**
 * Builds the table's keys of a batch's records, all at once, into KEY_WORDS words a
 * record: src (IPv4 word or IPv6 intern id), protocol << 16 | port, window,
 * cloud << 30 | account id, dst, region id | address families << 16; and each record's
 * source bucket. A batch's string ids are translated to the table's once per string table
 * (resetMaps: the batches of one parse sink carry the same table until its dictionary grows,
 * flow/sink.ts SinkOptions.dictionaryIds), or replay block (startBlock). Both ways in for
 * batches (held back: holdRange; added at once: addRecords) read their keys from here; replay
 * rows (addBlockRows) use its dictionaries and windows in a loop of their own, for speed.
 * Built in one loop over the columns, as a vectorised engine does: a per-record builder
 * object read 15 more fields a record and made the loops 13 % slower (bench/finalise.ts).
 */
export class KeyBuilder {
  /** keys of the last batch or block: record i's at i * KEY_WORDS (undefined for records not inbound) */
  words = new Uint32Array(1024 * KEY_WORDS);
  /** source bucket of each record of the last batch (ofBatch) */
  buckets = new Uint16Array(1024);
  private accountMap = new Uint32Array(64);
  private regionMap = new Uint32Array(64);
  private mappedStrings: string[] | null = null;
  private readonly windowOf: WindowOf;

  constructor(private readonly core: ScanCore) {
    this.windowOf = new WindowOf(core.windowSeconds);
  }

  /** The table's window (WindowOf's divisor). */
  get windowSeconds(): number {
    return this.core.windowSeconds;
  }

  private ensure(n: number): void {
    if (this.buckets.length >= n) return;
    const c = nextPow2(n);
    this.words = new Uint32Array(c * KEY_WORDS);
    this.buckets = new Uint16Array(c);
  }

  /** The keys and source buckets of a batch's inbound records (addresses in four-word form; IPv4-mapped ones kept as their IPv4 word). */
  ofBatch(batch: FlowBatchData): void {
    const { n, feed, src, dst, proto, dport, start, cloud, account, region } = batch;
    this.resetMaps(batch.strings);
    this.ensure(n);
    const { words: k, buckets, accountMap, regionMap } = this;
    const v6 = this.core.v6;
    const windowOf = this.windowOf.reset();
    for (let i = 0; i < n; i++) {
      if ((feed[i]! & Feed.inbound) === 0) continue;
      const o = i * 4;
      const ko = i * KEY_WORDS;
      let fam = 0;
      if (src[o] === 0 && src[o + 1] === 0 && src[o + 2] === 0xffff) k[ko] = src[o + 3]!;
      else {
        k[ko] = v6.intern(src, o);
        fam = F_SRC6;
      }
      if (dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === 0xffff) k[ko + 4] = dst[o + 3]!;
      else {
        k[ko + 4] = v6.intern(dst, o);
        fam |= F_DST6;
      }
      k[ko + 1] = ((proto[i]! << 16) | dport[i]!) >>> 0;
      k[ko + 2] = windowOf.of(start[i]!);
      // ids mapped on first use, account before region as records come (the ids so do not depend on how records were batched)
      let ac = accountMap[account[i]!]!;
      if (ac === UNMAPPED) ac = this.mapAccount(account[i]!);
      k[ko + 3] = ((cloud[i]! << 30) | ac) >>> 0;
      let rg = regionMap[region[i]!]!;
      if (rg === UNMAPPED) rg = this.mapRegion(region[i]!);
      k[ko + 5] = (rg | (fam << 16)) >>> 0;
      buckets[i] = bucketOf(hashAddress(src, o));
    }
  }

  /** Before a replay block's rows are keyed (addBlockRows): its string table's maps (kept from the file's earlier blocks). */
  startBlock(r: BlockRows): WindowOf {
    this.resetMaps(r.strings);
    return this.windowOf.reset();
  }

  /**
   * The table's id of each batch-local account id (after ofBatch / startBlock), UNMAPPED
   * until mapAccount. Only the strings inbound rows use AS accounts and AS regions enter
   * those dictionaries (the string table also holds interface and instance ids). Mapped
   * as the keys are built, not in a pass of their own over the batch first (which read
   * every record's feed, account and region once more).
   */
  get accountIds(): Uint32Array {
    return this.accountMap;
  }

  get regionIds(): Uint32Array {
    return this.regionMap;
  }

  /** The table's id of batch-local account id a (after ofBatch / startBlock), mapped on its first use (accountIds says why). */
  accountOf(a: number): number {
    const ac = this.accountMap[a]!;
    return ac === UNMAPPED ? this.mapAccount(a) : ac;
  }

  /** The table's id of batch-local region id g, likewise. */
  regionOf(g: number): number {
    const rg = this.regionMap[g]!;
    return rg === UNMAPPED ? this.mapRegion(g) : rg;
  }

  /** The table's id of batch-local account id a, mapped now (accountIds[a] was UNMAPPED). */
  mapAccount(a: number): number {
    const id = this.accountId(this.mappedStrings![a]!);
    this.accountMap[a] = id;
    return id;
  }

  /** The table's id of an account (a new one from here on: the ids count in the order accounts come). */
  accountId(account: string): number {
    return idWithin(this.core.accounts, account, 1 << 30, 'more than 2^30 distinct accounts in one shard');
  }

  /** The table's id of batch-local region id g, mapped now (regionIds[g] was UNMAPPED). */
  mapRegion(g: number): number {
    const id = this.regionId(this.mappedStrings![g]!);
    this.regionMap[g] = id;
    return id;
  }

  /** The table's id of a region (its key word holds 16 bits of it). */
  regionId(region: string): number {
    return idWithin(this.core.regions, region, 1 << 16, 'more than 65535 distinct regions in one shard');
  }

  /** A new string table: its maps start empty (the blocks of a replay file share one, as do a parse sink's batches until its dictionary grows: theirs is kept). */
  private resetMaps(strings: string[]): void {
    if (strings === this.mappedStrings) return;
    this.mappedStrings = strings;
    const m = strings.length;
    if (this.accountMap.length < m) {
      this.accountMap = new Uint32Array(nextPow2(m));
      this.regionMap = new Uint32Array(nextPow2(m));
    }
    this.accountMap.fill(UNMAPPED, 0, m);
    this.regionMap.fill(UNMAPPED, 0, m);
  }
}

/** Add every inbound record of a batch now, in its order. */
export function addRecords(core: ScanCore, keys: KeyBuilder, last: LastKey, batch: FlowBatchData): void {
  const { n, feed, packets, bytes, start, end } = batch;
  keys.ofBatch(batch);
  const { words: k, buckets } = keys;
  last.reset();
  for (let i = 0; i < n; i++) {
    if ((feed[i]! & Feed.inbound) === 0) continue;
    const o = i * KEY_WORDS;
    // key words as int32 (the same bits): a call boxes every u32 past 2^31 (ScanCore.findOrInsertHashed)
    const k0 = k[o]! | 0;
    const k1 = k[o + 1]! | 0;
    const k2 = k[o + 2]! | 0;
    const k3 = k[o + 3]! | 0;
    const k4 = k[o + 4]! | 0;
    const k5 = k[o + 5]! | 0;
    if (!last.same(k0, k1, k2, k3, k4, k5)) last.entry = core.findOrInsert(k0, k1, k2, k3, k4, k5, buckets[i]!);
    core.accumulate(last.entry, packets[i]!, bytes[i]!, start[i]!, end[i]!);
  }
}

/**
 * Add the inbound rows of one replay block of `bucket`, read in the block's own columns
 * (row-codec.ts BlockRows): the replay path, which so never expands a row it adds.
 * Rows are sorted by entry in a block, so most rows skip the lookup.
 *
 * This loop keys its rows itself, in the words KeyBuilder.ofBatch writes (the same
 * dictionaries and window): it is the loop from before the split, kept while the cost of
 * the split on this path is unexplained (a KeyBuilder pass over the block first measured
 * no better; bench/RESULTS.md, issue 19 shard section).
 */
export function addBlockRows(core: ScanCore, keys: KeyBuilder, last: LastKey, r: BlockRows, bucket: number): void {
  if (r.flows !== null) {
    addEntryRows(core, keys, r, r.flows, bucket);
    return;
  }
  const { n, flags, af, src, dst, src6, dst6, proto, dport, start, dur, packets, bytes, account, region } = r;
  const windowOf = keys.startBlock(r);
  const v6 = core.v6;
  const pkU32 = packets instanceof Uint32Array;
  const byU32 = bytes instanceof Uint32Array;
  last.reset();
  let ks = 0; // IPv6 addresses of earlier rows in src6 / dst6
  let kd = 0;
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    const a = af[i]!;
    if ((f & Feed.inbound) === 0) {
      ks += a & 1;
      kd += (a >>> 1) & 1;
      continue;
    }
    // an IPv6 row's address is the next in src6 / dst6
    const sA = a & 1 ? v6.intern(src6, 4 * ks++) : src[i]! | 0;
    const dA = a & 2 ? v6.intern(dst6, 4 * kd++) : dst[i]! | 0;
    const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
    const st = start[i]!;
    const w = windowOf.of(st);
    const epv = (((f >>> 2) & 3) << 30) | keys.accountOf(account[i]!); // int32: see addPending
    const rf = (keys.regionOf(region[i]!) | (familyOf(a) << 16)) >>> 0;
    if (!last.same(sA, ppv, w, epv, dA, rf)) last.entry = core.findOrInsert(sA, ppv, w, epv, dA, rf, bucket);
    const pk = packets[i]!;
    const by = bytes[i]!;
    core.accumulate(last.entry, pkU32 && pk === 0xffffffff ? NaN : pk, byU32 && by === 0xffffffff ? NaN : by, st, st + dur[i]!);
  }
}

/** addEntryRows's scratch: each inbound entry row's key words (KEY_WORDS), row number and key hash. */
const entryScratch = { keys: new Uint32Array(0), rows: new Int32Array(0), hash: new Uint32Array(0) };

/**
 * addBlockRows for a replay file's entry rows (src/replay/entry-rows.ts): each row stands for
 * flows[i] records of one entry and entry window, added at once. Entry rows of a block are
 * nearly all distinct entries, so there is no run of one key to skip lookups for; instead the
 * keys are built and hashed in passes of their own before the probes, so that successive
 * probes overlap in the processor (as held records' do: ScanCore.findOrInsertHashed).
 */
function addEntryRows(core: ScanCore, keys: KeyBuilder, r: BlockRows, flows: Uint32Array, bucket: number): void {
  const n = r.n;
  const s = entryScratch;
  if (s.rows.length < n) {
    const cap = Math.max(n, s.rows.length * 2, 1024);
    s.keys = new Uint32Array(cap * KEY_WORDS);
    s.rows = new Int32Array(cap);
    s.hash = new Uint32Array(cap);
  }
  // small keys first: most rows of such a block are theirs, and need no key words or hash
  const runs = r.smallBelow > 1 ? longRuns(keys, r) : -1;
  let m = runs >= 0 ? keysOfRuns(core, keys, r, runs) : entryKeys(core, keys, r, s.keys, s.rows, 0, r.n, 0, 0, 0);
  if (r.smallBelow > 1) m = dropSmallKeys(r, m);
  hashKeys(s.keys, KEY_WORDS, m, s.hash);
  const { packets, bytes, start, dur } = r;
  const pkU32 = packets instanceof Uint32Array;
  const byU32 = bytes instanceof Uint32Array;
  const k = s.keys;
  const rows = s.rows;
  const hash = s.hash;
  for (let j = 0; j < m; j++) {
    const o = j * KEY_WORDS;
    const i = rows[j]!;
    // key words as int32 (the same bits): a call boxes every u32 past 2^31 (ScanCore.findOrInsertHashed)
    const e = core.findOrInsertHashed(hash[j]! | 0, k[o]! | 0, k[o + 1]! | 0, k[o + 2]! | 0, k[o + 3]! | 0, k[o + 4]! | 0, k[o + 5]! | 0, bucket);
    const pk = packets[i]!;
    const by = bytes[i]!;
    const st = start[i]!;
    core.accumulateMerged(e, flows[i]!, pkU32 && pk === 0xffffffff ? NaN : pk, byU32 && by === 0xffffffff ? NaN : by, st, st + dur[i]!);
  }
}

/** Runs of up to this many rows are grouped by comparing their rows pairwise; longer ones by dropSmallKeys's table. */
const SHORT_RUN = 16;

/**
 * longRuns's scratch: the long runs (from, to, and the IPv6 addresses before from in
 * src6, dst6); a short run's rows: window, family bits and cloud, account, region, and
 * destination words (an IPv4 one as ::ffff:a.b.c.d).
 */
const runScratch = {
  ranges: new Int32Array(256),
  window: new Uint32Array(SHORT_RUN),
  kind: new Uint32Array(SHORT_RUN),
  account: new Uint32Array(SHORT_RUN),
  region: new Uint32Array(SHORT_RUN),
  dst: new Uint32Array(4 * SHORT_RUN),
  keyCount: 0,
};

/** The string table whose strings were last found all distinct (uniqueStrings). */
let distinctStrings: string[] | null = null;

/** Whether no string of a replay file's table is there twice: its ids then compare as the table's ids of their strings do. */
function uniqueStrings(strings: string[]): boolean {
  if (strings === distinctStrings) return true;
  if (new Set(strings).size !== strings.length) return false;
  distinctStrings = strings;
  return true;
}

/**
 * For entry rows that hold all of their bucket's records (BlockRows.smallBelow), in blocks
 * sorted as the conversion sorts them (rows.ts entryOrder: by source, lowest address word
 * first, then protocol and port): a scan key's rows then lie in one run of rows of its source,
 * protocol and port, so a run of fewer rows than smallBelow holds only small keys. Those are
 * counted into r here, with no key words: one key and entry for a one-row run, a pairwise
 * compare of the block's columns for a short one (its string ids compare as the table's ids
 * when no string is in the file's table twice). The other runs' rows are for keysOfRuns to
 * key and dropSmallKeys to group: their ranges go to runScratch.ranges (returns how many ints
 * it holds). -1, with nothing counted, when a row breaks the order or a string is in the
 * table twice: the caller then keys every row. (Keying the long runs is a function of its
 * own: a loop after this one, optimised on-stack during the first block, had no feedback
 * yet and deoptimised it, in one run hundreds of times.)
 */
function longRuns(keys: KeyBuilder, r: BlockRows): number {
  if (!uniqueStrings(r.strings)) return -1;
  const windowOf = keys.startBlock(r);
  const lz = lz4Wasm();
  if (lz !== null) {
    const ints = lz.smallRuns(r, r.smallBelow, keys.windowSeconds, SHORT_RUN);
    if (ints !== NOT_IN_MEMORY) {
      if (ints > runScratch.ranges.length) runScratch.ranges = new Int32Array(nextPow2(ints));
      if (ints > 0) lz.copyRanges(runScratch.ranges, ints);
      return ints;
    }
  }
  return longRunsInJs(r, windowOf);
}

/** longRuns's pass in JavaScript: where the module is not built (an install without AssemblyScript) or cannot take the block. */
function longRunsInJs(r: BlockRows, windowOf: WindowOf): number {
  const { n, flags, af, src, src6, proto, dport } = r;
  const below = r.smallBelow;
  const z = runScratch;
  let ranges = 0;
  let smallKeys = 0;
  let smallEntries = 0;
  let ks = 0; // IPv6 addresses of earlier rows in src6 / dst6
  let kd = 0;
  let runFrom = -1;
  let runTo = 0;
  let runKs = 0;
  let runKd = 0;
  let runRows = 0;
  // the run's source words, in the sort's order (w3 first; an IPv4 source is ::ffff:w3), and protocol << 16 | port;
  // words as int32 (the same bits), which V8 keeps in registers: u32 past 2^31 deoptimised the compares ("lost precision")
  let r3 = 0;
  let r2 = 0;
  let r1 = 0;
  let r0 = 0;
  let rp = 0;
  for (let i = 0; i <= n; i++) {
    let w3 = 0;
    let w2 = 0xffff;
    let w1 = 0;
    let w0 = 0;
    let pp = 0;
    let a = 0;
    if (i < n) {
      a = af[i]!;
      if ((flags[i]! & Feed.inbound) === 0) {
        ks += a & 1;
        kd += (a >>> 1) & 1;
        continue;
      }
      if (a & 1) {
        const o = 4 * ks;
        w0 = src6[o]! | 0;
        w1 = src6[o + 1]! | 0;
        w2 = src6[o + 2]! | 0;
        w3 = src6[o + 3]! | 0;
      } else w3 = src[i]! | 0;
      pp = (proto[i]! << 16) | dport[i]!;
      if (w3 === r3 && w2 === r2 && w1 === r1 && w0 === r0 && pp === rp && runFrom >= 0) {
        runRows++;
        runTo = i + 1;
        ks += a & 1;
        kd += (a >>> 1) & 1;
        continue;
      }
      if (runFrom >= 0 && before(w3, w2, w1, w0, pp, r3, r2, r1, r0, rp)) return -1;
    }
    // (every run through the call, kept or not: a call first made well into the loop deoptimised it)
    const long = runRows >= below || runRows > SHORT_RUN;
    ranges = keepRange(ranges, long, runFrom, runTo, runKs, runKd);
    if (long) {
      // added, not counted
    } else if (runRows === 1) {
      smallKeys++;
      smallEntries++;
    } else if (runRows > 1) {
      smallEntries += countShortRun(r, runFrom, runTo, runKd, windowOf);
      smallKeys += z.keyCount;
    }
    runFrom = i;
    runTo = i + 1;
    runKs = ks;
    runKd = kd;
    runRows = 1;
    r3 = w3;
    r2 = w2;
    r1 = w1;
    r0 = w0;
    rp = pp;
    ks += a & 1;
    kd += (a >>> 1) & 1;
  }
  r.smallKeys += smallKeys;
  r.smallEntries += smallEntries;
  return ranges;
}

/** The rows of the long runs longRuns found (`ranges` ints of runScratch.ranges) keyed into entryScratch: how many. */
function keysOfRuns(core: ScanCore, keys: KeyBuilder, r: BlockRows, ranges: number): number {
  const { keys: k, rows } = entryScratch;
  const at = runScratch.ranges;
  let m = 0;
  for (let q = 0; q < ranges; q += 4) m = entryKeys(core, keys, r, k, rows, at[q]!, at[q + 1]!, at[q + 2]!, at[q + 3]!, m);
  return m;
}

/**
 * The distinct entries of a short run's inbound rows [from, to) (all of one source's words,
 * protocol and port; kd: the IPv6 destinations before `from` in dst6), and its keys into
 * runScratch.keyCount. A row's key is its window and source family (an IPv6 row with an
 * IPv4-mapped address is another key than an IPv4 row); its entry adds cloud, account,
 * destination and its family, and region, as entryKeys's words and countSmallEntries's
 * compare have them. The rows are compared without branches on the way: a compare reached
 * only by some rows leaves V8 without type feedback for it, and its code is thrown away when
 * one comes (a recompile a thread).
 */
function countShortRun(r: BlockRows, from: number, to: number, kd: number, windowOf: WindowOf): number {
  const { flags, af, dst, dst6, start, account, region } = r;
  const z = runScratch;
  const { window, kind, dst: d } = z;
  let m = 0;
  for (let i = from; i < to; i++) {
    const a = af[i]!;
    const f = flags[i]!;
    if ((f & Feed.inbound) === 0) {
      kd += (a >>> 1) & 1;
      continue;
    }
    window[m] = windowOf.of(start[i]!);
    kind[m] = (f & 12) | (a & 3);
    z.account[m] = account[i]!;
    z.region[m] = region[i]!;
    const six = (a & 2) !== 0;
    putAddress(d, 4 * m++, six, dst[i]!, dst6, 4 * kd);
    kd += six ? 1 : 0;
  }
  return distinctInRun(m);
}

/** countShortRun's compare of its m rows in runScratch: distinct entries, and keys into keyCount. */
function distinctInRun(m: number): number {
  const z = runScratch;
  const { window, kind, account, region, dst: d } = z;
  let keys = 0;
  let entries = 0;
  for (let j = 0; j < m; j++) {
    let newKey = 1;
    let newEntry = 1;
    for (let q = 0; q < j; q++) {
      const key = (window[q]! ^ window[j]!) | ((kind[q]! ^ kind[j]!) & 1);
      const o = 4 * q;
      const p = 4 * j;
      const entry = key | (kind[q]! ^ kind[j]!) | (account[q]! ^ account[j]!) | (region[q]! ^ region[j]!) |
        (d[o]! ^ d[p]!) | (d[o + 1]! ^ d[p + 1]!) | (d[o + 2]! ^ d[p + 2]!) | (d[o + 3]! ^ d[p + 3]!);
      if (key === 0) newKey = 0;
      if (entry === 0) newEntry = 0;
    }
    keys += newKey;
    entries += newEntry;
  }
  z.keyCount = keys;
  return entries;
}

/**
 * Whether source words and protocol-port (w3 .. w0, pp; int32 bits of u32 words) sort before
 * (r3 .. r0, rp), as entryOrder sorts them: unsigned, with the sign bit flipped.
 */
function before(w3: number, w2: number, w1: number, w0: number, pp: number, r3: number, r2: number, r1: number, r0: number, rp: number): boolean {
  // every compare made each call (the lower words' are rarely needed: V8 would have no feedback for them)
  const lt3 = (w3 ^ 0x80000000) < (r3 ^ 0x80000000);
  const lt2 = (w2 ^ 0x80000000) < (r2 ^ 0x80000000);
  const lt1 = (w1 ^ 0x80000000) < (r1 ^ 0x80000000);
  const lt0 = (w0 ^ 0x80000000) < (r0 ^ 0x80000000);
  const ltp = pp < rp;
  return lt3 || (w3 === r3 && (lt2 || (w2 === r2 && (lt1 || (w1 === r1 && (lt0 || (w0 === r0 && ltp)))))));
}

/** A run into runScratch.ranges at `at` (grown when full): where the next goes, after it if kept. */
function keepRange(at: number, keep: boolean, from: number, to: number, ks: number, kd: number): number {
  const z = runScratch;
  if (at + 4 > z.ranges.length) {
    const grown = new Int32Array(z.ranges.length * 2);
    grown.set(z.ranges);
    z.ranges = grown;
  }
  z.ranges[at] = from;
  z.ranges[at + 1] = to;
  z.ranges[at + 2] = ks;
  z.ranges[at + 3] = kd;
  return at + (keep ? 4 : 0);
}

/** dropSmallKeys's scratch, reused from block to block: a key table and an entry set, open addressing. */
const smallScratch = {
  keySlots: new Int32Array(0), // key + 1; 0 = empty
  keyFirst: new Int32Array(0), // the first row (of entryScratch) of each key
  keyRows: new Int32Array(0),
  keyOf: new Int32Array(0), // each row's key
  entrySlots: new Int32Array(0), // row + 1 of an entry of a small key; 0 = empty
};

/**
 * For entry rows that hold all of their bucket's records in the run (BlockRows.smallBelow):
 * the rows of keys (source, protocol, port, window) with fewer rows than smallBelow counted,
 * not added. Such a key has at most that many entries, fewer than the finalisation's
 * min_endpoints, and no other block adds to it: the table would only have counted it and its
 * entries. Counts its keys and distinct entries into r, moves the other rows (keys, row
 * numbers) to the front of entryScratch in their order, and returns how many.
 */
function dropSmallKeys(r: BlockRows, m: number): number {
  const { keys: k, rows } = entryScratch;
  const z = smallScratch;
  const size = nextPow2(Math.max(16, m * 2));
  if (z.keySlots.length < size) {
    z.keySlots = new Int32Array(size);
    z.entrySlots = new Int32Array(size);
    z.keyFirst = new Int32Array(size >>> 1);
    z.keyRows = new Int32Array(size >>> 1);
    z.keyOf = new Int32Array(size >>> 1);
  }
  const keyCount = groupKeys(k, m, size - 1, z);
  const below = r.smallBelow;
  let small = 0;
  for (let q = 0; q < keyCount; q++) if (z.keyRows[q]! < below) small++;
  if (small === 0) return m;
  r.smallKeys += small;
  r.smallEntries += countSmallEntries(k, m, size - 1, below, z);
  let w = 0;
  for (let j = 0; j < m; j++) {
    if (z.keyRows[z.keyOf[j]!]! < below) continue;
    if (w !== j) {
      k.copyWithin(w * KEY_WORDS, j * KEY_WORDS, (j + 1) * KEY_WORDS);
      rows[w] = rows[j]!;
    }
    w++;
  }
  return w;
}

/** The scan key of each of m keyed rows (KeyGrouper's: source, protocol and port, window, source family) into z: how many keys. */
function groupKeys(k: Uint32Array, m: number, mask: number, z: typeof smallScratch): number {
  const { keySlots: slots, keyFirst, keyRows, keyOf } = z;
  slots.fill(0, 0, mask + 1);
  let keys = 0;
  for (let j = 0; j < m; j++) {
    const o = j * KEY_WORDS;
    const s6 = (k[o + 5]! >>> 16) & F_SRC6;
    let slot = fmix32(mix(mix(mix(mix(0x3c6ef372, k[o]!), k[o + 1]!), k[o + 2]!), s6)) & mask;
    for (;;) {
      const q1 = slots[slot]!;
      // the next slot worked out on every probe: written only on the collision path, it had no
      // type feedback when V8 first optimised this (few collisions in a sparse table), and the
      // first collision deoptimised it, so each worker compiled it twice (issue 19, replayv8)
      const next = (slot + 1) & mask;
      if (q1 === 0) {
        keyFirst[keys] = j;
        keyRows[keys] = 1;
        keyOf[j] = keys;
        slots[slot] = ++keys;
        break;
      }
      const f = keyFirst[q1 - 1]! * KEY_WORDS;
      if (k[f] === k[o] && k[f + 1] === k[o + 1] && k[f + 2] === k[o + 2] && ((k[f + 5]! >>> 16) & F_SRC6) === s6) {
        keyRows[q1 - 1]!++;
        keyOf[j] = q1 - 1;
        break;
      }
      slot = next;
    }
  }
  return keys;
}

/**
 * The distinct entries (the table's key: all six words, the last under KEY_RF) among the rows
 * of keys with fewer than `below` rows. A twin's rows are distinct entries at a 6-h window;
 * at 12 or 24 h one entry may have a row per 6 h. A key of one row is one entry (most keys).
 */
function countSmallEntries(k: Uint32Array, m: number, mask: number, below: number, z: typeof smallScratch): number {
  const { entrySlots: slots, keyRows, keyOf } = z;
  slots.fill(0, 0, mask + 1);
  let entries = 0;
  for (let j = 0; j < m; j++) {
    const c = keyRows[keyOf[j]!]!;
    if (c >= below) continue;
    if (c === 1) {
      entries++;
      continue;
    }
    const o = j * KEY_WORDS;
    let slot = keyHash(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, k[o + 4]!, k[o + 5]! & KEY_RF) & mask;
    for (;;) {
      const e1 = slots[slot]!;
      if (e1 === 0) {
        slots[slot] = j + 1;
        entries++;
        break;
      }
      const f = (e1 - 1) * KEY_WORDS;
      if (
        k[f] === k[o] && k[f + 1] === k[o + 1] && k[f + 2] === k[o + 2] && k[f + 3] === k[o + 3] && k[f + 4] === k[o + 4] &&
        ((k[f + 5]! ^ k[o + 5]!) & KEY_RF) === 0
      ) break;
      slot = (slot + 1) & mask;
    }
  }
  return entries;
}

/**
 * The keys of a block's inbound rows [from, to), in the words KeyBuilder.ofBatch writes, and
 * their row numbers, written from k's and rows' m-th on: how many in all. ks and kd: the IPv6
 * addresses of rows before `from` in src6 / dst6.
 */
function entryKeys(
  core: ScanCore, keys: KeyBuilder, r: BlockRows, k: Uint32Array, rows: Int32Array, from: number, to: number, ks: number, kd: number, m: number,
): number {
  const { flags, af, src, dst, src6, dst6, proto, dport, start, account, region } = r;
  const windowOf = keys.startBlock(r);
  const v6 = core.v6;
  for (let i = from; i < to; i++) {
    const f = flags[i]!;
    const a = af[i]!;
    if ((f & Feed.inbound) === 0) {
      ks += a & 1;
      kd += (a >>> 1) & 1;
      continue;
    }
    const o = m * KEY_WORDS;
    k[o] = a & 1 ? v6.intern(src6, 4 * ks++) : src[i]!;
    k[o + 1] = (proto[i]! << 16) | dport[i]!;
    k[o + 2] = windowOf.of(start[i]!);
    k[o + 3] = (((f >>> 2) & 3) << 30) | keys.accountOf(account[i]!);
    k[o + 4] = a & 2 ? v6.intern(dst6, 4 * kd++) : dst[i]!;
    k[o + 5] = keys.regionOf(region[i]!) | (familyOf(a) << 16);
    rows[m++] = i;
  }
  return m;
}

/** Keep records [from, to) of a batch (keys.ofBatch done), keyed as the table keys them, to add in bucket order. */
export function holdRange(keys: KeyBuilder, batch: FlowBatchData, from: number, to: number, p: PendingRows): void {
  const { feed, packets, bytes, start, end } = batch;
  const { words: kw, buckets } = keys;
  const k = p.rec;
  for (let i = from; i < to; i++) {
    if ((feed[i]! & Feed.inbound) === 0) continue;
    const r = p.put(buckets[i]!);
    const ko = r * HELD_WORDS;
    const o = i * KEY_WORDS;
    k[ko] = kw[o]!;
    k[ko + 1] = kw[o + 1]!;
    k[ko + 2] = kw[o + 2]!;
    k[ko + 3] = kw[o + 3]!;
    k[ko + 4] = kw[o + 4]!;
    k[ko + 5] = kw[o + 5]! | (buckets[i]! << BUCKET_SHIFT);
    p.putCounts(ko, packets[i]!, bytes[i]!);
    k[ko + HELD_START] = start[i]!;
    k[ko + HELD_END] = end[i]!;
  }
}

/**
 * Before a batch is held in WebAssembly (HeldSorter.holdStaged): the module's maps start
 * empty for a string table new to it (kept while batches carry the same one), and its window
 * cache anew (as ofBatch's).
 */
export function startHeldBatch(sorter: HeldSorter, strings: string[]): void {
  sorter.resetWindow();
  if (strings === sorter.mappedStrings) return;
  sorter.mappedStrings = strings;
  sorter.accounts.fill(UNMAPPED, 0, strings.length);
  sorter.regions.fill(UNMAPPED, 0, strings.length);
}

/**
 * The IPv6 address words of the rows the last holdStaged wrote (HeldSorter.v6List: the
 * staged record, from `from` in the batch, and its row): each address interned here, in
 * record order, src before dst (holdRecord's order, so the ids count as they did when each
 * such record stopped the module). Called after every holdStaged, before anything else.
 */
export function internHeldV6(core: ScanCore, batch: FlowBatchData, from: number, p: PendingRows): void {
  const sorter = p.sorter!;
  const m = sorter.holdV6();
  if (m === 0) return;
  const list = sorter.v6List;
  const k = p.rec;
  // the addresses side by side first (src before dst, record by record), interned in one
  // loop (V6Intern.internAll), the ids then written into their rows
  if (v6Scratch.ids.length < m * 2) {
    v6Scratch.words = new Uint32Array(m * 8);
    v6Scratch.ids = new Uint32Array(m * 2);
  }
  const { words, ids } = v6Scratch;
  const { src, dst } = batch;
  let a = 0;
  for (let j = 0; j < m; j++) {
    const o = (from + list[j * 2]!) * 4;
    const fam = k[list[j * 2 + 1]! * HELD_WORDS + 5]! >>> 16;
    if (fam & F_SRC6) a = copyAddress(src, o, words, a);
    if (fam & F_DST6) a = copyAddress(dst, o, words, a);
  }
  core.v6.internAll(words, a >> 2, ids);
  a = 0;
  for (let j = 0; j < m; j++) {
    const ko = list[j * 2 + 1]! * HELD_WORDS;
    const fam = k[ko + 5]! >>> 16;
    if (fam & F_SRC6) k[ko] = ids[a++]!;
    if (fam & F_DST6) k[ko + 4] = ids[a++]!;
  }
}

/** internHeldV6's addresses and their ids (grown to the largest list, two addresses a record). */
const v6Scratch = { words: new Uint32Array(0), ids: new Uint32Array(0) };

/** The four words of w's address at o into out at a: where the next goes. */
function copyAddress(w: Uint32Array, o: number, out: Uint32Array, a: number): number {
  out[a] = w[o]!;
  out[a + 1] = w[o + 1]!;
  out[a + 2] = w[o + 2]!;
  out[a + 3] = w[o + 3]!;
  return a + 4;
}

/**
 * Hold record i of a batch that the module stopped at (an account or region to map, or an
 * id past the module's maps), keyed as ofBatch keys it, with the module's maps and window
 * cache. False when its part is full (nothing done: the caller makes room).
 */
export function holdRecord(core: ScanCore, keys: KeyBuilder, batch: FlowBatchData, i: number, p: PendingRows): boolean {
  const sorter = p.sorter!;
  const { src, dst, account, region } = batch;
  const o = i * 4;
  const bucket = bucketOf(hashAddress(src, o));
  if (p.fill[(bucket / BUCKETS_PER_PART) | 0] === p.partCap) return false;
  let fam = 0;
  let sA: number;
  if (src[o] === 0 && src[o + 1] === 0 && src[o + 2] === 0xffff) sA = src[o + 3]!;
  else {
    sA = core.v6.intern(src, o);
    fam = F_SRC6;
  }
  let dA: number;
  if (dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === 0xffff) dA = dst[o + 3]!;
  else {
    dA = core.v6.intern(dst, o);
    fam |= F_DST6;
  }
  const a = account[i]!;
  let ac = sorter.accounts[a]!;
  if (ac === UNMAPPED) ac = sorter.accounts[a] = keys.accountId(batch.strings[a]!);
  const g = region[i]!;
  let rg = sorter.regions[g]!;
  if (rg === UNMAPPED) rg = sorter.regions[g] = keys.regionId(batch.strings[g]!);
  const r = p.put(bucket);
  const k = p.rec;
  const ko = r * HELD_WORDS;
  k[ko] = sA;
  k[ko + 1] = (batch.proto[i]! << 16) | batch.dport[i]!;
  k[ko + 2] = sorter.windowOf(batch.start[i]!);
  k[ko + 3] = (batch.cloud[i]! << 30) | ac;
  k[ko + 4] = dA;
  k[ko + 5] = rg | (fam << 16) | (bucket << BUCKET_SHIFT);
  p.putCounts(ko, batch.packets[i]!, batch.bytes[i]!);
  k[ko + HELD_START] = batch.start[i]!;
  k[ko + HELD_END] = batch.end[i]!;
  return true;
}

/**
 * Add the held records, in bucket order (a part of the buckets at a time), and empty the
 * buffer. Into an empty table, the index's regions are first weighed by the held records of
 * each bucket (ScanCore.layoutRegions): the first flush holds most of a run's keys.
 */
export function addPending(core: ScanCore, last: LastKey, p: PendingRows): void {
  core.entriesAhead(0); // the first window, while the regions are weighed and the first part sorted
  if (core.count === 0) {
    core.weighRegions(p.bucketRows(), p.n);
    core.touchIndex(p.n);
  }
  last.reset();
  for (let part = 0; part < PENDING_PARTS; part++) {
    if (core.arena && addHeldPart(core, last, p, part)) continue;
    if (p.sortPart(part)) addSortedPart(core, last, p.sorted, p.sortedWide, p.sortedHash, p.start, part * BUCKETS_PER_PART, 0);
  }
  p.clear();
}

/**
 * Add part `part`'s held records in WebAssembly (scan-wasm.ts): sorted by bucket into the
 * arena's scratch, then hashed and added there in one call. False when the table left the
 * arena before (its scratch did not fit): the caller adds the part in JavaScript.
 */
function addHeldPart(core: ScanCore, last: LastKey, p: PendingRows, part: number): boolean {
  const m = p.fill[part]!;
  if (m === 0) return true;
  const rows = core.heldScratch(p.partCap);
  if (rows === null) return false;
  const arena = core.arena!;
  const base = part * p.partCap;
  const sorter = p.sorter;
  if (sorter) {
    // sorted in the held buffer's memory, and read there when the table lies in it too
    // (ScanArena.hostIn), else copied into the table's scratch
    const wide = sorter.sort(base, m);
    if (!arena.readPart(sorter, m, wide)) {
      arena.start.set(sorter.start);
      rows.set(sorter.sorted.subarray(0, m * HELD_WORDS));
      arena.hashes.set(sorter.sortedHash.subarray(0, m));
      if (wide > 0) arena.wide.set(sorter.sortedWide.subarray(0, wide * 2));
    }
  } else {
    arena.readPart(null, m, 0);
    sortHeldPart(p, base, m, arena.start, rows, arena.wide, arena.hashes);
  }
  const first = part * BUCKETS_PER_PART;
  core.entriesAhead(m);
  const from = core.addHeldRows(first);
  if (from >= 0) {
    // the table left the arena as it grew: the rest of the part in JavaScript, from the same memory
    // (arena.rows, not `rows`: the resizes before may have grown the memory and detached that view)
    last.reset();
    if (sorter && arena.partInHost) addSortedPart(core, last, sorter.sorted, sorter.sortedWide, sorter.sortedHash, sorter.start, first, from);
    else addSortedPart(core, last, arena.rows, arena.wide, arena.hashes, arena.start, first, from);
  }
  last.reset(); // the arena's loop keeps its own last key
  return true;
}

/**
 * Add the records of one part, sorted by bucket (sortPart: rows `k`, the counts of its wide
 * rows, their key hashes, each bucket's first row in `start`), from row `from` on; `first` = the
 * part's first bucket. A function of its own, as every loop of the flush: the flush runs once a run or
 * so, and a loop optimised while its function runs (on-stack replacement) had no feedback
 * yet for the code after it, which threw the optimised code away when reached (3 compiles
 * of addPending a run, 6 of sortPart; bench/RESULTS.md, shard section).
 */
function addSortedPart(core: ScanCore, last: LastKey, k: Uint32Array, wide: Float64Array, hashes: Uint32Array, start: Int32Array, first: number, from: number): void {
  for (let sb = 0; sb < BUCKETS_PER_PART; sb++) {
    const b = first + sb;
    const end = start[sb + 1]!;
    for (let r = Math.max(start[sb]!, from); r < end; r++) {
      const o = r * HELD_WORDS;
      // key words as int32 (the same bits): a call boxes every u32 past 2^31 (ScanCore.findOrInsertHashed)
      const k0 = k[o]! | 0;
      const k1 = k[o + 1]! | 0;
      const k2 = k[o + 2]! | 0;
      const k3 = k[o + 3]! | 0;
      const k4 = k[o + 4]! | 0;
      const k5 = k[o + 5]! | 0;
      if (!last.same(k0, k1, k2, k3, k4, k5)) last.entry = core.findOrInsertHashed(hashes[r]! | 0, k0, k1, k2, k3, k4, k5, b);
      const pw = k[o + HELD_PACKETS]!;
      const bw = k[o + HELD_BYTES]!;
      if (pw === HELD_WIDE) core.accumulate(last.entry, wide[bw * 2]!, wide[bw * 2 + 1]!, k[o + HELD_START]!, k[o + HELD_END]!);
      else core.accumulate(last.entry, countOfHeld(pw), countOfHeld(bw), k[o + HELD_START]!, k[o + HELD_END]!);
    }
  }
}

/**
 * Records held back by ScanTable.addBatch, one 40-byte row each (scan-layout.ts HELD_WORDS
 * says what each word holds: the key words as the table keys them, packets and bytes as
 * u32s, start and end; the source bucket in the region word, as an entry's), and the counts of wide rows (those whose
 * counts are not u32s) in a list of their own. Sorting copies the records, bucket by
 * bucket, into a second buffer, which is then read straight through: 82 bytes a record
 * held in all.
 */
/** Records hold() takes between checks that every part has room. */
export const HOLD_RUN = 256;
/**
 * The held records are kept in 64 parts by the high 6 bits of their bucket (a record is
 * written to its part's next row), and flush sorts one part at a time by the low 6 bits
 * into a part-sized scratch that stays in L2. (Sorting all held records by bucket at once
 * scattered them over 4,096 places in tens of megabytes: a cache and TLB miss each.)
 */
const PENDING_PARTS = 64;
/** The parts of the held buffer (for the table's scratch: a part's rows at most). */
export const HELD_PARTS = PENDING_PARTS;
const BUCKETS_PER_PART = SHARD_BUCKETS / PENDING_PARTS;
/**
 * Bytes a held record costs: its words, its share of the sort scratch, and two bytes the
 * module's layout keeps a row (scan-wasm.ts HeldSorter: the bucket list of before the bucket
 * went into the row's region word, now the sort's groups; counted so that --max-memory's
 * limits stay as they were).
 */
export const PENDING_ROW_BYTES = 2 + HELD_WORDS * 4 + 1;
export class PendingRows {
  n = 0;
  /** rows of each part: part p's records are rows p * partCap .. p * partCap + fill[p] */
  readonly partCap: number;
  readonly fill: Int32Array;
  /** the most rows each part has held (noted at clear): rows past it were never written */
  private readonly highFill = new Int32Array(PENDING_PARTS);
  readonly rec: Uint32Array;
  /** the counts of wide rows (packets, bytes), wideFill[0] of them */
  readonly wide: Float64Array;
  readonly wideFill: Uint32Array;
  /** after sortPart(p): bucket p * 64 + b's records are sorted[start[b] .. start[b+1]), the counts of its wide rows in sortedWide */
  readonly sorted: Uint32Array;
  readonly sortedWide: Float64Array;
  /** the key hash (keyHash) of each record in `sorted` (sortPart) */
  readonly sortedHash: Uint32Array;
  readonly start = new Int32Array(BUCKETS_PER_PART + 1);
  private scratch: { groups: Int32Array; hashes: Uint32Array } | null = null;

  /** the buffer in WebAssembly memory, sorted there (scan-wasm.ts HeldSorter); null: JavaScript arrays */
  readonly sorter: HeldSorter | null;

  /**
   * `wasmWindow`: in WebAssembly memory where built, records keyed into windows of so many seconds (a table in an arena: addHeldPart); null: JavaScript arrays.
   * `inRing`: the buffer at its largest, which may be placed in the batch ring's memory (scan-wasm.ts heldSorter).
   */
  constructor(
    readonly cap: number,
    private readonly wasmWindow: number | null = null,
    inRing = false,
  ) {
    this.partCap = Math.max(1, Math.ceil(cap / PENDING_PARTS));
    const rows = this.partCap * PENDING_PARTS;
    this.sorter = wasmWindow !== null ? heldSorter(rows, this.partCap, wasmWindow, inRing) : null;
    this.fill = this.sorter ? this.sorter.fill : new Int32Array(PENDING_PARTS);
    if (this.sorter) {
      this.rec = this.sorter.rec;
      this.wide = this.sorter.wide;
      this.wideFill = this.sorter.wideFill;
      this.sorted = this.sorter.sorted;
      this.sortedWide = this.sorter.sortedWide;
    } else {
      this.rec = new Uint32Array(rows * HELD_WORDS);
      // as large as every row wide (pages never written cost no memory)
      this.wide = new Float64Array(rows * 2);
      this.wideFill = new Uint32Array(1);
      this.sorted = new Uint32Array(this.partCap * HELD_WORDS);
      this.sortedWide = new Float64Array(this.partCap * 2);
    }
    this.sortedHash = new Uint32Array(this.partCap);
  }

  get bytes(): number {
    return this.rec.byteLength + this.sorted.byteLength + this.sortedHash.byteLength;
  }

  /**
   * Bytes of the buffer that have been written: the buffer is allocated at its largest at
   * once (ScanTable.makeRoom), and rows never written are address space the system has not
   * backed with memory, so a small input's held records cost what they use.
   */
  get heldBytes(): number {
    this.noteFill();
    let rows = 0;
    let most = 0;
    for (let p = 0; p < PENDING_PARTS; p++) {
      rows += this.highFill[p]!;
      if (this.highFill[p]! > most) most = this.highFill[p]!;
    }
    return rows * (2 + HELD_WORDS * 4) + most * (HELD_WORDS * 4 + 4) + this.wideFill[0]! * 16;
  }

  /** The held rows' memory backed ahead of the hold by the fullest part (HeldSorter.rowsAhead), in WebAssembly memory. */
  rowsAhead(): void {
    if (this.sorter === null) return;
    let most = 0;
    for (let p = 0; p < PENDING_PARTS; p++) if (this.fill[p]! > most) most = this.fill[p]!;
    this.sorter.rowsAhead(most);
  }

  private noteFill(): void {
    for (let p = 0; p < PENDING_PARTS; p++) if (this.fill[p]! > this.highFill[p]!) this.highFill[p] = this.fill[p]!;
  }

  /** The row for a record of `bucket`; its part must have room (minFree). */
  put(bucket: number): number {
    const p = (bucket / BUCKETS_PER_PART) | 0;
    const f = this.fill[p]!;
    this.fill[p] = f + 1;
    this.n++;
    return p * this.partCap + f;
  }

  /** Row words ko's counts (heldCount): a wide row's go to the wide list. */
  putCounts(ko: number, packets: number, bytes: number): void {
    const k = this.rec;
    const pw = heldCount(packets);
    const bw = heldCount(bytes);
    if (pw === HELD_WIDE || bw === HELD_WIDE) {
      const w = this.wideFill[0]!;
      this.wide[w * 2] = packets;
      this.wide[w * 2 + 1] = bytes;
      this.wideFill[0] = w + 1;
      k[ko + HELD_PACKETS] = HELD_WIDE;
      k[ko + HELD_BYTES] = w;
    } else {
      k[ko + HELD_PACKETS] = pw;
      k[ko + HELD_BYTES] = bw;
    }
  }

  /** Held records of each bucket. */
  bucketRows(): Int32Array {
    if (this.sorter) return this.sorter.bucketRows();
    const per = new Int32Array(SHARD_BUCKETS);
    for (let p = 0; p < PENDING_PARTS; p++) countBuckets(this.rec, p * this.partCap, this.fill[p]!, per);
    return per;
  }

  /** Free rows in the fullest part. */
  minFree(): number {
    let most = 0;
    for (let p = 0; p < PENDING_PARTS; p++) if (this.fill[p]! > most) most = this.fill[p]!;
    return this.partCap - most;
  }

  clear(): void {
    this.noteFill();
    this.fill.fill(0);
    this.wideFill[0] = 0;
    this.n = 0;
  }

  /** A larger buffer holding the same records (`inRing`: as the constructor's). */
  grown(cap: number, inRing = false): PendingRows {
    const g = new PendingRows(cap, this.sorter !== null ? this.wasmWindow : null, inRing);
    for (let p = 0; p < PENDING_PARTS; p++) {
      const m = this.fill[p]!;
      const from = p * this.partCap;
      const to = p * g.partCap;
      g.rec.set(this.rec.subarray(from * HELD_WORDS, (from + m) * HELD_WORDS), to * HELD_WORDS);
      g.fill[p] = m;
    }
    // the rows keep their places in the wide list
    g.wide.set(this.wide.subarray(0, this.wideFill[0]! * 2));
    g.wideFill[0] = this.wideFill[0]!;
    g.n = this.n;
    return g;
  }

  /** Sort part p's records into `sorted` (sortHeldPart), their hashes into `sortedHash`. False when the part is empty. */
  sortPart(p: number): boolean {
    const m = this.fill[p]!;
    if (m === 0) return false;
    sortHeldPart(this, p * this.partCap, m, this.start, this.sorted, this.sortedWide, this.sortedHash);
    return true;
  }

  /** The sort's group counts and the part's key hashes (sortHeldPart), made on first use. */
  sortScratch(): { groups: Int32Array; hashes: Uint32Array } {
    return (this.scratch ??= { groups: new Int32Array(BUCKETS_PER_PART << HELD_SORT_BITS), hashes: new Uint32Array(this.partCap) });
  }
}

/** Add the buckets (in their region words) of the m rows from row `base` into `per` (a loop of its own: addSortedPart says why). */
function countBuckets(rec: Uint32Array, base: number, m: number, per: Int32Array): void {
  for (let r = base; r < base + m; r++) per[rec[r * HELD_WORDS + 5]! >>> BUCKET_SHIFT]!++;
}

/**
 * Copy the m held records from row `base` into `out` by the low 6 bits of their bucket, then
 * by the top bits of their key hash (heldSortBits(m) of them; a counting sort, stable, so
 * deterministic); bucket b's first row at start[b], start[64] = m; their key hashes into
 * `outHash`. Each bucket's rows so come in the order of their home slots in the table's
 * index (ScanCore.home: the hash's top bits place a key in its bucket's region), and a
 * key's rows together or near: the add walks the region forward instead of probing it at
 * random, 92 ms -> 57 ms of adds on the bucket (bench/RESULTS.md, heldgroup section).
 * assembly/scan-held.ts sortPart is the same sort.
 */
function sortHeldPart(p: PendingRows, base: number, m: number, start: Int32Array, out: Uint32Array, outWide: Float64Array, outHash: Uint32Array): void {
  const { groups, hashes } = p.sortScratch();
  const bits = heldSortBits(m);
  // each loop a function of its own (addSortedPart says why)
  hashKeys(p.rec.subarray(base * HELD_WORDS, (base + m) * HELD_WORDS), HELD_WORDS, m, hashes);
  groupStarts(p.rec, hashes, base, m, bits, groups, start);
  scatterRows(p.rec, p.wide, hashes, base, m, bits, groups, out, outWide, outHash);
}

/** A held row's group in its part's sort: bucket's low 6 bits, then the hash's top `bits` (two shifts: a shift by 32 is one by 0). */
function groupOf(bucket: number, hash: number, bits: number): number {
  return ((bucket % BUCKETS_PER_PART) << bits) | ((hash >>> 1) >>> (31 - bits));
}

/** groups[g] = the first sorted row of group g of the m records from row base; start[b] = bucket b's (of the part), start[64] = m. */
function groupStarts(rec: Uint32Array, hashes: Uint32Array, base: number, m: number, bits: number, groups: Int32Array, start: Int32Array): void {
  const n = BUCKETS_PER_PART << bits;
  groups.fill(0, 0, n);
  for (let r = 0; r < m; r++) groups[groupOf(rec[(base + r) * HELD_WORDS + 5]! >>> BUCKET_SHIFT, hashes[r]!, bits)]!++;
  let sum = 0;
  for (let g = 0; g < n; g++) {
    const c = groups[g]!;
    groups[g] = sum;
    if (g % (1 << bits) === 0) start[g >>> bits] = sum;
    sum += c;
  }
  start[BUCKETS_PER_PART] = sum;
}

/**
 * Copy the m records from row base to their sorted rows (groups: each group's next row,
 * advanced as rows are written), their hashes beside; a wide row's counts (in `wide`) to the
 * next of `outWide`, its bytes word renumbered.
 */
function scatterRows(rec: Uint32Array, wide: Float64Array, hashes: Uint32Array, base: number, m: number, bits: number, groups: Int32Array, out: Uint32Array, outWide: Float64Array, outHash: Uint32Array): void {
  let wides = 0;
  for (let r = 0; r < m; r++) {
    const from = (base + r) * HELD_WORDS;
    const at = groups[groupOf(rec[from + 5]! >>> BUCKET_SHIFT, hashes[r]!, bits)]!++;
    outHash[at] = hashes[r]!;
    const to = at * HELD_WORDS;
    for (let w = 0; w < HELD_WORDS; w++) out[to + w] = rec[from + w]!;
    if (rec[from + HELD_PACKETS] === HELD_WIDE) {
      const x = rec[from + HELD_BYTES]! * 2;
      outWide[wides * 2] = wide[x]!;
      outWide[wides * 2 + 1] = wide[x + 1]!;
      out[to + HELD_BYTES] = wides++;
    }
  }
}
