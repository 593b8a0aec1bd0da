// AssemblyScript, imported by the readers' modules (assembly/aws-lines.ts, assembly/gcp-lines.ts;
// scripts/wasm.mjs compiles only the files directly in assembly/). Routing
// (src/flow/sink.ts emit): what becomes of a flow record a reader read plainly, decided in
// the reader's module where the sink allows it: counted alone, handed to the sink's emit,
// or given its shard and its batch columns written into that shard's area for the sink to
// copy into the shard's batch in runs (toArea). One definition for every reader; the
// caller (src/formats/wasm-route.ts) writes the settings and reads the counts.

import { fmix32, mix } from './hash';
import { fixedId } from './token-ids';

// The sink's settings and a read's counts are f64 slots at the routing block (`at`, chosen by
// the caller), the IPv4 table after them, each area's row count at AREA_COUNTS:
const S_ROUTE = 0; // 1: route rows; 0: every plain row is ROUTE_EMIT
const S_NOT_AFTER = 1; // rows ending after it: ROUTE_EMIT (the sink rejects them)
const S_FROM = 2; // --from/--to: rows starting outside count as outsideRange
const S_TO = 3;
const S_SHARDS = 4;
const S_REGION_BLANK = 5; // 1: the file's default region is the empty string
const S_APART = 6; // 1: outbound rows go to areas of their own, shard + shards (src/flow/sink.ts lanes)
const S_RECORDS = 8; // counts of this call, added to the sink's by the caller
const S_OUTSIDE = 9;
const S_BLANK_REGION = 10;
const S_INTERNAL = 11;
const S_RESPONSES = 12;
const S_BACKSCATTER = 13;
const S_INBOUND = 14;
const S_OUTBOUND = 15;
const S_MIN_START = 16;
const S_MAX_END = 17;
const S_AREAS = 18; // where the shards' areas start (below), 0: none (the caller appends every routed row itself)
const S_AREA_ROWS = 19; // rows an area holds
// the non-public IPv4 ranges (src/net/address.ts isPublicV4, given by the caller): a byte a
// first octet (1: a range lies under it, 2: a range covers it whole) at + 256, their count at + 512, then
// (network, mask) pairs of u32
const V4_FIRST = 256;
const V4_COUNT = 512;
const V4_RANGES = 516;

/** A plain row the caller reads and hands to the sink's emit (a reject, or routing is off). */
export const ROUTE_EMIT: i32 = -2;
/** A plain row fully counted here: the caller does nothing with it. */
export const ROUTE_DONE: i32 = -1;
const FEED_INBOUND: u32 = 1;
const FEED_OUTBOUND: u32 = 2;

let routing = false;
let notAfter: f64 = 0;
let rangeFrom: f64 = 0;
let rangeTo: f64 = 0;
let shards: u32 = 1;
/**
 * floor(2^32 / shards) + 1: a hash's 12 bits taken modulo shards by a multiplication
 * (ShardOf.hash), exact for every numerator below 4096 and divisor up to 4096, where the
 * division by a count known only at run time was ~2.5 % of the AWS module's pass at two shards.
 */
