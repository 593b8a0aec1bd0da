/**
 * The replay and conversion operations of a shard worker (workers/shard.ts hands them
 * here). Replay: read whole blocks of the buckets this shard owns, check and decompress
 * them, and feed them to the same consumer as parsed batches. Conversion: keep the
 * shard's rows in a RowSpool and write them out as blocks.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { FlowBatchData } from '../flow/batch.js';
import { partitionOfBucket, SHARD_BUCKETS } from '../flow/hash.js';
import { CorruptBlockError, decodeBlock, type Column } from './block.js';
import { ENTRY_ROWS_KIND, readReplayHeader, ROWS_KIND } from './file.js';
import { checkEntryCounts } from './entry-rows.js';
import { blockRows, decodeRows, expandSelected, NO_ROWS, outboundColumns, RowScratch, selectRows, type BlockRows, type OutboundColumns } from './row-codec.js';
import { copyRow } from './rows.js';
import { Feed } from '../flow/types.js';
import { RowSpool, type PartResult } from './spool.js';
import type { CorruptBlock } from './types.js';
import { isReplayOp } from './shard-op-names.js';
import { lz4Wasm } from './lz4-wasm.js';

export type { CorruptBlock };

/** Blocks of one replay file for one shard: absolute offsets, in file order. */
export interface ReplayBlocksTask {
  op: 'addReplay';
  windowSeconds: number;
  path: string;
  headerCrc: number;
  /**
   * The file's dictionary, sent with a shard's first task of the file (input.ts blockTasks):
   * the worker keeps it by path and header checksum instead of reading the file's header
   * again (its block index too: 222 KB of msgpack on a 20 M-record file, ~20 ms of CPU a
   * worker). A task without it has the worker read the header.
   */
  dict?: string[];
  shard: number;
  shards: number;
  offset: number[];
  length: number[];
  bucket: number[];
  rows: number[];
  partition?: { index: number; count: number };
  /** Rows starting before this Unix second are late (the sidecar's finalised windows): counted, not added. */
  lateBefore: number;
  /** 'table': detect (the shard's accumulators); 'spool': convert (re-blocking into a new file) */
  into: 'table' | 'spool';
  /** entries to size a new table for (as the 'add' task's) */
  capacityHint?: number;
  /**
   * Outbound rows in all the blocks this shard is sent in the run (the files' block index
   * counts them; absent for older files): a new outbound table is made that large at least,
   * so a replay run's table is never rebuilt as it fills (input.ts, outboundRowsByShard).
   */
  outboundRows?: number;
  /**
   * Each block's entry-row twin to read in its place (input.ts sends them when this run's
   * window is a multiple of the file's entry window and no row is filtered out): absolute
   * offset and length (0: read the rows block), and the block's rows by feed, which the
   * twin's counts are checked against.
   */
  twins?: { offset: number[]; length: number[]; inbound: number[]; outbound: number[]; whole?: boolean[] };
  /**
   * With twins.whole (the twin holds all of its bucket's records in the run: input.ts
   * smallKeysBelow): keys of fewer entry rows than this are counted, not added (BlockRows.smallBelow).
   */
  smallBelow?: number;
  /** --from/--to: rows starting outside [from, to) are counted, not added (the sink's outside_range) */
  range?: { from: number; to: number };
  /** with range: whether each block has rows outside it (read as rows and filtered; the index's times tell) */
  cut?: boolean[];
}

export interface ReplayBlocksReply {
  rows: number; // rows handed to the consumer
  blocks: number;
  bytes: number; // bytes read from the file
  rawBytes: number; // bytes after decompression
  /** rows the sink would not pass on in this run (by feed, to correct the conversion's counters) */
  outsidePartition: number;
  outsideInbound: number;
  outsideOutbound: number;
  late: Array<[window: number, rows: number]>;
  lateInbound: number;
  lateOutbound: number;
  /** keys and entries counted, not added (smallBelow): the finalisation adds them to its counts */
  smallKeys?: number;
  smallEntries?: number;
  /** rows outside --from/--to (with a range), and those of them by feed */
  outsideRange?: number;
  outsideRangeInbound?: number;
  outsideRangeOutbound?: number;
  corrupt: CorruptBlock[];
}

export type ConvertShardTask =
  | { op: 'convertBegin'; spillPath: string; runRows: number }
  | { op: 'convertAdd'; batch: FlowBatchData }
  | { op: 'convertDict' }
  | { op: 'convertFinish'; partPath: string; toFile: Uint32Array; blockRows: number; wideIds: boolean; entryWindow?: number }
  | { op: 'convertAbort' };

export type ReplayShardTask = ReplayBlocksTask | ConvertShardTask;

