// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/scan-held.wasm; not part of
// tsc's build). The inbound accumulator's add loop for held-back records
// (src/engine/scan-wasm.ts, src/engine/scan-ingest.ts addPending): one call adds a part's
// records, sorted by bucket, into the table whose entries, index and bucket regions live in
// this module's linear memory. JavaScript owns the layout (where each array lies, growth,
// resizes, the index's rebuild) and reads the same memory as typed arrays; this module
// never grows the memory.
//
// Everything here is src/engine/scan-core.ts written again, slot for slot: the key hash
// (hashKeys), the home slot in the bucket's region, LOCAL_PROBES local probes, then far
// slots chosen by the full hash every FAR_RUN slots, the 4-bit tag, the insert and the
// counts. A table filled here or there holds the same entries in the same order.

import { fmix32, mix } from './shared/hash';

// entry layout (src/engine/scan-layout.ts): nine u32 words and two f64 sums
const ENTRY_BYTES_U: u32 = 36;
const ENTRY_BYTES_D: u32 = 16;
const RF: u32 = 20; // byte offsets of the words
const FLOWS: u32 = 24;
const FIRST: u32 = 28;
const LAST: u32 = 32;
const F_PACKETS: u32 = 1;
const F_BYTES: u32 = 2;
const KEY_RF: u32 = 0xffff | (12 << 16);
const BUCKET_SHIFT: u32 = 20;
const BUCKET_MASK: u32 = 4095;
const SLOT_ENTRY: u32 = 0x0fffffff;
const LOCAL_PROBES: u32 = 32;
const FAR_RUN: u32 = 8;
// a held row (its layout is defined at src/engine/scan-layout.ts HELD_WORDS): six key
// words (the last with the source bucket << BUCKET_SHIFT, as an entry's region word),
// packets and bytes (u32 each, or a wide row's place in its wide list), start, end: 40 bytes
const ROW_BYTES: u32 = 40;
const REGION: u32 = 20; // byte offsets in a row
const PACKETS: u32 = 24;
const BYTES: u32 = 28;
const START: u32 = 32;
const END: u32 = 36;
/** a count word: not known (a NaN count) */
const UNKNOWN: u32 = 0xffffffff;
/** a row's packets word: its counts are not both u32s below this; its bytes word is its place in the wide list (two f64 each) */
const WIDE: u32 = 0xfffffffe;

class Count {
  /** A count's word in a held row: the count itself (an integer below WIDE), UNKNOWN for NaN, or WIDE (the row is wide). */
  @inline
  static narrow(x: f64): u32 {
    // saturating (i32.trunc_sat_f64_u): NaN and negatives give 0, 2^32 and up 0xffffffff, which
    // read back differ from x; -0 is held as 0 (a sum starts at +0, and adding either leaves it the same)
    const u = <u32>x;
    if (<f64>u == x && u < WIDE) return u;
    return x != x ? UNKNOWN : WIDE;
  }

  /** A narrow row's count back as the f64 it was (NaN: not known). */
  @inline
  static wide(w: u32): f64 {
    return w == UNKNOWN ? NaN : <f64>w;
  }
}

// the table, as JavaScript last laid it out (setTable)
let uAt: u32 = 0;
let dAt: u32 = 0;
let indexAt: u32 = 0;
let bucketBaseAt: u32 = 0;
let bucketSpanAt: u32 = 0;
let cap: u32 = 0;
let slots: u32 = 1;
/** probes past a bucket's region (scan-core.ts farProbes), taken by takeFarProbes */
let farProbes: u32 = 0;
/** the row addHeld stopped at for a resize, or -1 when it added every row */
let stoppedAt: i32 = -1;

export function setTable(u: u32, d: u32, index: u32, bucketBase: u32, bucketSpan: u32, capacity: u32, indexSlots: u32): void {
  uAt = u;
  dAt = d;
  indexAt = index;
  bucketBaseAt = bucketBase;
  bucketSpanAt = bucketSpan;
  cap = capacity;
  slots = indexSlots;
}

export function takeFarProbes(): u32 {
  const n = farProbes;
  farProbes = 0;
  return n;
}

export function stopped(): i32 {
  return stoppedAt;
}

class Region {
  /**
   * ScanCore.home: the first slot of a hash whose low 12 bits are the bucket, in the bucket's
   * region (its first slot `base` and its slots `span`: ScanCore.layoutRegions; addHeld reads
   * them once a bucket). Its doubles, (hb >> 12) · 2^-20 · span, are exact (at most 52
   * significant bits), so their floor is this integer product shifted: the same slot.
   */
  @inline
  static home(hb: u32, base: u32, span: u32): u32 {
    const slot = base + <u32>((<u64>(hb >> 12) * <u64>span) >> 20);
    return slot < slots ? slot : slot - slots;
  }
}

