/**
 * How a replay block stores flow rows: a compact column set (about 41 bytes a row, half
 * of FlowBatchData's 83) because lz4 decoding speed is counted in bytes. Decoding
 * expands it into a FlowBatchData over reusable scratch columns, or views straight into
 * the decompressed buffer where the types already match: no allocation per record.
 *
 *   flags     u8   feed | cloud << 2 | action << 4 | direction << 6
 *   af        u8   bit 0: src is IPv6, bit 1: dst is IPv6
 *   src, dst  u32  the IPv4 address (0 for IPv6 rows)
 *   src6, dst6 u32 four words per IPv6 address, in row order
 *   proto u8, sport u16, dport u16, tcpFlags i16, start u32
 *   dur       u32  end - start
 *   packets, bytes  u32 (0xffffffff = unknown), or f64 (NaN = unknown) in a block where a
 *                   count does not fit
 *   account, region, iface, instance  u16, or u32 when the file's dictionary is larger
 */
import { ALL_FEEDS, allocBatch, type FlowBatchData } from '../flow/batch.js';
import { CorruptBlockError, type Column } from './block.js';
import { lz4Wasm } from './lz4-wasm.js';

const V4_MAPPED = 0xffff;
const UNKNOWN_U32 = 0xffffffff;

/** Column names of a rows block, for the file header's column set. */
export const ROW_CODEC_COLUMNS = [
  'flags', 'af', 'src', 'dst', 'src6', 'dst6', 'proto', 'sport', 'dport', 'tcpFlags', 'start', 'dur',
  'packets', 'bytes', 'account', 'region', 'iface', 'instance',
] as const;

/** The block columns of rows [0, n) of a batch. */
export function encodeRows(b: FlowBatchData, n: number, wideIds: boolean): Array<[string, Column, number]> {
  const flags = new Uint8Array(n);
  const af = new Uint8Array(n);
  const src = new Uint32Array(n);
  const dst = new Uint32Array(n);
  const src6: number[] = [];
  const dst6: number[] = [];
  const dur = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    flags[i] = b.feed[i]! | (b.cloud[i]! << 2) | (b.action[i]! << 4) | (b.direction[i]! << 6);
    const o = i * 4;
    if (isV4(b.src, o)) src[i] = b.src[o + 3]!;
    else {
      af[i]! |= 1;
      src6.push(b.src[o]!, b.src[o + 1]!, b.src[o + 2]!, b.src[o + 3]!);
    }
    if (isV4(b.dst, o)) dst[i] = b.dst[o + 3]!;
    else {
      af[i]! |= 2;
      dst6.push(b.dst[o]!, b.dst[o + 1]!, b.dst[o + 2]!, b.dst[o + 3]!);
    }
    dur[i] = b.end[i]! - b.start[i]!;
  }
  const ids = (c: Uint32Array): Column => (wideIds ? c.slice(0, n) : Uint16Array.from(c.subarray(0, n)));
  return [
    ['flags', flags, n], ['af', af, n], ['src', src, n], ['dst', dst, n],
    ['src6', Uint32Array.from(src6), src6.length], ['dst6', Uint32Array.from(dst6), dst6.length],
    ['proto', b.proto.slice(0, n), n], ['sport', b.sport.slice(0, n), n], ['dport', b.dport.slice(0, n), n],
    ['tcpFlags', b.tcpFlags.slice(0, n), n], ['start', b.start.slice(0, n), n], ['dur', dur, n],
    ['packets', counts(b.packets, n), n], ['bytes', counts(b.bytes, n), n],
    ['account', ids(b.account), n], ['region', ids(b.region), n], ['iface', ids(b.iface), n], ['instance', ids(b.instance), n],
  ];
}

function isV4(w: Uint32Array, o: number): boolean {
  return w[o] === 0 && w[o + 1] === 0 && w[o + 2] === V4_MAPPED;
}

/** u32 with a sentinel for unknown when every count fits, else the f64 values as they are. */
function counts(v: Float64Array, n: number): Column {
  const out = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    if (x !== x) out[i] = UNKNOWN_U32;
    else if (x >= 0 && x < UNKNOWN_U32 && Math.floor(x) === x) out[i] = x;
    else return v.slice(0, n);
  }
  return out;
}

