// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/aws-lines.wasm; not part of
// tsc's build). The plain lines of an AWS flow-log text block read into columns, for every
// layout by one loop over its role table (src/formats/aws-columns.ts `Role`), where the
// JavaScript path generates and compiles one reader per layout (60-90 ms of optimising
// compile per layout per thread, bench/RESULTS.md).
//
// A line is read here only when it is written plainly, exactly as a compiled reader takes
// it: single spaces, dotted-quad IPv4 or IPv6 addresses, numbers of 1-15 digits, ended by
// '\n' or "\r\n". A row with an IPv6 address is read and routed here by its four-word addresses; a
// line that carries no flow (NODATA, SKIPDATA, a Transit Gateway record, a port, protocol or
// address of '-') is counted here as the general loop counts it (F_NODATA). Every other line
// is marked for the general JavaScript loop (src/formats/aws.ts), which makes of a plain line
// what this makes of it, byte for byte (test/aws-wasm.test.ts). So is a line whose numbers
// the sink would reject (a port over 65535, a protocol over 255, a time of 2^32 or more, TCP
// flags over 2^31 - 1): the general loop reads it again and the sink words the reject.
//
// A plain row is then routed as src/flow/sink.ts emit routes a record (routeRow, by
// assembly/shared/route.ts), where the sink allows it: counted alone, or given its shard,
// its batch columns written into that shard's area for the sink to copy into the shard's
// batch in runs (toArea).
//
// Memory (all offsets in bytes, chosen by the caller, src/formats/aws-wasm.ts): the block's
// bytes at `inPtr`, the layout's roles (one byte a column) at `rolesPtr`, the columns of
// `maxRows` rows each from `out` (in the order readLines lays them out), the separator
// bitmap at `map`, the sink's settings, counts and IPv4 table at `sinkPtr` (the routing
// block of assembly/shared/route.ts), the shards' areas where the sink's settings say, and
// the reader's own slots and table of string ids at `idsPtr` (I_* below).

import { deferToken, fixedId, idOfToken, lookUpDeferred, newFrom, sameBytes, startTokens, tokenCount } from './shared/token-ids';
import { AreaRow, ROUTE_DONE, ROUTE_EMIT, RouteFlow, areaIdStep, areasPtr, endRouting, fixAreaIds, routeFlow, routeFlowWords, routedFeed, startRouting, toArea, toAreaIds, toAreaWords } from './shared/route';

// Role numbers: src/formats/aws-columns.ts `Role` (test/aws-wasm.test.ts checks they agree)
const R_ACCOUNT: u32 = 1;
const R_IFACE: u32 = 2;
const R_SRCADDR: u32 = 3;
const R_DSTADDR: u32 = 4;
const R_SRCPORT: u32 = 5;
const R_DSTPORT: u32 = 6;
const R_PROTOCOL: u32 = 7;
const R_PACKETS: u32 = 8;
const R_BYTES: u32 = 9;
const R_START: u32 = 10;
const R_END: u32 = 11;
const R_ACTION: u32 = 12;
const R_LOGSTATUS: u32 = 13;
const R_TCPFLAGS: u32 = 14;
const R_DIRECTION: u32 = 15;
const R_REGION: u32 = 16;
const R_INSTANCE: u32 = 17;
const R_RESOURCETYPE: u32 = 18;

// Flag bits of a row (the `flags` column)
const F_PLAIN: u32 = 1; // read here: the other columns hold the record
const F_SRC_V6: u32 = 16; // the source is an IPv6 address, in four words in cSrc6 (else IPv4 in cSrc)
const F_DST_V6: u32 = 32; // the destination likewise (cDst6)
const F_NODATA: u32 = 64; // a line without a flow, all its columns well formed: counted (nodataRows), nothing else

// the block and its separator bitmap (markSeparators)
let blockPtr: u32 = 0;
let mapPtr: u32 = 0;
// the row's tokens (absolute addresses; -1: absent)
let aS: i32 = -1;
let aE: i32 = 0;
let gS: i32 = -1;
let gE: i32 = 0;
let fS: i32 = -1;
let fE: i32 = 0;
let nS: i32 = -1;
let nE: i32 = 0;
let consumedBytes: u32 = 0;
// what plainLine found of the row besides its columns: F_SRC_V6 | F_DST_V6, and whether it carries no flow
let addrFlags: u32 = 0;
let noFlow = false;
/** The rows of a readLines that carry no flow (F_NODATA), written to the reader's slot I_NODATA. */
let nodataRows: u32 = 0;

/**
 * Marks every byte of the block below '!' (a space, a tab, '\r', '\n', a control byte: what
 * ends a token) in a bitmap at mapPtr, sixteen bytes at a time, and the block's end too:
 * a line's token ends are then its bitmap's set bits, taken in order (plainLine), rather
 * than found byte by byte. Counts too the block's bytes below ' ' (blockControls), for
 * checkLines.
 */
function markSeparators(len: u32): void {
  const full = len >> 6;
  const control = i8x16.splat(32);
  let counts = i64x2.splat(0); // bytes below ' ' a lane, 4 a word at most: emptied after each 63 words
  let controls: u32 = 0;
  let adjacent: u64 = 0; // a separator just after another
  let carry: u64 = 1; // the byte before the block counts as one: a line starting with a separator is not plain
  // 63 words at a time, the lanes' counts summed after each run (a test of the word's index a word cost its division)
  for (let run: u32 = 0; run < full; run += 63) {
    const runEnd = min(run + 63, full);
    for (let w = run; w < runEnd; w++) {
      const at = blockPtr + (w << 6);
      const v0 = v128.load(at);
      const v1 = v128.load(at + 16);
      const v2 = v128.load(at + 32);
      const v3 = v128.load(at + 48);
      const s = Separators.bits(v0, v1, v2, v3);
      store<u64>(mapPtr + (w << 3), s);
      adjacent |= s & ((s << 1) | carry);
      carry = s >> 63;
      // a match is -1
      counts = i8x16.sub(counts, i8x16.add(i8x16.add(i8x16.lt_s(v0, control), i8x16.lt_s(v1, control)), i8x16.add(i8x16.lt_s(v2, control), i8x16.lt_s(v3, control))));
    }
    controls += laneSum(counts);
    counts = i64x2.splat(0);
  }
  // the last word, partly past the block: its bits there are not the block's
  const at = blockPtr + (full << 6);
  const bit = <u64>(len & 63);
  const s = Separators.bits(v128.load(at), v128.load(at + 16), v128.load(at + 32), v128.load(at + 48)) & ((<u64>1 << bit) - 1);
  adjacent |= s & ((s << 1) | carry);
  for (let i = at; i < blockPtr + len; i++) controls += <u32>(load<i8>(i) < 32);
  blockControls = adjacent == 0 ? controls : 0xffffffff;
  // past the block: a separator at len, nothing after it
  store<u64>(mapPtr + (full << 3), s | (<u64>1 << bit));
}

/** The sum of a vector's sixteen byte lanes. */
function laneSum(v: v128): u32 {
  const w = i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(v));
  return <u32>(i32x4.extract_lane(w, 0) + i32x4.extract_lane(w, 1) + i32x4.extract_lane(w, 2) + i32x4.extract_lane(w, 3));
}

/**
 * The bytes below ' ' of the last block markSeparators marked ('\n', tabs, '\r', control
 * bytes), or 0xffffffff where two separators lie side by side or one is first: checkLines.
 */
let blockControls: u32 = 0;

/** markSeparators' bitmap of 64 bytes (a static method, inlined: eslint takes its decorator). */
class Separators {
  @inline
  static bits(v0: v128, v1: v128, v2: v128, v3: v128): u64 {
    // a byte up to ' ' is its own minimum with ' ': two instructions on x64, where lt_u takes three or four
    const space = i8x16.splat(32);
    const m0 = <u64>i8x16.bitmask(i8x16.eq(i8x16.min_u(v0, space), v0));
    const m1 = <u64>i8x16.bitmask(i8x16.eq(i8x16.min_u(v1, space), v1));
    const m2 = <u64>i8x16.bitmask(i8x16.eq(i8x16.min_u(v2, space), v2));
    const m3 = <u64>i8x16.bitmask(i8x16.eq(i8x16.min_u(v3, space), v3));
    return m0 | (m1 << 16) | (m2 << 32) | (m3 << 48);
  }
}