let shardMagic: u64 = 0;
/** What a routed outbound row's shard is offset by to name its area: shards where outbound rows go apart (S_APART), else 0. */
let outboundLane: u32 = 0;
/** The areas (lanes): shards, twice as many where outbound rows go apart. */
let areaCount: u32 = 1;
/** The file's default region is the empty string (a row with no region of its own counts as blankRegion). */
export let regionBlank = false;
let tablePtr: u32 = 0;
// the shards' areas: a routed row's batch columns, in the batch's types (src/flow/batch.ts), for
// the caller to copy into the shard's batch in runs; the rows each area holds from this call
/** Where the shards' areas start (0: none, the caller appends every routed row itself). */
export let areasPtr: u32 = 0;
let areaRows: u32 = 0;
const AREA_COUNTS = 1024; // u32 a shard: the rows in its area (at tablePtr + AREA_COUNTS)
// u32 a shard, written by the caller: the slot at which this call's rows of the shard start
// (src/formats/wasm-route.ts WasmRouting.settings: chosen so that a run lies as aligned in its
// area as where the sink copies it to in the shard's batch)
const AREA_STARTS = AREA_COUNTS + 256;
let records: u32 = 0;
let outsideRange: u32 = 0;
let blankRegion: u32 = 0;
let internal: u32 = 0;
let responses: u32 = 0;
let backscatter: u32 = 0;
let inbound: u32 = 0;
let outbound: u32 = 0;
let minStart: f64 = Infinity;
let maxEnd: f64 = -Infinity;
/** The Feed bits of the row routeFlow routed last. */
export let routedFeed: u32 = 0;

/**
 * A read starts: the settings from the routing block at `at`, the counts zero, each area's
 * rows starting at its first slot (AREA_STARTS), unless keepAreas: a reader that reads one
 * record a call adds its rows after those of the records before it, which the sink copies a
 * run at a time.
 */
export function startRouting(at: u32, keepAreas: bool = false): void {
  areasPtr = <u32>load<f64>(at + (S_AREAS << 3));
  areaRows = <u32>load<f64>(at + (S_AREA_ROWS << 3));
  routing = load<f64>(at + (S_ROUTE << 3)) != 0;
  notAfter = load<f64>(at + (S_NOT_AFTER << 3));
  rangeFrom = load<f64>(at + (S_FROM << 3));
  rangeTo = load<f64>(at + (S_TO << 3));
  shards = <u32>load<f64>(at + (S_SHARDS << 3));
  shardMagic = shards > 1 ? 0x100000000 / <u64>shards + 1 : 0; // one shard: no hash taken
  regionBlank = load<f64>(at + (S_REGION_BLANK << 3)) != 0;
  tablePtr = at;
  outboundLane = areasPtr != 0 && load<f64>(at + (S_APART << 3)) != 0 ? shards : 0;
  areaCount = shards + outboundLane;
  if (areasPtr != 0 && !keepAreas) memory.copy(at + AREA_COUNTS, at + AREA_STARTS, areaCount << 2);
  records = outsideRange = blankRegion = internal = responses = backscatter = inbound = outbound = 0;
  minStart = Infinity;
  maxEnd = -Infinity;
}

/** A read ends: its counts into the routing block's slots. */
export function endRouting(at: u32): void {
  store<f64>(at + (S_RECORDS << 3), <f64>records);
  store<f64>(at + (S_OUTSIDE << 3), <f64>outsideRange);
  store<f64>(at + (S_BLANK_REGION << 3), <f64>blankRegion);
  store<f64>(at + (S_INTERNAL << 3), <f64>internal);
  store<f64>(at + (S_RESPONSES << 3), <f64>responses);
  store<f64>(at + (S_BACKSCATTER << 3), <f64>backscatter);
  store<f64>(at + (S_INBOUND << 3), <f64>inbound);
  store<f64>(at + (S_OUTBOUND << 3), <f64>outbound);
  store<f64>(at + (S_MIN_START << 3), minStart);
  store<f64>(at + (S_MAX_END << 3), maxEnd);
}

/** detection.md §3 "public" of an IPv4 address: src/net/address.ts isPublicV4 over its table. */
function isPublicV4(v: u32): bool {
  const first = <u32>load<u8>(tablePtr + V4_FIRST + (v >>> 24));
  if (first != 1) return first == 0; // 2: a range covers the octet whole (10.0.0.0/8)
  const n = load<u32>(tablePtr + V4_COUNT);
  for (let k: u32 = 0; k < n; k++) {
    const at = tablePtr + V4_RANGES + (k << 3);
    if ((v & load<u32>(at + 4)) == load<u32>(at)) return false;
  }
  return true;
}

