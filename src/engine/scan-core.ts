/**
 * The inbound accumulator's table core (detection.md §3): storage, probe, resize, accumulate.
 * Ingest (scan-ingest.ts) builds keys from records and calls findOrInsert/accumulate;
 * finalisation (scan-finalise.ts) and state (scan-state.ts) read the entries through the
 * fields below; ScanTable (scan-table.ts) puts the layers together.
 *
 * One open-addressing hash table keyed by (scan key, endpoint, region) =
 * (src, protocol, dst_port, window, cloud, account, dst, region). Each entry holds the
 * counts of that endpoint under that key: records, known packets, known bytes, first
 * start, last end. Everything detection.md §3 asks for is a function of these entries, and
 * entries merge by addition: two shards, two checkpoints or two machines holding parts
 * of the same key combine exactly.
 *
 * Layout (scan-layout.ts): 52 bytes an entry in two typed arrays, no object per entry
 * (JavaScript arrays, or views of a WebAssembly memory where held records are added by
 * assembly/scan-held.ts: the `arena`, scan-wasm.ts).
 * The index is one u32 per slot, at most 70 % full: a 4-bit tag of the key's hash and
 * the entry number, so a probe rejects most other keys without touching their entries.
 * 58-64 bytes per entry held in all.
 *
 * Locality: every key of a source lives in the source's bucket (hash.ts), and the index
 * is laid out bucket by bucket: an entry's home slot is in its bucket's region of the
 * index, and the entry keeps its bucket (the top 12 bits of its region word). A replay
 * block (one bucket) then inserts into a few kilobytes of index instead of all of it,
 * parsed records are held back and added a bucket at a time (scan-ingest.ts), and
 * finalisation groups keys one bucket at a time in tables that stay in cache. A bucket
 * with more keys than its region holds (one source scanning millions of endpoints)
 * does not pile up: after LOCAL_PROBES full slots the probe continues from a slot
 * chosen by the full hash, as in an ordinary table, and moves to another such slot
 * every FAR_RUN slots. (Probing on linearly from the first far slot made inserts in
 * bucket order quadratic in a table that starts small: each crowded region spilled into
 * the next, far probes landed in the one cluster this grew into and walked to its end,
 * some ten thousand slots a lookup; bench/RESULTS.md, session 3.)
 */
import { fmix32, mix, SHARD_BUCKETS } from '../flow/hash.js';
import { V6Intern } from './v6-intern.js';
import { StringDict } from '../flow/dict.js';
import { formatAddress } from '../net/address.js';
import * as layout from './scan-layout.js';
import { indexSlots } from './scan-layout.js';
import type { HeldSorter, ScanArena } from './scan-wasm.js';
import { populate, populateViewLater } from '../input/native.js';
import { PopulateAhead } from './populate-ahead.js';
// The layout's constants as this module's own consts: an imported binding is read through
// its module cell at every use, in the probe loop too (adding held records: 84 -> 72 ns a
// record with local copies; bench/RESULTS.md, issue 19 table section).
const {
  BUCKET_SHIFT, BYT, COUNT_VALUES, DST, ENTRY_WORDS, EP, F_BYTES, F_DST6, F_PACKETS, FIRST, FLAG_BITS, FLOWS, KEY_RF, LAST, MAX_TABLE_ENTRIES, PKT, PP, RF, SLOT_ENTRY, SRC, WIN,
} = layout;

/**
 * The key of the entry at word `ew` equals (sA, ppv, w, epv, dA, keyRf). Every word compared,
 * without branches: a chain of && reaches its later loads only on a match, which the first
 * optimised code has never seen (a deoptimisation per load, and addresses past 2^30 failing a
 * small-integer compare, another). Each word `| 0` (the same bits): a u32 past 2^31 met with
 * an untyped operand (a parameter, a module constant) is checked to be an int32, and
 * deoptimised ("lost precision").
 */