/**
 * Every separator of the block (markSeparators' bitmap) listed in order, as an absolute
 * address a u32, at `seps`, with the byte before the block (blockPtr - 1) just before it
 * and the block's end last: ColumnsRow.read then takes a line's column ends from the list
 * in a loop whose only branches are its end and a test that fails on no plain line. Taken
 * from the bitmap in the line's own loop, a word's bits ran out at a place in the line no
 * branch predicts (about twice a v2 line). Twelve are written from each 64-byte word
 * without a test (a plain line has ~8 in 64 bytes), the rest in a loop entered only then; ctz of no bits
 * writes a place past the word, which the next word's overwrite or nothing reads.
 */
function listSeparators(len: u32, seps: u32): void {
  store<u32>(seps - 4, blockPtr - 1);
  const words = (len >> 6) + 1;
  let out = seps;
  for (let w: u32 = 0; w < words; w++) {
    let b = load<u64>(mapPtr + (w << 3));
    const n = <u32>popcnt(b);
    const base = blockPtr + (w << 6);
    store<u32>(out, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 4, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 8, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 12, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 16, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 20, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 24, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 28, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 32, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 36, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 40, base + <u32>ctz(b)); b &= b - 1;
    store<u32>(out + 44, base + <u32>ctz(b)); b &= b - 1;
    if (n > 12) {
      let o = out + 48;
      do {
        store<u32>(o, base + <u32>ctz(b));
        b &= b - 1;
        o += 4;
      } while (b != 0);
    }
    out += n << 2;
  }
  // past the list, for checkLines's steps (a line's columns at a time) and ColumnsRow.read's one load (COLUMNS_MAX past a line's first at most)
  for (let k: u32 = 0; k < COLUMNS_MAX; k++) store<u32>(out + (k << 2), NO_SEPARATOR);
}

/** What the list of separators holds past its end: above every place in the block. */
const NO_SEPARATOR: u32 = 0xffffffff;
/** The last '\n' of the block's lines checkLines found plain in their separators (0: none). */
let checkedUntil: u32 = 0;

/**
 * Whether every line of the block has the layout's nroles columns, single spaces between
 * them: every nroles-th separator from the block's start a '\n', and these '\n' the block's
 * only bytes below ' ' (no tab, '\r' or other '\n'), no two separators side by side and none
 * first (markSeparators). Then a line of the block is plain in its separators exactly when
 * it ends in the block, at or before checkedUntil (ColumnsRow.read: one load, where each
 * separator of the line was tested); else checkedUntil is 0 and they are.
 */
function checkLines(nroles: u32, seps: u32, end: u32): void {
  const step = nroles << 2;
  let at = seps + step - 4;
  let lines: u32 = 0;
  let last: u32 = 0;
  for (;;) {
    const q = load<u32>(at);
    if (q >= end || load<u8>(q) != 10) break;
    last = q;
    lines++;
    at += step;
  }
  checkedUntil = lines == blockControls ? last : 0;
}

/**
 * The n digits (1 to 8) that end at q as a number, eight bytes at a time: the word that ends
 * at q is loaded, its bytes before the n digits cleared by the mask of n (buildQuads' table
 * of masks: no shift by a variable count, which x64 does in three µops a shift, two a number),
 * checked to be digits and combined in three multiplications. -1 when a byte is not a digit.
 * The word may start before the block: its bytes there are cleared.
 */
function digits8(q: u32, n: u32): i64 {
  const keep = load<u64>(quadsAt + QUAD_MASKS + (n << 3));
  let w = load<u64>(q - 8) & keep; // the digits in the word's top n bytes, the bytes below them 0
  // a digit has high nibble 3 and stays below 0x3a when 6 is added (a cleared byte: both 0)
  if (((w & 0xf0f0f0f0f0f0f0f0) | (((w + 0x0606060606060606) & 0xf0f0f0f0f0f0f0f0) >> 4)) != (0x3333333333333333 & keep)) return -1;
  w = ((w & 0x0f0f0f0f0f0f0f0f) * 2561) >> 8;
  w = ((w & 0x00ff00ff00ff00ff) * 6553601) >> 16;
  return <i64>(((w & 0x0000ffff0000ffff) * 42949672960001) >> 32);
}

/**
 * A numeric column read where its role is dispatched (plainLine), inlined in each case:
 * where one test of the role before the dispatch read every numeric column, each column
 * paid for that test and its branches.
 */
class Decimal {
  /** [p, q) (1 to 15 bytes) as a number, or -1 when it is longer or a byte is not a digit. */
  @inline
  static read(p: u32, q: u32): i64 {
    const n = q - p;
    if (n <= 8) return digits8(q, n);
    if (n > 15) return -1;
    return digits16(q, n);
  }
}

/**
 * The n digits (9 to 15: a time's ten) that end at q as a number, sixteen bytes at a time
 * (where two digits8 took twice its instructions): the bytes before them cleared by the
 * mask of n (buildQuads' table), each byte checked below 10 once '0' is taken off, then
 * paired into tens (u16), fours (i32x4.dot) and eights, the two eights joined. -1 when a
 * byte is not a digit.
 */
function digits16(q: u32, n: u32): i64 {
  const d = v128.and(i8x16.sub(v128.load(q - 16), i8x16.splat(48)), v128.load(quadsAt + QUAD_MASKS16 + (n << 4)));
  if (!i8x16.all_true(i8x16.lt_u(d, i8x16.splat(10)))) return -1;
  // the first digit of each pair is its u16 lane's low byte
  const tens = i16x8.add(i16x8.mul(v128.and(d, i16x8.splat(0xff)), i16x8.splat(10)), i16x8.shr_u(d, 8));
  const fours = i32x4.dot_i16x8_s(tens, i32x4.splat(0x00010064)); // 100 * first + second
  const eights = i32x4.mul(fours, i64x2.splat(0x0000000100002710)); // 10000 * first, second
  const joined = i32x4.add(eights, i32x4.shuffle(eights, eights, 1, 0, 3, 2));
  return <i64>i32x4.extract_lane(joined, 0) * 100000000 + <i64>i32x4.extract_lane(joined, 2);
}

/**
 * [p, q) as a dotted quad, as src/net/address.ts scanIPv4Bytes reads it (four parts of 1-3
 * digits, no leading zeros, 0-255): the address, or -1. The token's sixteen bytes are
 * classed at once (digits, dots); each part is then read from a word without a branch on
 * its length (ipv4Part), where a branch a part length mispredicted on most addresses.
 */
export function ipv4(p: u32, q: u32): i64 {
  return ScalarQuad.read(p, q);
}

/**
 * ipv4's body (a static method: eslint takes its decorator), a part at a time: where a
 * module has no table of shapes (assembly/azure-tuples.ts; DottedQuad.read needs one).
 */
class ScalarQuad {
  @inline
  static read(p: u32, q: u32): i64 {
    const n = q - p;
    if (n - 7 > 8) return -1; // 7 to 15 bytes
    const v = v128.load(p);
    const live = (1 << n) - 1;
    const dots = i8x16.bitmask(i8x16.eq(v, i8x16.splat(46))) & live;
    const digits = i8x16.bitmask(i8x16.lt_u(i8x16.sub(v, i8x16.splat(48)), i8x16.splat(10))) & live;
    if ((dots | digits) != live || popcnt(dots) != 3) return -1;
    // each part ends at a dot, the last at the token's end
    const e0 = <u32>ctz(dots);
    const d1 = dots & (dots - 1);
    const e1 = <u32>ctz(d1);
    const e2 = <u32>ctz(d1 & (d1 - 1));
    const a = ipv4Part(p, 0, e0);
    const b = ipv4Part(p, e0 + 1, e1);
    const c = ipv4Part(p, e1 + 1, e2);
    const d = ipv4Part(p, e2 + 1, n);
    if ((a | b | c | d) < 0) return -1;
    return <i64>((<u32>a << 24) | (<u32>b << 16) | (<u32>c << 8) | <u32>d);
  }
}

/**
 * The part [p + s, p + e) of a dotted quad (digits only: ipv4 checked): its value, or -1 for
 * none, more than three digits, a leading zero or more than 255. Its digits are shifted to
 * the top of a three-byte word, the bytes before them zero.
 */