/** src/flow/hash.ts hashAddress of an IPv4 address. */
const V4_MAPPED_STATE: u32 = mix(mix(mix(0x9747b28c, 0), 0), 0x0000ffff);

function hashV4(v: u32): u32 {
  return fmix32(mix(V4_MAPPED_STATE, v) ^ 16);
}

/** src/flow/hash.ts hashAddress of four words at p. */
function hashWords(p: u32): u32 {
  const w0 = load<u32>(p);
  const w1 = load<u32>(p + 4);
  const w2 = load<u32>(p + 8);
  const h = w0 == 0 && w1 == 0 && w2 == 0x0000ffff ? V4_MAPPED_STATE : mix(mix(mix(0x9747b28c, w0), w1), w2);
  return fmix32(mix(h, load<u32>(p + 12)) ^ 16);
}

/** src/net/address.ts isPublicWords of four words at p. */
function isPublicWords(p: u32): bool {
  const w0 = load<u32>(p);
  if (w0 == 0 && load<u32>(p + 4) == 0) {
    const w2 = load<u32>(p + 8);
    if (w2 == 0x0000ffff) return isPublicV4(load<u32>(p + 12));
    if (w2 == 0) {
      const w3 = load<u32>(p + 12);
      if (w3 == 0 || w3 == 1) return false; // ::/128, ::1/128
    }
  }
  if ((w0 & 0xfe000000) == 0xfc000000) return false; // fc00::/7
  if ((w0 & 0xffc00000) == 0xfe800000) return false; // fe80::/10
  if ((w0 & 0xff000000) == 0xff000000) return false; // ff00::/8
  if (w0 == 0x20010db8) return false; // 2001:db8::/32
  return true;
}

/** Bytes an area takes a row (src/formats/wasm-route.ts AREA_BYTES_A_ROW and the offsets of its views). */
export const AREA_BYTES_A_ROW: u32 = 82;
/** Where an area's id columns start, in bytes a row (account, region, interface, instance: i32 each). */
export const AREA_IDS: u32 = 56;

/**
 * The batch columns of a routed row into its shard's area (src/flow/sink.ts append writes
 * them from a FlowRecord; here they are written where the caller copies them from in runs):
 * its slot there. Its string ids (AREA_IDS) are written by the module that knows them
 * (toAreaIds) or by the caller (FlowSink.appendRoutedIds).
 */
export function toArea(shard: u32, src: u32, dst: u32, packets: f64, bytes: f64, start: u32, end: u32, sport: u32, dport: u32, tcpFlags: i32, feed: u32, proto: u32, action: u32, direction: u32): u32 {
  return AreaRow.put(shard, src, dst, packets, bytes, start, end, sport, dport, tcpFlags, feed, proto, action, direction);
}

/**
 * toArea's body, inlined where a reader writes most of its routed rows (assembly/aws-lines.ts
 * ColumnsRow.read; a static method, which eslint takes the decorator of): as a call it was
 * ~5 % of the AWS module's time on the bucket (perf, wasm-function toArea).
 */
