/**
 * nfdump `-o csv` (formats.md §4.1): NetFlow v5/v9/IPFIX flows as comma-separated lines.
 *
 * Layouts, all told apart by the header line (the column names), or by the number of
 * columns when a file or chunk has no header (`nfdump -q`):
 * - nfdump <= 1.7.4: `ts,te,td,sa,da,sp,dp,pr,flg,...` (48 columns; some 1.7 builds write
 *   fewer, e.g. without the MPLS and latency columns), followed unless -q by a trailer:
 *   `Summary`, `flows,bytes,packets,avg_bps,avg_pps,avg_bpp` and the totals. Reading stops
 *   at `Summary`: those lines are counted as trailer lines, not records and not rejects
 *   (a later header line, in concatenated outputs, starts records again).
 * - nfdump >= 1.7.5: `firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows`.
 * - `-o csv-fast`: `cnt,af,firstSeen,lastSeen,proto,srcAddr,...` with times in epoch milliseconds.
 * - `-o "csv:%fmt"`: any columns; those named below are used, the others skipped.
 *
 * Times: nfdump writes the local time of the host that ran it, with no zone. This reader
 * takes them as UTC (run nfdump with TZ=UTC to make that true). Epoch numbers are
 * milliseconds in csv-fast, seconds elsewhere; a value implausible in that unit is
 * rejected ("wrong unit"). The end time is `te`/`lastSeen`, else start + duration.
 * Protocols are names (TCP, UDP, ICMP, ICMP6, ...) or numbers (space-padded: trimmed).
 * ICMP's destination port `type.code` (1.7.5+) is stored as type * 256 + code, the value
 * older versions and most exporters write, so both versions give the same keys.
 * Cloud is "other" (or --cloud), account and region come from --account and --region,
 * direction and action are unknown (nfdump's `dir` column is 0 whether the exporter said
 * "ingress" or nothing), so detection.md §3's public/private rule classifies. The exporter (`ra`)
 * is kept as the interface, for outbound alerts.
 */
import { parseAddressBytes } from '../net/address.js';
import type { LineReader, ReaderContext } from './types.js';
import { EachLineParser } from './line-parser.js';
import { NOT_A_NUMBER, cloudOf, parseDateTimeMs, parseDecimal, parseProtocol, parseTcpFlags, MIN_PLAUSIBLE_SECONDS, MAX_SECONDS } from './netflow-common.js';

/** What a column means to the detector. */
const enum Col { ignore, start, end, duration, src, dst, sport, dport, proto, flags, packets, bytes, exporter }

/** Column names (lower-cased) of every nfdump version -> role. */
const COLUMN_ROLES: Record<string, Col> = {
  ts: Col.start, te: Col.end, td: Col.duration, sa: Col.src, da: Col.dst, sp: Col.sport, dp: Col.dport,
  pr: Col.proto, flg: Col.flags, ipkt: Col.packets, ibyt: Col.bytes, pkt: Col.packets, byt: Col.bytes, ra: Col.exporter,
  firstseen: Col.start, lastseen: Col.end, duration: Col.duration, srcaddr: Col.src, dstaddr: Col.dst,
  srcport: Col.sport, dstport: Col.dport, proto: Col.proto, flags: Col.flags, packets: Col.packets, bytes: Col.bytes,
};

/** Other column names nfdump writes (recognised in headers, not used). */
const OTHER_COLUMNS = new Set([
  'fwd', 'stos', 'opkt', 'obyt', 'in', 'out', 'sas', 'das', 'smk', 'dmk', 'dtos', 'dir', 'nh', 'nhb', 'svln', 'dvln',
  'ismc', 'odmc', 'idmc', 'osmc', 'mpls1', 'mpls2', 'mpls3', 'mpls4', 'mpls5', 'mpls6', 'mpls7', 'mpls8', 'mpls9',
  'mpls10', 'cl', 'sl', 'al', 'eng', 'exid', 'tr', 'fl', 'flows', 'cnt', 'af', 'srcas', 'dstas', 'input', 'output',
  'srctos', 'dsttos', 'tos', 'sap', 'dap', 'bps', 'pps', 'bpp',
]);

const REQUIRED: Array<[Col, string]> = [
  [Col.start, 'first-seen time (ts / firstSeen)'], [Col.src, 'source address (sa / srcAddr)'],
  [Col.dst, 'destination address (da / dstAddr)'], [Col.sport, 'source port (sp / srcPort)'],
  [Col.dport, 'destination port (dp / dstPort)'], [Col.proto, 'protocol (pr / proto)'],
];

