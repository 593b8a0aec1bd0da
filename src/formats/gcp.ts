/**
 * Google Cloud VPC Flow Logs (formats.md §3): one Cloud Logging LogEntry per flow, the
 * flow in `jsonPayload`. Two containers:
 *
 * - `gcp`: one LogEntry per line (Cloud Storage sink shards, Pub/Sub subscribers,
 *   BigQuery JSON exports; also Pub/Sub push envelopes `{"message":{"data":<base64>}}`),
 *   a line reader, so big files are split across workers;
 * - `gcp-json`: a JSON array of LogEntries (or pretty-printed ones), a document.
 *
 * Mapping (detection.md §2): proto3 JSON writes int64 counters as strings ("bytes_sent":"1776")
 * and omits unset fields: an absent counter is unknown, not 0. start_time / end_time are
 * RFC 3339 with nanoseconds, kept as Unix seconds with the fraction dropped. ICMP has no
 * ports: 0. There is no action. The monitored side is the reporter: `DEST` (ingress of
 * the destination VM) or `SRC` (egress of the source VM), and `*_GATEWAY` for VLAN
 * attachments and VPN tunnels. Account = that side's project (from `*_instance`, else
 * `*_vpc`, `*_gateway`, else the project in `logName`, else `resource.labels.project_id`);
 * region = that side's `region` (else its VPC's `subnetwork_region`, else its zone's
 * region); instance = its `vm_name`.
 *
 * Counting: `lines` counts physical lines (`gcp`) or LogEntries (`gcp-json`); each has
 * exactly one fate: a record, a duplicate, a reject (or, for lines, blank).
 *
 * Both ends (detection.md §2: a flow reported from both ends counts once, from the monitored
 * destination's side): when both ends are VMs with flow logs, GCP writes the flow twice,
 * once with reporter SRC and once with DEST. A SRC record whose destination is a VM
 * (`dest_instance` is present) is therefore counted in `duplicates` and not emitted: the
 * DEST record stands for it. Caveat: GCP fills `dest_instance` whenever the destination
 * is a VM of the same (or a peered) network, even when that VM's subnet does not log
 * flows; such a flow is then seen by neither record. Sampling also means the DEST copy
 * may be missing. Both are limits of the format, and the rule is the spec's.
 */
import { V4_MAPPED_W2, parseAddressBytes } from '../net/address.js';
import { Cloud, Direction, Action } from '../flow/types.js';
import type { FlowSink, RoutedColumns } from '../flow/sink.js';
import type { DocumentReader, LineParser, LineReader, ReaderContext } from './types.js';
import { JsonError, JsonScanner, bomAt, lit, needsUtf8Check } from './json-bytes.js';
import { documentShaped, jsonLine, parseJsonLines, ValueDocument } from './json-doc.js';
import { G, GcpFastPath, N } from './gcp-fast.js';
import { GCP_WASM_WINDOW, GcpRowFlag, RowSlot, gcpWasm, type GcpWasm } from './gcp-wasm.js';
import { ROUTE_EMIT } from './wasm-route.js';
import { SinkLineParser } from './line-parser.js';

/** Off only in tests, to compare the fast path (gcp-fast.ts) with the full walk. */
export const gcpFastPath = { enabled: true };

const K = {
  jsonPayload: lit('jsonPayload'),
  logName: lit('logName'),
  resource: lit('resource'),
  labels: lit('labels'),
  project_id: lit('project_id'),
  message: lit('message'),
  data: lit('data'),
  connection: lit('connection'),
  src_ip: lit('src_ip'),
  dest_ip: lit('dest_ip'),
  src_port: lit('src_port'),
  dest_port: lit('dest_port'),
  protocol: lit('protocol'),
  reporter: lit('reporter'),
  start_time: lit('start_time'),
  end_time: lit('end_time'),
  bytes_sent: lit('bytes_sent'),
  packets_sent: lit('packets_sent'),
  src_instance: lit('src_instance'),
  dest_instance: lit('dest_instance'),
  src_vpc: lit('src_vpc'),
  dest_vpc: lit('dest_vpc'),
  src_gateway: lit('src_gateway'),
  dest_gateway: lit('dest_gateway'),
  region: lit('region'),
  zone: lit('zone'),
  vm_name: lit('vm_name'),
  subnetwork_region: lit('subnetwork_region'),
  location: lit('location'),
  name: lit('name'),
};
const R_SRC = lit('SRC');
const R_DEST = lit('DEST');
const R_SRC_GW = lit('SRC_GATEWAY');
const R_DEST_GW = lit('DEST_GATEWAY');

const enum Side { unknown, src, dest }

/** toRecord(): the flow is the SRC copy of one the destination reports too. */
const DUPLICATE = 'duplicate';

const ABSENT = -1;
const BAD = -2;

/** Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

const MONTH_DAYS = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Two ASCII digits at b[i] as a number, or -1. */
function twoDigits(b: Uint8Array, i: number): number {
  const x = b[i]! - 48;
  const y = b[i + 1]! - 48;
  return x >= 0 && x <= 9 && y >= 0 && y <= 9 ? x * 10 + y : -1;
}