export class AreaRow {
  @inline
  static put(shard: u32, src: u32, dst: u32, packets: f64, bytes: f64, start: u32, end: u32, sport: u32, dport: u32, tcpFlags: i32, feed: u32, proto: u32, action: u32, direction: u32): u32 {
  const counts = tablePtr + AREA_COUNTS + (shard << 2);
  const slot = load<u32>(counts);
  store<u32>(counts, slot + 1);
  const n = areaRows;
  const area = areasPtr + shard * n * AREA_BYTES_A_ROW;
  // src and dst: four words each (IPv4-mapped), then the f64, u32 (ids among them), u16, i16 and u8 columns
  const a = area + (slot << 4);
  store<u32>(a, 0);
  store<u32>(a + 4, 0);
  store<u32>(a + 8, 0xffff);
  store<u32>(a + 12, src);
  const d = area + (n << 4) + (slot << 4);
  store<u32>(d, 0);
  store<u32>(d + 4, 0);
  store<u32>(d + 8, 0xffff);
  store<u32>(d + 12, dst);
  store<f64>(area + (n << 5) + (slot << 3), packets);
  store<f64>(area + n * 40 + (slot << 3), bytes);
  store<u32>(area + n * 48 + (slot << 2), start);
  store<u32>(area + n * 52 + (slot << 2), end);
  store<u16>(area + n * 72 + (slot << 1), <u16>sport);
  store<u16>(area + n * 74 + (slot << 1), <u16>dport);
  store<i16>(area + n * 76 + (slot << 1), <i16>tcpFlags);
  store<u8>(area + n * 78 + slot, <u8>feed);
  store<u8>(area + n * 79 + slot, <u8>proto);
  store<u8>(area + n * 80 + slot, <u8>action);
  store<u8>(area + n * 81 + slot, <u8>direction);
  return slot;
  }
}

/**
 * The string ids (dictionary ids; may be a module's provisional ids, fixed later) of the row at
 * `slot` of shard's area; returns where the interface's went (the instance's areaIdStep() past it).
 */
export function toAreaIds(shard: u32, slot: u32, account: i32, region: i32, iface: i32, instance: i32): u32 {
  const n = areaRows;
  const ids = areasPtr + shard * n * AREA_BYTES_A_ROW + n * AREA_IDS + (slot << 2);
  store<i32>(ids, account);
  store<i32>(ids + (n << 2), region);
  store<i32>(ids + (n << 3), iface);
  store<i32>(ids + n * 12, instance);
  return ids + (n << 3);
}

/** Bytes from an area row's id in one column to its id in the next (toAreaIds). */
export function areaIdStep(): u32 {
  return areaRows << 2;
}

/**
 * Every id of every area of this call that is a module's provisional id of a token the
 * caller looked up since (shared/token-ids.ts) replaced by the id the caller wrote for it.
 */
export function fixAreaIds(): void {
  if (areasPtr == 0) return;
  const n = areaRows;
  for (let s: u32 = 0; s < areaCount; s++) {
    const first = load<u32>(tablePtr + AREA_STARTS + (s << 2));
    const rows = load<u32>(tablePtr + AREA_COUNTS + (s << 2));
    const ids = areasPtr + s * n * AREA_BYTES_A_ROW + n * AREA_IDS;
    for (let c: u32 = 0; c < 4; c++) {
      const col = ids + c * (n << 2);
      for (let k: u32 = first << 2; k < rows << 2; k += 4) store<i32>(col + k, fixedId(load<i32>(col + k)));
    }
  }
}

/** toArea of a row whose addresses are four words each at srcAt and dstAt (routeFlowWords). */
export function toAreaWords(shard: u32, srcAt: u32, dstAt: u32, packets: f64, bytes: f64, start: u32, end: u32, sport: u32, dport: u32, tcpFlags: i32, feed: u32, proto: u32, action: u32, direction: u32): u32 {
  const slot = toArea(shard, 0, 0, packets, bytes, start, end, sport, dport, tcpFlags, feed, proto, action, direction);
  const n = areaRows;
  const area = areasPtr + shard * n * AREA_BYTES_A_ROW;
  memory.copy(area + (slot << 4), srcAt, 16);
  memory.copy(area + (n << 4) + (slot << 4), dstAt, 16);
  return slot;
}

/**
 * What src/flow/sink.ts emit does with a plain IPv4 record whose fields the sink takes as
 * they are (ports, protocol and times in range): its shard (its Feed bits in routedFeed),
 * ROUTE_DONE when it is counted only, ROUTE_EMIT when the sink must see it (a reject, or
 * routing off). Counts as emit counts. `noRegion`: the record has no region of its own.
 */
