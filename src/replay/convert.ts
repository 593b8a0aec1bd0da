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
import { Piscina } from 'piscina';
import { planInputs } from '../input/plan.js';
import { addCounters, newCounters, type SinkCounters } from '../flow/sink.js';
import { SHARD_BUCKETS } from '../engine/hash.js';
import { planJobs, runWithConcurrency, transferOf, workerFile, type DetectOptions, type FileReport, type ResolvedReject } from '../engine/run.js';
import { parseJobRunner } from '../engine/parse-jobs.js';
import type { ParseResult } from '../engine/tasks.js';
import { FILE_MAGIC, FILE_PREFIX, REPLAY_VERSION, type BlockIndex, type ReplayHeader, type ReplaySource } from './file.js';
import { applyReplayOutcome, replayInputs } from './input.js';
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
  const N = Math.max(1, Math.floor(opts.workers));
  const files = planInputs(opts.inputs, { format: opts.format, account: opts.account, region: opts.region, awsFields: opts.awsFields });
  const reports: FileReport[] = files.map((f) => ({
    path: f.display, format: f.format, gzip: f.gzip, bytes: 0, decompressedBytes: 0, counters: newCounters(), error: f.error,
  }));
  const chunkResults: ParseResult[][] = files.map(() => []);
  const work = join(dirname(opts.out), `.${basename(opts.out)}.${process.pid}.parts`);
  const tmp = join(dirname(opts.out), `.${basename(opts.out)}.${process.pid}.tmp`);
  mkdirSync(work, { recursive: true });
  const parsePool = new Piscina({ filename: workerFile('parse'), minThreads: N, maxThreads: N, idleTimeout: 60_000 });
  const shardPools = Array.from(
    { length: N },
    () => new Piscina({ filename: workerFile('shard'), minThreads: 1, maxThreads: 1, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1 }),
  );
  try {
    const runRows = opts.runRows ?? DEFAULT_CONVERT.runRows;
    await Promise.all(shardPools.map((p, s) => p.run({ op: 'convertBegin', spillPath: join(work, `spill-${s}`), runRows })));
    const replayed = replayInputs(files, shardPools, { shards: N, windowSeconds: opts.windowSeconds, partition: opts.partition, into: 'spool' });
    replayed.catch(() => {});
    const runner = parseJobRunner({
      parsePool,
      inflightLimit: 4 * N + 4,
      route: (m) => shardPools[m.shard]!.run({ op: 'convertAdd', batch: m.batch }, { transferList: transferOf(m) }),
      onResult: (job, r) => void (chunkResults[job.file]![job.chunk] = r),
    });
    await runWithConcurrency(planJobs(files, opts, N)(), N + 1, runner.run);
    await runner.routed();
    const outcomes = await replayed;

    const rejects: ResolvedReject[] = [];
    const sources: ReplaySource[] = [];
    files.forEach((f, i) => {
      const rep = reports[i]!;
      const o = outcomes.get(i);
      if (o) {
        applyReplayOutcome(rep, o, rejects, opts.maxRejects);
        if (o.opened) sources.push(...o.opened.header.sources);
        else sources.push(sourceOf(rep));
        return;
      }
      collectChunks(rep, chunkResults[i]!, rejects, opts.maxRejects, f.display);
      sources.push(sourceOf(rep));
    });
    const totals = newCounters();
    for (const r of reports) addCounters(totals, r.counters);

    const { dict, toFile } = await mergeDictionaries(shardPools);
    const blockRows = opts.blockRows ?? DEFAULT_CONVERT.blockRows;
    const parts = (await Promise.all(
      shardPools.map((p, s) => p.run({ op: 'convertFinish', partPath: join(work, `part-${s}`), toFile: toFile[s], blockRows, wideIds: dict.length > 0xffff })),
    )) as PartResult[];
    const header: ReplayHeader = {
      version: REPLAY_VERSION,
      tool: 'flowsieve',
      created: new Date().toISOString(),
      buckets: SHARD_BUCKETS,
      columns: [...ROW_CODEC_COLUMNS],
      dict,
      blocks: joinIndexes(parts),
      rows: parts.reduce((s, p) => s + p.rows, 0),
      sources,
      totals,
      rejects,
      partition: opts.partition ?? null,
    };
    const bytesOut = writeReplayFile(tmp, header, parts);
    renameSync(tmp, opts.out);
    return {
      out: opts.out,
      files: reports,
      totals,
      rows: header.rows,
      blocks: header.blocks.offset.length,
      bytesIn: reports.reduce((s, r) => s + r.bytes, 0),
      bytesOut,
      rejects,
      wallSeconds: (performance.now() - t0) / 1000,
      partial: reports.some((r) => r.error),
    };
  } catch (err) {
    await Promise.allSettled(shardPools.map((p) => p.run({ op: 'convertAbort' })));
    rmSync(tmp, { force: true });
    throw err;
  } finally {
    await Promise.all([parsePool.destroy(), ...shardPools.map((p) => p.destroy())]);
    rmSync(work, { recursive: true, force: true });
  }
}

/** Counters, bytes, first error and rejects (with file line numbers) of a parsed file. */
function collectChunks(rep: FileReport, chunks: ParseResult[], rejects: ResolvedReject[], maxRejects: number, file: string): void {
  let lineBase = 0;
  for (const r of chunks) {
    if (!r) continue;
    addCounters(rep.counters, r.counters);
    rep.bytes += r.bytesIn;
    rep.decompressedBytes += r.bytesOut;
    if (r.error && !rep.error) rep.error = r.error.offset >= 0 ? `${r.error.message} (at byte ${r.error.offset})` : r.error.message;
    for (const rj of r.rejects) {
      if (rejects.length < maxRejects) rejects.push({ ...rj, line: rj.line > 0 ? rj.line + lineBase : 0, file });
    }
    lineBase += r.lines;
  }
}

function sourceOf(rep: FileReport): ReplaySource {
  return {
    path: rep.path,
    format: rep.format,
    gzip: rep.gzip,
    bytes: rep.bytes,
    decompressedBytes: rep.decompressedBytes,
    counters: rep.counters,
    ...(rep.error ? { error: rep.error } : {}),
  };
}

/** One sorted dictionary for the file, and each shard's id -> file id. */
async function mergeDictionaries(shardPools: Piscina[]): Promise<{ dict: string[]; toFile: Uint32Array[] }> {
  const shardDicts = (await Promise.all(shardPools.map((p) => p.run({ op: 'convertDict' })))) as string[][];
  const all = new Set<string>();
  for (const d of shardDicts) for (const s of d) if (s !== '') all.add(s);
  const dict = ['', ...[...all].sort()];
  const id = new Map(dict.map((s, i) => [s, i]));
  const toFile = shardDicts.map((d) => Uint32Array.from(d, (s) => id.get(s)!));
  return { dict, toFile };
}

/** The parts' block indexes, one after the other, with offsets from the first block. */
function joinIndexes(parts: PartResult[]): BlockIndex {
  const out: BlockIndex = { offset: [], length: [], bucket: [], rows: [], minTime: [], maxTime: [] };
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
