/**
 * FlowSink: where a reader puts each record it parses. The reader fills the fields of
 * `rec` (a reused object: nothing is allocated per record) and calls emit(). The sink
 * validates, classifies the record for the detectors (detection.md §3 inbound, §4 outbound),
 * hashes the source address and appends the record to the batch of the shard that owns
 * it. Full batches go to `flush`, which the parse worker posts to the main thread.
 */
import { allocBatch, batchOfColumns, shareTable, type FlowBatchData } from './batch.js';
import { releaseBatch } from './batch-ring.js';
import { ByteDict } from './dict.js';
import { Action, Direction, Feed } from './types.js';
import { HomeNet } from '../net/home-net.js';
import { hashAddress, partitionOf, shardOf } from './hash.js';

/** A dictionary id not looked up yet (see FlowSink.lazy). */
export const LAZY = -1;

/** Resolves a record's LAZY ids, in the reader's dictionary, while its bytes are at hand. */
export interface LazyIds {
  iface(): number;
  instance(): number;
}

export class FlowRecord {
  readonly src = new Uint32Array(4);
  readonly dst = new Uint32Array(4);
  sport = 0;
  dport = 0;
  proto = 0;
  tcpFlags = -1;
  packets = NaN;
  bytes = NaN;
  start = 0;
  end = 0;
  cloud = 0;
  action: number = Action.unknown;
  direction: number = Direction.unknown;
  account = 0; // ids in the sink's dictionary
  region = 0;
  iface = 0;
  instance = 0;

  /**
   * The fields a reader's line may leave out, set to what leaving them out means
   * (unknown counts, flags, action and direction; no interface or instance) and the
   * reader's cloud, account and region ids.
   */
  clearOptional(cloud: number, account: number, region: number): void {
    this.packets = NaN;
    this.bytes = NaN;
    this.tcpFlags = -1;
    this.action = Action.unknown;
    this.direction = Direction.unknown;
    this.cloud = cloud;
    this.account = account;
    this.region = region;
    this.iface = 0;
    this.instance = 0;
  }
}

/**
 * The batch columns of records a reader classified and routed itself (the WebAssembly
 * readers, formats/wasm-route.ts): one area a lane (FlowSink.lanes: a shard's, and its
 * outbound records' where they go apart), each column in its batch
 * column's type (batch.ts), src and dst four words a record, the string ids as the sink's
 * dictionary ids (0: none). The sink copies them into the shard's batch a run at a time,
 * whole columns (FlowSink.copyRouted), the ids as they are where the batch takes the
 * dictionary's ids (SinkOptions.dictionaryIds), else turned into the batch's own in one loop.
 */
export interface RoutedColumns {
  src: Uint32Array[];
  dst: Uint32Array[];
  packets: Float64Array[];
  bytes: Float64Array[];
  start: Uint32Array[];
  end: Uint32Array[];
  sport: Uint16Array[];
  dport: Uint16Array[];
  tcpFlags: Int16Array[];
  feed: Uint8Array[];
  proto: Uint8Array[];
  action: Uint8Array[];
  direction: Uint8Array[];
  /** string ids in the sink's dictionary: the reader's module writes them, or appendRoutedIds */
  account: Int32Array[];
  region: Int32Array[];
  iface: Int32Array[];
  instance: Int32Array[];
  /** the slot after the last row each area holds (written by the module) */
  counts: Uint32Array;
  /** the slot of each area's first row (FlowSink.areaStart, when the reader's read began) */
  starts: Uint32Array;
  /**
   * Per shard, the rows of its area that come before the next record the sink is handed
   * otherwise (emit, appendRouted): the reader keeps it current (appendRoutedIds,
   * routedUpTo) so that a shard's batch keeps the reader's order.
   */
  ends: Int32Array;
  /** the cloud of every record */
  cloud: number;
  /**
   * The most rows one read routes to an area, where an area holds several reads' (one shard:
   * formats/wasm-route.ts keptReads), else 0. A sink that adds routed rows where they lie
   * (SinkOptions.addRouted) then keeps them across reads and adds them in long runs.
   */
  readRows: number;
}

export interface Reject {
  line: number; // 1-based line in the chunk (the main thread adds the chunk's first line), 0 when not line-based
  offset: number; // byte offset in the (decompressed) file, -1 when unknown
  reason: string;
  text: string; // the start of the offending input, for the rejects file
}

/**
 * What became of the input. For line formats every physical line has exactly one fate,
 * so that detection.md §6 ("never more or fewer records than it read") can be checked per file:
 *   lines = records + nodata + rejected + duplicates + blank + headers + trailers
 * (see accountingGap()). The other counters break `records` down further.
 */
export interface SinkCounters {
  lines: number; // physical lines (or JSON objects) seen
  records: number; // flow records accepted (detection.md §2)
  nodata: number; // records that carry no flow (NODATA / SKIPDATA / empty tuples)
  rejected: number; // lines or objects that could not be parsed
  blank: number; // empty or whitespace-only lines
  headers: number; // header lines (AWS field names, nfdump CSV column names)
  trailers: number; // lines after the records that are not records (nfdump's Summary block)
  inbound: number; // records fed to inbound detection
  outbound: number; // records fed to outbound detection (and to internal-scan detection: both ends not public)
  internal: number; // fed to no detector: public to public, or private to public against the direction the format writes
  responses: number; // srcport < 1024 <= dstport
  backscatter: number; // TCP flags exactly SYN-ACK, RST or SYN-ACK|RST
  otherPartition: number; // belongs to another partition (--partition p/P)
  duplicates: number; // a flow reported from both ends, counted once (GCP)
  late: number; // inbound/outbound records of a window already finalised (serve), not accumulated
  outsideRange: number; // records starting outside --from/--to, not accumulated
  blankRegion: number; // records (in range) whose region neither the record, the path nor --region gave
}

export function newCounters(): SinkCounters {
  return {
    lines: 0, records: 0, nodata: 0, rejected: 0, blank: 0, headers: 0, trailers: 0, inbound: 0, outbound: 0, internal: 0,
    responses: 0, backscatter: 0, otherPartition: 0, duplicates: 0, late: 0, outsideRange: 0, blankRegion: 0,
  };
}

