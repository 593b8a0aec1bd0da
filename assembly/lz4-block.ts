// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/lz4-block.wasm; not part of
// tsc's build). One lz4 block decoded into linear memory, for replay blocks
// (src/replay/lz4-wasm.ts): lz4-napi returns a fresh Buffer a block (an allocation of the
// block's raw size and a native call), where this writes into memory the thread reuses.
//
// Input at `src` (`srcLen` bytes): lz4-napi's payload, the decompressed size as a u32
// little-endian, then one lz4 block (the standard block format: sequences of a token,
// literals, a 2-byte offset and a match length). Output at `dst`, `cap` bytes at most.
// Returns the decompressed size, or -1 when the block is damaged: a length running past the
// input or past `cap`, an offset of 0 or reaching before the output, trailing bytes, or a
// size other than the one stated. The caller leaves WILD (32) bytes of room after the input
// and after `dst + cap`: short copies move 16 bytes at a time and may write past a
// sequence's end (what they write there is overwritten by the next sequence, or lies past
// the output).

const WILD: u32 = 16;

export function decode(src: u32, srcLen: u32, dst: u32, cap: u32): i32 {
  if (srcLen < 4) return -1;
  const n = load<u32>(src);
  if (n > cap) return -1;
  let s = src + 4;
  const end = src + srcLen;
  let d = dst;
  const dEnd = dst + n;
  while (s < end) {
    const token = <u32>load<u8>(s++);
    let lit = token >> 4;
    if (lit == 15) {
      let b: u32;
      do {
        if (s >= end) return -1;
        b = <u32>load<u8>(s++);
        lit += b;
      } while (b == 255);
    }
    if (lit != 0) {
      if (lit > end - s || lit > dEnd - d) return -1;
      copyForward(d, s, lit);
      s += lit;
      d += lit;
      if (s == end) break; // the last sequence: literals only
    }
    if (end - s < 2) {
      if (s == end) break; // the last sequence without literals (an empty block's one token)
      return -1;
    }
    const off = <u32>load<u16>(s);
    s += 2;
    let ml = token & 15;
    if (ml == 15) {
      let b: u32;
      do {
        if (s >= end) return -1;
        b = <u32>load<u8>(s++);
        ml += b;
      } while (b == 255);
    }
    ml += 4;
    if (off == 0 || off > d - dst || ml > dEnd - d) return -1;
    copyMatch(d, d - off, ml, off);
    d += ml;
  }
  return d == dEnd ? <i32>n : -1;
}

/** `len` bytes from `from` to `to` (to ≤ from or no overlap), 16 at a time past the end. */
function copyForward(to: u32, from: u32, len: u32): void {
  if (len <= WILD) {
    v128.store(to, v128.load(from));
    return;
  }
  memory.copy(to, from, len);
}

/**
 * A match: `len` bytes from `off` bytes back, the copy overlapping itself when off < len.
 * Columns give many short offsets (runs of zero bytes, repeated 2- and 4-byte values): a
 * short pattern is written byte by byte once, then copied 8 bytes at a time from a whole
 * number of periods back.
 */
function copyMatch(to: u32, from: u32, len: u32, off: u32): void {
  if (off >= WILD) {
    if (len > 64 && off >= len) {
      memory.copy(to, from, len);
      return;
    }
    for (let i: u32 = 0; i < len; i += WILD) v128.store(to + i, v128.load(from + i));
    return;
  }
  if (off >= 8) {
    for (let i: u32 = 0; i < len; i += 8) store<u64>(to + i, load<u64>(from + i));
    return;
  }
  // runs of one repeated byte, 2-byte or 4-byte value (u16 and u32 columns): the pattern splatted
  if (off == 4 || off == 2 || off == 1) {
    const run = off == 4 ? i32x4.splat(load<i32>(from)) : off == 2 ? i16x8.splat(load<i16>(from)) : i8x16.splat(load<i8>(from));
    for (let i: u32 = 0; i < len; i += WILD) v128.store(to + i, run);
    return;
  }
  const head = len < 8 ? len : 8;
  for (let i: u32 = 0; i < head; i++) store<u8>(to + i, load<u8>(from + i));
  const period = off * ((8 + off - 1) / off); // a multiple of off, 8 to 14
  for (let i: u32 = 8; i < len; i += 8) store<u64>(to + i, load<u64>(to + i - period));
}