export function isReplayTask(task: { op: string }): task is ReplayShardTask {
  return isReplayOp(task.op);
}

let spool: RowSpool | null = null;

/**
 * What the shard does with replayed rows: a batch (as parsed batches), or, for detection,
 * a whole block read in place with its expansions on demand (see BlockRows).
 */
export interface ReplayTable {
  batch(b: FlowBatchData, windowSeconds: number, capacityHint?: number): void;
  block(rows: BlockRows, bucket: number, expand: () => FlowBatchData, outbound: BlockOutbound, windowSeconds: number, capacityHint?: number, outboundRows?: number): void;
}

/**
 * A block's outbound rows for the table: offered first to `direct` (the outbound table reading
 * them in the block's columns: m rows, as selectRows found them), and expanded into a batch
 * only where it declines (true: they were added; the batch is then empty).
 */
export type BlockOutbound = (direct: (m: number, c: OutboundColumns) => boolean) => FlowBatchData;

/**
 * BlockOutbound of a block the index says has no outbound row (its twin's counts checked: an
 * entry row stands for one record or more, so no outbound records means no outbound rows).
 * Most blocks of a replay file (2,306 of the bench file's 4,096) are such: no pass over their
 * rows for none (selectRows), and that pass, a JavaScript loop every shard isolate compiles,
 * runs for the others only.
 */
const NO_OUTBOUND: BlockOutbound = () => NO_ROWS;

/**
 * BlockOutbound of a decoded block; `rows`: its outbound rows where the index says how many
 * (a twin whose counts were checked: an outbound entry row stands for one record), so that
 * the pass over its rows stops at the last.
 */
function outboundOf(cols: Map<string, Column>, r: BlockRows, rows = r.n): BlockOutbound {
  return (direct) => {
    const m = selectRows(r, Feed.outbound, rows);
    if (m === 0 || direct(m, outboundColumns(cols))) return NO_ROWS;
    return expandSelected(cols, r, m, outboundScratch);
  };
}

/** Run one replay/convert op. */
export function replayShardOp(task: ReplayShardTask, table: ReplayTable): unknown {
  switch (task.op) {
    case 'addReplay':
      return task.into === 'table'
        ? readBlocks(task, (b) => table.batch(b, task.windowSeconds, task.capacityHint), (r, bucket, expand, outbound) => table.block(r, bucket, expand, outbound, task.windowSeconds, task.capacityHint, task.outboundRows))
        : readBlocks(task, (b) => activeSpool().add(b));
    case 'convertBegin':
      spool?.dropSpill();
      spool = new RowSpool(task.spillPath, task.runRows);
      return true;
    case 'convertAdd':
      activeSpool().add(task.batch);
      return task.batch.n;
    case 'convertDict':
      return activeSpool().dictionary();
    case 'convertFinish': {
      const r: PartResult = activeSpool().finish(task.partPath, task.toFile, task.blockRows, task.wideIds, task.entryWindow);
      spool = null;
      return r;
    }
    case 'convertAbort':
      spool?.dropSpill();
      spool = null;
      return true;
  }
}

function activeSpool(): RowSpool {
  if (!spool) throw new Error('conversion op before convertBegin');
  return spool;
}

/** Dictionaries of the replay files this worker has read, by path and header checksum. */
const dicts = new Map<string, string[]>();

function dictOf(path: string, headerCrc: number, sent: string[] | undefined): string[] {
  const key = `${headerCrc}:${path}`;
  let d = dicts.get(key);
  if (!d) {
    if (sent) d = sent;
    else {
      const opened = readReplayHeader(path);
      if (opened.headerCrc !== headerCrc) throw new Error(`${path} changed while it was being read`);
      d = opened.header.dict;
    }
    if (dicts.size >= 16) dicts.delete(dicts.keys().next().value!);
    dicts.set(key, d);
  }
  return d;
}

const lz4 = lz4Wasm();
const scratch = new RowScratch();
const outboundScratch = new RowScratch();
const READ_SPAN = 8 << 20;

/** The span buffer of this thread, reused from task to task (a new one a task is external memory for the collector). */
let spanBuf = Buffer.allocUnsafe(1 << 20);

/**
 * Frames of one file read a span at a time: frames that follow each other in the file are
 * read together (one system call), into the thread's one span buffer.
 */
class FrameReader {
  private spanStart = 0;
  private spanEnd = 0;
  private spanGot = 0;
  bytes = 0; // read from the file

  constructor(private readonly fd: number) {}