export function addCounters(into: SinkCounters, from: SinkCounters): void {
  for (const k of Object.keys(into) as (keyof SinkCounters)[]) into[k] += from[k];
}

/**
 * Lines whose fate is not counted (0 when the accounting is exact). Positive: lines were
 * dropped silently; negative: more outcomes than lines (a record counted twice).
 */
export function accountingGap(c: SinkCounters): number {
  return c.lines - (c.records + c.nodata + c.rejected + c.duplicates + c.blank + c.headers + c.trailers);
}

/** Where a line reader's input stops being its format (see FlowSink.formatProbe). */
export interface FormatChange {
  line: number; // 1-based within the chunk
  offset: number;
  looksLike: string; // what the line looks like instead ('goflow2', 'JSON', ...)
}

export interface SinkOptions {
  shards: number;
  batchSize: number;
  partition?: { index: number; count: number };
  maxRejectsKept: number;
  /**
   * Records starting before this Unix second belong to windows that are already
   * finalised (the sidecar's incremental windows): they are counted as late, per
   * window, and not accumulated. 0 (the default) = nothing is late.
   */
  lateBefore?: number;
  windowSeconds?: number; // to name the window of a late record
  /** --from/--to: records starting before `from` or at/after `to` (Unix seconds) are counted as outsideRange only. */
  timeRange?: { from: number; to: number };
  /**
   * Records ending after this Unix second are rejected as stamped in the future (the
   * wall clock plus --max-future, or the file's own time plus a day: src/input/file-time.ts).
   * One such record would otherwise move the sidecar's watermark past every real one.
   * 0 (the default) = no bound.
   */
  notAfter?: number;
  /**
   * Where batches come from (default: a fresh ArrayBuffer each). The engine's parse threads
   * take them from a shared ring (batch-ring.ts).
   */
  alloc?: (capacity: number) => FlowBatchData | null;
  /**
   * Where a reader's routed runs go when they need not travel (a shard thread that parses its
   * own tasks: workers/shard.ts 'fusedParseHere'), for areas that hold several reads' rows
   * (RoutedColumns.readRows): the rows are kept there across reads and handed over as a batch
   * over the area, its ids the sink's dictionary ids (`strings` is that dictionary), instead
   * of copied into the shard's batch. Records appended otherwise still come in batches
   * (`flush`); a shard's kept rows are handed over before such a record and its batch before
   * a run, so the tables take the records in the order a batch would hold them.
   */
  addRouted?: (shard: number, rows: FlowBatchData) => void;
  /**
   * Records of each shard's first batch (default 1024; batches then grow fourfold to
   * batchSize): small first batches keep a small file's fresh batch memory small. Batches
   * from reused memory (the ring's slots) can start at full size: fewer, larger batches.
   */
  firstBatch?: number;
  /** --home-net CIDRs: addresses inside count as not public (detection.md §3 "Home networks"). */
  homeNet?: readonly string[];
  /**
   * Outbound records in batches of their own (a second lane a shard: FlowSink.lanes): a
   * shard's inbound table then reads batches with no outbound record, and its outbound table
   * dense ones with no inbound record, a string table of their own (their interfaces and
   * instances) and one new to it a batch of 16,384 outbound records, not of ~1,200. Not where
   * the batches' order is written out (convert's replay files). Up to MAX_APART_SHARDS shards.
   */
  outboundApart?: boolean;
  /**
   * Batches whose string ids are the sink's dictionary ids, each carrying the dictionary (its
   * strings so far) as its table, while it holds at most DICTIONARY_IDS_CAP strings: no id is
   * mapped to a batch's own a record (copyIds), and a lane's strings met again are not
   * interned again batch after batch. Not where the batches' tables are written out (convert's
   * replay files hold the strings its batches carry).
   */
  dictionaryIds?: boolean;
}

/**
 * The most strings of a dictionary that batches carry whole (SinkOptions.dictionaryIds): past
 * it a sink maps its ids to each batch's own again, so that hostile input (a new interface
 * a line) does not send its whole dictionary with every batch. The shard's held module maps
 * a table of up to 4096 strings (engine/scan-wasm.ts HOLD_MAP_CAP): no larger.
 */
export const DICTIONARY_IDS_CAP = 4096;

/**
 * Shards whose outbound records can go apart (SinkOptions.outboundApart): a module's routing
 * block holds 64 areas (formats/wasm-route.ts MAX_AREA_SHARDS), one a lane.
 */
export const MAX_APART_SHARDS = 32;

/** The batches a sink of `shards` shards fills at once (FlowSink.lanes): twice the shards where outbound records go apart. */
export function sinkLanes(shards: number, outboundApart: boolean | undefined): number {
  return outboundApart === true && shards <= MAX_APART_SHARDS ? 2 * shards : shards;
}

const MAX_REJECT_TEXT = 200;
/**
 * Runs of routed records up to this long are copied element by element: a small file's
 * run is a few records, for which the 13 subarrays that `set` needs cost more than the
 * copy (and are garbage).
 */
const SMALL_RUN = 32;

/**
 * The batch's ids of up to n routed rows from `from` (dictionary ids, the shard's area) into
 * b's id columns from `to`, as long as every id of a row is in the batch already (`remap`);
 * returns the rows copied, stopping at the first row with an id new to the batch (the sink
 * interns it: FlowSink.copyIds). A loop with no call and no store but the four columns':
 * past a batch's first rows nearly every routed row is copied here, where the row by row loop
 * called the interning's check four times a row (the reader's pass 2-3 % less CPU on the 51 MB
 * text file, warm; copyIds no longer compiled a second time on-stack-replaced, as in 2 of 8
 * runs before: bench/RESULTS.md, session 19 textwall).
 */
