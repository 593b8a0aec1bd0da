/**
 * Finalisation of the inbound accumulator (detection.md §3): each scan key's features and
 * verdict, and the per-endpoint-day facts of the scans. Reads a table's entries
 * (scan-core.ts) and changes nothing in it.
 *
 * A key's entries all lie in its source's bucket, so entries are first sorted by bucket
 * (a counting sort), then grouped by key one bucket at a time with a small table that
 * stays in cache. Only keys with at least min_endpoints entries can be scans or near
 * misses, so the many one-endpoint keys are counted and passed over without further work.
 *
 * For a table in WebAssembly memory (an arena) the sort, the grouping and each candidate
 * key's features run in the module (scan-finalise-wasm.ts: a run finalises once, and these
 * loops ran mostly unoptimised in JavaScript); the verdict objects and endpoint-days are made
 * here from what it writes, in the same order. The JavaScript loops below remain for tables
 * in JavaScript arrays, buckets too large for the module's scratch and FLOWSIEVE_FINALISE=js.
 */
import { fmix32, mix, SHARD_BUCKETS } from '../flow/hash.js';
import type { ScanCore } from './scan-core.js';
import * as layout from './scan-layout.js';
import { nextPow2 } from './scan-layout.js';
import type { FinalizeOptions, FinalizeResult, KeyVerdict } from './verdict.js';
import { coefficientOfVariation, failedConditions, type KeyFeatures } from '../detect/rules.js';
import { formatAddress } from '../net/address.js';
import {
  K_ACCOUNTS, K_BYTES, K_CLOUDS, K_CV_BYTES, K_CV_FLOWS, K_CV_PACKETS, K_ENDPOINT_ROW, K_ENDPOINTS, K_ENTRY, K_FIRST, K_FLOWS, K_LAST,
  K_N_BYTES, K_N_PACKETS, K_PACKETS, K_REGIONS, KEY_SLOTS, KEY_WORDS, finaliseInModule, sharedFinalise, type FinaliseShare, type ModuleFinalise,
} from './scan-finalise-wasm.js';
import { V6Intern } from './v6-intern.js';
import type { EndpointDaySink } from './endpoint-days.js';
import { endpointDaysFor } from './endpoint-days-wasm.js';

// The layout's constants as this module's own consts: an imported binding is read through
// its module cell at every use, in the probe loop too (adding held records: 84 -> 72 ns a
// record with local copies; bench/RESULTS.md, issue 19 table section).
const {
  BUCKET_SHIFT, BYT, COUNT_VALUES, DST, ENTRY_WORDS, EP, F_BYTES, F_DST6, F_PACKETS, F_SRC6, FIRST, FLAG_BITS, FLOWS, LAST, PKT, PP, RF, SRC, WIN,
} = layout;

/** Every key's verdict of windows <= opts.uptoWindow (the caller adds held records first and drops after). */
export function finalizeTable(t: ScanCore, opts: FinalizeOptions): FinalizeResult {
  const minTuples = Math.max(1, opts.thresholds.minEndpoints);
  const upto = opts.uptoWindow ?? 0xffffffff;
  // a table in JavaScript arrays is finalised in JavaScript (scan-finalise-wasm.ts says why);
  // so is a threshold the module's u32 would not hold as it is (the options allow only integers)
  const minEndpoints = opts.thresholds.minEndpoints;
  const inModule = Number.isInteger(minEndpoints) && minEndpoints >= 0 && minEndpoints < 2 ** 31;
  const mod = inModule ? (t.arena?.finalise(t.count, upto, minTuples, minEndpoints) ?? null) : null;
  if (mod !== null) {
    mod.keep(opts.thresholds, opts.nearMisses);
    return finalizeInModule(t, opts, mod);
  }
  // half a window past the last: the same windows pass, and the bound is a double in every
  // run (a window number compared with a small bound, then with 2^32 - 1, deoptimised the sort)
  const { start, order: byBucket } = entriesByBucket(t, upto + 0.5);
  const run = new FinaliseRun(t, opts);
  let keys = 0;
  for (let b = 0; b < SHARD_BUCKETS; b++) {
    if (start[b] === start[b + 1]) continue;
    keys += run.groupInJs(byBucket.subarray(start[b]!, start[b + 1]!));
  }
  return run.result(keys, byBucket.length);
}