function keyIs(u: Uint32Array, ew: number, sA: number, ppv: number, w: number, epv: number, dA: number, keyRf: number): boolean {
  return (
    (((u[ew + SRC]! | 0) ^ sA) | ((u[ew + PP]! | 0) ^ ppv) | ((u[ew + WIN]! | 0) ^ w) | ((u[ew + EP]! | 0) ^ epv) |
      ((u[ew + DST]! | 0) ^ dA) | (((u[ew + RF]! | 0) & KEY_RF) ^ keyRf)) === 0
  );
}

/** Slots probed in the bucket's region before the probe moves to a slot chosen by the full hash. */
const LOCAL_PROBES = 32;
/** Slots probed on from each far slot before the next far slot. */
const FAR_RUN = 8;
const BUCKET_MASK = SHARD_BUCKETS - 1;
/**
 * Entries backed ahead of the held adds (entriesAhead): 65,536 (3.4 MB; two parts' worth of new
 * entries at most at 7 M records), or a sixteenth of the capacity where that is less (a small
 * table backs little it may never use); at most twice as many are backed and never used.
 */
const entriesLead = (cap: number): number => Math.min(1 << 16, Math.max(1024, cap >> 4));

/**
 * Hash of an entry's key; keyRf = the region and the address-family bits (rf & KEY_RF).
 * A plain function of the module (it was a static method of ScanCore, which the loops did
 * not inline: a hash then cost a call, with every key word past 2^31 boxed, since it is
 * not a small integer; bench/RESULTS.md, shard section).
 */
export function keyHash(sA: number, ppv: number, w: number, epv: number, dA: number, keyRf: number): number {
  let h = mix(0x2545f491, sA);
  h = mix(h, ppv);
  h = mix(h, w);
  h = mix(h, epv);
  h = mix(h, dA);
  h = mix(h, keyRf);
  return fmix32(h);
}

/**
 * keyHash of n keys at once: key r's six words at k[r * stride ..], its hash to out[r].
 * The mixes are written out here rather than calling keyHash: TurboFan inlined six mixes
 * into this loop, not keyHash with its six (a call a key, 37 ns against 5.5; the held
 * part's sort 52 ns a record against 27; bench/RESULTS.md, shard section). Keys hashed in
 * a pass of their own overlap in the processor; a hash computed between two probes waits
 * on them.
 */
export function hashKeys(k: Uint32Array, stride: number, n: number, out: Uint32Array): void {
  for (let r = 0; r < n; r++) {
    const o = r * stride;
    let h = mix(0x2545f491, k[o]!);
    h = mix(h, k[o + 1]!);
    h = mix(h, k[o + 2]!);
    h = mix(h, k[o + 3]!);
    h = mix(h, k[o + 4]!);
    h = mix(h, k[o + 5]! & KEY_RF);
    out[r] = fmix32(h);
  }
}

export class ScanCore {
  /** entries held (not counting records an ingest layer holds back) */
  count = 0;
  protected cap: number;
  /** entries' words (ENTRY_WORDS each; read by the finalise and state layers) */
  u: Uint32Array;
  /** entries' sums (COUNT_VALUES each) */
  d: Float64Array;
  protected index: Uint32Array; // tag << 28 | entry + 1; 0 = empty slot
  private bucketBase = new Uint32Array(SHARD_BUCKETS); // first index slot of each bucket's region
  private bucketSpan = new Uint32Array(SHARD_BUCKETS); // slots in each bucket's region (layoutRegions)
  /**
   * Where `u`, `d`, the index, bucketBase and bucketSpan live when the held records are added in
   * WebAssembly (scan-wasm.ts): views of its memory, made again whenever it lays them out;
   * null: JavaScript arrays (and the JavaScript add loop).
   */
  arena: ScanArena | null;
  private slots = 1; // index slots (any number: the index is sized to its fill, not to a power of two)
  readonly v6 = new V6Intern();
  readonly accounts = new StringDict();
  readonly regions = new StringDict();
  private readonly addressWords = new Uint32Array(4); // dstText's scratch
  /** Lookups' probes past their bucket's region (a diagnostic: few, unless one source has a crowd of keys). */
  farProbes = 0;
  /** The index's memory was never written (a new memory or array, laid out empty): touchIndex writes it once. */
  private indexFresh = false;
  /** indexAhead asked the pool to back the fresh index (once a layout) */
  private indexAsked = false;
  /** the arena's entries backed on libuv's pool ahead of the adds (null: JavaScript arrays); made for the views of `aheadOf` */
  private ahead: PopulateAhead | null = null;
  private aheadOf: Uint32Array | null = null;