  /** Frame k of (offset, length): a view of what the file holds of it (shorter when the file ends first). */
  frame(k: number, offset: number[], length: number[]): Buffer {
    const at = offset[k]!;
    const len = length[k]!;
    if (at < this.spanStart || at + len > this.spanEnd) {
      let end = at + len;
      for (let j = k + 1; j < offset.length && offset[j] === end && length[j]! > 0 && end + length[j]! - at <= READ_SPAN; j++) end += length[j]!;
      if (spanBuf.length < end - at) spanBuf = Buffer.allocUnsafe(Math.max(end - at, spanBuf.length * 2));
      this.spanStart = at;
      this.spanEnd = end;
      this.spanGot = readSync(this.fd, spanBuf, 0, end - at, at);
      this.bytes += this.spanGot;
    }
    const from = at - this.spanStart;
    const got = Math.max(0, Math.min(len, this.spanGot - from));
    return spanBuf.subarray(from, from + got);
  }

  /** One frame in a buffer of its own (the rows block behind a twin: the span may hold the next frames). */
  alone(offset: number, length: number): Buffer {
    const b = Buffer.allocUnsafe(length);
    const got = readSync(this.fd, b, 0, length, offset);
    this.bytes += got;
    return b.subarray(0, got);
  }
}

type BlockConsumer = (rows: BlockRows, bucket: number, expand: () => FlowBatchData, outbound: BlockOutbound) => void;

function readBlocks(task: ReplayBlocksTask, consume: (b: FlowBatchData) => void, consumeBlock?: BlockConsumer): ReplayBlocksReply {
  const reply: ReplayBlocksReply = {
    rows: 0, blocks: 0, bytes: 0, rawBytes: 0, outsidePartition: 0, outsideInbound: 0, outsideOutbound: 0, late: [], lateInbound: 0, lateOutbound: 0, corrupt: [],
  };
  const late = new Map<number, number>();
  const dict = dictOf(task.path, task.headerCrc, task.dict);
  const fd = openSync(task.path, 'r');
  const reader = new FrameReader(fd);
  try {
    for (let k = 0; k < task.offset.length; k++) {
      const offset = task.offset[k]!;
      const length = task.length[k]!;
      const bucket = task.bucket[k]!;
      if (bucket % task.shards !== task.shard || bucket >= SHARD_BUCKETS) {
        throw new Error(`replay block of bucket ${bucket} routed to shard ${task.shard} of ${task.shards}`);
      }
      // rows left out here (late windows, another partition's block of an older file) need the batch form
      const p = task.partition;
      const filtering = task.lateBefore > 0 || (p !== undefined && partitionOfBucket(bucket, p.count) !== p.index) || task.cut?.[k] === true;
      const twin = consumeBlock !== undefined && !filtering && task.twins !== undefined && task.twins.length[k]! > 0;
      if (twin && readTwin(task, k, reader, dict, reply, consumeBlock)) continue;
      let batch: FlowBatchData | null = null;
      let rows: BlockRows | null = null;
      let columns: Map<string, Column>;
      try {
        // (in place of a damaged twin: this frame alone, not a span of rows blocks the next twins stand for)
        const frame = twin ? reader.alone(offset, length) : reader.frame(k, task.offset, task.length);
        if (frame.length < length) throw new CorruptBlockError(`truncated: block needs ${length} bytes, file ends after ${frame.length}`);
        // the block's columns are used before the next block is read: decoded into reused memory
        const decoded = decodeBlock(frame, ROWS_KIND, lz4);
        if (decoded.header.bucket !== bucket) throw new CorruptBlockError(`block is of bucket ${decoded.header.bucket}, index says ${bucket}`);
        columns = decoded.columns;
        reply.rawBytes += decoded.rawBytes;
        const n = decoded.header.rows;
        if (consumeBlock && !filtering) rows = blockRows(columns, n, dict);
        else batch = decodeRows(columns, n, dict, scratch);
        if (n !== task.rows[k]) throw new CorruptBlockError(`block holds ${n} rows, index says ${task.rows[k]}`);
      } catch (err) {
        if (!(err instanceof CorruptBlockError)) throw err;
        reply.corrupt.push({ offset, length, rows: task.rows[k]!, reason: err.message });
        continue;
      }
      reply.blocks++;
      if (rows) {
        const r = rows;
        const cols = columns;
        reply.rows += r.n;
        consumeBlock!(r, bucket, () => decodeRows(cols, r.n, dict, scratch), outboundOf(cols, r));
        continue;
      }
      if (filtering) filterRows(batch!, bucket, task, reply, late);
      reply.rows += batch!.n;
      consume(batch!);
    }
  } finally {
    reply.bytes = reader.bytes;
    closeSync(fd);
  }
  reply.late = [...late].sort((a, b) => a[0] - b[0]);
  return reply;
}

/**
 * Block k read through its entry-row twin (entry-rows.ts). False when the twin fails its
 * checks: the caller then reads the rows block, and reports that block if it fails too. The
 * twin's rows block is read after all when the table asks for the block's records one by
 * one (expand: --max-memory's bounds), in a buffer of its own; if it is damaged, the block
 * is reported as damaged and nothing of it was added (expand comes before any add).
 */
