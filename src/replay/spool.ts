/**
 * The conversion side of a shard worker: instead of accumulating its shard's records,
 * it groups them by source-address bucket and writes them as 'rows' blocks.
 *
 * Memory is bounded by the run buffer: when it fills, its rows are sorted by bucket
 * (counting sort) and written to a spill file as one small piece per bucket. At the end,
 * every bucket's pieces and the rows still in memory are joined into blocks of up to
 * `blockRows` rows, with dictionary ids rewritten to the file's dictionary, and written
 * to this shard's part file; the main thread concatenates the parts.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import type { FlowBatchData } from '../flow/batch.js';
import { StringDict } from '../flow/dict.js';
import { bucketOf, hashAddress, SHARD_BUCKETS } from '../engine/hash.js';
import { decodeBlock, encodeBlock } from './block.js';
import { ROWS_KIND, type BlockIndex } from './file.js';
import { allocBatch, copyRows, entryOrder, gatherRows, remapIds, timeRange } from './rows.js';
import { decodeRows, encodeRows, RowScratch } from './row-codec.js';

const PIECE_KIND = 'rows-piece';

export interface PartResult {
  path: string;
  bytes: number;
  rows: number;
  blocks: BlockIndex; // offsets relative to the start of the part
}

export class RowSpool {
  private run: FlowBatchData;
  private bucket: Uint16Array;
  private readonly dict = new StringDict();
  private readonly scratch = new RowScratch();
  private idMap = new Uint32Array(256);
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
    this.bucket = new Uint16Array(runRows);
  }

  /** Append a batch's rows (its ids are batch-local: they are mapped to this shard's dictionary). */
  add(batch: FlowBatchData): void {
    const strings = batch.strings;
    if (this.idMap.length < strings.length) this.idMap = new Uint32Array(strings.length * 2);
    for (let k = 0; k < strings.length; k++) this.idMap[k] = this.dict.idOf(strings[k]!);
    let from = 0;
    while (from < batch.n) {
      const take = Math.min(batch.n - from, this.runRows - this.run.n);
      const at = this.run.n;
      copyRows(batch, from, take, this.run, at);
      remapIds(this.run, at, at + take, this.idMap);
      for (let i = at; i < at + take; i++) this.bucket[i] = bucketOf(hashAddress(this.run.src, i * 4));
      this.run.n += take;
      from += take;
      if (this.run.n === this.runRows) this.spillRun();
    }
    this.rows += batch.n;
  }

  /** This shard's dictionary: the main thread merges them into the file's. */
  dictionary(): string[] {
    return this.dict.strings;
  }

  /** The run's rows ordered by bucket, and where each bucket's rows start. */
  private sortedRun(): { rows: FlowBatchData; start: Int32Array } {
    const n = this.run.n;
    const start = new Int32Array(SHARD_BUCKETS + 1);
    for (let i = 0; i < n; i++) start[this.bucket[i]! + 1]!++;
    for (let b = 0; b < SHARD_BUCKETS; b++) start[b + 1]! += start[b]!;
    const fill = start.slice(0, SHARD_BUCKETS);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[fill[this.bucket[i]!]!++] = i;
    const rows = allocBatch(n);
    gatherRows(this.run, order, rows);
    return { rows, start };
  }

  private spillRun(): void {
    if (this.spillFd < 0) this.spillFd = openSync(this.spillPath, 'w+');
    const { rows, start } = this.sortedRun();
    for (let b = 0; b < SHARD_BUCKETS; b++) {
      const count = start[b + 1]! - start[b]!;
      if (count === 0) continue;
      const piece = allocBatch(count);
      copyRows(rows, start[b]!, count, piece, 0);
      piece.n = count;
      const frame = encodeBlock({ kind: PIECE_KIND, rows: count, bucket: b, minTime: 0, maxTime: 0, columns: encodeRows(piece, count, true) });
      writeSync(this.spillFd, frame, 0, frame.length, this.spillBytes);
      this.pieces[b]!.push(this.spillBytes, frame.length);
      this.spillBytes += frame.length;
    }
    this.run.n = 0;
  }

  /**
   * Write every bucket's rows as blocks to `partPath`, ids rewritten through `toFile`
   * (this shard's dictionary id -> the file's), and forget them.
   */
  finish(partPath: string, toFile: Uint32Array, blockRows: number, wideIds: boolean): PartResult {
    const { rows: tail, start } = this.sortedRun();
    this.run.n = 0;
    const out = openSync(partPath, 'w');
    const blocks: BlockIndex = { offset: [], length: [], bucket: [], rows: [], minTime: [], maxTime: [] };
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
        blocks.rows.push(block.n);
        blocks.minTime.push(minTime);
        blocks.maxTime.push(maxTime);
        bytes += frame.length;
        written += block.n;
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
        append(tail, start[b]!, start[b + 1]! - start[b]!, b);
        emit(b);
      }
    } finally {
      closeSync(out);
      this.dropSpill();
    }
    if (written !== this.rows) throw new Error(`replay part holds ${written} rows, the shard received ${this.rows}`);
    return { path: partPath, bytes, rows: written, blocks };
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