  /**
   * `shards`: the table holds the buckets b with b % shards equal to one value (a shard
   * worker's), so that the index gives regions to those buckets only. Any value is
   * correct for any contents; it only decides how densely the regions are used.
   */
  constructor(
    readonly windowSeconds: number,
    initialCapacity = 1 << 14,
    readonly shards = 1,
    arena: ScanArena | null = null,
  ) {
    this.cap = Math.min(initialCapacity, MAX_TABLE_ENTRIES);
    this.arena = arena;
    this.u = arena ? arena.u : new Uint32Array(this.cap * ENTRY_WORDS);
    this.d = arena ? arena.d : new Float64Array(this.cap * COUNT_VALUES);
    this.index = new Uint32Array(0);
    this.layoutIndex();
  }

  /** A fresh, empty index for the current capacity, with each bucket's region (layoutRegions: `weights`). */
  private layoutIndex(weights: Int32Array | null = null, total = 0): void {
    const slots = indexSlots(this.cap);
    this.slots = slots;
    if (this.arena && !this.arena.place(this.cap, this.count, slots, false)) this.leaveArena();
    if (this.arena) this.takeViews();
    else this.index = new Uint32Array(slots);
    this.indexFresh = this.arena === null || this.arena.indexFresh;
    this.indexAsked = false;
    this.layoutRegions(weights, total);
  }

  /**
   * Write the fresh index's empty slots once, before `rows` keys go in, when they are enough
   * to reach nearly every page of it (four a page: 98 %). A probe reads a slot before an
   * insert writes it: a page first read is mapped to the system's zero page, and the write
   * after it faults again and has the page's old mapping flushed from every core the process
   * runs on (an inter-processor interrupt; ~90 ms of the shard thread's 1.1 s on the 7 M-record
   * bucket, `perf` under do_wp_page: bench/RESULTS.md, shard7m section). Written first, a page
   * faults once. Fewer rows (a table sized far above its input) leave the pages they miss
   * unbacked. Only into an empty table (nothing to lose then). True when it wrote the index.
   */
  touchIndex(rows: number): boolean {
    return this.count === 0 && this.writeIndexOnce(rows);
  }

  /**
   * touchIndex's pages backed on libuv's pool ahead of the first flush (populateViewLater), once,
   * when `rows` keys are expected to reach nearly every page of the fresh index (as touchIndex
   * decides): the first flush's touchIndex then finds them backed (its own call, still made,
   * backs any page the pool has not reached yet). ~10 ms of the shard thread at 7 M records.
   */
  indexAhead(rows: number): void {
    if (this.count !== 0 || !this.indexFresh || this.indexAsked || rows * 256 < this.index.length) return;
    this.indexAsked = true;
    populateViewLater(this.index);
  }

  /** touchIndex on an index known to be empty (just laid out). */
  private writeIndexOnce(rows: number): boolean {
    if (!this.indexFresh) return false;
    this.indexFresh = false;
    if (rows * 256 < this.index.length) return false;
    // backed in one system call where the kernel can (its pages read as zeros already), else written
    if (!populate(this.index)) this.index.fill(0);
    return true;
  }