/**
 * The finalisation in the module (scan-finalise-wasm.ts): a call a bucket, then the verdict
 * objects and endpoint-days of the keys it wrote, in the same order as the JavaScript path
 * (buckets ascending, keys as they first appear). A bucket too large for the module's
 * scratch is grouped in JavaScript, in its turn.
 */
function finalizeInModule(t: ScanCore, opts: FinalizeOptions, mod: ModuleFinalise): FinalizeResult {
  const run = new FinaliseRun(t, opts);
  return run.result(finaliseBuckets(run, mod, 0, SHARD_BUCKETS), mod.entries);
}

/** Buckets from..to of the finalisation `mod` into `run`: their distinct keys. */
function finaliseBuckets(run: FinaliseRun, mod: ModuleFinalise, from: number, to: number): number {
  const { start, order } = mod;
  let keys = 0;
  for (let b = from; b < to; b++) {
    if (start[b] === start[b + 1]) continue;
    const k = mod.bucket(b);
    if (k < 0) keys += run.groupInJs(order.subarray(start[b]!, start[b + 1]!));
    else {
      keys += k;
      // most buckets hold no scan (708 keys in 4,096 buckets on the 7 M-record bucket): no call then
      const written = mod.keysWritten();
      if (written > 0) run.moduleKeys(mod, written);
    }
  }
  return keys;
}

/**
 * What finalisation reads of a table: a ScanCore, or a view of one that lies in a shared
 * memory, in another thread (SharedTableView).
 */
export type FinaliseTable = Pick<ScanCore, 'u' | 'd' | 'srcA' | 'pp' | 'win' | 'flags' | 'dstText'> & {
  readonly v6: Pick<V6Intern, 'wordsOf'>;
  readonly accounts: { readonly strings: readonly string[] };
};

/**
 * A table's finalisation shared with another thread (the tail split, tail.ts): the table
 * sorted by bucket by whichever thread comes to it first (share.sort: the other one, at
 * once, while this one finalises its outbound table: the sort was ~30 ms of CPU on the
 * 7 M-record bucket's serial tail), then each thread takes CHUNK_BUCKETS buckets at a time
 * from one counter in shared memory (share.next) until none is left: this thread through
 * own(), after its other work, the other through finalizeShare, at once. Which thread takes which
 * buckets varies from run to run; the verdicts do not: a key lies in one bucket, so the
 * parts' verdicts are those of the whole, and the caller's merge (verdicts sorted,
 * endpoint-days merged as shards' are, whose sources are disjoint) gives the same output.
 */
export interface SplitFinalise {
  share: TableShare;
  own(): FinalizeResult;
}

/** A FinaliseShare, the chunk counter, and the table's strings and IPv6 addresses, which live in the owner's heap (copied: small). */
export interface TableShare extends FinaliseShare {
  count: number;
  /** the next chunk of buckets to finalise (one i32 in a SharedArrayBuffer), of `chunks` (CHUNK_BUCKETS buckets each, from bucket 0) */
  next: Int32Array<SharedArrayBuffer>;
  chunks: number;
  /** whether the table is sorted by bucket yet (one i32 in a SharedArrayBuffer: UNSORTED, SORTING, SORTED; sortedOnce) */
  sort: Int32Array<SharedArrayBuffer>;
  accounts: string[];
  v6Words: Uint32Array<ArrayBuffer>;
}

/** Buckets a thread takes at a time from a shared finalisation (128 chunks: each ~1 ms on the 7 M-record bucket). */
export const CHUNK_BUCKETS = 32;

/**
 * The finalisation of `t` to share with another thread (SplitFinalise; the sort by bucket
 * left to either thread), or null where it cannot be shared: a table not in a shared memory (plain
 * memory, JavaScript arrays), FLOWSIEVE_FINALISE=js, a threshold the module does not take,
 * an incremental finalisation (windows, drops), or a memory that cannot grow the other
 * thread's scratch. The caller then finalises whole (finalizeTable).
 */
