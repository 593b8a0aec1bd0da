/**
 * Replay files as detect input (main thread). The main thread reads only a file's header
 * and block index, and sends each shard the blocks of the buckets it owns
 * (bucket % workers); the shard workers read, check, decompress and accumulate them.
 * A corrupt or missing block is reported with its byte offset and skipped.
 *
 * What a replay run reports for a replay file (summary.json `files[]`):
 * - the counters (lines, records, nodata, rejected, inbound, outbound, internal,
 *   responses, backscatter, ...) are those of the source logs at conversion, summed over
 *   the files that went into it, so a replay run accounts for records exactly as the
 *   run on the logs did; `replay.sources` lists those files;
 * - `replay.rows` are the records the file holds (those that fed a detector), and
 *   `replay.rows_read` those read back; `replay.corrupt_rows` were in blocks that failed
 *   their checks (listed in `replay.corrupt` with byte offsets) and did not take part;
 * - `bytes` are the bytes read from disk, `decompressed_bytes` the bytes after lz4.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Piscina } from 'piscina';
import { partitionOfBucket, SHARD_BUCKETS } from '../flow/hash.js';
import type { FileReport, ResolvedReject } from '../engine/types.js';
import type { InputFile } from '../input/plan.js';
import { isReplayHead, readReplayHeader, ReplayFileError, type OpenedReplay } from './file.js';
import type { ReplayBlocksReply, ReplayBlocksTask } from './shard-ops.js';
import type { CorruptBlock, ReplayReport } from './types.js';

export type { ReplayReport };

/** Rows (and bytes) per shard task: big enough that dispatch costs nothing per record. */
const TASK_ROWS = 1 << 18;
const TASK_BYTES = 32 << 20;
/** damaged blocks listed by name in a report (the count covers all) */
export const MAX_CORRUPT_LISTED = 100;

export interface ReplayOutcome {
  opened?: OpenedReplay;
  error?: string;
  replies: ReplayBlocksReply[];
  /** blocks the index places beyond the end of the file (never sent to a worker) */
  missing: CorruptBlock[];
  /** blocks of other partitions, skipped by the index (--partition): their rows by feed */
  skipped: { blocks: number; rows: number; inbound: number; outbound: number };
}

export interface ReplayDispatch {
  shards: number;
  windowSeconds: number;
  partition?: { index: number; count: number };
  lateBefore?: number;
  /** --from/--to: rows starting outside [from, to) are counted as outside_range, not added (as the sink counts them) */
  range?: { from: number; to: number };
  /** entries to size a shard's new table for */
  capacityHint?: number;
  into: 'table' | 'spool';
  /**
   * The finalisation's least entries for a key to be finalised (max(1, min_endpoints)), when
   * this run reads nothing else and finalises all of it once (a detect run): a twin that holds
   * all of its bucket's records then counts its keys of fewer rows instead of adding them
   * (ReplayBlocksTask.smallBelow; docs/replay.md "Small keys").
   */
  smallKeysBelow?: number;
}

/** Headers read for sizing (replayHintBytes), read again by replayInputs at most once more: by path and size. */
const headerCache = new Map<string, OpenedReplay>();

/**
 * The bytes of a replay file's rows blocks (its size less its entry-row twins; the size for a
 * file without twins or one that cannot be read): the engine sizes the shards' tables from
 * input bytes, and the twins would make a table half again too large.
 */
export function replayHintBytes(path: string, size: number): number {
  try {
    const opened = readReplayHeader(path);
    if (headerCache.size >= 64) headerCache.clear();
    headerCache.set(`${size}:${path}`, opened);
    const b = opened.header.blocks;
    return b.entryLength ? opened.dataStart + b.length.reduce((s, n) => s + n, 0) : size;
  } catch {
    return size;
  }
}

function openReplay(path: string, size: number): OpenedReplay {
  const key = `${size}:${path}`;
  const cached = headerCache.get(key);
  headerCache.delete(key);
  return cached ?? readReplayHeader(path);
}

