// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/outbound-adds.wasm). The
// outbound table's add loop (src/engine/outbound-table.ts addRun, src/engine/outbound-adds.ts):
// a batch's outbound records with IPv4 ends, a stage of their columns at a time, added to the
// table's entries, which lie in this module's memory. In JavaScript the loop ran interpreted
// for the first thousands of records of a run, until V8 had compiled it (~30 ms of the shard
// thread on the GCP blobs, and a compile of ~10-20 ms); here it is compiled before it runs.
//
// Everything here is addRun and findOrInsert written again: the same key words, the same
// hash, the same index, the same sums. What the loop does not take (an IPv6 address, a string
// not mapped to the table's dictionaries yet, a new entry that the table has no room for)
// stops it at that record, which JavaScript adds (and then calls again from the next one).
// keepSmallest compares strings, which only JavaScript holds: an entry's string id that
// differs from the one it has is listed (entry, column, id) for JavaScript to compare after
// the call; the smallest wins whatever the order, so the result is the same.

import { fmix32, mix } from './shared/hash';

const F_PACKETS: u8 = 1;
const F_BYTES: u8 = 2;
const TAG_SHIFT: u32 = 26;
const UNMAPPED: u32 = 0xffffffff;
const FEED_OUTBOUND: u8 = 2;

// The layout, written by JavaScript at `at` (u32 slots, L_*) before a call (bind).
const L_P = 0; // f64 columns
const L_B = 1;
const L_SRC = 2; // u32 columns
const L_EP = 3;
const L_PP = 4;
const L_WIN = 5;
const L_DST = 6;
const L_F = 7;
const L_FIRST = 8;
const L_LAST = 9;
const L_IFACE = 10;
const L_INSTANCE = 11;
const L_REGION = 12;
const L_SPORTS = 13;
const L_FLAGS = 14; // u8 column
const L_INDEX = 15;
const L_MASK = 16;
const L_N = 17; // entries: in before a call, out after it
const L_CAP = 18;
const L_LIMIT = 19; // entries the table may hold (--max-memory, or the most the index numbers)
const L_ACCOUNT_MAP = 20; // batch-local string id -> the table's id (UNMAPPED: not yet)
const L_STRING_MAP = 21;
const L_SECONDS = 22; // the window's seconds (f64 at slots 22-23)
const L_STAGE = 24; // the stage's columns (below), STAGE records
const L_COMPARES = 25; // (entry, column 0-2, id) u32 triples for keepSmallest
const L_COMPARE_COUNT = 26; // out
// the stage's columns, in bytes from L_STAGE's address, for `stage` records each
// (src/engine/outbound-adds.ts ADD_STAGE_COLUMNS): src and dst 16 bytes, packets and bytes 8,
// start, end, account, iface, instance, region 4, dport, sport 2, feed, proto, cloud 1
/** Bytes a staged record has in the columns before the feed column (addStaged's offsets). */
const BEFORE_FEED: u32 = 16 + 16 + 8 + 8 + 6 * 4 + 2 * 2;

let cP: u32 = 0;
let cB: u32 = 0;
let cSrc: u32 = 0;
let cEp: u32 = 0;
let cPp: u32 = 0;
let cWin: u32 = 0;
let cDst: u32 = 0;
let cF: u32 = 0;
let cFirst: u32 = 0;
let cLast: u32 = 0;
let cIface: u32 = 0;
let cInstance: u32 = 0;
let cRegion: u32 = 0;
let cSports: u32 = 0;
let cFlags: u32 = 0;
let index: u32 = 0;
let mask: u32 = 0;
let count: u32 = 0;
let cap: u32 = 0;
let limit: u32 = 0;
let accountMap: u32 = 0;
let stringMap: u32 = 0;
let seconds: f64 = 1;
let compares: u32 = 0;
let compareCount: u32 = 0;