  /**
   * Each bucket's region of the index: the shard's buckets in order, each a contiguous run of
   * slots (a bucket of another shard shares the region of the shard's bucket before it: any
   * layout is correct for any contents; it only decides how crowded the regions are). Without
   * `weights` the regions are equal. With them (each bucket's expected keys), a quarter of the
   * slots is shared equally (room for the keys of buckets not seen yet) and the rest in
   * proportion to the weights: one source's crowd of keys (a scanner's endpoints) fits its
   * bucket's region, at most ~0.93 full in a full table, instead of spilling into far probes
   * (bench/RESULTS.md, heldgroup section: 120 of the bucket's 4,096 buckets held 2-4 times
   * their equal region, 18 % of the entries, 88 k far probes a run).
   */
  private layoutRegions(weights: Int32Array | null, total: number): void {
    // two functions, each run once a layout: one loop over both kinds, run at a table's start
    // and again at its first flush, was compiled twice by V8 (~4 ms a run; the weighed loop
    // alone is compiled once, on-stack, ~1.6 ms)
    if (weights === null || total === 0) this.layoutEven();
    else this.layoutWeighed(weights, total);
  }

  /** Equal regions (layoutRegions). */
  private layoutEven(): void {
    const regions = Math.ceil(SHARD_BUCKETS / this.shards);
    const span = Math.max(1, Math.floor(this.slots / regions));
    // the spans apart: a store more in the loop had V8 compile it (on-stack replacement, ~1 ms)
    this.bucketSpan.fill(span);
    for (let b = 0; b < SHARD_BUCKETS; b++) {
      const rank = Math.floor(b / this.shards) % regions;
      this.bucketBase[b] = Math.min(this.slots - 1, rank * span);
    }
  }

  /** Regions by `weights`, whose sum is `total` (layoutRegions). */
  private layoutWeighed(weights: Int32Array, total: number): void {
    const slots = this.slots;
    const shards = this.shards;
    const regions = Math.ceil(SHARD_BUCKETS / shards);
    const even = Math.max(1, Math.floor(slots / 4 / regions));
    const byWeight = slots - even * regions;
    let before = 0; // the weight of the regions before
    let start = 0;
    let span = 0;
    for (let b = 0; b < SHARD_BUCKETS; b++) {
      if (b % shards === 0) {
        // the region of buckets b .. b + shards - 1, from cumulative weights (the last ends at the last slot)
        const r = b / shards;
        start = Math.min(slots - 1, r * even + Math.floor((byWeight * before) / total));
        for (let x = b; x < b + shards && x < SHARD_BUCKETS; x++) before += weights[x]!;
        span = (r + 1) * even + Math.floor((byWeight * before) / total) - start;
      }
      this.bucketBase[b] = start;
      this.bucketSpan[b] = span;
    }
  }

  /**
   * Lay the index's regions out by `weights` (each bucket's expected keys: layoutRegions)
   * while the table is empty (its index all empty slots); a table with entries keeps its
   * layout until it is indexed again (rebuildIndex weighs the regions by its entries then).
   */
  weighRegions(weights: Int32Array, total: number): void {
    if (this.count === 0) this.layoutRegions(weights, total);
  }

  /** First slot to probe for a hash whose low 12 bits are the bucket (the rest picks a slot in its region). */
  private home(hb: number): number {
    // 20 bits of the hash: a region of a table of tens of millions of entries spans more than 2^12 slots
    // (hb >>> 12) / 2^20 of the region. Scaled by 2^-20 first (exact: the same slot): a
    // double from the first call, where an integer product overflowed past 2^31 once per thread
    const b = hb & BUCKET_MASK;
    const within = Math.floor((hb >>> 12) * 9.5367431640625e-7 * this.bucketSpan[b]!);
    const slot = this.bucketBase[b]! + within;
    return slot < this.slots ? slot : slot - this.slots;
  }

