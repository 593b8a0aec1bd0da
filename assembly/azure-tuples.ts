// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/azure-tuples.wasm; not part of
// tsc's build). The Azure tuple fast path (src/formats/azure-fast.ts) for all the tuples of
// one record at once: each tuple "ts,src,dst,sport,dport,…" is read as nsgTupleFast /
// vnetTupleFast read it, field by field where it stands, into a row; a tuple they would
// not take (IPv6, an unusual letter, a long number, a wrong count of fields, …) is marked
// not taken, and src/formats/azure.ts reads it with the JavaScript readers, which give the
// same record or the reason it is refused (test/azure-wasm.test.ts compares both).
//
// A taken tuple is then routed as src/flow/sink.ts emit routes a record, where the sink allows
// it (assembly/shared/route.ts): counted alone, handed to emit, or given its shard and its
// batch columns written into that shard's area (R_ROUTE, R_FEED).
//
// A plain record is walked here too (readRecord): its envelope strings, version, flows and
// tuple spans found as src/formats/azure.ts walks a record, for endRecord there; any record
// written otherwise is left to that walk.
//
// Memory (byte offsets chosen by the caller, src/formats/azure-wasm.ts, all at or past
// dataEnd(): below it lie the module's own static data, the function references members()
// and elements() call through among them, which a span written there overwrote): the blob's bytes
// at `bufPtr` (16 bytes of slack after it), the tuples' starts and ends (i32, relative to
// bufPtr) at `startsPtr` and `endsPtr`, the rows at `out` (ROW_BYTES each), the routing block at `routePtr` and the
// shards' areas where its settings say.

import { ipv4 } from './aws-lines';
import { ROUTE_EMIT, areasPtr, endRouting, routeFlowGrouped, routedFeed, startRouting, toArea, toAreaIds } from './shared/route';

/** The end of the module's static data: the caller's regions lie at or past it. */
export function dataEnd(): u32 {
  return <u32>__heap_base;
}

// a row: i32 taken, proto, direction, action, sport, dport, src, dst (IPv4), then f64 time,
// packets, bytes, then i32 route (a taken tuple's shard, ROUTE_DONE or ROUTE_EMIT) and its Feed
// bits with its slot in its shard's area (feed | slot << 2)
const R_TAKEN: u32 = 0;
const R_PROTO: u32 = 4;
const R_DIRECTION: u32 = 8;
const R_ACTION: u32 = 12;
const R_SPORT: u32 = 16;
const R_DPORT: u32 = 20;
const R_SRC: u32 = 24;
const R_DST: u32 = 28;
const R_TIME: u32 = 32;
const R_PACKETS: u32 = 40;
const R_BYTES: u32 = 48;
const R_ROUTE: u32 = 56;
const R_FEED: u32 = 60;
export const ROW_BYTES: u32 = 64;

// src/flow/types.ts Direction and Action
const INGRESS: i32 = 1;
const EGRESS: i32 = 2;
const ACCEPT: i32 = 1;
const REJECT: i32 = 2;

/** Largest tuple timestamp read as seconds (as azure-tuple.ts tupleTime). */
const MAX_SECONDS: f64 = 1e11;

/** Where the last field read ended (its ',' or the tuple's end). */
let at: u32 = 0;

/** Decimal digits from i up to ',' or e: their value, or -1 when none, other bytes or more than `max`. */
function digitsTo(i: u32, e: u32, max: u32): f64 {
  const s = i;
  // in integers (a multiply and an add a digit, where a double's chain of both was ~3x the
  // latency): exact as the double was up to `max` (at most 15) digits; more are refused below
  let v: u64 = 0;
  for (; i < e; i++) {
    const d = <u32>load<u8>(i) - 48;
    if (d > 9) break;
    v = v * 10 + <u64>d;
  }
  at = i;
  if (i == s || i - s > max || (i < e && load<u8>(i) != 44)) return -1;
  return <f64>v;
}

/**
 * digitsTo for a field of usually eight digits or more (a tuple's time: ten): its first eight
 * bytes, when all are digits, read at once (a multiply a pair, a quad, an octet, where the
 * loop's chain was a multiply and an add a digit), the rest as digitsTo reads them. The blob has
 * sixteen bytes of slack: the eight bytes may run past e only where a ',' or the end comes
 * first, and then they are not all digits, or the field's end is checked below.
 */
function longDigitsTo(i: u32, e: u32, max: u32): f64 {
  const x = load<u64>(i);
  // every byte 0x30-0x39: its high nibble 3, and its low nibble + 6 no carry into it
  if (i + 8 > e || (x & 0xf0f0f0f0f0f0f0f0) != 0x3030303030303030 || ((x + 0x0606060606060606) & 0xf0f0f0f0f0f0f0f0) != 0x3030303030303030) return digitsTo(i, e, max);
  let d = x & 0x0f0f0f0f0f0f0f0f; // little-endian: the first digit in the lowest byte
  d = (d * 10 + (d >> 8)) & 0x00ff00ff00ff00ff;
  d = (d * 100 + (d >> 16)) & 0x0000ffff0000ffff;
  d = (d * 10000 + (d >> 32)) & 0x00000000ffffffff;
  const s = i;
  let v: u64 = d;
  i += 8;
  for (; i < e; i++) {
    const c = <u32>load<u8>(i) - 48;
    if (c > 9) break;
    v = v * 10 + <u64>c;
  }
  at = i;
  if (i - s > max || (i < e && load<u8>(i) != 44)) return -1;
  return <f64>v;
}