export const LEGACY_HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,' +
  'ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';
export const CSV_HEADER = 'firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows';
export const CSV_FAST_HEADER =
  'cnt,af,firstSeen,lastSeen,proto,srcAddr,srcPort,dstAddr,dstPort,srcAS,dstAS,input,output,flags,srcTos,packets,bytes';

const SUMMARY_COLUMNS = 'flows,bytes,packets,avg_bps,avg_pps,avg_bpp';

interface Layout {
  roles: Uint8Array;
  /** csv-fast: epoch numbers are milliseconds. */
  millis: boolean;
}

type HeaderResult = { layout: Layout } | { error: string } | null;

/** The layout a header line names; null when the line is not an nfdump header. */
export function headerLayout(line: string): HeaderResult {
  const names = line.trim().split(',').map((n) => n.trim().toLowerCase());
  if (names.length < 3 || !names.every((n) => /^[a-z][a-z0-9_]*$/.test(n))) return null;
  let known = 0;
  for (const n of names) if (n in COLUMN_ROLES || OTHER_COLUMNS.has(n)) known++;
  if (known < 3 || known * 2 < names.length) return null;
  const roles = Uint8Array.from(names.map((n) => COLUMN_ROLES[n] ?? Col.ignore));
  const missing = REQUIRED.filter(([r]) => !roles.includes(r)).map(([, label]) => label);
  if (missing.length > 0) return { error: `nfdump CSV header lacks ${missing.join(', ')}` };
  return { layout: { roles, millis: names[0] === 'cnt' && names[1] === 'af' } };
}

/**
 * The predefined layouts by column count, made when first asked for (not as the parse code
 * loads: most runs read no nfdump file; NameTable says why).
 */
let predefined: Map<number, Layout> | null = null;

/** The predefined layout with this many columns (for files without a header), or null. */
function layoutByColumns(n: number): Layout | null {
  predefined ??= new Map(([[48, LEGACY_HEADER], [10, CSV_HEADER], [17, CSV_FAST_HEADER]] as const).map(([columns, h]) => [columns, (headerLayout(h) as { layout: Layout }).layout]));
  return predefined.get(n) ?? null;
}

const DATE_START = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/;

/** A record line of a predefined layout without a header (nfdump -q). */
function looksLikeHeaderlessRecord(line: string): boolean {
  const n = line.split(',').length;
  if (n === 48 || n === 10) return DATE_START.test(line);
  return n === 17 && /^\d+,(2|10),\d{10,13},\d{10,13},/.test(line);
}

const decoder = new TextDecoder();

class NfdumpParser extends EachLineParser {
  private layout: Layout | null = null;
  private headerError: string | null = null; // the last header named no usable layout
  private inTrailer = false;
  private readonly cloud: number;
  private readonly account: number;
  private readonly region: number;

  constructor(ctx: ReaderContext) {
    super(ctx.sink);
    this.cloud = cloudOf(ctx.cloud);
    this.account = this.sink.dict.idOf(ctx.account);
    this.region = this.sink.dict.idOf(ctx.region);
    // a later chunk starts past the header: take the layout from the file's first line
    const h = ctx.headerLine ? headerLayout(ctx.headerLine) : null;
    if (h && 'layout' in h) this.layout = h.layout;
  }