/** The layout at `at` read (JavaScript wrote it: the table may have moved since the last call). */
function bind(at: u32): void {
  cP = load<u32>(at + (L_P << 2));
  cB = load<u32>(at + (L_B << 2));
  cSrc = load<u32>(at + (L_SRC << 2));
  cEp = load<u32>(at + (L_EP << 2));
  cPp = load<u32>(at + (L_PP << 2));
  cWin = load<u32>(at + (L_WIN << 2));
  cDst = load<u32>(at + (L_DST << 2));
  cF = load<u32>(at + (L_F << 2));
  cFirst = load<u32>(at + (L_FIRST << 2));
  cLast = load<u32>(at + (L_LAST << 2));
  cIface = load<u32>(at + (L_IFACE << 2));
  cInstance = load<u32>(at + (L_INSTANCE << 2));
  cRegion = load<u32>(at + (L_REGION << 2));
  cSports = load<u32>(at + (L_SPORTS << 2));
  cFlags = load<u32>(at + (L_FLAGS << 2));
  index = load<u32>(at + (L_INDEX << 2));
  mask = load<u32>(at + (L_MASK << 2));
  count = load<u32>(at + (L_N << 2));
  cap = load<u32>(at + (L_CAP << 2));
  limit = load<u32>(at + (L_LIMIT << 2));
  accountMap = load<u32>(at + (L_ACCOUNT_MAP << 2));
  stringMap = load<u32>(at + (L_STRING_MAP << 2));
  seconds = load<f64>(at + (L_SECONDS << 2));
  compares = load<u32>(at + (L_COMPARES << 2));
  compareCount = 0;
}

// the last record's key and entry (scan-ingest.ts LastKey), for the records of one call
let lastSrc: u32 = 0;
let lastEp: u32 = 0;
let lastPp: u32 = 0;
let lastWin: u32 = 0;
let lastDst: u32 = 0;
let lastEntry: i32 = -1;

/**
 * outbound-table.ts findOrInsert of an IPv4 key (family bits 0): the entry, or -1 where
 * JavaScript is to take the record (a new key and the table full, or at its capacity).
 */
function findOrInsert(sA: u32, epv: u32, ppv: u32, w: u32, dA: u32): i32 {
  const h = fmix32(mix(mix(mix(mix(mix(mix(0x1b873593, sA), epv), ppv), w), dA), 0));
  const tag = h >>> TAG_SHIFT;
  let slot = h & mask;
  for (;;) {
    const v = load<u32>(index + (slot << 2));
    if (v == 0) break;
    if (v >>> TAG_SHIFT == tag) {
      const e = (v & ((1 << TAG_SHIFT) - 1)) - 1;
      const o = e << 2;
      if (((load<u32>(cSrc + o) ^ sA) | (load<u32>(cEp + o) ^ epv) | (load<u32>(cPp + o) ^ ppv) | (load<u32>(cWin + o) ^ w) | (load<u32>(cDst + o) ^ dA) | (<u32>load<u8>(cFlags + e) & 12)) == 0) return <i32>e;
    }
    slot = (slot + 1) & mask;
  }
  if (count >= limit || count >= cap) return -1;
  const e = newEntry(sA, epv, ppv, w, dA);
  store<u32>(index + (slot << 2), (tag << TAG_SHIFT) | (e + 1));
  return <i32>e;
}

/** A new entry of an IPv4 key, its counts empty (outbound-table.ts newEntry): its number. */
function newEntry(sA: u32, epv: u32, ppv: u32, w: u32, dA: u32): u32 {
  const e = count++;
  const o = e << 2;
  store<u32>(cSrc + o, sA);
  store<u32>(cEp + o, epv);
  store<u32>(cPp + o, ppv);
  store<u32>(cWin + o, w);
  store<u32>(cDst + o, dA);
  store<u8>(cFlags + e, 0);
  store<u32>(cF + o, 0);
  store<f64>(cP + (e << 3), 0);
  store<f64>(cB + (e << 3), 0);
  store<u32>(cFirst + o, 0xffffffff);
  store<u32>(cLast + o, 0);
  store<u32>(cIface + o, 0);
  store<u32>(cInstance + o, 0);
  store<u32>(cRegion + o, 0);
  store<u32>(cSports + o, 0);
  return e;
}

/** keepSmallest's cheap cases here (no string, the same one, none yet); a real choice listed for JavaScript. */
function keepSmallest(col: u32, which: u32, e: u32, id: u32): void {
  const at = col + (e << 2);
  const cur = load<u32>(at);
  if (id == cur || id == 0) return;
  if (cur == 0) {
    store<u32>(at, id);
    return;
  }
  const c = compares + compareCount * 12;
  store<u32>(c, e);
  store<u32>(c + 4, which);
  store<u32>(c + 8, id);
  compareCount++;
}