/** Reusable expansion columns of one worker. */
export class RowScratch {
  private cap = 0;
  feed = new Uint8Array(0);
  cloud = new Uint8Array(0);
  action = new Uint8Array(0);
  direction = new Uint8Array(0);
  src = new Uint32Array(0);
  dst = new Uint32Array(0);
  end = new Uint32Array(0);
  packets = new Float64Array(0);
  bytes = new Float64Array(0);
  account = new Uint32Array(0);
  region = new Uint32Array(0);
  iface = new Uint32Array(0);
  instance = new Uint32Array(0);
  // filled by decodeRowsWhere only (decodeRows views these in the block)
  proto = new Uint8Array(0);
  sport = new Uint16Array(0);
  dport = new Uint16Array(0);
  tcpFlags = new Int16Array(0);
  start = new Uint32Array(0);
  private whole: FlowBatchData | null = null; // batch()'s, over the columns above

  ensure(n: number): void {
    if (n <= this.cap) return;
    const c = Math.max(n, this.cap * 2, 1024);
    this.cap = c;
    this.feed = new Uint8Array(c);
    this.cloud = new Uint8Array(c);
    this.action = new Uint8Array(c);
    this.direction = new Uint8Array(c);
    this.src = new Uint32Array(c * 4);
    this.dst = new Uint32Array(c * 4);
    this.end = new Uint32Array(c);
    this.packets = new Float64Array(c);
    this.bytes = new Float64Array(c);
    this.account = new Uint32Array(c);
    this.region = new Uint32Array(c);
    this.iface = new Uint32Array(c);
    this.instance = new Uint32Array(c);
    this.proto = new Uint8Array(c);
    this.sport = new Uint16Array(c);
    this.dport = new Uint16Array(c);
    this.tcpFlags = new Int16Array(c);
    this.start = new Uint32Array(c);
    this.whole = null;
  }

  /**
   * The scratch columns as one batch of n rows (decodeRowsWhere's), the same object until
   * the columns grow: a block's outbound rows are a few dozen, and eighteen views and a
   * batch made for each block cost more than the rows (replay, bench/RESULTS.md).
   */
  batch(n: number, strings: string[]): FlowBatchData {
    const b = (this.whole ??= {
      n: 0, feed: this.feed, src: this.src, dst: this.dst, proto: this.proto, sport: this.sport, dport: this.dport, tcpFlags: this.tcpFlags,
      packets: this.packets, bytes: this.bytes, start: this.start, end: this.end, cloud: this.cloud, action: this.action,
      direction: this.direction, account: this.account, region: this.region, iface: this.iface, instance: this.instance, feeds: ALL_FEEDS, strings,
    });
    b.n = n;
    b.strings = strings;
    return b;
  }
}

function need<T extends Column>(cols: Map<string, Column>, name: string, n: number, is: (c: Column) => c is T): T {
  const c = cols.get(name);
  if (!c || !is(c) || c.length !== n) throw new CorruptBlockError(`column '${name}' is missing or has the wrong type or length`);
  return c;
}
const isU8 = (c: Column): c is Uint8Array => c instanceof Uint8Array;
const isU16 = (c: Column): c is Uint16Array => c instanceof Uint16Array;
const isI16 = (c: Column): c is Int16Array => c instanceof Int16Array;
const isU32 = (c: Column): c is Uint32Array => c instanceof Uint32Array;
const isCount = (c: Column): c is Uint32Array | Float64Array => c instanceof Uint32Array || c instanceof Float64Array;
const isId = (c: Column): c is Uint16Array | Uint32Array => c instanceof Uint16Array || c instanceof Uint32Array;