  protected parseLine(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    while (s < e && (buf[s] === 32 || buf[s] === 9 || buf[s] === 13)) s++;
    while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9 || buf[e - 1] === 13)) e--;
    const c = this.sink.counters;
    if (s === e) {
      c.blank++;
      return;
    }
    const first = buf[s]!;
    const letter = (first >= 65 && first <= 90) || (first >= 97 && first <= 122);
    if (letter && this.nonRecord(buf, s, e, line, offset)) return;
    if (this.inTrailer) {
      c.trailers++; // the totals line after the Summary block
      return;
    }
    let layout = this.layout;
    if (layout === null) {
      let n = 1;
      for (let i = s; i < e; i++) if (buf[i] === 44) n++;
      layout = this.headerError === null ? layoutByColumns(n) : null;
      if (layout === null) {
        if (this.headerError !== null) return this.sink.reject(line, offset, this.headerError, buf, s, e);
        this.sink.reject(line, offset, `no nfdump CSV header before this line, and ${n} columns match no nfdump layout`, buf, s, e);
        return;
      }
    }
    this.record(layout, buf, s, e, line, offset);
  }

  /** Header, Summary trailer or other text line: handled (true), or not one of those. */
  private nonRecord(buf: Uint8Array, s: number, e: number, line: number, offset: number): boolean {
    const text = decoder.decode(buf.subarray(s, Math.min(e, s + 8192)));
    const c = this.sink.counters;
    if (text === 'Summary' || text === SUMMARY_COLUMNS) {
      this.inTrailer = true;
      c.trailers++;
      return true;
    }
    const h = headerLayout(text);
    if (h === null) {
      if (this.inTrailer) {
        c.trailers++; // whatever else nfdump prints after its Summary
        return true;
      }
      return false;
    }
    this.inTrailer = false;
    if ('error' in h) {
      this.layout = null;
      this.headerError = `header: ${h.error}`;
      this.sink.rejectText(line, offset, this.headerError, text);
    } else {
      this.layout = h.layout;
      this.headerError = null;
      c.headers++;
    }
    return true;
  }

  private record(layout: Layout, buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    const roles = layout.roles;
    const r = this.sink.rec;
    r.clearOptional(this.cloud, this.account, this.region);
    let startMs = -1;
    let endMs = -1;
    let durationMs = -1;
    let col = 0;
    let i = s;
    for (;;) {
      let j = i;
      while (j < e && buf[j] !== 44) j++;
      if (col >= roles.length) {
        this.sink.reject(line, offset, `expected ${roles.length} columns, got more`, buf, s, e);
        return;
      }
      const role = roles[col]!;
      if (role !== Col.ignore) {
        // fields are space-padded (protocol numbers, latencies): trim
        let fs = i;
        let fe = j;
        while (fs < fe && buf[fs] === 32) fs++;
        while (fe > fs && buf[fe - 1] === 32) fe--;
        let v: number;
        switch (role) {
          case Col.start:
          case Col.end:
            v = this.timeMs(buf, fs, fe, layout.millis);
            if (v < 0) return this.bad(v === -2 ? 'time not plausible in the unit of this layout (wrong unit?)' : 'bad time', role, buf, s, e, line, offset);
            if (role === Col.start) startMs = v;
            else endMs = v;
            break;
          case Col.duration:
            durationMs = secondsToMs(buf, fs, fe);
            if (durationMs < 0) return this.bad('bad duration', role, buf, s, e, line, offset);
            break;
          case Col.src:
          case Col.dst:
            if (!parseAddressBytes(buf, fs, fe, role === Col.src ? r.src : r.dst, 0)) {
              return this.bad('bad address', role, buf, s, e, line, offset);
            }
            break;
          case Col.sport:
            v = parseDecimal(buf, fs, fe);
            if (v === NOT_A_NUMBER) return this.bad('bad port', role, buf, s, e, line, offset);
            r.sport = v;
            break;
          case Col.dport:
            v = parsePortOrIcmp(buf, fs, fe);
            if (v < 0) return this.bad('bad port', role, buf, s, e, line, offset);
            r.dport = v;
            break;
          case Col.proto:
            v = parseProtocol(buf, fs, fe);
            if (v < 0) return this.bad('unknown protocol', role, buf, s, e, line, offset);
            r.proto = v;
            break;
          case Col.flags:
            r.tcpFlags = parseTcpFlags(buf, fs, fe); // informative only: unreadable flags are "unknown"
            break;
          case Col.packets:
          case Col.bytes:
            v = parseDecimal(buf, fs, fe);
            if (v === NOT_A_NUMBER) return this.bad('bad count', role, buf, s, e, line, offset);
            if (role === Col.packets) r.packets = v;
            else r.bytes = v;
            break;
          case Col.exporter:
            if (fe > fs) r.iface = this.sink.dict.idOfBytes(buf, fs, fe);
            break;
        }
      }
      col++;
      if (j >= e) break;
      i = j + 1;
    }
    if (col !== roles.length) {
      this.sink.reject(line, offset, `expected ${roles.length} columns, got ${col}`, buf, s, e);
      return;
    }
    if (endMs < 0) endMs = durationMs >= 0 ? startMs + durationMs : startMs;
    r.start = Math.floor(startMs / 1000);
    r.end = Math.floor(endMs / 1000);
    this.sink.emit(line, offset);
  }

  /** A date-time string (UTC ms), or an epoch number in the layout's unit; -1 bad, -2 wrong unit. */
  private timeMs(buf: Uint8Array, s: number, e: number, millis: boolean): number {
    const c = buf[s];
    if (c === undefined) return -1;
    if (e - s >= 19 && buf[s + 4] === 45) return parseDateTimeMs(buf, s, e);
    const ms = millis ? parseDecimal(buf, s, e) : secondsToMs(buf, s, e);
    if (ms < 0) return -1;
    const seconds = ms / 1000;
    return seconds >= MIN_PLAUSIBLE_SECONDS && seconds < MAX_SECONDS ? ms : -2;
  }

  private bad(what: string, role: number, buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    this.sink.reject(line, offset, `${what} (${ROLE_LABELS[role]})`, buf, s, e);
  }
}

