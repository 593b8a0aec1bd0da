/**
 * The inbound accumulator of one shard (detection.md §3).
 *
 * One open-addressing hash table keyed by (scan key, endpoint, region) =
 * (src, protocol, dst_port, window, cloud, account, dst, region). Each entry holds the
 * counts of that endpoint under that key: records, known packets, known bytes, first
 * start, last end. Everything detection.md §3 asks for is a
 * function of these entries, and entries merge by addition: two shards, two checkpoints
 * or two machines holding parts of the same key combine exactly.
 *
 * Layout: an entry is nine u32 words (the key, the flow count, first and last times) in
 * one array and its two f64 sums (packets, bytes) in another: 52 bytes, no object per
 * entry. The index is one u32 per slot, at most 70 % full: a 4-bit tag of the key's
 * hash and the entry number, so a probe rejects most other keys without touching their
 * entries. 58-64 bytes per entry held in all. Most keys in real traffic have one endpoint,
 * so the entry is the unit that decides speed and memory.
 *
 * Locality: every key of a source lives in the source's bucket (hash.ts), and the index
 * is laid out bucket by bucket: an entry's home slot is in its bucket's region of the
 * index, and the entry keeps its bucket (the top 12 bits of its region word). A replay
 * block (one bucket) then inserts into a few kilobytes of index instead of all of it,
 * parsed records are held back and added a bucket at a time (addBatch), and
 * finalisation groups keys one bucket at a time in tables that stay in cache. A bucket
 * with more keys than its region holds (one source scanning millions of endpoints)
 * does not pile up: after LOCAL_PROBES full slots the probe continues from a slot
 * chosen by the full hash, as in an ordinary table, and moves to another such slot
 * every FAR_RUN slots. (Probing on linearly from the first far slot made inserts in
 * bucket order quadratic in a table that starts small: each crowded region spilled into
 * the next, far probes landed in the one cluster this grew into and walked to its end,
 * some ten thousand slots a lookup; bench/RESULTS.md, session 3.)
 */
import { bucketOf, fmix32, hashAddress, mix, SHARD_BUCKETS, shardOf } from './hash.js';
import { V6Intern } from './v6-intern.js';
import { StringDict } from '../flow/dict.js';
import type { FlowBatchData } from '../flow/batch.js';
import type { BlockRows } from '../replay/row-codec.js';
import { CLOUD_NAMES, Feed } from '../flow/types.js';
import { coefficientOfVariation, failedConditions, type Thresholds } from '../detect/rules.js';
import { formatAddress } from '../net/address.js';

export const F_PACKETS = 1;
export const F_BYTES = 2;
export const F_SRC6 = 4;
export const F_DST6 = 8;

/** One scan key's result, as the shard hands it to the merger. */
export interface KeyVerdict {
  window: number;
  srcWords: number[]; // four words, for sorting
  src: string;
  protocol: number;
  dstPort: number;
  endpoints: number;
  clouds: number;
  accounts: number;
  regions: number;
  flows: number;
  packets: number;
  bytes: number;
  cvPackets: number | null;
  cvBytes: number | null;
  cvFlows: number;
  firstSeen: number;
  lastSeen: number;
  failed: string[]; // [] for a scan
}

export interface FinalizeOptions {
  thresholds: Thresholds;
  windowSeconds: number;
  nearMisses: boolean;
  /** Only finalise (and then drop) entries whose window is <= this; undefined = all. */
  uptoWindow?: number;
  /** Drop the finalised entries from the table (incremental finalisation). */
  drop?: boolean;
  /**
   * Also list each endpoint-day's scanner sources, so that a caller finalising a day
   * window by window can count the day's distinct scanners exactly (the sidecar).
   */
  endpointSources?: boolean;
}

/** Per endpoint per UTC day: the distinct scanners and scanned ports of scan keys that touched it. */
export interface EndpointDay {
  day: string; // YYYY-MM-DD
  cloud: string;
  account: string;
  endpoint: string; // dst address text
  scanners: number; // distinct scanner sources (sources are disjoint across shards, so counts add)
  ports: number[]; // distinct protocol << 16 | port, sorted
  sources?: string[]; // the scanner sources, sorted (only with FinalizeOptions.endpointSources)
}

export interface FinalizeResult {
  verdicts: KeyVerdict[];
  endpointDays: EndpointDay[];
  keys: number; // distinct scan keys finalised
  entries: number; // distinct (key, endpoint, region) entries finalised
}

/** Which shard is merging: entries of other shards' sources are skipped. */
export interface ShardFilter {
  shard: number;
  shards: number;
}

/** A table's contents, as exported for checkpoints and merges. */
export interface ScanTableState {
  n: number;
  words: Uint32Array; // n entries of ENTRY_WORDS words
  counts: Float64Array; // n entries of COUNT_VALUES values (packets, bytes)
  accounts: string[];
  regions: string[];
  v6: Uint32Array;
}

