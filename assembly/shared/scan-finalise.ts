// AssemblyScript, exported by assembly/scan-held.ts (the table's own module: finalised in
// its memory, in a room after the index). The numeric part of the inbound table's finalisation
// (src/engine/scan-finalise.ts, driven by src/engine/scan-finalise-wasm.ts): the entries
// sorted by source bucket, grouped by scan key one bucket at a time, and each key of at
// least minTuples entries folded into its features (endpoints, clouds, accounts, regions,
// sums, first and last, the three coefficients of variation) and its endpoints. JavaScript
// lays the memory out (setLayout), calls bucket() once a bucket and makes verdict objects of
// the keys it wrote.
//
// Why here: a `detect` run finalises once, so the JavaScript loops ran mostly before V8 had
// optimised them (about twice their warm cost). WebAssembly is compiled before it runs, and
// a call a bucket (thousands of calls) lets V8 tier the functions up after the first few.
//
// Every figure is the JavaScript one bit for bit: the same f64 operations in the same order
// (an endpoint's sums over its entries in table order, the totals over endpoints in
// (account, dst, family) order, Welford over the sorted values), and the same key order
// (first appearance in the bucket, buckets ascending). A scans-only run (scansOnly) first
// decides each candidate key's rules without sorting its entries (MayScan: CVs within a
// margin, as src/detect/rules.ts cvAtMost), and sorts and folds only the keys that may pass.

import { sortItems } from './sort';

// entry layout (src/engine/scan-layout.ts): nine u32 words and two f64 sums
const ENTRY_BYTES_U: u32 = 36;
const ENTRY_BYTES_D: u32 = 16;
const SRC: u32 = 0; // byte offsets of the words
const PP: u32 = 4;
const WIN: u32 = 8;
const EP: u32 = 12;
const DST: u32 = 16;
const RF: u32 = 20;
const FLOWS: u32 = 24;
const FIRST: u32 = 28;
const LAST: u32 = 32;
const F_PACKETS: u32 = 1;
const F_BYTES: u32 = 2;
const F_SRC6: u32 = 4;
const F_DST6: u32 = 8;
const FLAG_BITS: u32 = 0xf;
const BUCKET_SHIFT: u32 = 20;
const BUCKETS: u32 = 4096;

/** A key's record (src/engine/scan-finalise-wasm.ts KEY_*): u32 words 0..9, then f64 slots 5..10. */
const KEY_BYTES: u32 = 96;
/** An endpoint's row: its first entry, cloud+account, dst, dst family (u32 each). */
const ENDPOINT_BYTES: u32 = 16;

// the layout, as JavaScript set it (setLayout)
let uAt: u32 = 0;
let dAt: u32 = 0;
let startAt: u32 = 0; // BUCKETS + 1 i32: bucket b's entries are order[start[b], start[b + 1])
let orderAt: u32 = 0;
let scratch: u32 = 0; // entries a bucket may have here (a larger bucket is left to JavaScript)
let slotsAt: u32 = 0; // 2 × scratch i32
let keyFirstAt: u32 = 0; // the rest: scratch each
let keyCountAt: u32 = 0;
let keyOfAt: u32 = 0;
let offsetAt: u32 = 0; // scratch + 1
let listAt: u32 = 0;
let recAt: u32 = 0; // 16 bytes each
let regionAt: u32 = 0;
let fvAt: u32 = 0;
let pvAt: u32 = 0;
let bvAt: u32 = 0;
let keysAt: u32 = 0;
let endpointsAt: u32 = 0;
let tmpAt: u32 = 0; // the sorts' other buffer, 16 bytes each
let minTuples: u32 = 1;
let minEndpoints: u32 = 0;
/**
 * The rules (src/detect/rules.ts failedConditions) of the keys written: every key of
 * minEndpoints endpoints (keepAll: near misses asked for, or no rules given), else scans only.
 */