/** A counter from i: NaN when empty (unknown), else as digitsTo with 15 digits. */
function counterTo(i: u32, e: u32): f64 {
  if (i >= e || load<u8>(i) == 44) {
    at = i;
    return NaN;
  }
  return digitsTo(i, e, 15);
}

/**
 * A dotted-quad IPv4 address from i up to ',' (as azure-fast.ts ipv4To), or -1. Its end is
 * the first ',' of the next sixteen bytes (the blob has sixteen bytes of slack): an address is
 * at most 15, and one that runs to the tuple's end fails head as the byte walk did. Read as
 * aws-lines.ts ipv4 reads a token (classed sixteen bytes at once, no branch a part length).
 */
function ipv4To(i: u32, e: u32): i64 {
  const commas = i8x16.bitmask(i8x16.eq(v128.load(i), i8x16.splat(44)));
  if (commas == 0) return -1;
  const q = i + <u32>ctz(commas);
  if (q >= e) return -1;
  const v = ipv4(i, q);
  if (v >= 0) at = q;
  return v;
}

/** The single letter at i when it is a whole field (a ',' follows, or the end): else -1. */
function letterAt(i: u32, e: u32): i32 {
  return i < e && (i + 1 == e || load<u8>(i + 1) == 44) ? <i32>load<u8>(i) : -1;
}

/** time, src, dst, sport, dport (fields 0-4) into row r; false when any is unusual. */
function head(r: u32, s: u32, e: u32): bool {
  const t = longDigitsTo(s, e, 13);
  if (t < 0 || at >= e) return false;
  const src = ipv4To(at + 1, e);
  if (src < 0 || at >= e) return false;
  const dst = ipv4To(at + 1, e);
  if (dst < 0 || at >= e) return false;
  const sp = digitsTo(at + 1, e, 5);
  if (sp < 0 || at >= e) return false;
  const dp = digitsTo(at + 1, e, 5);
  if (dp < 0 || at >= e) return false;
  store<f64>(r + R_TIME, t >= MAX_SECONDS ? Math.floor(t / 1000) : t);
  store<u32>(r + R_SRC, <u32>src);
  store<u32>(r + R_DST, <u32>dst);
  store<i32>(r + R_SPORT, <i32>sp);
  store<i32>(r + R_DPORT, <i32>dp);
  at++; // past the ',' before field 5
  return true;
}

/** The four counters from i to the tuple's end; the first two kept unless `unknown`. */
function counters(r: u32, i: u32, e: u32, unknown: bool): bool {
  const p = counterTo(i, e);
  if (p < 0 || at >= e) return false;
  const n = counterTo(at + 1, e);
  if (n < 0 || at >= e) return false;
  // the reverse counters are not kept, but a malformed one means a malformed tuple
  if (counterTo(at + 1, e) < 0 || at >= e) return false;
  if (counterTo(at + 1, e) < 0 || at != e) return false;
  store<f64>(r + R_PACKETS, unknown ? NaN : p);
  store<f64>(r + R_BYTES, unknown ? NaN : n);
  return true;
}

/** An NSG tuple (as azure-fast.ts nsgTupleFast). */
function nsg(r: u32, s: u32, e: u32, version: i32): bool {
  if (version != 0 && version != 1 && version != 2) return false;
  if (!head(r, s, e)) return false;
  let i = at;
  const proto = letterAt(i, e);
  if (proto == 84) store<i32>(r + R_PROTO, 6);
  else if (proto == 85) store<i32>(r + R_PROTO, 17);
  else return false;
  i += 2;
  const dir = letterAt(i, e);
  if (dir == 73) store<i32>(r + R_DIRECTION, INGRESS);
  else if (dir == 79) store<i32>(r + R_DIRECTION, EGRESS);
  else return false;
  i += 2;
  const decision = letterAt(i, e);
  if (decision == 65) store<i32>(r + R_ACTION, ACCEPT);
  else if (decision == 68) store<i32>(r + R_ACTION, REJECT);
  else return false;
  store<f64>(r + R_PACKETS, NaN);
  store<f64>(r + R_BYTES, NaN);
  if (i + 1 == e) return version != 2; // 8 fields: v1
  if (version == 1) return false;
  i += 2;
  const state = letterAt(i, e);
  if (state != 66 && state != 67 && state != 69) return false;
  return counters(r, i + 2, e, state == 66 || decision == 68);
}

/** A VNet tuple (as azure-fast.ts vnetTupleFast). */
function vnet(r: u32, s: u32, e: u32): bool {
  if (!head(r, s, e)) return false;
  const proto = digitsTo(at, e, 3);
  if (proto < 0 || at >= e) return false;
  store<i32>(r + R_PROTO, <i32>proto);
  let i = at + 1;
  const dir = letterAt(i, e);
  if (dir == 73) store<i32>(r + R_DIRECTION, INGRESS);
  else if (dir == 79) store<i32>(r + R_DIRECTION, EGRESS);
  else return false;
  i += 2;
  const state = letterAt(i, e);
  if (state == 68) store<i32>(r + R_ACTION, REJECT);
  else if (state == 66 || state == 67 || state == 69) store<i32>(r + R_ACTION, ACCEPT);
  else return false;
  i += 2;
  // field 8, encryption: not read, any bytes
  while (i < e && load<u8>(i) != 44) i++;
  if (i >= e) return false;
  return counters(r, i + 1, e, state == 68 || state == 66);
}