export function finalizeTableSplit(t: ScanCore, opts: FinalizeOptions): SplitFinalise | null {
  const minEndpoints = opts.thresholds.minEndpoints;
  const arena = t.arena;
  if (arena === null || !arena.shareable || !finaliseInModule() || opts.uptoWindow !== undefined || opts.drop) return null;
  if (!(Number.isInteger(minEndpoints) && minEndpoints >= 0 && minEndpoints < 2 ** 31)) return null;
  const minTuples = Math.max(1, minEndpoints);
  const mod = arena.finalise(t.count, 0xffffffff, minTuples, minEndpoints, false);
  if (mod === null) return null;
  mod.keep(opts.thresholds, opts.nearMisses);
  const share = arena.share(mod, minTuples, minEndpoints);
  if (share === null) return null; // a memory that cannot grow (rare): finalizeTable then
  const next = new Int32Array(new SharedArrayBuffer(4));
  const sort = new Int32Array(new SharedArrayBuffer(4));
  return {
    share: { ...share, count: t.count, next, chunks: SHARD_BUCKETS / CHUNK_BUCKETS, sort, accounts: t.accounts.strings.slice(), v6Words: t.v6.words.slice(0, t.v6.n * 4) },
    own: () => {
      sortedOnce(mod, sort);
      return finaliseChunks(new FinaliseRun(t, opts), mod, next, SHARD_BUCKETS / CHUNK_BUCKETS, mod.entries);
    },
  };
}

// a shared finalisation's sort (TableShare.sort)
const UNSORTED = 0;
const SORTING = 1;
const SORTED = 2;

/**
 * The shared table sorted by bucket once, by the first thread to come (through its instance
 * `mod`); a thread that comes while the other sorts waits for it (a thread that fails to sort
 * leaves it to the other).
 */
function sortedOnce(mod: ModuleFinalise, state: Int32Array<SharedArrayBuffer>): void {
  for (;;) {
    const was = Atomics.compareExchange(state, 0, UNSORTED, SORTING);
    if (was === SORTED) return;
    if (was === SORTING) {
      Atomics.wait(state, 0, SORTING);
      continue;
    }
    try {
      mod.sortAll();
    } catch (err) {
      Atomics.store(state, 0, UNSORTED);
      Atomics.notify(state, 0);
      throw err;
    }
    Atomics.store(state, 0, SORTED);
    Atomics.notify(state, 0);
    return;
  }
}

/**
 * Chunks of buckets taken from `next` until none of `chunks` is left, into `run`: its result,
 * counting `entries` entries, and whether this thread took every chunk (the other's part then
 * holds no verdict and no endpoint-day).
 */
function finaliseChunks(run: FinaliseRun, mod: ModuleFinalise, next: Int32Array<SharedArrayBuffer>, chunks: number, entries: number): FinalizeResult & { everyChunk: boolean } {
  let keys = 0;
  let taken = 0;
  for (;;) {
    const chunk = Atomics.add(next, 0, 1);
    if (chunk >= chunks) break;
    taken++;
    const from = chunk * CHUNK_BUCKETS;
    keys += finaliseBuckets(run, mod, from, Math.min(SHARD_BUCKETS, from + CHUNK_BUCKETS));
  }
  return { ...run.result(keys, entries), everyChunk: taken === chunks };
}

/**
 * Buckets of another thread's table (split by finalizeTableSplit) finalised in this thread, a
 * chunk at a time; its result counts no entry (the owner's does). Where the module cannot be
 * instantiated here, none: the owner takes every chunk then. `everyChunk`: this thread took
 * them all, so the owner's part (its outbound reply's inboundPart) adds no verdict.
 */
export function finalizeShare(share: TableShare, opts: FinalizeOptions): FinalizeResult & { everyChunk: boolean } {
  let mod: ModuleFinalise;
  try {
    mod = sharedFinalise(share);
    mod.keep(opts.thresholds, opts.nearMisses);
  } catch {
    return { verdicts: [], endpointDays: [], keys: 0, entries: 0, everyChunk: false };
  }
  sortedOnce(mod, share.sort);
  return finaliseChunks(new FinaliseRun(new SharedTableView(share), opts), mod, share.next, share.chunks, 0);
}

