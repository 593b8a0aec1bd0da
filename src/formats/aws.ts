/**
 * AWS VPC Flow Logs, text (formats.md §1): one record per line, fields separated by
 * runs of whitespace, '-' for "not applicable", a header line naming the fields (any
 * order, any subset), NODATA / SKIPDATA records. Parsed byte by byte into the sink's
 * reused record: no split(), no string per field.
 */
import { V4_MAPPED_W2, parseAddressBytes, scanIPv4Bytes } from '../net/address.js';
import { Action, Cloud, Direction } from '../flow/types.js';
import { LAZY, type FlowSink, type LazyIds, type RoutedColumns } from '../flow/sink.js';
import type { ByteDict } from '../flow/dict.js';
import type { LineParser, LineReader, ReaderContext } from './types.js';
import { Role, columnReader, type ColumnHost, type ColumnReader } from './aws-columns.js';
import { ROUTE_EMIT, RowFlag, WASM_MAX_ROLES, WASM_WINDOW, awsWasm, type AwsWasm } from './aws-wasm.js';

export const AWS_V2_FIELDS = [
  'version', 'account-id', 'interface-id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol',
  'packets', 'bytes', 'start', 'end', 'action', 'log-status',
];

/** Every field name AWS documents (formats.md §1.3), for header recognition. */
export const AWS_KNOWN_FIELDS = new Set([
  ...AWS_V2_FIELDS, 'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr',
  'region', 'az-id', 'sublocation-type', 'sublocation-id', 'pkt-src-aws-service', 'pkt-dst-aws-service',
  'flow-direction', 'traffic-path', 'ecs-cluster-arn', 'ecs-cluster-name', 'ecs-container-instance-arn',
  'ecs-container-instance-id', 'ecs-container-id', 'ecs-second-container-id', 'ecs-service-name',
  'ecs-task-definition-arn', 'ecs-task-arn', 'ecs-task-id', 'reject-reason', 'encryption-status', 'resource-id',
  'resource-type', 'tgw-id', 'tgw-attachment-id', 'tgw-src-vpc-account-id', 'tgw-dst-vpc-account-id',
  'tgw-src-vpc-id', 'tgw-dst-vpc-id', 'tgw-src-subnet-id', 'tgw-dst-subnet-id', 'tgw-src-eni', 'tgw-dst-eni',
  'tgw-src-az-id', 'tgw-dst-az-id', 'tgw-pair-attachment-id', 'packets-lost-no-route',
  'packets-lost-blackhole', 'packets-lost-mtu-exceeded', 'packets-lost-ttl-expired',
]);

const ROLE_OF: Record<string, Role> = {
  'account-id': Role.account, 'interface-id': Role.iface, srcaddr: Role.srcaddr, dstaddr: Role.dstaddr,
  srcport: Role.srcport, dstport: Role.dstport, protocol: Role.protocol, packets: Role.packets,
  bytes: Role.bytes, start: Role.start, end: Role.end, action: Role.action, 'log-status': Role.logStatus,
  'tcp-flags': Role.tcpFlags, 'flow-direction': Role.direction, region: Role.region,
  'instance-id': Role.instance, 'resource-type': Role.resourceType,
};

const REQUIRED = ['srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'start'];

/** Normalise a header token ("${srcaddr}" or "pkt_srcaddr" are written by some tools). */
export function fieldName(t: string): string {
  return t.replace(/^\$\{|\}$/g, '').replace(/_/g, '-').toLowerCase();
}

/** Column roles for a field list, or an error message. */
export function rolesFor(fields: string[]): { roles: Uint8Array } | { error: string } {
  const names = fields.map(fieldName);
  const missing = REQUIRED.filter((f) => !names.includes(f));
  if (missing.length > 0) return { error: `AWS field list lacks ${missing.join(', ')}` };
  return { roles: Uint8Array.from(names.map((n) => ROLE_OF[n] ?? Role.ignore)) };
}

/**
 * rolesFor, kept per thread by field list: a run reads thousands of files in a few
 * layouts, and each file's header would otherwise be worked out again (and its reader
 * looked up by the roles' text, aws-columns.ts). The same roles object for the same list.
 */
const rolesCache = new Map<string, { roles: Uint8Array } | { error: string }>();
/**
 * The same by the list itself: a small gzip file planned in this thread gets the list of
 * an earlier file with the same header line (input/plan.ts planFromText), and joining it
 * into the key string again took ~1.5 % of the parse thread on tiny files.
 */
const rolesByList = new WeakMap<string[], { roles: Uint8Array } | { error: string }>();
function rolesOf(fields: string[]): { roles: Uint8Array } | { error: string } {
  let r = rolesByList.get(fields);
  if (r) return r;
  const key = fields.join(' ');
  r = rolesCache.get(key);
  if (!r) {
    if (rolesCache.size >= 256) rolesCache.clear(); // a file of odd headers cannot grow it without bound
    rolesCache.set(key, (r = rolesFor(fields)));
  }
  rolesByList.set(fields, r);
  return r;
}

/** Header lines seen by this thread (their text, trimmed): their tokens, when they are AWS headers. */
const headerCache = new Map<string, string[] | null>();
function headerTokens(text: string): string[] | null {
  let tokens = headerCache.get(text);
  if (tokens === undefined) {
    const t = text.split(/\s+/);
    tokens = isAwsHeader(t) ? t : null;
    if (headerCache.size >= 256) headerCache.clear();
    headerCache.set(text, tokens);
  }
  return tokens;
}

/** True when a line's tokens are all AWS field names (a header line). */
export function isAwsHeader(tokens: string[]): boolean {
  return tokens.length > 0 && tokens.every((t) => AWS_KNOWN_FIELDS.has(fieldName(t)));
}

const V2_ROLES = (rolesFor(AWS_V2_FIELDS) as { roles: Uint8Array }).roles;

const NOT_A_NUMBER = -1;
const DASH = -2;

/** Unsigned decimal in buf[s, e): value, DASH for "-", NOT_A_NUMBER otherwise. */
function parseUint(buf: Uint8Array, s: number, e: number): number {
  if (e - s === 1 && buf[s] === 45) return DASH;
  if (e === s || e - s > 20) return NOT_A_NUMBER;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return NOT_A_NUMBER;
    v = v * 10 + c;
  }
  return v;
}