/** A static method, not a decorated function: eslint parses a method's decorator (as aws-lines.ts DottedQuad). */
class SinkRange {
  /** Whether the sink takes row r's ports, protocol and time as they are (integers all, the time below 2^32). */
  @inline
  static takes(r: u32): bool {
    return load<u32>(r + R_SPORT) <= 65535 && load<u32>(r + R_DPORT) <= 65535 && load<u32>(r + R_PROTO) <= 255 && load<f64>(r + R_TIME) < 4294967296;
  }
}

/**
 * The fate of the taken tuple in row r (its record: start and end the tuple's time, no TCP
 * flags, no region of its own) as the sink's emit would decide it, into R_ROUTE and R_FEED:
 * ROUTE_EMIT for a field the sink rejects.
 */
function routeRow(r: u32): void {
  let route = ROUTE_EMIT;
  if (SinkRange.takes(r)) {
    const time = <u32>load<f64>(r + R_TIME);
    const sport = load<u32>(r + R_SPORT);
    const dport = load<u32>(r + R_DPORT);
    const proto = load<u32>(r + R_PROTO);
    const src = load<u32>(r + R_SRC);
    const dst = load<u32>(r + R_DST);
    const direction = load<u32>(r + R_DIRECTION);
    route = routeFlowGrouped(time, time, src, dst, sport, dport, proto, -1, direction, true); // its records' classes come in runs
    if (route >= 0) {
      const feed = routedFeed;
      let slot: u32 = 0;
      if (areasPtr != 0) slot = toArea(<u32>route, src, dst, load<f64>(r + R_PACKETS), load<f64>(r + R_BYTES), time, time, sport, dport, -1, feed, proto, load<u32>(r + R_ACTION), direction);
      store<u32>(r + R_FEED, feed | (slot << 2));
    }
  }
  store<i32>(r + R_ROUTE, route);
}

/**
 * Reads the n tuples of one record into rows (layout: 1 NSG with `version`, 2 VNet): the
 * number taken. A row's R_TAKEN is 0 when the JavaScript readers must read that tuple; a
 * taken one is routed by the routing block at routePtr, whose counts are this call's; the
 * shards' areas start empty, or (keepAreas) hold the rows of the calls before it still.
 */
export function readTuples(bufPtr: u32, n: u32, startsPtr: u32, endsPtr: u32, out: u32, layout: i32, version: i32, routePtr: u32, keepAreas: i32): u32 {
  startRouting(routePtr, keepAreas != 0);
  let taken: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const s = bufPtr + load<u32>(startsPtr + k * 4);
    const e = bufPtr + load<u32>(endsPtr + k * 4);
    const r = out + k * ROW_BYTES;
    const ok = layout == 1 ? nsg(r, s, e, version) : vnet(r, s, e);
    store<i32>(r + R_TAKEN, ok ? 1 : 0);
    if (ok) {
      taken++;
      routeRow(r);
    }
  }
  endRouting(routePtr);
  return taken;
}

// ---- readRecord: the walk of one plain record (src/formats/azure.ts recordAt / readRecord)

// the record block (i32 slots at recPtr): the envelope strings (src/formats/azure.ts Env:
// category, resourceId, target, flowLog, mac; start and end, -1: absent), the version (0 when
// absent), flags, the tuple count. The tuples' spans and their MACs (-1: none) are written at
// tuplesPtr: starts, ends, MAC starts, MAC ends, maxTuples i32 each.
const B_ENV = 0;
const B_VERSION = 40;
// 1: an NSG "flows" key was seen (properties.flows), 2: a VNet "flowRecords" key, 4: resourceId,
// targetResourceID and flowLogResourceID are each absent or the same bytes as in the record the
// last call read (since newBlob, and when it read one), so azure.ts need not look them up
// 8, 16: the category is NetworkSecurityGroupFlowEvent, FlowLogFlowEvent (any letter case, as
// azure.ts categoryIs compares it)
const B_FLAGS = 44;
const SAME_IDS = 4;
const CATEGORY_NSG = 8;
const CATEGORY_VNET = 16;
const B_COUNT = 48;
export const RECORD_BLOCK_BYTES: u32 = 64;
const ENV_CATEGORY: u32 = 0;
const ENV_RESOURCE: u32 = 1;
const ENV_TARGET: u32 = 2;
const ENV_FLOWLOG: u32 = 3;
const ENV_MAC: u32 = 4;
const MAX_DEPTH: u32 = 64;
const END: u32 = 0xffffffff;

let wp: u32 = 0; // the walk's position
let we: u32 = 0; // the blob's end
let wBase: u32 = 0;
let sS: u32 = 0; // the last string read
let sE: u32 = 0;
let recAt: u32 = 0;
let tStarts: u32 = 0;
let tEnds: u32 = 0;
let tMacS: u32 = 0;
let tMacE: u32 = 0;
let tCount: u32 = 0;
let tMax: u32 = 0;

/** The next byte that is not JSON whitespace (not consumed), or END. */
function ws(): u32 {
  while (wp < we) {
    const c = <u32>load<u8>(wp);
    if (c == 32 || c == 10 || c == 13 || c == 9) wp++;
    else return c;
  }
  return END;
}

/**
 * A plain string at wp (its '"'): [sS, sE) and wp past it. False for a string the JavaScript
 * scanner reads otherwise or refuses: an escape, a control byte, a byte above 0x7f.
 */