/** ScanCore.farSlot */
function farSlot(hb: u32, run: u32): u32 {
  return <u32>Math.floor(<f64>fmix32((hb ^ 0x7f4a7c15) + run * 0x9e3779b9) * 2.3283064365386963e-10 * <f64>slots);
}

/**
 * A new entry for the key at the empty slot holding its first record's counts (what
 * accumulate leaves in a zeroed entry: one flow, the sums from +0, the known flags, first
 * and last the record's), or -1 when the table is full (JavaScript resizes it).
 */
function insertAt(count: u32, slot: u32, tag: u32, k0: u32, k1: u32, k2: u32, k3: u32, k4: u32, keyRf: u32, bucket: u32, pk: f64, by: f64, st: u32, en: u32): i32 {
  if (count == cap) return -1;
  const e = count;
  store<u32>(indexAt + (slot << 2), (tag << 28) | (e + 1));
  const ew = uAt + e * ENTRY_BYTES_U;
  store<u32>(ew, k0);
  store<u32>(ew, k1, 4);
  store<u32>(ew, k2, 8);
  store<u32>(ew, k3, 12);
  store<u32>(ew, k4, 16);
  let known: u32 = 0;
  let sumPk: f64 = 0;
  let sumBy: f64 = 0;
  if (pk == pk) {
    sumPk += pk;
    known = F_PACKETS;
  }
  if (by == by) {
    sumBy += by;
    known |= F_BYTES;
  }
  store<u32>(ew, keyRf | (known << 16) | (bucket << BUCKET_SHIFT), RF);
  store<u32>(ew, 1, FLOWS);
  store<u32>(ew, st, FIRST);
  store<u32>(ew, en, LAST);
  const ed = dAt + e * ENTRY_BYTES_D;
  store<f64>(ed, sumPk);
  store<f64>(ed, sumBy, 8);
  return <i32>e;
}

/** True when entry e's key is (k0 .. k4, keyRf). */
function sameKey(e: u32, k0: u32, k1: u32, k2: u32, k3: u32, k4: u32, keyRf: u32): bool {
  const ew = uAt + e * ENTRY_BYTES_U;
  return ((load<u32>(ew) ^ k0) | (load<u32>(ew, 4) ^ k1) | (load<u32>(ew, 8) ^ k2) | (load<u32>(ew, 12) ^ k3) |
    (load<u32>(ew, 16) ^ k4) | ((load<u32>(ew, RF) & KEY_RF) ^ keyRf)) == 0;
}

class Probe {
  /** ScanCore.findOrInsertHashed: the entry of the key, inserted when new; -1: the table is full. */
  @inline
  static findOrInsert(count: u32, full: u32, k0: u32, k1: u32, k2: u32, k3: u32, k4: u32, k5: u32, bucket: u32, base: u32, span: u32, pk: f64, by: f64, st: u32, en: u32): i32 {
    const keyRf = k5 & KEY_RF;
    const h = (full & ~BUCKET_MASK) | bucket;
    const tag = (full * 0x9e3779b1) >> 28;
    let slot = Region.home(h, base, span);
    for (let probe: u32 = 0; probe < LOCAL_PROBES; probe++) {
      const v = load<u32>(indexAt + (slot << 2));
      if (v == 0) return insertAt(count, slot, tag, k0, k1, k2, k3, k4, keyRf, bucket, pk, by, st, en);
      if (v >> 28 == tag && sameKey((v & SLOT_ENTRY) - 1, k0, k1, k2, k3, k4, keyRf)) return <i32>((v & SLOT_ENTRY) - 1);
      slot = slot + 1 == slots ? 0 : slot + 1;
    }
    return findFar(count, h, tag, slot, k0, k1, k2, k3, k4, keyRf, bucket, pk, by, st, en);
  }
}

