// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/aws-lines.wasm; not part of
// tsc's build). The plain lines of an AWS flow-log text block read into columns, for every
// layout by one loop over its role table (src/formats/aws-columns.ts `Role`), where the
// JavaScript path generates and compiles one reader per layout (60-90 ms of optimising
// compile per layout per thread, bench/RESULTS.md).
//
// A line is read here only when it is written plainly, exactly as a compiled reader takes
// it: single spaces, dotted-quad IPv4 addresses, numbers of 1-15 digits, a flow record (not
// NODATA, SKIPDATA or a Transit Gateway record), ended by '\n' or "\r\n". Every other line
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
// block of assembly/shared/route.ts), and the shards' areas where the sink's settings say.

import { ROUTE_DONE, areasPtr, endRouting, routeFlow, routedFeed, startRouting, toArea } from './shared/route';

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
const F_ACCOUNT_DIGITS: u32 = 2; // the account token is 1-14 digits, its value in `accountValue`
const F_ACCOUNT_SAME: u32 = 4; // the account token is the previous plain row's, byte for byte
const F_REGION_SAME: u32 = 8; // the region token is the previous plain row's (neither is '-')

// the block and its separator bitmap (markSeparators)
let blockPtr: u32 = 0;
let mapPtr: u32 = 0;
// the row's tokens (absolute addresses; -1: absent)
let aS: i32 = -1;
let aE: i32 = 0;
let aDigits: bool = false;
let gS: i32 = -1;
let gE: i32 = 0;
let fS: i32 = -1;
let fE: i32 = 0;
let nS: i32 = -1;
let nE: i32 = 0;
let consumedBytes: u32 = 0;

/**
 * Marks every byte of the block below '!' (a space, a tab, '\r', '\n', a control byte: what
 * ends a token) in a bitmap at mapPtr, sixteen bytes at a time, and the block's end too:
 * a line's token ends are then its bitmap's set bits, taken in order (plainLine), rather
 * than found byte by byte.
 */
function markSeparators(len: u32): void {
  const space = i8x16.splat(33);
  const words = (len >> 6) + 1;
  for (let w: u32 = 0; w < words; w++) {
    const at = blockPtr + (w << 6);
    const m0 = <u64>i8x16.bitmask(i8x16.lt_u(v128.load(at), space));
    const m1 = <u64>i8x16.bitmask(i8x16.lt_u(v128.load(at + 16), space));
    const m2 = <u64>i8x16.bitmask(i8x16.lt_u(v128.load(at + 32), space));
    const m3 = <u64>i8x16.bitmask(i8x16.lt_u(v128.load(at + 48), space));
    store<u64>(mapPtr + (w << 3), m0 | (m1 << 16) | (m2 << 32) | (m3 << 48));
  }
  // past the block: a separator at len, nothing after it
  const last = mapPtr + ((len >> 6) << 3);
  const bit = <u64>(len & 63);
  store<u64>(last, (load<u64>(last) & ((<u64>1 << bit) - 1)) | (<u64>1 << bit));
}

/**
 * The n digits (1 to 8) at p as a number, eight bytes at a time: they are moved to the top
 * of a word whose lower bytes are filled with '0', checked to be digits and combined in
 * three multiplications. -1 when a byte is not a digit.
 */
function digits8(p: u32, n: u32): i64 {
  const pad = (8 - n) << 3;
  let w = load<u64>(p) << <u64>pad; // the bytes past the n digits fall off the top
  if (pad != 0) w |= <u64>0x3030303030303030 >> <u64>(64 - pad);
  // a digit has high nibble 3 and stays below 0x3a when 6 is added
  if (((w & 0xf0f0f0f0f0f0f0f0) | (((w + 0x0606060606060606) & 0xf0f0f0f0f0f0f0f0) >> 4)) != 0x3333333333333333) return -1;
  w = ((w & 0x0f0f0f0f0f0f0f0f) * 2561) >> 8;
  w = ((w & 0x00ff00ff00ff00ff) * 6553601) >> 16;
  return <i64>(((w & 0x0000ffff0000ffff) * 42949672960001) >> 32);
}

/** The roles read as numbers (bits by Role): the account, srcport to end, tcp-flags. */
const NUMERIC_ROLES: u32 = (1 << R_ACCOUNT) | (0x7f << R_SRCPORT) | (1 << R_TCPFLAGS);

/**
 * [p, q) as a dotted quad, as src/net/address.ts scanIPv4Bytes reads it (four parts of 1-3
 * digits, no leading zeros, 0-255): the address, or -1. The token's sixteen bytes are
 * classed at once (digits, dots); the parts are then read between the dots.
 */