function str(): bool {
  if (wp >= we || load<u8>(wp) != 34) return false;
  let q = wp + 1;
  const quote = i8x16.splat(34);
  const slash = i8x16.splat(92);
  const low = i8x16.splat(32);
  for (;;) {
    if (q >= we) return false;
    // '"', '\\', and (signed) below ' ': a control byte or one above 0x7f
    const v = v128.load(q);
    const m = i8x16.bitmask(v128.or(v128.or(i8x16.eq(v, quote), i8x16.eq(v, slash)), i8x16.lt_s(v, low)));
    if (m != 0) {
      q += <u32>ctz(m);
      break;
    }
    q += 16;
  }
  if (q >= we || load<u8>(q) != 34) return false;
  sS = wp + 1;
  sE = q;
  wp = q + 1;
  return true;
}

/** The last string is the key of `n` letters whose lower case is a, b, c (eight bytes each, little-endian): compared as isCI compares. */
function keyIs(n: u32, a: u64, b: u64, c: u64): bool {
  if (sE - sS != n) return false;
  // a letter's case bit set: exact for keys of letters only (a byte that folds onto a lower-case letter is that letter)
  if (n >= 8) {
    if ((load<u64>(sS) | 0x2020202020202020) != a) return false;
  } else return ((load<u64>(sS) | 0x2020202020202020) & ((<u64>1 << (<u64>n << 3)) - 1)) == a;
  if (n == 8) return true;
  if (n >= 16) {
    if ((load<u64>(sS + 8) | 0x2020202020202020) != b) return false;
  } else return ((load<u64>(sS + 8) | 0x2020202020202020) & ((<u64>1 << ((<u64>n - 8) << 3)) - 1)) == b;
  if (n == 16) return true;
  return ((load<u64>(sS + 16) | 0x2020202020202020) & ((<u64>1 << ((<u64>n - 16) << 3)) - 1)) == c;
}

function isLiteral(w: u32, n: u32): bool {
  return wp + n <= we && (n == 4 ? load<u32>(wp) == w : load<u32>(wp) == w && load<u8>(wp + 4) == 101);
}

/** null at wp: consumed. */
function nullHere(): bool {
  if (!isLiteral(0x6c6c756e, 4)) return false;
  wp += 4;
  return true;
}

/** The JSON number at wp (RFC 8259 grammar, as JsonScanner.num reads it): consumed; false when malformed. */
function number(): bool {
  let p = wp;
  if (p < we && load<u8>(p) == 45) p++;
  if (p >= we) return false;
  const c = <u32>load<u8>(p);
  if (c == 48) p++;
  else if (c - 49 < 9) {
    while (p < we && <u32>load<u8>(p) - 48 < 10) p++;
  } else return false;
  if (p < we && load<u8>(p) == 46) {
    const f = ++p;
    while (p < we && <u32>load<u8>(p) - 48 < 10) p++;
    if (p == f) return false;
  }
  if (p < we && (load<u8>(p) == 101 || load<u8>(p) == 69)) {
    p++;
    if (p < we && (load<u8>(p) == 43 || load<u8>(p) == 45)) p++;
    const f = p;
    while (p < we && <u32>load<u8>(p) - 48 < 10) p++;
    if (p == f) return false;
  }
  wp = p;
  return true;
}

/** Any value at wp (after whitespace), its grammar checked as JsonScanner.skip checks it: consumed; false when the walk is to be left to JavaScript. */
function skipValue(depth: u32): bool {
  const c = ws();
  if (c == 34) return str();
  if (c == 123 || c == 91) {
    if (depth >= MAX_DEPTH) return false;
    wp++;
    const close: u32 = c == 123 ? 125 : 93;
    if (ws() == close) {
      wp++;
      return true;
    }
    for (;;) {
      if (c == 123) {
        if (ws() != 34 || !str()) return false;
        if (ws() != 58) return false;
        wp++;
      }
      if (!skipValue(depth + 1)) return false;
      const d = ws();
      if (d == 44) {
        wp++;
        continue;
      }
      if (d != close) return false;
      wp++;
      return true;
    }
  }
  if (c == 116) return isLiteral(0x65757274, 4) ? ((wp += 4), true) : false; // true
  if (c == 102) return isLiteral(0x736c6166, 5) ? ((wp += 5), true) : false; // false
  if (c == 110) return nullHere();
  if (c == 45 || c - 48 < 10) return number();
  return false;
}

/**
 * The members of the object at wp, each key read and followed by ':' and whitespace, handed
 * to `member` (which reads the value): false when the walk is to be left to JavaScript.
 * An empty object has no member. (A function reference per caller: one loop for all.)
 */
function members(member: (depth: u32) => bool, depth: u32): bool {
  if (ws() != 123) return false;
  wp++;
  if (ws() == 125) {
    wp++;
    return true;
  }
  for (;;) {
    if (ws() != 34 || !str()) return false;
    if (ws() != 58) return false;
    wp++;
    ws();
    if (!member(depth)) return false;
    const d = ws();
    if (d == 44) {
      wp++;
      if (ws() != 34) return false;
      continue;
    }
    if (d != 125) return false;
    wp++;
    return true;
  }
}

/**
 * The elements of the array at wp, each handed to `element`; an empty array has none.
 * `null` instead of the array: none either (azure.ts array()).
 */
function elements(element: (depth: u32) => bool, depth: u32): bool {
  const c = ws();
  if (c == 110) return nullHere();
  if (c != 91) return false;
  wp++;
  if (ws() == 93) {
    wp++;
    return true;
  }
  for (;;) {
    ws();
    if (!element(depth)) return false;
    const d = ws();
    if (d == 44) {
      wp++;
      continue;
    }
    if (d != 93) return false;
    wp++;
    return true;
  }
}

