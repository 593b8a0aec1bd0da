/**
 * goflow2 JSON (formats.md §4.2): one flow object per line, as goflow2 writes it.
 * - v2: snake_case keys, `time_received_ns` / `time_flow_start_ns` / `time_flow_end_ns`
 *   in nanoseconds (above 2^53), `proto` as a name (TCP, UDP, ICMP, ICMPv6, SCTP) or number.
 * - v1: CamelCase keys, `TimeReceived` / `TimeFlowStart` / `TimeFlowEnd` in seconds (and
 *   `TimeFlowStartMs` / `...Ms` in milliseconds), numeric `Proto`.
 *
 * The line is scanned byte by byte (no JSON.parse, no object, no string per field): the
 * timestamps are exact decimal digits, cut to whole seconds by dropping digits, so a
 * nanosecond value above 2^53 is never rounded through a double. Unknown keys, nested
 * arrays and objects are skipped; keys match in any letter case.
 *
 * Mapping: start = flow start, else the time received; end = flow end, else start. A
 * value that is not plausible in its key's unit is rejected ("wrong unit"), 0 means "not
 * given". Packets and bytes are multiplied by `sampling_rate` when it is above 1 (an
 * estimate of the true volume, as goflow2 documents). For ICMP / ICMPv6 without a
 * destination port, `icmp_type` / `icmp_code` give type * 256 + code (as nfdump and most
 * exporters write it). A flow with no addresses at all (ARP and other non-IP flows) is
 * counted as "no data". The exporter (`sampler_address`) is kept as the interface.
 * Cloud "other" (or --cloud), account --account, region --region, direction unknown.
 *
 * goflow2 writes one compact object per line; a pretty-printed object (an example from
 * its README, say) is not read: its lines are rejected with a note to compact the file.
 */
import { parseAddressBytes } from '../net/address.js';
import type { LineReader, ReaderContext } from './types.js';
import { EachLineParser } from './line-parser.js';
import { EpochUnit, HASH_SEED, NameTable, cloudOf, hashStep, epochSecondsExact, parseDecimal, parseProtocol, unitName } from './netflow-common.js';

const enum Key {
  none, received, start, end, src, dst, sport, dport, proto, packets, bytes, sampling, tcpFlags, icmpType, icmpCode, sampler,
}

/** Keys of both versions -> role; time keys carry their unit in TIME_UNITS. */
const KEY_LIST: Array<[string, Key, EpochUnit?]> = [
  ['time_received_ns', Key.received, EpochUnit.nanos], ['time_flow_start_ns', Key.start, EpochUnit.nanos],
  ['time_flow_end_ns', Key.end, EpochUnit.nanos], ['time_received', Key.received, EpochUnit.seconds],
  ['time_flow_start', Key.start, EpochUnit.seconds], ['time_flow_end', Key.end, EpochUnit.seconds],
  ['time_flow_start_ms', Key.start, EpochUnit.millis], ['time_flow_end_ms', Key.end, EpochUnit.millis],
  ['TimeReceived', Key.received, EpochUnit.seconds], ['TimeFlowStart', Key.start, EpochUnit.seconds],
  ['TimeFlowEnd', Key.end, EpochUnit.seconds], ['TimeFlowStartMs', Key.start, EpochUnit.millis],
  ['TimeFlowEndMs', Key.end, EpochUnit.millis], ['TimeReceivedNs', Key.received, EpochUnit.nanos],
  ['TimeFlowStartNs', Key.start, EpochUnit.nanos], ['TimeFlowEndNs', Key.end, EpochUnit.nanos],
  ['src_addr', Key.src], ['dst_addr', Key.dst], ['SrcAddr', Key.src], ['DstAddr', Key.dst],
  ['src_port', Key.sport], ['dst_port', Key.dport], ['SrcPort', Key.sport], ['DstPort', Key.dport],
  ['proto', Key.proto], ['packets', Key.packets], ['bytes', Key.bytes], ['sampling_rate', Key.sampling],
  ['SamplingRate', Key.sampling], ['tcp_flags', Key.tcpFlags], ['TCPFlags', Key.tcpFlags],
  ['icmp_type', Key.icmpType], ['icmp_code', Key.icmpCode], ['IcmpType', Key.icmpType], ['IcmpCode', Key.icmpCode],
  ['sampler_address', Key.sampler], ['SamplerAddress', Key.sampler],
];