/** The last date converted to days (a file's entries share a few dates): (y·16 + month)·32 + day, and its days. */
let lastDate = -1;
let lastDays = 0;

/**
 * RFC 3339 date-time in b[s, e) as Unix seconds, the fraction dropped; NaN when
 * malformed. Also takes BigQuery's "YYYY-MM-DD HH:MM:SS[.ffffff] UTC".
 */
export function rfc3339Seconds(b: Uint8Array, s: number, e: number): number {
  if (e - s < 19 || b[s + 4] !== 45 || b[s + 7] !== 45 || b[s + 13] !== 58 || b[s + 16] !== 58) return NaN;
  const sep = b[s + 10];
  if (sep !== 84 && sep !== 116 && sep !== 32) return NaN;
  const c = twoDigits(b, s);
  const yy = twoDigits(b, s + 2);
  const mo = twoDigits(b, s + 5);
  const d = twoDigits(b, s + 8);
  const h = twoDigits(b, s + 11);
  const mi = twoDigits(b, s + 14);
  const sec = twoDigits(b, s + 17);
  if (c < 0 || yy < 0 || mo < 1 || mo > 12 || d < 1 || d > MONTH_DAYS[mo]! || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 60) return NaN;
  const y = c * 100 + yy;
  const date = (y * 16 + mo) * 32 + d;
  let days = lastDays;
  if (date !== lastDate) {
    if (mo === 2 && d === 29 && !(y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0))) return NaN;
    days = daysFromCivil(y, mo, d);
    lastDate = date;
    lastDays = days;
  }
  let p = s + 19;
  if (b[p] === 46) {
    p++;
    const f = p;
    while (p < e && b[p]! >= 48 && b[p]! <= 57) p++;
    if (p === f) return NaN;
  }
  let offset = 0;
  const z = b[p];
  if ((z === 90 || z === 122) && p + 1 === e) {
    // Z
  } else if ((z === 43 || z === 45) && p + 6 === e && b[p + 3] === 58) {
    const oh = twoDigits(b, p + 1);
    const om = twoDigits(b, p + 4);
    if (oh < 0 || oh > 23 || om < 0 || om > 59) return NaN;
    offset = (z === 43 ? 1 : -1) * (oh * 3600 + om * 60);
  } else if (p + 4 === e && z === 32 && b[p + 1] === 85 && b[p + 2] === 84 && b[p + 3] === 67) {
    // " UTC" (BigQuery)
  } else return NaN;
  return days * 86400 + h * 3600 + mi * 60 + sec - offset;
}

const B64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) B64['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;
B64[45] = 62; // '-' and '_' (URL-safe alphabet)
B64[95] = 63;

/** Base64 in b[s, e) into out (grown as needed); returns [bytes, length] or null when malformed. */
function base64Decode(b: Uint8Array, s: number, e: number, out: Uint8Array): { out: Uint8Array; n: number } | null {
  if (out.length < ((e - s) * 3) / 4 + 3) out = new Uint8Array(Math.ceil(((e - s) * 3) / 4) + 16);
  let acc = 0;
  let bits = 0;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c === 61) break; // '=' padding
    const v = B64[c]!;
    if (v < 0) return null;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return { out, n };
}

/** The reader of one LogEntry object; shared by the line and document readers. */
class GcpEntries {
  readonly sc = new JsonScanner();
  private inner: JsonScanner | null = null;
  private innerBuf: Uint8Array = new Uint8Array(0);
  private readonly sink: FlowSink;
  private readonly defaultAccount: number;
  private readonly defaultRegion: number;
  // the entry being read
  private readonly spanS = new Int32Array(G.count);
  private readonly spanE = new Int32Array(G.count);
  private readonly inArena = new Uint8Array(G.count);
  private sport = ABSENT;
  private dport = ABSENT;
  private proto = ABSENT;
  private packets = NaN;
  private bytes = NaN;
  private hasPayload = false;
  private hasConnection = false;
  private hasSrcInstance = false;
  private hasDstInstance = false;
  private bad: string | null = null;
  /** Read by the WebAssembly reader (wasmRow): the addresses when dotted quads (else -1) and the times. */
  private wasmSrc = -1;
  private wasmDst = -1;
  private wasmTimes = false;
  private wasmStart = NaN;
  private wasmEnd = NaN;
  private cur: JsonScanner;
  private readonly fast = new GcpFastPath(this.spanS, this.spanE);

  constructor(ctx: ReaderContext) {
    this.sink = ctx.sink;
    this.defaultAccount = this.sink.dict.idOf(ctx.account);
    this.defaultRegion = this.sink.dict.idOf(ctx.region);
    this.cur = this.sc;
  }

  /** A whole line read by the fast path: its fields as the full walk would leave them. */
  private takeFast(): void {
    const f = this.fast;
    const n = f.ints;
    this.inArena.fill(0);
    this.sport = n[N.srcPort]!; // -1 is ABSENT
    this.dport = n[N.dstPort]!;
    this.proto = n[N.protocol]!;
    this.bytes = n[N.bytes]! < 0 ? NaN : n[N.bytes]!;
    this.packets = n[N.packets]! < 0 ? NaN : n[N.packets]!;
    this.hasPayload = f.hasPayload;
    this.hasConnection = f.hasConnection;
    this.hasSrcInstance = f.hasSrcInstance;
    this.hasDstInstance = f.hasDstInstance;
    this.bad = null;
    this.wasmSrc = -1;
    this.wasmDst = -1;
    this.wasmTimes = false;
  }