class Rules {
  static keepAll: bool = true;
  static minAccounts: f64 = 0;
  static minRegions: f64 = 0;
  static minClouds: f64 = 0;
  static maxCvPackets: f64 = 0;
  static maxCvBytes: f64 = 0;
  static maxCvFlows: f64 = 0;
}
/** keys a bucket() call wrote */
let written: u32 = 0;

export function setLayout(u: u32, d: u32, start: u32, order: u32, at: u32, entries: u32, tuples: u32, endpoints: u32): void {
  uAt = u;
  dAt = d;
  startAt = start;
  orderAt = order;
  scratch = entries;
  slotsAt = at;
  keyFirstAt = slotsAt + entries * 8;
  keyCountAt = keyFirstAt + entries * 4;
  keyOfAt = keyCountAt + entries * 4;
  offsetAt = keyOfAt + entries * 4;
  listAt = offsetAt + entries * 4 + 16;
  recAt = listAt + entries * 4;
  regionAt = recAt + entries * 16;
  fvAt = regionAt + entries * 4;
  pvAt = fvAt + entries * 8;
  bvAt = pvAt + entries * 8;
  keysAt = bvAt + entries * 8;
  endpointsAt = keysAt + entries * KEY_BYTES;
  tmpAt = endpointsAt + entries * ENDPOINT_BYTES;
  minTuples = tuples;
  minEndpoints = endpoints;
  Rules.keepAll = true;
}

/**
 * Only scans written from now on: keys that pass every rule (src/detect/rules.ts
 * failedConditions, the same compares on the same f64 values; endpoints >= minEndpoints
 * holds for every key written). A key is dropped at its first failed rule, before the
 * features that rule does not need (on the 7 M-record bucket 708 of the 11,730 such keys
 * are scans; the others fail on the packets' or bytes' CV), mostly before its entries are
 * sorted by endpoint (MayScan), and JavaScript makes nothing of it.
 */
export function scansOnly(accounts: f64, regions: f64, clouds: f64, cvPackets: f64, cvBytes: f64, cvFlows: f64): void {
  Rules.keepAll = false;
  Rules.minAccounts = accounts;
  Rules.minRegions = regions;
  Rules.minClouds = clouds;
  Rules.maxCvPackets = cvPackets;
  Rules.maxCvBytes = cvBytes;
  Rules.maxCvFlows = cvFlows;
}

/** Bytes setLayout takes from `at` for a scratch of `entries`. */
export function scratchBytes(entries: u32): u32 {
  return entries * (8 + 4 * 4 + 4 + 16 + 4 + 3 * 8 + KEY_BYTES + ENDPOINT_BYTES + 16) + 16;
}

export function keysWritten(): u32 {
  return written;
}

/** Where setLayout put the key records and the endpoint rows. */
export function keysAddress(): u32 {
  return keysAt;
}

export function endpointsAddress(): u32 {
  return endpointsAt;
}

/**
 * The entries of windows <= upto sorted by bucket into order (each bucket in entry order),
 * start set, in calls over ranges of entries (src/engine/scan-finalise-wasm.ts sortByBucket):
 * sortBegin, sortCount over every range, sortStarts, sortPlace over every range in order.
 * One call over all entries ran in Liftoff to its end (WebAssembly has no on-stack
 * replacement: 15-18 ms of the 7 M-record bucket's serial tail); in ranges, those after V8's
 * tier-up run TurboFan code. sortCount notes each entry's bucket (NO_BUCKET: a window past
 * upto) in two bytes, in the scratch past the slots (keyFirstAt: 2 bytes an entry fit there,
 * the scratch being at least an eighth of the table's room at ~200 bytes an entry), so that
 * sortPlace reads those, not the table's entries (36 bytes of words each) a second time.
 */
const NO_BUCKET: u32 = 0xffff;

export function sortBegin(): void {
  memory.fill(startAt, 0, (BUCKETS + 1) << 2);
}