/** A table in a shared memory, read in a thread that does not own it (finalizeShare). */
class SharedTableView {
  readonly u: Uint32Array;
  readonly d: Float64Array;
  readonly v6 = new V6Intern();
  readonly accounts: { readonly strings: readonly string[] };
  private readonly addressWords = new Uint32Array(4);

  constructor(share: TableShare) {
    const b = share.memory.buffer;
    this.u = new Uint32Array(b, share.uAt, share.count * ENTRY_WORDS);
    this.d = new Float64Array(b, share.dAt, share.count * COUNT_VALUES);
    this.v6.words = share.v6Words;
    this.v6.n = share.v6Words.length >> 2;
    this.accounts = { strings: share.accounts };
  }

  srcA(e: number): number { return this.u[e * ENTRY_WORDS + SRC]!; }
  pp(e: number): number { return this.u[e * ENTRY_WORDS + PP]!; }
  win(e: number): number { return this.u[e * ENTRY_WORDS + WIN]!; }
  flags(e: number): number { return (this.u[e * ENTRY_WORDS + RF]! >>> 16) & FLAG_BITS; }

  dstText(e: number): string {
    const w = this.addressWords;
    this.v6.wordsOf(this.u[e * ENTRY_WORDS + DST]!, (this.flags(e) & F_DST6) !== 0, w);
    return formatAddress(w);
  }
}

/** One finalisation's verdicts and endpoint-days, from keys grouped and folded in either path. */
class FinaliseRun {
  private readonly verdicts: KeyVerdict[] = [];
  private readonly scratch = new Scratch();
  private readonly grouper = new KeyGrouper();
  private readonly days: EndpointDaySink;
  private readonly minTuples: number;
  // one callback for every bucket (a new closure per call would deoptimise group() each time)
  private readonly onKey = (list: Int32Array): void => {
    const sc = this.scratch;
    const v = keyVerdict(this.t, list, this.opts, sc);
    if (v !== null) this.take(v, list[0]!, sc.endpointRows, 0, sc.endpointCount);
  };

  constructor(
    private readonly t: FinaliseTable,
    private readonly opts: FinalizeOptions,
  ) {
    this.days = endpointDaysFor(t, opts.windowSeconds);
    this.minTuples = Math.max(1, opts.thresholds.minEndpoints);
  }

  /** Group one bucket's entries by key in JavaScript: its distinct keys. */
  groupInJs(ids: Int32Array): number {
    return this.grouper.group(this.t, ids, this.minTuples, this.onKey);
  }

  /**
   * The key records the module wrote for its last bucket. A loop of its own: inside
   * finalizeInModule's loop over the buckets it made V8 compile that once-a-run function on
   * the stack (OSR) with every key's verdict code inlined, beside moduleKey's own compile.
   */
  moduleKeys(mod: ModuleFinalise, written: number): void {
    for (let i = 0; i < written; i++) this.moduleKey(mod, i);
  }

  /**
   * The module's key record i: a scan, or with near misses any key of at least minEndpoints
   * endpoints (ModuleFinalise.keep: the module drops the others; kept() below still decides).
   */
  private moduleKey(mod: ModuleFinalise, i: number): void {
    const w = mod.keyWords;
    const s = mod.keySlots;
    const kw = i * KEY_WORDS;
    const ks = i * KEY_SLOTS;
    const features: KeyFeatures = {
      endpoints: w[kw + K_ENDPOINTS]!,
      clouds: w[kw + K_CLOUDS]!,
      accounts: w[kw + K_ACCOUNTS]!,
      regions: w[kw + K_REGIONS]!,
      cvPackets: w[kw + K_N_PACKETS] === 0 ? null : s[ks + K_CV_PACKETS]!,
      cvBytes: w[kw + K_N_BYTES] === 0 ? null : s[ks + K_CV_BYTES]!,
      cvFlows: s[ks + K_CV_FLOWS]!,
    };
    const failed = failedConditions(features, this.opts.thresholds);
    if (!kept(failed, features.endpoints, this.opts)) return;
    const sums = { flows: s[ks + K_FLOWS]!, packets: s[ks + K_PACKETS]!, bytes: s[ks + K_BYTES]!, first: w[kw + K_FIRST]!, last: w[kw + K_LAST]! };
    const e0 = w[kw + K_ENTRY]!;
    this.take(makeVerdict(this.t, e0, features, sums, failed), e0, mod.endpointRows, w[kw + K_ENDPOINT_ROW]!, features.endpoints);
  }