const ROLE_LABELS = ['', 'first seen', 'last seen', 'duration', 'source address', 'destination address', 'source port', 'destination port', 'protocol', 'flags', 'packets', 'bytes', 'exporter'];

/** "12.345" seconds (fraction optional, at most 9 digits) in whole milliseconds; -1 when malformed. */
function secondsToMs(buf: Uint8Array, s: number, e: number): number {
  let dot = e;
  for (let i = s; i < e; i++) {
    if (buf[i] === 46) {
      dot = i;
      break;
    }
  }
  const whole = parseDecimal(buf, s, dot);
  if (whole < 0) return -1;
  let ms = whole * 1000;
  if (dot < e) {
    const frac = e - dot - 1;
    if (frac === 0 || frac > 9) return -1;
    const f = parseDecimal(buf, dot + 1, e);
    if (f < 0) return -1;
    ms += Math.floor((f * 1000) / 10 ** frac);
  }
  return ms;
}

/** A port, or ICMP "type.code" as type * 256 + code; -1 when malformed. */
function parsePortOrIcmp(buf: Uint8Array, s: number, e: number): number {
  for (let i = s; i < e; i++) {
    if (buf[i] === 46) {
      const type = parseDecimal(buf, s, i);
      const code = parseDecimal(buf, i + 1, e);
      return type >= 0 && type <= 255 && code >= 0 && code <= 255 ? type * 256 + code : -1;
    }
  }
  return parseDecimal(buf, s, e);
}

/**
 * nfdump's aggregated output (`-A srcip,dstport`, `-a`, `-b`) keeps the -o csv columns but
 * zeroes the ones it aggregated over: `da` 0.0.0.0, `sp` 0. Read as flows, such records
 * turn into responses or nonsense keys, so the file is refused with the reason. A file is
 * taken for aggregated output when most of its first records (up to 200) have an
 * unspecified source or destination address (0.0.0.0 or ::), which no flow has (but a
 * DHCP discover from 0.0.0.0, which stays a minority).
 */
export function aggregatedReason(text: string): string | null {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  let layout: Layout | null = null;
  let records = 0;
  let unspecified = 0;
  for (const line of lines.slice(0, 400)) {
    if (/^[A-Za-z]/.test(line)) {
      if (line === 'Summary') break;
      const h = headerLayout(line);
      if (h && 'layout' in h) layout = h.layout;
      continue;
    }
    const cols = line.split(',');
    const l = layout ?? layoutByColumns(cols.length);
    if (!l || cols.length !== l.roles.length) continue;
    records++;
    for (let k = 0; k < cols.length; k++) {
      const role = l.roles[k];
      if (role !== Col.src && role !== Col.dst) continue;
      const v = cols[k]!.trim();
      if (v === '0.0.0.0' || v === '::') {
        unspecified++;
        break;
      }
    }
    if (records >= 200) break;
  }
  if (records === 0 || unspecified * 2 <= records) return null;
  return (
    `nfdump aggregated output (-A, -a or -b): ${unspecified} of the first ${records} records have no source or destination address ` +
    '(0.0.0.0), so they are not flows; run nfdump -o csv without -A, -a or -b'
  );
}

export const nfdumpCsv: LineReader = {
  kind: 'lines',
  name: 'nfdump-csv',
  refuse: aggregatedReason,
  // formats.md §6 rule 7: an nfdump CSV header, or a headerless record of a predefined layout
  sniff: ({ firstLine }) => {
    if (firstLine.startsWith('{') || !firstLine.includes(',')) return false;
    const h = headerLayout(firstLine);
    if (h !== null) return 'layout' in h;
    return looksLikeHeaderlessRecord(firstLine);
  },
  open: (ctx) => new NfdumpParser(ctx),
};