/** Counts entries from .. to of windows <= upto into their buckets' start[b + 1], each one's bucket noted: their number. */
export function sortCount(from: u32, to: u32, upto: u32): u32 {
  let m: u32 = 0;
  for (let e = from; e < to; e++) {
    const ew = uAt + e * ENTRY_BYTES_U;
    let b = NO_BUCKET;
    if (load<u32>(ew, WIN) <= upto) {
      b = load<u32>(ew, RF) >>> BUCKET_SHIFT;
      const at = startAt + ((b + 1) << 2);
      store<u32>(at, load<u32>(at) + 1);
      m++;
    }
    store<u16>(keyFirstAt + (e << 1), <u16>b);
  }
  return m;
}

/** The counts summed into the bucket starts, and each bucket's next place in the slots (a bucket's grouping reuses them later). */
export function sortStarts(): void {
  for (let b: u32 = 0; b < BUCKETS; b++) {
    const at = startAt + ((b + 1) << 2);
    store<u32>(at, load<u32>(at) + load<u32>(at - 4));
  }
  memory.copy(slotsAt, startAt, BUCKETS << 2);
}

/** Writes entries from .. to (their buckets noted by sortCount) into order, each at its bucket's next place. */
export function sortPlace(from: u32, to: u32): void {
  for (let e = from; e < to; e++) {
    const b = <u32>load<u16>(keyFirstAt + (e << 1));
    if (b == NO_BUCKET) continue;
    const at = slotsAt + (b << 2);
    const place = load<u32>(at);
    store<u32>(at, place + 1);
    store<u32>(orderAt + (place << 2), e);
  }
}

// A static method, not a decorated function: eslint parses a method's decorator (as aws-lines.ts DottedQuad).
class KeyHash {
  /** The hash of a scan key gathered at `r` (bucket: src, protocol and port, window, F_SRC6 or 0). */
  @inline
  static of(r: u32): u32 {
    return KeyHash.words(load<u32>(r), load<u32>(r, 4), load<u32>(r, 8), load<u32>(r, 12));
  }

  /** Four words' hash, for the module's tables (scan keys here, MayScan's endpoints and accounts). */
  @inline
  static words(a: u32, b: u32, c: u32, d: u32): u32 {
    let h = a * 0x9e3779b1;
    h = (h ^ b) * 0x85ebca6b;
    h = (h ^ c) * 0xc2b2ae35;
    h ^= d;
    h ^= h >>> 15;
    h *= 0x2c1b3c6d;
    return h ^ (h >>> 13);
  }
}

/**
 * Groups bucket b's entries by scan key (src, protocol, dst port, window) and writes each
 * key of at least minTuples entries and minEndpoints endpoints (keysWritten of them, in the
 * order the keys first appear) with its endpoints. Returns the bucket's distinct keys, or
 * -1 when the bucket has more entries than the scratch (JavaScript finalises it then).
 */