// ---------------------------------------------------------------------------------------------
// Small keys of a replay block's entry rows, in the memory the block was decoded into: the
// loop of src/engine/scan-ingest.ts longRuns (its JavaScript twin, kept for an install without
// this module), here so that no worker's isolate compiles it (V8 compiles a module's code once
// a process; JavaScript is compiled again in each worker: bench/RESULTS.md, branch replay4).
// Columns are addresses in this memory (ids u16, or u32 where `wide`); the long runs' ranges
// (from, to, IPv6 sources and destinations before from) go to `out`, 4 i32 a run, with room
// for one more than the runs; `scratch` holds a short run's rows (32 bytes a row).

let keysCounted: i32 = 0;
let entriesCounted: i32 = 0;
let shortKeys: i32 = 0;

/** The small keys the last smallRuns counted. */
export function smallKeys(): i32 {
  return keysCounted;
}

/** Their distinct entries. */
export function smallEntries(): i32 {
  return entriesCounted;
}

/**
 * longRuns's pass: the runs of inbound rows of one source, protocol and port; a run of fewer
 * than `below` rows (and at most `shortRun`) counted into smallKeys / smallEntries, the others'
 * ranges into `out`. Returns how many i32 it wrote, or -1 when a row sorts before the run
 * before it (the block is not in rows.ts entryOrder).
 */
export function smallRuns(
  n: u32, below: u32, shortRun: u32, seconds: f64, flags: u32, af: u32, src: u32, src6: u32, proto: u32, dport: u32,
  dst: u32, dst6: u32, start: u32, account: u32, accountWide: u32, region: u32, regionWide: u32, scratch: u32, out: u32,
): i32 {
  let ranges: u32 = 0;
  let keys: i32 = 0;
  let entries: i32 = 0;
  let ks: u32 = 0;
  let kd: u32 = 0;
  let runFrom: i32 = -1;
  let runTo: u32 = 0;
  let runKs: u32 = 0;
  let runKd: u32 = 0;
  let runRows: u32 = 0;
  let r3: u32 = 0;
  let r2: u32 = 0;
  let r1: u32 = 0;
  let r0: u32 = 0;
  let rp: u32 = 0;
  for (let i: u32 = 0; i <= n; i++) {
    let w3: u32 = 0;
    let w2: u32 = 0xffff;
    let w1: u32 = 0;
    let w0: u32 = 0;
    let pp: u32 = 0;
    let a: u32 = 0;
    if (i < n) {
      a = <u32>load<u8>(af + i);
      if ((load<u8>(flags + i) & 1) == 0) {
        ks += a & 1;
        kd += (a >> 1) & 1;
        continue;
      }
      if (a & 1) {
        const o = src6 + 16 * ks;
        w0 = load<u32>(o);
        w1 = load<u32>(o, 4);
        w2 = load<u32>(o, 8);
        w3 = load<u32>(o, 12);
      } else w3 = load<u32>(src + 4 * i);
      pp = (<u32>load<u8>(proto + i) << 16) | <u32>load<u16>(dport + 2 * i);
      if (runFrom >= 0 && w3 == r3 && w2 == r2 && w1 == r1 && w0 == r0 && pp == rp) {
        runRows++;
        runTo = i + 1;
        ks += a & 1;
        kd += (a >> 1) & 1;
        continue;
      }
      if (runFrom >= 0 && before(w3, w2, w1, w0, pp, r3, r2, r1, r0, rp)) return -1;
    }
    const long = runRows >= below || runRows > shortRun;
    if (long) {
      const o = out + 4 * ranges;
      store<i32>(o, runFrom);
      store<u32>(o, runTo, 4);
      store<u32>(o, runKs, 8);
      store<u32>(o, runKd, 12);
      ranges += 4;
    } else if (runRows == 1) {
      keys++;
      entries++;
    } else if (runRows > 1) {
      entries += runEntries(<u32>runFrom, runTo, runKd, seconds, flags, af, dst, dst6, start, account, accountWide, region, regionWide, scratch);
      keys += shortKeys;
    }
    runFrom = <i32>i;
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
    kd += (a >> 1) & 1;
  }
  keysCounted = keys;
  entriesCounted = entries;
  return <i32>ranges;
}