function copyKnownIds(remap: Int32Array, account: Int32Array, region: Int32Array, iface: Int32Array, instance: Int32Array, from: number, b: FlowBatchData, to: number, n: number): number {
  const bAccount = b.account;
  const bRegion = b.region;
  const bIface = b.iface;
  const bInstance = b.instance;
  let k = 0;
  for (let f = from, t = to; k < n; k++, f++, t++) {
    const a = remap[account[f]!]!;
    const g = remap[region[f]!]!;
    const i = remap[iface[f]!]!;
    const s = remap[instance[f]!]!;
    if ((a | g | i | s) < 0) break;
    bAccount[t] = a;
    bRegion[t] = g;
    bIface[t] = i;
    bInstance[t] = s;
  }
  return k;
}

/**
 * copyKnownIds for a lane of inbound records alone (FlowSink.inboundLane): the account and
 * region ids; the interface and instance ids are not the inbound table's (FlowBatchData).
 */
function copyKnownInboundIds(remap: Int32Array, account: Int32Array, region: Int32Array, from: number, b: FlowBatchData, to: number, n: number): number {
  const bAccount = b.account;
  const bRegion = b.region;
  let k = 0;
  for (let f = from, t = to; k < n; k++, f++, t++) {
    const a = remap[account[f]!]!;
    const g = remap[region[f]!]!;
    if ((a | g) < 0) break;
    bAccount[t] = a;
    bRegion[t] = g;
  }
  return k;
}

/**
 * copyIds for a lane whose batch takes the dictionary's ids (SinkOptions.dictionaryIds): the
 * routed rows' id columns copied as they are (an inbound lane's account and region only).
 */
function copyDictionaryIds(c: RoutedColumns, lane: number, from: number, b: FlowBatchData, n: number, inbound: boolean): void {
  const at = b.n;
  if (n <= SMALL_RUN) {
    const account = c.account[lane]!;
    const region = c.region[lane]!;
    const iface = c.iface[lane]!;
    const instance = c.instance[lane]!;
    for (let k = 0; k < n; k++) {
      b.account[at + k] = account[from + k]!;
      b.region[at + k] = region[from + k]!;
    }
    if (inbound) return;
    for (let k = 0; k < n; k++) {
      b.iface[at + k] = iface[from + k]!;
      b.instance[at + k] = instance[from + k]!;
    }
    return;
  }
  // the ids as unsigned words: `set` between arrays of one type is a plain copy
  b.account.set(unsignedIds(c.account[lane]!, from, n), at);
  b.region.set(unsignedIds(c.region[lane]!, from, n), at);
  if (inbound) return;
  b.iface.set(unsignedIds(c.iface[lane]!, from, n), at);
  b.instance.set(unsignedIds(c.instance[lane]!, from, n), at);
}

/** n routed ids from `from` as unsigned words (a view of the same memory): the batch's id columns' type. */
function unsignedIds(a: Int32Array, from: number, n: number): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset + from * 4, n);
}

/** copyRun's copy of a short run: n records from `from` in lane's routed area to `at` in b (`inbound`: FlowSink.inboundLane). */
function copySmallRun(c: RoutedColumns, lane: number, from: number, b: FlowBatchData, at: number, n: number, inbound: boolean): void {
  const src = c.src[lane]!;
  const dst = c.dst[lane]!;
  for (let w = 0; w < 4 * n; w++) {
    b.src[at * 4 + w] = src[from * 4 + w]!;
    b.dst[at * 4 + w] = dst[from * 4 + w]!;
  }
  const packets = c.packets[lane]!;
  const bytes = c.bytes[lane]!;
  const start = c.start[lane]!;
  const end = c.end[lane]!;
  const sport = c.sport[lane]!;
  const dport = c.dport[lane]!;
  const tcpFlags = c.tcpFlags[lane]!;
  const feed = c.feed[lane]!;
  const proto = c.proto[lane]!;
  const action = c.action[lane]!;
  const direction = c.direction[lane]!;
  for (let k = 0; k < n; k++) {
    const f = from + k;
    const t = at + k;
    b.packets[t] = packets[f]!;
    b.bytes[t] = bytes[f]!;
    b.start[t] = start[f]!;
    b.end[t] = end[f]!;
    b.dport[t] = dport[f]!;
    b.feed[t] = feed[f]!;
    b.proto[t] = proto[f]!;
    b.cloud[t] = c.cloud;
  }
  if (inbound) return;
  for (let k = 0; k < n; k++) {
    const f = from + k;
    const t = at + k;
    b.sport[t] = sport[f]!;
    b.tcpFlags[t] = tcpFlags[f]!;
    b.action[t] = action[f]!;
    b.direction[t] = direction[f]!;
  }
}
const FIRST_BATCH = 1024;
const decoder = new TextDecoder('utf-8', { fatal: false });

