// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/gcp-lines.wasm; not part of
// tsc's build). The GCP NDJSON fast path (src/formats/gcp-fast.ts GcpFastPath.read) for a
// window of lines at once: each line ended by '\n' is trimmed as parseJsonLines trims it
// (json-doc.ts), and a LogEntry written plainly gets its grammar checked and the reader's
// fields picked out into a row: the string spans, the integer fields and the flags of the
// objects it needs. Every line the JavaScript fast path would not take (an escape, a control
// byte, a field of an unusual type, a key the reader acts on twice, a top-level `message`,
// nesting past MAX_DEPTH, any syntax error) is marked not taken: src/formats/gcp.ts reads it
// with the full walk, which accepts or rejects it as it does today (test/gcp-wasm.test.ts
// compares both paths byte for byte).
//
// The key table (which key of which object means what) is written into memory by the
// caller (src/formats/gcp-wasm.ts) from gcp-fast.ts's KEYS: one definition.
//
// A simple row (a flow worked out here) is then routed as the sink's emit routes a record,
// where the sink allows it (assembly/shared/route.ts): counted alone, handed to emit, or
// given its shard and its batch columns written into that shard's area (R_ROUTE, R_FEED).
//
// Memory (byte offsets chosen by the caller): the key table at `tablePtr` (T_* below),
// the window at `inPtr` (32 bytes of slack after it for vector loads: Shape.differ reads two
// chunks from a value's start), the rows at `out`
// (ROW_BYTES each: i32 slots, then the integer fields as f64), scratch at `scratch` (1 KiB,
// filled with 0xff once by the caller: the foreseen keys start unknown; then SHAPES_SCRATCH
// bytes for the line shapes, zero at first), the routing block
// at `routePtr` and the shards' areas where its settings say.

// a simple row's fate, as src/flow/sink.ts emit would decide it (the AWS reader's routing too)
import { ROUTE_DONE, ROUTE_EMIT, areasPtr, endRouting, fixAreaIds, routeFlow, routedFeed, startRouting, toArea, toAreaIds } from './shared/route';
// a simple row's strings as the sink's dictionary ids (the AWS reader's table)
import { fixedId, idOfToken, newFrom, startTokens, tokenCount } from './shared/token-ids';

// the key table: candidates by (box, length), PER_LEN i16 each (-1 after the last), then
// each key's action (i32), each key's bytes' offset in the table (i32) and length (i32), then the bytes
const MAX_KEY: u32 = 32;
const PER_LEN: u32 = 6;
const BOXES: u32 = 12;
const MAX_KEYS: u32 = 64;
const T_ACTION: u32 = BOXES * MAX_KEY * PER_LEN * 2;
const T_KEY_AT: u32 = T_ACTION + MAX_KEYS * 4;
const T_KEY_LEN: u32 = T_KEY_AT + MAX_KEYS * 4;
/** each key's first sixteen bytes of key + '":' and their mask (32 bytes a key), for sameKey */
const T_PAT: u32 = T_KEY_LEN + MAX_KEYS * 4;

// what a key asks of its value (gcp-fast.ts STR, INT, OBJ, BAIL)
const STR: i32 = 0x100;
const INT: i32 = 0x200;
const OBJ: i32 = 0x300;
const BAIL: i32 = 0x400;
const KIND: i32 = 0xf00;

// boxes (gcp-fast.ts Box)
const B_OTHER: u32 = 0;
const B_ENTRY: u32 = 1;
const B_PAYLOAD: u32 = 2;
const B_CONNECTION: u32 = 3;
const B_SRC_INSTANCE: u32 = 4;
const B_DST_INSTANCE: u32 = 5;

// a row: i32 slots, then N_INTS f64 from ROW_INTS
const FIELDS: u32 = 26; // gcp-fast.ts G.count
const N_INTS: u32 = 6; // gcp-fast.ts N.count
const R_LINE: u32 = 0; // the line's first byte (absolute: base added)
const R_NL: u32 = 4; // its '\n'
const R_TS: u32 = 8; // the trimmed line's start
const R_TE: u32 = 12; // and end
const R_FLAGS: u32 = 16; // ROW_* bits
const R_DIRECTION: u32 = 20; // a ROW_SIMPLE row's direction (0 unknown, 1 ingress, 2 egress)
const R_SPAN_S: u32 = 24; // FIELDS i32: a string's start, -1 when absent
const R_SPAN_E: u32 = R_SPAN_S + FIELDS * 4; // FIELDS i32: its end
const R_SRC_V4: u32 = R_SPAN_E + FIELDS * 4; // u32: src_ip as IPv4 (ROW_SRC_V4)
const R_DST_V4: u32 = R_SRC_V4 + 4; // u32: dest_ip as IPv4 (ROW_DST_V4)
// a ROW_SIMPLE row's account, region and instance strings (start, end; -1: the file's default, or none)
const R_ACCOUNT: u32 = R_DST_V4 + 4;
const R_REGION: u32 = R_ACCOUNT + 8;
const R_INSTANCE: u32 = R_REGION + 8;
// a simple row's route (its shard, ROUTE_DONE or ROUTE_EMIT) and Feed bits with its slot in its shard's area (feed | slot << 2)
const R_ROUTE: u32 = R_INSTANCE + 8;
const R_FEED: u32 = R_ROUTE + 4;
// a simple row's account, region and instance as the sink's dictionary ids (idsOfRow; with the ids on), then a spare slot
const R_IDS: u32 = R_FEED + 4;
const ROW_START: u32 = R_IDS + 16; // f64: start_time in Unix seconds (gcp.ts rfc3339Seconds), NaN when absent or not RFC 3339
const ROW_END: u32 = ROW_START + 8; // f64: end_time, the same
const ROW_INTS: u32 = ROW_END + 8; // N_INTS f64: -1 when absent
export const ROW_BYTES: u32 = ROW_INTS + N_INTS * 8;

// row flags (src/formats/gcp-wasm.ts RowFlag)
const ROW_TAKEN: i32 = 1;
const ROW_BLANK: i32 = 2;
const ROW_PAYLOAD: i32 = 4;
const ROW_CONNECTION: i32 = 8;
const ROW_SRC_INSTANCE: i32 = 16;
const ROW_DST_INSTANCE: i32 = 32;
const ROW_SRC_V4: i32 = 64; // src_ip is a dotted quad, in R_SRC_V4 (else gcp.ts parses it)
const ROW_DST_V4: i32 = 128;
const ROW_SIMPLE: i32 = 256; // a flow whose record the module worked out (gcp.ts toRecord): R_DIRECTION, R_ACCOUNT...
const ROW_DUPLICATE: i32 = 512; // a ROW_SIMPLE row that is the SRC copy of a flow between two VMs
// a ROW_SIMPLE row's account (region, instance) is present and the same bytes as the last
// simple row's of this call that had one: the caller reuses that row's id
const ROW_ACCOUNT_SAME: i32 = 1024;
const ROW_REGION_SAME: i32 = 2048;
const ROW_INSTANCE_SAME: i32 = 4096;

// the string fields read here (gcp-fast.ts G)
const G_SRC_IP: u32 = 0;
const G_DST_IP: u32 = 1;
const G_REPORTER: u32 = 2;
const G_START: u32 = 3;
const G_END: u32 = 4;
const G_SRC_PROJECT: u32 = 5; // then srcRegion, srcVm, srcZone
const G_DST_PROJECT: u32 = 9; // then dstRegion, dstVm, dstZone
const G_SRC_VPC_PROJECT: u32 = 13; // srcVpcRegion 14, dstVpcProject 15, dstVpcRegion 16
const G_SRC_GW_PROJECT: u32 = 17; // srcGwLocation 18, srcGwName 19, dstGwProject 20, dstGwLocation 21, dstGwName 22
const G_RES_PROJECT: u32 = 23;
const G_LOG_NAME: u32 = 24;
const N_SRC_PORT: u32 = 0; // gcp-fast.ts N
const N_DST_PORT: u32 = 1;
const N_PROTOCOL: u32 = 2;
const N_BYTES: u32 = 3;
const N_PACKETS: u32 = 4;

const MAX_DEPTH: u32 = 64;

// foreseeing keys (gcp-fast.ts next, alt): slots of a key, an object's start, an unnamed key
const START: u32 = MAX_KEYS;
const UNNAMED: u32 = START + BOXES;