  /** The file's default account and region ids (a record without its own gets them). */
  get accountId(): number {
    return this.defaultAccount;
  }

  get regionId(): number {
    return this.defaultRegion;
  }

  /**
   * A line the WebAssembly reader took and worked out (GcpRowFlag.simple: a flow with IPv4
   * ends and good times, not a duplicate, which the module counts) that the sink is to be
   * handed (ROUTE_EMIT, or a shard with no areas): the record toRecord would make from row
   * k, its strings' ids the module's (gcp-wasm.ts RowSlot.accountId...).
   */
  simpleRow(w: GcpWasm, k: number, line: number, offset: number): void {
    const sink = this.sink;
    const i32 = w.i32;
    const row = w.rowAt(k);
    const route = i32[row + RowSlot.route]!;
    const direction = i32[row + RowSlot.direction]!;
    const f64 = w.f64;
    const n = w.intsAt(k);
    const t = w.timesAt(k);
    const r = sink.rec;
    setV4(r.src, i32[row + RowSlot.srcV4]! >>> 0);
    setV4(r.dst, i32[row + RowSlot.dstV4]! >>> 0);
    const sport = f64[n + N.srcPort]!;
    const dport = f64[n + N.dstPort]!;
    r.sport = sport < 0 ? 0 : sport;
    r.dport = dport < 0 ? 0 : dport;
    r.proto = f64[n + N.protocol]!;
    const start = f64[t]!;
    const end = f64[t + 1]!;
    r.start = Number.isNaN(start) ? end : start;
    r.end = Number.isNaN(end) ? start : end;
    const packets = f64[n + N.packets]!;
    const bytes = f64[n + N.bytes]!;
    r.packets = packets < 0 ? NaN : packets;
    r.bytes = bytes < 0 ? NaN : bytes;
    r.tcpFlags = -1;
    r.cloud = Cloud.gcp;
    r.action = Action.unknown;
    r.direction = direction;
    r.iface = 0;
    r.account = i32[row + RowSlot.accountId]!;
    r.region = i32[row + RowSlot.regionId]!;
    r.instance = i32[row + RowSlot.instanceId]!;
    if (route === ROUTE_EMIT) sink.emit(line, offset);
    else sink.appendRouted(route, i32[row + RowSlot.feed]! & 3);
  }

  /**
   * A line the WebAssembly reader took (gcp-wasm.ts: row k of w, whose spans are buf's):
   * its fields as the JavaScript fast path would leave them, then its fate.
   */
  wasmRow(w: GcpWasm, k: number, buf: Uint8Array, line: number, offset: number): void {
    const i32 = w.i32;
    const r = w.rowAt(k);
    const spanS = this.spanS;
    const spanE = this.spanE;
    for (let f = 0; f < G.count; f++) {
      spanS[f] = i32[r + RowSlot.spanS + f]!;
      spanE[f] = i32[r + RowSlot.spanE + f]!;
    }
    const f64 = w.f64;
    const n = w.intsAt(k);
    this.inArena.fill(0);
    this.sport = f64[n + N.srcPort]!; // -1 is ABSENT
    this.dport = f64[n + N.dstPort]!;
    this.proto = f64[n + N.protocol]!;
    const bytes = f64[n + N.bytes]!;
    const packets = f64[n + N.packets]!;
    this.bytes = bytes < 0 ? NaN : bytes;
    this.packets = packets < 0 ? NaN : packets;
    const flags = i32[r + RowSlot.flags]!;
    this.hasPayload = (flags & GcpRowFlag.payload) !== 0;
    this.hasConnection = (flags & GcpRowFlag.connection) !== 0;
    this.hasSrcInstance = (flags & GcpRowFlag.srcInstance) !== 0;
    this.hasDstInstance = (flags & GcpRowFlag.dstInstance) !== 0;
    this.bad = null;
    this.wasmSrc = (flags & GcpRowFlag.srcV4) !== 0 ? i32[r + RowSlot.srcV4]! >>> 0 : -1;
    this.wasmDst = (flags & GcpRowFlag.dstV4) !== 0 ? i32[r + RowSlot.dstV4]! >>> 0 : -1;
    const t = w.timesAt(k);
    this.wasmTimes = true;
    this.wasmStart = f64[t]!;
    this.wasmEnd = f64[t + 1]!;
    const sc = this.sc;
    if (sc.buf !== buf) sc.reset(buf, 0, buf.length, false);
    this.cur = sc;
    this.finish(line, offset, buf, i32[r + RowSlot.trimmedStart]!, i32[r + RowSlot.trimmedEnd]!);
  }