  /** A kept key's verdict (see kept) and a scan's endpoint-days (its endpoint rows from..). */
  private take(v: KeyVerdict, e0: number, rows: Uint32Array, from: number, count: number): void {
    if (v.failed.length === 0) this.days.addScan(v.window, this.t.srcA(e0), this.t.flags(e0) & F_SRC6, ((v.protocol << 16) | v.dstPort) >>> 0, rows, from, count);
    this.verdicts.push(v);
  }

  result(keys: number, entries: number): FinalizeResult {
    return { verdicts: this.verdicts, endpointDays: this.days.result(this.opts.endpointSources === true), keys, entries };
  }
}

/**
 * The entries of windows < upto (a bound halfway between windows), sorted by source bucket:
 * bucket b is order[start[b], start[b+1]). Each pass over the entries is a function of its
 * own: a function is first optimised inside its loop (on-stack replacement) and that code
 * was thrown away at the code after the loop, which had not yet run (no type feedback).
 */
function entriesByBucket(t: ScanCore, upto: number): { start: Int32Array; order: Int32Array } {
  const start = new Int32Array(SHARD_BUCKETS + 1);
  const m = countByBucket(t.u, t.count, upto, start);
  for (let b = 0; b < SHARD_BUCKETS; b++) start[b + 1]! += start[b]!;
  const order = new Int32Array(m);
  placeByBucket(t.u, t.count, upto, start.slice(0, SHARD_BUCKETS), order);
  return { start, order };
}

/** Counts the entries of windows < upto of each bucket b into start[b + 1]; returns their number. */
function countByBucket(u: Uint32Array, count: number, upto: number, start: Int32Array): number {
  let m = 0;
  for (let e = 0; e < count; e++) {
    if (u[e * ENTRY_WORDS + WIN]! > upto) continue;
    // the word `| 0` first (the same bits): a u32 past 2^31 shifted by a module constant was
    // checked to be an int32 and deoptimised the sort ("lost precision") at the first bucket past 2047
    start[((u[e * ENTRY_WORDS + RF]! | 0) >>> BUCKET_SHIFT) + 1]!++;
    m++;
  }
  return m;
}

/** Writes the entries of windows < upto into order, each at its bucket's next place (fill: each bucket's first place). */
function placeByBucket(u: Uint32Array, count: number, upto: number, fill: Int32Array, order: Int32Array): void {
  for (let e = 0; e < count; e++) {
    if (u[e * ENTRY_WORDS + WIN]! > upto) continue;
    order[fill[(u[e * ENTRY_WORDS + RF]! | 0) >>> BUCKET_SHIFT]!++] = e;
  }
}

/**
 * Whether finalisation keeps a key that fails `failed`: a scan, or a near miss when asked for.
 * Decided before its verdict object is made: most keys with min_endpoints endpoints are
 * neither (11,022 of 11,730 on the 7 M-record bucket), and their verdict objects (the
 * address text, its words, the fields copied) were made only to be dropped. In the module
 * path the module drops them first (ModuleFinalise.keep), so that no JavaScript runs for them.
 */
function kept(failed: string[], endpoints: number, opts: FinalizeOptions): boolean {
  return failed.length === 0 || (opts.nearMisses && endpoints >= opts.thresholds.minEndpoints);
}