function ipv4Part(p: u32, s: u32, e: u32): i32 {
  const len = e - s;
  if (len - 1 > 2) return -1;
  const raw = load<u32>(p + s) - 0x30303030; // the part's bytes are digits: no borrow reaches them
  const w = (raw << ((3 - len) << 3)) & 0xffffff;
  const part = <i32>((w & 0xff) * 100 + ((w >> 8) & 0xff) * 10 + (w >> 16));
  const leadingZero = len > 1 && (raw & 0xff) == 0;
  return leadingZero || part > 255 ? -1 : part;
}

/**
 * ipv4's answer, inlined (a static method: eslint takes its decorator) where a plain line's
 * addresses are read: as a call from plainLine it was ~8 % of the module's pass. The
 * token's sixteen bytes are classed at once (digits, dots); the parts' lengths (1-3 each:
 * 81 shapes) pick a row of the table built by buildQuads, whose swizzle puts each part's
 * digits in place, and the four parts are then valued, checked (over 255, a leading zero)
 * and packed in a few vector steps, where a part at a time cost each part its own loads,
 * shifts and multiplications.
 */
class DottedQuad {
  @inline
  static read(p: u32, q: u32): i64 {
    const n = q - p;
    if (n - 7 > 8) return -1; // 7 to 15 bytes
    const v = v128.load(p);
    const live = <i32>load<u16>(quadsAt + QUAD_LIVE + (n << 1)); // (1 << n) - 1: no shift by a variable count
    const dots = i8x16.bitmask(i8x16.eq(v, i8x16.splat(46))) & live;
    const w = i8x16.sub(v, i8x16.splat(48));
    const digits = i8x16.bitmask(i8x16.lt_u(w, i8x16.splat(10))) & live;
    if ((dots | digits) != live || popcnt(dots) != 3) return -1;
    // each part ends at a dot, the last at the token's end: its length 1 to 3
    const e0 = <u32>ctz(dots);
    const d1 = dots & (dots - 1);
    const e1 = <u32>ctz(d1);
    const e2 = <u32>ctz(d1 & (d1 - 1));
    const l0 = e0 - 1;
    const l1 = e1 - e0 - 2;
    const l2 = e2 - e1 - 2;
    const l3 = n - e2 - 2;
    if (((<u32>(l0 < 3) & <u32>(l1 < 3)) & (<u32>(l2 < 3) & <u32>(l3 < 3))) == 0) return -1;
    const shape = quadsAt + ((l0 * 27 + l1 * 9 + l2 * 3 + l3) << 4);
    // a part of two or three digits that starts with '0'
    const zeros = i8x16.bitmask(i8x16.eq(w, i8x16.splat(0)));
    if ((zeros & <i32>load<u16>(quadsAt + QUAD_LEADS + ((shape - quadsAt) >> 3))) != 0) return -1;
    // bytes 0-7: hundreds and tens of the parts, last part first; 8-15: their ones, each in a u16
    const x = i8x16.swizzle(w, v128.load(shape));
    const tens = i32x4.extadd_pairwise_i16x8_u(i16x8.extmul_low_i8x16_u(x, i16x8.splat(0x0a64)));
    const parts = i32x4.add(tens, i16x8.extend_high_i8x16_u(x));
    if (v128.any_true(i32x4.gt_s(parts, i32x4.splat(255)))) return -1;
    const packed = i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(parts, parts), parts);
    return <i64><u32>i32x4.extract_lane(packed, 0);
  }
}

/**
 * Bytes of the table of dotted-quad shapes and of the numbers' and tokens' masks (buildQuads: 1,824 of
 * them used), just below the routing block (src/formats/aws-wasm.ts leaves room).
 */
const QUADS_BYTES: u32 = 2048;
/** Where the table's leading-digit masks start (a u16 a shape), after its 81 swizzles. */
const QUAD_LEADS: u32 = 81 * 16;
/** Where digits8's masks start (a u64 for each count of digits 0 to 8: its top n bytes set), after the leading-digit masks. */
const QUAD_MASKS: u32 = QUAD_LEADS + 81 * 2 + 6;
/** Where digits16's masks start (sixteen bytes for each count of digits 0 to 15: its top n bytes set), after digits8's. */
const QUAD_MASKS16: u32 = QUAD_MASKS + 9 * 8;
/** Where DottedQuad.read's masks of a token's bytes start (a u16 for each length 0 to 15: its low n bits set), after digits16's. */
const QUAD_LIVE: u32 = QUAD_MASKS16 + 16 * 16;
/** Where the table lies (built when it moved: buildQuads). */
let quadsAt: u32 = 0;

/**
 * The table DottedQuad.read reads, at `at`: for each shape (the four parts' lengths l0..l3,
 * 1-3 each, row ((l0 - 1) * 27 + (l1 - 1) * 9 + (l2 - 1) * 3 + l3 - 1)), the swizzle that
 * puts part k's hundreds and tens digits at bytes 2j, 2j + 1 and its ones at byte 8 + 2j
 * (j = 3 - k: the last part lands in lane 0, so the packed bytes read as the address), 0xff
 * (a zero) where it has no such digit; then a u16 a shape, the first digits of its parts of
 * two or three digits; then the masks digits8, digits16 and DottedQuad.read take by a count
 * of bytes (QUAD_MASKS, QUAD_MASKS16, QUAD_LIVE), where a shift by a variable count made them.
 */
function buildQuads(at: u32): void {
  for (let shape: u32 = 0; shape < 81; shape++) {
    const row = at + (shape << 4);
    memory.fill(row, 0xff, 16);
    let start: u32 = 0;
    let leads: u32 = 0;
    let unit: u32 = 27;
    for (let k: u32 = 0; k < 4; k++, unit /= 3) {
      const len = ((shape / unit) % 3) + 1;
      const j = 3 - k;
      const ones = start + len - 1;
      store<u8>(row + 8 + 2 * j, <u8>ones);
      if (len >= 2) store<u8>(row + 2 * j + 1, <u8>(ones - 1));
      if (len == 3) store<u8>(row + 2 * j, <u8>(ones - 2));
      if (len >= 2) leads |= 1 << start;
      start += len + 1;
    }
    store<u16>(at + QUAD_LEADS + (shape << 1), <u16>leads);
  }
  for (let n: u32 = 0; n <= 8; n++) store<u64>(at + QUAD_MASKS + (n << 3), n == 0 ? 0 : <u64>-1 << <u64>((8 - n) << 3));
  for (let n: u32 = 0; n < 16; n++) for (let b: u32 = 0; b < 16; b++) store<u8>(at + QUAD_MASKS16 + (n << 4) + b, b >= 16 - n ? 0xff : 0);
  for (let n: u32 = 0; n < 16; n++) store<u16>(at + QUAD_LIVE + (n << 1), <u16>((<u32>1 << n) - 1));
  quadsAt = at;
}

/** Whether the token [p, q) is '-' (a field not given). */
function isDash(p: u32, q: u32): bool {
  return q - p == 1 && load<u8>(p) == 45;
}

// Field's answers besides a value (>= 0)
const FIELD_DASH: i64 = -1; // '-': not given
const FIELD_BAD: i64 = -2; // not a number, out of range, not an address: the general loop reads the line
const FIELD_V6: i64 = -3; // an IPv6 address, written where the caller said

/**
 * A column's token [t, q) read as src/formats/aws.ts reads it, one rule a kind of column for
 * plainLine and ColumnsRow.read both (static methods, inlined: eslint takes their decorators).
 */
class Field {
  /** An address: the IPv4 address, FIELD_DASH, FIELD_V6 (its four words at `to6`) or FIELD_BAD. */
  @inline
  static address(t: u32, q: u32, to6: u32): i64 {
    const a = DottedQuad.read(t, q);
    if (a >= 0) return a;
    if (isDash(t, q)) return FIELD_DASH; // the general loop: no flow to detect on
    return ipv6(t, q, to6) ? FIELD_V6 : FIELD_BAD;
  }

  /** A number of at most `max` (a port, the protocol), FIELD_DASH or FIELD_BAD (the sink words the reject). */
  @inline
  static bounded(t: u32, q: u32, max: u64): i64 {
    const num = Decimal.read(t, q);
    if (<u64>num <= max) return num;
    return num < 0 && isDash(t, q) ? FIELD_DASH : FIELD_BAD;
  }

  /** A count (packets, bytes): the number, NaN for '-' (unknown), -1 when bad. */
  @inline
  static count(t: u32, q: u32): f64 {
    const num = Decimal.read(t, q);
    if (num >= 0) return <f64>num;
    return isDash(t, q) ? NaN : -1;
  }