  /**
   * Read the LogEntry object at sc.pos and give it exactly one fate: a record, a
   * duplicate or a reject (the caller counts it as a line). `wholeLine`: the value must
   * be all there is (NDJSON). Throws JsonError on a syntax error, having emitted nothing.
   */
  entry(line: number, offset: number, wholeLine: boolean): void {
    const sc = this.sc;
    this.cur = sc;
    if (wholeLine && !sc.checkUtf8 && gcpFastPath.enabled && this.fast.read(sc.buf, sc.dv, sc.pos, sc.end)) {
      this.takeFast();
      this.finish(line, offset, sc.buf, sc.pos, sc.end);
      return;
    }
    if (sc.peek() !== 123) {
      const s = sc.pos;
      sc.skip();
      if (wholeLine) sc.expectEnd();
      this.sink.reject(line, offset, 'not an object (expected a LogEntry)', sc.buf, s, Math.min(sc.pos, s + 200));
      return;
    }
    const s = sc.pos;
    this.reset();
    const pubsub = this.walkEntry(sc, true);
    if (wholeLine) sc.expectEnd();
    if (pubsub !== null && !this.hasPayload) {
      // a Pub/Sub push envelope: the LogEntry is the base64 'data'
      this.nestedEntry(pubsub, line, offset);
      return;
    }
    this.finish(line, offset, sc.buf, s, sc.pos);
  }

  /** Emit the entry read, or count why not. */
  private finish(line: number, offset: number, buf: Uint8Array, s: number, e: number): void {
    const why = this.toRecord();
    if (why === DUPLICATE) this.sink.counters.duplicates++;
    else if (why !== null) this.sink.reject(line, offset, why, buf, s, Math.min(e, s + 200));
    else this.sink.emit(line, offset);
  }

  private reset(): void {
    this.spanS.fill(-1);
    this.sport = ABSENT;
    this.dport = ABSENT;
    this.proto = ABSENT;
    this.packets = NaN;
    this.bytes = NaN;
    this.hasPayload = false;
    this.hasConnection = false;
    this.hasSrcInstance = false;
    this.hasDstInstance = false;
    this.bad = null;
    this.wasmSrc = -1;
    this.wasmDst = -1;
    this.wasmTimes = false;
  }

  /**
   * Walk one LogEntry object. Returns the span of a Pub/Sub envelope's message.data
   * ([start, end) in sc's buffer or arena, as a 3-array) when the object is one.
   */
  private walkEntry(sc: JsonScanner, top: boolean): [number, number, boolean] | null {
    let pubsub: [number, number, boolean] | null = null;
    if (!sc.openObject()) return null;
    do {
      sc.key();
      if (sc.is(K.jsonPayload)) this.payload(sc);
      else if (sc.is(K.logName)) this.string(sc, G.logName, 'logName');
      else if (sc.is(K.resource)) this.resource(sc);
      else if (top && sc.is(K.message) && sc.peek() === 123) pubsub = this.pubsubMessage(sc) ?? pubsub;
      else sc.skip();
    } while (sc.nextMember());
    return pubsub;
  }

  private pubsubMessage(sc: JsonScanner): [number, number, boolean] | null {
    let data: [number, number, boolean] | null = null;
    if (!sc.openObject()) return null;
    do {
      sc.key();
      if (sc.is(K.data) && sc.peek() === 34) {
        sc.str();
        data = [sc.strS, sc.strE, sc.strInArena];
      } else sc.skip();
    } while (sc.nextMember());
    return data;
  }

  private nestedEntry(data: [number, number, boolean], line: number, offset: number): void {
    const sc = this.sc;
    const src = data[2] ? sc.arena : sc.buf;
    const dec = base64Decode(src, data[0], data[1], this.innerBuf);
    if (dec === null) {
      this.sink.reject(line, offset, 'Pub/Sub message.data is not base64', src, data[0], Math.min(data[1], data[0] + 200));
      return;
    }
    this.innerBuf = dec.out;
    const inner = (this.inner ??= new JsonScanner());
    inner.reset(dec.out, bomAt(dec.out, 0), dec.n, needsUtf8Check(dec.out, 0, dec.n));
    this.cur = inner;
    this.reset();
    try {
      if (inner.peek() !== 123) inner.fail('not an object');
      this.walkEntry(inner, false);
      if (inner.peek() >= 0) inner.fail('unexpected data after the LogEntry');
    } catch (err) {
      if (!(err instanceof JsonError)) throw err;
      this.sink.reject(line, offset, `invalid JSON in Pub/Sub message.data: ${err.reason} at byte ${err.pos} of the decoded data`, dec.out, 0, Math.min(dec.n, 200));
      return;
    }
    this.finish(line, offset, dec.out, 0, dec.n);
  }

  private string(sc: JsonScanner, f: G, name: string): void {
    const c = sc.peek();
    if (c === 34) {
      sc.str();
      this.spanS[f] = sc.strS;
      this.spanE[f] = sc.strE;
      this.inArena[f] = sc.strInArena ? 1 : 0;
    } else if (!sc.skipNull()) {
      this.bad ??= `${name} is not a string`;
      sc.skip();
    }
  }

