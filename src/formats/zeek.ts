/**
 * Zeek `conn.log` (formats.md §4.3, issue 15), in both of Zeek's log writers' forms:
 *
 * - TSV (the default ASCII writer): `#separator \x09`, `#set_separator`, `#empty_field`,
 *   `#unset_field`, `#path conn`, `#open`, `#fields ...`, `#types ...` header lines, then
 *   one tab-separated record a line, `-` for an unset field and `(empty)` for an empty one,
 *   and a `#close` line. The `#fields` line names the columns (any order, extra columns
 *   skipped); a later chunk of a large file learns them from the planner (headerLineOf).
 * - JSON (`LogAscii::use_json`): one object a line with the same names as keys
 *   (`"id.orig_h"`), `ts` as epoch seconds or an ISO-8601 string.
 *
 * Mapping (detection.md §2): src/dst = id.orig_h / id.resp_h, ports id.orig_p / id.resp_p (ICMP:
 * Zeek writes the type as orig_p and the code as resp_p; stored as dst port
 * type * 256 + code, src port 0, as nfdump writes it), protocol from `proto` (tcp, udp,
 * icmp: 58 for an IPv6 connection), packets = orig_pkts, bytes = orig_ip_bytes (IP bytes,
 * like the flow logs), else orig_bytes (payload) when the IP bytes are unset, start =
 * ts, end = ts + duration, fractions dropped. Direction from `local_orig`/`local_resp`
 * (Site::local_nets): local to remote is egress, remote to local ingress, else unknown.
 *
 * `conn_state` says what the originator's packets were: REJ (answered by RST), S0 (no
 * answer), SH and RSTOS0 (SYN then FIN or RST, no answer) are probes; REJ is action
 * reject, the established states accept. SHR and RSTRH mean Zeek saw only the
 * responder's SYN-ACK (the originator is a spoofed address): those are recorded with
 * TCP flags SYN-ACK, so the sink counts them as backscatter, not probes (detection.md §3).
 * Cloud "other" (or --cloud), account --account, region --region.
 */
import { parseAddressBytes } from '../net/address.js';
import { Action, Direction } from '../flow/types.js';
import type { LineReader, ReaderContext } from './types.js';
import { EachLineParser } from './line-parser.js';
import { JsonError, JsonScanner } from './json-bytes.js';
import { NameTable, cloudOf, parseDateTimeMs, parseDecimal } from './netflow-common.js';

/** What a field means to the detector. */
const enum Col { ignore, ts, src, sport, dst, dport, proto, duration, origBytes, origIpBytes, origPkts, connState, localOrig, localResp, path }

const FIELDS = new NameTable([
  ['ts', Col.ts], ['id.orig_h', Col.src], ['id.orig_p', Col.sport], ['id.resp_h', Col.dst], ['id.resp_p', Col.dport],
  ['proto', Col.proto], ['duration', Col.duration], ['orig_bytes', Col.origBytes], ['orig_ip_bytes', Col.origIpBytes],
  ['orig_pkts', Col.origPkts], ['conn_state', Col.connState], ['local_orig', Col.localOrig], ['local_resp', Col.localResp],
  ['_path', Col.path],
]);
const FIELD_LABELS = ['', 'ts', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'duration', 'orig_bytes', 'orig_ip_bytes', 'orig_pkts', 'conn_state', 'local_orig', 'local_resp', '_path'];
const REQUIRED = [Col.ts, Col.src, Col.sport, Col.dst, Col.dport, Col.proto];

const enum State { none, S0, S1, SF, REJ, S2, S3, RSTO, RSTR, RSTOS0, RSTRH, SH, SHR, OTH }
const STATES = new NameTable(
  ['S0', 'S1', 'SF', 'REJ', 'S2', 'S3', 'RSTO', 'RSTR', 'RSTOS0', 'RSTRH', 'SH', 'SHR', 'OTH'].map((n, i) => [n, i + 1] as const),
);
const PROTOS = new NameTable([['tcp', 6], ['udp', 17], ['icmp', 1], ['unknown_transport', 0]]);

const enum Tri { unset, no, yes }

const decoder = new TextDecoder();