/** Whether (w3 .. w0, pp) sorts before (r3 .. r0, rp), as entryOrder sorts: the words unsigned, w3 first. */
function before(w3: u32, w2: u32, w1: u32, w0: u32, pp: u32, r3: u32, r2: u32, r1: u32, r0: u32, rp: u32): bool {
  if (w3 != r3) return w3 < r3;
  if (w2 != r2) return w2 < r2;
  if (w1 != r1) return w1 < r1;
  if (w0 != r0) return w0 < r0;
  return pp < rp;
}

/**
 * A short run's inbound rows [from, to) (kd: IPv6 destinations before from): its distinct
 * entries, and its keys into shortKeys (scan-ingest.ts countShortRun and distinctInRun). A
 * row's key is its window and source family; its entry adds cloud, account, destination
 * and its family, and region.
 */
function runEntries(
  from: u32, to: u32, kd: u32, seconds: f64, flags: u32, af: u32, dst: u32, dst6: u32, start: u32,
  account: u32, accountWide: u32, region: u32, regionWide: u32, scratch: u32,
): i32 {
  // scratch: window, kind, account, region at 0, 64, 128, 192 (16 rows of u32), destinations at 256
  let m: u32 = 0;
  for (let i = from; i < to; i++) {
    const a = <u32>load<u8>(af + i);
    const f = <u32>load<u8>(flags + i);
    if ((f & 1) == 0) {
      kd += (a >> 1) & 1;
      continue;
    }
    const at = scratch + 4 * m;
    store<u32>(at, <u32>Math.floor(<f64>load<u32>(start + 4 * i) / seconds));
    store<u32>(at, (f & 12) | (a & 3), 64);
    store<u32>(at, accountWide ? load<u32>(account + 4 * i) : <u32>load<u16>(account + 2 * i), 128);
    store<u32>(at, regionWide ? load<u32>(region + 4 * i) : <u32>load<u16>(region + 2 * i), 192);
    const d = scratch + 256 + 16 * m++;
    if (a & 2) {
      v128.store(d, v128.load(dst6 + 16 * kd++));
    } else {
      store<u64>(d, 0);
      store<u32>(d, 0xffff, 8);
      store<u32>(d, load<u32>(dst + 4 * i), 12);
    }
  }
  let keys: i32 = 0;
  let entries: i32 = 0;
  for (let j: u32 = 0; j < m; j++) {
    const pj = scratch + 4 * j;
    const dj = v128.load(scratch + 256 + 16 * j);
    let newKey = 1;
    let newEntry = 1;
    for (let q: u32 = 0; q < j; q++) {
      const pq = scratch + 4 * q;
      const kindDiff = load<u32>(pq, 64) ^ load<u32>(pj, 64);
      const key = (load<u32>(pq) ^ load<u32>(pj)) | (kindDiff & 1);
      const entry = key | kindDiff | (load<u32>(pq, 128) ^ load<u32>(pj, 128)) | (load<u32>(pq, 192) ^ load<u32>(pj, 192)) |
        <u32>v128.any_true(v128.xor(v128.load(scratch + 256 + 16 * q), dj));
      if (key == 0) newKey = 0;
      if (entry == 0) newEntry = 0;
    }
    keys += newKey;
    entries += newEntry;
  }
  shortKeys = keys;
  return entries;
}

// ---------------------------------------------------------------------------------------------
// blockRows's checks of a block decoded here (src/replay/row-codec.ts): the IPv6 rows of each
// address, and the largest id of its four id columns (u16, or u32 where `wide`), 16 rows a step.