  /** A time (start, end: u32 seconds), or FIELD_BAD. */
  @inline
  static time(t: u32, q: u32): i64 {
    const num = Decimal.read(t, q);
    return <u64>num > 0xffffffff ? FIELD_BAD : num;
  }

  /** The TCP flags: the number, -1 for '-' (not given), or FIELD_BAD. */
  @inline
  static tcpFlags(t: u32, q: u32): i64 {
    const num = Decimal.read(t, q);
    if (num < 0 && isDash(t, q)) return -1;
    return <u64>num > 0x7fffffff ? FIELD_BAD : num;
  }
}

/** A hex digit's value, or -1. */
function hexVal(c: u32): i32 {
  if (c - 48 < 10) return <i32>(c - 48);
  const l = c | 32; // 'A'-'F' to 'a'-'f'; no other byte lands there
  return l - 97 < 6 ? <i32>(l - 87) : -1;
}

/**
 * [p, q) as IPv6 text, as src/net/address.ts parseIPv6Bytes reads it ("::" compression, a
 * dotted IPv4 tail; nothing else): its four words, most significant first, at out (its
 * eight groups are gathered there first), or false. The byte at q ends the token (below
 * '!'), as the byte after a token is to the JavaScript reader.
 */
function ipv6(p: u32, q: u32, out: u32): bool {
  if (q - p < 2 || q - p > 45) return false;
  let n: u32 = 0; // groups written
  let gap: i32 = -1; // the group where "::" stands
  let i = p;
  if (load<u8>(i) == 58) {
    if (load<u8>(i + 1) != 58) return false;
    gap = 0;
    i += 2;
    if (i == q) {
      memory.fill(out, 0, 16);
      return true;
    }
  }
  while (i < q) {
    let j = i;
    let sawDot = false;
    while (j < q && load<u8>(j) != 58) {
      if (load<u8>(j) == 46) sawDot = true;
      j++;
    }
    if (sawDot) {
      // an IPv4 tail: the last part, with room for two groups
      if (j != q || n > 6) return false;
      const v4 = ipv4(i, q);
      if (v4 < 0) return false;
      store<u16>(out + (n << 1), <u16>(<u32>v4 >>> 16));
      store<u16>(out + (n << 1) + 2, <u16>(<u32>v4 & 0xffff));
      n += 2;
      break;
    }
    const len = j - i;
    if (len < 1 || len > 4 || n >= 8) return false;
    let v: u32 = 0;
    for (let k = i; k < j; k++) {
      const h = hexVal(<u32>load<u8>(k));
      if (h < 0) return false;
      v = (v << 4) | <u32>h;
    }
    store<u16>(out + (n << 1), <u16>v);
    n++;
    if (j == q) break;
    if (load<u8>(j + 1) == 58) {
      if (gap >= 0) return false; // two "::"
      gap = <i32>n;
      i = j + 2;
      if (i == q) break;
    } else {
      i = j + 1;
      if (i == q) return false; // a ':' last
    }
  }
  if (gap < 0) {
    if (n != 8) return false;
  } else {
    if (n > 7) return false;
    // the groups after the gap to the end, zeros in the gap
    const tail = n - <u32>gap;
    for (let k: u32 = 0; k < tail; k++) store<u16>(out + ((7 - k) << 1), load<u16>(out + ((n - 1 - k) << 1)));
    for (let k = <u32>gap; k < 8 - tail; k++) store<u16>(out + (k << 1), 0);
  }
  const g01 = (<u32>load<u16>(out) << 16) | <u32>load<u16>(out + 2);
  const g23 = (<u32>load<u16>(out + 4) << 16) | <u32>load<u16>(out + 6);
  const g45 = (<u32>load<u16>(out + 8) << 16) | <u32>load<u16>(out + 10);
  const g67 = (<u32>load<u16>(out + 12) << 16) | <u32>load<u16>(out + 14);
  store<u32>(out, g01);
  store<u32>(out + 4, g23);
  store<u32>(out + 8, g45);
  store<u32>(out + 12, g67);
  return true;
}

/**
 * Reads the plain lines of inPtr[0, len) that end with '\n' into the columns, at most
 * maxRows of them (map: room for the separator bitmap, len / 8 + 8 bytes); a line that is not plain gets a row with F_PLAIN clear. Stops before
 * a line with no '\n' in the block. Returns the rows written; consumed() the bytes they span.
 */
export function readLines(inPtr: u32, len: u32, rolesPtr: u32, nroles: u32, maxRows: u32, out: u32, map: u32, sinkPtr: u32, idsPtr: u32, seps: u32): u32 {
  const end = inPtr + len;
  // a byte that ends no token and no line just past the block: plainLine's checks of the byte
  // after a token (a space, '\n', '\r') then fail there without a test of the block's end. At
  // a full window it is the low byte of the first row's line start, 0 (the block's start)
  store<u8>(end, 0);
  blockPtr = inPtr;
  mapPtr = map;
  markSeparators(len);
  startRouting(sinkPtr);
  if (quadsAt != sinkPtr - QUADS_BYTES) buildQuads(sinkPtr - QUADS_BYTES);
  const m = maxRows << 2;
  cStart = out; // i32: the line's first byte (relative to inPtr)
  cEnd = cStart + m; // i32: its '\n'
  cFlags = cEnd + m; // u32: F_ bits
  cSrc = cFlags + m; // u32: IPv4 source
  cDst = cSrc + m; // u32: IPv4 destination
  cSport = cDst + m; // u32
  cDport = cSport + m; // u32
  cProto = cDport + m; // u32
  cStartTime = cProto + m; // u32 (Unix seconds)
  cEndTime = cStartTime + m; // u32: the start when the layout has no end
  cTcpFlags = cEndTime + m; // i32: -1 when absent
  cAction = cTcpFlags + m; // u32: 0 unknown, 1 accept, 2 reject
  cDirection = cAction + m; // u32: 0 unknown, 1 ingress, 2 egress
  cRoute = cDirection + m; // i32: the shard, or ROUTE_DONE, ROUTE_EMIT (a plain row)
  cFeed = cRoute + m; // u32: Feed bits of a routed row
  cIfaceS = cFeed + m; // i32 token offsets, of the rows in cJsRows only
  cIfaceE = cIfaceS + m;
  cInstS = cIfaceE + m;
  cInstE = cInstS + m;
  cAccountId = cInstE + m; // i32 dictionary ids (idsOfRow), of every row the caller reads
  cRegionId = cAccountId + m;
  cIfaceId = cRegionId + m; // of a routed row only, 0 where the sink takes none
  cInstanceId = cIfaceId + m;
  cPackets = cInstanceId + m; // f64: NaN when absent
  cBytes = cPackets + (maxRows << 3); // f64
  cSrc6 = cBytes + (maxRows << 3); // four u32 words (most significant first) when F_SRC_V6
  cDst6 = cSrc6 + (maxRows << 4); // likewise, F_DST_V6
  cJsRows = cDst6 + (maxRows << 4); // u32: the rows the caller's JavaScript takes, in order (jsRowCount of them)
  jsRows = 0;
  nodataRows = 0;
  startIds(idsPtr);
  // the layout read by column indexes (columnsRow) where it allows, its separators' list past the bitmap
  const byColumns = layoutColumns(rolesPtr, nroles);
  if (byColumns) {
    listSeparators(len, seps);
    checkLines(nroles, seps, end);
  }
  sepAt = seps;
  let p = inPtr;
  let row: u32 = 0;
  while (p < end && row < maxRows) {
    const r = row << 2;
    let nl: u32;
    if (byColumns) {
      // the list's first separator at or after the line (after a plain line already there, or
      // its "\r\n"'s '\n' to pass); the one before it is p - 1 (the '\n' before, or the list's first)
      while (load<u32>(sepAt) < p) sepAt += 4;
      nl = ColumnsRow.read(p, end, nroles, r, row);
    } else nl = lineRow(p, end, rolesPtr, nroles, r, row);
    let flags = rowFlags;
    if (nl == 0) {
      nl = p;
      while (nl < end && load<u8>(nl) != 10) nl++;
      if (nl >= end) break; // a line not ended in the block is left to the caller
      store<u32>(cJsRows + (jsRows++ << 2), row); // the general loop reads it
      flags = 0;
    }
    store<i32>(cStart + r, p - inPtr);
    store<i32>(cEnd + r, nl - inPtr);
    store<u32>(cFlags + r, flags);
    const ls = p;
    p = nl + 1;
    row++;
    // a line the general loop reads may be a header that changes the layout: the rows after
    // it are left to the next call (whose layout the caller gives), and so are their counts
    if (flags == 0 && mayBeHeader(ls, nl)) break;
  }
  consumedBytes = p - inPtr;
  store<f64>(idsPtr + (I_NODATA << 3), <f64>nodataRows);
  endIds(idsPtr);
  endRouting(sinkPtr);
  return row;
}