let table: u32 = 0;
// an open container's state at its depth while a nested one is open (readEntry keeps the innermost's in locals)
let boxAt: u32 = 0; // MAX_DEPTH bytes: its box
let arrayAt: u32 = 0; // MAX_DEPTH bytes: 1 when it is an array
let lastKeyAt: u32 = 0; // MAX_DEPTH i16: the slot of the key read last in it
let nextAt: u32 = 0; // i16 a slot: the key that followed it last time (-1: not known; the caller fills -1 once)
let altAt: u32 = 0; // i16 a slot: the one before that, when it differed
let rowFlags: i32 = 0;

/**
 * JSON whitespace but '\n': a line's entry is read up to the window's end, and never past its
 * own '\n' (nothing else does: strings stop at control bytes), which ends it.
 */
function isSpace(c: u32): bool {
  return c <= 32 && (c == 32 || c == 13 || c == 9); // one compare for the usual byte
}

/** Where readEntry's entry closed (after its '}'), and the '\n' that ends its line. */
let entryEnd: u32 = 0;
let entryNewline: u32 = 0;

/** Sixteen bytes classed at once. */
class Chunk {
  /**
   * The bytes of v that end a plain string ('"', '\\' or below 0x20) as a bitmask. A byte
   * x ^ 2 is at most 0x20 exactly where x is a control byte or '"' (0x22), and an unsigned
   * "at most" is a min and an equality (x86 has no unsigned byte compare: lt_u was a max, an
   * equality and a negation, its all-ones made each time).
   */
  @inline
  static ends(v: v128): u32 {
    const x = v128.xor(v, i8x16.splat(2));
    return <u32>i8x16.bitmask(v128.or(i8x16.eq(i8x16.min_u(x, i8x16.splat(32)), x), i8x16.eq(v, i8x16.splat(92))));
  }

  /** The bytes of v that are ASCII digits, as a bitmask. */
  @inline
  static digits(v: v128): u32 {
    const d = i8x16.sub(v, i8x16.splat(48));
    return <u32>i8x16.bitmask(i8x16.eq(i8x16.min_u(d, i8x16.splat(9)), d));
  }
}

/**
 * [p, q) as a dotted quad as src/net/address.ts parseIPv4Bytes reads it, or -1 (aws-lines.ts
 * ipv4's answer): the token's sixteen bytes classed at once, and its form (three dots, each
 * part 1 to 3 digits, no leading zero) checked on the classes' bitmasks for all four parts
 * together, where ipv4 checks each part's length and leading zero as it values it.
 */
class Quad {
  static read(p: u32, q: u32): i64 {
    const n = q - p;
    if (n - 7 > 8) return -1; // 7 to 15 bytes
    const v = v128.load(p);
    const live = (<u32>1 << n) - 1;
    const dots = <u32>i8x16.bitmask(i8x16.eq(v, i8x16.splat(46))) & live;
    const digits = Chunk.digits(v) & live;
    if ((dots | digits) != live || popcnt(dots) != 3) return -1;
    // each part's first byte: none a dot or the end (an empty part), none a '0' with a digit after it
    const starts = (dots << 1) | 1;
    const zeros = <u32>i8x16.bitmask(i8x16.eq(v, i8x16.splat(48)));
    if ((starts & (dots | (live + 1))) != 0 || (starts & zeros & (digits >> 1)) != 0) return -1;
    // no four digits in a row
    if ((digits & (digits << 1) & (digits << 2) & (digits << 3)) != 0) return -1;
    const e0 = <u32>ctz(dots);
    const d1 = dots & (dots - 1);
    const e1 = <u32>ctz(d1);
    const e2 = <u32>ctz(d1 & (d1 - 1));
    const a = Quad.part(p, 0, e0);
    const b = Quad.part(p, e0 + 1, e1);
    const c = Quad.part(p, e1 + 1, e2);
    const d = Quad.part(p, e2 + 1, n);
    if ((a | b | c | d) > 255) return -1;
    return <i64>((a << 24) | (b << 16) | (c << 8) | d);
  }

  /** The value of the part [p + s, p + e) (1 to 3 digits: read checked): its digits shifted to the top of a three-byte word, the bytes before them zero. */
  @inline
  static part(p: u32, s: u32, e: u32): u32 {
    const w = ((load<u32>(p + s) - 0x30303030) << ((3 - (e - s)) << 3)) & 0xffffff;
    return (w & 0xff) * 100 + ((w >> 8) & 0xff) * 10 + (w >> 16);
  }
}

/** The first byte at or after q that ends a plain string ('"', '\\' or below 0x20), or e: sixteen at a time. */
function plainEnd(q: u32, e: u32): u32 {
  while (q < e) {
    const m = Chunk.ends(v128.load(q));
    if (m != 0) {
      const r = q + <u32>ctz(m);
      return r < e ? r : e;
    }
    q += 16;
  }
  return e;
}

/** The key table's keys. */
class Key {
  /**
   * True when the bytes at ks are key k, its closing '"' and a ':' (sixteen bytes at once,
   * then any more). Inlined (a static method, where eslint can parse the decorator): it runs
   * for nearly every member, and as a call it was a tenth of the module's time.
   */
  @inline
  static at(ks: u32, k: u32): bool {
    const pat = table + T_PAT + (k << 5);
    if (v128.any_true(v128.and(v128.xor(v128.load(ks), v128.load(pat)), v128.load(pat + 16)))) return false;
    const n = load<u32>(table + T_KEY_LEN + (k << 2)) + 2;
    if (n <= 16) return true;
    const kb = table + load<u32>(table + T_KEY_AT + (k << 2)); // the key's bytes, then '":'
    for (let i: u32 = 16; i < n; i++) if (load<u8>(ks + i) != load<u8>(kb + i)) return false;
    return true;
  }
}

/** The KEYS index of the n-byte key at ks among those of box bx, or -1. */
function keyIndex(ks: u32, n: u32, bx: u32): i32 {
  if (n >= MAX_KEY) return -1;
  const at = table + ((bx * MAX_KEY + n) * PER_LEN) * 2;
  for (let j: u32 = 0; j < PER_LEN; j++) {
    const k = <i32>load<i16>(at + j * 2);
    if (k < 0) break;
    const kb = table + load<u32>(table + T_KEY_AT + (<u32>k << 2));
    let same = true;
    let i: u32 = 0;
    for (; i + 8 <= n; i += 8) {
      if (load<u64>(ks + i) != load<u64>(kb + i)) {
        same = false;
        break;
      }
    }
    if (same) {
      for (; i < n; i++) {
        if (load<u8>(ks + i) != load<u8>(kb + i)) {
          same = false;
          break;
        }
      }
    }
    if (same) return k;
  }
  return -1;
}

/** Decimal digits [s, e) (1 to 15 of them) as gcp-fast.ts digitsOf reads them, or -1. */
function digitsOf(s: u32, e: u32): f64 {
  const n = e - s;
  if (n - 1 >= 15) return -1; // none, or more than 15
  if (n <= 8) {
    // up to eight digits (ports, counts) at once: no loop whose end changes from value to value
    const x = digitWord(s, n);
    // each byte at most 9, checked in the word already loaded (no vector load and bitmask):
    // a byte's low seven bits plus 0x76 reach 0x80 past 9 and never carry; or-ed with the byte
    // for the bytes from 0x80
    if (((((x & 0x7f7f7f7f7f7f7f7f) + 0x7676767676767676) | x) & 0x8080808080808080) != 0) return -1;
    return wordValue(x);
  }
  // in integers (exact: 15 digits are below 2^53), where a double's multiply and add were a
  // chain of ~8 cycles a digit
  let v: i64 = 0;
  for (let i = s; i < e; i++) {
    const c = <u32>load<u8>(i) - 48;
    if (c > 9) return -1;
    v = v * 10 + <i64>c;
  }
  return <f64>v;
}

/** The n (1 to 8) bytes at s less '0', moved to the top bytes (the first lowest), zeros below them. */
function digitWord(s: u32, n: u32): u64 {
  return (load<u64>(s) ^ 0x3030303030303030) << <u64>((8 - n) << 3);
}

/** The value of a digitWord whose bytes are all at most 9. */
function wordValue(x: u64): f64 {
  x = x * 10 + (x >> 8);
  x = ((x & 0x00ff00ff00ff00ff) * 6553601) >> 16;
  return <f64>(((x & 0x0000ffff0000ffff) * 42949672960001) >> 32);
}

function isDigit(c: u32): bool {
  return c - 48 <= 9;
}

