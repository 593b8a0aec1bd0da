/**
 * `flowsieve convert`: read flow logs exactly as detect does (same parse pool, same
 * classification, same sharding by source-address bucket), but have the shard workers
 * write the records as replay blocks instead of accumulating them. The main thread then
 * merges the shards' dictionaries, has each shard write its part, and joins header and
 * parts into the output, written under a temporary name and renamed: the output is
 * complete or absent.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { pack } from 'msgpackr';
import type { SinkCounters } from '../flow/sink.js';
import { partitionOfBucket, SHARD_BUCKETS } from '../flow/hash.js';
import { Engine } from '../engine/run.js';
import type { DetectOptions, FileReport, ResolvedReject } from '../engine/types.js';
import { ENTRY_WINDOW, FILE_MAGIC, FILE_PREFIX, readReplayHeader, REPLAY_VERSION, type BlockIndex, type ReplayHeader, type ReplaySource } from './file.js';
import type { PartResult } from './spool.js';
import { ROW_CODEC_COLUMNS } from './row-codec.js';

export interface ConvertOptions extends DetectOptions {
  /** The replay file to write. */
  out: string;
  /** Rows a shard buffers before spilling a sorted run (bounds conversion memory). */
  runRows?: number;
  /** Rows per block at most. */
  blockRows?: number;
}

export const DEFAULT_CONVERT = { runRows: 1 << 18, blockRows: 1 << 16 };

export interface ConvertResult {
  out: string;
  files: FileReport[];
  totals: SinkCounters;
  rows: number;
  blocks: number;
  bytesIn: number;
  bytesOut: number;
  rejects: ResolvedReject[];
  wallSeconds: number;
  partial: boolean;
}

export async function convert(opts: ConvertOptions): Promise<ConvertResult> {
  return (await convertInto(opts, [{ out: opts.out, partition: opts.partition ?? null, split: false }]))[0]!;
}

/**
 * `convert --partitions P`: one pass over the input, P replay files, file p holding the
 * blocks of partition p of P (a partition is a range of source buckets, and a block holds
 * one bucket, so the blocks divide without being read). Each file's counters are the
 * run's as `detect --partition p/P` counts them: its rows' inbound and outbound counts,
 * every other row as other_partition. Its `sources` list carries the whole input's
 * per-file counters (rows are not kept per source file).
 */
export async function convertPartitioned(opts: ConvertOptions, partitions: number, outOf: (p: number) => string): Promise<ConvertResult[]> {
  if (opts.partition) throw new Error('a partitioned conversion reads the whole input');
  return convertInto(opts, Array.from({ length: partitions }, (_, p) => ({ out: outOf(p), partition: { index: p, count: partitions }, split: true })));
}

interface OutputFile {
  out: string;
  /** the partition the file's header names (null: the whole input) */
  partition: { index: number; count: number } | null;
  /** true: keep only that partition's blocks here (false: the sink already kept only its rows) */
  split: boolean;
}

