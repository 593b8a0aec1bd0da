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
import { SHARD_BUCKETS } from '../engine/hash.js';
import { Engine, type DetectOptions, type FileReport, type ResolvedReject } from '../engine/run.js';
import { FILE_MAGIC, FILE_PREFIX, readReplayHeader, REPLAY_VERSION, type BlockIndex, type ReplayHeader, type ReplaySource } from './file.js';
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
  const t0 = performance.now();
  const work = join(dirname(opts.out), `.${basename(opts.out)}.${process.pid}.parts`);
  const tmp = join(dirname(opts.out), `.${basename(opts.out)}.${process.pid}.tmp`);
  mkdirSync(work, { recursive: true });
  // detect's engine, with shard workers that write blocks instead of accumulating
  const engine = new Engine({ ...opts, shardOp: 'convertAdd' });
  try {
    const runRows = opts.runRows ?? DEFAULT_CONVERT.runRows;
    await engine.onShards((s) => ({ op: 'convertBegin', spillPath: join(work, `spill-${s}`), runRows }));
    const ingest = await engine.ingest(opts.inputs);
    const { dict, toFile } = await mergeDictionaries(engine);
    const blockRows = opts.blockRows ?? DEFAULT_CONVERT.blockRows;
    const parts = await engine.onShards<PartResult>((s) => ({
      op: 'convertFinish', partPath: join(work, `part-${s}`), toFile: toFile[s]!, blockRows, wideIds: dict.length > 0xffff,
    }));
    const header: ReplayHeader = {
      version: REPLAY_VERSION,
      tool: 'flowsieve',
      created: new Date().toISOString(),
      buckets: SHARD_BUCKETS,
      columns: [...ROW_CODEC_COLUMNS],
      dict,
      blocks: joinIndexes(parts),
      rows: parts.reduce((s, p) => s + p.rows, 0),
      sources: ingest.files.flatMap(sourcesOf),
      totals: ingest.totals,
      rejects: ingest.rejects,
      partition: opts.partition ?? null,
    };
    const bytesOut = writeReplayFile(tmp, header, parts);
    renameSync(tmp, opts.out);
    return {
      out: opts.out,
      files: ingest.files,
      totals: ingest.totals,
      rows: header.rows,
      blocks: header.blocks.offset.length,
      bytesIn: ingest.bytesIn,
      bytesOut,
      rejects: ingest.rejects,
      wallSeconds: (performance.now() - t0) / 1000,
      partial: ingest.partial,
    };
  } catch (err) {
    await engine.onShards(() => ({ op: 'convertAbort' })).catch(() => {});
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    await engine.close();
    rmSync(work, { recursive: true, force: true });
  }
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
function joinIndexes(parts: PartResult[]): BlockIndex {
  const out: BlockIndex = { offset: [], length: [], bucket: [], rows: [], minTime: [], maxTime: [], inbound: [], outbound: [] };
  let base = 0;
  for (const p of parts) {
    const b = p.blocks;
    for (let k = 0; k < b.offset.length; k++) {
      out.offset.push(base + b.offset[k]!);
      out.length.push(b.length[k]!);
      out.bucket.push(b.bucket[k]!);
      out.rows.push(b.rows[k]!);
      out.minTime.push(b.minTime[k]!);
      out.maxTime.push(b.maxTime[k]!);
      out.inbound!.push(b.inbound![k]!);
      out.outbound!.push(b.outbound![k]!);
    }
    base += p.bytes;
  }
  return out;
}

/** Write prefix, header and the parts' blocks to `path` and fsync it. Returns its size. */
function writeReplayFile(path: string, header: ReplayHeader, parts: PartResult[]): number {
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
    for (const p of parts) {
      const src = openSync(p.path, 'r');
      try {
        let at = 0;
        for (;;) {
          const got = readSync(src, buf, 0, buf.length, at);
          if (got === 0) break;
          put(buf, got);
          at += got;
        }
        if (at !== p.bytes) throw new Error(`replay part ${p.path} has ${at} bytes, expected ${p.bytes}`);
      } finally {
        closeSync(src);
      }
    }
    fsyncSync(fd);
    return pos;
  } finally {
    closeSync(fd);
  }
}
