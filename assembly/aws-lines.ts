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
// Memory (all offsets in bytes, chosen by the caller, src/formats/aws-wasm.ts): the block's
// bytes at `inPtr`, the layout's roles (one byte a column) at `rolesPtr`, and the columns of
// `maxRows` rows each from `out`, in the order of the COLUMN constants below.

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

// where the current token or number ended, and the number read
let pos: u32 = 0;
let num: u64 = 0;
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

/** A token of bytes above ' ' from p (not past end), its end in pos: false when empty. */
function token(p: u32, end: u32): bool {
  let i = p;
  while (i < end && load<u8>(i) > 32) i++;
  pos = i;
  return i != p;
}

/** 1 to 15 digits from p into num; false for none or more than 15. */
function number(p: u32, end: u32): bool {
  let v: u64 = 0;
  let i = p;
  while (i < end) {
    const d = <u32>load<u8>(i) - 48;
    if (d > 9) break;
    v = v * 10 + <u64>d;
    i++;
  }
  pos = i;
  num = v;
  return i != p && i - p <= 15;
}

/**
 * A dotted quad from p up to a space, a tab or end, as src/net/address.ts scanIPv4Bytes
 * reads it (no leading zeros, parts of 0-255): the address, or -1.
 */
function ipv4(p: u32, end: u32): i64 {
  let value: u32 = 0;
  let part: u32 = 0;
  let digits: u32 = 0;
  let parts: u32 = 0;
  let i = p;
  for (; i < end; i++) {
    const c = <u32>load<u8>(i);
    if (c - 48 <= 9) {
      if (digits == 1 && part == 0) return -1;
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255 || digits > 3) return -1;
    } else if (c == 46) {
      if (digits == 0 || parts == 3) return -1;
      value = (value << 8) | part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c == 32 || c == 9) {
      break;
    } else {
      return -1;
    }
  }
  if (digits == 0 || parts != 3) return -1;
  pos = i;
  return <i64>((value << 8) | part);
}

/** Same bytes in [a, a + n) and [b, b + n). */
function sameBytes(a: u32, b: u32, n: u32): bool {
  for (let k: u32 = 0; k < n; k++) if (load<u8>(a + k) != load<u8>(b + k)) return false;
  return true;
}

/**
 * Reads the plain lines of inPtr[0, len) that end with '\n' into the columns, at most
 * maxRows of them; a line that is not plain gets a row with F_PLAIN clear. Stops before
 * a line with no '\n' in the block. Returns the rows written; consumed() the bytes they span.
 */