export function bucket(b: u32): i32 {
  const from = load<u32>(startAt + (b << 2));
  const m = load<u32>(startAt + ((b + 1) << 2)) - from;
  written = 0;
  if (m > scratch) return -1;
  let size: u32 = 16;
  while (size < m * 2) size <<= 1;
  memory.fill(slotsAt, 0, size << 2);
  const mask = size - 1;
  const ids = orderAt + (from << 2);
  // the entries' scan keys gathered first, 16 bytes each at recAt (foldKey's records later): the
  // entries lie scattered over the table, a cache miss each, and these loads depend on nothing
  // before them, so the misses overlap; the grouping below then reads the copy
  for (let j: u32 = 0; j < m; j++) {
    const x = uAt + load<u32>(ids + (j << 2)) * ENTRY_BYTES_U;
    const r = recAt + (j << 4);
    store<u32>(r, load<u32>(x, SRC));
    store<u32>(r, load<u32>(x, PP), 4);
    store<u32>(r, load<u32>(x, WIN), 8);
    store<u32>(r, (load<u32>(x, RF) >>> 16) & F_SRC6, 12);
  }
  let keys: u32 = 0;
  for (let j: u32 = 0; j < m; j++) {
    const r = recAt + (j << 4);
    const key = v128.load(r);
    let slot = KeyHash.of(r) & mask;
    for (;;) {
      const k1 = load<u32>(slotsAt + (slot << 2));
      if (k1 == 0) {
        // a key's first position (its key's record, to compare against)
        store<u32>(keyFirstAt + (keys << 2), j);
        store<u32>(keyCountAt + (keys << 2), 1);
        store<u32>(keyOfAt + (j << 2), keys);
        keys++;
        store<u32>(slotsAt + (slot << 2), keys);
        break;
      }
      if (!v128.any_true(v128.xor(v128.load(recAt + (load<u32>(keyFirstAt + ((k1 - 1) << 2)) << 4)), key))) {
        const at = keyCountAt + ((k1 - 1) << 2);
        store<u32>(at, load<u32>(at) + 1);
        store<u32>(keyOfAt + (j << 2), k1 - 1);
        break;
      }
      slot = (slot + 1) & mask;
    }
  }
  // the candidate keys' entries, contiguous per key (a counting sort, in entry order)
  let total: u32 = 0;
  for (let k: u32 = 0; k < keys; k++) {
    store<u32>(offsetAt + (k << 2), total);
    const c = load<u32>(keyCountAt + (k << 2));
    if (c >= minTuples) total += c;
  }
  store<u32>(offsetAt + (keys << 2), total);
  if (total == 0) return <i32>keys;
  // keyFirst is free now: each key's next place
  memory.copy(keyFirstAt, offsetAt, keys << 2);
  for (let j: u32 = 0; j < m; j++) {
    const k = load<u32>(keyOfAt + (j << 2));
    if (load<u32>(keyCountAt + (k << 2)) < minTuples) continue;
    const at = keyFirstAt + (k << 2);
    const place = load<u32>(at);
    store<u32>(at, place + 1);
    store<u32>(listAt + (place << 2), load<u32>(ids + (j << 2)));
  }
  let endpoints: u32 = 0;
  for (let k: u32 = 0; k < keys; k++) {
    const c = load<u32>(keyCountAt + (k << 2));
    if (c < minTuples) continue;
    endpoints = foldKey(listAt + (load<u32>(offsetAt + (k << 2)) << 2), c, endpoints);
  }
  return <i32>keys;
}

/**
 * One key's features from its m entries at `list` (entry order): written as the next key
 * record (with its endpoints from row `endpoints` on) when it has minEndpoints endpoints
 * (scans only: when it passes every rule). Returns the endpoint rows used.
 */
function foldKey(list: u32, m: u32, endpoints: u32): u32 {
  if (!Rules.keepAll && !MayScan.key(list, m)) return endpoints;
  return foldSorted(list, m, endpoints);
}

/**
 * Whether a key might be a scan, decided before foldSorted's sort of its entries by endpoint
 * (~95 % of the candidate keys of a scans-only run fail a CV rule: on the 7 M-record bucket
 * 11,022 of 11,730, a third of the candidates' entries). False only where foldSorted would
 * write nothing: every figure it tests is made here from the same values in the same order
 * where its result depends on the order, or is within a margin of the exact one.
 */