/** The F_ bits of the row columnsRow or lineRow read last (when it was plain). */
let rowFlags: u32 = 0;

/**
 * One line from p (not past e) read by plainLine, by the layout's roles, then routed and
 * given its ids: the index of its '\n' when it is plain (its flags in rowFlags), 0 for any
 * line the general loop must read. Every layout columnsRow does not take.
 */
function lineRow(p: u32, end: u32, rolesPtr: u32, nroles: u32, r: u32, row: u32): u32 {
  const r8 = r << 1;
  // the defaults of a field the layout lacks (FlowRecord.clearOptional)
  store<i32>(cTcpFlags + r, -1);
  store<u32>(cAction + r, 0);
  store<u32>(cDirection + r, 0);
  store<f64>(cPackets + r8, NaN);
  store<f64>(cBytes + r8, NaN);
  aS = -1;
  gS = -1;
  fS = -1;
  nS = -1;
  addrFlags = 0;
  noFlow = false;
  // the record ends its line ('\n' or "\r\n") at nl
  const nl = plainLine(p, end, rolesPtr, nroles, r, r8);
  if (nl == 0) return 0;
  if (noFlow) return PlainRow.noData(r, nl);
  rowFlags = F_PLAIN | addrFlags;
  const noRegion = gS < 0 || (gE - gS == 1 && load<u8>(<u32>gS) == 45);
  const route = addrFlags != 0 ? routeRowWords(r, noRegion) : routeRow(r, noRegion);
  store<i32>(cRoute + r, route);
  // a region of '-' leaves the file's default: no token
  if (gS >= 0 && gE - gS == 1 && load<u8>(<u32>gS) == 45) gS = -1;
  // an interface or instance of '-': none (the reader leaves the id 0)
  if (fS >= 0 && fE - fS == 1 && load<u8>(<u32>fS) == 45) fS = -1;
  if (nS >= 0 && nE - nS == 1 && load<u8>(<u32>nS) == 45) nS = -1;
  if (route != ROUTE_DONE) idsOfRow(r, route, load<u32>(cDirection + r), route >= 0 ? load<u32>(cFeed + r) : 0);
  // a row routed into its shard's area or counted alone needs nothing of the caller's loop;
  // one it takes gets where its interface and instance lie (looked up there if it is outbound)
  if (route == ROUTE_EMIT || (route >= 0 && areasPtr == 0)) takenByCaller(r, row);
  return nl;
}

/** Row `row` (r = row * 4) goes on the list of the rows the caller's JavaScript takes, with where its interface and instance lie. */
function takenByCaller(r: u32, row: u32): void {
  const base = <i32>blockPtr;
  store<u32>(cJsRows + (jsRows++ << 2), row);
  store<i32>(cIfaceS + r, fS < 0 ? -1 : fS - base);
  store<i32>(cIfaceE + r, fE - base);
  store<i32>(cInstS + r, nS < 0 ? -1 : nS - base);
  store<i32>(cInstE + r, nE - base);
}

/**
 * Whether the general loop may take the line [p, e) for a header (src/formats/aws.ts
 * header(): a letter or '$' first, after spaces, tabs and '\r').
 */
function mayBeHeader(p: u32, e: u32): bool {
  let i = p;
  while (i < e && (load<u8>(i) == 32 || load<u8>(i) == 9 || load<u8>(i) == 13)) i++;
  if (i >= e) return false;
  const c = <u32>load<u8>(i);
  return (c | 32) - 97 < 26 || c == 36;
}

/**
 * What src/flow/sink.ts emit does with the plain row r (the fields in its columns), by
 * assembly/shared/route.ts routeFlow: its shard (its feed in cFeed, with its slot in its
 * shard's area), ROUTE_DONE when it is counted only, ROUTE_EMIT when the sink must see it.
 */
function routeRow(r: u32, noRegion: bool): i32 {
  const src = load<u32>(cSrc + r);
  const shard = routeFlow(load<u32>(cStartTime + r), load<u32>(cEndTime + r), src, load<u32>(cDst + r), load<u32>(cSport + r), load<u32>(cDport + r), load<u32>(cProto + r), load<i32>(cTcpFlags + r), load<u32>(cDirection + r), noRegion);
  if (shard < 0) return shard;
  const feed = routedFeed;
  let slot: u32 = 0;
  if (areasPtr != 0) {
    const r8 = r << 1;
    slot = toArea(<u32>shard, src, load<u32>(cDst + r), load<f64>(cPackets + r8), load<f64>(cBytes + r8), load<u32>(cStartTime + r), load<u32>(cEndTime + r), load<u32>(cSport + r), load<u32>(cDport + r), load<i32>(cTcpFlags + r), feed, load<u32>(cProto + r), load<u32>(cAction + r), load<u32>(cDirection + r));
  }
  store<u32>(cFeed + r, feed | (slot << 2));
  return shard;
}

/**
 * routeRow of a row with an IPv6 address: its IPv4 address too (if any) written into its
 * four-word column, IPv4-mapped, and the row routed by its words.
 */
function routeRowWords(r: u32, noRegion: bool): i32 {
  const src6 = cSrc6 + (r << 2);
  const dst6 = cDst6 + (r << 2);
  if ((addrFlags & F_SRC_V6) == 0) mapped(src6, load<u32>(cSrc + r));
  if ((addrFlags & F_DST_V6) == 0) mapped(dst6, load<u32>(cDst + r));
  const shard = routeFlowWords(load<u32>(cStartTime + r), load<u32>(cEndTime + r), src6, dst6, load<u32>(cSport + r), load<u32>(cDport + r), load<u32>(cProto + r), load<i32>(cTcpFlags + r), load<u32>(cDirection + r), noRegion);
  if (shard < 0) return shard;
  const feed = routedFeed;
  let slot: u32 = 0;
  if (areasPtr != 0) {
    const r8 = r << 1;
    slot = toAreaWords(<u32>shard, src6, dst6, load<f64>(cPackets + r8), load<f64>(cBytes + r8), load<u32>(cStartTime + r), load<u32>(cEndTime + r), load<u32>(cSport + r), load<u32>(cDport + r), load<i32>(cTcpFlags + r), feed, load<u32>(cProto + r), load<u32>(cAction + r), load<u32>(cDirection + r));
  }
  store<u32>(cFeed + r, feed | (slot << 2));
  return shard;
}

/** An IPv4 address as four words (IPv4-mapped) at p. */
function mapped(p: u32, v: u32): void {
  store<u32>(p, 0);
  store<u32>(p + 4, 0);
  store<u32>(p + 8, 0xffff);
  store<u32>(p + 12, v);
}

// the columns of the current readLines
let cStart: u32 = 0;
let cEnd: u32 = 0;
let cFlags: u32 = 0;
let cSrc: u32 = 0;
let cDst: u32 = 0;
let cSport: u32 = 0;
let cDport: u32 = 0;
let cProto: u32 = 0;
let cStartTime: u32 = 0;
let cEndTime: u32 = 0;
let cTcpFlags: u32 = 0;
let cAction: u32 = 0;
let cDirection: u32 = 0;
let cFeed: u32 = 0;
let cRoute: u32 = 0;
let cIfaceS: u32 = 0;
let cIfaceE: u32 = 0;
let cInstS: u32 = 0;
let cInstE: u32 = 0;
let cPackets: u32 = 0;
let cBytes: u32 = 0;
let cAccountId: u32 = 0;
let cRegionId: u32 = 0;
let cIfaceId: u32 = 0;
let cInstanceId: u32 = 0;
let cSrc6: u32 = 0;
let cDst6: u32 = 0;
let cJsRows: u32 = 0;
/** The rows in cJsRows: those the caller's JavaScript reads (not plain) or takes (ROUTE_EMIT, or routed where there are no areas). */
let jsRows: u32 = 0;

/** How many rows of the last readLines the caller's JavaScript is to take (their indexes in the cJsRows column, ascending). */
export function jsRowCount(): u32 {
  return jsRows;
}