/** A FlowBatchData for the n rows of a decoded block (valid until the next decode with the same scratch). */
export function decodeRows(cols: Map<string, Column>, n: number, dict: string[], s: RowScratch): FlowBatchData {
  s.ensure(n);
  const flags = need(cols, 'flags', n, isU8);
  for (let i = 0; i < n; i++) {
    const f = flags[i]!;
    s.feed[i] = f & 3;
    s.cloud[i] = (f >>> 2) & 3;
    s.action[i] = (f >>> 4) & 3;
    s.direction[i] = f >>> 6;
  }
  const af = need(cols, 'af', n, isU8);
  expandAddresses(af, 1, need(cols, 'src', n, isU32), cols.get('src6'), s.src, n);
  expandAddresses(af, 2, need(cols, 'dst', n, isU32), cols.get('dst6'), s.dst, n);
  const start = need(cols, 'start', n, isU32);
  const dur = need(cols, 'dur', n, isU32);
  for (let i = 0; i < n; i++) s.end[i] = start[i]! + dur[i]!;
  expandCounts(need(cols, 'packets', n, isCount), s.packets, n);
  expandCounts(need(cols, 'bytes', n, isCount), s.bytes, n);
  let maxId = 0;
  maxId = Math.max(maxId, expandIds(need(cols, 'account', n, isId), s.account, n));
  maxId = Math.max(maxId, expandIds(need(cols, 'region', n, isId), s.region, n));
  maxId = Math.max(maxId, expandIds(need(cols, 'iface', n, isId), s.iface, n));
  maxId = Math.max(maxId, expandIds(need(cols, 'instance', n, isId), s.instance, n));
  if (n > 0 && maxId >= dict.length) throw new CorruptBlockError(`dictionary id ${maxId} out of range (${dict.length} entries)`);
  return {
    n,
    feed: s.feed.subarray(0, n),
    src: s.src.subarray(0, n * 4),
    dst: s.dst.subarray(0, n * 4),
    proto: need(cols, 'proto', n, isU8),
    sport: need(cols, 'sport', n, isU16),
    dport: need(cols, 'dport', n, isU16),
    tcpFlags: need(cols, 'tcpFlags', n, isI16),
    packets: s.packets.subarray(0, n),
    bytes: s.bytes.subarray(0, n),
    start,
    end: s.end.subarray(0, n),
    cloud: s.cloud.subarray(0, n),
    action: s.action.subarray(0, n),
    direction: s.direction.subarray(0, n),
    account: s.account.subarray(0, n),
    region: s.region.subarray(0, n),
    iface: s.iface.subarray(0, n),
    instance: s.instance.subarray(0, n),
    feeds: ALL_FEEDS,
    strings: dict,
  };
}

function expandAddresses(af: Uint8Array, bit: number, v4: Uint32Array, v6: Column | undefined, out: Uint32Array, n: number): void {
  let k = 0;
  const six = v6 instanceof Uint32Array ? v6 : null;
  for (let i = 0; i < n; i++) {
    const o = i * 4;
    if ((af[i]! & bit) === 0) {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = V4_MAPPED;
      out[o + 3] = v4[i]!;
    } else {
      if (!six || k + 4 > six.length) throw new CorruptBlockError('IPv6 address column is too short');
      out[o] = six[k]!;
      out[o + 1] = six[k + 1]!;
      out[o + 2] = six[k + 2]!;
      out[o + 3] = six[k + 3]!;
      k += 4;
    }
  }
}

function expandCounts(c: Uint32Array | Float64Array, out: Float64Array, n: number): void {
  if (c instanceof Float64Array) {
    out.set(c.subarray(0, n));
    return;
  }
  for (let i = 0; i < n; i++) {
    const x = c[i]!;
    out[i] = x === UNKNOWN_U32 ? NaN : x;
  }
}

function expandIds(c: Uint16Array | Uint32Array, out: Uint32Array, n: number): number {
  let max = 0;
  for (let i = 0; i < n; i++) {
    const x = c[i]!;
    out[i] = x;
    if (x > max) max = x;
  }
  return max;
}

/**
 * A decoded block's rows in the block's own columns (views into the decompressed buffer,
 * nothing expanded): the inbound table reads them directly (ScanTable.addRows), so a
 * replayed row is never written out as a 83-byte batch row. IPv6 addresses are in
 * src6/dst6, four words each, in the order of the rows whose `af` bit says so.
 */