let v6Src: i32 = 0;
let v6Dst: i32 = 0;

/** The rows with an IPv6 source the last blockIds counted. */
export function v6Sources(): i32 {
  return v6Src;
}

/** The rows with an IPv6 target. */
export function v6Targets(): i32 {
  return v6Dst;
}

/** The IPv6 rows of `af` (bit 0: source, bit 1: target) into v6Sources / v6Targets; returns the largest id of a .. d. */
export function blockIds(n: u32, af: u32, a: u32, aWide: u32, b: u32, bWide: u32, c: u32, cWide: u32, d: u32, dWide: u32): u32 {
  let s: u32 = 0;
  let t: u32 = 0;
  let i: u32 = 0;
  for (; i + 16 <= n; i += 16) {
    const v = v128.load(af + i);
    s += <u32>popcnt<i32>(i8x16.bitmask(i8x16.shl(v, 7)));
    t += <u32>popcnt<i32>(i8x16.bitmask(i8x16.shl(v, 6)));
  }
  for (; i < n; i++) {
    const x = <u32>load<u8>(af + i);
    s += x & 1;
    t += (x >> 1) & 1;
  }
  v6Src = <i32>s;
  v6Dst = <i32>t;
  return max(max(largest(a, aWide, n), largest(b, bWide, n)), max(largest(c, cWide, n), largest(d, dWide, n)));
}