/** Entry layout, in 32-bit words (exported for the spill code, src/engine/spill.ts). */
export const ENTRY_WORDS = 9;
export const COUNT_VALUES = 2; // f64 sums an entry: packets, bytes
/** Bytes an entry (words and sums, without the index). */
export const ENTRY_BYTES = ENTRY_WORDS * 4 + COUNT_VALUES * 8;
const UNMAPPED = 0xffffffff;
export const SRC = 0; // IPv4 address, or IPv6 intern id
const PP = 1; // protocol << 16 | dst port
const WIN = 2; // window index
export const EP = 3; // cloud << 30 | account id
export const DST = 4;
export const RF = 5; // region id (low 16 bits) | flags << 16 (4 bits) | source bucket << 20
const FLOWS = 6;
const FIRST = 7;
const LAST = 8;
const PKT = 0; // within an entry's sums
const BYT = 1;
const BUCKET_SHIFT = 20;
const FLAG_BITS = 0xf;
/** The key's part of the RF word: region and address families. */
const KEY_RF = (0xffff | ((F_SRC6 | F_DST6) << 16)) >>> 0;
/** Index slots: a 4-bit tag of the key's hash << 28 | entry + 1 (0 = empty). */
const SLOT_ENTRY = 0x0fffffff;
/** Entries a table can hold (the index's entry field); --max-memory spills long before. */
export const MAX_TABLE_ENTRIES = SLOT_ENTRY - 1;
/** Index fill at most (linear probing with tags stays short). */
export const INDEX_LOAD = 0.7;
/** Slots probed in the bucket's region before the probe moves to a slot chosen by the full hash. */
const LOCAL_PROBES = 32;
/** Slots probed on from each far slot before the next far slot. */
const FAR_RUN = 8;
const BUCKET_MASK = SHARD_BUCKETS - 1;

export class ScanTable {
  /** entries held (not counting the pending records) */
  private count = 0;
  /** records taken but not yet added: see addBatch */
  private pending: PendingRows | null = null;
  private cap: number;
  private u: Uint32Array; // entries' words
  private d: Float64Array; // entries' sums
  private index: Uint32Array; // tag << 28 | entry + 1; 0 = empty slot
  private bucketBase = new Uint32Array(SHARD_BUCKETS); // first index slot of each bucket's region
  private span = 1; // slots in a region
  private slots = 1; // index slots (any number: the index is sized to its fill, not to a power of two)
  readonly v6 = new V6Intern();
  readonly accounts = new StringDict();
  readonly regions = new StringDict();
  private accountMap = new Uint32Array(64);
  private regionMap = new Uint32Array(64);
  private mappedStrings: string[] | null = null;
  private readonly windowOf: WindowOf;
  private readonly lastKey = new LastKey();
  /** Lookups' probes past their bucket's region (a diagnostic: few, unless one source has a crowd of keys). */
  farProbes = 0;

  /**
   * `shards`: the table holds the buckets b with b % shards equal to one value (a shard
   * worker's), so that the index gives regions to those buckets only. Any value is
   * correct for any contents; it only decides how densely the regions are used.
   * `pendingRows`: the most records addBatch holds back to add in bucket order (0: add
   * each batch at once).
   */
  constructor(
    readonly windowSeconds: number,
    initialCapacity = 1 << 14,
    readonly shards = 1,
    readonly pendingRows = 0,
  ) {
    this.cap = Math.min(initialCapacity, MAX_TABLE_ENTRIES);
    this.u = new Uint32Array(this.cap * ENTRY_WORDS);
    this.d = new Float64Array(this.cap * COUNT_VALUES);
    this.index = new Uint32Array(0);
    this.windowOf = new WindowOf(windowSeconds);
    this.layoutIndex();
  }

  /** A fresh, empty index for the current capacity, with each bucket's region. */
  private layoutIndex(): void {
    const slots = indexSlots(this.cap);
    this.index = new Uint32Array(slots);
    this.slots = slots;
    // the shard's buckets in order, each a contiguous region of the slots
    const regions = Math.ceil(SHARD_BUCKETS / this.shards);
    this.span = Math.max(1, Math.floor(slots / regions));
    for (let b = 0; b < SHARD_BUCKETS; b++) {
      const rank = Math.floor(b / this.shards) % regions;
      this.bucketBase[b] = Math.min(slots - 1, rank * this.span);
    }
  }

  /** First slot to probe for a hash whose low 12 bits are the bucket (the rest picks a slot in its region). */
  private home(hb: number): number {
    const within = Math.floor(((hb >>> 12) * this.span) / 1048576); // (hb >>> 12) / 2^20 of the region
    const slot = this.bucketBase[hb & BUCKET_MASK]! + within;
    return slot < this.slots ? slot : slot - this.slots;
  }