/** The bytes the rows of the last readLines span (up to just past the last row's '\n'). */
export function consumed(): u32 {
  return consumedBytes;
}

/**
 * One line from p (not past e) by the roles: the index of its '\n' when it is plain (its
 * fields stored in row r), 0 for any line the general loop must read.
 */
function plainLine(p: u32, e: u32, rolesPtr: u32, nroles: u32, r: u32, r8: u32): u32 {
  let t = p;
  let q: u32 = 0;
  let hasEnd = false;
  let start: i64 = 0;
  const lastRole = nroles - 1;
  // the separators from p on, taken from the bitmap in order: each is the end of a token
  let word = (p - blockPtr) >> 6;
  let bits = load<u64>(mapPtr + (word << 3)) & (<u64>-1 << <u64>((p - blockPtr) & 63));
  for (let k: u32 = 0; k < nroles; k++) {
    while (bits == 0) bits = load<u64>(mapPtr + (++word << 3)); // ends: markSeparators marks the block's end
    q = blockPtr + (word << 6) + <u32>ctz(bits);
    bits &= bits - 1;
    if (q == t) return 0; // every column is a token: bytes above ' ', at least one
    const role = <u32>load<u8>(rolesPtr + k);
    switch (role) {
      case R_SRCADDR:
      case R_DSTADDR: {
        if (k == lastRole) return 0; // last on the line: scanIPv4Bytes does not take a '\n' after it
        // one place reads both: DottedQuad.read is inlined here
        const src = role == R_SRCADDR;
        const a = Field.address(t, q, (src ? cSrc6 : cDst6) + (r << 2));
        if (a >= 0) store<u32>((src ? cSrc : cDst) + r, <u32>a);
        else if (a == FIELD_DASH) noFlow = true;
        else if (a == FIELD_V6) addrFlags |= src ? F_SRC_V6 : F_DST_V6;
        else return 0;
        break;
      }
      case R_SRCPORT:
      case R_DSTPORT:
      case R_PROTOCOL: {
        const num = Field.bounded(t, q, role == R_PROTOCOL ? 255 : 65535);
        if (num >= 0) store<u32>((role == R_SRCPORT ? cSport : role == R_DSTPORT ? cDport : cProto) + r, <u32>num);
        else if (num == FIELD_DASH) noFlow = true;
        else return 0;
        break;
      }
      case R_PACKETS:
      case R_BYTES: {
        // '-': unknown, NaN (the default)
        const num = Field.count(t, q);
        if (num < 0) return 0;
        store<f64>((role == R_PACKETS ? cPackets : cBytes) + r8, num);
        break;
      }
      case R_START: {
        const num = Field.time(t, q);
        if (num < 0) return 0;
        start = num;
        store<u32>(cStartTime + r, <u32>num);
        break;
      }
      case R_END: {
        const num = Field.time(t, q);
        if (num < 0) return 0;
        hasEnd = true;
        store<u32>(cEndTime + r, <u32>num);
        break;
      }
      case R_TCPFLAGS: {
        // '-': not given, -1 (the default)
        const num = Field.tcpFlags(t, q);
        if (num == FIELD_BAD) return 0;
        store<i32>(cTcpFlags + r, <i32>num);
        break;
      }
      case R_ACCOUNT:
        aS = <i32>t;
        aE = <i32>q;
        break;
      case R_ACTION: {
        const c = <u32>load<u8>(t);
        store<u32>(cAction + r, c == 65 ? 1 : c == 82 ? 2 : 0);
        break;
      }
      case R_DIRECTION: {
        const c = <u32>load<u8>(t);
        store<u32>(cDirection + r, c == 105 ? 1 : c == 101 ? 2 : 0);
        break;
      }
      case R_LOGSTATUS: {
        const c = <u32>load<u8>(t);
        if (c == 78 || c == 83) noFlow = true; // NODATA, SKIPDATA
        break;
      }
      case R_RESOURCETYPE:
        if (load<u8>(t) == 84) noFlow = true; // TransitGateway: out of scope, counted as the general loop counts it
        break;
      case R_REGION:
        gS = <i32>t;
        gE = <i32>q;
        break;
      case R_IFACE:
        fS = <i32>t;
        fE = <i32>q;
        break;
      case R_INSTANCE:
        nS = <i32>t;
        nE = <i32>q;
        break;
      default:
        break;
    }
    // a single space after every column but the last
    if (k < lastRole) {
      if (load<u8>(q) != 32) return 0; // at the block's end a 0 (readLines)
      t = q + 1;
    }
  }
  // the record ends its line: '\n' or "\r\n" (at the block's end a 0, readLines)
  let c = load<u8>(q);
  if (c == 13 && q + 1 < e) c = load<u8>(++q);
  if (c != 10) return 0;
  if (!hasEnd) store<u32>(cEndTime + r, <u32>start);
  return q;
}

/** Columns a layout may have for columnsRow. */
const COLUMNS_MAX: u32 = 64;
/** Where in the block's list of separators (listSeparators) the line ColumnsRow.read reads next has its first. */
let sepAt: u32 = 0;
// the byte offset in that list of the separator before each role's column (its column index times 4), -1: none
let oAccount: i32 = -1;
let oIface: i32 = -1;
let oSrc: i32 = -1;
let oDst: i32 = -1;
let oSport: i32 = -1;
let oDport: i32 = -1;
let oProto: i32 = -1;
let oPackets: i32 = -1;
let oBytes: i32 = -1;
let oStart: i32 = -1;
let oEnd: i32 = -1;
let oAction: i32 = -1;
let oLogStatus: i32 = -1;
let oTcpFlags: i32 = -1;
let oDirection: i32 = -1;
let oRegion: i32 = -1;
let oInstance: i32 = -1;
let oResourceType: i32 = -1;

/**
 * Each role's column of the layout (the o* offsets), and whether columnsRow may read its
 * lines: at most COLUMNS_MAX columns, no role twice (plainLine reads every copy, the last
 * one kept) and no address last (plainLine never takes a line then). Once a readLines: a
 * loop over 14-21 roles against thousands of lines.
 */
function layoutColumns(rolesPtr: u32, nroles: u32): bool {
  oAccount = oIface = oSrc = oDst = oSport = oDport = oProto = oPackets = oBytes = -1;
  oStart = oEnd = oAction = oLogStatus = oTcpFlags = oDirection = oRegion = oInstance = oResourceType = -1;
  if (nroles - 1 >= COLUMNS_MAX) return false;
  let seen: u32 = 0;
  for (let k: u32 = 0; k < nroles; k++) {
    const role = <u32>load<u8>(rolesPtr + k);
    if (role == 0) continue;
    if (role > R_RESOURCETYPE || (seen & (1 << role)) != 0) return false;
    seen |= 1 << role;
    const o = <i32>(k << 2);
    switch (role) {
      case R_ACCOUNT: oAccount = o; break;
      case R_IFACE: oIface = o; break;
      case R_SRCADDR: oSrc = o; break;
      case R_DSTADDR: oDst = o; break;
      case R_SRCPORT: oSport = o; break;
      case R_DSTPORT: oDport = o; break;
      case R_PROTOCOL: oProto = o; break;
      case R_PACKETS: oPackets = o; break;
      case R_BYTES: oBytes = o; break;
      case R_START: oStart = o; break;
      case R_END: oEnd = o; break;
      case R_ACTION: oAction = o; break;
      case R_LOGSTATUS: oLogStatus = o; break;
      case R_TCPFLAGS: oTcpFlags = o; break;
      case R_DIRECTION: oDirection = o; break;
      case R_REGION: oRegion = o; break;
      case R_INSTANCE: oInstance = o; break;
      default: oResourceType = o; break;
    }
  }
  // the columns every layout has (src/formats/aws.ts REQUIRED), and no address last
  if (oSrc < 0 || oDst < 0 || oSport < 0 || oDport < 0 || oProto < 0 || oStart < 0) return false;
  const lastO = <i32>((nroles - 1) << 2);
  return oSrc != lastO && oDst != lastO;
}

/**
 * A column of the line ColumnsRow.read lists, at byte offset `o` of its list of separators
 * `ends` (layoutColumns): its token is [load(ends + o) + 1, load(ends + o + 4)), read by
 * Field's rule for its kind (static methods, inlined: eslint takes their decorators).
 */