/** The largest of n u16 (or u32 where wide) at p. */
function largest(p: u32, wide: u32, n: u32): u32 {
  let i: u32 = 0;
  if (wide) {
    let v = i32x4.splat(0);
    for (; i + 4 <= n; i += 4) v = i32x4.max_u(v, v128.load(p + 4 * i));
    let m: u32 = max(max(<u32>i32x4.extract_lane(v, 0), <u32>i32x4.extract_lane(v, 1)), max(<u32>i32x4.extract_lane(v, 2), <u32>i32x4.extract_lane(v, 3)));
    for (; i < n; i++) m = max(m, load<u32>(p + 4 * i));
    return m;
  }
  let v = i16x8.splat(0);
  for (; i + 8 <= n; i += 8) v = i16x8.max_u(v, v128.load(p + 2 * i));
  v = i16x8.max_u(v, i8x16.shuffle(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  v = i16x8.max_u(v, i8x16.shuffle(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15));
  v = i16x8.max_u(v, i8x16.shuffle(v, v, 2, 3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  let m = <u32>i16x8.extract_lane_u(v, 0);
  for (; i < n; i++) m = max(m, <u32>load<u16>(p + 2 * i));
  return m;
}

// ---------------------------------------------------------------------------------------------
// src/replay/entry-rows.ts checkEntryCounts's pass over an entry-rows block decoded here: the
// records its rows stand for, in all and by feed (flags bit 0 inbound, bit 1 outbound).

let recordsAll: f64 = 0;
let recordsIn: f64 = 0;
let recordsOut: f64 = 0;

/** The records the last entrySums summed: all. */
export function entryRecords(): f64 {
  return recordsAll;
}

/** Those of inbound rows. */
export function entryInbound(): f64 {
  return recordsIn;
}

/** Those of outbound rows. */
export function entryOutbound(): f64 {
  return recordsOut;
}

/** Sums the u32 counts at `flows` by feed; returns the first row that stands for no record, or an outbound row for more than one, else -1. */
export function entrySums(n: u32, flags: u32, flows: u32): i32 {
  let all: u64 = 0;
  let inb: u64 = 0;
  let outb: u64 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const c = <u64>load<u32>(flows + 4 * i);
    const f = <u32>load<u8>(flags + i);
    all += c;
    inb += c * <u64>(f & 1);
    outb += c * <u64>((f >> 1) & 1);
    if (c == 0 || (c > 1 && (f & 2) != 0)) return <i32>i;
  }
  recordsAll = <f64>all;
  recordsIn = <f64>inb;
  recordsOut = <f64>outb;
  return -1;
}

// ---------------------------------------------------------------------------------------------
// src/replay/block.ts readBlockHeader's common case: a block header (msgpack) that repeats the
// structure of one read before (the thread's last, `known`): the same containers, strings, nil
// and booleans byte for byte, and numbers where it has numbers, whatever their widths. The
// numbers are written as f64 at `out` in the order they come; the caller builds the header
// from the known one's strings and these. The header reader in JavaScript
// (src/replay/header-unpack.ts) was compiled by TurboFan again in every shard thread; this
// module's code is compiled once a process.

/**
 * Reads the header at `h` (`hLen` bytes) against the known one at `known` (`kLen` bytes):
 * returns how many numbers it wrote at `out`, or -1 when the header does not repeat the
 * known one's structure, or holds a type the JavaScript reader leaves to msgpackr.
 */
export function repeatHeader(h: u32, hLen: u32, known: u32, kLen: u32, out: u32): i32 {
  const hEnd = h + hLen;
  const kEnd = known + kLen;
  let n: i32 = 0;
  while (h < hEnd) {
    if (known >= kEnd) return -1;
    const t = <u32>load<u8>(h);
    const w = numberBytes(t);
    if (w > 0) {
      const kw = numberBytes(<u32>load<u8>(known));
      if (kw == 0 || w > hEnd - h || kw > kEnd - known) return -1;
      store<f64>(out + 8 * <u32>n, numberAt(h, t));
      n++;
      h += w;
      known += kw;
      continue;
    }
    const len = tokenBytes(h, t, hEnd);
    if (len == 0 || len > kEnd - known) return -1;
    for (let k: u32 = 0; k < len; k++) if (load<u8>(h + k) != load<u8>(known + k)) return -1;
    h += len;
    known += len;
  }
  return known == kEnd ? n : -1;
}

/** Bytes of a number whose type byte is t (header-unpack.ts reads these: fixints, 8-32 bit integers, float64), 0 for other types. */
function numberBytes(t: u32): u32 {
  if (t < 0x80 || t >= 0xe0) return 1;
  if (t == 0xcc || t == 0xd0) return 2;
  if (t == 0xcd || t == 0xd1) return 3;
  if (t == 0xce || t == 0xd2) return 5;
  if (t == 0xcb) return 9;
  return 0;
}

/** The number at p (type byte t, numberBytes(t) > 0), big-endian as msgpack writes it. */
function numberAt(p: u32, t: u32): f64 {
  if (t < 0x80) return <f64>t;
  if (t >= 0xe0) return <f64>(<i32>t - 0x100);
  if (t == 0xcc) return <f64>load<u8>(p + 1);
  if (t == 0xcd) return <f64>bswap<u16>(load<u16>(p + 1));
  if (t == 0xce) return <f64>bswap<u32>(load<u32>(p + 1));
  if (t == 0xd0) return <f64>load<i8>(p + 1);
  if (t == 0xd1) return <f64><i16>bswap<u16>(load<u16>(p + 1));
  if (t == 0xd2) return <f64><i32>bswap<u32>(load<u32>(p + 1));
  return reinterpret<f64>(bswap<u64>(load<u64>(p + 1)));
}

/**
 * Bytes of a token that must repeat byte for byte (type byte t at p): a container's head
 * (fixmap, fixarray, array16, map16), a string with its bytes (fixstr, str8, str16), nil or a
 * boolean; 0 for any other type, or a token running past `end`.
 */
function tokenBytes(p: u32, t: u32, end: u32): u32 {
  let len: u32 = 0;
  if (t < 0xa0 || t == 0xc0 || t == 0xc2 || t == 0xc3) len = 1;
  else if (t < 0xc0) len = 1 + (t & 0x1f);
  else if (t == 0xdc || t == 0xde) len = 3;
  else if (t == 0xd9) len = end - p >= 2 ? 2 + <u32>load<u8>(p + 1) : 0;
  else if (t == 0xda) len = end - p >= 3 ? 3 + <u32>bswap<u16>(load<u16>(p + 1)) : 0;
  return len <= end - p ? len : 0;
}