/** True when every path is a replay file (by its magic): such a run needs no parse threads. */
export function allReplayFiles(paths: string[]): boolean {
  if (paths.length === 0) return false;
  const head = Buffer.alloc(8);
  return paths.every((p) => {
    try {
      if (p === '-' || !statSync(p).isFile()) return false;
      const fd = openSync(p, 'r');
      try {
        return readSync(fd, head, 0, 8, 0) === 8 && isReplayHead(head);
      } finally {
        closeSync(fd);
      }
    } catch {
      return false;
    }
  });
}

/** Start reading every replay file among `files`; resolves when every block was handled. */
export async function replayInputs(files: InputFile[], shardPools: Array<Pick<Piscina, 'run'>>, d: ReplayDispatch): Promise<Map<number, ReplayOutcome>> {
  const out = new Map<number, ReplayOutcome>();
  const planned: PlannedTask[] = [];
  files.forEach((f, i) => {
    if (f.format !== 'replay' || f.error) return;
    const outcome: ReplayOutcome = { replies: [], missing: [], skipped: { blocks: 0, rows: 0, inbound: 0, outbound: 0 } };
    out.set(i, outcome);
    if (f.gzip) {
      outcome.error = 'a replay file cannot be read through gzip (it is already lz4-compressed); gunzip it first';
      return;
    }
    try {
      outcome.opened = openReplay(f.path, f.size);
    } catch (err) {
      outcome.error = err instanceof ReplayFileError ? err.message : `cannot read: ${(err as Error).message}`;
      return;
    }
    planned.push(...blockTasks(f.path, outcome, d));
  });
  // small keys are counted from a block only when no other input can add to its bucket
  if (d.smallKeysBelow !== undefined && files.length !== 1) for (const p of planned) delete p.task.twins?.whole;
  const outboundRows = outboundRowsByShard(planned, d.shards);
  const work = planned.map(({ task, outcome }) => {
    if (outboundRows) task.outboundRows = outboundRows[task.shard];
    return shardPools[task.shard]!.run(task).then((r) => void outcome.replies.push(r as ReplayBlocksReply));
  });
  await Promise.all(work);
  return out;
}

/**
 * The outbound rows each shard is sent over all the run's replay files
 * (ReplayBlocksTask.outboundRows), from the block indexes' counts; undefined when a file's
 * index does not count them (files written before 2026-11-29).
 */
function outboundRowsByShard(planned: PlannedTask[], shards: number): number[] | undefined {
  const rows = new Array<number>(shards).fill(0);
  for (const p of planned) {
    if (p.outboundRows === undefined) return undefined;
    rows[p.task.shard]! += p.outboundRows;
  }
  return rows;
}

/** A task, the file's outcome it reports to, and the outbound rows of its blocks (undefined: not counted). */
interface PlannedTask {
  task: ReplayBlocksTask;
  outcome: ReplayOutcome;
  outboundRows: number | undefined;
}

/**
 * Whether this run reads a file's blocks through their entry-row twins (docs/replay.md "Entry
 * rows"): exact when its window is a multiple of the file's entry window and every row is kept
 * (no late windows; a partition's blocks are whole). FLOWSIEVE_REPLAY=rows reads the rows
 * blocks always (to compare the two).
 */
function readsTwins(h: OpenedReplay['header'], d: ReplayDispatch): boolean {
  const w = h.entryWindow;
  return process.env.FLOWSIEVE_REPLAY !== 'rows' && d.into === 'table' && !d.lateBefore && h.blocks.entryLength !== undefined &&
    h.blocks.inbound !== undefined && h.blocks.outbound !== undefined && w !== undefined && w > 0 && d.windowSeconds % w === 0;
}

/**
 * Tasks per shard, each a run of that shard's blocks in file order. Runs once a file, over
 * every block, so V8 optimises it while it runs (on-stack replacement): its rare paths and the
 * task's making are functions of their own, so that only the loop is compiled (it was the
 * largest compile of a replay run's main thread; issue 19, replayv8).
 */