export interface BlockRows {
  n: number;
  flags: Uint8Array; // feed | cloud << 2 | action << 4 | direction << 6
  af: Uint8Array; // bit 0: src is IPv6, bit 1: dst is IPv6
  src: Uint32Array;
  dst: Uint32Array;
  src6: Uint32Array;
  dst6: Uint32Array;
  proto: Uint8Array;
  dport: Uint16Array;
  start: Uint32Array;
  dur: Uint32Array;
  packets: Uint32Array | Float64Array; // u32: 0xffffffff = unknown; f64: NaN = unknown
  bytes: Uint32Array | Float64Array;
  account: Uint16Array | Uint32Array;
  region: Uint16Array | Uint32Array;
  strings: string[];
  /** Entry rows (entry-rows.ts): the records each row stands for; null in a rows block (one each). */
  flows: Uint32Array | null;
  /**
   * Entry rows that hold all of their bucket's records in the run (replay input.ts, "small keys"):
   * keys of fewer rows than this cannot reach the finalisation's min_endpoints, and are counted
   * (smallKeys, smallEntries) instead of added. 0: every row is added.
   */
  smallBelow: number;
  smallKeys: number;
  smallEntries: number;
}

/**
 * The loops blockRows runs over every row, kept in small functions of their own: as part of
 * blockRows they made it the costliest function of a replay run to optimise (some 45 ms of
 * compiler time each time, measured with --trace-opt). Each reads its columns once: the IPv6
 * rows of both addresses counted in one pass over `af` (into v6Counts), and the largest id of
 * the four id columns found in one pass (maxId4), instead of a pass a column (checks 3.4 ->
 * 2.6 ns a row; bench/RESULTS.md, replay section of session 9).
 */
const v6Counts = new Int32Array(2);

function countV6(af: Uint8Array, n: number): void {
  let s = 0;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const a = af[i]!;
    s += a & 1;
    d += (a >>> 1) & 1;
  }
  v6Counts[0] = s;
  v6Counts[1] = d;
}

/** The largest id of four id columns (one pass over the rows, not a pass a column). */
function maxId4(a: Uint16Array | Uint32Array, b: Uint16Array | Uint32Array, c: Uint16Array | Uint32Array, d: Uint16Array | Uint32Array, n: number): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, a[i]!, b[i]!, c[i]!, d[i]!);
  return m;
}

/**
 * The columns blockRows checks, in one table walked by one loop: the same checks written out
 * one call each made blockRows the costliest function of a replay run to compile (some 50 ms
 * of compiler time each time it was optimised, and it runs once a block).
 */
const BLOCK_COLUMNS: ReadonlyArray<readonly [string, (c: Column) => boolean]> = [
  ['flags', isU8], ['af', isU8], ['src', isU32], ['dst', isU32], ['proto', isU8], ['dport', isU16], ['start', isU32], ['dur', isU32],
  ['packets', isCount], ['bytes', isCount], ['account', isId], ['region', isId], ['iface', isId], ['instance', isId],
  ['sport', isU16], ['tcpFlags', isI16], // only the batch form needs these: checked too, a block is whole or corrupt
];

/** The largest dictionary id of the four id columns, and the IPv6 rows of both addresses into v6Counts. */
function blockIds(af: Uint8Array, a: Uint16Array | Uint32Array, b: Uint16Array | Uint32Array, c: Uint16Array | Uint32Array, d: Uint16Array | Uint32Array, n: number): number {
  // by the replay module where the block was decoded into its memory (one compile a process, not a worker)
  const lz4 = lz4Wasm();
  const maxId = lz4 === null ? -1 : lz4.blockIds(n, af, a, b, c, d, v6Counts);
  if (maxId >= 0) return maxId;
  countV6(af, n);
  return maxId4(a, b, c, d, n);
}