const decoder = new TextDecoder();

class AwsParser implements LineParser, ColumnHost, LazyIds {
  private roles: Uint8Array | null = null;
  readonly sink: FlowSink;
  private defaultAccount = 0;
  private defaultRegion = 0;
  private fileError: string | null = null;
  /** the roles are the default (v2) layout: plainV2 may read a line */
  private v2 = false;
  /** any other layout: its compiled reader (aws-columns.ts) may read a line */
  private columns: ColumnReader | null = null;
  /** The WebAssembly reader of every layout (aws-wasm.ts), or null: the JavaScript readers above. */
  private readonly wasm: AwsWasm | null = awsWasm();
  // where the current record's interface and instance ids lie (resolved lazily)
  private lazyBuf: Uint8Array = new Uint8Array(0);
  private ifaceS = 0;
  private ifaceE = 0;
  private instS = 0;
  private instE = 0;
  /** Consecutive records mostly repeat the account, region and interface: remember the last one of each. */
  private readonly cached: LastValues;

  constructor(ctx: ReaderContext) {
    this.sink = ctx.sink;
    this.cached = lastValuesOf(this.sink.dict);
    this.openFile(ctx);
  }

  /**
   * LazyIds: the current record's interface and instance ids, which the sink looks up for
   * outbound records only. Methods, not closures made per parser: the sink's append calls
   * them, and a new closure per task was a new call target there (V8 threw its optimised
   * code away: "wrong call target").
   */
  iface(): number {
    return this.cached.iface.idOf(this.lazyBuf, this.ifaceS, this.ifaceE);
  }

  instance(): number {
    return this.cached.instance.idOf(this.lazyBuf, this.instS, this.instE);
  }

  /**
   * Ready to read a new file of the same sink: everything that belongs to a file is set
   * again here (its account, region, layout, the ids of the last row). What is kept is
   * tied to the sink's dictionary, which is the same: the last values and the numeric
   * accounts' ids, and the buffers. (openAwsParser reuses a parser so.)
   */
  openFile(ctx: ReaderContext): void {
    this.defaultAccount = this.sink.dict.idOf(ctx.account);
    this.defaultRegion = this.sink.dict.idOf(ctx.region);
    this.sink.lazy = this;
    this.roles = null;
    this.v2 = false;
    this.columns = null;
    this.fileError = null;
    if (ctx.awsFields) {
      const r = rolesOf(ctx.awsFields);
      if ('error' in r) this.fileError = r.error;
      else this.setRoles(r.roles);
    }
  }

  lineTooLong(line: number, offset: number): void {
    this.sink.lineTooLong(line, offset);
  }

  truncated(line: number, offset: number): void {
    this.sink.truncatedLine(line, offset);
  }

  /** Where the WebAssembly reader reads a plain file's next bytes in place (AwsWasm.readTarget), so that parseLines copies none of them. */
  readTarget(size: number): Buffer | null {
    return this.wasm?.readTarget(size, this.sink) ?? null;
  }