class Column {
  @inline
  static address(ends: u32, o: i32, to6: u32): i64 {
    return Field.address(load<u32>(ends + <u32>o) + 1, load<u32>(ends + <u32>o + 4), to6);
  }

  @inline
  static bounded(ends: u32, o: i32, max: u64): i64 {
    return Field.bounded(load<u32>(ends + <u32>o) + 1, load<u32>(ends + <u32>o + 4), max);
  }

  @inline
  static count(ends: u32, o: i32): f64 {
    return Field.count(load<u32>(ends + <u32>o) + 1, load<u32>(ends + <u32>o + 4));
  }

  @inline
  static time(ends: u32, o: i32): i64 {
    return Field.time(load<u32>(ends + <u32>o) + 1, load<u32>(ends + <u32>o + 4));
  }

  @inline
  static tcpFlags(ends: u32, o: i32): i64 {
    return Field.tcpFlags(load<u32>(ends + <u32>o) + 1, load<u32>(ends + <u32>o + 4));
  }

  /** Where a string column's token starts; -1 where the layout lacks it, or (dashIsNone) where it is '-'. */
  @inline
  static tokenStart(ends: u32, o: i32, dashIsNone: bool): i32 {
    if (o < 0) return -1;
    const t = load<u32>(ends + <u32>o) + 1;
    return dashIsNone && isDash(t, load<u32>(ends + <u32>o + 4)) ? -1 : <i32>t;
  }

  /**
   * Where a string column's token ends. Where the layout lacks the column (o = -1) the word
   * read means nothing, and is never read: its start is -1 (no test for it on every line).
   */
  @inline
  static tokenEnd(ends: u32, o: i32): i32 {
    return <i32>load<u32>(ends + <u32>o + 4);
  }
}

/** What lineRow and ColumnsRow.read share of a plain row (static methods, inlined: eslint takes their decorators). */
class PlainRow {
  /** Row r carries no flow: the general loop counts it (FlowSink.noData) and looks nothing up that a row uses; q, its '\n'. */
  @inline
  static noData(r: u32, q: u32): u32 {
    rowFlags = F_PLAIN | F_NODATA;
    store<i32>(cRoute + r, ROUTE_DONE);
    nodataRows++;
    return q;
  }
}

/**
 * columnsRow (ColumnsRow.read, inlined into readLines's loop: as a call it was ~3 % of the
 * module's pass on v2): a static method, which eslint takes the decorator of.
 */
class ColumnsRow {
  /**
   * One line from p (not past e) of a layout layoutColumns allows, read, routed and given its
   * ids, as readLines does with plainLine's row: the index of its '\n' when it is plain (its
   * flags in rowFlags), 0 for any line the general loop must read. Its separators are listed
   * first (the bitmap's set bits, each checked as plainLine checks it, or all at once by
   * checkLines), then each column the
   * layout has is read from where the list puts it, in straight code: a column no role reads
   * costs its separator only, and no column pays a dispatch on its role. Its fields are kept
   * in locals and go straight into the shard's area (toArea): the row's columns are written
   * only for a row the caller's JavaScript takes, or one with an IPv6 address (routeRowWords).
   * The same answer, routes, counts and ids as plainLine's row (test/aws-wasm.test.ts).
   */
  @inline
  static read(p: u32, e: u32, nroles: u32, r: u32, row: u32): u32 {
    // the line's column ends, from the block's list: ends[0] is the byte before the line (p - 1)
    const ends = sepAt - 4;
    let q: u32;
    let at = sepAt;
    let before = p - 1;
    const lastAt = sepAt + ((nroles - 1) << 2);
    if (checkedUntil != 0) {
      // checkLines found the block's lines plain in their separators: all but the last, not ended in the block
      q = load<u32>(lastAt);
      if (q > checkedUntil) return 0;
      at = lastAt;
    } else {
      for (;;) {
        q = load<u32>(at);
        if (q == before + 1) return 0; // every column is a token: bytes above ' ', at least one
        if (at == lastAt) break;
        if (load<u8>(q) != 32) return 0; // a single space after every column but the last (at the block's end a 0)
        before = q;
        at += 4;
      }
    }
    sepAt = at + 4;
    // the record ends its line: '\n' or "\r\n" (at the block's end a 0, readLines)
    let c = load<u8>(q);
    if (c == 13 && q + 1 < e) c = load<u8>(++q);
    if (c != 10) return 0;
    // the addresses, ports, protocol and start (layoutColumns: every layout has them)
    const src = Column.address(ends, oSrc, cSrc6 + (r << 2));
    const dst = Column.address(ends, oDst, cDst6 + (r << 2));
    const sport = Column.bounded(ends, oSport, 65535);
    const dport = Column.bounded(ends, oDport, 65535);
    const proto = Column.bounded(ends, oProto, 255);
    const start = Column.time(ends, oStart);
    let none = false; // no flow (F_NODATA): an address, port or protocol of '-'
    let v6: u32 = 0;
    // one test where the six are plain values, as on nearly every line
    if ((src | dst | sport | dport | proto | start) < 0) {
      if (src == FIELD_BAD || dst == FIELD_BAD || sport == FIELD_BAD || dport == FIELD_BAD || proto == FIELD_BAD || start < 0) return 0;
      none = src == FIELD_DASH || dst == FIELD_DASH || (sport | dport | proto) < 0;
      v6 = (src == FIELD_V6 ? F_SRC_V6 : 0) | (dst == FIELD_V6 ? F_DST_V6 : 0);
    }
    // the columns a layout may lack: their defaults (FlowRecord.clearOptional)
    const finish = oEnd >= 0 ? Column.time(ends, oEnd) : start;
    const packets = oPackets >= 0 ? Column.count(ends, oPackets) : NaN; // '-': unknown
    const bytes = oBytes >= 0 ? Column.count(ends, oBytes) : NaN;
    const tcpFlags = oTcpFlags >= 0 ? Column.tcpFlags(ends, oTcpFlags) : -1; // '-': not given
    if (finish < 0 || packets < 0 || bytes < 0 || tcpFlags == FIELD_BAD) return 0;
    let action: u32 = 0;
    if (oAction >= 0) {
      c = load<u8>(load<u32>(ends + <u32>oAction) + 1);
      action = c == 65 ? 1 : c == 82 ? 2 : 0;
    }
    let direction: u32 = 0;
    if (oDirection >= 0) {
      c = load<u8>(load<u32>(ends + <u32>oDirection) + 1);
      direction = c == 105 ? 1 : c == 101 ? 2 : 0;
    }
    if (oLogStatus >= 0) {
      c = load<u8>(load<u32>(ends + <u32>oLogStatus) + 1);
      if (c == 78 || c == 83) none = true; // NODATA, SKIPDATA
    }
    // TransitGateway: out of scope, counted as the general loop counts it
    if (oResourceType >= 0 && load<u8>(load<u32>(ends + <u32>oResourceType) + 1) == 84) none = true;
    if (none) return PlainRow.noData(r, q);
    rowFlags = F_PLAIN | v6;
    // the string columns' tokens: a region of '-' leaves the file's default, an interface or instance of '-' is none
    aS = Column.tokenStart(ends, oAccount, false);
    aE = Column.tokenEnd(ends, oAccount);
    gS = Column.tokenStart(ends, oRegion, true);
    gE = Column.tokenEnd(ends, oRegion);
    const r4 = r;
    let route: i32;
    let written = false; // the row's columns
    let feedSlot: u32 = 0; // a routed row's Feed bits and its slot in its shard's area (cFeed's word)
    if (v6 != 0) {
      writeColumns(r4, <u32>src, <u32>dst, <u32>sport, <u32>dport, <u32>proto, <u32>start, <u32>finish, <i32>tcpFlags, action, direction, packets, bytes);
      written = true;
      addrFlags = v6;
      route = routeRowWords(r4, gS < 0);
      if (route >= 0) feedSlot = load<u32>(cFeed + r4);
    } else {
      route = RouteFlow.route(<u32>start, <u32>finish, <u32>src, <u32>dst, <u32>sport, <u32>dport, <u32>proto, <i32>tcpFlags, direction, gS < 0);
      if (route >= 0) {
        const feed = routedFeed;
        const slot = areasPtr != 0 ? AreaRow.put(<u32>route, <u32>src, <u32>dst, packets, bytes, <u32>start, <u32>finish, <u32>sport, <u32>dport, <i32>tcpFlags, feed, <u32>proto, action, direction) : 0;
        feedSlot = feed | (slot << 2);
        store<u32>(cFeed + r4, feedSlot); // the caller's JavaScript reads it (src/formats/aws.ts routedBefore, emitRows)
      }
    }
    store<i32>(cRoute + r4, route);
    // the interface and instance: only a row with an outbound feed looks them up (IdsOfRow), and one the caller takes is told where they lie
    if (route == ROUTE_EMIT || (route >= 0 && (areasPtr == 0 || (feedSlot & FEED_OUTBOUND) != 0))) {
      fS = Column.tokenStart(ends, oIface, true);
      fE = Column.tokenEnd(ends, oIface);
      nS = Column.tokenStart(ends, oInstance, true);
      nE = Column.tokenEnd(ends, oInstance);
    } else {
      fS = -1;
      nS = -1;
    }
    if (route != ROUTE_DONE) IdsOfRow.set(r4, route, direction, feedSlot);
    // a row routed into its shard's area or counted alone needs nothing of the caller's loop;
    // one it takes gets its columns, and where its interface and instance lie (looked up there if it is outbound)
    if (route == ROUTE_EMIT || (route >= 0 && areasPtr == 0)) {
      if (!written) writeColumns(r4, <u32>src, <u32>dst, <u32>sport, <u32>dport, <u32>proto, <u32>start, <u32>finish, <i32>tcpFlags, action, direction, packets, bytes);
      takenByCaller(r4, row);
    }
    return q;
  }
}