/** The rows of a decoded block as BlockRows, checked as decodeRows checks them. */
export function blockRows(cols: Map<string, Column>, n: number, dict: string[]): BlockRows {
  // an index loop, no destructuring of the table's pairs (the iterator protocol a column made
  // blockRows the second-largest TurboFan compile of a replay run; issue 19, replayv8)
  const c: Column[] = new Array<Column>(BLOCK_COLUMNS.length);
  for (let k = 0; k < BLOCK_COLUMNS.length; k++) {
    const col = BLOCK_COLUMNS[k]!;
    c[k] = need(cols, col[0], n, col[1] as (x: Column) => x is Column);
  }
  const af = c[1] as Uint8Array;
  const maxId = blockIds(af, c[10] as Uint16Array | Uint32Array, c[11] as Uint16Array | Uint32Array, c[12] as Uint16Array | Uint32Array, c[13] as Uint16Array | Uint32Array, n);
  const v6s = v6Counts[0]!;
  const v6d = v6Counts[1]!;
  const src6 = cols.get('src6');
  const dst6 = cols.get('dst6');
  if ((v6s > 0 && (!(src6 instanceof Uint32Array) || src6.length < v6s * 4)) || (v6d > 0 && (!(dst6 instanceof Uint32Array) || dst6.length < v6d * 4))) {
    throw new CorruptBlockError('IPv6 address column is too short');
  }
  if (n > 0 && maxId >= dict.length) throw new CorruptBlockError(`dictionary id ${maxId} out of range (${dict.length} entries)`);
  return {
    n,
    flags: c[0] as Uint8Array,
    af,
    src: c[2] as Uint32Array,
    dst: c[3] as Uint32Array,
    src6: src6 instanceof Uint32Array ? src6 : new Uint32Array(0),
    dst6: dst6 instanceof Uint32Array ? dst6 : new Uint32Array(0),
    proto: c[4] as Uint8Array,
    dport: c[5] as Uint16Array,
    start: c[6] as Uint32Array,
    dur: c[7] as Uint32Array,
    packets: c[8] as Uint32Array | Float64Array,
    bytes: c[9] as Uint32Array | Float64Array,
    account: c[10] as Uint16Array | Uint32Array,
    region: c[11] as Uint16Array | Uint32Array,
    strings: dict,
    flows: null,
    smallBelow: 0,
    smallKeys: 0,
    smallEntries: 0,
  };
}

/**
 * The rows of a block whose feed has `feedBit`, expanded into a FlowBatchData over
 * `s` (the outbound table's share of a replayed block: a few percent of its rows). The
 * batch's columns are s's, longer than its n rows, and it is s's one batch: valid until
 * the next call with s.
 */
export function decodeRowsWhere(cols: Map<string, Column>, r: BlockRows, feedBit: number, s: RowScratch): FlowBatchData {
  const m = rowsWhere(r.flags, r.af, r.n, feedBit);
  // a block without such rows (most blocks have no outbound row): no second pass, no views
  if (m === 0) return NO_ROWS;
  return expandSelected(cols, r, m, s);
}

/** The m rows selectRows found, expanded as decodeRowsWhere expands them (the same batch over s). */
export function expandSelected(cols: Map<string, Column>, r: BlockRows, m: number, s: RowScratch): FlowBatchData {
  s.ensure(m);
  for (let j = 0; j < m; j += EXPAND_RUN) expandRows(cols, r, j, Math.min(m, j + EXPAND_RUN), s);
  return s.batch(m, r.strings);
}

/**
 * The rows whose flags have feedBit: their row numbers, and the IPv6 addresses before each in
 * src6 and dst6, into whereScratch; how many. A pass of its own over every row, so that the
 * expanding loop runs over those rows only: a few percent of a block, and V8 compiles it once,
 * where one loop over every row was compiled twice in each worker, the first time while it ran
 * (issue 19, replayv8). Stops once it has found atMost (selectRows).
 */
function rowsWhere(flags: Uint8Array, af: Uint8Array, n: number, feedBit: number, atMost = n): number {
  let z = whereScratch;
  if (z.row.length < n) z = whereScratch = { row: new Int32Array(n), ks: new Int32Array(n), kd: new Int32Array(n) };
  const { row, ks, kd } = z;
  let m = 0;
  let s6 = 0;
  let d6 = 0;
  for (let i = 0; i < n && m < atMost; i++) {
    const a = af[i]!;
    if (flags[i]! & feedBit) {
      row[m] = i;
      ks[m] = s6;
      kd[m] = d6;
      m++;
    }
    s6 += a & 1;
    d6 += (a >>> 1) & 1;
  }
  return m;
}

/**
 * The rows of a block whose flags have feedBit, found by rowsWhere: how many, and their row
 * numbers and IPv6 places (valid until the next call), for a reader of the block's own columns
 * (the outbound table's addBlockRows). `atMost`: how many the block holds, where the caller
 * knows (a twin's outbound rows: its index counts them, and the twin's checks held): the pass
 * stops at the last of them. A replay file's rows are sorted by source, and the bench file's
 * outbound rows lie in the first 28 % of their blocks on average.
 */