function readTwin(task: ReplayBlocksTask, k: number, reader: FrameReader, dict: string[], reply: ReplayBlocksReply, consumeBlock: BlockConsumer): boolean {
  const twins = task.twins!;
  const bucket = task.bucket[k]!;
  let rows: BlockRows;
  let cols: Map<string, Column>;
  try {
    const frame = reader.frame(k, twins.offset, twins.length);
    if (frame.length < twins.length[k]!) return false;
    const decoded = decodeBlock(frame, ENTRY_ROWS_KIND, lz4);
    if (decoded.header.bucket !== bucket) return false;
    cols = decoded.columns;
    rows = blockRows(cols, decoded.header.rows, dict);
    const flows = checkEntryCounts(cols, rows.flags, rows.n, task.rows[k]!, twins.inbound[k], twins.outbound[k]);
    if (typeof flows === 'string') return false;
    rows.flows = flows;
    if (twins.whole?.[k] === true) rows.smallBelow = task.smallBelow ?? 0;
    reply.rawBytes += decoded.rawBytes;
  } catch (err) {
    if (!(err instanceof CorruptBlockError)) throw err;
    return false;
  }
  const r = rows;
  const expand = () => {
    const frame = reader.alone(task.offset[k]!, task.length[k]!);
    if (frame.length < task.length[k]!) throw new CorruptBlockError(`truncated: block needs ${task.length[k]} bytes, file ends after ${frame.length}`);
    const decoded = decodeBlock(frame, ROWS_KIND);
    if (decoded.header.bucket !== bucket || decoded.header.rows !== task.rows[k]) throw new CorruptBlockError(`block is not the one the index names (bucket ${decoded.header.bucket}, ${decoded.header.rows} rows)`);
    reply.rawBytes += decoded.rawBytes;
    return decodeRows(decoded.columns, decoded.header.rows, dict, scratch);
  };
  try {
    consumeBlock(r, bucket, expand, twins.outbound[k] === 0 ? NO_OUTBOUND : outboundOf(cols, r, twins.outbound[k]));
  } catch (err) {
    if (!(err instanceof CorruptBlockError)) throw err;
    reply.corrupt.push({ offset: task.offset[k]!, length: task.length[k]!, rows: task.rows[k]!, reason: err.message });
    return true;
  }
  reply.blocks++;
  reply.rows += task.rows[k]!;
  if (r.smallKeys > 0) {
    reply.smallKeys = (reply.smallKeys ?? 0) + r.smallKeys;
    reply.smallEntries = (reply.smallEntries ?? 0) + r.smallEntries;
  }
  return true;
}

/**
 * Drop, in place, the rows the sink would not pass on in this run, counted as it counts
 * them: records outside --from/--to, sources outside --partition, then records of windows
 * already finalised (late).
 */
function filterRows(b: FlowBatchData, bucket: number, task: ReplayBlocksTask, reply: ReplayBlocksReply, late: Map<number, number>): void {
  const p = task.partition;
  // a partition is a range of buckets, and a block holds one bucket: in or out as a whole
  // (only files without per-block feed counts send other partitions' blocks here)
  const outside = p !== undefined && partitionOfBucket(bucket, p.count) !== p.index;
  const from = task.range?.from ?? 0;
  const to = task.range?.to ?? 2 ** 32;
  let w = 0;
  for (let i = 0; i < b.n; i++) {
    const feed = b.feed[i]!;
    if (b.start[i]! < from || b.start[i]! >= to) {
      // the sink counts such a record before it classifies it (src/flow/sink.ts)
      reply.outsideRange = (reply.outsideRange ?? 0) + 1;
      if (feed & Feed.inbound) reply.outsideRangeInbound = (reply.outsideRangeInbound ?? 0) + 1;
      if (feed & Feed.outbound) reply.outsideRangeOutbound = (reply.outsideRangeOutbound ?? 0) + 1;
      continue;
    }
    if (outside) {
      reply.outsidePartition++;
      if (feed & Feed.inbound) reply.outsideInbound++;
      if (feed & Feed.outbound) reply.outsideOutbound++;
      continue;
    }
    if (b.start[i]! < task.lateBefore) {
      const win = Math.floor(b.start[i]! / task.windowSeconds);
      late.set(win, (late.get(win) ?? 0) + 1);
      if (feed & Feed.inbound) reply.lateInbound++;
      if (feed & Feed.outbound) reply.lateOutbound++;
      continue;
    }
    if (w !== i) copyRow(b, i, b, w);
    w++;
  }
  b.n = w;
}