/** ScanCore.findFar: past the bucket's region (`slot`: one past the last local probe's). */
function findFar(count: u32, h: u32, tag: u32, slot: u32, k0: u32, k1: u32, k2: u32, k3: u32, k4: u32, keyRf: u32, bucket: u32, pk: f64, by: f64, st: u32, en: u32): i32 {
  let at = slot == 0 ? slots - 1 : slot - 1;
  // ends at an empty slot: the index is at most INDEX_LOAD full
  for (let probe: u32 = LOCAL_PROBES; ; probe++) {
    const far = probe - LOCAL_PROBES;
    at = (far & (FAR_RUN - 1)) == 0 ? farSlot(h, far / FAR_RUN) : (at + 1 == slots ? 0 : at + 1);
    farProbes++;
    const v = load<u32>(indexAt + (at << 2));
    if (v == 0) return insertAt(count, at, tag, k0, k1, k2, k3, k4, keyRf, bucket, pk, by, st, en);
    if (v >> 28 == tag && sameKey((v & SLOT_ENTRY) - 1, k0, k1, k2, k3, k4, keyRf)) return <i32>((v & SLOT_ENTRY) - 1);
  }
  return -1; // not reached
}

class Entry {
  /** ScanCore.accumulate: a record's counts into entry e (NaN counts are unknown). */
  @inline
  static accumulate(e: u32, pk: f64, by: f64, st: u32, en: u32): void {
    const ew = uAt + e * ENTRY_BYTES_U;
    const ed = dAt + e * ENTRY_BYTES_D;
    store<u32>(ew, load<u32>(ew, FLOWS) + 1, FLOWS);
    let known: u32 = 0;
    if (pk == pk) {
      store<f64>(ed, load<f64>(ed) + pk);
      known = F_PACKETS;
    }
    if (by == by) {
      store<f64>(ed, load<f64>(ed, 8) + by, 8);
      known |= F_BYTES;
    }
    if (known != 0) store<u32>(ew, load<u32>(ew, RF) | (known << 16), RF);
    if (st < load<u32>(ew, FIRST)) store<u32>(ew, st, FIRST);
    if (en > load<u32>(ew, LAST)) store<u32>(ew, en, LAST);
  }
}

/**
 * Add the held records of one part (scan-ingest.ts addSortedPart): `rows` records sorted by
 * bucket (sortPart), bucket first + b's at rows start[b] .. start[b + 1] (the i32s at
 * `start`, 65 of them), their key hashes at `hashes`, the counts of wide rows at `wide`.
 * From row `from` on (a call after a resize goes on where the last stopped). Returns the
 * table's entries after; stopped() is the row it stopped at when the table filled, else -1.
 */
export function addHeld(rows: u32, hashes: u32, wide: u32, start: u32, first: u32, from: u32, count: u32): u32 {
  stoppedAt = -1;
  // the key of the previous record and its entry: a run of one key skips the lookup
  let l0: u32 = 0, l1: u32 = 0, l2: u32 = 0, l3: u32 = 0, l4: u32 = 0;
  let l5: u32 = 0xffffffff; // no key: a region word never has every bit set
  let entry: u32 = 0;
  for (let b: u32 = 0; b < 64; b++) {
    const end = load<u32>(start + ((b + 1) << 2));
    let r = load<u32>(start + (b << 2));
    if (r < from) r = from;
    const bucket = first + b;
    const base = load<u32>(bucketBaseAt + (bucket << 2));
    const span = load<u32>(bucketSpanAt + (bucket << 2));
    for (; r < end; r++) {
      const o = rows + r * ROW_BYTES;
      const k0 = load<u32>(o);
      const k1 = load<u32>(o, 4);
      const k2 = load<u32>(o, 8);
      const k3 = load<u32>(o, 12);
      const k4 = load<u32>(o, 16);
      const k5 = load<u32>(o, 20);
      const pw = load<u32>(o, PACKETS);
      const bw = load<u32>(o, BYTES);
      let pk: f64, by: f64;
      if (pw == WIDE) {
        const w = wide + (bw << 4);
        pk = load<f64>(w);
        by = load<f64>(w, 8);
      } else {
        pk = Count.wide(pw);
        by = Count.wide(bw);
      }
      const st = load<u32>(o, START);
      const en = load<u32>(o, END);
      if (((k0 ^ l0) | (k1 ^ l1) | (k2 ^ l2) | (k3 ^ l3) | (k4 ^ l4) | (k5 ^ l5)) != 0) {
        const e = Probe.findOrInsert(count, load<u32>(hashes + (r << 2)), k0, k1, k2, k3, k4, k5, bucket, base, span, pk, by, st, en);
        if (e < 0) {
          stoppedAt = <i32>r;
          return count;
        }
        entry = <u32>e;
        l0 = k0;
        l1 = k1;
        l2 = k2;
        l3 = k3;
        l4 = k4;
        l5 = k5;
        if (<u32>e == count) {
          count++; // a new entry holds the record's counts already (insertAt)
          continue;
        }
      }
      Entry.accumulate(entry, pk, by, st, en);
    }
  }
  return count;
}

