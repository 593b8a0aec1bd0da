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
// Memory (byte offsets chosen by the caller, src/formats/azure-wasm.ts): the record's bytes
// at `bufPtr`, the tuples' starts (n i32) then ends (n i32) at `spansPtr`, relative to
// bufPtr, the rows at `out` (ROW_BYTES each), the routing block at `routePtr` and the
// shards' areas where its settings say.

import { ROUTE_EMIT, areasPtr, endRouting, routeFlow, routedFeed, startRouting, toArea } from './shared/route';

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
  let v: f64 = 0;
  for (; i < e; i++) {
    const d = <i32>load<u8>(i) - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + <f64>d;
  }
  at = i;
  if (i == s || i - s > max || (i < e && load<u8>(i) != 44)) return -1;
  return v;
}

/** A counter from i: NaN when empty (unknown), else as digitsTo with 15 digits. */
function counterTo(i: u32, e: u32): f64 {
  if (i >= e || load<u8>(i) == 44) {
    at = i;
    return NaN;
  }
  return digitsTo(i, e, 15);
}

/** A dotted-quad IPv4 address from i up to ',' (as azure-fast.ts ipv4To), or -1. */
function ipv4To(i: u32, e: u32): i64 {
  let value: u32 = 0;
  let part: u32 = 0;
  let digits: u32 = 0;
  let parts: u32 = 0;
  for (; i < e; i++) {
    const c = <u32>load<u8>(i);
    if (c >= 48 && c <= 57) {
      if (digits == 1 && part == 0) return -1; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return -1;
    } else if (c == 46) {
      if (digits == 0 || parts == 3) return -1;
      value = value * 256 + part;
      parts++;
      part = 0;
      digits = 0;
    } else if (c == 44) break;
    else return -1;
  }
  if (digits == 0 || parts != 3) return -1;
  at = i;
  return <i64>(value * 256 + part);
}

/** The single letter at i when it is a whole field (a ',' follows, or the end): else -1. */
function letterAt(i: u32, e: u32): i32 {
  return i < e && (i + 1 == e || load<u8>(i + 1) == 44) ? <i32>load<u8>(i) : -1;
}

/** time, src, dst, sport, dport (fields 0-4) into row r; false when any is unusual. */
function head(r: u32, s: u32, e: u32): bool {
  const t = digitsTo(s, e, 13);
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

/**
 * The fate of the taken tuple in row r (its record: start and end the tuple's time, no TCP
 * flags, no region of its own) as the sink's emit would decide it, into R_ROUTE and R_FEED:
 * ROUTE_EMIT for a field the sink rejects.
 */
function routeRow(r: u32): void {
  const t = load<f64>(r + R_TIME);
  const sport = load<u32>(r + R_SPORT);
  const dport = load<u32>(r + R_DPORT);
  const proto = load<u32>(r + R_PROTO);
  let route = ROUTE_EMIT;
  // the values the sink takes as they are (integers all, below 2^32 when in range)
  if (sport <= 65535 && dport <= 65535 && proto <= 255 && t < 4294967296) {
    const time = <u32>t;
    const src = load<u32>(r + R_SRC);
    const dst = load<u32>(r + R_DST);
    const direction = load<u32>(r + R_DIRECTION);
    route = routeFlow(time, time, src, dst, sport, dport, proto, -1, direction, true);
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
 * taken one is routed by the routing block at routePtr, whose counts are this call's.
 */
export function readTuples(bufPtr: u32, n: u32, spansPtr: u32, out: u32, layout: i32, version: i32, routePtr: u32): u32 {
  startRouting(routePtr);
  let taken: u32 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const s = bufPtr + load<u32>(spansPtr + k * 4);
    const e = bufPtr + load<u32>(spansPtr + (n + k) * 4);
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