class MayScan {
  /**
   * The key's endpoints (cloud+account, dst, family) grouped in a hash table (slotsAt: free
   * once bucket() has grouped the keys) in order of first entry, each one's sums over its
   * entries in entry order (as foldSorted's, whose sort is stable: the same f64 values),
   * then the rules as foldSorted tests them, the CVs' within cvFar's margin.
   */
  static key(list: u32, m: u32): bool {
    let size: u32 = 16;
    while (size < m * 2) size <<= 1;
    // endpoint slots in the key slots (2 × scratch u32), account slots in the sorts' buffer (16 bytes × scratch): size <= 2 × scratch
    memory.fill(slotsAt, 0, size << 2);
    memory.fill(tmpAt, 0, size << 2);
    const mask = size - 1;
    const accountSlots = tmpAt;
    let n: u32 = 0; // endpoints, in the records at recAt (cloud+account, dst, family, count flags)
    let accounts: u32 = 0;
    let clouds: u32 = 0;
    for (let j: u32 = 0; j < m; j++) {
      const x = load<u32>(list + (j << 2));
      const ew = uAt + x * ENTRY_BYTES_U;
      const ep = load<u32>(ew, EP);
      const dst = load<u32>(ew, DST);
      const rf = load<u32>(ew, RF) >>> 16;
      const fam = rf & F_DST6;
      let slot = KeyHash.words(ep, dst, fam, 0) & mask;
      let k1 = load<u32>(slotsAt + (slot << 2));
      while (k1 != 0) {
        const r = recAt + ((k1 - 1) << 4);
        if (load<u32>(r) == ep && load<u32>(r, 4) == dst && load<u32>(r, 8) == fam) break;
        slot = (slot + 1) & mask;
        k1 = load<u32>(slotsAt + (slot << 2));
      }
      const at = recAt + ((k1 == 0 ? n : k1 - 1) << 4);
      if (k1 == 0) {
        // the key's next endpoint
        store<u32>(at, ep);
        store<u32>(at, dst, 4);
        store<u32>(at, fam, 8);
        store<u32>(at, 0, 12);
        store<f64>(fvAt + (n << 3), 0);
        store<f64>(pvAt + (n << 3), 0);
        store<f64>(bvAt + (n << 3), 0);
        n++;
        store<u32>(slotsAt + (slot << 2), n);
        accounts += MayScan.newAccount(accountSlots, mask, ep, n);
        clouds |= 1 << (ep >>> 30);
      }
      const e = (at - recAt) >> 1; // the endpoint's f64 offset
      const ed = dAt + x * ENTRY_BYTES_D;
      store<f64>(fvAt + e, load<f64>(fvAt + e) + <f64>load<u32>(ew, FLOWS));
      if (rf & F_PACKETS) store<f64>(pvAt + e, load<f64>(pvAt + e) + load<f64>(ed));
      if (rf & F_BYTES) store<f64>(bvAt + e, load<f64>(bvAt + e) + load<f64>(ed, 8));
      store<u32>(at, load<u32>(at, 12) | (rf & (F_PACKETS | F_BYTES)), 12);
    }
    if (n < minEndpoints) return false;
    if (<f64>accounts < Rules.minAccounts || <f64>popcnt<u32>(clouds) < Rules.minClouds) return false;
    // the values of the endpoints that have them, moved to the front (foldSorted's pv, bv: the same multiset)
    let nP: u32 = 0;
    let nB: u32 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const has = load<u32>(recAt + (i << 4), 12);
      if (has & F_PACKETS) store<f64>(pvAt + (nP++ << 3), load<f64>(pvAt + (i << 3)));
      if (has & F_BYTES) store<f64>(bvAt + (nB++ << 3), load<f64>(bvAt + (i << 3)));
    }
    if (nP != 0 && cvFar(pvAt, nP, Rules.maxCvPackets) == CV_ABOVE) return false;
    if (nB != 0 && cvFar(bvAt, nB, Rules.maxCvBytes) == CV_ABOVE) return false;
    return cvFar(fvAt, n, Rules.maxCvFlows) != CV_ABOVE;
  }

  /** 1 when `ep` is not yet in the account slots (then put there as endpoint n's), else 0. */
  @inline
  static newAccount(slots: u32, mask: u32, ep: u32, n: u32): u32 {
    let slot = KeyHash.words(ep, 0, 0, 0) & mask;
    let k = load<u32>(slots + (slot << 2));
    while (k != 0) {
      if (load<u32>(recAt + ((k - 1) << 4)) == ep) return 0;
      slot = (slot + 1) & mask;
      k = load<u32>(slots + (slot << 2));
    }
    store<u32>(slots + (slot << 2), n);
    return 1;
  }
}

// cvFar's answers
const CV_ABOVE: i32 = 0;
const CV_NEAR: i32 = 1;
const CV_WITHIN: i32 = 2;
/** src/detect/rules.ts CV_MARGIN: many orders above the fold's rounding (~1e-10 for a million values near a CV of 0.5). */
const CV_MARGIN: f64 = 1e-6;
/**
 * 16 × 2^-52: with n values, the two folds' rounding (Welford's relative error in the variance
 * is ~n × 2^-53 × (1 + 1/cv^2)) is within n × CV_ROUNDING × (cv + 1/cv) of the CV: the margin
 * grows by that where a CV is tiny (a threshold near it then gets the exact CV).
 */