// ---- the held buffer's sort (src/engine/scan-ingest.ts PendingRows.sortPart): in a memory
// of its own, a second instance of this module (a table's memory moves as the table grows;
// the held buffer, up to ~100 MB, would move with it).

/**
 * The held rows of each bucket (scan-ingest.ts PendingRows.bucketRows): the 4,096 u32s at
 * `out`, from the bucket in each part's rows' region word (part p's fill[p] rows from row
 * p · partCap of the rows at `rec`; the 64 u32s at `fill`).
 */
export function bucketRows(rec: u32, fill: u32, partCap: u32, out: u32): void {
  memory.fill(out, 0, 4096 << 2);
  for (let p: u32 = 0; p < 64; p++) {
    const from = rec + p * partCap * ROW_BYTES;
    const end = from + load<u32>(fill + (p << 2)) * ROW_BYTES;
    for (let at = from; at < end; at += ROW_BYTES) {
      const c = out + ((load<u32>(at, REGION) >> BUCKET_SHIFT) << 2);
      store<u32>(c, load<u32>(c) + 1);
    }
  }
}

/**
 * rowHash of four rows at once, lane for lane the same u32 operations (i32x4), the rows'
 * words transposed by shuffles: MurmurHash3's rounds are a chain of multiplies a row, which
 * the core overlapped little from one row to the next. The sort 20.1-20.6 -> 18.0-18.6 ns a
 * row (bench/probes/sort-part.mjs), 132-141 -> 118-130 ms a round of the 7 M bucket's held
 * rows (bench/RESULTS.md, session 18 hold).
 */
class Hash4 {
  /** mix (shared/hash.ts) of four lanes */
  @inline
  static mix(h: v128, k: v128): v128 {
    k = i32x4.mul(k, i32x4.splat(0xcc9e2d51));
    k = v128.or(i32x4.shl(k, 15), i32x4.shr_u(k, 17));
    k = i32x4.mul(k, i32x4.splat(0x1b873593));
    h = v128.xor(h, k);
    h = v128.or(i32x4.shl(h, 13), i32x4.shr_u(h, 19));
    return i32x4.add(i32x4.add(i32x4.shl(h, 2), h), i32x4.splat(0xe6546b64));
  }

  /** fmix32 of four lanes */
  @inline
  static fmix(h: v128): v128 {
    h = v128.xor(h, i32x4.shr_u(h, 16));
    h = i32x4.mul(h, i32x4.splat(0x85ebca6b));
    h = v128.xor(h, i32x4.shr_u(h, 13));
    h = i32x4.mul(h, i32x4.splat(0xc2b2ae35));
    return v128.xor(h, i32x4.shr_u(h, 16));
  }

  /** The key hashes of the four held rows from `o` (40 bytes apart), lane i row i's. */
  @inline
  static rows(o: u32): v128 {
    const a0 = v128.load(o);
    const a1 = v128.load(o + ROW_BYTES);
    const a2 = v128.load(o + 2 * ROW_BYTES);
    const a3 = v128.load(o + 3 * ROW_BYTES);
    // words 0-3 of the four rows transposed: lane i of kN is row i's word N
    const t0 = v128.shuffle<i32>(a0, a1, 0, 4, 1, 5);
    const t1 = v128.shuffle<i32>(a2, a3, 0, 4, 1, 5);
    const t2 = v128.shuffle<i32>(a0, a1, 2, 6, 3, 7);
    const t3 = v128.shuffle<i32>(a2, a3, 2, 6, 3, 7);
    const b0 = v128.load(o, 16);
    const b1 = v128.load(o + ROW_BYTES, 16);
    const b2 = v128.load(o + 2 * ROW_BYTES, 16);
    const b3 = v128.load(o + 3 * ROW_BYTES, 16);
    const u0 = v128.shuffle<i32>(b0, b1, 0, 4, 1, 5);
    const u1 = v128.shuffle<i32>(b2, b3, 0, 4, 1, 5);
    let h = Hash4.mix(i32x4.splat(0x2545f491), v128.shuffle<i32>(t0, t1, 0, 1, 4, 5));
    h = Hash4.mix(h, v128.shuffle<i32>(t0, t1, 2, 3, 6, 7));
    h = Hash4.mix(h, v128.shuffle<i32>(t2, t3, 0, 1, 4, 5));
    h = Hash4.mix(h, v128.shuffle<i32>(t2, t3, 2, 3, 6, 7));
    h = Hash4.mix(h, v128.shuffle<i32>(u0, u1, 0, 1, 4, 5));
    h = Hash4.mix(h, v128.and(v128.shuffle<i32>(u0, u1, 2, 3, 6, 7), i32x4.splat(KEY_RF)));
    return Hash4.fmix(h);
  }
}