  /** Where the probe goes once the bucket's region is crowded: the `run`-th far slot of the key. */
  private farSlot(hb: number, run: number): number {
    // the sum as int32 (fmix32 reads it modulo 2^32: the same hash) and the scaling by 2^-32
    // first (exact): integers past 2^31 here deoptimised fmix32 and farSlot once a thread
    return Math.floor(fmix32(((hb ^ 0x7f4a7c15) + Math.imul(run, 0x9e3779b9)) | 0) * 2.3283064365386963e-10 * this.slots);
  }

  /** The slot after `slot` in probe number `probe` (>= 1) of a key with home hash hb. */
  private nextSlot(hb: number, slot: number, probe: number): number {
    const far = probe - LOCAL_PROBES;
    if (far >= 0 && (far & (FAR_RUN - 1)) === 0) return this.farSlot(hb, far / FAR_RUN);
    return slot + 1 === this.slots ? 0 : slot + 1;
  }

  // entry field readers (finalisation and merges; the hot path inlines its own)
  srcA(e: number): number { return this.u[e * ENTRY_WORDS + SRC]!; }
  pp(e: number): number { return this.u[e * ENTRY_WORDS + PP]!; }
  win(e: number): number { return this.u[e * ENTRY_WORDS + WIN]!; }
  ep(e: number): number { return this.u[e * ENTRY_WORDS + EP]!; }
  dstA(e: number): number { return this.u[e * ENTRY_WORDS + DST]!; }
  region(e: number): number { return this.u[e * ENTRY_WORDS + RF]! & 0xffff; }
  flags(e: number): number { return (this.u[e * ENTRY_WORDS + RF]! >>> 16) & FLAG_BITS; }
  f(e: number): number { return this.u[e * ENTRY_WORDS + FLOWS]!; }
  first(e: number): number { return this.u[e * ENTRY_WORDS + FIRST]!; }
  last(e: number): number { return this.u[e * ENTRY_WORDS + LAST]!; }
  p(e: number): number { return this.d[e * COUNT_VALUES + PKT]!; }
  b(e: number): number { return this.d[e * COUNT_VALUES + BYT]!; }

  /** The source bucket of an entry. */
  bucket(e: number): number {
    return this.u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT;
  }

  /** Address text of an entry's destination. */
  dstText(e: number): string {
    const w = this.addressWords;
    this.v6.wordsOf(this.dstA(e), (this.flags(e) & F_DST6) !== 0, w);
    return formatAddress(w);
  }

  /** Add the counts of one record to entry e (NaN counts are unknown). */
  accumulate(e: number, pk: number, by: number, st: number, en: number): void {
    const u = this.u;
    const ew = e * ENTRY_WORDS;
    const ed = e * COUNT_VALUES;
    u[ew + FLOWS]!++;
    let known = 0;
    if (pk === pk) {
      this.d[ed + PKT]! += pk;
      known |= F_PACKETS;
    }
    if (by === by) {
      this.d[ed + BYT]! += by;
      known |= F_BYTES;
    }
    if (known) u[ew + RF] = (u[ew + RF]! | (known << 16)) >>> 0;
    if (st < u[ew + FIRST]!) u[ew + FIRST] = st;
    if (en > u[ew + LAST]!) u[ew + LAST] = en;
  }

  /**
   * Add `flows` records to entry e at once (a replay file's entry row, src/replay/entry-rows.ts):
   * the sums of their known counts (NaN: none known), their least start and greatest end.
   */
  accumulateMerged(e: number, flows: number, pk: number, by: number, st: number, en: number): void {
    this.u[e * ENTRY_WORDS + FLOWS]! += flows;
    this.accumulate(e, pk, by, st, en);
    this.u[e * ENTRY_WORDS + FLOWS]!--;
  }