export class FlowSink {
  readonly rec = new FlowRecord();
  /** Set by a reader that leaves interface and instance ids LAZY. */
  lazy: LazyIds | null = null;
  readonly dict = new ByteDict();
  /** Replaced by takeCounters only: a reader reads it again at each call. */
  counters = newCounters();
  readonly rejects: Reject[] = [];
  /**
   * Optional: told the bytes of a rejected line, names the format the line looks like when
   * that is not the format being read (a file that changes format half-way), else null.
   * Only the first 8 rejects and then every 2^k-th are probed (until a change is found), so
   * a file of bad lines costs little extra and a change after many bad lines is still seen.
   */
  formatProbe: ((buf: Uint8Array, s: number, e: number) => string | null) | null = null;
  /** The first line that looked like another format, when formatProbe found one. */
  formatChange: FormatChange | null = null;
  private readonly builders: FlowBatchData[];
  /**
   * Per lane, 1 where its batch's ids are the dictionary's (SinkOptions.dictionaryIds): then
   * `remaps` and `touched` are not used for it, and its table is the dictionary's at flush.
   */
  private readonly dictionaryLanes: Uint8Array;
  /** Whether new batches take the dictionary's ids: until the dictionary passes DICTIONARY_IDS_CAP. */
  private dictionaryIds: boolean;
  /** The dictionary's strings as last handed with a batch: a new array when it grew (the tables map a table once). */
  private dictionaryTable: string[] = [''];
  private readonly remaps: Int32Array[];
  private readonly touched: number[][];
  batchesPosted = 0;
  /** Time span of the valid flow records seen (the sidecar's watermark); not counters. */
  minStart = Infinity;
  maxEnd = -Infinity;
  /** Late records by window (rare: a Map is fine). */
  readonly lateByWindow = new Map<number, number>();
  private readonly lateBefore: number;
  readonly rangeFrom: number;
  readonly rangeTo: number;
  /** Records ending after this Unix second are rejected; set per file in a 'files' task. */
  notAfter: number;
  private readonly home: HomeNet;
  /** The routed columns being taken (beginRouted), and per shard the rows of its area copied so far. */
  private routed: RoutedColumns | null = null;
  private readonly copied: Int32Array;
  /**
   * The options the per-record code reads, copied out of `opts`: the options objects that
   * callers build (spreads, literals with fields set or left out) come in several maps,
   * and `this.opts.x` in emit, routable and newBatch deoptimised them ("wrong map") at
   * every new one (`node --trace-deopt-verbose`); the sink's own fields keep one map.
   */
  private readonly partition: { index: number; count: number } | null;
  private readonly shardCount: number;
  /** The lanes (lanes): a shard's (inbound) batch at its number, its outbound batch at shardCount + its number where they go apart. */
  private readonly laneCount: number;
  private readonly batchSize: number;
  private readonly alloc: ((capacity: number) => FlowBatchData | null) | null;
  private readonly addRouted: ((shard: number, rows: FlowBatchData) => void) | null;
  /** The dictionary's strings when last handed with a run (addRoutedRun): a new array when it grew, as the tables map a table once. */
  private routedStrings: string[] = [''];
  /** A routed run's cloud column (the areas have one cloud for all rows). */
  private routedCloud = new Uint8Array(0);
  /** addRouted's areas whose rows are kept across reads, and per shard the rows kept there, [keptFrom, keptEnd). */
  private kept: RoutedColumns | null = null;
  private readonly keptFrom: Int32Array;
  private readonly keptEnd: Int32Array;

  constructor(
    private readonly opts: SinkOptions,
    private readonly flush: (shard: number, batch: FlowBatchData) => void,
  ) {
    this.partition = opts.partition ?? null;
    this.shardCount = opts.shards;
    this.laneCount = sinkLanes(opts.shards, opts.outboundApart);
    this.batchSize = opts.batchSize;
    this.alloc = opts.alloc ?? null;
    this.addRouted = opts.addRouted ?? null;
    this.lateBefore = opts.lateBefore ?? 0;
    this.rangeFrom = opts.timeRange?.from ?? 0;
    this.rangeTo = opts.timeRange?.to ?? 2 ** 32;
    this.notAfter = opts.notAfter || Infinity;
    this.home = new HomeNet(opts.homeNet ?? []);
    this.builders = [];
    this.remaps = [];
    this.touched = [];
    const lanes = this.laneCount;
    this.dictionaryIds = opts.dictionaryIds === true;
    this.dictionaryLanes = new Uint8Array(lanes).fill(this.dictionaryIds ? 1 : 0);
    this.copied = new Int32Array(lanes);
    this.keptFrom = new Int32Array(lanes);
    this.keptEnd = new Int32Array(lanes);
    for (let s = 0; s < lanes; s++) {
      this.builders.push(this.newBatch(Math.min(opts.batchSize, opts.firstBatch ?? FIRST_BATCH), s));
      const remap = new Int32Array(128).fill(-1);
      remap[0] = 0; // the empty string: 0 in every batch (copyIds reads it as any other id)
      this.remaps.push(remap);
      this.touched.push([]);
      // grown to its first size through remapFor's growing path, so that the path has type
      // feedback: copyIds and localId inline remapFor, and the first batch to meet more
      // strings than a remap held deoptimised them there (the bucket, v2 text, tiny files)
      this.remapFor(s, 256);
    }
  }

  /**
   * The counts so far, handed over, and new counters from zero: a 'files' task's result per
   * file (workers/parse.ts). Adding them into the file's result and zeroing them field by
   * field took ~0.5 us a file (generic keyed loads and stores); this takes ~0.02.
   */
  takeCounters(): SinkCounters {
    const c = this.counters;
    this.counters = newCounters();
    return c;
  }

  /** A line or object that could not be parsed. */
  reject(line: number, offset: number, reason: string, buf?: Uint8Array, s = 0, e = 0): void {
    const n = ++this.counters.rejected;
    if (buf && this.formatProbe && this.formatChange === null && (n <= 8 || (n & (n - 1)) === 0)) {
      const other = this.formatProbe(buf, s, e);
      if (other) {
        reason = `${reason} (the line looks like ${other}: the file changes format here)`;
        this.formatChange ??= { line, offset, looksLike: other };
      }
    }
    if (this.rejects.length < this.opts.maxRejectsKept) {
      const text = buf ? decoder.decode(buf.subarray(s, Math.min(e, s + MAX_REJECT_TEXT))) : '';
      this.rejects.push({ line, offset, reason, text });
    }
  }

  rejectText(line: number, offset: number, reason: string, text: string): void {
    this.counters.rejected++;
    if (this.rejects.length < this.opts.maxRejectsKept) {
      this.rejects.push({ line, offset, reason, text: text.slice(0, MAX_REJECT_TEXT) });
    }
  }

  /** A line longer than --max-line-bytes: counted as a line and a reject, never buffered. */
  lineTooLong(line: number, offset: number): void {
    this.counters.lines++;
    this.rejectText(line, offset, 'line too long', '');
  }

  /** The input ended inside this line (a truncated compressed file): a reject, not a record. */
  truncatedLine(line: number, offset: number): void {
    this.counters.lines++;
    this.rejectText(line, offset, 'input ends inside this line (truncated file)', '');
  }

  noData(): void {
    this.counters.nodata++;
  }