  parseLines(buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number {
    if (this.wasm !== null) return this.parseLinesWasm(this.wasm, buf, s, e, firstLine, baseOffset);
    let line = firstLine;
    let i = s;
    while (i < e) {
      // the default layout written plainly (nearly every line): plainV2 finds the line's
      // end as it reads it, sparing a search for the '\n' per line. Line 1 may be a header.
      if (line !== 1 && (this.v2 || this.columns !== null)) {
        this.resetRecord();
        const j = this.v2 ? this.plainV2(buf, i, e) : this.columns!(buf, i, e, this.sink.rec, this, this.dvFor(buf));
        // the record ends its line, or a CRLF line (parseLine would trim the '\r' and read the same)
        const end = j < 0 || j >= e ? -1 : buf[j] === 10 ? j : buf[j] === 13 && j + 1 < e && buf[j + 1] === 10 ? j + 1 : -1;
        if (end >= 0) {
          this.sink.emit(line, baseOffset + (i - s));
          line++;
          i = end + 1;
          continue;
        }
      }
      let j = buf.indexOf(10, i); // native search: much faster than a byte loop
      if (j < 0 || j > e) j = e;
      this.parseLine(buf, i, j, line, baseOffset + (i - s));
      line++;
      i = j + 1;
    }
    this.sink.counters.lines += line - firstLine;
    return line - firstLine;
  }

  /**
   * parseLines by the WebAssembly reader: a window of the block at a time is read into
   * columns, whose plain rows become records here and whose other rows (and line 1, and a
   * line not ended in the window) the general loop reads, as the JavaScript path does.
   */
  private parseLinesWasm(w: AwsWasm, buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number {
    let line = firstLine;
    let i = s;
    while (i < e) {
      // line 1 may be a header, unless it starts with a digit (a record's version or account):
      // then the module reads it too, with the default layout where none is known yet, as
      // parseLine would (header() declines it, then V2_ROLES). parseLine, the general loop, then
      // stays cold on a bucket's files (it was one of the parse thread's largest optimising compiles)
      const recordFirst = line === 1 && buf[i]! >= 48 && buf[i]! <= 57;
      if (recordFirst && this.roles === null && this.fileError === null) this.setRoles(V2_ROLES);
      const roles = this.roles;
      if ((line !== 1 || recordFirst) && roles !== null && roles.length <= WASM_MAX_ROLES) {
        const rows = w.read(buf, i, Math.min(e - i, WASM_WINDOW), roles, this.sink, this.defaultAccount, this.defaultRegion);
        if (rows > 0) {
          w.addCounts(this.sink);
          const done = this.emitRows(w, buf, i, rows, line, baseOffset + (i - s), roles);
          line += done;
          i += w.i32[w.lineEnd + done - 1]! + 1;
          continue;
        }
      }
      // line 1 (it may be a header), a line with no layout, a line longer than the window or not ended by '\n'
      let j = buf.indexOf(10, i);
      if (j < 0 || j > e) j = e;
      this.parseLine(buf, i, j, line, baseOffset + (i - s));
      line++;
      i = j + 1;
    }
    this.sink.counters.lines += line - firstLine;
    return line - firstLine;
  }

  /**
   * The records of the rows the WebAssembly reader wrote for buf[at...], line numbers from
   * `line`, offsets from `offset`: a row it routed goes to its shard's batch, one it counted
   * alone is done, any other plain row goes to the sink's emit, and a row it did not read to
   * the general loop. Only the rows of the module's list (AwsWasm.jsRow) are visited: the others
   * (nearly all) need nothing here. Returns the rows done, fewer than `rows` when a row read by the general
   * loop changed the layout (a header mid-file): the rest are read again. (The module ends a
   * read after a row that may be a header, so no row it counted is read twice.)
   */
  private emitRows(w: AwsWasm, buf: Uint8Array, at: number, rows: number, line: number, offset: number, roles: Uint8Array): number {
    const sink = this.sink;
    const r = sink.rec;
    const { i32, u32, f64 } = w;
    const areas = w.routedAreas;
    if (areas !== null) sink.beginRouted(areas);
    // the rows before `synced` whose routed records the sink was told of (routedBefore)
    let synced = 0;
    for (let j = 0, n = w.jsRows; j < n; j++) {
      const k = u32[w.jsRow + j]!;
      const ls = i32[w.lineStart + k]!;
      const flags = u32[w.flags + k]!;
      if ((flags & RowFlag.plain) === 0) {
        if (areas !== null) synced = routedBefore(w, areas, synced, k);
        this.parseLine(buf, at + ls, at + i32[w.lineEnd + k]!, line + k, offset + ls);
        if (this.roles !== roles) {
          // the rows after it are read again: their routed records are not the sink's
          if (areas !== null) sink.endRouted();
          return k + 1;
        }
        continue;
      }
      // a plain row of the list: ROUTE_EMIT, or its shard where there are no areas (a routed row's
      // columns and ids are in its shard's area, copied with its run; ROUTE_DONE: counted alone)
      const route = i32[w.route + k]!;
      if (areas !== null) synced = routedBefore(w, areas, synced, k);
      r.clearOptional(Cloud.aws, i32[w.accountId + k]!, i32[w.regionId + k]!);
      if ((flags & (RowFlag.srcV6 | RowFlag.dstV6)) === 0) {
        const rs = r.src;
        rs[0] = 0;
        rs[1] = 0;
        rs[2] = V4_MAPPED_W2;
        rs[3] = u32[w.src + k]!;
        const rd = r.dst;
        rd[0] = 0;
        rd[1] = 0;
        rd[2] = V4_MAPPED_W2;
        rd[3] = u32[w.dst + k]!;
      } else this.addressesV6(w, k, flags);
      r.sport = u32[w.sport + k]!;
      r.dport = u32[w.dport + k]!;
      r.proto = u32[w.proto + k]!;
      r.start = u32[w.start + k]!;
      r.end = u32[w.end + k]!;
      r.tcpFlags = i32[w.tcpFlags + k]!;
      r.packets = f64[w.packets + k]!;
      r.bytes = f64[w.bytes + k]!;
      r.action = u32[w.action + k]!;
      r.direction = u32[w.direction + k]!;
      const fS = i32[w.ifaceS + k]!;
      if (fS >= 0) {
        r.iface = LAZY; // looked up only if the record turns out to be outbound (FlowSink.lazy)
        this.lazyIface(buf, at + fS, at + i32[w.ifaceE + k]!);
      }
      const nS = i32[w.instanceS + k]!;
      if (nS >= 0) {
        r.instance = LAZY;
        this.lazyInstance(buf, at + nS, at + i32[w.instanceE + k]!);
      }
      if (route === ROUTE_EMIT) sink.emit(line + k, offset + ls);
      else sink.appendRouted(route, u32[w.feed + k]! & 3);
    }
    if (areas !== null) {
      sink.routedUpToCounts();
      sink.endRouted();
    }
    return rows;
  }

  /** Row k's addresses when one of them is IPv6 (a row the module did not route into an area: emitted, or appended from the record).*/
  private addressesV6(w: AwsWasm, k: number, flags: number): void {
    const r = this.sink.rec;
    addressOfRow(w.u32, (flags & RowFlag.srcV6) !== 0, w.src6 + 4 * k, w.src + k, r.src);
    addressOfRow(w.u32, (flags & RowFlag.dstV6) !== 0, w.dst6 + 4 * k, w.dst + k, r.dst);
  }

  private header(buf: Uint8Array, s: number, e: number, line: number, offset: number): boolean {
    const c = buf[s]!;
    // headers start with a letter or '$'; records start with the version digit or an account id
    if (!((c >= 97 && c <= 122) || c === 36 || (c >= 65 && c <= 90))) return false;
    const tokens = headerTokens(decoder.decode(buf.subarray(s, e)).trim());
    if (tokens === null) return false;
    const r = rolesOf(tokens);
    if ('error' in r) {
      this.roles = null;
      this.sink.rejectText(line, offset, `header: ${r.error}`, tokens.join(' '));
    } else {
      this.setRoles(r.roles);
      this.sink.counters.headers++; // a line that is neither a record nor a reject (detection.md §6 accounting)
    }
    return true;
  }

  /**
   * One record given on its own rather than as a line of a file: the message of a
   * JSON wrapper (aws-json.ts). Not counted as a line (the JSON reader counts its
   * objects). `account` (a dictionary id, e.g. a CloudWatch envelope's owner) stands in
   * for the account when the record has no account-id field.
   */
  parseRecord(buf: Uint8Array, s: number, e: number, line: number, offset: number, account: number): void {
    const fileDefault = this.defaultAccount;
    this.defaultAccount = account;
    // a plain record (nearly every message) by the fast reader of the layout, as parseLines reads a line
    this.resetRecord();
    if (!this.v2 && this.columns === null && this.roles !== null) this.columns = columnReader(this.roles, tenDigits);
    if (this.v2 ? this.plainV2(buf, s, e) === e : this.columns !== null && this.columns(buf, s, e, this.sink.rec, this, this.dvFor(buf)) === e) {
      this.sink.emit(line, offset);
    } else this.parseLine(buf, s, e, line, offset);
    this.defaultAccount = fileDefault;
  }

  /** The dictionary id of the file's default account (ReaderContext.account). */
  get fileAccount(): number {
    return this.defaultAccount;
  }

  /** The record's fields before a line is read: what a line that does not give them means. */
  private resetRecord(): void {
    const r = this.sink.rec;
    r.clearOptional(Cloud.aws, this.defaultAccount, this.defaultRegion);
    r.end = -1;
  }

  private parseLine(buf: Uint8Array, s: number, e: number, line: number, offset: number): void {
    // trim whitespace (and the '\r' of CRLF files)
    while (s < e && (buf[s] === 32 || buf[s] === 9 || buf[s] === 13)) s++;
    while (e > s && (buf[e - 1] === 32 || buf[e - 1] === 9 || buf[e - 1] === 13)) e--;
    if (s === e) {
      this.sink.counters.blank++; // blank lines are not records, but are counted (detection.md §6 accounting)
      return;
    }
    // a header on the first line, or (rarely) mid-file where files were concatenated:
    // the latter is only looked for when a line fails to parse as a record
    if ((line === 1 || this.roles === null) && this.header(buf, s, e, line, offset)) return;
    if (this.roles === null) {
      if (this.fileError) {
        this.sink.reject(line, offset, this.fileError, buf, s, e);
        return;
      }
      this.setRoles(V2_ROLES); // no header: the default format
    }
    const roles = this.roles!;
    const sink = this.sink;
    const r = sink.rec;
    // The general loop. The fast readers (plainV2, the compiled layout) are not tried here
    // again: parseLines tried them on every line but a file's first, and what they make of
    // a plain line the loop below makes of it too (test/aws-layouts.test.ts). Calling them
    // from here as well made this function see every layout's reader as a call target, and
    // V8 deoptimised and recompiled it at each new one (bench/RESULTS.md, session 6).
    this.resetRecord();
    let noData = false;
    let srcDash = false;
    let col = 0;
    let i = s;
    const nroles = roles.length;
    while (i < e) {
      if (col >= nroles) {
        this.fail(buf, s, e, line, offset, `expected ${nroles} fields, got more`);
        return;
      }
      const role = roles[col]!;
      let j = i;
      let handled = false; // the field was stored by the fast paths below
      if ((role >= Role.srcport && role <= Role.end) || role === Role.tcpFlags) {
        handled = true;
        // numbers are read in the same pass that finds the end of the token
        let v = 0;
        let c = buf[j]!;
        if (c === 45 && (j + 1 === e || buf[j + 1] === 32 || buf[j + 1] === 9)) {
          v = DASH;
          j++;
        } else {
          for (; j < e; j++) {
            c = buf[j]!;
            const d = c - 48;
            if (d < 0 || d > 9) break;
            v = v * 10 + d;
          }
          if (j === i || j - i > 20 || (j < e && c !== 32 && c !== 9)) {
            while (j < e && buf[j] !== 32 && buf[j] !== 9) j++;
            v = NOT_A_NUMBER;
          }
        }
        const bad = this.number(role, v);
        if (bad === 2) srcDash = true;
        else if (bad !== 0) {
          this.fail(buf, s, e, line, offset, `bad ${fieldLabel(role)}`);
          return;
        }
      } else if ((role === Role.srcaddr || role === Role.dstaddr) && (j = scanIPv4Bytes(buf, i, e, role === Role.srcaddr ? r.src : r.dst, 0)) >= 0) {
        handled = true; // a dotted quad, read in the pass that finds its end (the common case)
      } else {
        j = i;
        while (j < e && buf[j] !== 32 && buf[j] !== 9) j++;
      }
      if (!handled && role !== Role.ignore) {
        const bad = this.field(role, buf, i, j);
        if (bad === 1) {
          noData = true;
        } else if (bad === 2) {
          srcDash = true;
        } else if (bad !== 0) {
          this.fail(buf, s, e, line, offset, `bad ${fieldLabel(role)}`);
          return;
        }
      }
      col++;
      i = j;
      while (i < e && (buf[i] === 32 || buf[i] === 9)) i++;
    }
    if (col !== nroles) {
      this.fail(buf, s, e, line, offset, `expected ${nroles} fields, got ${col}`);
      return;
    }
    if (noData || srcDash) {
      // NODATA / SKIPDATA (or a TGW record, or flow fields all '-'): no flow to detect on
      sink.noData();
      return;
    }
    if (r.end < 0) r.end = r.start;
    sink.emit(line, offset);
  }

  /** End of the last number plainNumber read. */
  private numberEnd = 0;
  /** plainV2 reads some fields four bytes at a time, through a DataView of the buffer. */
  private dvOf: Uint8Array | null = null;
  private dv: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(8));
  /** Numeric account ids (up to 14 digits) seen, by (value, digits): their dictionary ids. */
  private readonly accountKeys = new Float64Array(32).fill(-1);
  private readonly accountIds = new Int32Array(32);

  /** Digits from s up to a single space (1 to 15 of them): the value, or -1 for anything else. */
  private plainNumber(b: Uint8Array, s: number, e: number): number {
    let v = 0;
    let i = s;
    for (; i < e; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === s || i - s > 15 || i >= e || b[i] !== 32) return -1;
    this.numberEnd = i;
    return v;
  }

  private setRoles(roles: Uint8Array): void {
    this.roles = roles;
    this.v2 = roles.length === V2_ROLES.length && roles.every((x, k) => x === V2_ROLES[k]);
    // with the WebAssembly reader a layout's JavaScript reader is compiled only if parseRecord needs it
    this.columns = this.v2 || this.wasm !== null ? null : columnReader(roles, tenDigits);
  }

  /** A DataView of b, for the readers that read four bytes at a time. */
  private dvFor(b: Uint8Array): DataView {
    if (b !== this.dvOf) {
      this.dvOf = b;
      this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    }
    return this.dv;
  }

  // ColumnHost: what a compiled layout reader asks for once it has read a plain line

  accountId(v: number, digits: boolean, b: Uint8Array, s: number, e: number): number {
    return digits ? this.numericAccount(v, e - s, b, s, e) : this.cached.account.idOf(b, s, e);
  }

  regionId(b: Uint8Array, s: number, e: number): number {
    return this.cached.region.idOf(b, s, e);
  }

  lazyIface(b: Uint8Array, s: number, e: number): void {
    this.lazyBuf = b;
    this.ifaceS = s;
    this.ifaceE = e;
  }

  lazyInstance(b: Uint8Array, s: number, e: number): void {
    this.lazyBuf = b;
    this.instS = s;
    this.instE = e;
  }

  /**
   * A default-format (v2) record written plainly: single spaces, dotted-quad addresses,
   * plain numbers, status OK. Reads it from s into the sink's record and returns the index
   * just past "OK"; returns -1 for any other line, having stored nothing the general loop
   * would not store again. e may be the end of the line or of a run of lines: no token
   * runs past a byte below '!' (a '\n' ends every token), so the caller checks that the
   * line ends where the record does.
   */
  private plainV2(b: Uint8Array, s: number, e: number): number {
    const r = this.sink.rec;
    let i = tokenEnd(b, s, e); // version
    if (i < 0) return -1;
    const dv = this.dvFor(b);
    // account-id: read as a number where it is one (12 digits), to look it up without its bytes
    const a0 = i + 1;
    let account = a0 + 13 <= e && b[a0 + 12] === 32 ? twelveDigits(dv, a0) : -1;
    let digits = account >= 0;
    if (digits) i = a0 + 12;
    else {
      account = 0;
      digits = true;
      for (i = a0; i < e; i++) {
        const c = b[i]!;
        if (c <= 32) break;
        const d = c - 48;
        if (d < 0 || d > 9) digits = false;
        else account = account * 10 + d;
      }
      if (i === a0 || i >= e || b[i] !== 32) return -1;
    }
    const a1 = i;
    const f0 = i + 1;
    i = wordTokenEnd(dv, b, f0, e); // interface-id
    if (i < 0) return -1;
    const f1 = i;
    i = scanIPv4Bytes(b, i + 1, e, r.src, 0);
    if (i < 0 || i >= e || b[i] !== 32) return -1;
    i = scanIPv4Bytes(b, i + 1, e, r.dst, 0);
    if (i < 0 || i >= e || b[i] !== 32) return -1;
    // srcport dstport protocol packets bytes start end: digits and one space each
    // (stored as read: a line that fails later is read again by the general loop)
    if ((r.sport = this.plainNumber(b, i + 1, e)) < 0) return -1;
    if ((r.dport = this.plainNumber(b, this.numberEnd + 1, e)) < 0) return -1;
    if ((r.proto = this.plainNumber(b, this.numberEnd + 1, e)) < 0) return -1;
    if ((r.packets = this.plainNumber(b, this.numberEnd + 1, e)) < 0) return -1;
    if ((r.bytes = this.plainNumber(b, this.numberEnd + 1, e)) < 0) return -1;
    // start and end: ten digits (Unix seconds from 2001 to 2286) are read four bytes at a time
    let at = this.numberEnd + 1;
    let v = at + 11 <= e && b[at + 10] === 32 ? tenDigits(dv, b, at) : -1;
    if (v >= 0) this.numberEnd = at + 10;
    else if ((v = this.plainNumber(b, at, e)) < 0) return -1;
    r.start = v;
    at = this.numberEnd + 1;
    v = at + 11 <= e && b[at + 10] === 32 ? tenDigits(dv, b, at) : -1;
    if (v >= 0) this.numberEnd = at + 10;
    else if ((v = this.plainNumber(b, at, e)) < 0) return -1;
    r.end = v;
    const act = this.numberEnd + 1;
    i = tokenEnd(b, act, e); // action
    if (i < 0) return -1;
    // log-status: "OK", last on the line
    if (i + 3 > e || b[i + 1] !== 79 || b[i + 2] !== 75) return -1;
    const c = b[act];
    r.action = c === 65 ? Action.accept : c === 82 ? Action.reject : Action.unknown;
    r.account = digits && a1 - a0 <= 14 ? this.numericAccount(account, a1 - a0, b, a0, a1) : this.cached.account.idOf(b, a0, a1);
    if (!(f1 - f0 === 1 && b[f0] === 45)) {
      r.iface = LAZY; // looked up only if the record turns out to be outbound (FlowSink.lazy)
      this.lazyBuf = b;
      this.ifaceS = f0;
      this.ifaceE = f1;
    }
    return i + 3;
  }

  /**
   * The dictionary id of an all-digit account id, found by its value and digit count
   * (leading zeros make different ids) in a 32-slot cache: no byte comparison per record.
   */
  private numericAccount(value: number, digits: number, b: Uint8Array, s: number, e: number): number {
    const key = value * 16 + digits; // exact: value < 10^14
    const slot = (value | 0) & 31; // ToInt32 keeps the low 32 bits of an integer exactly
    if (this.accountKeys[slot] === key) return this.accountIds[slot]!;
    const id = this.cached.account.idOf(b, s, e);
    this.accountKeys[slot] = key;
    this.accountIds[slot] = id;
    return id;
  }

  private fail(buf: Uint8Array, s: number, e: number, line: number, offset: number, reason: string): void {
    if (this.header(buf, s, e, line, offset)) return;
    this.sink.reject(line, offset, reason, buf, s, e);
  }

  /** Store a numeric field read by parseLine. 0 = ok, 2 = '-' where a flow needs a value, 3 = malformed. */
  private number(role: number, v: number): number {
    const r = this.sink.rec;
    switch (role) {
      case Role.srcport:
      case Role.dstport:
      case Role.protocol:
        if (v === DASH) return 2;
        if (v < 0) return 3;
        if (role === Role.srcport) r.sport = v;
        else if (role === Role.dstport) r.dport = v;
        else r.proto = v;
        return 0;
      case Role.packets:
        if (v === NOT_A_NUMBER) return 3;
        r.packets = v === DASH ? NaN : v;
        return 0;
      case Role.bytes:
        if (v === NOT_A_NUMBER) return 3;
        r.bytes = v === DASH ? NaN : v;
        return 0;
      case Role.start:
        if (v < 0) return 3;
        r.start = v;
        return 0;
      case Role.end:
        if (v < 0) return 3;
        r.end = v;
        return 0;
      case Role.tcpFlags:
        if (v === NOT_A_NUMBER) return 3;
        r.tcpFlags = v === DASH ? -1 : v;
        return 0;
      default:
        return 0;
    }
  }

  /** Store one field. 0 = ok, 1 = record carries no flow, 2 = address '-', 3 = malformed. */
  private field(role: number, buf: Uint8Array, s: number, e: number): number {
    const r = this.sink.rec;
    switch (role) {
      case Role.srcaddr:
      case Role.dstaddr: {
        if (e - s === 1 && buf[s] === 45) return 2;
        return parseAddressBytes(buf, s, e, role === Role.srcaddr ? r.src : r.dst, 0) ? 0 : 3;
      }
      case Role.srcport:
      case Role.dstport:
      case Role.protocol: {
        const v = parseUint(buf, s, e);
        if (v === DASH) return 2;
        if (v < 0) return 3;
        if (role === Role.srcport) r.sport = v;
        else if (role === Role.dstport) r.dport = v;
        else r.proto = v;
        return 0;
      }
      case Role.packets:
      case Role.bytes: {
        const v = parseUint(buf, s, e);
        if (v === NOT_A_NUMBER) return 3;
        if (role === Role.packets) r.packets = v === DASH ? NaN : v;
        else r.bytes = v === DASH ? NaN : v;
        return 0;
      }
      case Role.start:
      case Role.end: {
        const v = parseUint(buf, s, e);
        if (v < 0) return 3;
        if (role === Role.start) r.start = v;
        else r.end = v;
        return 0;
      }
      case Role.tcpFlags: {
        const v = parseUint(buf, s, e);
        if (v === NOT_A_NUMBER) return 3;
        r.tcpFlags = v === DASH ? -1 : v;
        return 0;
      }
      case Role.action: {
        const c = buf[s];
        r.action = c === 65 ? Action.accept : c === 82 ? Action.reject : Action.unknown;
        return 0;
      }
      case Role.logStatus: {
        const c = buf[s];
        return c === 78 || c === 83 ? 1 : 0; // NODATA, SKIPDATA
      }
      case Role.direction: {
        const c = buf[s];
        r.direction = c === 105 ? Direction.ingress : c === 101 ? Direction.egress : Direction.unknown;
        return 0;
      }
      case Role.account:
        r.account = this.cached.account.idOf(buf, s, e);
        return 0;
      case Role.region:
        if (!(e - s === 1 && buf[s] === 45)) r.region = this.cached.region.idOf(buf, s, e);
        return 0;
      case Role.iface:
        // looked up only if the record turns out to be outbound (FlowSink.lazy)
        if (!(e - s === 1 && buf[s] === 45)) {
          r.iface = LAZY;
          this.lazyBuf = buf;
          this.ifaceS = s;
          this.ifaceE = e;
        }
        return 0;
      case Role.instance:
        if (!(e - s === 1 && buf[s] === 45)) {
          r.instance = LAZY;
          this.lazyBuf = buf;
          this.instS = s;
          this.instE = e;
        }
        return 0;
      case Role.resourceType:
        return buf[s] === 84 ? 1 : 0; // TransitGateway records: out of scope, skipped cleanly
      default:
        return 0;
    }
  }
}

type LastValues = Record<'account' | 'region' | 'iface' | 'instance', LastValue>;

/**
 * The LastValue caches of a dictionary, made once a dictionary: a task of many small files
 * opens a parser a file on one sink, and twelve typed arrays a file were ~20 µs of a tiny
 * file's cost. Sharing them is safe: a dictionary never forgets an id, and a cache only
 * answers what the dictionary would.
 */
const lastValuesByDict = new WeakMap<ByteDict, LastValues>();
function lastValuesOf(d: ByteDict): LastValues {
  let v = lastValuesByDict.get(d);
  if (!v) lastValuesByDict.set(d, (v = { account: new LastValue(d), region: new LastValue(d), iface: new LastValue(d), instance: new LastValue(d) }));
  return v;
}

/** An address of a row of the WebAssembly reader into out: its four words at `at6` when v6, else the IPv4 at `at`. */
function addressOfRow(u32: Uint32Array, v6: boolean, at6: number, at: number, out: Uint32Array): void {
  out[0] = v6 ? u32[at6]! : 0;
  out[1] = v6 ? u32[at6 + 1]! : 0;
  out[2] = v6 ? u32[at6 + 2]! : V4_MAPPED_W2;
  out[3] = v6 ? u32[at6 + 3]! : u32[at]!;
}

/**
 * The dictionary ids of recent values of one column: a byte compare instead of a hash
 * lookup when a value repeats. Eight slots chosen by the value's length and last bytes,
 * so that a file interleaving a few accounts or regions (a merged export) still hits.
 */
class LastValue {
  private readonly bytes = new Uint8Array(8 * 64);
  private readonly len = new Int32Array(8).fill(-1);
  private readonly id = new Int32Array(8);
  constructor(private readonly dict: ByteDict) {}
  idOf(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    const slot = len > 0 ? (len ^ buf[e - 1]! ^ (buf[e - 2 < s ? s : e - 2]! << 2)) & 7 : 0;
    const at = slot * 64;
    if (len === this.len[slot]) {
      let k = 0;
      while (k < len && this.bytes[at + k] === buf[s + k]) k++;
      if (k === len) return this.id[slot]!;
    }
    const id = this.dict.idOfBytes(buf, s, e);
    if (len <= 64) {
      // a byte loop: Buffer.subarray allocates an object, on every miss
      for (let k = 0; k < len; k++) this.bytes[at + k] = buf[s + k]!;
      this.len[slot] = len;
      this.id[slot] = id;
    }
    return id;
  }
}

/**
 * Four ASCII digits in a little-endian word (the first digit in the low byte): their value,
 * or -1 when a byte is not a digit. Every byte must have high nibble 3 and stay below
 * 0x3a (adding 6 keeps the high nibble 3); no carry crosses bytes that pass.
 */
function fourDigits(w: number): number {
  if (((w & 0xf0f0f0f0) | (((w + 0x06060606) & 0xf0f0f0f0) >>> 4)) !== 0x33333333) return -1;
  let x = w & 0x0f0f0f0f;
  x = (x * 10 + (x >>> 8)) & 0x00ff00ff; // byte 0: d0 d1, byte 2: d2 d3
  return (x & 0xff) * 100 + (x >>> 16);
}

/** Twelve digits at s (the caller checked what follows): the value, or -1. */
function twelveDigits(dv: DataView, s: number): number {
  const a = fourDigits(dv.getUint32(s, true));
  const b = fourDigits(dv.getUint32(s + 4, true));
  const c = fourDigits(dv.getUint32(s + 8, true));
  return (a | b | c) < 0 ? -1 : a * 1e8 + b * 1e4 + c;
}

/** Ten digits at s (the caller checked what follows): the value, or -1. */
function tenDigits(dv: DataView, buf: Uint8Array, s: number): number {
  const a = fourDigits(dv.getUint32(s, true));
  const b = fourDigits(dv.getUint32(s + 4, true));
  const c = buf[s + 8]! - 48;
  const d = buf[s + 9]! - 48;
  if ((a | b) < 0 || c < 0 || c > 9 || d < 0 || d > 9) return -1;
  return a * 1e6 + b * 100 + c * 10 + d;
}

/**
 * tokenEnd four bytes at a time: a word with a byte below '!' has a bit set in
 * (w - 0x21212121) & ~w & 0x80808080 (bytes of 0x80 and above never set one), and the
 * bytes of that word are then looked at one by one.
 */
function wordTokenEnd(dv: DataView, b: Uint8Array, s: number, e: number): number {
  let i = s;
  while (i + 4 <= e && ((dv.getUint32(i, true) - 0x21212121) & ~dv.getUint32(i, true) & 0x80808080) === 0) i += 4;
  for (; i < e; i++) if (b[i]! <= 32) break;
  if (i === s || i >= e || b[i] !== 32) return -1;
  return i;
}

/** The end of a token of bytes above ' ' starting at s, ended by a single space (not by e): -1 otherwise. */
function tokenEnd(b: Uint8Array, s: number, e: number): number {
  let i = s;
  for (; i < e; i++) {
    if (b[i]! <= 32) break; // a space, a tab, a '\r' or '\n', a control byte: plainV2 reads no further
  }
  if (i === s || i >= e || b[i] !== 32) return -1;
  return i;
}

function fieldLabel(role: number): string {
  for (const [name, r] of Object.entries(ROLE_OF)) if (r === role) return name;
  return 'field';
}

/**
 * isAwsHeader of a first line, kept per thread for short lines: planning sniffs every file,
 * and the files of a bucket repeat a few header lines (checking one's ~20 names was ~20 µs
 * of the main thread's time a file).
 */
const sniffedHeaders = new Map<string, boolean>();
function sniffedHeader(line: string): boolean {
  if (line.length > 2048) return isAwsHeader(line.split(/\s+/));
  let yes = sniffedHeaders.get(line);
  if (yes === undefined) {
    yes = isAwsHeader(line.split(/\s+/));
    if (sniffedHeaders.size >= 256) sniffedHeaders.clear();
    sniffedHeaders.set(line, yes);
  }
  return yes;
}

const AWS_V2_LINE = /^\d+\s+(\d{12}|unknown)\s+\S+\s+/;

export const awsText: LineReader = {
  kind: 'lines',
  name: 'aws-text',
  // a header line of AWS field names, or a default-format (v2) record (formats.md §6 rules 2-3)
  sniff: (head) => {
    // a JSON first line (a whole Azure blob can be one line of the 64 KiB head) is neither a
    // field name ('{' is not stripped by fieldName) nor a v2 record: skip splitting it, and
    // decoding it (its first character is read from the bytes)
    const c = head.lead;
    if (c === 123 || c === 91) return false;
    const firstLine = head.firstLine;
    // a v2 record starts with a number, which no field name is: it is never a header line
    if (AWS_V2_LINE.test(firstLine)) {
      const tokens = firstLine.split(/\s+/);
      return tokens.length === 14 || /^(OK|NODATA|SKIPDATA)$/.test(tokens[tokens.length - 1]!);
    }
    return sniffedHeader(firstLine);
  },
  open: (ctx) => openAwsParser(ctx),
};

/**
 * The last parser opened in this thread, and the sink it feeds. A 'files' task reads its
 * many small files one after the other into one sink (workers/parse.ts): the parser of the
 * last file is set up for the next (AwsParser.openFile) rather than built again (a
 * buffer, typed arrays, two closures, ~4 us a file), and the sink's `lazy` stays the same
 * object. A sink is fed one file at a time, so a parser is not reused while in use. Held
 * weakly: a finished task's sink (its dictionary, its batches) is not kept alive by it.
 */
let lastParser: WeakRef<AwsParser> | null = null;

function openAwsParser(ctx: ReaderContext): AwsParser {
  const p = lastParser?.deref();
  if (p !== undefined && p.sink === ctx.sink) {
    p.openFile(ctx);
    return p;
  }
  const made = new AwsParser(ctx);
  lastParser = new WeakRef(made);
  return made;
}

/** A parser of single AWS records (the messages inside JSON wrappers), with the file's field list. */
export function awsRecordParser(ctx: ReaderContext): Pick<AwsParser, 'parseRecord' | 'fileAccount'> {
  return new AwsParser(ctx);
}

/** Account and region from an S3 key layout (formats.md §1.5), plain or Hive-style. */
export function awsPathInfo(path: string): { account?: string; region?: string } {
  const m = /AWSLogs\/(?:aws-account-id=)?([^/]+)\/(?:aws-service=)?vpcflowlogs\/(?:aws-region=)?([^/]+)\//.exec(
    path.replace(/\\/g, '/'),
  );
  if (!m) return {};
  return { account: m[1], region: m[2] };
}

/**
 * The routed records of rows [from, to) of w's last read made known to the sink as coming
 * before what row `to` hands it (RoutedColumns.ends): `to`, the rows now synced.
 */
function routedBefore(w: AwsWasm, areas: RoutedColumns, from: number, to: number): number {
  const { i32, u32 } = w;
  const ends = areas.ends;
  for (let k = from; k < to; k++) {
    // a row that is not plain has no route (its column holds an earlier read's)
    const route = i32[w.route + k]!;
    if (route >= 0 && (u32[w.flags + k]! & RowFlag.plain) !== 0) ends[route] = (u32[w.feed + k]! >>> 2) + 1;
  }
  return to;
}