/** The end of the JSON number at p (RFC 8259 grammar), or 0 (p is never 0: the window is above the table). */
function numberEnd(p: u32, e: u32): u32 {
  if (load<u8>(p) == 45) p++;
  if (p >= e) return 0;
  if (load<u8>(p) == 48) p++;
  else {
    const f = p;
    while (p < e && isDigit(load<u8>(p))) p++;
    if (p == f) return 0;
  }
  if (p < e && load<u8>(p) == 46) {
    const f = ++p;
    while (p < e && isDigit(load<u8>(p))) p++;
    if (p == f) return 0;
  }
  if (p < e && (load<u8>(p) == 101 || load<u8>(p) == 69)) {
    p++;
    if (p < e && (load<u8>(p) == 43 || load<u8>(p) == 45)) p++;
    const f = p;
    while (p < e && isDigit(load<u8>(p))) p++;
    if (p == f) return 0;
  }
  return p;
}

/** A row's fields. */
class Row {
  /**
   * Every string field absent (span start -1) and every integer field -1, sixteen bytes a
   * store (the last also sets the first two span ends, which count only where a start is set).
   */
  @inline
  static clear(row: u32): void {
    const none = i32x4.splat(-1);
    for (let at: u32 = R_SPAN_S; at < R_SPAN_S + FIELDS * 4; at += 16) v128.store(row + at, none);
    const minusOne = f64x2.splat(-1);
    for (let at: u32 = ROW_INTS; at < ROW_INTS + N_INTS * 8; at += 16) v128.store(row + at, minusOne);
  }
}

/** The reader's flag for an object it needs, when it is not empty (gcp-fast.ts opened). */
function opened(bx: u32): void {
  if (bx == B_PAYLOAD) rowFlags |= ROW_PAYLOAD;
  else if (bx == B_CONNECTION) rowFlags |= ROW_CONNECTION;
  else if (bx == B_SRC_INSTANCE) rowFlags |= ROW_SRC_INSTANCE;
  else if (bx == B_DST_INSTANCE) rowFlags |= ROW_DST_INSTANCE;
}

/**
 * GcpFastPath.read of the LogEntry that starts at s and is all of its line (trimmed), the
 * window ending at e, its fields into the row at `row` (spans with `delta` added): true when
 * taken (entryEnd, entryNewline set), false when the full walk is to read it.
 */
function readEntry(s: u32, e: u32, row: u32, delta: i32): bool {
  Row.clear(row);
  rowFlags = 0;
  shapeValues = 0;
  let seen: u64 = 0;
  if (load<u8>(s) != 123) return false;
  // the container at depth d in locals (its box, whether an array, the slot of the key read
  // last in it); the enclosing ones' kept in scratch at their depths while it is open
  let d: u32 = 0;
  let bx: u32 = B_ENTRY;
  let arr: u32 = 0;
  let last: u32 = START + B_ENTRY;
  let p = s + 1;
  let c: u32 = 0;
  while (p < e && isSpace((c = load<u8>(p)))) p++;
  if (c == 125 && p < e) return false; // an empty LogEntry: the full walk names it
  for (;;) {
    // ---- a member: key, ':', value (p at the key's '"')
    if (p >= e || load<u8>(p) != 34) return false;
    const ks = p + 1;
    let q: u32;
    let want: i32 = 0;
    if (bx != B_OTHER) {
      // the key that followed the last one last time (or the time before) is compared at once
      const at = last << 1;
      let k = <i32>load<i16>(nextAt + at);
      if (k >= 0 && !Key.at(ks, k)) {
        const a = <i32>load<i16>(altAt + at);
        if (a >= 0 && Key.at(ks, a)) {
          store<i16>(altAt + at, <i16>k);
          store<i16>(nextAt + at, <i16>a);
          k = a;
        } else k = -1;
      }
      if (k >= 0) q = ks + load<u32>(table + T_KEY_LEN + (<u32>k << 2));
      else {
        q = plainEnd(ks, e);
        if (q >= e || load<u8>(q) != 34) return false;
        k = keyIndex(ks, q - ks, bx);
        const was = <i32>load<i16>(nextAt + at);
        if (was >= 0 && was != k) store<i16>(altAt + at, <i16>was);
        store<i16>(nextAt + at, <i16>k);
      }
      if (k >= 0) {
        want = load<i32>(table + T_ACTION + (<u32>k << 2));
        if (want != 0) {
          const bit = <u64>1 << <u64>k;
          if ((seen & bit) != 0 || want == BAIL) return false;
          seen |= bit;
        }
        last = <u32>k;
      } else last = UNNAMED + bx;
    } else {
      q = plainEnd(ks, e);
      if (q >= e || load<u8>(q) != 34) return false;
    }
    p = q + 1;
    if (p < e && load<u8>(p) == 58) p++; // compact JSON: the ':' at once
    else {
      while (p < e && isSpace(load<u8>(p))) p++;
      if (p >= e || load<u8>(p) != 58) return false;
      p++;
    }
    // ---- a value (p after ':' or '[' or an array's ','); `want` says what the reader needs of it
    for (;;) {
      while (p < e && isSpace(load<u8>(p))) p++;
      if (p >= e) return false;
      c = load<u8>(p);
      const kind = want & KIND;
      if (c == 34) {
        q = plainEnd(p + 1, e);
        if (q >= e || load<u8>(q) != 34) return false;
        if (kind == STR) {
          const f = <u32>(want & 0xff) << 2;
          store<i32>(row + R_SPAN_S + f, <i32>(p + 1) + delta);
          store<i32>(row + R_SPAN_E + f, <i32>q + delta);
        } else if (kind == INT) {
          const v = digitsOf(p + 1, q);
          if (v < 0) return false;
          store<f64>(row + ROW_INTS + (<u32>(want & 0xff) << 3), v);
        } else if (kind != 0) return false;
        Shape.value(p + 1, q, want, V_STRING);
        p = q + 1;
      } else if (c == 123 || c == 91) {
        if (kind != 0 && !(kind == OBJ && c == 123)) return false;
        if (d + 1 >= MAX_DEPTH) return false;
        store<u8>(boxAt + d, <u8>bx);
        store<u8>(arrayAt + d, <u8>arr);
        store<i16>(lastKeyAt + (d << 1), <i16>last);
        d++;
        const nb = kind == OBJ ? <u32>(want & 0xff) : B_OTHER;
        bx = nb;
        arr = c == 91 ? 1 : 0;
        last = START + nb;
        p++;
        while (p < e && isSpace((c = load<u8>(p)))) p++;
        if (p >= e) return false;
        if (c == (arr != 0 ? 93 : 125)) {
          // an empty object or array: the reader's own objects are left to the full walk
          if (nb != B_OTHER) return false;
          d--;
          bx = <u32>load<u8>(boxAt + d);
          arr = <u32>load<u8>(arrayAt + d);
          last = <u32>load<i16>(lastKeyAt + (d << 1));
          p++;
        } else if (kind == OBJ) {
          opened(nb);
          break; // read the first member
        } else if (arr != 0) {
          want = 0;
          continue; // read the first element
        } else break;
      } else if (c == 45 || isDigit(c)) {
        if (kind == INT) {
          q = p;
          while (q < e && isDigit((c = load<u8>(q)))) q++;
          // no sign, fraction or exponent, no leading zero, at most 15 digits: exact
          if (q == p || q - p > 15 || (load<u8>(p) == 48 && q - p > 1) || c == 46 || c == 101 || c == 69) return false;
          store<f64>(row + ROW_INTS + (<u32>(want & 0xff) << 3), digitsOf(p, q));
          Shape.value(p, q, want, V_NUMBER);
          p = q;
        } else if (kind != 0) return false;
        else {
          q = numberEnd(p, e);
          if (q == 0) return false;
          Shape.value(p, q, 0, V_NUMBER);
          p = q;
        }
      } else if (kind != 0) return false;
      else if (c == 116 && p + 4 <= e && load<u8>(p + 1) == 114 && load<u8>(p + 2) == 117 && load<u8>(p + 3) == 101) p += 4;
      else if (c == 102 && p + 5 <= e && load<u8>(p + 1) == 97 && load<u8>(p + 2) == 108 && load<u8>(p + 3) == 115 && load<u8>(p + 4) == 101) p += 5;
      else if (c == 110 && p + 4 <= e && load<u8>(p + 1) == 117 && load<u8>(p + 2) == 108 && load<u8>(p + 3) == 108) p += 4;
      else return false;
      // ---- after a value: ',' or the end of its container (maybe several)
      if (load<u16>(p) == 0x222c && arr == 0) {
        // compact JSON's usual case: ',"' and the next member's key (p may pass e: the window's slack, checked there)
        p++;
        break;
      }
      let member = false;
      for (;;) {
        while (p < e && isSpace((c = load<u8>(p)))) p++;
        if (p >= e) return false;
        if (c == 44) {
          p++;
          if (arr != 0) {
            want = 0;
            break; // the next element
          }
          while (p < e && isSpace(load<u8>(p))) p++;
          member = true;
          break; // the next member
        }
        if (c != (arr != 0 ? 93 : 125)) return false;
        p++;
        if (d == 0) {
          // the LogEntry closed: only whitespace may follow, then the line's '\n'
          entryEnd = p;
          while (p < e && isSpace((c = load<u8>(p)))) p++;
          entryNewline = p;
          return p < e && c == 10;
        }
        d--;
        bx = <u32>load<u8>(boxAt + d);
        arr = <u32>load<u8>(arrayAt + d);
        last = <u32>load<i16>(lastKeyAt + (d << 1));
      }
      if (member) break; // a member follows
    }
  }
  return false; // not reached: every path above returns
}