  /** An int32 (ports, protocol): a JSON number, or digits in a string. */
  private int32(sc: JsonScanner, name: string): number {
    const c = sc.peek();
    let v: number = BAD;
    if (c === 34) {
      sc.str();
      v = uintOf(sc.strBuf, sc.strS, sc.strE);
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      v = sc.num();
      if (!Number.isInteger(v) || v < 0) v = BAD;
    } else if (sc.skipNull()) return ABSENT;
    else sc.skip();
    if (v < 0) this.bad ??= `${name} is not a non-negative integer`;
    return v;
  }

  /** An int64 counter: digits in a string (proto3 JSON), or a JSON number. NaN when absent. */
  private int64(sc: JsonScanner, name: string): number {
    const v = this.int32(sc, name);
    return v === ABSENT ? NaN : v;
  }

  private object(sc: JsonScanner, name: string): boolean {
    if (sc.peek() === 123) return sc.openObject();
    if (!sc.skipNull()) {
      this.bad ??= `${name} is not an object`;
      sc.skip();
    }
    return false;
  }

  private resource(sc: JsonScanner): void {
    if (!this.object(sc, 'resource')) return;
    do {
      sc.key();
      if (!sc.is(K.labels)) {
        sc.skip();
        continue;
      }
      if (!this.object(sc, 'resource.labels')) continue;
      do {
        sc.key();
        if (sc.is(K.project_id)) this.string(sc, G.resProject, 'resource.labels.project_id');
        else sc.skip();
      } while (sc.nextMember());
    } while (sc.nextMember());
  }

  private payload(sc: JsonScanner): void {
    if (!this.object(sc, 'jsonPayload')) return;
    this.hasPayload = true;
    do {
      sc.key();
      const n = sc.strE - sc.strS;
      // dispatch on length first: most keys of a payload are skipped
      if (n === 10 && sc.is(K.connection)) this.connection(sc);
      else if (n === 8 && sc.is(K.reporter)) this.string(sc, G.reporter, 'reporter');
      else if (n === 10 && sc.is(K.start_time)) this.string(sc, G.startTime, 'start_time');
      else if (n === 8 && sc.is(K.end_time)) this.string(sc, G.endTime, 'end_time');
      else if (n === 10 && sc.is(K.bytes_sent)) this.bytes = this.int64(sc, 'bytes_sent');
      else if (n === 12 && sc.is(K.packets_sent)) this.packets = this.int64(sc, 'packets_sent');
      else if (n === 12 && sc.is(K.src_instance)) this.hasSrcInstance = this.instance(sc, G.srcProject, G.srcRegion, G.srcVm, G.srcZone);
      else if (n === 13 && sc.is(K.dest_instance)) this.hasDstInstance = this.instance(sc, G.dstProject, G.dstRegion, G.dstVm, G.dstZone);
      else if (n === 7 && sc.is(K.src_vpc)) this.vpc(sc, G.srcVpcProject, G.srcVpcRegion);
      else if (n === 8 && sc.is(K.dest_vpc)) this.vpc(sc, G.dstVpcProject, G.dstVpcRegion);
      else if (n === 11 && sc.is(K.src_gateway)) this.gateway(sc, G.srcGwProject, G.srcGwLocation, G.srcGwName);
      else if (n === 12 && sc.is(K.dest_gateway)) this.gateway(sc, G.dstGwProject, G.dstGwLocation, G.dstGwName);
      else sc.skip();
    } while (sc.nextMember());
  }

  private connection(sc: JsonScanner): void {
    if (!this.object(sc, 'connection')) return;
    this.hasConnection = true;
    do {
      sc.key();
      if (sc.is(K.src_ip)) this.string(sc, G.srcIp, 'src_ip');
      else if (sc.is(K.dest_ip)) this.string(sc, G.dstIp, 'dest_ip');
      else if (sc.is(K.src_port)) this.sport = this.int32(sc, 'src_port');
      else if (sc.is(K.dest_port)) this.dport = this.int32(sc, 'dest_port');
      else if (sc.is(K.protocol)) this.proto = this.int32(sc, 'protocol');
      else sc.skip();
    } while (sc.nextMember());
  }

  /** src_instance / dest_instance. True when the block is there (the end is a VM). */
  private instance(sc: JsonScanner, project: G, region: G, vm: G, zone: G): boolean {
    if (sc.peek() !== 123) {
      if (!sc.skipNull()) {
        this.bad ??= 'an instance block is not an object';
        sc.skip();
      }
      return false;
    }
    if (!sc.openObject()) return true;
    do {
      sc.key();
      if (sc.is(K.project_id)) this.string(sc, project, 'project_id');
      else if (sc.is(K.region)) this.string(sc, region, 'region');
      else if (sc.is(K.vm_name)) this.string(sc, vm, 'vm_name');
      else if (sc.is(K.zone)) this.string(sc, zone, 'zone');
      else sc.skip();
    } while (sc.nextMember());
    return true;
  }

  private vpc(sc: JsonScanner, project: G, region: G): void {
    if (!this.object(sc, 'vpc')) return;
    do {
      sc.key();
      if (sc.is(K.project_id)) this.string(sc, project, 'project_id');
      else if (sc.is(K.subnetwork_region)) this.string(sc, region, 'subnetwork_region');
      else sc.skip();
    } while (sc.nextMember());
  }