const CV_ROUNDING: f64 = 3.6e-15;

/**
 * The CV of n values (any order; left as they are) against `max`, as src/detect/rules.ts
 * cvAtMost decides it: Welford in the order given differs from the sorted values' CV (cv) by
 * rounding only, so a CV farther than CV_MARGIN (and CV_ROUNDING's bound) from max is above it (CV_ABOVE) or not
 * (CV_WITHIN) as the exact one; nearer, or not a positive finite number (a mean of 0 gives 0),
 * CV_NEAR (the caller then computes the exact one). A NaN max is never far: CV_NEAR.
 */
function cvFar(values: u32, n: u32, max: f64): i32 {
  const c = welford(values, n);
  if (!(isFinite(c) && c > 0 && Math.abs(c - max) > CV_MARGIN * (1 + max) + <f64>n * CV_ROUNDING * (c + 1 / c))) return CV_NEAR;
  return c <= max ? CV_WITHIN : CV_ABOVE;
}

/**
 * foldKey's exact path: the entries sorted by endpoint, each endpoint's sums and the key's
 * features, its rules (scans only), the key record and its endpoint rows.
 */
function foldSorted(list: u32, m: u32, endpoints: u32): u32 {
  // (cloud+account, dst) high, (family, position) low: ties in position order, as the stable sort
  for (let j: u32 = 0; j < m; j++) {
    const ew = uAt + load<u32>(list + (j << 2)) * ENTRY_BYTES_U;
    const r = recAt + (j << 4);
    store<u64>(r, (<u64>load<u32>(ew, EP) << 32) | <u64>load<u32>(ew, DST));
    store<u64>(r, (<u64>((load<u32>(ew, RF) >>> 16) & F_DST6) << 32) | <u64>j, 8);
  }
  sortRecords(recAt, m);
  const k = keysAt + written * KEY_BYTES;
  const rows = endpointsAt + endpoints * ENDPOINT_BYTES;
  let n: u32 = 0; // endpoints
  let clouds: u32 = 0;
  let accounts: u32 = 0;
  let flows: f64 = 0;
  let packets: f64 = 0;
  let bytes: f64 = 0;
  let nP: u32 = 0;
  let nB: u32 = 0;
  let first: u32 = 0xffffffff;
  let last: u32 = 0;
  let prevEp: i32 = -1;
  for (let j: u32 = 0; j < m; ) {
    const hi = load<u64>(recAt + (j << 4));
    const fam = <u32>(load<u64>(recAt + (j << 4), 8) >> 32);
    const epv = <u32>(hi >> 32);
    if (<i32>epv != prevEp) {
      accounts++;
      prevEp = <i32>epv;
    }
    clouds |= 1 << (epv >>> 30);
    let fe: f64 = 0;
    let pe: f64 = 0;
    let be: f64 = 0;
    let hasP = false;
    let hasB = false;
    let q = j;
    for (; q < m; q++) {
      const r = recAt + (q << 4);
      const lo = load<u64>(r, 8);
      if (load<u64>(r) != hi || <u32>(lo >> 32) != fam) break;
      const x = load<u32>(list + (<u32>lo << 2));
      const ew = uAt + x * ENTRY_BYTES_U;
      const ed = dAt + x * ENTRY_BYTES_D;
      const fl = (load<u32>(ew, RF) >>> 16) & FLAG_BITS;
      fe += <f64>load<u32>(ew, FLOWS);
      if (fl & F_PACKETS) {
        pe += load<f64>(ed);
        hasP = true;
      }
      if (fl & F_BYTES) {
        be += load<f64>(ed, 8);
        hasB = true;
      }
      const fs = load<u32>(ew, FIRST);
      const ls = load<u32>(ew, LAST);
      if (fs < first) first = fs;
      if (ls > last) last = ls;
      store<u32>(regionAt + (q << 2), ((epv >>> 30) << 16) | (load<u32>(ew, RF) & 0xffff));
    }
    const row = rows + n * ENDPOINT_BYTES;
    store<u32>(row, load<u32>(list + (<u32>load<u64>(recAt + (j << 4), 8) << 2)));
    store<u32>(row, epv, 4);
    store<u32>(row, <u32>hi, 8);
    store<u32>(row, fam, 12);
    store<f64>(fvAt + (n << 3), fe);
    if (hasP) store<f64>(pvAt + (nP++ << 3), pe);
    if (hasB) store<f64>(bvAt + (nB++ << 3), be);
    flows += fe;
    packets += pe;
    bytes += be;
    n++;
    j = q;
  }
  if (n < minEndpoints) return endpoints; // neither a scan nor a near miss: nothing written
  const cloudCount = popcnt<u32>(clouds);
  // the rules' compares as failedConditions makes them (`!(cv <= max)`: a NaN fails), each as soon as its feature is known
  const all = Rules.keepAll;
  if (!all && (<f64>accounts < Rules.minAccounts || <f64>cloudCount < Rules.minClouds)) return endpoints;
  const cvP = nP == 0 ? 0 : cv(pvAt, nP);
  if (!all && nP != 0 && !(cvP <= Rules.maxCvPackets)) return endpoints;
  const cvB = nB == 0 ? 0 : cv(bvAt, nB);
  if (!all && nB != 0 && !(cvB <= Rules.maxCvBytes)) return endpoints;
  const cvF = cv(fvAt, n);
  if (!all && !(cvF <= Rules.maxCvFlows)) return endpoints;
  sortU32(regionAt, m);
  let regions: u32 = 0;
  for (let j: u32 = 0; j < m; j++) if (j == 0 || load<u32>(regionAt + (j << 2)) != load<u32>(regionAt + ((j - 1) << 2))) regions++;
  if (!all && <f64>regions < Rules.minRegions) return endpoints;
  store<u32>(k, load<u32>(list)); // the key's first entry
  store<u32>(k, n, 4);
  store<u32>(k, cloudCount, 8);
  store<u32>(k, accounts, 12);
  store<u32>(k, regions, 16);
  store<u32>(k, nP, 20);
  store<u32>(k, nB, 24);
  store<u32>(k, first, 28);
  store<u32>(k, last, 32);
  store<u32>(k, endpoints, 36);
  store<f64>(k, flows, 40);
  store<f64>(k, packets, 48);
  store<f64>(k, bytes, 56);
  store<f64>(k, cvP, 64);
  store<f64>(k, cvB, 72);
  store<f64>(k, cvF, 80);
  written++;
  return endpoints + n;
}