export function ipv4(p: u32, q: u32): i64 {
  const n = q - p;
  if (n - 7 > 8) return -1; // 7 to 15 bytes
  const v = v128.load(p);
  const live = (1 << n) - 1;
  const dots = i8x16.bitmask(i8x16.eq(v, i8x16.splat(46))) & live;
  const digits = i8x16.bitmask(i8x16.lt_u(i8x16.sub(v, i8x16.splat(48)), i8x16.splat(10))) & live;
  if ((dots | digits) != live || popcnt(dots) != 3) return -1;
  let ends = dots | (1 << n); // each part ends at a dot, the last at the token's end
  let value: u32 = 0;
  let s: u32 = 0;
  for (let k = 0; k < 4; k++) {
    const e = <u32>ctz(ends);
    ends &= ends - 1;
    const d0 = <u32>load<u8>(p + s) - 48;
    let part = d0;
    const len = e - s;
    if (len == 2) {
      if (d0 == 0) return -1; // a leading zero
      part = d0 * 10 + (<u32>load<u8>(p + s + 1) - 48);
    } else if (len == 3) {
      if (d0 == 0) return -1;
      part = d0 * 100 + (<u32>load<u8>(p + s + 1) - 48) * 10 + (<u32>load<u8>(p + s + 2) - 48);
      if (part > 255) return -1;
    } else if (len != 1) {
      return -1; // two dots in a row, or four digits
    }
    value = (value << 8) | part;
    s = e + 1;
  }
  return <i64>value;
}

/** Same bytes in [a, a + n) and [b, b + n): eight at a time, then the last (up to) eight. */
function sameBytes(a: u32, b: u32, n: u32): bool {
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(a + k) != load<u64>(b + k)) return false;
  if (k == n) return true;
  const drop = <u64>((8 - (n - k)) << 3); // the bytes past n fall off the top
  return load<u64>(a + k) << drop == load<u64>(b + k) << drop;
}

/**
 * Reads the plain lines of inPtr[0, len) that end with '\n' into the columns, at most
 * maxRows of them (map: room for the separator bitmap, len / 8 + 8 bytes); a line that is not plain gets a row with F_PLAIN clear. Stops before
 * a line with no '\n' in the block. Returns the rows written; consumed() the bytes they span.
 */