  /**
   * Entry index of the key, inserting a zeroed entry when new. `rf` = region id |
   * family flags << 16 (the count flags are not part of the key and are masked off);
   * `bucket` = the source address's bucket (hash.ts bucketOf).
   */
  findOrInsert(sA: number, ppv: number, w: number, epv: number, dA: number, rf: number, bucket: number): number {
    // keyHash's mixes written out (hashKeys says why)
    let h = mix(0x2545f491, sA);
    h = mix(h, ppv);
    h = mix(h, w);
    h = mix(h, epv);
    h = mix(h, dA);
    h = mix(h, rf & KEY_RF);
    return this.findOrInsertHashed(fmix32(h) | 0, sA, ppv, w, epv, dA, rf, bucket);
  }

  /**
   * findOrInsert with the key's hash (`full` = keyHash(sA, ppv, w, epv, dA,
   * rf & KEY_RF)) computed by the caller. The hot loops hash a whole run of records in a
   * pass of its own before they probe: hashes of different records then overlap in the
   * processor, where a hash computed between two probes waits on the one before (held
   * records on the real shape: 54 -> 27 ns a lookup in a fresh table, 40 -> 22 in a filled
   * one, and 6 for the hash pass; bench/probes/held-lookup.ts).
   */
  findOrInsertHashed(full: number, sA: number, ppv: number, w: number, epv: number, dA: number, rf: number, bucket: number): number {
    const keyRf = (rf & KEY_RF) >>> 0;
    // the home slot: the bucket's region, then bits of the key's hash; the tag: other bits
    // int32, not u32: home and farSlot read it by bits alike, and a u32 past 2^31 is a double
    const h = (full & ~BUCKET_MASK) | (bucket & BUCKET_MASK);
    const tag = Math.imul(full, 0x9e3779b1) >>> 28;
    const index = this.index;
    const u = this.u;
    const slots = this.slots;
    let slot = this.home(h);
    // the bucket's region, slot after slot: the far probes (a crowded region) are out of this loop
    for (let probe = 0; probe < LOCAL_PROBES; probe++) {
      const v = index[slot]!;
      if (v === 0) return this.insertAt(slot, tag, sA, ppv, w, epv, dA, keyRf, bucket);
      if (v >>> 28 === tag) {
        const e = (v & SLOT_ENTRY) - 1;
        if (keyIs(u, e * ENTRY_WORDS, sA, ppv, w, epv, dA, keyRf)) return e;
      }
      slot = slot + 1 === slots ? 0 : slot + 1;
    }
    return this.findFar(h, tag, slot, sA, ppv, w, epv, dA, keyRf, bucket);
  }

  /** findOrInsertHashed past the bucket's region: probes LOCAL_PROBES on (`slot`: one past the last local probe's slot). */
  private findFar(h: number, tag: number, slot: number, sA: number, ppv: number, w: number, epv: number, dA: number, keyRf: number, bucket: number): number {
    const index = this.index;
    const u = this.u;
    // the last local probe's slot: nextSlot goes on from it as it would in one loop
    let at = slot === 0 ? this.slots - 1 : slot - 1;
    for (let probe = LOCAL_PROBES; ; probe++) {
      at = this.nextSlot(h, at, probe);
      this.farProbes++;
      const v = index[at]!;
      if (v === 0) return this.insertAt(at, tag, sA, ppv, w, epv, dA, keyRf, bucket);
      if (v >>> 28 === tag) {
        const e = (v & SLOT_ENTRY) - 1;
        if (keyIs(u, e * ENTRY_WORDS, sA, ppv, w, epv, dA, keyRf)) return e;
      }
    }
  }