/** An element that must be an object (azure.ts object()): its members, or null; anything else is left to JavaScript. */
function objectOr(member: (depth: u32) => bool, depth: u32): bool {
  const c = ws();
  if (c == 110) return nullHere();
  return members(member, depth);
}

/** An envelope string (azure.ts envString): the span, or nothing for null. */
function envString(slot: u32): bool {
  const c = ws();
  if (c == 110) return nullHere();
  if (!str()) return false;
  store<i32>(recAt + B_ENV + (slot << 3), <i32>(sS - wBase));
  store<i32>(recAt + B_ENV + (slot << 3) + 4, <i32>(sE - wBase));
  return true;
}

/** A flowTuples element: a plain string, pushed with no MAC. */
function tuple(_depth: u32): bool {
  if (!str() || tCount >= tMax) return false;
  const k = tCount << 2;
  store<i32>(tStarts + k, <i32>(sS - wBase));
  store<i32>(tEnds + k, <i32>(sE - wBase));
  store<i32>(tMacS + k, -1);
  tCount++;
  return true;
}

let groupMacS: i32 = -1;
let groupMacE: i32 = -1;

/** A member of properties.flows[].flows[] ({mac, flowTuples}). */
function macGroupMember(depth: u32): bool {
  if (keyIs(3, 0x000000000063616d, 0, 0)) {
    // mac: a string is kept (the last one), anything else skipped (azure.ts nsgMacGroups)
    if (ws() == 34) {
      if (!str()) return false;
      groupMacS = <i32>(sS - wBase);
      groupMacE = <i32>(sE - wBase);
      return true;
    }
    return skipValue(depth);
  }
  if (keyIs(10, 0x6c707574776f6c66, 0x0000000000007365, 0)) return elements(tuple, depth);
  return skipValue(depth);
}

/** An element of properties.flows[].flows[]: its tuples get its MAC. */
function macGroup(depth: u32): bool {
  const first = tCount;
  groupMacS = -1;
  if (!objectOr(macGroupMember, depth + 1)) return false;
  if (groupMacS >= 0) {
    for (let k = first; k < tCount; k++) {
      store<i32>(tMacS + (k << 2), groupMacS);
      store<i32>(tMacE + (k << 2), groupMacE);
    }
  }
  return true;
}

/** A member of properties.flows[] ({rule, flows}). */
function ruleMember(depth: u32): bool {
  if (keyIs(5, 0x00000073776f6c66, 0, 0)) return elements(macGroup, depth + 1);
  return skipValue(depth);
}

function rule(depth: u32): bool {
  return objectOr(ruleMember, depth + 1);
}

/** The record's version (azure.ts readVersion): a plain integer, or -1 for null, true and false; anything else is left to JavaScript. */
function version(): bool {
  const c = ws();
  if (c - 48 < 10) {
    let v: u32 = 0;
    const s = wp;
    while (wp < we && <u32>load<u8>(wp) - 48 < 10) v = v * 10 + (<u32>load<u8>(wp++) - 48);
    const n = wp - s;
    if (n > 9 || (n > 1 && load<u8>(s) == 48)) return false;
    if (wp < we && (load<u8>(wp) == 46 || load<u8>(wp) == 101 || load<u8>(wp) == 69)) return false;
    store<i32>(recAt + B_VERSION, v > 0 ? <i32>v : -1);
    return true;
  }
  if (c == 110 || c == 116 || c == 102) {
    if (!skipValue(0)) return false;
    store<i32>(recAt + B_VERSION, -1);
    return true;
  }
  return false;
}

/** A member of properties ({Version, flows}). */
function propertiesMember(depth: u32): bool {
  if (keyIs(7, 0x006e6f6973726576, 0, 0)) return version();
  if (keyIs(5, 0x00000073776f6c66, 0, 0)) {
    store<i32>(recAt + B_FLAGS, load<i32>(recAt + B_FLAGS) | 1);
    return elements(rule, depth + 1);
  }
  return skipValue(depth);
}

/** VNet: a member of flowRecords.flows[].flowGroups[] ({rule, flowTuples}). */
function flowGroupMember(depth: u32): bool {
  if (keyIs(10, 0x6c707574776f6c66, 0x0000000000007365, 0)) return elements(tuple, depth);
  return skipValue(depth);
}

function flowGroup(depth: u32): bool {
  return objectOr(flowGroupMember, depth + 1);
}

/** VNet: a member of flowRecords.flows[] ({aclID, flowGroups}). */
function aclMember(depth: u32): bool {
  if (keyIs(10, 0x756f7267776f6c66, 0x0000000000007370, 0)) return elements(flowGroup, depth + 1);
  return skipValue(depth);
}

function acl(depth: u32): bool {
  return objectOr(aclMember, depth + 1);
}

/** VNet: a member of flowRecords ({flows}). */
function flowRecordsMember(depth: u32): bool {
  if (keyIs(5, 0x00000073776f6c66, 0, 0)) return elements(acl, depth + 1);
  return skipValue(depth);
}

/**
 * A member of the record (azure.ts member). The key's length chooses the names it may be: a
 * record's other keys (time, systemId, operationName, flowLogGUID, …) were compared with each
 * of the eight names, a call each.
 */