  private gateway(sc: JsonScanner, project: G, location: G, name: G): void {
    if (!this.object(sc, 'gateway')) return;
    do {
      sc.key();
      if (sc.is(K.project_id)) this.string(sc, project, 'project_id');
      else if (sc.is(K.location)) this.string(sc, location, 'location');
      else if (sc.is(K.name)) this.string(sc, name, 'name');
      else sc.skip();
    } while (sc.nextMember());
  }

  private has(f: number): boolean {
    return this.spanS[f]! >= 0;
  }

  private bufOf(f: number): Uint8Array {
    return this.inArena[f] ? this.cur.arena : this.cur.buf;
  }

  private spanIs(f: G, v: Uint8Array): boolean {
    const s = this.spanS[f]!;
    if (s < 0 || this.spanE[f]! - s !== v.length) return false;
    const b = this.bufOf(f);
    for (let k = 0; k < v.length; k++) if (b[s + k] !== v[k]) return false;
    return true;
  }

  private id(f: number): number {
    return this.sink.dict.idOfBytes(this.bufOf(f), this.spanS[f]!, this.spanE[f]!);
  }

  private time(f: G): number {
    return rfc3339Seconds(this.bufOf(f), this.spanS[f]!, this.spanE[f]!);
  }

  /** Fill the sink's record from the entry read: null when it is a flow, DUPLICATE, or why it is not. */
  private toRecord(): string | null {
    const sink = this.sink;
    if (this.bad !== null) return this.bad;
    if (!this.hasPayload) return 'no jsonPayload (not a VPC Flow Logs entry)';
    if (!this.hasConnection || !this.has(G.srcIp) || !this.has(G.dstIp)) return 'no jsonPayload.connection with src_ip and dest_ip (not a VPC Flow Logs entry)';
    const r = sink.rec;
    if (this.wasmSrc >= 0) setV4(r.src, this.wasmSrc);
    else if (!parseAddressBytes(this.bufOf(G.srcIp), this.spanS[G.srcIp]!, this.spanE[G.srcIp]!, r.src, 0)) return 'bad connection.src_ip';
    if (this.wasmDst >= 0) setV4(r.dst, this.wasmDst);
    else if (!parseAddressBytes(this.bufOf(G.dstIp), this.spanS[G.dstIp]!, this.spanE[G.dstIp]!, r.dst, 0)) return 'bad connection.dest_ip';
    if (this.proto === ABSENT) return 'no connection.protocol';
    let start = this.has(G.startTime) ? (this.wasmTimes ? this.wasmStart : this.time(G.startTime)) : NaN;
    let end = this.has(G.endTime) ? (this.wasmTimes ? this.wasmEnd : this.time(G.endTime)) : NaN;
    if (this.has(G.startTime) && Number.isNaN(start)) return 'bad start_time (expected RFC 3339)';
    if (this.has(G.endTime) && Number.isNaN(end)) return 'bad end_time (expected RFC 3339)';
    if (Number.isNaN(start)) start = end;
    if (Number.isNaN(end)) end = start;
    if (Number.isNaN(start)) return 'no start_time or end_time';

    let side: Side = Side.unknown;
    let direction: number = Direction.unknown;
    let gateway = false;
    if (this.spanIs(G.reporter, R_DEST)) {
      side = Side.dest;
      direction = Direction.ingress;
    } else if (this.spanIs(G.reporter, R_SRC)) {
      side = Side.src;
      direction = Direction.egress;
    } else if (this.spanIs(G.reporter, R_DEST_GW)) {
      side = Side.dest;
      direction = Direction.ingress;
      gateway = true;
    } else if (this.spanIs(G.reporter, R_SRC_GW)) {
      side = Side.src;
      direction = Direction.egress;
      gateway = true;
    } else if (this.hasDstInstance) side = Side.dest;
    else if (this.hasSrcInstance) side = Side.src;

    // the same flow reported by the destination VM too: that record stands for both
    if (side === Side.src && !gateway && this.hasDstInstance && direction === Direction.egress) return DUPLICATE;

    r.sport = this.sport === ABSENT ? 0 : this.sport;
    r.dport = this.dport === ABSENT ? 0 : this.dport;
    r.proto = this.proto;
    r.start = start;
    r.end = end;
    r.packets = this.packets;
    r.bytes = this.bytes;
    r.tcpFlags = -1;
    r.cloud = Cloud.gcp;
    r.action = Action.unknown;
    r.direction = direction;
    r.iface = 0;
    const dest = side === Side.dest;
    r.account = this.firstId(
      side === Side.unknown ? -1 : dest ? G.dstProject : G.srcProject,
      side === Side.unknown ? -1 : dest ? G.dstVpcProject : G.srcVpcProject,
      side === Side.unknown ? -1 : dest ? G.dstGwProject : G.srcGwProject,
    );
    if (r.account === 0) r.account = this.logNameProject();
    if (r.account === 0 && this.has(G.resProject)) r.account = this.id(G.resProject);
    if (r.account === 0) r.account = this.defaultAccount;
    r.region = 0;
    r.instance = 0;
    if (side !== Side.unknown) {
      r.region = this.firstId(dest ? G.dstRegion : G.srcRegion, dest ? G.dstVpcRegion : G.srcVpcRegion, -1);
      if (r.region === 0) r.region = this.zoneRegion(dest ? G.dstZone : G.srcZone);
      if (r.region === 0) r.region = this.firstId(dest ? G.dstGwLocation : G.srcGwLocation, -1, -1);
      r.instance = this.firstId(dest ? G.dstVm : G.srcVm, dest ? G.dstGwName : G.srcGwName, -1);
    }
    if (r.region === 0) r.region = this.defaultRegion;
    return null;
  }