  /** A new zeroed entry for the key, at the empty index slot its probe ended on. */
  private insertAt(slot: number, tag: number, sA: number, ppv: number, w: number, epv: number, dA: number, keyRf: number, bucket: number): number {
    if (this.count === this.cap) {
      this.grow();
      return this.findOrInsert(sA, ppv, w, epv, dA, keyRf, bucket);
    }
    const e = this.count++;
    this.index[slot] = ((tag << 28) | (e + 1)) >>> 0;
    const u = this.u;
    const ew = e * ENTRY_WORDS;
    u[ew + SRC] = sA;
    u[ew + PP] = ppv;
    u[ew + WIN] = w;
    u[ew + EP] = epv;
    u[ew + DST] = dA;
    u[ew + RF] = (keyRf | ((bucket & BUCKET_MASK) << BUCKET_SHIFT)) >>> 0;
    u[ew + FLOWS] = 0;
    u[ew + FIRST] = 0xffffffff;
    u[ew + LAST] = 0;
    this.d[e * COUNT_VALUES + PKT] = 0;
    this.d[e * COUNT_VALUES + BYT] = 0;
    return e;
  }

  /** The arena's views, after it laid the table out again (perhaps in a new memory: the old views still read the old one). */
  private takeViews(): void {
    const a = this.arena!;
    if (a.u !== this.aheadOf) {
      // a new layout: its entries past `count` are fresh (or, moved up in one memory, partly backed: asked for again, harmless)
      this.ahead = new PopulateAhead(new Uint8Array(a.u.buffer), [[a.d.byteOffset, COUNT_VALUES * 8], [a.u.byteOffset, ENTRY_WORDS * 4]], this.cap, this.count);
      this.aheadOf = a.u;
    }
    this.u = a.u;
    this.d = a.d;
    this.index = a.index;
    this.bucketBase = a.bucketBase;
    this.bucketSpan = a.bucketSpan;
  }

  /**
   * The table's arrays out of the arena into JavaScript arrays of the same size (a table
   * larger than linear memory holds, or a scratch that does not fit): from here on the
   * JavaScript path, with the same entries in the same order.
   */
  private leaveArena(): void {
    this.arena = null;
    this.ahead = null; // the JavaScript arrays are written as before (entriesAhead backs nothing)
    this.aheadOf = null;
    const u = new Uint32Array(this.cap * ENTRY_WORDS);
    u.set(this.u.subarray(0, this.count * ENTRY_WORDS));
    const d = new Float64Array(this.cap * COUNT_VALUES);
    d.set(this.d.subarray(0, this.count * COUNT_VALUES));
    const bucketBase = new Uint32Array(SHARD_BUCKETS);
    const bucketSpan = new Uint32Array(SHARD_BUCKETS);
    if (this.bucketBase.length === SHARD_BUCKETS) bucketBase.set(this.bucketBase);
    if (this.bucketSpan.length === SHARD_BUCKETS) bucketSpan.set(this.bucketSpan);
    this.u = u;
    this.d = d;
    this.bucketBase = bucketBase;
    this.bucketSpan = bucketSpan;
  }

  /**
   * Room for the scratch of a part of `rows` held records (scan-ingest.ts addHeldPart):
   * the arena's rows view, or null when the table left the arena for it (leaveArena).
   */
  heldScratch(rows: number): Uint32Array | null {
    const a = this.arena;
    if (a === null) return null;
    if (!a.reserveScratch(rows, this.count)) {
      this.leaveArena();
      return null;
    }
    this.takeViews();
    return a.rows;
  }

  /**
   * The empty table laid out in the memory of its held buffer `sorter` (ScanArena.hostIn), so
   * that each sorted part is added where the sort wrote it; nothing changes where it cannot be.
   */
  hostIn(sorter: HeldSorter): void {
    if (this.arena === null || !this.arena.hostIn(sorter, this.count)) return;
    this.takeViews();
    this.indexFresh = true;
    this.indexAsked = false;
  }

  /**
   * Up to `rows` new entries are about to be added (a part of held rows): their memory, and a
   * window past it, backed on libuv's pool ahead of the adds (PopulateAhead).
   */
  entriesAhead(rows: number): void {
    this.ahead?.ensure(this.count + rows, entriesLead(this.cap));
  }