function recordMember(depth: u32): bool {
  switch (sE - sS) {
    case 7:
      if (keyIs(7, 0x007364726f636572, 0, 0)) return false; // a nested wrapper: the JavaScript walk words it
      break;
    case 8:
      if (keyIs(8, 0x79726f6765746163, 0, 0)) return envString(ENV_CATEGORY);
      break;
    case 10:
      if (keyIs(10, 0x656372756f736572, 0x0000000000006469, 0)) return envString(ENV_RESOURCE);
      if (keyIs(10, 0x657264646163616d, 0x0000000000007373, 0)) return envString(ENV_MAC);
      if (keyIs(10, 0x69747265706f7270, 0x0000000000007365, 0)) return objectOr(propertiesMember, depth + 1);
      break;
    case 11:
      if (keyIs(11, 0x6f636572776f6c66, 0x0000000000736472, 0)) {
        store<i32>(recAt + B_FLAGS, load<i32>(recAt + B_FLAGS) | 2);
        return objectOr(flowRecordsMember, depth + 1);
      }
      break;
    case 16:
      if (keyIs(16, 0x6572746567726174, 0x6469656372756f73, 0)) return envString(ENV_TARGET);
      break;
    case 17:
      if (keyIs(17, 0x72676f6c776f6c66, 0x69656372756f7365, 0x0000000000000064)) return envString(ENV_FLOWLOG);
      break;
  }
  return skipValue(depth);
}

// the identity spans (blob offsets, -1: absent) of the record the last call read, and its blob
let lastBase: u32 = 0;
let lastLen: u32 = 0xffffffff; // none (a new blob, or the last call read no record)

/** A new blob is loaded: no record of it read yet (SAME_IDS compares within a blob only). */
export function newBlob(): void {
  lastLen = 0xffffffff;
}
let lastResS: i32 = -1;
let lastResE: i32 = -1;
let lastTgtS: i32 = -1;
let lastTgtE: i32 = -1;
let lastLogS: i32 = -1;
let lastLogE: i32 = -1;

/** Whether blob spans [s, e) and [ls, le) are both absent (-1), or the same bytes. */
function sameSpan(s: i32, e: i32, ls: i32, le: i32): bool {
  if (s < 0 || ls < 0) return s == ls;
  const n = e - s;
  if (n != le - ls) return false;
  const a = wBase + <u32>s;
  const b = wBase + <u32>ls;
  let k: u32 = 0;
  for (; k + 8 <= <u32>n; k += 8) if (load<u64>(a + k) != load<u64>(b + k)) return false;
  for (; k < <u32>n; k++) if (load<u8>(a + k) != load<u8>(b + k)) return false;
  return true;
}

/** The `left` bytes at p (eight at most looked at; any past them may be read) with each letter's case bit set are those of w. */
function wordIs(p: u32, left: u32, w: u64): bool {
  const mask: u64 = left >= 8 ? 0xffffffffffffffff : (<u64>1 << (<u64>left << 3)) - 1;
  return ((load<u64>(p) | 0x2020202020202020) & mask) == w;
}

/**
 * Whether the n bytes at p (0 < n <= 32; the bytes past them may be read), in any letter case,
 * are the name of letters only whose lower-case bytes are the little-endian words a, b, c, d:
 * with each byte's case bit set, as keyIs compares (exact for a name of letters: a byte that
 * folds onto a lower-case letter is that letter), eight bytes at a time where a byte at a time
 * lowered only A-Z (azure.ts categoryIs) and gave the same answers.
 */
function lettersIs(p: u32, n: u32, a: u64, b: u64, c: u64, d: u64): bool {
  return wordIs(p, n, a) && (n <= 8 || wordIs(p + 8, n - 8, b)) && (n <= 16 || wordIs(p + 16, n - 16, c)) && (n <= 24 || wordIs(p + 24, n - 24, d));
}

/** The category of the record just read, when it is one of the two layouts' (CATEGORY_NSG, CATEGORY_VNET). */
function markCategory(recPtr: u32): void {
  const s = load<i32>(recPtr + B_ENV + (ENV_CATEGORY << 3));
  if (s < 0) return;
  const n = <u32>(load<i32>(recPtr + B_ENV + (ENV_CATEGORY << 3) + 4) - s);
  const p = wBase + <u32>s;
  let flag = 0;
  if (n == 29 && lettersIs(p, 29, 0x736b726f7774656e, 0x6779746972756365, 0x776f6c6670756f72, 0x000000746e657665)) flag = CATEGORY_NSG;
  else if (n == 16 && lettersIs(p, 16, 0x66676f6c776f6c66, 0x746e657665776f6c, 0, 0)) flag = CATEGORY_VNET;
  if (flag != 0) store<i32>(recPtr + B_FLAGS, load<i32>(recPtr + B_FLAGS) | flag);
}

/**
 * A VNet record's tuples given its macAddress (-1: none) as their MAC, as an NSG tuple has its
 * flows[] group's: azure.ts endRecord then reads every tuple's interface one way, whatever
 * the layout (one compiled path, where a branch per layout deoptimised at the first record of
 * the other). The layout as azure.ts layout() chooses it: the category when there is one
 * (markCategory's flags), else where the tuples were.
 */
function vnetMacs(recPtr: u32): void {
  const flags = load<i32>(recPtr + B_FLAGS);
  const vnet = load<i32>(recPtr + B_ENV + (ENV_CATEGORY << 3)) >= 0 ? (flags & CATEGORY_VNET) != 0 : (flags & 3) == 2;
  if (!vnet) return;
  const ms = load<i32>(recPtr + B_ENV + (ENV_MAC << 3));
  const me = load<i32>(recPtr + B_ENV + (ENV_MAC << 3) + 4);
  for (let k: u32 = 0; k < tCount; k++) {
    store<i32>(tMacS + (k << 2), ms);
    store<i32>(tMacE + (k << 2), me);
  }
}