  private firstId(a: number, b: number, c: number): number {
    if (a >= 0 && this.has(a)) return this.id(a);
    if (b >= 0 && this.has(b)) return this.id(b);
    if (c >= 0 && this.has(c)) return this.id(c);
    return 0;
  }

  /** "projects/<id>/logs/…" → id of <id>, or 0. */
  private logNameProject(): number {
    if (!this.has(G.logName)) return 0;
    const b = this.bufOf(G.logName);
    const s = this.spanS[G.logName]!;
    const e = this.spanE[G.logName]!;
    const P = 9; // "projects/"
    if (e - s <= P || b[s] !== 112 || b[s + 8] !== 47 || latinEq(b, s, 'projects/') === false) return 0;
    let j = s + P;
    while (j < e && b[j] !== 47) j++;
    return j > s + P ? this.sink.dict.idOfBytes(b, s + P, j) : 0;
  }

  /** "us-east1-b" → id of "us-east1" (a zone is its region and a one-letter suffix), or 0. */
  private zoneRegion(f: G): number {
    if (!this.has(f)) return 0;
    const b = this.bufOf(f);
    const s = this.spanS[f]!;
    const e = this.spanE[f]!;
    if (e - s < 4 || b[e - 2] !== 45) return 0;
    const last = b[e - 1]!;
    const prev = b[e - 3]!;
    if (last < 97 || last > 122 || prev < 48 || prev > 57) return 0;
    return this.sink.dict.idOfBytes(b, s, e - 2);
  }
}

/** An IPv4 address as parseAddressBytes writes it (v4-mapped). */
function setV4(w: Uint32Array, v4: number): void {
  w[0] = 0;
  w[1] = 0;
  w[2] = V4_MAPPED_W2;
  w[3] = v4;
}

function latinEq(b: Uint8Array, s: number, text: string): boolean {
  for (let k = 0; k < text.length; k++) if (b[s + k] !== text.charCodeAt(k)) return false;
  return true;
}

function uintOf(b: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return BAD;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]! - 48;
    if (c < 0 || c > 9) return BAD;
    v = v * 10 + c;
  }
  return v;
}

/**
 * NDJSON: one LogEntry per line. With the WebAssembly reader (gcp-wasm.ts), a valid UTF-8
 * block's lines are read a window at a time there, and a line it did not take (and a
 * file's first line that starts as a BOM does, and a line not ended in the window) is read
 * here as parseJsonLines reads it. (Every file's first line read here made the JavaScript
 * reader's functions hot enough for V8 to optimise them in both parsing isolates.)
 */
const EMPTY_BLOCK = new Uint8Array(0);

class GcpLinesParser extends SinkLineParser {
  private readonly each: (line: number, offset: number) => void;
  private lastBlock: Uint8Array = EMPTY_BLOCK;
  private lastView: Uint8Array = EMPTY_BLOCK;

  constructor(
    sink: FlowSink,
    private readonly entries: GcpEntries,
    private readonly wasm: GcpWasm | null,
  ) {
    super(sink);
    this.each = (line, offset) => entries.entry(line, offset, true);
  }