/** The features and verdict of one key, from its entries (null: not kept); its endpoints' first entries go to sc.endpoints. */
function keyVerdict(t: FinaliseTable, list: Int32Array, opts: FinalizeOptions, sc: Scratch): KeyVerdict | null {
  const m = list.length;
  sc.gather(t, list);
  // the key's entries by endpoint (cloud+account, dst), so that an endpoint seen in two
  // regions is one endpoint; ties keep the list's order (the sort is stable)
  const order = sc.sortByEndpoint(m);
  const { ep: kEp, dst: kDst, flags: kFl, flows: kF, packets: kP, bytes: kB, first: kFirst, last: kLast, region: kReg } = sc;
  let endpoints = 0;
  let clouds = 0;
  let accounts = 0;
  let flows = 0;
  let packets = 0;
  let bytes = 0;
  let nP = 0;
  let nB = 0;
  let first = 0xffffffff;
  let last = 0;
  let prevEp = -1;
  for (let j = 0; j < m; ) {
    const j0 = order[j]!;
    // ep and dst as int32 (the same bits; stored back to u32 arrays): u32 past 2^31 (a cloud
    // in the top bits, an address from 128.0.0.0) deoptimised the compares made on smaller ones
    const epv = kEp[j0]! | 0;
    const dst = kDst[j0]! | 0;
    const dst6 = kFl[j0]! & F_DST6;
    if (epv !== prevEp) {
      accounts++;
      prevEp = epv;
    }
    clouds |= 1 << (epv >>> 30);
    let fe = 0;
    let pe = 0;
    let be = 0;
    let hasP = false;
    let hasB = false;
    // one endpoint: consecutive entries with the same (ep, dst)
    let q = j;
    for (; q < m; q++) {
      const x = order[q]!;
      if ((kEp[x]! | 0) !== epv || (kDst[x]! | 0) !== dst || (kFl[x]! & F_DST6) !== dst6) break;
      fe += kF[x]!;
      if (kFl[x]! & F_PACKETS) {
        pe += kP[x]!;
        hasP = true;
      }
      if (kFl[x]! & F_BYTES) {
        be += kB[x]!;
        hasB = true;
      }
      if (kFirst[x]! < first) first = kFirst[x]!;
      if (kLast[x]! > last) last = kLast[x]!;
      sc.regions[q] = ((epv >>> 30) << 16) | kReg[x]!;
    }
    const row = endpoints * 4;
    sc.endpointRows[row] = list[j0]!;
    sc.endpointRows[row + 1] = epv;
    sc.endpointRows[row + 2] = dst;
    sc.endpointRows[row + 3] = dst6;
    sc.fv[endpoints] = fe;
    if (hasP) sc.pv[nP++] = pe;
    if (hasB) sc.bv[nB++] = be;
    flows += fe;
    packets += pe;
    bytes += be;
    endpoints++;
    j = q;
  }
  sc.endpointCount = endpoints;
  const regionList = sc.regions.subarray(0, m).sort();
  let regions = 0;
  for (let j = 0; j < m; j++) if (j === 0 || regionList[j] !== regionList[j - 1]) regions++;
  const cvPackets = nP === 0 ? null : coefficientOfVariation(sc.pv, nP);
  const cvBytes = nB === 0 ? null : coefficientOfVariation(sc.bv, nB);
  const cvFlows = coefficientOfVariation(sc.fv, endpoints);
  const features = {
    endpoints,
    clouds: popcount(clouds),
    accounts,
    regions,
    cvPackets,
    cvBytes,
    cvFlows,
  };
  const failed = failedConditions(features, opts.thresholds);
  return kept(failed, endpoints, opts) ? makeVerdict(t, list[0]!, features, { flows, packets, bytes, first, last }, failed) : null;
}

/** A key's totals over its endpoints. */
interface KeySums {
  flows: number;
  packets: number;
  bytes: number;
  first: number;
  last: number;
}

/** The verdict object of the key whose first entry is e0 (both paths make it here: the same fields in the same order). */
function makeVerdict(t: FinaliseTable, e0: number, features: KeyFeatures, sums: KeySums, failed: string[]): KeyVerdict {
  const srcWords = new Uint32Array(4);
  t.v6.wordsOf(t.srcA(e0), (t.flags(e0) & F_SRC6) !== 0, srcWords);
  return {
    window: t.win(e0),
    srcWords: Array.from(srcWords),
    src: formatAddress(srcWords),
    protocol: t.pp(e0) >>> 16,
    dstPort: t.pp(e0) & 0xffff,
    ...features,
    flows: sums.flows,
    packets: sums.packets,
    bytes: sums.bytes,
    firstSeen: sums.first,
    lastSeen: sums.last,
    failed,
  };
}