  /**
   * Validate, classify and route the record in `rec`. Returns false (and counts a
   * reject) when a field is out of range.
   */
  emit(line: number, offset: number): boolean {
    const r = this.rec;
    const c = this.counters;
    if (!(r.sport >= 0 && r.sport <= 65535 && r.dport >= 0 && r.dport <= 65535)) {
      this.rejectText(line, offset, 'port out of range 0..65535', `${r.sport} ${r.dport}`);
      return false;
    }
    if (!(r.proto >= 0 && r.proto <= 255)) {
      this.rejectText(line, offset, 'protocol out of range 0..255', String(r.proto));
      return false;
    }
    if (!(r.start >= 0 && r.start < 4294967296 && r.end >= 0 && r.end < 4294967296)) {
      this.rejectText(line, offset, 'timestamp out of range (expected Unix seconds)', `${r.start} ${r.end}`);
      return false;
    }
    if (r.end > this.notAfter) {
      this.rejectText(line, offset, `timestamp in the future (ends after ${new Date(this.notAfter * 1000).toISOString()}: see --max-future)`, `${r.start} ${r.end}`);
      return false;
    }
    if (r.end < r.start) {
      this.rejectText(line, offset, 'end time before start time', `${r.start} ${r.end}`);
      return false;
    }
    if (!(r.packets >= 0) && !Number.isNaN(r.packets)) {
      this.rejectText(line, offset, 'negative packet count', String(r.packets));
      return false;
    }
    if (!(r.bytes >= 0) && !Number.isNaN(r.bytes)) {
      this.rejectText(line, offset, 'negative byte count', String(r.bytes));
      return false;
    }
    c.records++;
    if (r.start < this.rangeFrom || r.start >= this.rangeTo) {
      c.outsideRange++;
      return true;
    }
    if (r.region === 0) c.blankRegion++; // id 0 is the empty string
    if (r.start < this.minStart) this.minStart = r.start;
    if (r.end > this.maxEnd) this.maxEnd = r.end;

    const srcPublic = this.home.isPublic(r.src, 0);
    const dstPublic = this.home.isPublic(r.dst, 0);
    const dir = r.direction;
    let feed = 0;
    // a private source is never an internet scanner, whatever direction the format writes (detection.md §3)
    if (srcPublic && (dir === Direction.ingress || (dir === Direction.unknown && !dstPublic))) feed |= Feed.inbound;
    if ((dir === Direction.egress || (dir === Direction.unknown && !srcPublic)) && dstPublic) feed |= Feed.outbound;
    // internal scanning (detection.md §4): both ends not public go to the outbound accumulator too,
    // which tells them from outbound records by the target (outbound-table.ts)
    if (!srcPublic && !dstPublic) feed |= Feed.outbound;
    if (feed === 0) {
      c.internal++;
      return true;
    }
    // responses and backscatter are not probes, in either direction (detection.md §3, §4).
    // The port rule needs ports: ICMP has type and code instead (NetFlow writes
    // type * 256 + code as the destination port), so an echo request (8.0 = 2048) from
    // port 0 would pass for a response. Formats with ICMP ports of 0 are not affected.
    const icmp = r.proto === 1 || r.proto === 58;
    if (!icmp && r.sport < 1024 && r.dport >= 1024) {
      c.responses++;
      return true;
    }
    if (r.proto === 6 && (r.tcpFlags === 18 || r.tcpFlags === 4 || r.tcpFlags === 22)) {
      c.backscatter++;
      return true;
    }
    if (feed & Feed.outbound && (r.proto === 1 || r.proto === 58)) {
      feed &= ~Feed.outbound; // echo replies cannot be told from requests (detection.md §4)
      if (feed === 0) {
        c.responses++;
        return true;
      }
    }
    const h = hashAddress(r.src, 0);
    const p = this.partition;
    if (p && partitionOf(h, p.count) !== p.index) {
      c.otherPartition++;
      return true;
    }
    if (r.start < this.lateBefore) {
      this.countLate();
      return true;
    }
    if (feed & Feed.inbound) c.inbound++;
    if (feed & Feed.outbound) c.outbound++; // internal-scan candidates too: the replay files and partitions count them so
    this.append(this.laneOf(shardOf(h, this.shardCount), feed), feed);
    return true;
  }

  /** The lane of a record of `shard` with Feed bits `feed` (lanes). */
  private laneOf(shard: number, feed: number): number {
    return feed === Feed.outbound && this.laneCount !== this.shardCount ? shard + this.shardCount : shard;
  }

  /** The shard whose batches lane `lane` fills. */
  private shardOfLane(lane: number): number {
    return lane < this.shardCount ? lane : lane - this.shardCount;
  }

  /**
   * Whether a reader may classify and route records itself, as emit does (the WebAssembly
   * AWS reader, formats/aws-wasm.ts), and hand them to appendRouted: not with partitions,
   * late windows or home networks, which emit alone applies, nor when emit is replaced or
   * overridden (a test that sees every record, the filter command's sinks).
   */
  get routable(): boolean {
    return this.partition === null && this.lateBefore === 0 && this.home.size === 0 && this.emit === FlowSink.prototype.emit;
  }

  /** The shard count records are routed over (hash.ts shardOf). */
  get shards(): number {
    return this.shardCount;
  }

  /**
   * The batches a sink fills at once, one a lane: a shard's at its number, and where outbound
   * records go apart (SinkOptions.outboundApart) its outbound batch at shards + its number. A
   * reader's module routes rows to an area a lane (formats/wasm-route.ts), and the routed
   * calls below (areaStart, appendRoutedIds, RoutedColumns) take lanes.
   */
  get lanes(): number {
    return this.laneCount;
  }

  /** A record in `rec` that a reader validated, counted and routed as emit would: appended to its shard's batch. */
  appendRouted(shard: number, feed: number): void {
    this.append(this.laneOf(shard, feed), feed);
  }

  /** Records routed by a reader lie in `columns` until endRouted (appendRoutedIds, routedUpTo). */
  beginRouted(columns: RoutedColumns): void {
    this.routed = columns;
    const starts = columns.starts;
    if (this.keepsRows(columns)) {
      this.kept = columns; // areaStart began this read's rows after the kept ones
      this.copied.set(this.keptFrom);
    } else for (let s = 0; s < this.copied.length; s++) this.copied[s] = starts[s]!;
    columns.ends.set(starts);
  }