/** The columns of a `#fields` line: role per column; an error when a needed one is missing. */
export function fieldsLayout(line: string): { roles: Uint8Array } | { error: string } {
  const names = line.split('\t').slice(1).map((n) => n.trim());
  const roles = new Uint8Array(names.length);
  const bytes = (n: string) => Buffer.from(n, 'latin1');
  names.forEach((n, i) => {
    const b = bytes(n);
    const v = FIELDS.lookup(b, 0, b.length);
    roles[i] = v < 0 ? Col.ignore : v;
  });
  const missing = REQUIRED.filter((c) => !roles.includes(c)).map((c) => FIELD_LABELS[c]);
  if (missing.length) return { error: `Zeek #fields line lacks ${missing.join(', ')} (is this a conn.log?)` };
  return { roles };
}

class ZeekParser extends EachLineParser {
  private readonly cloud: number;
  private readonly account: number;
  private readonly region: number;
  private roles: Uint8Array | null = null;
  private headerError: string | null = null;
  private pathError: string | null = null; // a #path that is not conn: every record until the next #path
  private readonly sc = new JsonScanner();
  // the record being read
  private tsSec = -1;
  private duration = 0;
  private origBytes = NaN;
  private origIpBytes = NaN;
  private state: number = State.none;
  private localOrig: Tri = Tri.unset;
  private localResp: Tri = Tri.unset;
  private proto = -1;
  private seen = 0; // bit per Col
  private problem: string | null = null;

  constructor(ctx: ReaderContext) {
    super(ctx.sink);
    this.cloud = cloudOf(ctx.cloud);
    this.account = this.sink.dict.idOf(ctx.account);
    this.region = this.sink.dict.idOf(ctx.region);
    if (ctx.headerLine?.startsWith('#fields')) this.header(ctx.headerLine, 0, 0, false);
  }

  protected parseLine(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    if (e > s && buf[e - 1] === 13) e--;
    let t = s;
    while (t < e && (buf[t] === 32 || buf[t] === 9)) t++;
    if (t === e) {
      this.sink.counters.blank++;
      return;
    }
    if (buf[t] === 35) return this.header(decoder.decode(buf.subarray(t, Math.min(e, t + 65536))), line, offset, true);
    this.reset();
    if (buf[t] === 123) this.jsonRecord(buf, t, e, line, offset);
    else this.tsvRecord(buf, s, e, line, offset);
  }

  /** A '#' line: the #fields layout, a #path that is not conn, or the other header lines. */
  private header(text: string, line: number, offset: number, count: boolean): void {
    const c = this.sink.counters;
    if (text.startsWith('#fields')) {
      const l = fieldsLayout(text);
      if ('error' in l) {
        this.roles = null;
        this.headerError = l.error;
        if (count) this.sink.rejectText(line, offset, l.error, text);
        return;
      }
      this.roles = l.roles;
      this.headerError = null;
    } else if (text.startsWith('#separator') && !/^#separator\s+\\x09\s*$/.test(text)) {
      this.headerError = `Zeek separator ${JSON.stringify(text.slice(11))} is not supported (only the default tab, \\x09)`;
      this.roles = null;
      if (count) this.sink.rejectText(line, offset, this.headerError, text);
      return;
    } else if (text.startsWith('#path')) {
      this.pathError = /^#path\s+conn\s*$/.test(text) ? null : `a Zeek ${text.slice(6).trim()} log, not conn.log: its records are not flows`;
      if (this.pathError !== null) {
        if (count) this.sink.rejectText(line, offset, this.pathError, text);
        return;
      }
    }
    if (count) c.headers++;
  }

  private reset(): void {
    const r = this.sink.rec;
    r.clearOptional(this.cloud, this.account, this.region);
    r.sport = r.dport = 0;
    this.tsSec = -1;
    this.duration = 0;
    this.origBytes = this.origIpBytes = NaN;
    this.state = State.none;
    this.localOrig = this.localResp = Tri.unset;
    this.proto = -1;
    this.seen = 0;
    this.problem = null;
  }

  private tsvRecord(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    const roles = this.roles;
    if (this.pathError !== null) return this.sink.reject(line, offset, this.pathError, buf, s, e);
    if (roles === null) {
      this.sink.reject(line, offset, this.headerError ?? 'no Zeek #fields header line before this record', buf, s, e);
      return;
    }
    let col = 0;
    let i = s;
    for (;;) {
      let j = i;
      while (j < e && buf[j] !== 9) j++;
      if (col >= roles.length) return this.sink.reject(line, offset, `expected ${roles.length} fields, got more`, buf, s, e);
      const role = roles[col]!;
      // '-' is unset, '(empty)' an empty set or string: neither gives a value
      const unset = (j - i === 1 && buf[i] === 45) || (j - i === 7 && buf[i] === 40 && buf[i + 1] === 101);
      if (role !== Col.ignore && !unset) {
        this.field(role, buf, i, j, false);
        if (this.problem !== null) return this.sink.reject(line, offset, this.problem, buf, s, e);
      }
      col++;
      if (j >= e) break;
      i = j + 1;
    }
    if (col !== roles.length) return this.sink.reject(line, offset, `expected ${roles.length} fields, got ${col}`, buf, s, e);
    this.finish(buf, s, e, line, offset);
  }