class Group {
  /** A row's group in its part's sort: its bucket's low 6 bits (in its region word `rf`), then its hash's top `bits` (two shifts: a shift by 32 is one by 0; rest = 31 - bits). */
  @inline
  static of(rf: u32, h: u32, bits: u32, rest: u32): u32 {
    return (((rf >> BUCKET_SHIFT) & 63) << bits) | ((h >>> 1) >>> rest);
  }
}

/** keyHash (scan-core.ts hashKeys) of the held row at `o`. */
function rowHash(o: u32): u32 {
  let h = mix(0x2545f491, load<u32>(o));
  h = mix(h, load<u32>(o, 4));
  h = mix(h, load<u32>(o, 8));
  h = mix(h, load<u32>(o, 12));
  h = mix(h, load<u32>(o, 16));
  h = mix(h, load<u32>(o, 20) & KEY_RF);
  return fmix32(h);
}

/**
 * Copy the m held rows from row `base` (40-byte rows at `rec`, each one's bucket in its region
 * word) into `out` by the low 6 bits of their bucket, then the top `bits` bits of their key hash (a
 * counting sort, stable: scan-ingest.ts sortHeldPart says why). Bucket b's rows at
 * start[b] .. start[b + 1] (the 65 i32s at `start`), their hashes at `outHash`; `tmp`:
 * 64 << bits u32s of group counts, then m u32s of hashes; `group`: m u16s, each row's
 * group (made in the hash loop, read by the counting and placing loops). A wide row's counts (in the list
 * at `wide`) go to the part's own list at `outWide`, in sorted order, its bytes word
 * renumbered. Returns the part's wide rows.
 */
export function sortPart(rec: u32, wide: u32, base: u32, m: u32, bits: u32, start: u32, out: u32, outWide: u32, outHash: u32, tmp: u32, group: u32): u32 {
  const groups: u32 = 64 << bits;
  const pos = tmp;
  const hashes = tmp + (groups << 2);
  memory.fill(pos, 0, groups << 2);
  // each row's group (a u16 at `group`), made while its row is in cache from the hash's loads
  const rest = 31 - bits;
  const m4 = m & ~3;
  for (let r: u32 = 0; r < m4; r += 4) {
    const o = rec + (base + r) * ROW_BYTES;
    const h4 = Hash4.rows(o);
    v128.store(hashes + (r << 2), h4);
    const g = group + (r << 1);
    store<u16>(g, <u16>Group.of(load<u32>(o, REGION), i32x4.extract_lane(h4, 0), bits, rest));
    store<u16>(g, <u16>Group.of(load<u32>(o + ROW_BYTES, REGION), i32x4.extract_lane(h4, 1), bits, rest), 2);
    store<u16>(g, <u16>Group.of(load<u32>(o + 2 * ROW_BYTES, REGION), i32x4.extract_lane(h4, 2), bits, rest), 4);
    store<u16>(g, <u16>Group.of(load<u32>(o + 3 * ROW_BYTES, REGION), i32x4.extract_lane(h4, 3), bits, rest), 6);
  }
  for (let r = m4; r < m; r++) {
    const o = rec + (base + r) * ROW_BYTES;
    const h = rowHash(o);
    store<u32>(hashes + (r << 2), h);
    store<u16>(group + (r << 1), <u16>Group.of(load<u32>(o, REGION), h, bits, rest));
  }
  for (let r: u32 = 0; r < m; r++) {
    const at = pos + (<u32>load<u16>(group + (r << 1)) << 2);
    store<u32>(at, load<u32>(at) + 1);
  }
  let sum: u32 = 0;
  const low = (<u32>1 << bits) - 1;
  for (let g: u32 = 0; g < groups; g++) {
    const at = pos + (g << 2);
    const c = load<u32>(at);
    store<u32>(at, sum);
    if ((g & low) == 0) store<u32>(start + ((g >> bits) << 2), sum);
    sum += c;
  }
  store<u32>(start + (64 << 2), sum);
  let w: u32 = 0;
  for (let r: u32 = 0; r < m; r++) {
    const h = load<u32>(hashes + (r << 2));
    const s = rec + (base + r) * ROW_BYTES;
    const at = pos + (<u32>load<u16>(group + (r << 1)) << 2);
    const to = load<u32>(at);
    store<u32>(at, to + 1);
    const d = out + to * ROW_BYTES;
    v128.store(d, v128.load(s));
    v128.store(d, v128.load(s, 16), 16);
    store<u64>(d, load<u64>(s, 32), 32);
    store<u32>(outHash + (to << 2), h);
    if (load<u32>(s, PACKETS) == WIDE) {
      v128.store(outWide + (w << 4), v128.load(wide + (load<u32>(s, BYTES) << 4)));
      store<u32>(d, w, BYTES);
      w++;
    }
  }
  return w;
}