export function readLines(inPtr: u32, len: u32, rolesPtr: u32, nroles: u32, maxRows: u32, out: u32): u32 {
  const end = inPtr + len;
  const m = maxRows << 2;
  const cStart = out; // i32: the line's first byte (relative to inPtr)
  const cEnd = cStart + m; // i32: its '\n'
  const cFlags = cEnd + m; // u32: F_ bits
  const cSrc = cFlags + m; // u32: IPv4 source
  const cDst = cSrc + m; // u32: IPv4 destination
  const cSport = cDst + m; // u32
  const cDport = cSport + m; // u32
  const cProto = cDport + m; // u32
  const cStartTime = cProto + m; // u32 (Unix seconds)
  const cEndTime = cStartTime + m; // u32: the start when the layout has no end
  const cTcpFlags = cEndTime + m; // i32: -1 when absent
  const cAction = cTcpFlags + m; // u32: 0 unknown, 1 accept, 2 reject
  const cDirection = cAction + m; // u32: 0 unknown, 1 ingress, 2 egress
  const cAccountS = cDirection + m; // i32 token offsets
  const cAccountE = cAccountS + m;
  const cRegionS = cAccountE + m;
  const cRegionE = cRegionS + m;
  const cIfaceS = cRegionE + m;
  const cIfaceE = cIfaceS + m;
  const cInstS = cIfaceE + m;
  const cInstE = cInstS + m;
  const cPackets = cInstE + m; // f64: NaN when absent
  const cBytes = cPackets + (maxRows << 3); // f64
  const cAccountValue = cBytes + (maxRows << 3); // f64
  let prevAS: i32 = -1;
  let prevAE: i32 = 0;
  let prevGS: i32 = -1;
  let prevGE: i32 = 0;
  let p = inPtr;
  let row: u32 = 0;
  while (p < end && row < maxRows) {
    // the line's '\n': a line not ended in the block is left to the caller
    let nl = p;
    while (nl < end && load<u8>(nl) != 10) nl++;
    if (nl >= end) break;
    const r = row << 2;
    const r8 = row << 3;
    store<i32>(cStart + r, p - inPtr);
    store<i32>(cEnd + r, nl - inPtr);
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
    let flags: u32 = 0;
    if (plainLine(p, nl + 1, rolesPtr, nroles, r, r8, cSrc, cDst, cSport, cDport, cProto, cStartTime, cEndTime, cTcpFlags, cAction, cDirection, cPackets, cBytes, cAccountValue)) {
      flags = F_PLAIN;
      const base = <i32>inPtr;
      if (aS >= 0) {
        if (aDigits) flags |= F_ACCOUNT_DIGITS;
        if (prevAS >= 0 && prevAE - prevAS == aE - aS && sameBytes(<u32>prevAS, <u32>aS, <u32>(aE - aS))) flags |= F_ACCOUNT_SAME;
        prevAS = aS;
        prevAE = aE;
      }
      // a region of '-' leaves the file's default: no token, and no "same" for the next row
      if (gS >= 0 && gE - gS == 1 && load<u8>(<u32>gS) == 45) gS = -1;
      if (gS >= 0) {
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
    }
    store<u32>(cFlags + r, flags);
    p = nl + 1;
    row++;
  }
  consumedBytes = p - inPtr;
  return row;
}

/** The bytes the rows of the last readLines span (up to just past the last row's '\n'). */
export function consumed(): u32 {
  return consumedBytes;
}

/**
 * One line from p (e just past its '\n') by the roles: true when it is plain (its fields
 * stored in row r), false for any line the general loop must read.
 */
function plainLine(
  p: u32, e: u32, rolesPtr: u32, nroles: u32, r: u32, r8: u32,
  cSrc: u32, cDst: u32, cSport: u32, cDport: u32, cProto: u32, cStartTime: u32, cEndTime: u32, cTcpFlags: u32,
  cAction: u32, cDirection: u32, cPackets: u32, cBytes: u32, cAccountValue: u32,
): bool {
  let i = p;
  let hasEnd = false;
  let start: u64 = 0;
  for (let k: u32 = 0; k < nroles; k++) {
    const role = <u32>load<u8>(rolesPtr + k);
    const t = i;
    if (role == R_SRCADDR || role == R_DSTADDR) {
      const a = ipv4(i, e);
      if (a < 0) return false;
      store<u32>((role == R_SRCADDR ? cSrc : cDst) + r, <u32>a);
    } else if (role >= R_SRCPORT && role <= R_END || role == R_TCPFLAGS) {
      if (!number(i, e)) return false;
      const v = num;
      if (role == R_SRCPORT || role == R_DSTPORT) {
        if (v > 65535) return false; // the sink rejects it: the general loop words the reject
        store<u32>((role == R_SRCPORT ? cSport : cDport) + r, <u32>v);
      } else if (role == R_PROTOCOL) {
        if (v > 255) return false;
        store<u32>(cProto + r, <u32>v);
      } else if (role == R_PACKETS) {
        store<f64>(cPackets + r8, <f64>v);
      } else if (role == R_BYTES) {
        store<f64>(cBytes + r8, <f64>v);
      } else if (role == R_START) {
        if (v > 0xffffffff) return false;
        start = v;
        store<u32>(cStartTime + r, <u32>v);
      } else if (role == R_END) {
        if (v > 0xffffffff) return false;
        hasEnd = true;
        store<u32>(cEndTime + r, <u32>v);
      } else {
        if (v > 0x7fffffff) return false;
        store<i32>(cTcpFlags + r, <i32>v);
      }
    } else if (role == R_ACCOUNT) {
      // read as a number where it is one, to look it up without its bytes
      let v: u64 = 0;
      let digits = true;
      while (i < e) {
        const c = <u32>load<u8>(i);
        if (c <= 32) break;
        const d = c - 48;
        if (d > 9) digits = false;
        else v = v * 10 + <u64>d;
        i++;
      }
      if (i == t) return false;
      pos = i;
      aS = <i32>t;
      aE = <i32>i;
      aDigits = digits && i - t <= 14;
      store<f64>(cAccountValue + r8, aDigits ? <f64>v : 0);
    } else {
      if (!token(i, e)) return false;
      const c = <u32>load<u8>(t);
      if (role == R_ACTION) store<u32>(cAction + r, c == 65 ? 1 : c == 82 ? 2 : 0);
      else if (role == R_DIRECTION) store<u32>(cDirection + r, c == 105 ? 1 : c == 101 ? 2 : 0);
      else if (role == R_LOGSTATUS) {
        if (c == 78 || c == 83) return false; // NODATA, SKIPDATA
      } else if (role == R_RESOURCETYPE) {
        if (c == 84) return false; // TransitGateway
      } else if (role == R_REGION) {
        gS = <i32>t;
        gE = <i32>pos;
      } else if (role == R_IFACE) {
        fS = <i32>t;
        fE = <i32>pos;
      } else if (role == R_INSTANCE) {
        nS = <i32>t;
        nE = <i32>pos;
      }
    }
    i = pos;
    // a single space after every column but the last
    if (k + 1 < nroles) {
      if (i >= e || load<u8>(i) != 32) return false;
      i++;
    }
  }
  // the record ends its line: '\n' or "\r\n"
  if (!(i < e && (load<u8>(i) == 10 || (load<u8>(i) == 13 && i + 1 < e && load<u8>(i + 1) == 10)))) return false;
  if (!hasEnd) store<u32>(cEndTime + r, <u32>start);
  return true;
}