/** The identity spans of the record just read compared with the last one's (SAME_IDS), and kept as the last. */
function keepIdentity(recPtr: u32, bufPtr: u32, len: u32): void {
  const rs = load<i32>(recPtr + B_ENV + (ENV_RESOURCE << 3));
  const re = load<i32>(recPtr + B_ENV + (ENV_RESOURCE << 3) + 4);
  const ts = load<i32>(recPtr + B_ENV + (ENV_TARGET << 3));
  const te = load<i32>(recPtr + B_ENV + (ENV_TARGET << 3) + 4);
  const fs = load<i32>(recPtr + B_ENV + (ENV_FLOWLOG << 3));
  const fe = load<i32>(recPtr + B_ENV + (ENV_FLOWLOG << 3) + 4);
  if (bufPtr == lastBase && len == lastLen && sameSpan(rs, re, lastResS, lastResE) && sameSpan(ts, te, lastTgtS, lastTgtE) && sameSpan(fs, fe, lastLogS, lastLogE)) {
    store<i32>(recPtr + B_FLAGS, load<i32>(recPtr + B_FLAGS) | SAME_IDS);
  }
  lastBase = bufPtr;
  lastLen = len;
  lastResS = rs;
  lastResE = re;
  lastTgtS = ts;
  lastTgtE = te;
  lastLogS = fs;
  lastLogE = fe;
}

/**
 * The record at bufPtr + start (its '{'; the blob is bufPtr[0, len)) walked as azure.ts
 * readRecord walks it, into the record block at recPtr and the tuple spans at tuplesPtr (at
 * most maxTuples): the offset just past its '}', or -1 when the JavaScript walk is to read it
 * (an empty record, any string it would read otherwise, a type it would refuse or skip
 * another way, a nested wrapper, more tuples than maxTuples, any syntax error).
 */
export function readRecord(bufPtr: u32, start: u32, len: u32, recPtr: u32, tuplesPtr: u32, maxTuples: u32): i32 {
  wBase = bufPtr;
  wp = bufPtr + start;
  we = bufPtr + len;
  recAt = recPtr;
  for (let k: u32 = 0; k < 10; k++) store<i32>(recPtr + B_ENV + (k << 2), -1);
  store<i32>(recPtr + B_VERSION, 0);
  store<i32>(recPtr + B_FLAGS, 0);
  tStarts = tuplesPtr;
  tEnds = tuplesPtr + (maxTuples << 2);
  tMacS = tEnds + (maxTuples << 2);
  tMacE = tMacS + (maxTuples << 2);
  tCount = 0;
  tMax = maxTuples;
  const ok = walkRecord();
  if (ok) {
    keepIdentity(recPtr, bufPtr, len);
    markCategory(recPtr);
    vnetMacs(recPtr);
  }
  else lastLen = 0xffffffff; // the next record is not compared with one the JavaScript walk reads
  return ok ? <i32>(wp - bufPtr) : -1;
}

/** readRecord's walk from wp: false when the JavaScript walk is to read the record. */
function walkRecord(): bool {
  if (ws() != 123) return false;
  // an empty record: the JavaScript walk words its reject
  const at = wp;
  wp++;
  if (ws() == 125) return false;
  wp = at;
  if (!members(recordMember, 1)) return false;
  store<i32>(recAt + B_COUNT, <i32>tCount);
  return true;
}

// ---- readRun: the records after one azure.ts ended, read and routed here while nothing
// about them needs JavaScript

// the run block (i32 slots at runPtr), written by azure.ts: the string ids of the record it
// ended last (account, region, instance), that record's layout (1 NSG, 2 VNet), the MAC of its
// last tuple (blob offsets, -1: none) and that MAC's interface id, the rows the shards' areas
// may take still; written back: the tuples read, the offset just past the last record read
const RUN_ACCOUNT = 0;
const RUN_REGION = 4;
const RUN_INSTANCE = 8;
const RUN_LAYOUT = 12;
const RUN_MAC_S = 16;
const RUN_MAC_E = 20;
const RUN_IFACE = 24;
const RUN_ROOM = 28;
const RUN_TUPLES = 32;
const RUN_END = 36;
// 1: the record at `start` is read first (its '{', no ',' before it: a blob's first record,
// just walked by readRecord and its ids looked up by azure.ts); 2: with it, the shards' areas
// keep the rows routed before (else they start empty, as a read that does not keep them)
const RUN_FLAGS = 40;
const RUN_SELF = 1;
const RUN_KEEP = 2;
export const RUN_BLOCK_BYTES: u32 = 64;

/** The layout azure.ts layout() gives the record just walked (1 NSG, 2 VNet, 0: a reject). */
function layoutOf(recPtr: u32): i32 {
  const flags = load<i32>(recPtr + B_FLAGS);
  if (load<i32>(recPtr + B_ENV + (ENV_CATEGORY << 3)) >= 0) return (flags & CATEGORY_NSG) != 0 ? 1 : (flags & CATEGORY_VNET) != 0 ? 2 : 0;
  return (flags & 1) != 0 ? 1 : (flags & 2) != 0 ? 2 : 0;
}