async function convertInto(opts: ConvertOptions, outputs: OutputFile[]): Promise<ConvertResult[]> {
  const t0 = performance.now();
  const first = outputs[0]!.out;
  const work = join(dirname(first), `.${basename(first)}.${process.pid}.parts`);
  mkdirSync(work, { recursive: true });
  const tmps: string[] = [];
  // detect's engine, with shard workers that write blocks instead of accumulating
  const engine = new Engine({ ...opts, shardOp: 'convertAdd' });
  try {
    const runRows = opts.runRows ?? DEFAULT_CONVERT.runRows;
    await engine.onShards((s) => ({ op: 'convertBegin', spillPath: join(work, `spill-${s}`), runRows }));
    const ingest = await engine.ingest(opts.inputs);
    const { dict, toFile } = await mergeDictionaries(engine);
    const blockRows = opts.blockRows ?? DEFAULT_CONVERT.blockRows;
    const parts = await engine.onShards<PartResult>((s) => ({
      op: 'convertFinish', partPath: join(work, `part-${s}`), toFile: toFile[s]!, blockRows, wideIds: dict.length > 0xffff, entryWindow: ENTRY_WINDOW,
    }));
    const all = joinIndexes(parts);
    const sources = ingest.files.flatMap(sourcesOf);
    const results: ConvertResult[] = [];
    for (const o of outputs) {
      // a file of partition p of P takes the blocks of its buckets; a plain one takes all
      const split = o.split ? o.partition : null;
      const keep = all.bucket.map((b) => !split || partitionOfBucket(b, split.count) === split.index);
      const blocks = subsetIndex(all, keep);
      const header: ReplayHeader = {
        version: REPLAY_VERSION,
        tool: 'flowsieve',
        created: new Date().toISOString(),
        buckets: SHARD_BUCKETS,
        columns: [...ROW_CODEC_COLUMNS],
        dict,
        blocks,
        rows: blocks.rows.reduce((s, n) => s + n, 0),
        sources,
        totals: split ? partitionTotals(ingest.totals, all, keep) : ingest.totals,
        rejects: ingest.rejects,
        partition: o.partition,
        entryWindow: ENTRY_WINDOW,
      };
      const tmp = join(dirname(o.out), `.${basename(o.out)}.${process.pid}.tmp`);
      tmps.push(tmp);
      const bytesOut = writeReplayFile(tmp, header, parts, all, keep);
      results.push({
        out: o.out,
        files: ingest.files,
        totals: header.totals,
        rows: header.rows,
        blocks: blocks.offset.length,
        bytesIn: ingest.bytesIn,
        bytesOut,
        rejects: ingest.rejects,
        wallSeconds: 0,
        partial: ingest.partial,
      });
    }
    // every file complete, then all of them in place
    outputs.forEach((o, i) => renameSync(tmps[i]!, o.out));
    const seconds = (performance.now() - t0) / 1000;
    for (const r of results) r.wallSeconds = seconds;
    return results;
  } catch (err) {
    await engine.onShards(() => ({ op: 'convertAbort' })).catch(() => {});
    for (const t of tmps) rmSync(t, { force: true });
    throw err;
  } finally {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Block k of `from`'s index, appended to `out` at file offset `offset` (its twin at `entryOffset`). */
function pushBlock(out: BlockIndex, from: BlockIndex, k: number, offset: number, entryOffset: number): void {
  out.offset.push(offset);
  out.length.push(from.length[k]!);
  out.bucket.push(from.bucket[k]!);
  out.rows.push(from.rows[k]!);
  out.minTime.push(from.minTime[k]!);
  out.maxTime.push(from.maxTime[k]!);
  out.inbound!.push(from.inbound![k]!);
  out.outbound!.push(from.outbound![k]!);
  out.entryOffset!.push(entryOffset);
  out.entryLength!.push(from.entryLength![k]!);
  out.entryRows!.push(from.entryRows![k]!);
}

function emptyIndex(): BlockIndex {
  return { offset: [], length: [], bucket: [], rows: [], minTime: [], maxTime: [], inbound: [], outbound: [], entryOffset: [], entryLength: [], entryRows: [] };
}

/**
 * The blocks with keep[k], offsets from the first kept block; their entry-row twins after
 * every kept rows block, in the same order.
 */
function subsetIndex(all: BlockIndex, keep: boolean[]): BlockIndex {
  const out = emptyIndex();
  let rowsBytes = 0;
  for (let k = 0; k < all.offset.length; k++) if (keep[k]) rowsBytes += all.length[k]!;
  let at = 0;
  let twinAt = rowsBytes;
  for (let k = 0; k < all.offset.length; k++) {
    if (!keep[k]) continue;
    pushBlock(out, all, k, at, twinAt);
    at += all.length[k]!;
    twinAt += all.entryLength![k]!;
  }
  return out;
}

/** The run's counters as a --partition run counts them: only the kept rows feed the detectors. */
function partitionTotals(totals: SinkCounters, all: BlockIndex, keep: boolean[]): SinkCounters {
  let inbound = 0;
  let outbound = 0;
  let other = 0;
  for (let k = 0; k < keep.length; k++) {
    if (keep[k]) {
      inbound += all.inbound![k]!;
      outbound += all.outbound![k]!;
    } else other += all.rows[k]!;
  }
  return { ...totals, inbound, outbound, otherPartition: totals.otherPartition + other };
}

/** The source files a file stands for: itself, or for a replay file the files it came from. */
function sourcesOf(rep: FileReport): ReplaySource[] {
  if (rep.format === 'replay' && rep.replay) {
    try {
      return readReplayHeader(rep.path).header.sources;
    } catch {
      // unreadable since: the report below names it
    }
  }
  return [sourceOf(rep)];
}

function sourceOf(rep: FileReport): ReplaySource {
  return {
    path: rep.path,
    format: rep.format,
    gzip: rep.gzip,
    bytes: rep.bytes,
    decompressedBytes: rep.decompressedBytes,
    counters: rep.counters,
    minStart: rep.minStart,
    maxEnd: rep.maxEnd,
    ...(rep.error ? { error: rep.error } : {}),
  };
}

/** One sorted dictionary for the file, and each shard's id -> file id. */
async function mergeDictionaries(engine: Engine): Promise<{ dict: string[]; toFile: Uint32Array[] }> {
  const shardDicts = await engine.onShards<string[]>(() => ({ op: 'convertDict' }));
  const all = new Set<string>();
  for (const d of shardDicts) for (const s of d) if (s !== '') all.add(s);
  const dict = ['', ...[...all].sort()];
  const id = new Map(dict.map((s, i) => [s, i]));
  const toFile = shardDicts.map((d) => Uint32Array.from(d, (s) => id.get(s)!));
  return { dict, toFile };
}

/** The parts' block indexes, one after the other, with offsets from the first block. */
/** (Twins: offsets from the first part's first twin, the parts' twin files one after the other.) */
function joinIndexes(parts: PartResult[]): BlockIndex {
  const out = emptyIndex();
  let base = 0;
  let twinBase = 0;
  for (const p of parts) {
    const b = p.blocks;
    for (let k = 0; k < b.offset.length; k++) pushBlock(out, b, k, base + b.offset[k]!, twinBase + b.entryOffset![k]!);
    base += p.bytes;
    twinBase += p.entriesBytes;
  }
  return out;
}

/**
 * Write prefix, header and the kept blocks (`all` indexes the parts one after the other)
 * to `path` and fsync it. Returns its size.
 */
function writeReplayFile(path: string, header: ReplayHeader, parts: PartResult[], all: BlockIndex, keep: boolean[]): number {
  const h = pack(header);
  const prefix = Buffer.alloc(FILE_PREFIX);
  prefix.write(FILE_MAGIC, 0, 'latin1');
  prefix.writeUInt32LE(REPLAY_VERSION, 8);
  prefix.writeUInt32LE(h.length, 12);
  prefix.writeUInt32LE(crc32(h), 16);
  const fd = openSync(path, 'w');
  try {
    let pos = 0;
    const put = (b: Uint8Array, n = b.length) => {
      writeSync(fd, b, 0, n, pos);
      pos += n;
    };
    put(prefix);
    put(h);
    const buf = Buffer.allocUnsafe(4 << 20);
    copyKept(put, buf, parts.map((p) => ({ path: p.path, bytes: p.bytes })), all.offset, all.length, keep);
    copyKept(put, buf, parts.map((p) => ({ path: p.entriesPath!, bytes: p.entriesBytes })), all.entryOffset!, all.entryLength!, keep);
    fsyncSync(fd);
    return pos;
  } finally {
    closeSync(fd);
  }
}

/**
 * Copy the kept frames (`offset`/`length` index the files one after the other) through `put`,
 * runs of consecutive kept frames a buffer at a time.
 */
function copyKept(put: (b: Uint8Array, n?: number) => void, buf: Buffer, files: Array<{ path: string; bytes: number }>, offset: number[], length: number[], keep: boolean[]): void {
  let k = 0; // the next frame
  let base = 0; // offset of the current file's first frame
  for (const f of files) {
    if (f.bytes === 0) continue;
    const src = openSync(f.path, 'r');
    try {
      for (; k < offset.length && offset[k]! < base + f.bytes; ) {
        if (!keep[k]) {
          k++;
          continue;
        }
        const from = offset[k]! - base;
        let to = from;
        while (k < offset.length && keep[k] && offset[k]! < base + f.bytes) to += length[k++]!;
        for (let at = from; at < to; ) {
          const got = readSync(src, buf, 0, Math.min(buf.length, to - at), at);
          if (got === 0) throw new Error(`replay part ${f.path} ends at ${at}, frames run to ${to}`);
          put(buf, got);
          at += got;
        }
      }
    } finally {
      closeSync(src);
    }
    base += f.bytes;
  }
}