function blockTasks(path: string, outcome: ReplayOutcome, d: ReplayDispatch): PlannedTask[] {
  const { header, dataStart, fileSize } = outcome.opened!;
  const b = header.blocks;
  const twins = readsTwins(header, d);
  const blocksOf = twins && d.smallKeysBelow !== undefined && d.smallKeysBelow > 1 ? blocksByBucket(b.bucket) : null;
  const tasks: PlannedTask[] = [];
  const open: (PlannedTask | null)[] = new Array(d.shards).fill(null);
  const size: number[][] = Array.from({ length: d.shards }, () => [0, 0]);
  const dictSent: boolean[] = new Array(d.shards).fill(false);
  for (let k = 0; k < b.offset.length; k++) {
    const offset = dataStart + b.offset[k]!;
    const length = b.length[k]!;
    if (d.partition && b.inbound && b.outbound && partitionOfBucket(b.bucket[k]!, d.partition.count) !== d.partition.index) {
      skipBlock(outcome, b, k);
      continue;
    }
    if (offset + length > fileSize) {
      missingBlock(outcome, offset, length, b.rows[k]!, fileSize);
      continue;
    }
    const shard = b.bucket[k]! % d.shards;
    let p = open[shard];
    if (!p || size[shard]![0]! + b.rows[k]! > TASK_ROWS || size[shard]![1]! + length > TASK_BYTES) {
      p = plannedTask(path, outcome, d, twins, blocksOf !== null, dictSent[shard]!, shard);
      dictSent[shard] = true; // a shard's tasks run in order on its one thread (replayInputs)
      open[shard] = p;
      size[shard] = [0, 0];
      tasks.push(p);
    }
    if (p.outboundRows !== undefined) p.outboundRows += b.outbound![k]!;
    const t = p.task;
    t.offset.push(offset);
    t.length.push(length);
    t.bucket.push(b.bucket[k]!);
    t.rows.push(b.rows[k]!);
    // a block with rows outside --from/--to is read as rows and filtered row by row
    const cut = d.range !== undefined && !(b.minTime[k]! >= d.range.from && b.maxTime[k]! < d.range.to);
    if (t.cut) t.cut.push(cut);
    if (t.twins) {
      // a twin the file does not hold whole (truncated: twins come after every rows block) is not read
      const at = dataStart + b.entryOffset![k]!;
      const len = cut ? 0 : b.entryLength![k]!;
      const whole = len > 0 && at + len <= fileSize;
      t.twins.offset.push(whole ? at : 0);
      t.twins.length.push(whole ? len : 0);
      t.twins.inbound.push(b.inbound![k]!);
      t.twins.outbound.push(b.outbound![k]!);
      t.twins.whole?.push(whole && blocksOf !== null && blocksOf[b.bucket[k]!] === 1);
    }
    size[shard]![0]! += b.rows[k]!;
    size[shard]![1]! += length;
  }
  return tasks;
}

/** Another partition's block k: skipped by the index (that partition reports it if it is damaged), its rows counted as the sink counts them. */
function skipBlock(outcome: ReplayOutcome, b: OpenedReplay['header']['blocks'], k: number): void {
  outcome.skipped.blocks++;
  outcome.skipped.rows += b.rows[k]!;
  outcome.skipped.inbound += b.inbound![k]!;
  outcome.skipped.outbound += b.outbound![k]!;
}

function missingBlock(outcome: ReplayOutcome, offset: number, length: number, rows: number, fileSize: number): void {
  outcome.missing.push({ offset, length, rows, reason: `truncated: block needs bytes ${offset}..${offset + length}, file ends at ${fileSize}` });
}

/** A new task of a shard's blocks (none yet); the file's dictionary goes with the shard's first. */
function plannedTask(path: string, outcome: ReplayOutcome, d: ReplayDispatch, twins: boolean, whole: boolean, dictSent: boolean, shard: number): PlannedTask {
  const { header, headerCrc } = outcome.opened!;
  const b = header.blocks;
  const task: ReplayBlocksTask = {
    op: 'addReplay', windowSeconds: d.windowSeconds, path, headerCrc, ...(dictSent ? {} : { dict: header.dict }), shard, shards: d.shards,
    offset: [], length: [], bucket: [], rows: [], partition: d.partition, lateBefore: d.lateBefore ?? 0, into: d.into,
    capacityHint: d.capacityHint,
    ...(twins ? { twins: { offset: [], length: [], inbound: [], outbound: [], ...(whole ? { whole: [] } : {}) } } : {}),
    ...(whole ? { smallBelow: d.smallKeysBelow } : {}),
    ...(d.range ? { range: d.range, cut: [] } : {}),
  };
  return { task, outcome, outboundRows: b.outbound ? 0 : undefined };
}