export function routeFlow(start: u32, end: u32, src: u32, dst: u32, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32, noRegion: bool): i32 {
  return RouteFlow.route(start, end, src, dst, sport, dport, proto, tcpFlags, dir, noRegion);
}

/**
 * routeFlow with emit's classification as a chain of branches (ClassifyBy.branches): for the
 * Azure module, whose records come grouped by rule and flow, their classes in runs that the
 * branches predict; the branch-free Classify.feed cost its reader 1.04x (bench/RESULTS.md
 * session 17), where it saves the AWS and GCP readers theirs.
 */
export function routeFlowGrouped(start: u32, end: u32, src: u32, dst: u32, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32, noRegion: bool): i32 {
  const early = admit(start, end, noRegion);
  if (early != ROUTE_ON) return early;
  if (!ClassifyBy.branches(isPublicV4(src), isPublicV4(dst), sport, dport, proto, tcpFlags, dir)) return ROUTE_DONE;
  return Lane.of(shards == 1 ? 0 : ShardOf.hash(hashV4(src)));
}

/** routeFlow's body, inlined where a reader routes most of its rows (a static method, which eslint takes the decorator of). */
export class RouteFlow {
  @inline
  static route(start: u32, end: u32, src: u32, dst: u32, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32, noRegion: bool): i32 {
    const early = admit(start, end, noRegion);
    if (early != ROUTE_ON) return early;
    if (!Classify.feed(isPublicV4(src), isPublicV4(dst), sport, dport, proto, tcpFlags, dir)) return ROUTE_DONE;
    return Lane.of(shards == 1 ? 0 : ShardOf.hash(hashV4(src))); // one shard: no hash to take
  }
}

/**
 * The area (src/flow/sink.ts lane) of the row just classified (routedFeed), of `shard`: its
 * shard's, or where outbound rows go apart (S_APART) and the row is outbound, shard + shards
 * (a static method, which eslint takes the decorator of).
 */
class Lane {
  @inline
  static of(shard: u32): i32 {
    return <i32>(shard + (routedFeed == FEED_OUTBOUND ? outboundLane : 0));
  }
}

/**
 * routeFlow of a record with an IPv6 address: both addresses in four words (most
 * significant first; an IPv4 one IPv4-mapped) at srcAt and dstAt.
 */
export function routeFlowWords(start: u32, end: u32, srcAt: u32, dstAt: u32, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32, noRegion: bool): i32 {
  const early = admit(start, end, noRegion);
  if (early != ROUTE_ON) return early;
  if (!feedOf(isPublicWords(srcAt), isPublicWords(dstAt), sport, dport, proto, tcpFlags, dir)) return ROUTE_DONE;
  return Lane.of(shards == 1 ? 0 : ShardOf.hash(hashWords(srcAt)));
}

/** A hash's shard: its low 12 bits modulo shards, by shardMagic (a static method, inlined: eslint takes its decorator). */
class ShardOf {
  @inline
  static hash(h: u32): u32 {
    const a = <u64>(h & 4095);
    return <u32>(a - ((a * shardMagic) >> 32) * <u64>shards);
  }
}

/** admit's answer for a record that goes on to be classified. */
const ROUTE_ON: i32 = 0;

/** emit's checks before it looks at a record's addresses: ROUTE_EMIT, ROUTE_DONE (counted), or ROUTE_ON. */
function admit(start: u32, end: u32, noRegion: bool): i32 {
  if (!routing) return ROUTE_EMIT;
  if (<f64>end > notAfter || end < start) return ROUTE_EMIT;
  records++;
  if (<f64>start < rangeFrom || <f64>start >= rangeTo) {
    outsideRange++;
    return ROUTE_DONE;
  }
  if (noRegion && regionBlank) blankRegion++;
  if (<f64>start < minStart) minStart = <f64>start;
  if (<f64>end > maxEnd) maxEnd = <f64>end;
  return ROUTE_ON;
}