/**
 * The record just walked read and routed whole, as azure.ts endRecord would with the run
 * block's ids, when it can be: its identity strings and layout those of the record before
 * (SAME_IDS), each tuple's MAC none or the run's, every tuple taken and routed (no row the
 * sink must see: the checks admit makes before it counts a row made first), room in the
 * areas. False, having routed nothing, otherwise.
 */
function routeWhole(recPtr: u32, out: u32, routePtr: u32, runPtr: u32): bool {
  const layout = load<i32>(runPtr + RUN_LAYOUT);
  if ((load<i32>(recPtr + B_FLAGS) & SAME_IDS) == 0 || layoutOf(recPtr) != layout) return false;
  const n = tCount;
  if (n == 0 || n > load<u32>(runPtr + RUN_ROOM)) return false;
  const version = load<i32>(recPtr + B_VERSION);
  const notAfter = load<f64>(routePtr + 8); // route.ts S_NOT_AFTER
  const macS = load<i32>(runPtr + RUN_MAC_S);
  const macE = load<i32>(runPtr + RUN_MAC_E);
  // the MAC string (its start: one string a start) last found to be the run's: the tuples of a
  // flows[] group share their group's, compared once instead of once a tuple
  let sameMac: i32 = -1;
  for (let k: u32 = 0; k < n; k++) {
    const s = wBase + load<u32>(tStarts + (k << 2));
    const e = wBase + load<u32>(tEnds + (k << 2));
    const r = out + k * ROW_BYTES;
    if (!(layout == 1 ? nsg(r, s, e, version) : vnet(r, s, e))) return false;
    if (!SinkRange.takes(r) || <f64>(<u32>load<f64>(r + R_TIME)) > notAfter) return false;
    const ms = load<i32>(tMacS + (k << 2));
    if (ms >= 0 && ms != sameMac) {
      if (macS < 0 || !sameSpan(ms, load<i32>(tMacE + (k << 2)), macS, macE)) return false;
      sameMac = ms;
    }
  }
  const account = load<i32>(runPtr + RUN_ACCOUNT);
  const region = load<i32>(runPtr + RUN_REGION);
  const instance = load<i32>(runPtr + RUN_INSTANCE);
  const iface = load<i32>(runPtr + RUN_IFACE);
  for (let k: u32 = 0; k < n; k++) {
    const r = out + k * ROW_BYTES;
    routeRow(r);
    const route = load<i32>(r + R_ROUTE);
    if (route < 0) continue; // counted only (ROUTE_DONE)
    const feed = load<u32>(r + R_FEED);
    // an internal record logged where it arrived: its ids are the target's, not the source host's (azure.ts routed)
    const target = (feed & 3) == 2 && load<i32>(r + R_DIRECTION) == INGRESS;
    const own = load<i32>(tMacS + (k << 2)) >= 0 ? iface : 0;
    toAreaIds(<u32>route, feed >>> 2, account, region, target ? 0 : own, target ? 0 : instance);
  }
  store<u32>(runPtr + RUN_ROOM, load<u32>(runPtr + RUN_ROOM) - n);
  store<u32>(runPtr + RUN_TUPLES, load<u32>(runPtr + RUN_TUPLES) + n);
  return true;
}

/**
 * The records of the blob's "records" array after the one ending at `start` (RUN_SELF: from
 * the one at `start`) (the blob is
 * bufPtr[0, len), read into the shards' areas, which routing must allow): each walked as
 * readRecord walks it and read and routed whole (routeWhole) until one cannot be, or the array
 * ends. The number read; the offset past the last, and their tuples, in the run block. The
 * record that stopped the run is left as it was (its identity not kept as the last), for
 * azure.ts to read.
 */
export function readRun(bufPtr: u32, start: u32, len: u32, recPtr: u32, tuplesPtr: u32, maxTuples: u32, out: u32, routePtr: u32, runPtr: u32): u32 {
  store<u32>(runPtr + RUN_TUPLES, 0);
  store<i32>(runPtr + RUN_END, <i32>start);
  if (load<f64>(routePtr) == 0 || load<f64>(routePtr + 18 * 8) == 0) return 0; // route.ts S_ROUTE, S_AREAS
  const flags = load<i32>(runPtr + RUN_FLAGS);
  let self = (flags & RUN_SELF) != 0;
  startRouting(routePtr, !self || (flags & RUN_KEEP) != 0);
  let records: u32 = 0;
  let pos = start;
  for (;;) {
    wBase = bufPtr;
    wp = bufPtr + pos;
    we = bufPtr + len;
    if (self) self = false; // the record at start itself
    else {
      if (ws() != 44) break;
      wp++;
    }
    if (ws() != 123) break;
    const at = wp - bufPtr;
    // the last record's identity, kept again when this one is not read here
    const b = lastBase, l = lastLen, rs = lastResS, re = lastResE, ts = lastTgtS, te = lastTgtE, fs = lastLogS, fe = lastLogE;
    const end = readRecord(bufPtr, at, len, recPtr, tuplesPtr, maxTuples);
    if (end < 0 || !routeWhole(recPtr, out, routePtr, runPtr)) {
      lastBase = b;
      lastLen = l;
      lastResS = rs;
      lastResE = re;
      lastTgtS = ts;
      lastTgtE = te;
      lastLogS = fs;
      lastLogE = fe;
      break;
    }
    pos = <u32>end;
    records++;
  }
  endRouting(routePtr);
  store<i32>(runPtr + RUN_END, <i32>pos);
  return records;
}