/** The number of blocks of each bucket in a file's index. */
function blocksByBucket(bucket: number[]): Uint32Array {
  const blocks = new Uint32Array(SHARD_BUCKETS);
  for (const x of bucket) if (x < SHARD_BUCKETS) blocks[x]!++;
  return blocks;
}

/** Fill a replay file's report (and the run's rejects) from what its blocks gave. */
export function applyReplayOutcome(rep: FileReport, o: ReplayOutcome, rejects: ResolvedReject[], maxRejects: number): void {
  if (!o.opened) {
    rep.error = o.error;
    return;
  }
  const h = o.opened.header;
  for (const k of Object.keys(rep.counters) as (keyof FileReport['counters'])[]) rep.counters[k] += h.totals[k] ?? 0;
  // rows this run left out (--partition, late windows) are counted as the sink counts them
  const c = rep.counters;
  c.otherPartition += sum(o.replies, (r) => r.outsidePartition) + o.skipped.rows;
  c.outsideRange += sum(o.replies, (r) => r.outsideRange ?? 0);
  c.inbound -= sum(o.replies, (r) => r.outsideInbound + r.lateInbound + (r.outsideRangeInbound ?? 0)) + o.skipped.inbound;
  c.outbound -= sum(o.replies, (r) => r.outsideOutbound + r.lateOutbound + (r.outsideRangeOutbound ?? 0)) + o.skipped.outbound;
  const late = new Map<number, number>();
  for (const r of o.replies) for (const [w, n] of r.late) late.set(w, (late.get(w) ?? 0) + n);
  c.late += [...late.values()].reduce((s, n) => s + n, 0);
  rep.lateByWindow = [...late].sort((a, b) => a[0] - b[0]);
  rep.minStart = [...h.sources.map((s) => s.minStart ?? Infinity), ...h.blocks.minTime].reduce((a, b) => Math.min(a, b), Infinity);
  rep.maxEnd = [...h.sources.map((s) => s.maxEnd ?? -Infinity), ...h.blocks.maxTime].reduce((a, b) => Math.max(a, b), -Infinity);
  for (const r of h.rejects) if (rejects.length < maxRejects) rejects.push({ ...r });
  const corrupt = [...o.missing, ...o.replies.flatMap((r) => r.corrupt)].sort((a, b) => a.offset - b.offset);
  const report: ReplayReport = {
    sources: h.sources.map((s) => s.path),
    blocks: h.blocks.offset.length,
    blocks_read: sum(o.replies, (r) => r.blocks),
    rows: h.rows,
    rows_read: sum(o.replies, (r) => r.rows),
    corrupt_blocks: corrupt.length,
    corrupt_rows: corrupt.reduce((s, c) => s + c.rows, 0),
    outside_partition: sum(o.replies, (r) => r.outsidePartition) + o.skipped.rows,
    skipped_blocks: o.skipped.blocks,
    header_bytes: o.opened.dataStart,
    corrupt: corrupt.slice(0, MAX_CORRUPT_LISTED),
  };
  const failed = h.sources.filter((s) => s.error);
  if (failed.length) report.conversion_error = `at conversion ${failed.length} source file(s) could not be read: ${failed.map((s) => `${s.path}: ${s.error}`).join('; ')}`;
  rep.replay = report;
  rep.bytes = o.opened.dataStart + sum(o.replies, (r) => r.bytes);
  rep.decompressedBytes = sum(o.replies, (r) => r.rawBytes);
  const error = replayFileError(report);
  if (error) rep.error = error;
}

/** What a run says is wrong with a replay file: its damaged blocks, then what its conversion could not read. */
export function replayFileError(report: ReplayReport): string | undefined {
  const problems: string[] = [];
  const first = report.corrupt[0];
  if (first) {
    problems.push(`${report.corrupt_blocks} corrupt block(s) skipped (${report.corrupt_rows} records), first at byte ${first.offset}: ${first.reason}`);
  }
  if (report.conversion_error) problems.push(report.conversion_error);
  return problems.length ? problems.join('; ') : undefined;
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}