/** The add loops' shared steps (static methods, inlined in both loops: eslint takes their decorator). */
class Adds {
  /**
   * The entry of a record's key: the last record's, else found (in the table's index; in the
   * block's, findOrAppend, where `batch` is not 0) and remembered; -1 as theirs.
   */
  @inline
  static entryOf(batch: u32, bmask: u32, sA: u32, epv: u32, ppv: u32, w: u32, dA: u32): i32 {
    if (lastEntry >= 0 && ((sA ^ lastSrc) | (epv ^ lastEp) | (ppv ^ lastPp) | (w ^ lastWin) | (dA ^ lastDst)) == 0) return lastEntry;
    const e = batch != 0 ? findOrAppend(batch, bmask, sA, epv, ppv, w, dA) : findOrInsert(sA, epv, ppv, w, dA);
    if (e < 0) return e;
    lastSrc = sA;
    lastEp = epv;
    lastPp = ppv;
    lastWin = w;
    lastDst = dA;
    lastEntry = e;
    return e;
  }

  /** A record's counts into entry e (NaN: unknown), its strings' ids mapped already. */
  @inline
  static tally(e: u32, pk: f64, by: f64, s: u32, en: u64, sport: u32, ifaceId: u32, instanceId: u32, regionId: u32): void {
    const o = e << 2;
    store<u32>(cF + o, load<u32>(cF + o) + 1);
    if (pk == pk) {
      store<f64>(cP + (e << 3), load<f64>(cP + (e << 3)) + pk);
      store<u8>(cFlags + e, load<u8>(cFlags + e) | F_PACKETS);
    }
    if (by == by) {
      store<f64>(cB + (e << 3), load<f64>(cB + (e << 3)) + by);
      store<u8>(cFlags + e, load<u8>(cFlags + e) | F_BYTES);
    }
    if (s < load<u32>(cFirst + o)) store<u32>(cFirst + o, s);
    if (en > <u64>load<u32>(cLast + o)) store<u32>(cLast + o, <u32>en);
    store<u32>(cSports + o, load<u32>(cSports + o) | (<u32>1 << (fmix32(sport) & 31)));
    keepSmallest(cIface, 0, e, ifaceId);
    keepSmallest(cInstance, 1, e, instanceId);
    keepSmallest(cRegion, 2, e, regionId);
  }
}

/** The stage's record k has an IPv4-mapped address at `col` (four words a record). */
function v4At(col: u32, k: u32): bool {
  const a = col + (k << 4);
  return load<u32>(a) == 0 && load<u32>(a + 4) == 0 && load<u32>(a + 8) == 0xffff;
}

/** The outbound records among the stage's first n (its feed column staged alone: stageFeed). */
export function countOutbound(at: u32, stage: u32, n: u32): u32 {
  const feed = load<u32>(at + (L_STAGE << 2)) + stage * BEFORE_FEED;
  let c: u32 = 0;
  for (let k: u32 = 0; k < n; k++) c += (<u32>load<u8>(feed + k) >> 1) & 1;
  return c;
}

/**
 * addRun over the stage's records [from, n) (the layout at `at`, the stage `stage` records
 * long): the record it stopped at (n: none), which JavaScript adds before it calls again
 * from the next one. The entries (L_N) and the listed compares (L_COMPARE_COUNT) are written
 * back into the layout.
 */
