/**
 * The conversion side of a shard worker: instead of accumulating its shard's records,
 * it groups them by source-address bucket and writes them as 'rows' blocks.
 *
 * Each arriving batch is sorted by bucket while it is small (a counting sort over a
 * batch that fits in cache) and appended to the run buffer as a segment. When the run
 * is full, each bucket's ranges of all segments (contiguous copies) become one piece in
 * a spill file. At the end, every bucket's pieces and the rows still in memory are joined
 * into blocks of up to `blockRows` rows, each sorted by entry, with dictionary ids
 * rewritten to the file's dictionary, and written to this shard's part file; the main
 * thread concatenates the parts. Memory: the run buffer and one block.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { FlowBatchData } from '../flow/batch.js';
import { StringDict } from '../flow/dict.js';
import { bucketOf, hashAddress, SHARD_BUCKETS } from '../flow/hash.js';
import { decodeBlock, encodeBlock } from './block.js';
import { ENTRY_ROWS_KIND, ROWS_KIND, type BlockIndex } from './file.js';
import { ENTRY_ROWS_COLUMN, EntryRowsBuilder } from './entry-rows.js';
import { Feed } from '../flow/types.js';
import { allocBatch, copyRows, entryOrder, gatherRows, remapIds, timeRange } from './rows.js';
import { decodeRows, encodeRows, RowScratch } from './row-codec.js';

const PIECE_KIND = 'rows-piece';

export interface PartResult {
  path: string;
  bytes: number;
  rows: number;
  blocks: BlockIndex; // offsets relative to the start of the part; entryOffset relative to the start of `entriesPath`
  /** The blocks' entry-row twins, one after the other (entryWindow given): written after all rows blocks. */
  entriesPath?: string;
  entriesBytes: number;
}

/** Rows of the run buffer sorted by bucket: bucket b is rows [start[b], start[b+1]). */
interface Segment {
  start: Int32Array; // SHARD_BUCKETS + 1 run positions
}

export class RowSpool {
  private readonly run: FlowBatchData;
  private segments: Segment[] = [];
  private readonly dict = new StringDict();
  private readonly scratch = new RowScratch();
  private idMap = new Uint32Array(256);
  private bucket = new Uint16Array(0);
  private order = new Int32Array(0);
  private spillFd = -1;
  private spillBytes = 0;
  /** pieces per bucket: [offset, length] pairs in the spill file */
  private readonly pieces: number[][] = Array.from({ length: SHARD_BUCKETS }, () => []);
  rows = 0;

  constructor(
    private readonly spillPath: string,
    private readonly runRows: number,
  ) {
    this.run = allocBatch(runRows);
  }

  /** Append a batch's rows (its ids are batch-local: they are mapped to this shard's dictionary). */
  add(batch: FlowBatchData): void {
    const strings = batch.strings;
    if (this.idMap.length < strings.length) this.idMap = new Uint32Array(strings.length * 2);
    for (let k = 0; k < strings.length; k++) this.idMap[k] = this.dict.idOf(strings[k]!);
    let from = 0;
    while (from < batch.n) {
      if (this.run.n === this.runRows) this.spillRun();
      const take = Math.min(batch.n - from, this.runRows - this.run.n);
      this.appendSorted(batch, from, take);
      from += take;
    }
    this.rows += batch.n;
  }

  /** Rows [from, from+count) of a batch, sorted by bucket, as a new segment of the run. */
  private appendSorted(batch: FlowBatchData, from: number, count: number): void {
    if (this.bucket.length < count) {
      this.bucket = new Uint16Array(count);
      this.order = new Int32Array(count);
    }
    const start = new Int32Array(SHARD_BUCKETS + 1);
    for (let k = 0; k < count; k++) {
      const b = bucketOf(hashAddress(batch.src, (from + k) * 4));
      this.bucket[k] = b;
      start[b + 1]!++;
    }
    for (let b = 0; b < SHARD_BUCKETS; b++) start[b + 1]! += start[b]!;
    const fill = start.slice(0, SHARD_BUCKETS);
    const order = this.order.subarray(0, count);
    for (let k = 0; k < count; k++) order[fill[this.bucket[k]!]!++] = from + k;
    const at = this.run.n;
    gatherRows(batch, order, this.run, at);
    remapIds(this.run, at, at + count, this.idMap);
    for (let b = 0; b <= SHARD_BUCKETS; b++) start[b]! += at;
    this.segments.push({ start });
    this.run.n = at + count;
  }

  /** This shard's dictionary: the main thread merges them into the file's. */
  dictionary(): string[] {
    return this.dict.strings;
  }

  /** Append bucket b's rows of every segment of the run to `into` (through `add`). */
  private runRowsOf(b: number, add: (src: FlowBatchData, from: number, count: number) => void): void {
    for (const seg of this.segments) {
      const n = seg.start[b + 1]! - seg.start[b]!;
      if (n > 0) add(this.run, seg.start[b]!, n);
    }
  }

  private spillRun(): void {
    if (this.spillFd < 0) this.spillFd = openSync(this.spillPath, 'w+');
    for (let b = 0; b < SHARD_BUCKETS; b++) {
      let count = 0;
      for (const seg of this.segments) count += seg.start[b + 1]! - seg.start[b]!;
      if (count === 0) continue;
      const piece = allocBatch(count);
      this.runRowsOf(b, (src, from, n) => {
        copyRows(src, from, n, piece, piece.n);
        piece.n += n;
      });
      const frame = encodeBlock({ kind: PIECE_KIND, rows: count, bucket: b, minTime: 0, maxTime: 0, columns: encodeRows(piece, count, true) });
      writeSync(this.spillFd, frame, 0, frame.length, this.spillBytes);
      this.pieces[b]!.push(this.spillBytes, frame.length);
      this.spillBytes += frame.length;
    }
    this.run.n = 0;
    this.segments = [];
  }