// ---- the hold step (src/engine/scan-ingest.ts KeyBuilder.ofBatch and holdRange): a batch's
// columns, read where the batch lies when that is in this memory (a ring slot: holdColumns),
// else copied into a stage of the held buffer's memory (scan-wasm.ts HeldSorter.stage),
// keyed and written as held rows here. A record with an IPv6 address is written here too,
// but its address words are left for JavaScript to intern: the record and its row go on a
// list (v6List) that JavaScript reads when the loop stops, in record order (the intern ids
// so count as they did record by record). Records whose keys need JavaScript otherwise (a
// batch-local account or region id not mapped yet) stop the loop: JavaScript holds that one
// record and goes on after it. A full part stops it too (JavaScript makes room).

const UNMAPPED: u32 = 0xffffffff;
/** why holdStaged stopped (holdStop): every record held, a record for JavaScript, a full part */
const STOP_DONE: u32 = 0;
const STOP_RECORD: u32 = 1;
const STOP_FULL: u32 = 2;
// src/engine/scan-layout.ts: the region word's flags of an IPv6 source, destination
const F_SRC6: u32 = 4;
const F_DST6: u32 = 8;
// hash.ts: hashAddress's state after an IPv4-mapped address's first three words
const ADDRESS_SEED: u32 = 0x9747b28c;

// the held buffer and its stage, as JavaScript laid them out (setHold)
let hFill: u32 = 0;
let hRec: u32 = 0;
let hPartCap: u32 = 0;
let hWide: u32 = 0; // the wide rows' counts (two f64 each)
let hWideFill: u32 = 0; // their number (a u32 JavaScript reads and empties too)
let hAccounts: u32 = 0;
let hRegions: u32 = 0;
let hMapCap: u32 = 0;
let hSeconds: f64 = 1;
// stage columns (scan-wasm.ts HOLD_STAGE): packets, bytes (f64), src, dst (4 u32 each), start, end, account, region (u32), dport (u16), feed, proto, cloud (u8)
let sPackets: u32 = 0;
let sBytes: u32 = 0;
let sSrc: u32 = 0;
let sDst: u32 = 0;
let sStart: u32 = 0;
let sEnd: u32 = 0;
let sAccount: u32 = 0;
let sRegion: u32 = 0;
let sDport: u32 = 0;
let sFeed: u32 = 0;
let sProto: u32 = 0;
let sCloud: u32 = 0;
let holdStop: u32 = 0;
let holdCount: u32 = 0;
// the IPv6 records of the last holdStaged: (stage record, held row) pairs of u32
let v6List: u32 = 0;
let v6Count: u32 = 0;
// Placed.run's places: HOLD_RUN pairs of u32 (in the sort's scratch, unused while holding)
let hRunPlaces: u32 = 0;
// scan-ingest.ts WindowOf: the window of the last start, as [lo, hi) seconds
let winLo: f64 = 1;
let winHi: f64 = 0;
let winW: f64 = 0;

export function setHold(fill: u32, rec: u32, partCap: u32, wide: u32, wideFill: u32, accounts: u32, regions: u32, mapCap: u32, stage: u32, stageCap: u32, seconds: f64, v6: u32, runPlaces: u32): void {
  v6List = v6;
  hRunPlaces = runPlaces;
  hWide = wide;
  hWideFill = wideFill;
  hFill = fill;
  hRec = rec;
  hPartCap = partCap;
  hAccounts = accounts;
  hRegions = regions;
  hMapCap = mapCap;
  hSeconds = seconds;
  // the stage's columns, one after another (src/engine/batch-stage.ts, HOLD_STAGE's order)
  const bytes = stage + stageCap * 8;
  const src = bytes + stageCap * 8;
  const dst = src + stageCap * 16;
  const start = dst + stageCap * 16;
  const end = start + stageCap * 4;
  const account = end + stageCap * 4;
  const region = account + stageCap * 4;
  const dport = region + stageCap * 4;
  const feed = dport + stageCap * 2;
  const proto = feed + stageCap;
  holdColumns(stage, bytes, src, dst, start, end, account, region, dport, feed, proto, proto + stageCap);
}