// ---- Line shapes. A writer puts a LogEntry's keys in one order, with the same few sets of
// fields (reporter DEST or SRC, an instance or a location at each end...): a line's bytes
// are then a shape's fixed bytes (keys, punctuation, the quotes around string values)
// between its scalar values. A line readEntry took is kept as a shape: its values' kinds
// and wants, and the bytes between them. A later line is matched against a shape: each run
// of fixed bytes compared sixteen at a time, each value scanned as readEntry scans it (a
// plain string, a number of the JSON grammar, an integer the reader needs checked as it
// checks one). A line that matches has readEntry's tokens in readEntry's order, so
// readEntry would take it and set the same fields and flags (the shape's); any difference
// (another shape, spacing, an escape, a bad number) is a mismatch, and readEntry reads the
// line. Where two shapes start alike, a mismatch in one goes on in the other from there.

/** A value's kind in a shape: a string's bytes between its quotes, or a number. */
const V_STRING: u32 = 0;
const V_NUMBER: u32 = 1;
/** Shapes kept, values a shape holds at most, and the bytes a shape takes in scratch. */
const SHAPES: u32 = 8;
const SHAPE_VALUES: u32 = 96;
const SHAPE_BYTES: u32 = 16384;
// a shape: its values (u32), its flags (ROW_PAYLOAD...), then SHAPE_VALUES + 1 steps of 64
// bytes (the fixed bytes before value i: their offset in the shape and length; value i's
// want and kind; the mask of the bytes of their last sixteen-byte chunk; value i's foreseen
// length; the last step's bytes end the entry), then the fixed bytes
const H_VALUES: u32 = 0;
const H_FLAGS: u32 = 4;
const H_STEPS: u32 = 16;
const S_AT: u32 = 0;
const S_LEN: u32 = 4;
const S_WANT: u32 = 8;
const S_KIND: u32 = 12;
/** The masks of the fixed bytes' first two sixteen-byte chunks (for a step of up to 32 bytes: no loop, no branch on its length). */
const S_HEAD0: u32 = 16;
const S_HEAD1: u32 = 48;
/**
 * The value's length in the shape's line, foreseen for the lines that match it (u32; NONE
 * once a line's differed). A value's end found by a scan is a chain of dependent steps
 * (load, compare, mask, count) that each next value waits for; a foreseen end is the
 * shape's, and the check that the bytes agree is a branch the processor runs ahead of.
 */
const S_FORESEEN: u32 = 32;
const NONE: u32 = 0xffffffff;
const STEP_SHIFT: u32 = 6;
const H_BYTES: u32 = H_STEPS + ((SHAPE_VALUES + 1) << STEP_SHIFT);
/** Fixed bytes a shape holds at most (slack after them for vector loads: Shape.differ reads 32 bytes past a step's start, masked, within the scratch). */
const SHAPE_FIXED: u32 = SHAPE_BYTES - H_BYTES - 16;
/** After the shapes: the values readEntry met in its line (start, end, want, kind: 16 bytes each), then the steps two shapes share (u8 each pair). */
const REC_AT: u32 = SHAPES * SHAPE_BYTES;
const SHARED_AT: u32 = REC_AT + SHAPE_VALUES * 16;
/** The scratch bytes the shapes take (gcp-wasm.ts leaves room for them after the first KiB). */
export const SHAPES_SCRATCH: u32 = SHARED_AT + SHAPES * SHAPES;

let shapesAt: u32 = 0;
/** Shapes kept (they stay from call to call: the key table never changes), the next to replace, the last matched. */
let shapeCount: u32 = 0;
let shapeNext: u32 = 0;
let shapeLast: u32 = 0;
/** The values readEntry met in the line it reads; more than SHAPE_VALUES: the line is not kept. */
let shapeValues: u32 = 0;

class Shape {
  /** readEntry met a scalar value [s, e) (its want and kind). */
  @inline
  static value(s: u32, e: u32, want: i32, kind: u32): void {
    const n = shapeValues++;
    if (n >= SHAPE_VALUES) return;
    const at = shapesAt + REC_AT + (n << 4);
    store<u32>(at, s);
    store<u32>(at + 4, e);
    store<i32>(at + 8, want);
    store<u32>(at + 12, kind);
  }

  /** The line at s that readEntry took (up to entryEnd) kept as a shape, in place of the oldest when all are taken. True. */
  static learn(s: u32): bool {
    const n = shapeValues;
    if (n == 0 || n > SHAPE_VALUES || entryEnd - s - Shape.valueBytes(n) > SHAPE_FIXED) return true;
    const t = shapeNext;
    shapeNext = (t + 1) % SHAPES;
    if (shapeCount < SHAPES) shapeCount++;
    const base = shapesAt + t * SHAPE_BYTES;
    store<u32>(base + H_VALUES, n);
    store<i32>(base + H_FLAGS, rowFlags);
    let from = s;
    let at = H_BYTES;
    for (let i: u32 = 0; i <= n; i++) {
      const rec = shapesAt + REC_AT + (i << 4);
      const to = i < n ? load<u32>(rec) : entryEnd;
      const step = base + H_STEPS + (i << STEP_SHIFT);
      // the first two chunks' bytes that are the step's
      v128.store(step + S_HEAD0, Shape.mask(to - from));
      v128.store(step + S_HEAD1, Shape.mask(to - from > 16 ? to - from - 16 : 0));
      store<u32>(step + S_AT, at);
      store<u32>(step + S_LEN, to - from);
      store<i32>(step + S_WANT, i < n ? load<i32>(rec + 8) : 0);
      store<u32>(step + S_KIND, i < n ? load<u32>(rec + 12) : 0);
      store<u32>(step + S_FORESEEN, i < n ? load<u32>(rec + 4) - load<u32>(rec) : NONE);
      memory.copy(base + at, from, to - from);
      at += to - from;
      if (i < n) from = load<u32>(rec + 4);
    }
    for (let u: u32 = 0; u < shapeCount; u++) {
      const k = u == t ? n + 1 : Shape.sharedSteps(t, u);
      store<u8>(shapesAt + SHARED_AT + t * SHAPES + u, <u8>min(k, 255));
      store<u8>(shapesAt + SHARED_AT + u * SHAPES + t, <u8>min(k, 255));
    }
    shapeLast = t;
    return true;
  }

  /** The bytes of the n values readEntry met. */
  static valueBytes(n: u32): u32 {
    let b: u32 = 0;
    for (let i: u32 = 0; i < n; i++) {
      const rec = shapesAt + REC_AT + (i << 4);
      b += load<u32>(rec + 4) - load<u32>(rec);
    }
    return b;
  }

  /** How many first steps (fixed bytes, then a value of one kind and want) shapes t and u share. */
  static sharedSteps(t: u32, u: u32): u32 {
    const a = shapesAt + t * SHAPE_BYTES;
    const b = shapesAt + u * SHAPE_BYTES;
    const n = min(load<u32>(a + H_VALUES), load<u32>(b + H_VALUES));
    let i: u32 = 0;
    for (; i < n; i++) {
      const sa = a + H_STEPS + (i << STEP_SHIFT);
      const sb = b + H_STEPS + (i << STEP_SHIFT);
      const len = load<u32>(sa + S_LEN);
      if (len != load<u32>(sb + S_LEN) || load<u64>(sa + S_WANT) != load<u64>(sb + S_WANT) || memory.compare(a + load<u32>(sa + S_AT), b + load<u32>(sb + S_AT), len) != 0) break;
    }
    return i;
  }