export function selectRows(r: BlockRows, feedBit: number, atMost = r.n): number {
  return rowsWhere(r.flags, r.af, r.n, feedBit, atMost);
}

/** selectRows' rows: row[j], and ks[j] / kd[j], the IPv6 addresses before row[j] in src6 / dst6. */
export function selectedRows(): Readonly<typeof whereScratch> {
  return whereScratch;
}

/** A block's columns that BlockRows leaves out and the outbound table reads. */
export interface OutboundColumns {
  sport: Uint16Array;
  iface: Uint16Array | Uint32Array;
  instance: Uint16Array | Uint32Array;
}

export function outboundColumns(cols: Map<string, Column>): OutboundColumns {
  return { sport: cols.get('sport') as Uint16Array, iface: cols.get('iface') as Uint16Array | Uint32Array, instance: cols.get('instance') as Uint16Array | Uint32Array };
}

/** rowsWhere's: row numbers, and the IPv6 addresses before each row in src6 / dst6. */
let whereScratch = { row: new Int32Array(0), ks: new Int32Array(0), kd: new Int32Array(0) };

/**
 * Rows expanded by one call of expandRows: short calls, so that V8 compiles it once as any hot
 * function, not first while it runs (on-stack replacement) on a block of many such rows.
 */
const EXPAND_RUN = 128;

/** The rows [from, to) of those rowsWhere found, expanded into s's columns. */
function expandRows(cols: Map<string, Column>, r: BlockRows, from: number, to: number, s: RowScratch): void {
  const sport = cols.get('sport') as Uint16Array;
  const tcpFlags = cols.get('tcpFlags') as Int16Array;
  const iface = cols.get('iface') as Uint16Array | Uint32Array;
  const instance = cols.get('instance') as Uint16Array | Uint32Array;
  const { flags, af, src, dst, src6, dst6, proto, dport, start, dur, packets, bytes, account, region } = r;
  const { row, ks, kd } = whereScratch;
  for (let j = from; j < to; j++) {
    const i = row[j]!;
    const f = flags[i]!;
    const a = af[i]!;
    s.feed[j] = f & 3;
    s.cloud[j] = (f >>> 2) & 3;
    s.action[j] = (f >>> 4) & 3;
    s.direction[j] = f >>> 6;
    putAddress(s.src, j * 4, (a & 1) !== 0, src[i]!, src6, ks[j]! * 4);
    putAddress(s.dst, j * 4, (a & 2) !== 0, dst[i]!, dst6, kd[j]! * 4);
    s.proto[j] = proto[i]!;
    s.sport[j] = sport[i]!;
    s.dport[j] = dport[i]!;
    s.tcpFlags[j] = tcpFlags[i]!;
    s.start[j] = start[i]!;
    s.end[j] = start[i]! + dur[i]!;
    s.packets[j] = countAt(packets, i);
    s.bytes[j] = countAt(bytes, i);
    s.account[j] = account[i]!;
    s.region[j] = region[i]!;
    s.iface[j] = iface[i]!;
    s.instance[j] = instance[i]!;
  }
}

/** The empty batch decodeRowsWhere returns for a block without the rows asked (read-only: n is 0). */
export const NO_ROWS: FlowBatchData = allocBatch(0);

/** An address as four words at out[o]: IPv6 from v6 at k, else the IPv4 v4 mapped (::ffff:v4). */
export function putAddress(out: Uint32Array, o: number, six: boolean, v4: number, v6: Uint32Array, k: number): void {
  if (six) {
    out[o] = v6[k]!;
    out[o + 1] = v6[k + 1]!;
    out[o + 2] = v6[k + 2]!;
    out[o + 3] = v6[k + 3]!;
  } else {
    out[o] = 0;
    out[o + 1] = 0;
    out[o + 2] = V4_MAPPED;
    out[o + 3] = v4;
  }
}

/** A count of a block column (u32 with the unknown sentinel, or f64) as f64, NaN = unknown. */
export function countAt(c: Uint32Array | Float64Array, i: number): number {
  const x = c[i]!;
  return c instanceof Uint32Array && x === UNKNOWN_U32 ? NaN : x;
}