export function addStaged(at: u32, stage: u32, from: u32, n: u32): u32 {
  bind(at);
  const base = load<u32>(at + (L_STAGE << 2));
  const src = base;
  const dst = src + stage * 16;
  const packets = dst + stage * 16;
  const bytes = packets + stage * 8;
  const start = bytes + stage * 8;
  const end = start + stage * 4;
  const account = end + stage * 4;
  const iface = account + stage * 4;
  const instance = iface + stage * 4;
  const region = instance + stage * 4;
  const dport = region + stage * 4;
  const sport = dport + stage * 2;
  const feed = sport + stage * 2;
  const proto = feed + stage;
  const cloud = proto + stage;
  lastEntry = -1;
  let k = from;
  for (; k < n; k++) {
    if ((load<u8>(feed + k) & FEED_OUTBOUND) == 0) continue;
    if (!v4At(src, k) || !v4At(dst, k)) break;
    const k4 = k << 2;
    const ac = load<u32>(accountMap + (load<u32>(account + k4) << 2));
    const ifaceId = load<u32>(stringMap + (load<u32>(iface + k4) << 2));
    const instanceId = load<u32>(stringMap + (load<u32>(instance + k4) << 2));
    const regionId = load<u32>(stringMap + (load<u32>(region + k4) << 2));
    if (ac == UNMAPPED || ifaceId == UNMAPPED || instanceId == UNMAPPED || regionId == UNMAPPED) break;
    const sA = load<u32>(src + (k << 4) + 12);
    const dA = load<u32>(dst + (k << 4) + 12);
    const epv = (<u32>load<u8>(cloud + k) << 30) | ac;
    const ppv = (<u32>load<u8>(proto + k) << 16) | <u32>load<u16>(dport + (k << 1));
    const s = load<u32>(start + k4);
    const w = <u32>Math.floor(<f64>s / seconds);
    const e = Adds.entryOf(0, 0, sA, epv, ppv, w, dA);
    if (e < 0) break;
    Adds.tally(<u32>e, load<f64>(packets + (k << 3)), load<f64>(bytes + (k << 3)), s, <u64>load<u32>(end + k4), <u32>load<u16>(sport + (k << 1)), ifaceId, instanceId, regionId);
  }
  store<u32>(at + (L_N << 2), count);
  store<u32>(at + (L_COMPARE_COUNT << 2), compareCount);
  return k;
}

// addRows: a replay block's outbound rows (src/engine/outbound-table.ts addBlockRun), read in
// the block's own columns, a span of them copied into this memory (outbound-adds.ts stageRows).
// Their slots follow the layout's first 27 (R_*): each column's address, the selected rows'
// numbers, the span's first row, which columns are wide, and the block's own index (a fresh
// block's keys are looked up there, not in the table's index: findOrAppend).
const R_FLAGS = 27; // u8: feed | cloud << 2 | ...
const R_AF = 28; // u8: bit 0 src IPv6, bit 1 dst IPv6
const R_SRC = 29; // u32
const R_DST = 30; // u32
const R_PROTO = 31; // u8
const R_DPORT = 32; // u16
const R_START = 33; // u32
const R_DUR = 34; // u32
const R_PACKETS = 35; // u32 (0xffffffff unknown) or f64 (NaN unknown): W_PACKETS
const R_BYTES = 36; // as packets: W_BYTES
const R_ACCOUNT = 37; // u16 or u32: W_ACCOUNT
const R_REGION = 38;
const R_SPORT = 39; // u16
const R_IFACE = 40;
const R_INSTANCE = 41;
const R_ROWS = 42; // i32: the selected rows' numbers in the block
const R_LO = 43; // the span's first row (the columns above start there)
const R_WIDE = 44; // W_* bits
const R_BATCH = 45; // the block's index: entry + 1 by the key's hash, 0 empty
const R_BMASK = 46;
const W_PACKETS: u32 = 1;
const W_BYTES: u32 = 2;
const W_ACCOUNT: u32 = 4;
const W_REGION: u32 = 8;
const W_IFACE: u32 = 16;
const W_INSTANCE: u32 = 32;

/** Slot `l` of the layout at `at`. */
function slotOf(at: u32, l: u32): u32 {
  return load<u32>(at + (l << 2));
}

/** Row i of an id column, u32 when `wide`, else u16. */
function idAt(col: u32, i: u32, wide: bool): u32 {
  return wide ? load<u32>(col + (i << 2)) : <u32>load<u16>(col + (i << 1));
}

/** Row i of a count column (row-codec.ts countAt): NaN where unknown. */
function countOf(col: u32, i: u32, wide: bool): f64 {
  if (wide) return load<f64>(col + (i << 3));
  const x = load<u32>(col + (i << 2));
  return x == 0xffffffff ? NaN : <f64>x;
}