  /** Whether routed rows of `areas` are kept across reads and added where they lie (SinkOptions.addRouted). */
  private keepsRows(areas: RoutedColumns): boolean {
    return this.addRouted !== null && areas.readRows > 0;
  }

  /**
   * The slot at which a reader's next rows routed to `lane` are to start in its area: as far
   * past a multiple of 8 as the lane's batch is filled, so that a run and the place it is
   * copied to lie alike modulo 8 (batch columns start at multiples of 8). TypedArray.set
   * into a ring slot's SharedArrayBuffer copies a word at a time only then, else byte by byte
   * (~10x slower: a routed row's 1- to 4-byte columns cost ~10 ns more).
   */
  areaStart(lane: number, areas: RoutedColumns): number {
    if (!this.keepsRows(areas)) return this.builders[lane]!.n & 7;
    // kept rows of another reader's areas first; the same areas' views may be new (its memory grew)
    if (this.kept !== null && this.kept.ends !== areas.ends) this.addKept();
    else if (this.kept !== null) this.kept = areas;
    if (areas.feed[lane]!.length - this.keptEnd[lane]! < areas.readRows) this.addKeptOf(lane);
    return this.keptEnd[lane]!;
  }

  /** Every lane's kept rows handed to addRouted, and no areas kept. */
  private addKept(): void {
    for (let s = 0; s < this.keptEnd.length; s++) this.addKeptOf(s);
    this.kept = null;
  }

  /** The lane's kept rows handed to addRouted: its area starts again at its first slot. */
  private addKeptOf(lane: number): void {
    if (this.keptEnd[lane]! > this.keptFrom[lane]!) this.addRoutedRun(this.kept!, lane, this.keptFrom[lane]!, this.keptEnd[lane]!);
    this.keptFrom[lane] = 0;
    this.keptEnd[lane] = 0;
  }

  /**
   * The record at `slot` of its lane's routed area, validated, counted and routed as emit
   * would, for a reader whose module did not write its string ids (dictionary ids; interface
   * and instance only where append would look them up): they are written into the area, and
   * the record goes to its lane's batch with its run (copyRouted).
   */
  appendRoutedIds(lane: number, slot: number, account: number, region: number, iface: number, instance: number): void {
    const c = this.routed!;
    c.account[lane]![slot] = account;
    c.region[lane]![slot] = region;
    c.iface[lane]![slot] = iface;
    c.instance[lane]![slot] = instance;
    c.ends[lane] = slot + 1;
  }

  /**
   * Every routed record (of every lane's area) up to the module's counts comes before the
   * next record the sink is handed: for a reader whose module wrote the ids.
   */
  routedUpToCounts(): void {
    const c = this.routed!;
    c.ends.set(c.counts);
  }

  /** Every routed record before the next one handed to the sink copied: the routed columns may be overwritten. */
  endRouted(): void {
    const c = this.routed!;
    if (this.kept === c) {
      // kept for the next reads: handed over when the area fills, before a record appended otherwise, or at flushAll
      for (let s = 0; s < this.copied.length; s++) {
        const end = c.ends[s]!;
        this.keptFrom[s] = end > this.copied[s]! ? this.copied[s]! : 0;
        this.keptEnd[s] = end > this.copied[s]! ? end : 0;
      }
    } else for (let s = 0; s < this.copied.length; s++) if (c.ends[s]! > this.copied[s]!) this.copyRouted(s);
    this.routed = null;
  }

  /** The lane's routed records not copied yet (up to its `ends`) into its batch, a batch at a time. */
  private copyRouted(lane: number): void {
    const c = this.routed!;
    const end = c.ends[lane]!;
    let from = this.copied[lane]!;
    if (this.kept === c) {
      this.addRoutedRun(c, lane, from, end);
      this.copied[lane] = end;
      return;
    }
    const inbound = this.inboundLane(lane);
    while (from < end) {
      const b = this.builders[lane]!;
      const n = Math.min(end - from, b.feed.length - b.n);
      this.copyRun(c, lane, from, b, n, inbound);
      this.copyIds(c, lane, from, b, n, inbound);
      b.n += n;
      from += n;
      if (b.n === b.feed.length) this.flushLane(lane);
    }
    this.copied[lane] = end;
  }

  /** The lane's routed records from `from` to `end` handed to addRouted where they lie, after the lane's batch. */
  private addRoutedRun(c: RoutedColumns, lane: number, from: number, end: number): void {
    this.flushLane(lane); // records appended before the run (none if the reader routes every record)
    const n = end - from;
    if (this.routedStrings.length !== this.dict.size) this.routedStrings = this.dict.strings.slice();
    if (this.routedCloud.length < n || this.routedCloud[0] !== c.cloud) this.routedCloud = new Uint8Array(Math.max(n, this.routedCloud.length, 1024)).fill(c.cloud);
    const rows = batchOfColumns(
      {
        feed: c.feed[lane]!.subarray(from, end),
        src: c.src[lane]!.subarray(from * 4, end * 4),
        dst: c.dst[lane]!.subarray(from * 4, end * 4),
        proto: c.proto[lane]!.subarray(from, end),
        sport: c.sport[lane]!.subarray(from, end),
        dport: c.dport[lane]!.subarray(from, end),
        tcpFlags: c.tcpFlags[lane]!.subarray(from, end),
        packets: c.packets[lane]!.subarray(from, end),
        bytes: c.bytes[lane]!.subarray(from, end),
        start: c.start[lane]!.subarray(from, end),
        end: c.end[lane]!.subarray(from, end),
        cloud: this.routedCloud.subarray(0, n),
        action: c.action[lane]!.subarray(from, end),
        direction: c.direction[lane]!.subarray(from, end),
        account: unsignedIds(c.account[lane]!, from, n),
        region: unsignedIds(c.region[lane]!, from, n),
        iface: unsignedIds(c.iface[lane]!, from, n),
        instance: unsignedIds(c.instance[lane]!, from, n),
      },
      n,
      this.routedStrings,
    );
    rows.feeds = this.feedsOf(lane);
    this.addRouted!(this.shardOfLane(lane), rows);
  }