/**
 * Where the hold step reads each column of the records from now on (record 0's address): a
 * batch lying in this memory (a slot of the engine's batch ring, scan-wasm.ts
 * HeldSorter.readsInPlace), or the stage again (setHold's addresses).
 */
export function holdColumns(packets: u32, bytes: u32, src: u32, dst: u32, start: u32, end: u32, account: u32, region: u32, dport: u32, feed: u32, proto: u32, cloud: u32): void {
  sPackets = packets;
  sBytes = bytes;
  sSrc = src;
  sDst = dst;
  sStart = start;
  sEnd = end;
  sAccount = account;
  sRegion = region;
  sDport = dport;
  sFeed = feed;
  sProto = proto;
  sCloud = cloud;
}

/** A new batch: WindowOf.reset. */
export function resetWindow(): void {
  winLo = 1;
  winHi = 0;
}

/** WindowOf.of, the same doubles (JavaScript keys its records with this one too, for one cache). */
export function windowOf(start: u32): u32 {
  const s = <f64>start;
  if (s < winLo || s >= winHi) {
    winW = Math.floor(s / hSeconds);
    winLo = winW * hSeconds;
    winHi = winLo + hSeconds;
  }
  return <u32>winW;
}

export function holdStopped(): u32 {
  return holdStop;
}

/** Rows the last holdStaged wrote. */
export function holdHeld(): u32 {
  return holdCount;
}

/** Records of the last holdStaged whose IPv6 address words JavaScript writes (v6List). */
export function holdV6(): u32 {
  return v6Count;
}

function v4Mapped(a: u32): bool {
  return (load<u32>(a) | load<u32>(a, 4) | (load<u32>(a, 8) ^ 0xffff)) == 0;
}

/**
 * Hold the staged records from..n (inbound ones): each one's key words (KeyBuilder.ofBatch)
 * and counts as a held row of its source bucket's part (holdRange, PendingRows.put).
 * Returns the record it stopped at (n when done); holdStopped() says why, holdHeld() how
 * many rows it wrote, holdV6() how many of them wait for their IPv6 addresses (v6List).
 */
export function holdStaged(from: u32, n: u32): u32 {
  let held: u32 = 0;
  let v6: u32 = 0;
  let i = from;
  holdStop = STOP_DONE;
  // a full part stops the loop before the next record, inbound or not, as holdRange's runs
  // end (the held records are then added at the same record as in JavaScript)
  let full = false;
  for (let p: u32 = 0; p < 64; p++) full |= load<u32>(hFill + (p << 2)) == hPartCap;
  while (i < n) {
    if (full) {
      holdStop = STOP_FULL;
      break;
    }
    const runFrom = i;
    const runEnd = Placed.run(i, n);
    full = Placed.full;
    for (; i < runEnd; i++) {
      if ((load<u8>(sFeed + i) & 1) == 0) continue;
      const a = load<u32>(sAccount + (i << 2));
      const g = load<u32>(sRegion + (i << 2));
      let ac = UNMAPPED;
      let rg = UNMAPPED;
      if (a < hMapCap && g < hMapCap) {
        ac = load<u32>(hAccounts + (a << 2));
        rg = load<u32>(hRegions + (g << 2));
      }
      if (ac == UNMAPPED || rg == UNMAPPED) {
        // JavaScript holds this one: the rows placed for it and the rest of the run given back
        Placed.unplace(runFrom, i, runEnd);
        holdStop = STOP_RECORD;
        break;
      }
      const at = hRunPlaces + ((i - runFrom) << 3);
      const bucket = load<u32>(at) & BUCKET_MASK;
      const fam = load<u32>(at) >> 16;
      const r = load<u32>(at, 4);
      const o = hRec + r * ROW_BYTES;
      if (fam != 0) {
        // the address words of an IPv6 side are its intern id, written by JavaScript (v6List)
        const v = v6List + (v6 << 3);
        store<u32>(v, i);
        store<u32>(v, r, 4);
        v6++;
      }
      store<u32>(o, load<u32>(sSrc + (i << 4), 12));
      store<u32>(o, (<u32>load<u8>(sProto + i) << 16) | <u32>load<u16>(sDport + (i << 1)), 4);
      store<u32>(o, windowOf(load<u32>(sStart + (i << 2))), 8);
      store<u32>(o, (<u32>load<u8>(sCloud + i) << 30) | ac, 12);
      store<u32>(o, load<u32>(sDst + (i << 4), 12), 16);
      store<u32>(o, rg | (fam << 16) | (bucket << BUCKET_SHIFT), REGION);
      const pk = load<f64>(sPackets + (i << 3));
      const by = load<f64>(sBytes + (i << 3));
      const pw = Count.narrow(pk);
      const bw = Count.narrow(by);
      if ((pw == WIDE) | (bw == WIDE)) {
        const w = load<u32>(hWideFill);
        store<f64>(hWide + (w << 4), pk);
        store<f64>(hWide + (w << 4), by, 8);
        store<u32>(hWideFill, w + 1);
        store<u32>(o, WIDE, PACKETS);
        store<u32>(o, w, BYTES);
      } else {
        store<u32>(o, pw, PACKETS);
        store<u32>(o, bw, BYTES);
      }
      store<u32>(o, load<u32>(sStart + (i << 2)), START);
      store<u32>(o, load<u32>(sEnd + (i << 2)), END);
      held++;
    }
    if (holdStop != STOP_DONE) break;
  }
  holdCount = held;
  v6Count = v6;
  return i;
}