/** src/detect/rules.ts coefficientOfVariation: sorted ascending, then Welford, the same operations. */
function cv(values: u32, n: u32): f64 {
  if (n == 0) return 0;
  sortF64(values, n);
  return welford(values, n);
}

/** The CV of n > 0 values in the order they lie (0 where their mean is 0): coefficientOfVariation's fold. */
function welford(values: u32, n: u32): f64 {
  let mean: f64 = 0;
  let m2: f64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const x = load<f64>(values + (i << 3));
    const d = x - mean;
    mean += d / <f64>(i + 1);
    m2 += d * (x - mean);
  }
  if (mean == 0) return 0;
  const variance = m2 / <f64>n;
  return Math.sqrt(variance > 0 ? variance : 0) / mean;
}

/** foldKey's 16-byte records: (cloud+account, dst) high, (family, position) low. */
function sortRecords(at: u32, n: u32): void {
  sortItems<v128>(at, n, tmpAt);
}

function sortU32(at: u32, n: u32): void {
  sortItems<u32>(at, n, tmpAt);
}

// f64: the values are sums of counts (no NaN: a NaN count is unknown and not added), so `<` is a total order but for
// -0 and +0, which Welford treats alike
function sortF64(at: u32, n: u32): void {
  sortItems<f64>(at, n, tmpAt);
}