/** outbound-table.ts findOrAppend of an IPv4 key: the entry among the block's, or a new one; -1 where JavaScript is to take the record. */
function findOrAppend(batch: u32, bmask: u32, sA: u32, epv: u32, ppv: u32, w: u32, dA: u32): i32 {
  const h = fmix32(mix(mix(mix(mix(mix(mix(0x1b873593, sA), epv), ppv), w), dA), 0));
  let slot = h & bmask;
  for (;;) {
    const v = load<u32>(batch + (slot << 2));
    if (v == 0) break;
    const e = v - 1;
    const o = e << 2;
    if (((load<u32>(cSrc + o) ^ sA) | (load<u32>(cEp + o) ^ epv) | (load<u32>(cPp + o) ^ ppv) | (load<u32>(cWin + o) ^ w) | (load<u32>(cDst + o) ^ dA) | (<u32>load<u8>(cFlags + e) & 12)) == 0) return <i32>e;
    slot = (slot + 1) & bmask;
  }
  if (count >= limit || count >= cap) return -1;
  const e = newEntry(sA, epv, ppv, w, dA);
  store<u32>(batch + (slot << 2), e + 1);
  return <i32>e;
}

/**
 * addBlockRun over the selected rows [from, n) (the layout at `at`): the row it stopped at (n:
 * none), which JavaScript adds before it calls again from the next one: a row with an IPv6
 * address, a string not mapped yet, a new key and no room. Entries (L_N) and compares
 * (L_COMPARE_COUNT) are written back, as addStaged's.
 */
export function addRows(at: u32, from: u32, n: u32): u32 {
  bind(at);
  const flags = slotOf(at, R_FLAGS);
  const af = slotOf(at, R_AF);
  const src = slotOf(at, R_SRC);
  const dst = slotOf(at, R_DST);
  const proto = slotOf(at, R_PROTO);
  const dport = slotOf(at, R_DPORT);
  const start = slotOf(at, R_START);
  const dur = slotOf(at, R_DUR);
  const packets = slotOf(at, R_PACKETS);
  const bytes = slotOf(at, R_BYTES);
  const account = slotOf(at, R_ACCOUNT);
  const region = slotOf(at, R_REGION);
  const sport = slotOf(at, R_SPORT);
  const iface = slotOf(at, R_IFACE);
  const instance = slotOf(at, R_INSTANCE);
  const rows = slotOf(at, R_ROWS);
  const lo = slotOf(at, R_LO);
  const wide = slotOf(at, R_WIDE);
  const batch = slotOf(at, R_BATCH);
  const bmask = slotOf(at, R_BMASK);
  const wP = (wide & W_PACKETS) != 0;
  const wB = (wide & W_BYTES) != 0;
  const wA = (wide & W_ACCOUNT) != 0;
  const wR = (wide & W_REGION) != 0;
  const wI = (wide & W_IFACE) != 0;
  const wN = (wide & W_INSTANCE) != 0;
  lastEntry = -1;
  let j = from;
  for (; j < n; j++) {
    const i = load<u32>(rows + (j << 2)) - lo;
    if (load<u8>(af + i) != 0) break;
    const ac = load<u32>(accountMap + (idAt(account, i, wA) << 2));
    const ifaceId = load<u32>(stringMap + (idAt(iface, i, wI) << 2));
    const instanceId = load<u32>(stringMap + (idAt(instance, i, wN) << 2));
    const regionId = load<u32>(stringMap + (idAt(region, i, wR) << 2));
    if (ac == UNMAPPED || ifaceId == UNMAPPED || instanceId == UNMAPPED || regionId == UNMAPPED) break;
    const i4 = i << 2;
    const sA = load<u32>(src + i4);
    const dA = load<u32>(dst + i4);
    const epv = (((<u32>load<u8>(flags + i) >> 2) & 3) << 30) | ac;
    const ppv = (<u32>load<u8>(proto + i) << 16) | <u32>load<u16>(dport + (i << 1));
    const s = load<u32>(start + i4);
    const w = <u32>Math.floor(<f64>s / seconds);
    const e = Adds.entryOf(batch, bmask, sA, epv, ppv, w, dA);
    if (e < 0) break;
    // the end as JavaScript's sum (addBlockRun's st + dur: past 2^32 it compares unwrapped, stores wrapped)
    Adds.tally(<u32>e, countOf(packets, i, wP), countOf(bytes, i, wB), s, <u64>s + <u64>load<u32>(dur + i4), <u32>load<u16>(sport + (i << 1)), ifaceId, instanceId, regionId);
  }
  store<u32>(at + (L_N << 2), count);
  store<u32>(at + (L_COMPARE_COUNT << 2), compareCount);
  return j;
}