  /** Where the probe goes once the bucket's region is crowded: the `run`-th far slot of the key. */
  private farSlot(hb: number, run: number): number {
    return Math.floor((fmix32((hb ^ 0x7f4a7c15) + Math.imul(run, 0x9e3779b9)) * this.slots) / 4294967296);
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

  /** Bytes allocated by the table (entries at capacity, index, IPv6 interning, pending records). */
  get bytes(): number {
    return this.u.byteLength + this.d.byteLength + this.index.byteLength + this.v6.bytes + (this.pending?.bytes ?? 0);
  }

  /**
   * Bytes the table holds in memory: the entries in use (capacity not yet written is
   * address space the system has not backed with memory), the index, IPv6 interning and
   * the pending records' buffer.
   */
  get heldBytes(): number {
    return this.count * ENTRY_BYTES + this.index.byteLength + this.v6.bytes + (this.pending?.bytes ?? 0);
  }

  /** Entries held (adds the pending records first). */
  get n(): number {
    this.flush();
    return this.count;
  }

  /** Forget every entry (they were written elsewhere: a spill); dictionaries are kept. */
  clear(): void {
    this.pending?.clear();
    this.count = 0;
    this.index.fill(0);
  }

  /** At most this many entries once the pending records are added (does not add them). */
  get entriesBound(): number {
    return this.count + (this.pending?.n ?? 0);
  }

  /**
   * Add every inbound record of a batch. Records of many buckets (parsed text) are held
   * back and added later in bucket order, a few hundred thousand at a time: a bucket's
   * index region and its newest entries are then in cache for its next hundred records,
   * where records in arrival order each miss cache and TLB twice in a table of hundreds
   * of megabytes. `oneBucket` (a replay block) adds at once: such a batch is local
   * already. The result is the same either way; every reader of the table adds the
   * pending records first.
   */
  addBatch(batch: FlowBatchData, oneBucket = false): void {
    this.mapDictionaries(batch);
    if (oneBucket || this.pendingRows === 0) this.addNow(batch);
    else this.hold(batch);
  }

  /** Add the records addBatch held back, in bucket order. */
  flush(): void {
    const p = this.pending;
    if (!p || p.n === 0) return;
    const k = p.sorted;
    const f = p.sortedF64;
    const last = this.lastKey.reset();
    for (let part = 0; part < PENDING_PARTS; part++) {
      if (!p.sortPart(part)) continue;
      for (let sb = 0; sb < BUCKETS_PER_PART; sb++) {
        const b = part * BUCKETS_PER_PART + sb;
        const end = p.start[sb + 1]!;
        for (let r = p.start[sb]!; r < end; r++) {
          const o = r * PENDING_WORDS;
          if (!last.same(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, k[o + 4]!, k[o + 5]!)) {
            last.entry = this.findOrInsert(k[o]!, k[o + 1]!, k[o + 2]!, k[o + 3]!, k[o + 4]!, k[o + 5]!, b);
          }
          this.accumulate(last.entry, f[r * (PENDING_WORDS / 2) + 3]!, f[r * (PENDING_WORDS / 2) + 4]!, k[o + 10]!, k[o + 11]!);
        }
      }
    }
    p.clear();
  }

  /** Keep the batch's inbound records, keyed as the table keys them, to add in bucket order. */
  private hold(batch: FlowBatchData): void {
    // in runs of records every part has room for, so that the per-record loop has no rare
    // branch: a branch first taken after the loop is optimised (a part filling up) throws
    // the optimised code away and has it compiled again, a dozen times a run. The buffer
    // grows (or is added) only once a part is full, as it would record by record.
    for (let from = 0; from < batch.n; ) {
      let p = (this.pending ??= new PendingRows(Math.min(this.pendingRows, 1 << 14)));
      let free = p.minFree();
      if (free === 0) {
        p = this.makeRoom(p);
        free = p.minFree();
      }
      const to = Math.min(batch.n, from + Math.min(HOLD_RUN, free));
      this.holdRange(batch, from, to, p);
      from = to;
    }
  }

  /** A part of the pending buffer is full: a larger buffer, or (at its largest) its records added. */
  private makeRoom(p: PendingRows): PendingRows {
    if (p.cap < this.pendingRows) return (this.pending = p.grown(Math.min(this.pendingRows, p.cap * 4)));
    this.flush();
    return p;
  }

  private holdRange(batch: FlowBatchData, from: number, to: number, p: PendingRows): void {
    const { feed, src, dst, proto, dport, packets, bytes, start, end, cloud, account, region } = batch;
    const accountMap = this.accountMap;
    const regionMap = this.regionMap;
    const windowOf = this.windowOf.reset();
    for (let i = from; i < to; i++) {
      if ((feed[i]! & Feed.inbound) === 0) continue;
      const o = i * 4;
      const r = p.put(bucketOf(hashAddress(src, o)));
      const ko = r * PENDING_WORDS;
      const k = p.rec;
      let fam = 0;
      if (src[o] === 0 && src[o + 1] === 0 && src[o + 2] === 0xffff) k[ko] = src[o + 3]!;
      else {
        k[ko] = this.v6.intern(src, o);
        fam = F_SRC6;
      }
      if (dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === 0xffff) k[ko + 4] = dst[o + 3]!;
      else {
        k[ko + 4] = this.v6.intern(dst, o);
        fam |= F_DST6;
      }
      k[ko + 1] = ((proto[i]! << 16) | dport[i]!) >>> 0;
      const st = start[i]!;
      k[ko + 2] = windowOf.of(st);
      k[ko + 3] = ((cloud[i]! << 30) | accountMap[account[i]!]!) >>> 0;
      k[ko + 5] = (regionMap[region[i]!]! | (fam << 16)) >>> 0;
      p.f64[r * (PENDING_WORDS / 2) + 3] = packets[i]!;
      p.f64[r * (PENDING_WORDS / 2) + 4] = bytes[i]!;
      k[ko + 10] = st;
      k[ko + 11] = end[i]!;
    }
  }

  /** Add the counts of one record to entry e (NaN counts are unknown). */
  private accumulate(e: number, pk: number, by: number, st: number, en: number): void {
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

  /** Add every inbound record of a batch now, in its order. */
  private addNow(batch: FlowBatchData): void {
    const { n, feed, src, dst, proto, dport, packets, bytes, start, end, cloud, account, region } = batch;
    const accountMap = this.accountMap;
    const regionMap = this.regionMap;
    const last = this.lastKey.reset();
    const windowOf = this.windowOf.reset();
    for (let i = 0; i < n; i++) {
      if ((feed[i]! & Feed.inbound) === 0) continue;
      const o = i * 4;
      let sA: number;
      let fam = 0;
      if (src[o] === 0 && src[o + 1] === 0 && src[o + 2] === 0xffff) sA = src[o + 3]!;
      else {
        sA = this.v6.intern(src, o);
        fam = F_SRC6;
      }
      let dA: number;
      if (dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === 0xffff) dA = dst[o + 3]!;
      else {
        dA = this.v6.intern(dst, o);
        fam |= F_DST6;
      }
      const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
      const st = start[i]!;
      const w = windowOf.of(st);
      const epv = ((cloud[i]! << 30) | accountMap[account[i]!]!) >>> 0;
      const rf = (regionMap[region[i]!]! | (fam << 16)) >>> 0;
      if (!last.same(sA, ppv, w, epv, dA, rf)) last.entry = this.findOrInsert(sA, ppv, w, epv, dA, rf, bucketOf(hashAddress(src, o)));
      this.accumulate(last.entry, packets[i]!, bytes[i]!, st, end[i]!);
    }
  }

  /**
   * Add the inbound rows of one replay block of `bucket`, read in the block's own columns
   * (row-codec.ts BlockRows): the replay path, which so never expands a row it adds.
   * Rows are sorted by entry in a block, so most rows skip the lookup.
   */
  addRows(r: BlockRows, bucket: number): void {
    this.mapRowDictionaries(r);
    const { n, flags, af, src, dst, src6, dst6, proto, dport, start, dur, packets, bytes, account, region } = r;
    const accountMap = this.accountMap;
    const regionMap = this.regionMap;
    const pkU32 = packets instanceof Uint32Array;
    const byU32 = bytes instanceof Uint32Array;
    const last = this.lastKey.reset();
    const windowOf = this.windowOf.reset();
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
      let sA: number;
      let fam = 0;
      if (a & 1) {
        sA = this.v6.intern(src6, ks * 4);
        ks++;
        fam = F_SRC6;
      } else sA = src[i]!;
      let dA: number;
      if (a & 2) {
        dA = this.v6.intern(dst6, kd * 4);
        kd++;
        fam |= F_DST6;
      } else dA = dst[i]!;
      const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
      const st = start[i]!;
      const w = windowOf.of(st);
      const epv = ((((f >>> 2) & 3) << 30) | accountMap[account[i]!]!) >>> 0;
      const rf = (regionMap[region[i]!]! | (fam << 16)) >>> 0;
      if (!last.same(sA, ppv, w, epv, dA, rf)) last.entry = this.findOrInsert(sA, ppv, w, epv, dA, rf, bucket);
      const pk = packets[i]!;
      const by = bytes[i]!;
      this.accumulate(last.entry, pkU32 && pk === 0xffffffff ? NaN : pk, byU32 && by === 0xffffffff ? NaN : by, st, st + dur[i]!);
    }
  }

  /** mapDictionaries for BlockRows (their flags carry the feed in the same low bits). */
  private mapRowDictionaries(r: BlockRows): void {
    this.mapIds(r.strings, r.n, r.flags, r.account, r.region);
  }

  /** Translate the batch's dictionary ids to this table's ids (once per batch, not per record). */
  private mapDictionaries(batch: FlowBatchData): void {
    this.mapIds(batch.strings, batch.n, batch.feed, batch.account, batch.region);
  }

  /**
   * Only the strings the rows use AS accounts and AS regions enter those dictionaries (the
   * string table also holds interface and instance ids), and only those of inbound rows.
   */
  private mapIds(strings: string[], n: number, feed: Uint8Array, account: ArrayLike<number>, region: ArrayLike<number>): void {
    this.resetMaps(strings);
    for (let i = 0; i < n; i++) {
      if ((feed[i]! & Feed.inbound) === 0) continue;
      const a = account[i]!;
      if (this.accountMap[a] === UNMAPPED) this.accountMap[a] = this.accounts.idOf(strings[a]!);
      const g = region[i]!;
      if (this.regionMap[g] === UNMAPPED) this.regionMap[g] = this.regions.idOf(strings[g]!);
    }
    this.checkDictionaries();
  }

  /** A new string table: its maps start empty (the blocks of a replay file share one, so theirs is kept). */
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

  private checkDictionaries(): void {
    if (this.accounts.size >= 1 << 30) throw new Error('more than 2^30 distinct accounts in one shard');
    if (this.regions.size >= 1 << 16) throw new Error('more than 65535 distinct regions in one shard');
  }

  /** Hash of an entry's key; rf carries the region and the address-family bits. */
  private static hashOf(sA: number, ppv: number, w: number, epv: number, dA: number, rf: number): number {
    let h = mix(0x2545f491, sA);
    h = mix(h, ppv);
    h = mix(h, w);
    h = mix(h, epv);
    h = mix(h, dA);
    h = mix(h, rf);
    return fmix32(h);
  }

  /**
   * Entry index of the key, inserting a zeroed entry when new. `rf` = region id |
   * family flags << 16 (the count flags are not part of the key and are masked off);
   * `bucket` = the source address's bucket (hash.ts bucketOf).
   */
  findOrInsert(sA: number, ppv: number, w: number, epv: number, dA: number, rf: number, bucket: number): number {
    const keyRf = (rf & KEY_RF) >>> 0;
    const full = ScanTable.hashOf(sA, ppv, w, epv, dA, keyRf);
    // the home slot: the bucket's region, then bits of the key's hash; the tag: other bits
    const h = ((full & ~BUCKET_MASK) | (bucket & BUCKET_MASK)) >>> 0;
    const tag = Math.imul(full, 0x9e3779b1) >>> 28;
    const index = this.index;
    const u = this.u;
    let slot = this.home(h);
    for (let probe = 0; ; probe++) {
      if (probe > 0) {
        slot = this.nextSlot(h, slot, probe);
        if (probe >= LOCAL_PROBES) this.farProbes++;
      }
      const v = index[slot]!;
      if (v === 0) break;
      if (v >>> 28 === tag) {
        const e = (v & SLOT_ENTRY) - 1;
        const ew = e * ENTRY_WORDS;
        // every word compared, without branches: a chain of && reaches its later loads
        // only on a match, which the first optimised code has never seen (a deoptimisation
        // per load, and addresses past 2^30 failing a small-integer compare, another)
        if ((
          (u[ew + SRC]! ^ sA) | (u[ew + PP]! ^ ppv) | (u[ew + WIN]! ^ w) | (u[ew + EP]! ^ epv) | (u[ew + DST]! ^ dA) |
          ((u[ew + RF]! & KEY_RF) ^ keyRf)
        ) === 0) {
          return e;
        }
      }
    }
    if (this.count === this.cap) {
      if (this.cap >= MAX_TABLE_ENTRIES) throw new Error(`an accumulator table holds at most ${MAX_TABLE_ENTRIES} entries (--max-memory spills before)`);
      this.resize(Math.min(this.cap * 2, MAX_TABLE_ENTRIES));
      return this.findOrInsert(sA, ppv, w, epv, dA, rf, bucket);
    }
    const e = this.count++;
    index[slot] = ((tag << 28) | (e + 1)) >>> 0;
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

  private resize(cap: number): void {
    const u = new Uint32Array(cap * ENTRY_WORDS);
    u.set(this.u.subarray(0, this.count * ENTRY_WORDS));
    const d = new Float64Array(cap * COUNT_VALUES);
    d.set(this.d.subarray(0, this.count * COUNT_VALUES));
    this.u = u;
    this.d = d;
    this.cap = cap;
    this.rebuildIndex();
  }

  /** A new index over the entries (their hashes are computed again: entries do not keep them). */
  private rebuildIndex(): void {
    this.layoutIndex();
    const index = this.index;
    const u = this.u;
    for (let e = 0; e < this.count; e++) {
      const ew = e * ENTRY_WORDS;
      const rf = u[ew + RF]!;
      const full = ScanTable.hashOf(u[ew + SRC]!, u[ew + PP]!, u[ew + WIN]!, u[ew + EP]!, u[ew + DST]!, (rf & KEY_RF) >>> 0);
      const h = ((full & ~BUCKET_MASK) | (rf >>> BUCKET_SHIFT)) >>> 0;
      let slot = this.home(h);
      for (let probe = 1; index[slot] !== 0; probe++) slot = this.nextSlot(h, slot, probe);
      index[slot] = ((Math.imul(full, 0x9e3779b1) >>> 28 << 28) | (e + 1)) >>> 0;
    }
  }

  /** The source bucket of an entry. */
  bucket(e: number): number {
    return this.u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT;
  }

  /** Windows present in the table (for incremental finalisation). */
  windows(): number[] {
    this.flush();
    const seen = new Set<number>();
    for (let e = 0; e < this.count; e++) seen.add(this.win(e));
    return [...seen].sort((a, b) => a - b);
  }

  /**
   * Compute every key's features and verdict (detection.md §3). A key's entries all lie in its
   * source's bucket, so entries are first sorted by bucket (a counting sort), then
   * grouped by key one bucket at a time with a small table that stays in cache. Only
   * keys with at least min_endpoints entries can be scans or near misses, so the many
   * one-endpoint keys are counted and passed over without further work.
   */
  finalize(opts: FinalizeOptions): FinalizeResult {
    this.flush();
    const upto = opts.uptoWindow ?? 0xffffffff;
    const { start, order: byBucket } = this.entriesByBucket(upto);
    const minTuples = Math.max(1, opts.thresholds.minEndpoints);
    const verdicts: KeyVerdict[] = [];
    const scratch = new Scratch();
    const grouper = new KeyGrouper();
    const days = new EndpointDays(this, opts.windowSeconds);
    const endpointEntries: number[] = [];
    // one callback for every bucket (a new closure per call would deoptimise group() each time)
    const onKey = (list: Int32Array): void => {
      endpointEntries.length = 0;
      const v = this.keyVerdict(list, opts, scratch, endpointEntries);
      if (v.failed.length === 0) days.addScan(v, endpointEntries);
      if (v.failed.length === 0 || (opts.nearMisses && v.endpoints >= opts.thresholds.minEndpoints)) verdicts.push(v);
    };
    let keys = 0;
    for (let b = 0; b < SHARD_BUCKETS; b++) {
      if (start[b] === start[b + 1]) continue;
      keys += grouper.group(this, byBucket.subarray(start[b]!, start[b + 1]!), minTuples, onKey);
    }
    if (opts.drop) this.dropWindowsUpTo(upto);
    return { verdicts, endpointDays: days.result(opts.endpointSources === true), keys, entries: byBucket.length };
  }

  /** The entries of windows <= upto, sorted by source bucket: bucket b is order[start[b], start[b+1]). */
  private entriesByBucket(upto: number): { start: Int32Array; order: Int32Array } {
    const u = this.u;
    const start = new Int32Array(SHARD_BUCKETS + 1);
    let m = 0;
    for (let e = 0; e < this.count; e++) {
      if (u[e * ENTRY_WORDS + WIN]! > upto) continue;
      start[(u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT) + 1]!++;
      m++;
    }
    for (let b = 0; b < SHARD_BUCKETS; b++) start[b + 1]! += start[b]!;
    const fill = start.slice(0, SHARD_BUCKETS);
    const order = new Int32Array(m);
    for (let e = 0; e < this.count; e++) {
      if (u[e * ENTRY_WORDS + WIN]! > upto) continue;
      order[fill[u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT]!++] = e;
    }
    return { start, order };
  }

  /** Address text of an entry's destination. */
  dstText(e: number): string {
    const w = new Uint32Array(4);
    this.v6.wordsOf(this.dstA(e), (this.flags(e) & F_DST6) !== 0, w);
    return formatAddress(w);
  }

  private keyVerdict(list: Int32Array, opts: FinalizeOptions, sc: Scratch, endpointsOut: number[]): KeyVerdict {
    // sort the key's entries by endpoint (cloud+account, dst) so that an endpoint seen
    // in two regions is one endpoint
    const ids = Array.from(list);
    ids.sort((x, y) => this.ep(x) - this.ep(y) || this.dstA(x) - this.dstA(y) || (this.flags(x) & F_DST6) - (this.flags(y) & F_DST6));
    const m = ids.length;
    sc.ensure(m);
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
      const e0 = ids[j]!;
      const epv = this.ep(e0);
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
      while (
        q < m && this.ep(ids[q]!) === epv && this.dstA(ids[q]!) === this.dstA(e0) &&
        (this.flags(ids[q]!) & F_DST6) === (this.flags(e0) & F_DST6)
      ) {
        const e = ids[q]!;
        fe += this.f(e);
        if (this.flags(e) & F_PACKETS) {
          pe += this.p(e);
          hasP = true;
        }
        if (this.flags(e) & F_BYTES) {
          be += this.b(e);
          hasB = true;
        }
        if (this.first(e) < first) first = this.first(e);
        if (this.last(e) > last) last = this.last(e);
        sc.regions[q] = ((epv >>> 30) << 16) | this.region(e);
        q++;
      }
      endpointsOut.push(e0);
      sc.fv[endpoints] = fe;
      if (hasP) sc.pv[nP++] = pe;
      if (hasB) sc.bv[nB++] = be;
      flows += fe;
      packets += pe;
      bytes += be;
      endpoints++;
      j = q;
    }
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
    const e0 = list[0]!;
    const srcWords = new Uint32Array(4);
    this.v6.wordsOf(this.srcA(e0), (this.flags(e0) & F_SRC6) !== 0, srcWords);
    return {
      window: this.win(e0),
      srcWords: Array.from(srcWords),
      src: formatAddress(srcWords),
      protocol: this.pp(e0) >>> 16,
      dstPort: this.pp(e0) & 0xffff,
      ...features,
      flows,
      packets,
      bytes,
      firstSeen: first,
      lastSeen: last,
      failed: failedConditions(features, opts.thresholds),
    };
  }

  /** Remove every entry of windows <= upto (after they were finalised). */
  dropWindowsUpTo(upto: number): void {
    this.flush();
    let w = 0;
    for (let e = 0; e < this.count; e++) {
      if (this.win(e) <= upto) continue;
      if (w !== e) {
        this.u.copyWithin(w * ENTRY_WORDS, e * ENTRY_WORDS, (e + 1) * ENTRY_WORDS);
        this.d.copyWithin(w * COUNT_VALUES, e * COUNT_VALUES, (e + 1) * COUNT_VALUES);
      }
      w++;
    }
    this.count = w;
    this.rebuildIndex();
  }

  /** The table's contents, for a checkpoint or a merge elsewhere. */
  exportState(): ScanTableState {
    this.flush();
    return {
      n: this.count,
      words: this.u.slice(0, this.count * ENTRY_WORDS),
      counts: this.d.slice(0, this.count * COUNT_VALUES),
      accounts: this.accounts.strings.slice(),
      regions: this.regions.strings.slice(),
      v6: this.v6.words.slice(0, this.v6.n * 4),
    };
  }

  /** Add another table's contents to this one: counts add, first/last take min/max. */
  mergeState(s: ScanTableState, only?: ShardFilter): void {
    this.flush();
    if (!(s.counts instanceof Float64Array) || s.words.length !== s.n * ENTRY_WORDS) {
      // a checkpoint written by a flowsieve with the older 56-byte entries
      throw new Error('accumulator state of another layout (written by an older flowsieve): it cannot be read by this one');
    }
    const accountIds = s.accounts.map((a) => this.accounts.idOf(a));
    const regionIds = s.regions.map((r) => this.regions.idOf(r));
    const v6Ids = new Uint32Array(s.v6.length / 4);
    for (let k = 0; k < v6Ids.length; k++) v6Ids[k] = this.v6.intern(s.v6, k * 4);
    const su = s.words;
    const sd = s.counts;
    const words = new Uint32Array(4);
    for (let i = 0; i < s.n; i++) {
      const iw = i * ENTRY_WORDS;
      const fl = (su[iw + RF]! >>> 16) & FLAG_BITS;
      if (fl & F_SRC6) words.set(s.v6.subarray(su[iw + SRC]! * 4, su[iw + SRC]! * 4 + 4));
      else {
        words[0] = 0;
        words[1] = 0;
        words[2] = 0xffff;
        words[3] = su[iw + SRC]!;
      }
      const srcHash = hashAddress(words, 0);
      // keep only the sources this shard owns (a checkpoint may come from another worker count)
      if (only && shardOf(srcHash, only.shards) !== only.shard) continue;
      const sA = fl & F_SRC6 ? v6Ids[su[iw + SRC]!]! : su[iw + SRC]!;
      const dA = fl & F_DST6 ? v6Ids[su[iw + DST]!]! : su[iw + DST]!;
      const epIn = su[iw + EP]!;
      const epv = (((epIn >>> 30) << 30) | accountIds[epIn & 0x3fffffff]!) >>> 0;
      const rf = (regionIds[su[iw + RF]! & 0xffff]! | (fl << 16)) >>> 0;
      const e = this.findOrInsert(sA, su[iw + PP]!, su[iw + WIN]!, epv, dA, rf, bucketOf(srcHash));
      const ew = e * ENTRY_WORDS;
      const ed = e * COUNT_VALUES;
      this.u[ew + FLOWS]! += su[iw + FLOWS]!;
      this.d[ed + PKT]! += sd[i * COUNT_VALUES + PKT]!;
      this.d[ed + BYT]! += sd[i * COUNT_VALUES + BYT]!;
      this.u[ew + RF] = (this.u[ew + RF]! | ((fl & (F_PACKETS | F_BYTES)) << 16)) >>> 0;
      if (su[iw + FIRST]! < this.u[ew + FIRST]!) this.u[ew + FIRST] = su[iw + FIRST]!;
      if (su[iw + LAST]! > this.u[ew + LAST]!) this.u[ew + LAST] = su[iw + LAST]!;
    }
  }
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
  private k5 = -1; // no key: the words are never negative
  entry = -1;

  reset(): this {
    this.k5 = -1;
    this.entry = -1;
    return this;
  }

  /** True when the key is the previous record's; else remember it (the caller then sets entry). */
  same(k0: number, k1: number, k2: number, k3: number, k4: number, k5: number): boolean {
    // words are u32 (k5 starts at -1, which no key word is): xor compares them exactly, without branches
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
class WindowOf {
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
  group(t: ScanTable, ids: Int32Array, minTuples: number, onKey: (list: Int32Array) => void): number {
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
 * Records held back by ScanTable.addBatch, one 48-byte record each: the key words as
 * the table keys them (src, protocol << 16 | port, window, cloud << 30 | account, dst,
 * region | flags << 16), packets and bytes (f64, NaN = unknown), start and end; and the
 * source bucket beside. Sorting copies the records, bucket by bucket, into a second
 * buffer, which is then read straight through: 98 bytes a record held in all.
 */
const PENDING_WORDS = 12;
/** Records hold() takes between checks that every part has room. */
const HOLD_RUN = 256;
/**
 * The held records are kept in 64 parts by the high 6 bits of their bucket (a record is
 * written to its part's next row), and flush sorts one part at a time by the low 6 bits
 * into a part-sized scratch that stays in L2. (Sorting all held records by bucket at once
 * scattered them over 4,096 places in tens of megabytes: a cache and TLB miss each.)
 */
const PENDING_PARTS = 64;
const BUCKETS_PER_PART = SHARD_BUCKETS / PENDING_PARTS;
/** Bytes a held record costs: its bucket, its words, and its share of the sort scratch. */
export const PENDING_ROW_BYTES = 2 + PENDING_WORDS * 4 + 1;
class PendingRows {
  n = 0;
  /** rows of each part: part p's records are rows p * partCap .. p * partCap + fill[p] */
  readonly partCap: number;
  readonly fill = new Int32Array(PENDING_PARTS);
  readonly bucket: Uint16Array;
  readonly rec: Uint32Array;
  readonly f64: Float64Array; // rec's words as f64 (packets at f64 3, bytes at f64 4)
  /** after sortPart(p): bucket p * 64 + b's records are sorted[start[b] .. start[b+1]) */
  readonly sorted: Uint32Array;
  readonly sortedF64: Float64Array;
  readonly start = new Int32Array(BUCKETS_PER_PART + 1);

  constructor(readonly cap: number) {
    this.partCap = Math.max(1, Math.ceil(cap / PENDING_PARTS));
    const rows = this.partCap * PENDING_PARTS;
    this.bucket = new Uint16Array(rows);
    const a = new ArrayBuffer(rows * PENDING_WORDS * 4);
    this.rec = new Uint32Array(a);
    this.f64 = new Float64Array(a);
    const b = new ArrayBuffer(this.partCap * PENDING_WORDS * 4);
    this.sorted = new Uint32Array(b);
    this.sortedF64 = new Float64Array(b);
  }

  get bytes(): number {
    return this.bucket.byteLength + this.rec.byteLength + this.sorted.byteLength;
  }

  /** The row for a record of `bucket`; its part must have room (minFree). */
  put(bucket: number): number {
    const p = (bucket / BUCKETS_PER_PART) | 0;
    const f = this.fill[p]!;
    this.fill[p] = f + 1;
    this.n++;
    const r = p * this.partCap + f;
    this.bucket[r] = bucket;
    return r;
  }

  /** Free rows in the fullest part. */
  minFree(): number {
    let most = 0;
    for (let p = 0; p < PENDING_PARTS; p++) if (this.fill[p]! > most) most = this.fill[p]!;
    return this.partCap - most;
  }

  clear(): void {
    this.fill.fill(0);
    this.n = 0;
  }

  /** A larger buffer holding the same records. */
  grown(cap: number): PendingRows {
    const g = new PendingRows(cap);
    for (let p = 0; p < PENDING_PARTS; p++) {
      const m = this.fill[p]!;
      const from = p * this.partCap;
      const to = p * g.partCap;
      g.bucket.set(this.bucket.subarray(from, from + m), to);
      g.rec.set(this.rec.subarray(from * PENDING_WORDS, (from + m) * PENDING_WORDS), to * PENDING_WORDS);
      g.fill[p] = m;
    }
    g.n = this.n;
    return g;
  }

  /** Copy part p's records into `sorted` by bucket (a counting sort; stable, so deterministic). False when the part is empty. */
  sortPart(p: number): boolean {
    const m = this.fill[p]!;
    if (m === 0) return false;
    const base = p * this.partCap;
    const start = this.start;
    start.fill(0);
    const bucket = this.bucket;
    for (let r = base; r < base + m; r++) start[(bucket[r]! % BUCKETS_PER_PART) + 1]!++;
    for (let b = 0; b < BUCKETS_PER_PART; b++) start[b + 1]! += start[b]!;
    const fill = start.slice(0, BUCKETS_PER_PART);
    const rec = this.rec;
    const out = this.sorted;
    for (let r = base; r < base + m; r++) {
      const from = r * PENDING_WORDS;
      const to = fill[bucket[r]! % BUCKETS_PER_PART]!++ * PENDING_WORDS;
      for (let w = 0; w < PENDING_WORDS; w++) out[to + w] = rec[from + w]!;
    }
    return true;
  }
}

/** Collects EndpointDay facts from the scan keys of one finalisation. */
class EndpointDays {
  private readonly map = new Map<string, { d: EndpointDay; srcs: Set<string>; ports: Set<number> }>();
  constructor(
    private readonly t: ScanTable,
    private readonly windowSeconds: number,
  ) {}

  addScan(v: KeyVerdict, endpointEntries: number[]): void {
    const day = new Date(v.window * this.windowSeconds * 1000).toISOString().slice(0, 10);
    const port = ((v.protocol << 16) | v.dstPort) >>> 0;
    for (const e of endpointEntries) {
      const epv = this.t.ep(e);
      const cloud = CLOUD_NAMES[epv >>> 30]!;
      const account = this.t.accounts.strings[epv & 0x3fffffff]!;
      const endpoint = this.t.dstText(e);
      const key = `${day}|${cloud}|${account}|${endpoint}`;
      let x = this.map.get(key);
      if (!x) this.map.set(key, (x = { d: { day, cloud, account, endpoint, scanners: 0, ports: [] }, srcs: new Set(), ports: new Set() }));
      x.srcs.add(v.src);
      x.ports.add(port);
    }
  }

  result(withSources: boolean): EndpointDay[] {
    return [...this.map.values()].map(({ d, srcs, ports }) => ({
      ...d,
      scanners: srcs.size,
      ports: [...ports].sort((a, b) => a - b),
      ...(withSources ? { sources: [...srcs].sort() } : {}),
    }));
  }
}

class Scratch {
  fv = new Float64Array(64);
  pv = new Float64Array(64);
  bv = new Float64Array(64);
  regions = new Uint32Array(64);
  ensure(m: number): void {
    if (this.fv.length >= m) return;
    const c = nextPow2(m);
    this.fv = new Float64Array(c);
    this.pv = new Float64Array(c);
    this.bv = new Float64Array(c);
    this.regions = new Uint32Array(c);
  }
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    c += x & 1;
    x >>>= 1;
  }
  return c;
}

/** Index slots for a table of `capacity` entries (at most INDEX_LOAD full; any number, not a power of two). */
export function indexSlots(capacity: number): number {
  return Math.ceil(Math.max(SHARD_BUCKETS, capacity) / INDEX_LOAD);
}

export function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