  /**
   * n routed records from `from` in lane's area to the end of b, the columns other than the
   * string ids; for a lane of inbound records alone (`inbound`, inboundLane) only the columns
   * the inbound table reads.
   */
  private copyRun(c: RoutedColumns, lane: number, from: number, b: FlowBatchData, n: number, inbound: boolean): void {
    const at = b.n;
    if (n <= SMALL_RUN) {
      copySmallRun(c, lane, from, b, at, n, inbound);
      return;
    }
    b.src.set(c.src[lane]!.subarray(from * 4, (from + n) * 4), at * 4);
    b.dst.set(c.dst[lane]!.subarray(from * 4, (from + n) * 4), at * 4);
    b.packets.set(c.packets[lane]!.subarray(from, from + n), at);
    b.bytes.set(c.bytes[lane]!.subarray(from, from + n), at);
    b.start.set(c.start[lane]!.subarray(from, from + n), at);
    b.end.set(c.end[lane]!.subarray(from, from + n), at);
    b.dport.set(c.dport[lane]!.subarray(from, from + n), at);
    b.feed.set(c.feed[lane]!.subarray(from, from + n), at);
    b.proto.set(c.proto[lane]!.subarray(from, from + n), at);
    b.cloud.fill(c.cloud, at, at + n);
    if (inbound) return;
    b.sport.set(c.sport[lane]!.subarray(from, from + n), at);
    b.tcpFlags.set(c.tcpFlags[lane]!.subarray(from, from + n), at);
    b.action.set(c.action[lane]!.subarray(from, from + n), at);
    b.direction.set(c.direction[lane]!.subarray(from, from + n), at);
  }

  /**
   * Whether the lane's batches hold inbound records alone (its outbound ones in a lane apart,
   * SinkOptions.outboundApart): their routed rows carry only the columns the inbound table
   * reads (FlowBatchData). Its source port, TCP flags, action and direction, and the interface
   * and instance ids (0 on every inbound row a module routes: they name an outbound alert's
   * source host), were 14 of a ring row's 83 bytes written into a slot no thread reads.
   */
  private inboundLane(lane: number): boolean {
    return this.laneCount !== this.shardCount && lane < this.shardCount;
  }

  /**
   * The string ids of n routed records from `from` into b's: copied as they are where the
   * lane's batch takes the dictionary's ids (copyDictionaryIds), else as the batch's own ids, a
   * record at a time in the order append takes them (account, region, interface, instance), so
   * the batch's string table is the same as if each record had been appended; for a lane of
   * inbound records alone (`inbound`, inboundLane) the account and region ids only.
   */
  private copyIds(c: RoutedColumns, lane: number, from: number, b: FlowBatchData, n: number, inbound: boolean): void {
    if (this.takesDictionaryIds(lane)) return copyDictionaryIds(c, lane, from, b, n, inbound);
    const remap = this.remapFor(lane, this.dict.size);
    const account = c.account[lane]!;
    const region = c.region[lane]!;
    const iface = c.iface[lane]!;
    const instance = c.instance[lane]!;
    for (let k = 0; k < n; k++) {
      // the rows whose ids the batch holds already, then one with an id new to it
      k += inbound
        ? copyKnownInboundIds(remap, account, region, from + k, b, b.n + k, n - k)
        : copyKnownIds(remap, account, region, iface, instance, from + k, b, b.n + k, n - k);
      if (k === n) break;
      const f = from + k;
      const t = b.n + k;
      b.account[t] = this.remapped(lane, b, remap, account[f]!);
      b.region[t] = this.remapped(lane, b, remap, region[f]!);
      if (inbound) continue; // not the inbound table's (FlowBatchData)
      b.iface[t] = this.remapped(lane, b, remap, iface[f]!);
      b.instance[t] = this.remapped(lane, b, remap, instance[f]!);
    }
  }

  /**
   * The batch's id of dictionary id `id` (interned when new): one call site of intern for
   * the four columns. With a site per column, V8 optimised copyIds before a column's first
   * new id (instance ids come late) and deoptimised it there ("insufficient type feedback").
   */
  private remapped(lane: number, b: FlowBatchData, remap: Int32Array, id: number): number {
    const local = remap[id]!;
    return local >= 0 ? local : this.intern(lane, b, remap, id);
  }

  private countLate(): void {
    this.counters.late++;
    const w = Math.floor(this.rec.start / (this.opts.windowSeconds ?? 1));
    this.lateByWindow.set(w, (this.lateByWindow.get(w) ?? 0) + 1);
  }

  private localId(lane: number, b: FlowBatchData, id: number): number {
    if (id === 0 || this.dictionaryLanes[lane] === 1) return id;
    const remap = this.remapFor(lane, id + 1);
    const local = remap[id]!;
    return local >= 0 ? local : this.intern(lane, b, remap, id);
  }

  /** The lane's map from dictionary ids to its batch's, grown to hold ids below `size`. */
  private remapFor(lane: number, size: number): Int32Array {
    const remap = this.remaps[lane]!;
    if (size <= remap.length) return remap;
    const next = new Int32Array(Math.max(remap.length * 2, size)).fill(-1);
    next.set(remap);
    this.remaps[lane] = next;
    return next;
  }

  /** The dictionary's string `id`, new to the lane's batch, added to its string table: its id there. */
  private intern(lane: number, b: FlowBatchData, remap: Int32Array, id: number): number {
    const local = b.strings.length;
    b.strings.push(this.dict.strings[id]!);
    remap[id] = local;
    this.touched[lane]!.push(id);
    return local;
  }