const KEYS = new NameTable(KEY_LIST.map(([name, key, unit]) => [name, key | ((unit ?? 0) << 8)] as const));
const KEY_NAMES: string[] = [];
for (const [name, key] of KEY_LIST) KEY_NAMES[key] ??= name;

const PRETTY_PRINTED = 'a line of a pretty-printed JSON object: goflow2 writes one object per line (compact the file, e.g. jq -c .)';

/** Thrown inside the scanner only: the reason a line is not a well-formed object. */
class Malformed {
  constructor(readonly reason: string) {}
}

class Goflow2Parser extends EachLineParser {
  private readonly cloud: number;
  private readonly account: number;
  private readonly region: number;
  // the object being read (reset per line)
  private receivedSec = 0;
  private startSec = 0;
  private endSec = 0;
  private srcState = 0; // 0 absent, 1 empty string, 2 parsed
  private dstState = 0;
  private proto = -1;
  private protoGiven = false;
  private sampling = 0;
  private icmpType = -1;
  private icmpCode = -1;
  private problem: string | null = null; // the first bad field
  private knownKeys = 0;

  constructor(ctx: ReaderContext) {
    super(ctx.sink);
    this.cloud = cloudOf(ctx.cloud);
    this.account = this.sink.dict.idOf(ctx.account);
    this.region = this.sink.dict.idOf(ctx.region);
  }

  protected parseLine(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    while (s < e && isSpace(buf[s]!)) s++;
    while (e > s && isSpace(buf[e - 1]!)) e--;
    if (s === e) {
      this.sink.counters.blank++;
      return;
    }
    if (buf[s] !== 123) {
      const c = buf[s];
      const pretty = c === 34 || c === 125 || c === 93 || (c === 46 && e - s === 3); // "key": ..., }, ], the README's "..."
      this.sink.reject(line, offset, pretty ? PRETTY_PRINTED : 'not a JSON object', buf, s, e);
      return;
    }
    if (e - s === 1) {
      this.sink.reject(line, offset, PRETTY_PRINTED, buf, s, e);
      return;
    }
    this.reset();
    try {
      this.scanObject(buf, s, e);
    } catch (err) {
      if (!(err instanceof Malformed)) throw err;
      this.sink.reject(line, offset, err.reason, buf, s, e);
      return;
    }
    this.finish(buf, s, e, line, offset);
  }

  private reset(): void {
    const r = this.sink.rec;
    r.sport = 0;
    r.dport = 0;
    r.clearOptional(this.cloud, this.account, this.region);
    this.receivedSec = this.startSec = this.endSec = 0;
    this.srcState = this.dstState = 0;
    this.proto = -1;
    this.protoGiven = false;
    this.sampling = 0;
    this.icmpType = this.icmpCode = -1;
    this.problem = null;
    this.knownKeys = 0;
  }

  /** Validate the object read and emit it (or count it as no data, or reject it). */
  private finish(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    const sink = this.sink;
    if (this.problem !== null) return sink.reject(line, offset, this.problem, buf, s, e);
    if (this.knownKeys === 0) return sink.reject(line, offset, 'not a goflow2 flow: no known key', buf, s, e);
    if (this.srcState !== 2 && this.dstState !== 2) return sink.noData(); // not an IP flow (ARP...)
    if (this.srcState !== 2) return sink.reject(line, offset, 'no source address (src_addr)', buf, s, e);
    if (this.dstState !== 2) return sink.reject(line, offset, 'no destination address (dst_addr)', buf, s, e);
    if (this.proto < 0) {
      const why = this.protoGiven ? 'protocol name not known (configure goflow2 to write proto as a number)' : 'no protocol (proto)';
      return sink.reject(line, offset, why, buf, s, e);
    }
    const start = this.startSec > 0 ? this.startSec : this.receivedSec;
    if (start <= 0) return sink.reject(line, offset, 'no time (time_flow_start_ns nor time_received_ns)', buf, s, e);
    const r = sink.rec;
    r.proto = this.proto;
    r.start = start;
    r.end = this.endSec > 0 ? this.endSec : start;
    if ((r.proto === 1 || r.proto === 58) && r.dport === 0 && (this.icmpType > 0 || this.icmpCode > 0)) {
      r.dport = Math.max(0, this.icmpType) * 256 + Math.max(0, this.icmpCode);
    }
    if (this.sampling > 1) {
      r.packets *= this.sampling;
      r.bytes *= this.sampling;
    }
    sink.emit(line, offset);
  }