  /**
   * Write every bucket's rows as blocks to `partPath`, ids rewritten through `toFile`
   * (this shard's dictionary id -> the file's), and forget them.
   */
  finish(partPath: string, toFile: Uint32Array, blockRows: number, wideIds: boolean, entryWindow?: number): PartResult {
    const out = openSync(partPath, 'w');
    const entriesPath = entryWindow ? `${partPath}.entries` : undefined;
    const entriesOut = entriesPath ? openSync(entriesPath, 'w') : -1;
    const twins = entryWindow ? new EntryRowsBuilder() : null;
    const blocks: BlockIndex = { offset: [], length: [], bucket: [], rows: [], minTime: [], maxTime: [], inbound: [], outbound: [] };
    if (twins) Object.assign(blocks, { entryOffset: [], entryLength: [], entryRows: [] });
    let entriesBytes = 0;
    let bytes = 0;
    let written = 0;
    const block = allocBatch(blockRows);
    const sorted = allocBatch(blockRows);
    try {
      const emit = (bucket: number) => {
        if (block.n === 0) return;
        remapIds(block, 0, block.n, toFile);
        gatherRows(block, entryOrder(block), sorted);
        const [minTime, maxTime] = timeRange(sorted);
        const frame = encodeBlock({ kind: ROWS_KIND, rows: sorted.n, bucket, minTime, maxTime, columns: encodeRows(sorted, sorted.n, wideIds) });
        writeSync(out, frame, 0, frame.length, bytes);
        blocks.offset.push(bytes);
        blocks.length.push(frame.length);
        blocks.bucket.push(bucket);
        blocks.rows.push(sorted.n);
        blocks.minTime.push(minTime);
        blocks.maxTime.push(maxTime);
        let inbound = 0;
        let outbound = 0;
        for (let i = 0; i < sorted.n; i++) {
          if (sorted.feed[i]! & Feed.inbound) inbound++;
          if (sorted.feed[i]! & Feed.outbound) outbound++;
        }
        blocks.inbound!.push(inbound);
        blocks.outbound!.push(outbound);
        if (twins) {
          const twin = entryFrame(twins, sorted, entryWindow!, bucket, minTime, maxTime, wideIds);
          writeSync(entriesOut, twin.frame, 0, twin.frame.length, entriesBytes);
          blocks.entryOffset!.push(entriesBytes);
          blocks.entryLength!.push(twin.frame.length);
          blocks.entryRows!.push(twin.rows);
          entriesBytes += twin.frame.length;
        }
        bytes += frame.length;
        written += sorted.n;
        block.n = 0;
      };
      const append = (src: FlowBatchData, from: number, count: number, bucket: number) => {
        while (count > 0) {
          const take = Math.min(count, blockRows - block.n);
          copyRows(src, from, take, block, block.n);
          block.n += take;
          from += take;
          count -= take;
          if (block.n === blockRows) emit(bucket);
        }
      };
      for (let b = 0; b < SHARD_BUCKETS; b++) {
        const list = this.pieces[b]!;
        for (let k = 0; k < list.length; k += 2) {
          const piece = this.readPiece(list[k]!, list[k + 1]!);
          append(piece, 0, piece.n, b);
        }
        this.runRowsOf(b, (src, from, n) => append(src, from, n, b));
        emit(b);
      }
    } finally {
      closeSync(out);
      if (entriesOut >= 0) closeSync(entriesOut);
      this.dropSpill();
    }
    this.run.n = 0;
    this.segments = [];
    if (written !== this.rows) throw new Error(`replay part holds ${written} rows, the shard received ${this.rows}`);
    return { path: partPath, bytes, rows: written, blocks, entriesPath, entriesBytes };
  }

  private readPiece(offset: number, length: number): FlowBatchData {
    const frame = Buffer.allocUnsafe(length);
    readSync(this.spillFd, frame, 0, length, offset);
    const { header, columns } = decodeBlock(frame, PIECE_KIND);
    return decodeRows(columns, header.rows, this.dict.strings, this.scratch);
  }

  /** Remove the spill file (also when a conversion fails). */
  dropSpill(): void {
    if (this.spillFd >= 0) closeSync(this.spillFd);
    this.spillFd = -1;
    rmSync(this.spillPath, { force: true });
    for (const l of this.pieces) l.length = 0;
  }
}

/** A block's twin: its rows merged into entry rows (entry-rows.ts), as one frame. */
function entryFrame(
  twins: EntryRowsBuilder, sorted: FlowBatchData, entryWindow: number, bucket: number, minTime: number, maxTime: number, wideIds: boolean,
): { frame: Buffer; rows: number } {
  const { batch, flows } = twins.merge(sorted, entryWindow);
  const columns = encodeRows(batch, batch.n, wideIds);
  columns.push([ENTRY_ROWS_COLUMN, flows, batch.n]);
  return { frame: encodeBlock({ kind: ENTRY_ROWS_KIND, rows: batch.n, bucket, minTime, maxTime, columns }), rows: batch.n };
}