  private jsonRecord(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    const sc = this.sc;
    sc.reset(buf, s, e, false);
    try {
      if (sc.openObject()) {
        do {
          sc.key();
          const role = FIELDS.lookup(sc.strBuf, sc.strS, sc.strE);
          const c = sc.peek();
          if (role <= 0 || c === 110 /* null */) sc.skip();
          else if (c === 34) {
            sc.str();
            this.field(role, sc.strBuf, sc.strS, sc.strE, true);
          } else if (c === 116 || c === 102) {
            if (role === Col.localOrig) this.localOrig = c === 116 ? Tri.yes : Tri.no;
            else if (role === Col.localResp) this.localResp = c === 116 ? Tri.yes : Tri.no;
            sc.skip();
          } else if (c === 45 || (c >= 48 && c <= 57)) {
            const ns = sc.pos;
            let p = ns;
            while (p < e && ((buf[p]! >= 48 && buf[p]! <= 57) || buf[p] === 46 || buf[p] === 45 || buf[p] === 43 || buf[p] === 101 || buf[p] === 69)) p++;
            sc.pos = p;
            this.field(role, buf, ns, p, false);
          } else sc.skip();
          if (this.problem !== null) return this.sink.reject(line, offset, this.problem, buf, s, e);
        } while (sc.nextMember());
      }
      sc.expectEnd();
    } catch (err) {
      if (!(err instanceof JsonError)) throw err;
      this.sink.reject(line, offset, `bad JSON: ${err.reason}`, buf, s, e);
      return;
    }
    this.finish(buf, s, e, line, offset);
  }

  /** One field's bytes buf[s, e) (a JSON string's content when quoted). Sets `problem` when bad. */
  private field(role: number, buf: Uint8Array, s: number, e: number, quoted: boolean): void {
    const r = this.sink.rec;
    this.seen |= 1 << role;
    let v: number;
    switch (role) {
      case Col.ts:
        if (quoted && e - s >= 19 && buf[s + 4] === 45) {
          v = parseDateTimeMs(buf, s, isoEnd(buf, s, e)); // milliseconds
          if (v >= 0) this.tsSec = v / 1000;
        } else {
          v = wholeSeconds(buf, s, e);
          if (v >= 0) this.tsSec = v + fraction(buf, s, e);
        }
        if (!(v >= 0)) this.problem = 'bad ts (expected epoch seconds or an ISO-8601 time)';
        return;
      case Col.duration:
        v = wholeSeconds(buf, s, e);
        if (v < 0) this.problem = 'bad duration';
        else this.duration = v + fraction(buf, s, e);
        return;
      case Col.src:
      case Col.dst:
        if (!parseAddressBytes(buf, s, e, role === Col.src ? r.src : r.dst, 0)) this.problem = `bad address (${FIELD_LABELS[role]})`;
        return;
      case Col.sport:
      case Col.dport:
        v = parseDecimal(buf, s, e);
        if (v < 0 || v > 65535) this.problem = `bad port (${FIELD_LABELS[role]})`;
        else if (role === Col.sport) r.sport = v;
        else r.dport = v;
        return;
      case Col.proto:
        this.proto = PROTOS.lookup(buf, s, e);
        if (this.proto < 0) this.problem = 'unknown proto (expected tcp, udp or icmp)';
        return;
      case Col.origBytes:
      case Col.origIpBytes:
      case Col.origPkts:
        v = parseDecimal(buf, s, e);
        if (v < 0) this.problem = `bad count (${FIELD_LABELS[role]})`;
        else if (role === Col.origPkts) r.packets = v;
        else if (role === Col.origBytes) this.origBytes = v;
        else this.origIpBytes = v;
        return;
      case Col.connState:
        this.state = Math.max(0, STATES.lookup(buf, s, e)); // an unknown state is only not used
        return;
      case Col.localOrig:
      case Col.localResp: {
        const t = e - s === 1 && buf[s] === 84 ? Tri.yes : e - s === 1 && buf[s] === 70 ? Tri.no : Tri.unset;
        if (role === Col.localOrig) this.localOrig = t;
        else this.localResp = t;
        return;
      }
      case Col.path:
        if (!(e - s === 4 && buf[s] === 99 && buf[s + 1] === 111 && buf[s + 2] === 110 && buf[s + 3] === 110)) {
          this.problem = `a Zeek ${decoder.decode(buf.subarray(s, Math.min(e, s + 40)))} record, not conn`;
        }
        return;
    }
  }