/**
 * Groups the entries of one bucket by scan key (src, protocol, dst port, window) and
 * hands each key with at least `minTuples` entries to `onKey`, its entries in table
 * order. Its arrays are reused from bucket to bucket.
 */
class KeyGrouper {
  private slots = new Int32Array(64); // key + 1 per slot, 0 = empty
  private keyFirst = new Int32Array(32); // an entry of each key, to compare against
  private keyCount = new Int32Array(32);
  private keyOf = new Int32Array(32); // per position in the bucket's list
  private offset = new Int32Array(33);
  private order = new Int32Array(32);

  /** Returns the number of distinct keys among `ids`. */
  group(t: FinaliseTable, ids: Int32Array, minTuples: number, onKey: (list: Int32Array) => void): number {
    const m = ids.length;
    this.ensure(m);
    const size = nextPow2(Math.max(16, m * 2));
    const slots = this.slots;
    slots.fill(0, 0, size);
    const mask = size - 1;
    const { keyFirst, keyCount, keyOf } = this;
    let keys = 0;
    for (let j = 0; j < m; j++) {
      const e = ids[j]!;
      const sA = t.srcA(e);
      const pp = t.pp(e);
      const w = t.win(e);
      const s6 = t.flags(e) & F_SRC6;
      let slot = fmix32(mix(mix(mix(mix(0x3c6ef372, sA), pp), w), s6)) & mask;
      for (;;) {
        const k1 = slots[slot]!;
        if (k1 === 0) {
          keyFirst[keys] = e;
          keyCount[keys] = 1;
          keyOf[j] = keys;
          slots[slot] = ++keys;
          break;
        }
        const r = keyFirst[k1 - 1]!;
        if (t.srcA(r) === sA && t.pp(r) === pp && t.win(r) === w && (t.flags(r) & F_SRC6) === s6) {
          keyCount[k1 - 1]!++;
          keyOf[j] = k1 - 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    // the candidate keys' entries, contiguous per key (counting sort)
    const offset = this.offset;
    offset[0] = 0;
    let candidates = 0;
    for (let k = 0; k < keys; k++) {
      const c = keyCount[k]! >= minTuples ? keyCount[k]! : 0;
      if (c) candidates++;
      offset[k + 1] = offset[k]! + c;
    }
    if (candidates === 0) return keys;
    const order = this.order;
    const fill = offset.slice(0, keys);
    for (let j = 0; j < m; j++) {
      const k = keyOf[j]!;
      if (keyCount[k]! >= minTuples) order[fill[k]!++] = ids[j]!;
    }
    for (let k = 0; k < keys; k++) if (keyCount[k]! >= minTuples) onKey(order.subarray(offset[k]!, offset[k + 1]!));
    return keys;
  }

  private ensure(m: number): void {
    if (this.keyOf.length >= m) return;
    const c = nextPow2(m);
    this.slots = new Int32Array(Math.max(16, c * 2));
    this.keyFirst = new Int32Array(c);
    this.keyCount = new Int32Array(c);
    this.keyOf = new Int32Array(c);
    this.offset = new Int32Array(c + 1);
    this.order = new Int32Array(c);
  }
}

/**
 * Per-key working arrays, reused from key to key. gather() copies the fields of a key's
 * entries into columns once (the entries lie scattered over the table: reading them in
 * a comparator cost a cache miss per compare), and the key is sorted and folded there.
 */
class Scratch {
  fv = new Float64Array(64);
  pv = new Float64Array(64);
  bv = new Float64Array(64);
  regions = new Uint32Array(64);
  /** the endpoints of the last key (keyVerdict), endpointCount rows of four words: its first entry, cloud and account, dst, dst family */
  endpointRows = new Uint32Array(64 * 4);
  endpointCount = 0;
  // the gathered entries' fields, by position in the key's list
  ep = new Uint32Array(64);
  dst = new Uint32Array(64);
  flags = new Uint8Array(64);
  region = new Uint32Array(64);
  flows = new Uint32Array(64);
  first = new Uint32Array(64);
  last = new Uint32Array(64);
  packets = new Float64Array(64);
  bytes = new Float64Array(64);
  order = new Uint32Array(64);
  private merged = new Uint32Array(64); // sortByEndpoint's other buffer

  gather(t: FinaliseTable, list: Int32Array): void {
    const m = list.length;
    this.ensure(m);
    const { u, d } = t;
    const { ep, dst, flags, region, flows, first, last, packets, bytes } = this;
    for (let j = 0; j < m; j++) {
      const e = list[j]!;
      const ew = e * ENTRY_WORDS;
      const rf = u[ew + RF]!;
      ep[j] = u[ew + EP]!;
      dst[j] = u[ew + DST]!;
      flags[j] = (rf >>> 16) & FLAG_BITS;
      region[j] = rf & 0xffff;
      flows[j] = u[ew + FLOWS]!;
      first[j] = u[ew + FIRST]!;
      last[j] = u[ew + LAST]!;
      packets[j] = d[e * COUNT_VALUES + PKT]!;
      bytes[j] = d[e * COUNT_VALUES + BYT]!;
    }
  }

  /**
   * Positions 0..m-1 by (account, dst, family), ties by position: a stable merge sort of
   * runs first put in order by insertion, its compare inline (a typed array's sort called
   * a comparator closure for every compare). The order is the same as any such sort's.
   */
  sortByEndpoint(m: number): Uint32Array {
    let a = this.order;
    let b = this.merged;
    for (let j = 0; j < m; j++) a[j] = j;
    for (let lo = 0; lo < m; lo += SORT_RUN) this.insertionSort(a, lo, Math.min(m, lo + SORT_RUN));
    for (let width = SORT_RUN; width < m; width *= 2) {
      for (let lo = 0; lo < m; lo += 2 * width) this.merge(a, b, lo, Math.min(m, lo + width), Math.min(m, lo + 2 * width));
      const t = a;
      a = b;
      b = t;
    }
    this.order = a;
    this.merged = b;
    return a.subarray(0, m);
  }

  /** Whether position x goes after position y (by account, dst, family; the caller keeps ties in place). */
  private after(x: number, y: number): boolean {
    const ex = this.ep[x]!;
    const ey = this.ep[y]!;
    if (ex !== ey) return ex > ey;
    const dx = this.dst[x]!;
    const dy = this.dst[y]!;
    if (dx !== dy) return dx > dy;
    return (this.flags[x]! & F_DST6) > (this.flags[y]! & F_DST6);
  }

  private insertionSort(a: Uint32Array, from: number, to: number): void {
    for (let i = from + 1; i < to; i++) {
      const x = a[i]!;
      let j = i - 1;
      while (j >= from && this.after(a[j]!, x)) {
        a[j + 1] = a[j]!;
        j--;
      }
      a[j + 1] = x;
    }
  }

  /** a[lo, mid) and a[mid, hi), each in order, into out[lo, hi); ties from the left run first. */
  private merge(a: Uint32Array, out: Uint32Array, lo: number, mid: number, hi: number): void {
    let i = lo;
    let j = mid;
    let k = lo;
    while (i < mid && j < hi) out[k++] = this.after(a[i]!, a[j]!) ? a[j++]! : a[i++]!;
    while (i < mid) out[k++] = a[i++]!;
    while (j < hi) out[k++] = a[j++]!;
  }

  private ensure(m: number): void {
    if (this.fv.length >= m) return;
    const c = nextPow2(m);
    this.fv = new Float64Array(c);
    this.pv = new Float64Array(c);
    this.bv = new Float64Array(c);
    this.regions = new Uint32Array(c);
    this.endpointRows = new Uint32Array(c * 4);
    this.ep = new Uint32Array(c);
    this.dst = new Uint32Array(c);
    this.flags = new Uint8Array(c);
    this.region = new Uint32Array(c);
    this.flows = new Uint32Array(c);
    this.first = new Uint32Array(c);
    this.last = new Uint32Array(c);
    this.packets = new Float64Array(c);
    this.bytes = new Float64Array(c);
    this.order = new Uint32Array(c);
    this.merged = new Uint32Array(c);
  }
}

/** sortByEndpoint's runs sorted by insertion before merging. */
const SORT_RUN = 16;

function popcount(x: number): number {
  let c = 0;
  while (x) {
    c += x & 1;
    x >>>= 1;
  }
  return c;
}