export function readLines(inPtr: u32, len: u32, rolesPtr: u32, nroles: u32, maxRows: u32, out: u32, map: u32, sinkPtr: u32): u32 {
  const end = inPtr + len;
  blockPtr = inPtr;
  mapPtr = map;
  markSeparators(len);
  startRouting(sinkPtr);
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
  const cRoute = cDirection + m; // i32: the shard, or ROUTE_DONE, ROUTE_EMIT (a plain row)
  cFeed = cRoute + m; // u32: Feed bits of a routed row
  const cAccountS = cFeed + m; // i32 token offsets
  const cAccountE = cAccountS + m;
  const cRegionS = cAccountE + m;
  const cRegionE = cRegionS + m;
  const cIfaceS = cRegionE + m;
  const cIfaceE = cIfaceS + m;
  const cInstS = cIfaceE + m;
  const cInstE = cInstS + m;
  cPackets = cInstE + m; // f64: NaN when absent
  cBytes = cPackets + (maxRows << 3); // f64
  cAccountValue = cBytes + (maxRows << 3); // f64
  let prevAS: i32 = -1;
  let prevAE: i32 = 0;
  let prevGS: i32 = -1;
  let prevGE: i32 = 0;
  const base = <i32>inPtr;
  let p = inPtr;
  let row: u32 = 0;
  while (p < end && row < maxRows) {
    const r = row << 2;
    const r8 = row << 3;
    // the defaults of a field the layout lacks (FlowRecord.clearOptional)
    store<i32>(cTcpFlags + r, -1);
    store<u32>(cAction + r, 0);
    store<u32>(cDirection + r, 0);
    store<f64>(cPackets + r8, NaN);
    store<f64>(cBytes + r8, NaN);
    aS = -1;
    aDigits = false;
    gS = -1;
    fS = -1;
    nS = -1;
    // the record ends its line ('\n' or "\r\n") at nl; any other line: found by a search for its '\n'
    const ls = p;
    let nl = plainLine(p, end, rolesPtr, nroles, r, r8);
    let flags: u32 = 0;
    if (nl != 0) {
      flags = F_PLAIN;
      const route = routeRow(r, gS < 0 || (gE - gS == 1 && load<u8>(<u32>gS) == 45));
      store<i32>(cRoute + r, route);
      // the account and region of a row the caller looks up, compared with the last such row's
      if (route == ROUTE_DONE) {
        // nothing of the row is looked up: the next row is compared with the one before
      } else if (aS >= 0) {
        if (aDigits) flags |= F_ACCOUNT_DIGITS;
        if (prevAS >= 0 && prevAE - prevAS == aE - aS && sameBytes(<u32>prevAS, <u32>aS, <u32>(aE - aS))) flags |= F_ACCOUNT_SAME;
        prevAS = aS;
        prevAE = aE;
      }
      // a region of '-' leaves the file's default: no token, and no "same" for the next row
      if (gS >= 0 && gE - gS == 1 && load<u8>(<u32>gS) == 45) gS = -1;
      if (gS >= 0 && route != ROUTE_DONE) {
        if (prevGS >= 0 && prevGE - prevGS == gE - gS && sameBytes(<u32>prevGS, <u32>gS, <u32>(gE - gS))) flags |= F_REGION_SAME;
        prevGS = gS;
        prevGE = gE;
      }
      // an interface or instance of '-': none (the reader leaves the id 0)
      if (fS >= 0 && fE - fS == 1 && load<u8>(<u32>fS) == 45) fS = -1;
      if (nS >= 0 && nE - nS == 1 && load<u8>(<u32>nS) == 45) nS = -1;
      store<i32>(cAccountS + r, aS < 0 ? -1 : aS - base);
      store<i32>(cAccountE + r, aE - base);
      store<i32>(cRegionS + r, gS < 0 ? -1 : gS - base);
      store<i32>(cRegionE + r, gE - base);
      store<i32>(cIfaceS + r, fS < 0 ? -1 : fS - base);
      store<i32>(cIfaceE + r, fE - base);
      store<i32>(cInstS + r, nS < 0 ? -1 : nS - base);
      store<i32>(cInstE + r, nE - base);
    } else {
      nl = p;
      while (nl < end && load<u8>(nl) != 10) nl++;
      if (nl >= end) break; // a line not ended in the block is left to the caller
    }
    store<i32>(cStart + r, p - inPtr);
    store<i32>(cEnd + r, nl - inPtr);
    store<u32>(cFlags + r, flags);
    p = nl + 1;
    row++;
    // a line the general loop reads may be a header that changes the layout: the rows after
    // it are left to the next call (whose layout the caller gives), and so are their counts
    if (flags == 0 && mayBeHeader(ls, nl)) break;
  }
  consumedBytes = p - inPtr;
  endRouting(sinkPtr);
  return row;
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
let cPackets: u32 = 0;
let cBytes: u32 = 0;
let cAccountValue: u32 = 0;

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
  let start: u64 = 0;
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
    // a numeric column (or the account) read as a number here, in one place for all of them
    // (a call a column to number() was a tenth of the parse)
    let isNumber = false;
    let num: u64 = 0;
    if (((NUMERIC_ROLES >> role) & 1) != 0) {
      const n = q - t;
      if (n <= 8) {
        const x = digits8(t, n);
        num = <u64>x;
        isNumber = x >= 0;
      } else if (n <= 15) {
        const hi = digits8(t, n - 8);
        const lo = digits8(q - 8, 8);
        num = <u64>hi * 100000000 + <u64>lo;
        isNumber = (hi | lo) >= 0;
      }
    }
    switch (role) {
      case R_SRCADDR:
      case R_DSTADDR: {
        // one call of ipv4 for both: it is inlined
        const a = ipv4(t, q);
        if (a < 0 || k == lastRole) return 0; // last on the line: scanIPv4Bytes does not take a '\n' after it
        store<u32>((role == R_SRCADDR ? cSrc : cDst) + r, <u32>a);
        break;
      }
      case R_SRCPORT:
        if (!isNumber || num > 65535) return 0; // out of range: the general loop, and the sink words the reject
        store<u32>(cSport + r, <u32>num);
        break;
      case R_DSTPORT:
        if (!isNumber || num > 65535) return 0;
        store<u32>(cDport + r, <u32>num);
        break;
      case R_PROTOCOL:
        if (!isNumber || num > 255) return 0;
        store<u32>(cProto + r, <u32>num);
        break;
      case R_PACKETS:
        if (!isNumber) return 0;
        store<f64>(cPackets + r8, <f64>num);
        break;
      case R_BYTES:
        if (!isNumber) return 0;
        store<f64>(cBytes + r8, <f64>num);
        break;
      case R_START:
        if (!isNumber || num > 0xffffffff) return 0;
        start = num;
        store<u32>(cStartTime + r, <u32>num);
        break;
      case R_END:
        if (!isNumber || num > 0xffffffff) return 0;
        hasEnd = true;
        store<u32>(cEndTime + r, <u32>num);
        break;
      case R_TCPFLAGS:
        if (!isNumber || num > 0x7fffffff) return 0;
        store<i32>(cTcpFlags + r, <i32>num);
        break;
      case R_ACCOUNT: {
        // read as a number where it is one (1-14 digits), to look it up without its bytes
        const digits = q - t <= 14 && isNumber;
        aS = <i32>t;
        aE = <i32>q;
        aDigits = digits;
        store<f64>(cAccountValue + r8, digits ? <f64>num : 0);
        break;
      }
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
        if (c == 78 || c == 83) return 0; // NODATA, SKIPDATA
        break;
      }
      case R_RESOURCETYPE:
        if (load<u8>(t) == 84) return 0; // TransitGateway
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
      if (q >= e || load<u8>(q) != 32) return 0;
      t = q + 1;
    }
  }
  // the record ends its line: '\n' or "\r\n"
  if (q >= e) return 0;
  let c = load<u8>(q);
  if (c == 13 && q + 1 < e) c = load<u8>(++q);
  if (c != 10) return 0;
  if (!hasEnd) store<u32>(cEndTime + r, <u32>start);
  return q;
}