  /**
   * Add the arena's scratch rows (a part sorted by bucket, its starts set; `first`: the
   * part's first bucket) in WebAssembly, resizing the table as insertAt would. -1 when all
   * were added; else the row from which the rest are for the JavaScript loop, the table
   * having left the arena in a resize.
   */
  addHeldRows(first: number): number {
    let from = 0;
    for (;;) {
      const a = this.arena!;
      this.count = a.addHeld(first, from, this.count);
      this.farProbes += a.takeFarProbes();
      const at = a.stopped();
      if (at < 0) return -1;
      this.grow();
      if (this.arena === null) return at;
      from = at;
    }
  }

  /** A full table twice as large (insertAt, addHeldRows). */
  private grow(): void {
    if (this.cap >= MAX_TABLE_ENTRIES) throw new Error(`an accumulator table holds at most ${MAX_TABLE_ENTRIES} entries (--max-memory spills before)`);
    this.resize(Math.min(this.cap * 2, MAX_TABLE_ENTRIES));
  }

  private resize(cap: number): void {
    if (this.arena) {
      // layoutIndex (from rebuildIndex) moves the entries to their new places in the arena
      this.cap = cap;
      this.rebuildIndex();
      return;
    }
    const u = new Uint32Array(cap * ENTRY_WORDS);
    u.set(this.u.subarray(0, this.count * ENTRY_WORDS));
    const d = new Float64Array(cap * COUNT_VALUES);
    d.set(this.d.subarray(0, this.count * COUNT_VALUES));
    this.u = u;
    this.d = d;
    this.cap = cap;
    this.rebuildIndex();
  }

  /** A new index over the entries (their hashes are computed again: entries do not keep them), its regions weighed by them. */
  protected rebuildIndex(): void {
    this.layoutIndex(this.count > 0 ? this.bucketEntries() : null, this.count);
    this.writeIndexOnce(this.count);
    const index = this.index;
    const u = this.u;
    for (let e = 0; e < this.count; e++) {
      const ew = e * ENTRY_WORDS;
      const rf = u[ew + RF]! | 0; // int32, the same bits (findOrInsertHashed says why)
      const full = keyHash(u[ew + SRC]!, u[ew + PP]!, u[ew + WIN]!, u[ew + EP]!, u[ew + DST]!, (rf & KEY_RF) >>> 0);
      const h = (full & ~BUCKET_MASK) | (rf >>> BUCKET_SHIFT);
      let slot = this.home(h);
      for (let probe = 1; index[slot] !== 0; probe++) slot = this.nextSlot(h, slot, probe);
      index[slot] = ((Math.imul(full, 0x9e3779b1) >>> 28 << 28) | (e + 1)) >>> 0;
    }
  }

  /** Entries of each bucket. */
  private bucketEntries(): Int32Array {
    const per = new Int32Array(SHARD_BUCKETS);
    const u = this.u;
    for (let e = 0; e < this.count; e++) per[u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT]!++;
    return per;
  }

  /** Remove every entry of windows <= upto (after they were finalised). */
  protected removeWindowsUpTo(upto: number): void {
    this.keepWhere((e) => this.win(e) > upto);
  }

  /** Keep only the entries e with keep[e] !== 0, in their order (--no-spill sheds partitions in place: spill.ts). */
  protected retainEntries(keep: Uint8Array): void {
    this.keepWhere((e) => keep[e] !== 0);
  }

  /** Compact the entries that `kept` accepts to the front, in their order, and index them again. */
  private keepWhere(kept: (e: number) => boolean): void {
    let w = 0;
    for (let e = 0; e < this.count; e++) {
      if (!kept(e)) continue;
      if (w !== e) {
        this.u.copyWithin(w * ENTRY_WORDS, e * ENTRY_WORDS, (e + 1) * ENTRY_WORDS);
        this.d.copyWithin(w * COUNT_VALUES, e * COUNT_VALUES, (e + 1) * COUNT_VALUES);
      }
      w++;
    }
    this.count = w;
    this.rebuildIndex();
  }
}