  private append(lane: number, feed: number): void {
    if (this.routed !== null && this.routed.ends[lane]! > this.copied[lane]!) this.copyRouted(lane); // the routed records before this one first
    else if (this.routed === null && this.keptEnd[lane]! > 0) this.addKeptOf(lane); // and rows kept from earlier reads
    this.takesDictionaryIds(lane); // its ids mapped now where the dictionary passed the cap
    const b = this.builders[lane]!;
    const r = this.rec;
    const i = b.n;
    b.feed[i] = feed;
    const o = i * 4; // four plain stores beat TypedArray.set for four words
    const bs = b.src;
    const bd = b.dst;
    const rs = r.src;
    const rd = r.dst;
    bs[o] = rs[0]!;
    bs[o + 1] = rs[1]!;
    bs[o + 2] = rs[2]!;
    bs[o + 3] = rs[3]!;
    bd[o] = rd[0]!;
    bd[o + 1] = rd[1]!;
    bd[o + 2] = rd[2]!;
    bd[o + 3] = rd[3]!;
    b.proto[i] = r.proto;
    b.sport[i] = r.sport;
    b.dport[i] = r.dport;
    b.tcpFlags[i] = r.tcpFlags;
    b.packets[i] = r.packets;
    b.bytes[i] = r.bytes;
    b.start[i] = r.start;
    b.end[i] = r.end;
    b.cloud[i] = r.cloud;
    b.action[i] = r.action;
    b.direction[i] = r.direction;
    b.account[i] = this.localId(lane, b, r.account);
    b.region[i] = this.localId(lane, b, r.region);
    // interface and instance ids name the source host of outbound alerts only: a reader may
    // leave them LAZY and they are interned here for outbound records alone
    const lazy = this.lazy;
    const out = (feed & Feed.outbound) !== 0;
    if (feed === Feed.outbound && r.direction === Direction.ingress) {
      // an internal record logged where it arrived: its ids are the target's, not the source host's
      b.iface[i] = 0;
      b.instance[i] = 0;
    } else {
      b.iface[i] = r.iface !== LAZY ? this.localId(lane, b, r.iface) : out && lazy ? this.localId(lane, b, lazy.iface()) : 0;
      b.instance[i] = r.instance !== LAZY ? this.localId(lane, b, r.instance) : out && lazy ? this.localId(lane, b, lazy.instance()) : 0;
    }
    b.n = i + 1;
    if (b.n === b.feed.length) this.flushLane(lane);
  }

  private flushLane(lane: number): void {
    const b = this.builders[lane]!;
    if (b.n === 0) return;
    if (this.takesDictionaryIds(lane)) b.strings = this.dictionaryStrings();
    forgetIds(this.remaps[lane]!, this.touched[lane]!);
    this.touched[lane] = [];
    // batches grow from small to the full size: a small file costs small batches
    this.builders[lane] = this.newBatch(Math.min(this.batchSize, b.feed.length * 4), lane);
    this.dictionaryLanes[lane] = this.dictionaryIds ? 1 : 0;
    this.batchesPosted++;
    this.flush(this.shardOfLane(lane), b);
  }

  /**
   * The dictionary as a batch's table (SinkOptions.dictionaryIds): the same array while it
   * has not grown, so that it is packed once (batch.ts shareTable) and the shard that takes
   * it maps its strings once.
   */
  private dictionaryStrings(): string[] {
    const size = this.dict.size;
    const before = this.dictionaryTable;
    if (before.length === size) return before;
    const table = this.dict.strings.slice(0, size);
    shareTable(table, before.length < size ? before : null);
    this.dictionaryTable = table;
    return table;
  }

  /**
   * Whether lane's batch takes the dictionary's ids (SinkOptions.dictionaryIds): no more once the
   * dictionary has passed DICTIONARY_IDS_CAP, its rows' ids mapped then (leaveDictionaryIds).
   */
  private takesDictionaryIds(lane: number): boolean {
    if (this.dictionaryLanes[lane] !== 1) return false;
    if (this.dict.size <= DICTIONARY_IDS_CAP) return true;
    this.leaveDictionaryIds(lane);
    return false;
  }

  /**
   * The dictionary has passed DICTIONARY_IDS_CAP: new batches map ids to their own, and the
   * lane's batch, filled with dictionary ids so far, has its rows' ids mapped now, as copyIds
   * would have (every id in the record's order; an inbound lane's account and region only).
   */
  private leaveDictionaryIds(lane: number): void {
    this.dictionaryIds = false;
    this.dictionaryLanes[lane] = 0;
    const b = this.builders[lane]!;
    const remap = this.remapFor(lane, this.dict.size);
    const inbound = this.inboundLane(lane);
    for (let t = 0; t < b.n; t++) {
      b.account[t] = this.remapped(lane, b, remap, b.account[t]!);
      b.region[t] = this.remapped(lane, b, remap, b.region[t]!);
      if (inbound) continue;
      b.iface[t] = this.remapped(lane, b, remap, b.iface[t]!);
      b.instance[t] = this.remapped(lane, b, remap, b.instance[t]!);
    }
  }

  /** A batch for lane `lane` (its Feed bits: those of the lane's records). */
  private newBatch(capacity: number, lane: number): FlowBatchData {
    const alloc = this.alloc;
    const b = (alloc !== null ? alloc(capacity) : null) ?? allocBatch(capacity);
    b.feeds = this.feedsOf(lane);
    return b;
  }

  /** The Feed bits a lane's records may carry (FlowBatchData.feeds). */
  private feedsOf(lane: number): number {
    return this.laneCount === this.shardCount ? Feed.inbound | Feed.outbound : lane < this.shardCount ? Feed.inbound : Feed.outbound;
  }

  /**
   * Send every partly filled batch (end of a task). Empty batches give their ring slots
   * back (a small private batch takes their place, should more records come).
   */
  flushAll(): void {
    if (this.kept !== null) this.addKept();
    for (let s = 0; s < this.builders.length; s++) {
      this.flushLane(s);
      const b = this.builders[s]!;
      if (b.ring && b.n === 0) {
        releaseBatch(b);
        this.builders[s] = allocBatch(Math.min(this.batchSize, FIRST_BATCH));
        this.builders[s]!.feeds = b.feeds;
      }
    }
  }
}

/**
 * The batch's ids of `touched` forgotten (-1: not in the next batch). A loop of its own: in
 * flushLane it made that function hot, and V8 then compiled it with everything it calls inlined
 * (a new batch from the ring, the post), ~14 ms of compile for a once-a-batch function.
 */
function forgetIds(remap: Int32Array, touched: number[]): void {
  for (let i = 0; i < touched.length; i++) remap[touched[i]!] = -1;
}