  /** One flat JSON object in buf[s, e) (trimmed, buf[s] === '{'). Throws Malformed. */
  private scanObject(buf: Uint8Array, s: number, e: number): void {
    // every read is bounded by e: bytes past the line may be stale (the feeder's carry buffer)
    let i = skipSpace(buf, s + 1, e);
    if (i < e && buf[i] === 125) {
      if (skipSpace(buf, i + 1, e) !== e) throw new Malformed(`malformed JSON: text after the object (column ${i + 2 - s})`);
      return;
    }
    for (;;) {
      if (i >= e || buf[i] !== 34) throw new Malformed(`malformed JSON: expected a key (column ${i + 1 - s})`);
      // the key, hashed as it is scanned (one pass; keys with escapes match nothing)
      const ks = i + 1;
      let ke = ks;
      let h = HASH_SEED;
      for (; ke < e; ke++) {
        const k = buf[ke]!;
        if (k === 34) break;
        if (k === 92) ke++;
        h = hashStep(h, k);
      }
      if (ke >= e) throw new Malformed(`malformed JSON: string not closed (column ${i + 1 - s})`);
      i = skipSpace(buf, ke + 1, e);
      if (i >= e || buf[i] !== 58) throw new Malformed(`malformed JSON: expected ':' (column ${i + 1 - s})`);
      i = skipSpace(buf, i + 1, e);
      if (i >= e) throw new Malformed('malformed JSON: value missing at the end of the line');
      const key = KEYS.lookupHashed(buf, ks, ke, h >>> 0);
      const c = buf[i]!;
      let vs: number;
      let ve: number;
      let quoted = false;
      if (c === 34) {
        vs = i + 1;
        ve = endOfString(buf, vs, e);
        if (ve < 0) throw new Malformed(`malformed JSON: string not closed (column ${i + 1 - s})`);
        quoted = true;
        i = ve + 1;
      } else if (c === 123 || c === 91) {
        vs = i;
        i = skipNested(buf, i, e);
        if (i < 0) throw new Malformed(`malformed JSON: array or object not closed (column ${vs + 1 - s})`);
        ve = i;
      } else {
        vs = i;
        while (i < e && isValueChar(buf[i]!)) i++;
        ve = i;
        // known keys check their values themselves; others must still be JSON
        if (ve === vs || (key < 0 && !validScalar(buf, vs, ve))) throw new Malformed(`malformed JSON: bad value (column ${vs + 1 - s})`);
      }
      if (key >= 0) {
        this.knownKeys++;
        this.field(key, buf, vs, ve, quoted, c);
      }
      i = skipSpace(buf, i, e);
      if (i < e && buf[i] === 44) {
        i = skipSpace(buf, i + 1, e);
        continue;
      }
      if (i < e && buf[i] === 125) {
        i = skipSpace(buf, i + 1, e);
        if (i !== e) throw new Malformed(`malformed JSON: text after the object (column ${i + 1 - s})`);
        return;
      }
      throw new Malformed(i >= e ? 'malformed JSON: object not closed' : `malformed JSON: expected ',' or '}' (column ${i + 1 - s})`);
    }
  }