/** emit's classification by the addresses' classes: false when the record is counted only, else its Feed bits in routedFeed. */
function feedOf(srcPublic: bool, dstPublic: bool, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32): bool {
  return Classify.feed(srcPublic, dstPublic, sport, dport, proto, tcpFlags, dir);
}

/** Classify.feed's answer and counts by branches, for routeFlowGrouped (a static method, which eslint takes the decorator of). */
class ClassifyBy {
  @inline
  static branches(srcPublic: bool, dstPublic: bool, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32): bool {
    let feed: u32 = 0;
    if (srcPublic && (dir == 1 || (dir == 0 && !dstPublic))) feed |= FEED_INBOUND;
    if ((dir == 2 || (dir == 0 && !srcPublic)) && dstPublic) feed |= FEED_OUTBOUND;
    if (!srcPublic && !dstPublic) feed |= FEED_OUTBOUND;
    if (feed == 0) {
      internal++;
      return false;
    }
    const icmp = proto == 1 || proto == 58;
    if (!icmp && sport < 1024 && dport >= 1024) {
      responses++;
      return false;
    }
    if (proto == 6 && (tcpFlags == 18 || tcpFlags == 4 || tcpFlags == 22)) {
      backscatter++;
      return false;
    }
    if ((feed & FEED_OUTBOUND) != 0 && icmp) {
      feed &= ~FEED_OUTBOUND;
      if (feed == 0) {
        responses++;
        return false;
      }
    }
    if ((feed & FEED_INBOUND) != 0) inbound++;
    if ((feed & FEED_OUTBOUND) != 0) outbound++;
    routedFeed = feed;
    return true;
  }
}

/**
 * feedOf's body, inlined into RouteFlow.route (a static method, which eslint takes the
 * decorator of): as a call ~2.5 % of the AWS module's time on the bucket. Without a branch:
 * which of internal, response, backscatter or routed a record is depends on the data, row
 * by row, and as a chain of branches it was ~8-10 ns a line of the AWS module's pass (a
 * knock-out, bench/RESULTS.md session 17); each counter is added its 0 or 1 instead.
 */
class Classify {
  @inline
  static feed(srcPublic: bool, dstPublic: bool, sport: u32, dport: u32, proto: u32, tcpFlags: i32, dir: u32): bool {
  const sp = <u32>srcPublic;
  const dp = <u32>dstPublic;
  const d0 = <u32>(dir == 0);
  const inbound1 = sp & (<u32>(dir == 1) | (d0 & (dp ^ 1)));
  let outbound1 = ((<u32>(dir == 2) | (d0 & (sp ^ 1))) & dp) | ((sp | dp) ^ 1);
  const icmp = <u32>(proto == 1) | <u32>(proto == 58);
  const response = (icmp ^ 1) & <u32>(sport < 1024) & <u32>(dport >= 1024);
  const scatter = <u32>(proto == 6) & (<u32>(tcpFlags == 18) | <u32>(tcpFlags == 4) | <u32>(tcpFlags == 22));
  // in emit's order: no feed (internal), a response, backscatter; an ICMP record loses its outbound feed
  const isInternal = (inbound1 | outbound1) ^ 1;
  const isResponse = (isInternal ^ 1) & response;
  const isScatter = (isInternal ^ 1) & (response ^ 1) & scatter;
  const live = (isInternal | response | scatter) ^ 1;
  outbound1 &= icmp ^ 1;
  const routed = live & (inbound1 | outbound1);
  internal += isInternal;
  responses += isResponse + (live & (routed ^ 1)); // an ICMP record with no feed left: a response
  backscatter += isScatter;
  inbound += routed & inbound1;
  outbound += routed & outbound1;
  routedFeed = (inbound1 * FEED_INBOUND) | (outbound1 * FEED_OUTBOUND); // read only where routed
  return routed != 0;
  }
}