/** A row's fields into its columns (readLines lays them out), for the caller's JavaScript or routeRowWords. */
function writeColumns(r: u32, src: u32, dst: u32, sport: u32, dport: u32, proto: u32, start: u32, end: u32, tcpFlags: i32, action: u32, direction: u32, packets: f64, bytes: f64): void {
  store<u32>(cSrc + r, src);
  store<u32>(cDst + r, dst);
  store<u32>(cSport + r, sport);
  store<u32>(cDport + r, dport);
  store<u32>(cProto + r, proto);
  store<u32>(cStartTime + r, start);
  store<u32>(cEndTime + r, end);
  store<i32>(cTcpFlags + r, tcpFlags);
  store<u32>(cAction + r, action);
  store<u32>(cDirection + r, direction);
  store<f64>(cPackets + (r << 1), packets);
  store<f64>(cBytes + (r << 1), bytes);
}

// String ids: the account, region, interface and instance tokens of a row as the sink's
// dictionary ids, looked up in the table of shared/token-ids.ts, where the JavaScript reader
// looked each up in its LastValue caches and the dictionary a row at a time; the caller looks
// the call's new entries up (I_NEW_FROM, I_NEW_TO) and calls fixIds, which puts their ids into the rows.
// The reader's block (at idsPtr, chosen by the caller): f64 slots, then the table at + 64.
const I_NODATA = 0; // the rows of a call that carry no flow (F_NODATA)
const I_DEFAULT_ACCOUNT = 1; // the file's account and region ids: a row without the token
const I_DEFAULT_REGION = 2;
const I_DICT_RESET = 3; // 1: another dictionary: every entry forgotten
const I_NEW_FROM = 4; // the entries a call added: [from, to)
const I_NEW_TO = 5;
const FEED_OUTBOUND: u32 = 2; // src/flow/types.ts Feed.outbound

let defaultAccount: i32 = 0;
let defaultRegion: i32 = 0;
// the last account and region token looked up in this call, and their ids
let lastAccountP: u32 = 0;
let lastAccountN: u32 = 0xffffffff;
let lastAccountId: i32 = 0;
let lastRegionP: u32 = 0;
let lastRegionN: u32 = 0xffffffff;
let lastRegionId: i32 = 0;

function startIds(at: u32): void {
  defaultAccount = <i32>load<f64>(at + (I_DEFAULT_ACCOUNT << 3));
  defaultRegion = <i32>load<f64>(at + (I_DEFAULT_REGION << 3));
  startTokens(at + 64, load<f64>(at + (I_DICT_RESET << 3)) != 0);
  lastAccountN = 0xffffffff;
  lastRegionN = 0xffffffff;
}

function endIds(at: u32): void {
  lookUpDeferred();
  store<f64>(at + (I_NEW_FROM << 3), <f64>newFrom);
  store<f64>(at + (I_NEW_TO << 3), <f64>tokenCount());
}

/**
 * The ids of row r (its tokens aS.., gS.., fS.., nS..; -1: none) as src/formats/aws.ts
 * gave them a row it reads: the account and region of every row (the file's where it has
 * none), the interface and instance of a routed row where the sink's append takes them
 * (an outbound record's source host, not an internal one logged where it arrived).
 */
function idsOfRow(r: u32, route: i32, direction: u32, feedSlot: u32): void {
  IdsOfRow.set(r, route, direction, feedSlot);
}

/**
 * Whether two tokens of n bytes are the same, as sameBytes answers: one of 8 to 16 bytes (an
 * account's 12 digits, a region) as two words that overlap, without sameBytes' loop and its
 * shift by a variable count (a static method, inlined: eslint takes its decorator).
 */
class SameToken {
  @inline
  static bytes(a: u32, b: u32, n: u32): bool {
    if (n - 8 > 8) return sameBytes(a, b, n);
    return (load<u64>(a) == load<u64>(b)) & (load<u64>(a + n - 8) == load<u64>(b + n - 8));
  }
}

/** idsOfRow's body, inlined where columnsRow reads a row (a static method, which eslint takes the decorator of): as a call ~3 % of the module's pass on v2. */
class IdsOfRow {
  @inline
  static set(r: u32, route: i32, direction: u32, feedSlot: u32): void {
    let account = defaultAccount;
    if (aS >= 0) {
      const n = <u32>(aE - aS);
      if (n != lastAccountN || !SameToken.bytes(lastAccountP, <u32>aS, n)) {
        lastAccountId = idOfToken(<u32>aS, n);
        lastAccountP = <u32>aS;
        lastAccountN = n;
      }
      account = lastAccountId;
    }
    let region = defaultRegion;
    if (gS >= 0) {
      const n = <u32>(gE - gS);
      if (n != lastRegionN || !SameToken.bytes(lastRegionP, <u32>gS, n)) {
        lastRegionId = idOfToken(<u32>gS, n);
        lastRegionP = <u32>gS;
        lastRegionN = n;
      }
      region = lastRegionId;
    }
    const iface: i32 = 0;
    const instance: i32 = 0;
    let lookUp = false;
    if (route >= 0) {
      const feed = feedSlot & 3;
      if ((feed & FEED_OUTBOUND) != 0 && !(feed == FEED_OUTBOUND && direction == 1)) {
        lookUp = true;
      }
    }
    // a row routed into its shard's area has its ids there (the sink copies them a run at a
    // time) and nowhere else; every other row in the id columns, for the caller's JavaScript
    let ifaceAt: u32;
    let step: u32;
    if (route >= 0 && areasPtr != 0) {
      ifaceAt = toAreaIds(<u32>route, feedSlot >> 2, account, region, iface, instance);
      step = areaIdStep();
    } else {
      store<i32>(cAccountId + r, account);
      store<i32>(cRegionId + r, region);
      store<i32>(cIfaceId + r, iface);
      store<i32>(cInstanceId + r, instance);
      ifaceAt = cIfaceId + r;
      step = cInstanceId - cIfaceId;
    }
    // an outbound row's interface and instance: looked up at the call's end (lookUpDeferred), where their misses overlap
    if (lookUp) {
      if (fS >= 0) deferToken(ifaceAt, <u32>fS, <u32>(fE - fS));
      if (nS >= 0) deferToken(ifaceAt + step, <u32>nS, <u32>(nE - nS));
    }
  }
}

/**
 * The ids of the table's new entries (the caller wrote them) into the rows of the last call
 * (`rows` of them) that hold ids: the id columns of the rows the caller's JavaScript takes
 * (cJsRows; IdsOfRow writes no other row's) and the shards' areas.
 */
export function fixIds(rows: u32): void {
  const step = cRegionId - cAccountId;
  for (let j: u32 = 0; j < jsRows; j++) {
    const r = load<u32>(cJsRows + (j << 2));
    if (r >= rows) break;
    for (let c = cAccountId + (r << 2); c < cAccountId + 4 * step; c += step) store<i32>(c, fixedId(load<i32>(c)));
  }
  fixAreaIds();
}