  parseLines(block: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number {
    const w = this.wasm;
    const sc = this.entries.sc;
    const buf = this.plainView(block);
    if (w === null || !gcpFastPath.enabled || needsUtf8Check(buf, s, e)) return parseJsonLines(buf, s, e, firstLine, baseOffset, this.sink, sc, this.each, block);
    let line = firstLine;
    let i = s;
    while (i < e) {
      // a file's first line is read here only where it may start with a BOM (jsonLine skips it)
      if (baseOffset + (i - s) !== 0 || buf[i] !== 0xef) {
        const rows = w.read(buf, i, Math.min(e - i, GCP_WASM_WINDOW), this.sink, this.entries.accountId, this.entries.regionId);
        if (rows > 0) {
          w.addCounts(this.sink);
          this.rows(w, buf, line, baseOffset - s);
          line += rows;
          i = w.i32[w.rowAt(rows - 1) + RowSlot.newline]! + 1;
          continue;
        }
      }
      let j = block.indexOf(10, i);
      if (j < 0 || j > e) j = e;
      jsonLine(buf, i, j, line, baseOffset + (i - s), baseOffset - s, false, this.sink, sc, this.each);
      line++;
      i = j + 1;
    }
    this.sink.counters.lines += line - firstLine;
    return line - firstLine;
  }

  /** A plain file's reads: a window of the module's at a time (GCP_WASM_WINDOW says why its size). */
  readonly readBytes = GCP_WASM_WINDOW;

  /** The module's window, for readLineRange to read a file's bytes into (GcpWasm.read then copies nothing). */
  readTarget(size: number): Buffer | null {
    const w = this.wasm;
    if (w === null || !gcpFastPath.enabled || size > GCP_WASM_WINDOW) return null;
    return w.window(this.sink);
  }

  /**
   * `block` as a plain Uint8Array over the same bytes (the view made once per block). The
   * lines' source hands Buffers, the other readers hand the dictionary Uint8Arrays: ids taken
   * from a Buffer gave idOfBytes and sameBytes a second map, and a run mixing GCP with Azure
   * or AWS deoptimised them ("wrong map"). The lines are still split on the Buffer (its
   * indexOf is memchr).
   */
  private plainView(block: Uint8Array): Uint8Array {
    if (block.constructor === Uint8Array) return block;
    if (block !== this.lastBlock) {
      this.lastBlock = block;
      this.lastView = new Uint8Array(block.buffer, block.byteOffset, block.byteLength);
    }
    return this.lastView;
  }

  /**
   * The fates of rows the module wrote, from line `line` (a byte at buf[i] is at file offset
   * i + delta). Only the rows of its visit list need anything here (a routed row lies in its
   * shard's area, ids and all, until endRouted; a row counted alone and a duplicate are in
   * the read's counts). Before a row hands the sink a record, the routed rows before it are
   * marked (routedBefore) so that each shard's batch keeps the file's order.
   */
  private rows(w: GcpWasm, buf: Uint8Array, line: number, delta: number): void {
    const i32 = w.i32;
    const entries = this.entries;
    const areas = w.routedAreas;
    if (areas !== null) this.sink.beginRouted(areas);
    let synced = 0;
    for (let j = 0, n = w.visits; j < n; j++) {
      const k = i32[w.visitList + j]!;
      const r = w.rowAt(k);
      const flags = i32[r + RowSlot.flags]!;
      if ((flags & GcpRowFlag.simple) !== 0) {
        if (areas !== null) synced = routedBefore(w, areas, synced, k);
        entries.simpleRow(w, k, line + k, i32[r + RowSlot.line]! + delta);
        continue;
      }
      if ((flags & GcpRowFlag.blank) !== 0) {
        this.sink.counters.blank++;
        continue;
      }
      if (areas !== null) synced = routedBefore(w, areas, synced, k);
      const at = i32[r + RowSlot.line]!;
      if ((flags & GcpRowFlag.taken) !== 0) entries.wasmRow(w, k, buf, line + k, at + delta);
      else jsonLine(buf, at, i32[r + RowSlot.newline]!, line + k, at + delta, delta, false, this.sink, entries.sc, this.each);
    }
    if (areas !== null) {
      this.sink.routedUpToCounts();
      this.sink.endRouted();
    }
  }
}

/** The routed rows of [from, to) marked as before the next record the sink is handed (RoutedColumns.ends): `to`. */
function routedBefore(w: GcpWasm, areas: RoutedColumns, from: number, to: number): number {
  const i32 = w.i32;
  const ends = areas.ends;
  for (let k = from; k < to; k++) {
    const r = w.rowAt(k);
    // only a simple row that is no duplicate has a route (the slot of any other holds an earlier read's)
    if ((i32[r + RowSlot.flags]! & (GcpRowFlag.simple | GcpRowFlag.duplicate)) !== GcpRowFlag.simple) continue;
    const route = i32[r + RowSlot.route]!;
    if (route >= 0) ends[route] = (i32[r + RowSlot.feed]! >>> 2) + 1;
  }
  return to;
}

function gcpLineParser(ctx: ReaderContext): LineParser {
  return new GcpLinesParser(ctx.sink, new GcpEntries(ctx), gcpWasm());
}

/** A JSON array of LogEntries, or pretty-printed ones. */
function gcpDocument(buf: Uint8Array, ctx: ReaderContext): ValueDocument {
  const entries = new GcpEntries(ctx);
  const counters = ctx.sink.counters;
  return new ValueDocument(buf, ctx.sink, entries.sc, 'LogEntry', (line, start) => {
    entries.entry(line, start, false);
    counters.lines++; // the entry's one fate (a syntax error is counted by the walker)
  });
}

/** GCP markers in a file's head: a vpc_flows log name, or a flow payload. */
function looksGcp(text: string): boolean {
  return (
    text.includes('vpc_flows') ||
    (text.includes('"jsonPayload"') && text.includes('"src_ip"')) ||
    text.includes('"logging.googleapis.com/timestamp"')
  );
}

export const gcpLines: LineReader = {
  kind: 'lines',
  name: 'gcp',
  // one LogEntry per line (the first may be damaged: it is then a reject, not a reason to refuse the file)
  sniff: ({ text, firstLine }) => firstLine.startsWith('{') && !documentShaped(text, firstLine) && looksGcp(text),
  open: gcpLineParser,
};

export const gcpJson: DocumentReader = {
  kind: 'document',
  name: 'gcp-json',
  sniff: ({ text, firstLine }) => documentShaped(text, firstLine) && looksGcp(text),
  parseDocument: (buf, ctx) => gcpDocument(buf, ctx).run(),
};