/** Records Placed.run places at a time. */
const HOLD_RUN: u32 = 256;

/**
 * The held rows of a run of staged records, chosen before any is written. Chosen in the loop
 * that writes the rows, each row's place waited on the source's hash and then its part's fill
 * loaded from memory, and the core let little of the next records' work past those stores of
 * unknown address; chosen here first, in a loop of loads, hashes and fills alone, the places
 * are known when the rows are written: holdStaged 219-225 -> 202-204 ms a round on the 7 M
 * bucket (bench/RESULTS.md, session 17 accum). Most of what is left is the rows' first
 * writes to lines not in cache (64 parts' places, too many streams for the prefetchers).
 */
class Placed {
  /** whether the last run ended at the record that filled its part */
  static full: bool = false;

  /**
   * The inbound records from `from` (at most HOLD_RUN, to n; up to the one that fills its
   * part): each one's source bucket (hash.ts bucketOfSource), IPv6 flags (F_SRC6, F_DST6)
   * and held row, as (bucket | flags << 16, row) at hRunPlaces + (i - from) · 8, its part's
   * fill counted. Returns the end of the run.
   */
  static run(from: u32, n: u32): u32 {
    const v4State = mix(mix(mix(ADDRESS_SEED, 0), 0), 0xffff);
    const end = n - from < HOLD_RUN ? n : from + HOLD_RUN;
    Placed.full = false;
    for (let i = from; i < end; i++) {
      if ((load<u8>(sFeed + i) & 1) == 0) continue;
      const s = sSrc + (i << 4);
      const d = sDst + (i << 4);
      let state = v4State;
      let fam: u32 = 0;
      if (!(v4Mapped(s) & v4Mapped(d))) {
        // an IPv6 side (rare): hash.ts hashAddress mixes an IPv6 source's first three words too
        if (!v4Mapped(s)) {
          state = mix(mix(mix(ADDRESS_SEED, load<u32>(s)), load<u32>(s, 4)), load<u32>(s, 8));
          fam = F_SRC6;
        }
        if (!v4Mapped(d)) fam |= F_DST6;
      }
      const bucket = fmix32(mix(state, load<u32>(s, 12)) ^ 16) & BUCKET_MASK;
      const fillAt = hFill + ((bucket >> 6) << 2);
      const f = load<u32>(fillAt);
      store<u32>(fillAt, f + 1);
      const at = hRunPlaces + ((i - from) << 3);
      store<u32>(at, bucket | (fam << 16));
      store<u32>(at, (bucket >> 6) * hPartCap + f, 4);
      if (f + 1 == hPartCap) {
        Placed.full = true;
        return i + 1;
      }
    }
    return end;
  }

  /** The places of the run's inbound records from `i` to `end` given back (their parts' fills as before them). */
  static unplace(from: u32, i: u32, end: u32): void {
    for (let j = i; j < end; j++) {
      if ((load<u8>(sFeed + j) & 1) == 0) continue;
      const fillAt = hFill + (((load<u32>(hRunPlaces + ((j - from) << 3)) & BUCKET_MASK) >> 6) << 2);
      store<u32>(fillAt, load<u32>(fillAt) - 1);
    }
  }
}

// the table's finalisation, in this memory (src/engine/scan-wasm.ts ScanArena.finalise)
export * from './shared/scan-finalise';