  private finish(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    for (const c of REQUIRED) {
      if ((this.seen & (1 << c)) === 0) return this.sink.reject(line, offset, `${FIELD_LABELS[c]} unset`, buf, s, e);
    }
    const r = this.sink.rec;
    if (this.proto === 0) return this.sink.reject(line, offset, 'unknown_transport: not a TCP, UDP or ICMP flow', buf, s, e);
    if (this.proto === 1) {
      // ICMP: orig_p is the type and resp_p the code
      if (!(r.src[0] === 0 && r.src[1] === 0 && r.src[2] === 0xffff)) this.proto = 58;
      r.dport = r.sport * 256 + r.dport;
      r.sport = 0;
      if (r.dport > 65535) return this.sink.reject(line, offset, 'bad ICMP type or code', buf, s, e);
    }
    r.proto = this.proto;
    r.bytes = this.origIpBytes === this.origIpBytes ? this.origIpBytes : this.origBytes;
    r.start = Math.floor(this.tsSec);
    r.end = Math.floor(this.tsSec + this.duration);
    if (this.localOrig === Tri.yes && this.localResp === Tri.no) r.direction = Direction.egress;
    else if (this.localOrig === Tri.no && this.localResp === Tri.yes) r.direction = Direction.ingress;
    const st = this.state;
    if (st === State.REJ) r.action = Action.reject;
    else if (st === State.S1 || st === State.SF || st === State.S2 || st === State.S3 || st === State.RSTO || st === State.RSTR) r.action = Action.accept;
    // only the responder's SYN-ACK was seen: backscatter, not a probe of the originator
    if (this.proto === 6 && (st === State.SHR || st === State.RSTRH)) r.tcpFlags = 18;
    this.sink.emit(line, offset);
  }
}

/** Whole seconds of "123" or "123.456" (a JSON number's or a TSV field's text); -1 when malformed. */
function wholeSeconds(buf: Uint8Array, s: number, e: number): number {
  let dot = e;
  for (let i = s; i < e; i++) {
    const c = buf[i]!;
    if (c === 46) {
      dot = i;
      break;
    }
    if (c < 48 || c > 57) return -1;
  }
  for (let i = dot + 1; i < e; i++) if (buf[i]! < 48 || buf[i]! > 57) return -1;
  return parseDecimal(buf, s, dot);
}

/** The fraction of a second of "123.456". */
function fraction(buf: Uint8Array, s: number, e: number): number {
  let f = 0;
  let scale = 0.1;
  let i = s;
  while (i < e && buf[i] !== 46) i++;
  for (i++; i < e && scale > 1e-7; i++, scale /= 10) f += (buf[i]! - 48) * scale;
  return f;
}

/** An ISO time "YYYY-MM-DDTHH:MM:SS[.ffffff][Z]": where the part parseDateTimeMs reads ends. */
function isoEnd(buf: Uint8Array, s: number, e: number): number {
  if (buf[e - 1] === 90) e--; // Z
  return Math.min(e, s + 29);
}

/** formats.md §6: Zeek's TSV header, or a JSON object with conn.log's keys. */
function sniffZeek(text: string, firstLine: string): boolean {
  if (firstLine.startsWith('#separator')) return /^#path\s+conn\s*$/m.test(text) || /^#fields\tts\tuid\tid\.orig_h/m.test(text);
  if (firstLine.startsWith('#fields\tts\tuid\tid.orig_h')) return true;
  return firstLine.startsWith('{') && firstLine.includes('"id.orig_h"') && firstLine.includes('"id.resp_p"') && (firstLine.includes('"conn_state"') || firstLine.includes('"orig_pkts"'));
}

/** The #fields line of a TSV file's head: a later chunk's parser needs the columns. */
function zeekHeaderLine(text: string): string | undefined {
  return /^#fields\t.*$/m.exec(text)?.[0]?.replace(/\r$/, '');
}

export const zeekConn: LineReader = {
  kind: 'lines',
  name: 'zeek',
  sniff: ({ text, firstLine }) => sniffZeek(text, firstLine),
  headerLine: zeekHeaderLine,
  open: (ctx) => new ZeekParser(ctx),
};