  /** The first n bytes of a chunk (all sixteen when n >= 16). */
  static mask(n: u32): v128 {
    return i8x16.gt_u(i8x16.splat(<u8>min(n, 16)), i8x16(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }

  /**
   * The bytes where the n at p differ from the n at f (n >= 0; both readable 32 bytes past
   * n), or'ed into one chunk (all zero: the same): the first two chunks under the step's
   * masks at `step` (made with the shape), any more after them. Most steps are 10-32 bytes:
   * comparing two chunks always costs less than the mispredicted branches of a loop whose
   * count changes from step to step. The caller tests it with any_true (a boolean returned
   * and negated here cost TurboFan's code a few instructions more a step).
   */
  @inline
  static differ(p: u32, f: u32, n: u32, step: u32): v128 {
    let x = v128.or(
      v128.and(v128.xor(v128.load(p), v128.load(f)), v128.load(step + S_HEAD0)),
      v128.and(v128.xor(v128.load(p + 16), v128.load(f + 16)), v128.load(step + S_HEAD1)),
    );
    if (n > 32) x = v128.or(x, Shape.rest(p, f, n));
    return x;
  }

  /** The bytes of n (> 32) at p and f after their first 32 that differ (xor), or'ed together. */
  static rest(p: u32, f: u32, n: u32): v128 {
    const whole = n & ~15;
    let x = v128.and(v128.xor(v128.load(p + whole), v128.load(f + whole)), Shape.mask(n & 15));
    for (let i: u32 = 32; i < whole; i += 16) x = v128.or(x, v128.xor(v128.load(p + i), v128.load(f + i)));
    return x;
  }
}

/**
 * The n bytes at p (n < 32) are a plain string's, and the byte after them ends it: none of
 * them a '"', '\\' or control byte, and the next one of those. That it is the closing '"'
 * the fixed bytes that follow check (in every shape they start with it: a '\\' or control
 * byte there matches none, and readEntry reads the line). A string of another length is
 * scanned (a foreseen end past its end would have matched no shape).
 */
function plainTo(p: u32, n: u32): bool {
  const lo = Chunk.ends(v128.load(p));
  // most values are under sixteen bytes: their check needs no second chunk
  if (n < 16) return (lo & ((<u32>2 << n) - 1)) == <u32>1 << n;
  const hi = Chunk.ends(v128.load(p + 16));
  return ((lo | (hi << 16)) & ((<u32>2 << n) - 1)) == <u32>1 << n;
}

/**
 * The n bytes at p (1 <= n < 16) are digits with no leading zero, and the byte after them is
 * none: an integer the reader takes, and the number's bytes, when the byte after them ends
 * it. A '.', 'e' or 'E' there the fixed bytes that follow check (in every shape they start
 * with the ',', '}', ']' or space that ended the number in the shape's line: none of those
 * matches, and readEntry reads the line). A number of another length is scanned.
 */
function plainDigits(p: u32, n: u32): bool {
  const digits = Chunk.digits(v128.load(p));
  return (digits & ((<u32>2 << n) - 1)) == (<u32>1 << n) - 1 && (n == 1 || load<u8>(p) != 48);
}

/** Another shape than those in `tried` that shares the first i steps with shape t, or -1. */
function otherShape(t: u32, i: u32, tried: u32): i32 {
  for (let u: u32 = 0; u < shapeCount; u++) {
    if ((tried & (1 << u)) == 0 && <u32>load<u8>(shapesAt + SHARED_AT + t * SHAPES + u) >= i) return <i32>u;
  }
  return -1;
}

/**
 * readEntry of the LogEntry at s by a kept shape: true when the line matches one (its fields
 * into the row as readEntry sets them, rowFlags, entryEnd and entryNewline set), false
 * when readEntry is to read it.
 */
function byShape(s: u32, e: u32, row: u32, delta: i32): bool {
  if (shapeCount == 0) return false;
  Row.clear(row);
  let t = shapeLast;
  let tried: u32 = 1 << t;
  let base = shapesAt + t * SHAPE_BYTES;
  let n = load<u32>(base + H_VALUES);
  let p = s;
  let i: u32 = 0;
  for (;;) {
    const step = base + H_STEPS + (i << STEP_SHIFT);
    const len = load<u32>(step + S_LEN);
    if (p + len > e || v128.any_true(Shape.differ(p, base + load<u32>(step + S_AT), len, step))) {
      const u = otherShape(t, i, tried);
      if (u < 0) return false;
      t = <u32>u;
      tried |= 1 << t;
      base = shapesAt + t * SHAPE_BYTES;
      n = load<u32>(base + H_VALUES);
      continue;
    }
    p += len;
    if (i == n) break;
    const want = load<i32>(step + S_WANT);
    const kind = want & KIND;
    let q: u32;
    const foreseen = load<u32>(step + S_FORESEEN);
    if (load<u32>(step + S_KIND) == V_STRING) {
      // the fixed bytes that follow start with its closing '"': a string that stops early does not match them
      q = p + foreseen;
      if (foreseen >= 32 || !plainTo(p, foreseen)) {
        if (foreseen != NONE) store<u32>(step + S_FORESEEN, NONE);
        q = plainEnd(p, e);
      }
      if (kind == STR) {
        const f = <u32>(want & 0xff) << 2;
        store<i32>(row + R_SPAN_S + f, <i32>p + delta);
        store<i32>(row + R_SPAN_E + f, <i32>q + delta);
      } else if (kind == INT) {
        const v = digitsOf(p, q);
        if (v < 0) return false;
        store<f64>(row + ROW_INTS + (<u32>(want & 0xff) << 3), v);
      }
    } else if (foreseen < 16 && plainDigits(p, foreseen)) {
      // digits alone, as many as foreseen: an integer the reader takes, and where numberEnd ends
      q = p + foreseen;
      // plainDigits has checked them: up to eight are valued with no second check
      if (kind == INT) store<f64>(row + ROW_INTS + (<u32>(want & 0xff) << 3), foreseen - 1 < 8 ? wordValue(digitWord(p, foreseen)) : digitsOf(p, q));
    } else {
      if (foreseen != NONE) store<u32>(step + S_FORESEEN, NONE);
      if (kind == INT) {
        q = p;
        let c: u32 = 0;
        while (q < e && isDigit((c = load<u8>(q)))) q++;
        if (q == p || q - p > 15 || (load<u8>(p) == 48 && q - p > 1) || c == 46 || c == 101 || c == 69) return false;
        store<f64>(row + ROW_INTS + (<u32>(want & 0xff) << 3), digitsOf(p, q));
      } else {
        q = numberEnd(p, e);
        if (q == 0) return false;
      }
    }
    p = q;
    i++;
  }
  shapeLast = t;
  rowFlags = load<i32>(base + H_FLAGS);
  // only whitespace may follow, then the line's '\n'
  entryEnd = p;
  let c: u32 = 0;
  while (p < e && isSpace((c = load<u8>(p)))) p++;
  entryNewline = p;
  return p < e && c == 10;
}

/** Two ASCII digits at i as a number, or -1. */
function twoDigits(i: u32): i32 {
  const x = <i32>load<u8>(i) - 48;
  const y = <i32>load<u8>(i + 1) - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/** Days since 1970-01-01 of a civil date (gcp.ts daysFromCivil). */
function daysFromCivil(y0: i32, m: i32, d: i32): f64 {
  const y = <f64>(m <= 2 ? y0 - 1 : y0);
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor(<f64>(153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + <f64>d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

let lastDate: i32 = -1;
let lastDays: f64 = 0;
// the first sixteen bytes of the last time read whole ("2024-03-01T16:00": date, hour and
// minute, checked) and their seconds: an entry's start and end, and the next entries', share them
let lastHead: v128 = i32x4.splat(-1);
let lastHeadSeconds: f64 = 0;
// the seconds of lastHead's date and hour (NaN until a head is read whole: a head whose first
// fourteen bytes are the first lastHead's 0xff is not a time)
let lastHourSeconds: f64 = NaN;

/**
 * gcp.ts rfc3339Seconds of the string [s, e) (the byte at e is its closing '"', as in the
 * caller's buffer): Unix seconds, the fraction dropped, or NaN.
 */
function rfc3339(s: u32, e: u32): f64 {
  if (e - s < 19) return NaN;
  const head = v128.load(s);
  let base = lastHeadSeconds;
  const same = i8x16.bitmask(i8x16.eq(head, lastHead));
  if (same != 0xffff) {
    if ((same & 0x3fff) == 0x3fff) {
      // the date, the hour and its ':' are the last head's (checked then): the minute alone,
      // which changes from entry to entry where the date and hour do not
      const mi = twoDigits(s + 14);
      if (mi < 0 || mi > 59) return NaN;
      base = lastHourSeconds + <f64>(mi * 60);
    } else {
      base = headSeconds(s);
      if (isNaN(base)) return NaN;
      lastHourSeconds = base - <f64>(twoDigits(s + 14) * 60);
    }
    lastHead = head;
    lastHeadSeconds = base;
  }
  if (load<u8>(s + 16) != 58) return NaN;
  const sec = twoDigits(s + 17);
  if (sec < 0 || sec > 60) return NaN;
  let p = s + 19;
  if (load<u8>(p) == 46) {
    p++;
    const f = p;
    p = digitsEnd(p, e);
    if (p == f) return NaN;
  }
  let offset: f64 = 0;
  const z = load<u8>(p);
  if ((z == 90 || z == 122) && p + 1 == e) {
    // Z
  } else if ((z == 43 || z == 45) && p + 6 == e && load<u8>(p + 3) == 58) {
    const oh = twoDigits(p + 1);
    const om = twoDigits(p + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offset = <f64>((z == 43 ? 1 : -1) * (oh * 3600 + om * 60));
  } else if (p + 4 == e && z == 32 && load<u8>(p + 1) == 85 && load<u8>(p + 2) == 84 && load<u8>(p + 3) == 67) {
    // " UTC" (BigQuery)
  } else return NaN;
  return base + <f64>sec - offset;
}

/**
 * The first byte at or after p, before e, that is not a digit (e when none; the byte at e is
 * the string's closing '"'): sixteen at a time, since a time's fraction has nine digits and a
 * byte-at-a-time loop ending at an unforeseeable count was a fifth of the module's row work.
 */
function digitsEnd(p: u32, e: u32): u32 {
  while (p < e) {
    const v = v128.load(p);
    const other = ~Chunk.digits(v) & 0xffff;
    if (other != 0) {
      const r = p + <u32>ctz(other);
      return r < e ? r : e;
    }
    p += 16;
  }
  return e;
}

/** The date, hour and minute of an RFC 3339 time at s (its first sixteen bytes, checked as gcp.ts checks them) in Unix seconds, or NaN. */
function headSeconds(s: u32): f64 {
  if (load<u8>(s + 4) != 45 || load<u8>(s + 7) != 45 || load<u8>(s + 13) != 58) return NaN;
  const sep = load<u8>(s + 10);
  if (sep != 84 && sep != 116 && sep != 32) return NaN;
  const c = twoDigits(s);
  const yy = twoDigits(s + 2);
  const mo = twoDigits(s + 5);
  const d = twoDigits(s + 8);
  const h = twoDigits(s + 11);
  const mi = twoDigits(s + 14);
  // days in each month (a leap February's 29)
  const monthDays = mo == 2 ? 29 : mo == 4 || mo == 6 || mo == 9 || mo == 11 ? 30 : 31;
  if (c < 0 || yy < 0 || mo < 1 || mo > 12 || d < 1 || d > monthDays || h < 0 || h > 23 || mi < 0 || mi > 59) return NaN;
  const y = c * 100 + yy;
  // a file's entries share a few dates: the last one's days are kept
  const date = (y * 16 + mo) * 32 + d;
  let days = lastDays;
  if (date != lastDate) {
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return NaN;
    days = daysFromCivil(y, mo, d);
    lastDate = date;
    lastDays = days;
  }
  return days * 86400 + <f64>(h * 3600 + mi * 60);
}

/** The addresses and times of a taken row, read here rather than in gcp.ts (spans have `delta` added). */
function rowValues(row: u32, delta: i32): void {
  let s = load<i32>(row + R_SPAN_S + (G_SRC_IP << 2));
  let v: i64 = s >= 0 ? Quad.read(<u32>(s - delta), <u32>(load<i32>(row + R_SPAN_E + (G_SRC_IP << 2)) - delta)) : -1;
  if (v >= 0) {
    store<u32>(row + R_SRC_V4, <u32>v);
    rowFlags |= ROW_SRC_V4;
  }
  s = load<i32>(row + R_SPAN_S + (G_DST_IP << 2));
  v = s >= 0 ? Quad.read(<u32>(s - delta), <u32>(load<i32>(row + R_SPAN_E + (G_DST_IP << 2)) - delta)) : -1;
  if (v >= 0) {
    store<u32>(row + R_DST_V4, <u32>v);
    rowFlags |= ROW_DST_V4;
  }
  s = load<i32>(row + R_SPAN_S + (G_START << 2));
  store<f64>(row + ROW_START, s >= 0 ? rfc3339(<u32>(s - delta), <u32>(load<i32>(row + R_SPAN_E + (G_START << 2)) - delta)) : NaN);
  s = load<i32>(row + R_SPAN_S + (G_END << 2));
  store<f64>(row + ROW_END, s >= 0 ? rfc3339(<u32>(s - delta), <u32>(load<i32>(row + R_SPAN_E + (G_END << 2)) - delta)) : NaN);
}

// the row being worked out, and the delta of its spans
let curRow: u32 = 0;
let curDelta: i32 = 0;
// the last simple row's account, region and instance spans in this call (as stored: delta added; -1: none yet)
let lastAccount: i32 = -1;
let lastRegion: i32 = -1;
let lastInstance: i32 = -1;

/**
 * True when the span in the slot pair at `slot` is present and the same bytes as the span
 * `last` (a slot pair of an earlier row, or -1); `flag` for the row when so.
 */
function sameAsLast(slot: u32, last: i32): bool {
  const s = load<i32>(curRow + slot);
  if (s < 0 || last < 0) return false;
  const ls = load<i32>(<u32>last);
  const n = load<i32>(curRow + slot + 4) - s;
  if (load<i32>(<u32>last + 4) - ls != n) return false;
  const a = <u32>(s - curDelta);
  const b = <u32>(ls - curDelta);
  // eight bytes at a time, then the last (up to) eight: the bytes past n fall off the top
  let k: u32 = 0;
  for (; k + 8 <= <u32>n; k += 8) if (load<u64>(a + k) != load<u64>(b + k)) return false;
  if (k == <u32>n) return true;
  const drop = <u64>((8 - (<u32>n - k)) << 3);
  return load<u64>(a + k) << drop == load<u64>(b + k) << drop;
}

/** The flags of a simple row's strings that repeat the last ones, and this row's present ones made the last. */
function repeats(): i32 {
  let f: i32 = 0;
  if (sameAsLast(R_ACCOUNT, lastAccount)) f |= ROW_ACCOUNT_SAME;
  if (sameAsLast(R_REGION, lastRegion)) f |= ROW_REGION_SAME;
  if (sameAsLast(R_INSTANCE, lastInstance)) f |= ROW_INSTANCE_SAME;
  if (load<i32>(curRow + R_ACCOUNT) >= 0) lastAccount = <i32>(curRow + R_ACCOUNT);
  if (load<i32>(curRow + R_REGION) >= 0) lastRegion = <i32>(curRow + R_REGION);
  if (load<i32>(curRow + R_INSTANCE) >= 0) lastInstance = <i32>(curRow + R_INSTANCE);
  return f;
}

function spanS(f: u32): i32 {
  return load<i32>(curRow + R_SPAN_S + (f << 2));
}
function spanE(f: u32): i32 {
  return load<i32>(curRow + R_SPAN_E + (f << 2));
}

/** The string field f is exactly the n bytes of w (little-endian, n <= 8). */
function spanIs(f: u32, w: u64, n: u32): bool {
  const s = spanS(f);
  if (s < 0 || <u32>(spanE(f) - s) != n) return false;
  const drop = <u64>((8 - n) << 3);
  return load<u64>(<u32>(s - curDelta)) << drop == w << drop;
}

/** The span [s, e) into the slot pair at `slot` (a string of no bytes: the id 0, stored as absent: -1). */
function putSpan(slot: u32, s: i32, e: i32): bool {
  if (s < 0 || e == s) {
    store<i32>(curRow + slot, -1);
    return false;
  }
  store<i32>(curRow + slot, s);
  store<i32>(curRow + slot + 4, e);
  return true;
}

/** gcp.ts firstId: the first of fields a, b, c (-1: none) that is present, into `slot`; false when none or it is empty (id 0). */
function firstSpan(slot: u32, a: i32, b: i32, c: i32): bool {
  if (a >= 0 && spanS(<u32>a) >= 0) return putSpan(slot, spanS(<u32>a), spanE(<u32>a));
  if (b >= 0 && spanS(<u32>b) >= 0) return putSpan(slot, spanS(<u32>b), spanE(<u32>b));
  if (c >= 0 && spanS(<u32>c) >= 0) return putSpan(slot, spanS(<u32>c), spanE(<u32>c));
  return putSpan(slot, -1, 0);
}

/** gcp.ts logNameProject: "projects/<id>/…" into R_ACCOUNT; false when not so. */
function logNameProject(): bool {
  const s0 = spanS(G_LOG_NAME);
  if (s0 < 0) return false;
  const s = <u32>(s0 - curDelta);
  const e = <u32>(spanE(G_LOG_NAME) - curDelta);
  const P: u32 = 9;
  // "projects" little-endian, then '/'
  if (e - s <= P || load<u64>(s) != 0x737463656a6f7270 || load<u8>(s + 8) != 47) return false;
  let j = s + P;
  while (j < e && load<u8>(j) != 47) j++;
  return j > s + P ? putSpan(R_ACCOUNT, <i32>(s + P) + curDelta, <i32>j + curDelta) : false;
}

/** gcp.ts zoneRegion: "us-east1-b" as "us-east1" into R_REGION; false when not a zone. */
function zoneRegion(f: u32): bool {
  const s0 = spanS(f);
  if (s0 < 0) return false;
  const s = <u32>(s0 - curDelta);
  const e = <u32>(spanE(f) - curDelta);
  if (e - s < 4 || load<u8>(e - 2) != 45) return false;
  const last = load<u8>(e - 1);
  const prev = load<u8>(e - 3);
  if (last < 97 || last > 122 || prev < 48 || prev > 57) return false;
  return putSpan(R_REGION, s0, spanE(f) - 2);
}

/**
 * gcp.ts toRecord for a taken row that turns out a flow with IPv4 ends and good times (the
 * common case): its fate and strings, flagged ROW_SIMPLE. Any other row is left to toRecord.
 */
function workOut(row: u32, delta: i32): void {
  curRow = row;
  curDelta = delta;
  const f = rowFlags;
  if ((f & ROW_PAYLOAD) == 0 || (f & ROW_CONNECTION) == 0 || (f & ROW_SRC_V4) == 0 || (f & ROW_DST_V4) == 0) return;
  if (load<f64>(row + ROW_INTS + (N_PROTOCOL << 3)) < 0) return;
  const start = load<f64>(row + ROW_START);
  const end = load<f64>(row + ROW_END);
  const hasStart = spanS(G_START) >= 0;
  const hasEnd = spanS(G_END) >= 0;
  if ((hasStart && isNaN(start)) || (hasEnd && isNaN(end)) || (!hasStart && !hasEnd)) return;
  // the reporter: DEST, SRC, DEST_GATEWAY, SRC_GATEWAY (little-endian words), else the instances
  let side = 0; // 0 unknown, 1 src, 2 dest
  let direction = 0;
  let gateway = false;
  if (spanIs(G_REPORTER, 0x54534544, 4)) {
    side = 2;
    direction = 1;
  } else if (spanIs(G_REPORTER, 0x435253, 3)) {
    side = 1;
    direction = 2;
  } else if (reporterIs(12, 0x5441475f54534544, 0x59415745)) {
    // DEST_GATEWAY
    side = 2;
    direction = 1;
    gateway = true;
  } else if (reporterIs(11, 0x455441475f435253, 0x59415745)) {
    // SRC_GATEWAY
    side = 1;
    direction = 2;
    gateway = true;
  } else if ((f & ROW_DST_INSTANCE) != 0) side = 2;
  else if ((f & ROW_SRC_INSTANCE) != 0) side = 1;
  if (side == 1 && !gateway && (f & ROW_DST_INSTANCE) != 0 && direction == 2) {
    rowFlags = f | ROW_SIMPLE | ROW_DUPLICATE;
    return;
  }
  store<i32>(row + R_DIRECTION, direction);
  const dest = side == 2;
  const known = side != 0;
  const account =
    (known && firstSpan(R_ACCOUNT, dest ? G_DST_PROJECT : G_SRC_PROJECT, dest ? G_SRC_VPC_PROJECT + 2 : G_SRC_VPC_PROJECT, dest ? G_SRC_GW_PROJECT + 3 : G_SRC_GW_PROJECT)) ||
    logNameProject() ||
    firstSpan(R_ACCOUNT, G_RES_PROJECT, -1, -1);
  if (!account) store<i32>(row + R_ACCOUNT, -1);
  store<i32>(row + R_REGION, -1);
  store<i32>(row + R_INSTANCE, -1);
  if (known) {
    const region =
      firstSpan(R_REGION, dest ? G_DST_PROJECT + 1 : G_SRC_PROJECT + 1, dest ? G_SRC_VPC_PROJECT + 3 : G_SRC_VPC_PROJECT + 1, -1) ||
      zoneRegion(dest ? G_DST_PROJECT + 3 : G_SRC_PROJECT + 3) ||
      firstSpan(R_REGION, dest ? G_SRC_GW_PROJECT + 4 : G_SRC_GW_PROJECT + 1, -1, -1);
    if (!region) store<i32>(row + R_REGION, -1);
    firstSpan(R_INSTANCE, dest ? G_DST_PROJECT + 2 : G_SRC_PROJECT + 2, dest ? G_SRC_GW_PROJECT + 5 : G_SRC_GW_PROJECT + 2, -1);
  }
  // a row counted here alone is not looked up: the next row is compared with the one before
  const route = routeRow(row, direction);
  if (route == ROUTE_DONE) {
    rowFlags = f | ROW_SIMPLE;
    return;
  }
  const same = repeats();
  rowFlags = f | ROW_SIMPLE | same;
  if (idsOn) idsOfRow(row, route, same, direction);
}

// The string ids (shared/token-ids.ts): the ids block (at idsPtr, chosen by the caller) is f64
// slots (src/formats/wasm-ids.ts IdSlot), then the table at + 64. The caller looks the call's
// new entries up and calls fixIds.
const I_DEFAULT_ACCOUNT = 1; // the file's account and region ids: a row without its own
const I_DEFAULT_REGION = 2;
const I_DICT_RESET = 3; // 1: another dictionary: every entry forgotten
const I_NEW_FROM = 4; // the entries a call added: [from, to)
const I_NEW_TO = 5;
const I_ON = 6; // 1: look the strings up (the caller has a sink)
const FEED_OUTBOUND: u32 = 2; // src/flow/types.ts Feed.outbound
const DIRECTION_INGRESS: i32 = 1;

let idsOn = false;
let defaultAccount: i32 = 0;
let defaultRegion: i32 = 0;
// the ids of the last simple row's strings in this call (the rows flagged ROW_*_SAME take them)
let lastAccountId: i32 = 0;
let lastRegionId: i32 = 0;
let lastInstanceId: i32 = 0;

function startIds(at: u32): void {
  idsOn = load<f64>(at + (I_ON << 3)) != 0;
  if (!idsOn) return;
  defaultAccount = <i32>load<f64>(at + (I_DEFAULT_ACCOUNT << 3));
  defaultRegion = <i32>load<f64>(at + (I_DEFAULT_REGION << 3));
  startTokens(at + 64, load<f64>(at + (I_DICT_RESET << 3)) != 0);
}

function endIds(at: u32): void {
  store<f64>(at + (I_NEW_FROM << 3), idsOn ? <f64>newFrom : 0);
  store<f64>(at + (I_NEW_TO << 3), idsOn ? <f64>tokenCount() : 0);
}

/** The id of the string in the slot pair at `slot` of the current row. */
function idOfSpan(slot: u32): i32 {
  const s = load<i32>(curRow + slot);
  return idOfToken(<u32>(s - curDelta), <u32>(load<i32>(curRow + slot + 4) - s));
}

/**
 * The ids of a simple row that is not counted alone, as gcp.ts simpleRow gave them: the
 * file's account and region where it has none, into R_IDS; a routed row's into its area too,
 * where its instance is the source host's (0 for an internal record logged where it arrived).
 */
function idsOfRow(row: u32, route: i32, same: i32, direction: i32): void {
  let account = defaultAccount;
  if (load<i32>(row + R_ACCOUNT) >= 0) {
    if ((same & ROW_ACCOUNT_SAME) == 0) lastAccountId = idOfSpan(R_ACCOUNT);
    account = lastAccountId;
  }
  let region = defaultRegion;
  if (load<i32>(row + R_REGION) >= 0) {
    if ((same & ROW_REGION_SAME) == 0) lastRegionId = idOfSpan(R_REGION);
    region = lastRegionId;
  }
  let instance: i32 = 0;
  if (load<i32>(row + R_INSTANCE) >= 0) {
    if ((same & ROW_INSTANCE_SAME) == 0) lastInstanceId = idOfSpan(R_INSTANCE);
    instance = lastInstanceId;
  }
  store<i32>(row + R_IDS, account);
  store<i32>(row + R_IDS + 4, region);
  store<i32>(row + R_IDS + 8, instance);
  if (route >= 0 && areasPtr != 0) {
    const slotFeed = load<u32>(row + R_FEED);
    const source = (slotFeed & 3) == FEED_OUTBOUND && direction == DIRECTION_INGRESS ? 0 : instance;
    toAreaIds(<u32>route, slotFeed >> 2, account, region, 0, source);
  }
}

/** The ids of the table's new entries (the caller wrote them) into the last call's `rows` rows at `out` and the areas. */
export function fixIds(out: u32, rows: u32): void {
  for (let k: u32 = 0; k < rows; k++) {
    const row = out + k * ROW_BYTES;
    const f = load<i32>(row + R_FLAGS);
    if ((f & (ROW_SIMPLE | ROW_DUPLICATE)) != ROW_SIMPLE || load<i32>(row + R_ROUTE) == ROUTE_DONE) continue;
    for (let c: u32 = 0; c < 12; c += 4) store<i32>(row + R_IDS + c, fixedId(load<i32>(row + R_IDS + c)));
  }
  fixAreaIds();
}

/**
 * The fate of the simple row (gcp.ts simpleRow makes its record: the ports 0 when absent,
 * a missing time the other's, packets and bytes NaN when absent) as the sink's emit would
 * decide it, into R_ROUTE and R_FEED: ROUTE_EMIT for a field the sink rejects.
 */
function routeRow(row: u32, direction: i32): i32 {
  const ints = row + ROW_INTS;
  const sport = Math.max(load<f64>(ints + (N_SRC_PORT << 3)), 0);
  const dport = Math.max(load<f64>(ints + (N_DST_PORT << 3)), 0);
  const proto = load<f64>(ints + (N_PROTOCOL << 3));
  let start = load<f64>(row + ROW_START);
  let end = load<f64>(row + ROW_END);
  if (isNaN(start)) start = end;
  if (isNaN(end)) end = start;
  let route = ROUTE_EMIT;
  // the values the sink takes as they are (integers all: the times have no fraction)
  if (sport <= 65535 && dport <= 65535 && proto <= 255 && start >= 0 && start < 4294967296 && end >= 0 && end < 4294967296) {
    const src = load<u32>(row + R_SRC_V4);
    const dst = load<u32>(row + R_DST_V4);
    route = routeFlow(<u32>start, <u32>end, src, dst, <u32>sport, <u32>dport, <u32>proto, -1, <u32>direction, load<i32>(row + R_REGION) < 0);
    if (route >= 0) {
      const feed = routedFeed;
      let slot: u32 = 0;
      if (areasPtr != 0) {
        const packets = load<f64>(ints + (N_PACKETS << 3));
        const bytes = load<f64>(ints + (N_BYTES << 3));
        slot = toArea(<u32>route, src, dst, packets < 0 ? NaN : packets, bytes < 0 ? NaN : bytes, <u32>start, <u32>end, <u32>sport, <u32>dport, -1, feed, <u32>proto, 0, <u32>direction);
      }
      store<u32>(row + R_FEED, feed | (slot << 2));
    }
  }
  store<i32>(row + R_ROUTE, route);
  return route;
}

/** The reporter is the n bytes (8 to 12) whose first eight are `head` and last four `tail` (little-endian). */
function reporterIs(n: u32, head: u64, tail: u32): bool {
  const s = spanS(G_REPORTER);
  if (s < 0 || <u32>(spanE(G_REPORTER) - s) != n) return false;
  const p = <u32>(s - curDelta);
  return load<u64>(p) == head && load<u32>(p + n - 4) == tail;
}

/**
 * Reads the lines of inPtr[0, len) that end with '\n' (at most maxRows) into rows at `out`:
 * each trimmed as parseJsonLines trims it, a blank one marked ROW_BLANK, a LogEntry the fast
 * path takes marked ROW_TAKEN with its fields. Positions have `base` added (the window's
 * start in the caller's buffer). Returns the rows written; a line with no '\n' in the
 * window is left to the caller. Simple rows are routed by the routing block at routePtr
 * (assembly/shared/route.ts), whose counts are this call's, and their strings looked up by
 * the ids block at idsPtr (idsOfRow).
 */
export function readLines(inPtr: u32, len: u32, base: i32, maxRows: u32, out: u32, tablePtr: u32, scratch: u32, routePtr: u32, idsPtr: u32): u32 {
  startRouting(routePtr);
  startIds(idsPtr);
  const rows = readRows(inPtr, len, base, maxRows, out, tablePtr, scratch);
  endRouting(routePtr);
  endIds(idsPtr);
  return rows;
}

function readRows(inPtr: u32, len: u32, base: i32, maxRows: u32, out: u32, tablePtr: u32, scratch: u32): u32 {
  table = tablePtr;
  boxAt = scratch;
  arrayAt = scratch + MAX_DEPTH;
  lastKeyAt = scratch + 2 * MAX_DEPTH;
  nextAt = lastKeyAt + 2 * MAX_DEPTH;
  altAt = nextAt + 2 * (UNNAMED + BOXES);
  shapesAt = scratch + 1024;
  visitAt = visitListAt(scratch);
  visits = 0;
  duplicates = 0;
  const end = inPtr + len;
  const delta = base - <i32>inPtr;
  lastAccount = -1;
  lastRegion = -1;
  lastInstance = -1;
  const nl = i8x16.splat(10);
  let p = inPtr;
  let rows: u32 = 0;
  while (p < end && rows < maxRows) {
    const row = out + rows * ROW_BYTES;
    let ls = p;
    let c: u32 = 0;
    while (ls < end && ((c = load<u8>(ls)) == 32 || c == 9 || c == 13)) ls++;
    let j: u32;
    let le: u32;
    let flags: i32 = 0;
    if (ls < end && c == 123 && (byShape(ls, end, row, delta) || (readEntry(ls, end, row, delta) && Shape.learn(ls)))) {
      // the entry's line read whole: its '\n' found on the way
      j = entryNewline;
      le = entryEnd;
      rowValues(row, delta);
      workOut(row, delta);
      flags = ROW_TAKEN | rowFlags;
    } else {
      // the line's '\n', sixteen bytes at a time
      j = p;
      for (;;) {
        if (j >= end) return rows;
        const m = i8x16.bitmask(i8x16.eq(v128.load(j), nl));
        if (m != 0) {
          j += <u32>ctz(m);
          break;
        }
        j += 16;
      }
      if (j >= end) return rows;
      if (ls > j) ls = j;
      le = j;
      while (le > ls && ((c = load<u8>(le - 1)) == 32 || c == 9 || c == 13)) le--;
      if (ls == le) flags = ROW_BLANK;
    }
    store<i32>(row + R_LINE, <i32>p + delta);
    store<i32>(row + R_NL, <i32>j + delta);
    store<i32>(row + R_TS, <i32>ls + delta);
    store<i32>(row + R_TE, <i32>le + delta);
    store<i32>(row + R_FLAGS, flags);
    if ((flags & ROW_SIMPLE) == 0) store<u32>(visitAt + (visits++ << 2), rows);
    else if ((flags & ROW_DUPLICATE) != 0) duplicates++;
    else {
      const route = load<i32>(row + R_ROUTE);
      if (route != ROUTE_DONE && (route < 0 || areasPtr == 0)) store<u32>(visitAt + (visits++ << 2), rows);
    }
    rows++;
    p = j + 1;
  }
  return rows;
}

// The rows the caller's JavaScript visits, in order: any row that is not simple, and a simple
// row the sink must be handed (ROUTE_EMIT, or a shard with no areas). The others need nothing
// there (a routed row is in its shard's area, a row counted alone is in the routing block's
// counts, and a duplicate in `duplicates`), so that JavaScript does no work a usual row: its
// loop over every row was compiled twice a thread (a path first taken late deoptimised it).
let visitAt: u32 = 0;
let visits: u32 = 0;
let duplicates: u32 = 0;

/** Where the visit list lies (u32 row numbers, as many as a call reads rows at most): after the shapes in scratch. */
export function visitListAt(scratch: u32): u32 {
  return scratch + 1024 + SHAPES_SCRATCH;
}

/** The rows of the last call's visit list. */
export function visitCount(): u32 {
  return visits;
}

/** The simple rows of the last call that are duplicates (the SRC copies of flows between two VMs: counted, not visited). */
export function duplicateCount(): u32 {
  return duplicates;
}