  /** Store one known field. `first` is the value's first byte ('"' for strings). */
  private field(code: number, buf: Uint8Array, vs: number, ve: number, quoted: boolean, first: number): void {
    const key = code & 0xff;
    if (first === 110) {
      if (!validScalar(buf, vs, ve)) this.bad(`bad ${KEY_NAMES[key]}: not JSON`);
      return; // null: not given
    }
    const r = this.sink.rec;
    switch (key) {
      case Key.received:
      case Key.start:
      case Key.end: {
        const unit = (code >> 8) as EpochUnit;
        const v = epochSecondsExact(buf, vs, ve, unit);
        if (v === -1) return this.bad(`bad ${KEY_NAMES[key]}: not an unsigned integer`);
        if (v === -2) return this.bad(`${keyText(buf, vs, ve)} is not a plausible time in ${unitName(unit)} (wrong unit?)`);
        if (v === 0) return;
        if (key === Key.received) this.receivedSec = v;
        else if (key === Key.start) {
          if (this.startSec === 0) this.startSec = v;
        } else if (this.endSec === 0) this.endSec = v;
        return;
      }
      case Key.src:
      case Key.dst: {
        if (!quoted) return this.bad(`bad ${KEY_NAMES[key]}: not a string`);
        if (ve === vs) {
          if (key === Key.src) this.srcState = 1;
          else this.dstState = 1;
          return;
        }
        if (!parseAddressBytes(buf, vs, ve, key === Key.src ? r.src : r.dst, 0)) return this.bad(`bad ${KEY_NAMES[key]}: not an IP address`);
        if (key === Key.src) this.srcState = 2;
        else this.dstState = 2;
        return;
      }
      case Key.proto: {
        this.protoGiven = true;
        this.proto = parseProtocol(buf, vs, ve);
        if (this.proto < 0 && !quoted) this.bad('bad proto: not 0..255');
        return;
      }
      case Key.sampler:
        if (quoted && ve > vs) r.iface = this.sink.dict.idOfBytes(buf, vs, ve);
        return;
    }
    const v = parseDecimal(buf, vs, ve); // numbers, or digits in quotes (protojson's uint64)
    if (v < 0) return this.bad(`bad ${KEY_NAMES[key]}: not an unsigned integer`);
    switch (key) {
      case Key.sport:
        r.sport = v;
        return;
      case Key.dport:
        r.dport = v;
        return;
      case Key.packets:
        r.packets = v;
        return;
      case Key.bytes:
        r.bytes = v;
        return;
      case Key.sampling:
        this.sampling = v;
        return;
      case Key.tcpFlags:
        r.tcpFlags = v & 0xff; // IPFIX's 16-bit field: the classic flag byte is the low 8 bits
        return;
      case Key.icmpType:
        this.icmpType = v;
        return;
      case Key.icmpCode:
        this.icmpCode = v;
        return;
    }
  }

  private bad(reason: string): void {
    this.problem ??= reason;
  }
}

function keyText(buf: Uint8Array, s: number, e: number): string {
  return new TextDecoder().decode(buf.subarray(s, Math.min(e, s + 40)));
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

function skipSpace(buf: Uint8Array, i: number, e: number): number {
  while (i < e && isSpace(buf[i]!)) i++;
  return i;
}

/** Characters of a JSON number or literal. */
function isValueChar(c: number): boolean {
  return (c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46 || (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}

/** A JSON number, true, false or null. */
function validScalar(buf: Uint8Array, s: number, e: number): boolean {
  const c = buf[s]!;
  if (c === 116) return e - s === 4 && buf[s + 1] === 114 && buf[s + 2] === 117 && buf[s + 3] === 101;
  if (c === 102) return e - s === 5 && buf[s + 1] === 97 && buf[s + 2] === 108 && buf[s + 3] === 115 && buf[s + 4] === 101;
  if (c === 110) return e - s === 4 && buf[s + 1] === 117 && buf[s + 2] === 108 && buf[s + 3] === 108;
  // -?digits(.digits)?([eE][+-]?digits)?
  let i = s;
  if (buf[i] === 45) i++;
  const d0 = i;
  while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
  if (i === d0) return false;
  if (i < e && buf[i] === 46) {
    const f0 = ++i;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
    if (i === f0) return false;
  }
  if (i < e && (buf[i] === 101 || buf[i] === 69)) {
    i++;
    if (i < e && (buf[i] === 43 || buf[i] === 45)) i++;
    const x0 = i;
    while (i < e && buf[i]! >= 48 && buf[i]! <= 57) i++;
    if (i === x0) return false;
  }
  return i === e;
}

/** Index of the closing '"' of a string whose content starts at s, or -1. */
function endOfString(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 34) return i;
    if (c === 92) i++; // an escape: skip the escaped character
  }
  return -1;
}

/** Just past the array or object starting at s (strings inside respected), or -1. */
function skipNested(buf: Uint8Array, s: number, e: number): number {
  let depth = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 34) {
      i = endOfString(buf, i + 1, e);
      if (i < 0) return -1;
    } else if (c === 123 || c === 91) {
      depth++;
    } else if (c === 125 || c === 93) {
      if (--depth === 0) return i + 1;
    }
  }
  return -1;
}

/** formats.md §6 rule 8: a JSON object with goflow2's time keys. */
const GOFLOW2_KEYS = /"(time_received_ns|time_flow_start_ns|TimeReceived|TimeFlowStart)"\s*:/;

export const goflow2: LineReader = {
  kind: 'lines',
  name: 'goflow2',
  sniff: ({ text, firstLine }) => firstLine.startsWith('{') && GOFLOW2_KEYS.test(firstLine === '{' ? text.slice(0, 4096) : firstLine),
  open: (ctx) => new Goflow2Parser(ctx),
};
