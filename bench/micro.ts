/**
 * Micro-benchmarks (tinybench), one thread: parse per format, hash + shard, accumulate,
 * merge, lz4 decode and replay-block decode. `npm run bench` (about a minute).
 * Options: --time MS per task (default 800), --records N for the generated AWS sample.
 */
import { Bench } from 'tinybench';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { uncompressSync } from 'lz4-napi';
import { FlowSink } from '../src/flow/sink.js';
import type { FlowBatchData } from '../src/flow/batch.js';
import { readerFor } from '../src/formats/registry.js';
import type { FormatName, ReaderContext } from '../src/formats/types.js';
import { readLineBytes } from '../src/input/read.js';
import { sniffFormat } from '../src/formats/sniff.js';
import { hashAddress, shardOf } from '../src/flow/hash.js';
import { ScanTable } from '../src/engine/scan-table.js';
import { encodeBlock, readBlockHeader } from '../src/replay/block.js';
import { encodeRows, RowScratch } from '../src/replay/row-codec.js';
import { decodeRowsBlock, ROWS_KIND } from '../src/replay/file.js';
import { Feed } from '../src/flow/types.js';
import { FIXTURES, fixtureFiles } from './fixtures.js';
import { generateAws } from './gen-aws.js';
import { numArg as arg } from './args.js';

const W = 21600;

interface Row {
  name: string;
  records: number; // per iteration
  bytes: number; // per iteration (0: not a byte-stream task)
}

function parseOnce(buf: Uint8Array, format: FormatName, keep?: FlowBatchData[], batchSize = 16384): number {
  const sink = new FlowSink({ shards: 2, batchSize, maxRejectsKept: 0 }, (_s, b) => keep?.push(b));
  const reader = readerFor(format)!;
  const ctx: ReaderContext = { sink, file: 'bench', account: '', region: '' };
  if (reader.kind === 'lines') readLineBytes(buf, reader.open(ctx), 1 << 20, 0);
  else if (reader.kind === 'document') reader.parseDocument(buf, ctx);
  sink.flushAll();
  return sink.counters.records;
}

/** A line file's bytes repeated (newline-separated) to at least `size` bytes. */
function repeated(buf: Uint8Array, size: number): Uint8Array {
  const one = buf[buf.length - 1] === 10 ? buf : Buffer.concat([buf, Buffer.from('\n')]);
  return Buffer.concat(Array.from({ length: Math.max(1, Math.ceil(size / one.length)) }, () => one));
}

/** One sample per line format with a fixture that parses, repeated to 1 MB (fixture content, so rates are indicative). */
function fixtureSamples(): Array<{ format: FormatName; file: string; buf: Uint8Array }> {
  const out: Array<{ format: FormatName; file: string; buf: Uint8Array }> = [];
  const seen = new Set<string>();
  for (const f of fixtureFiles()) {
    if (/expected|\.ya?ml$|\.md$/.test(f)) continue;
    const buf = readFileSync(f);
    const format = sniffFormat(buf.subarray(0, 65536), f);
    if (!format || seen.has(format) || !readerFor(format) || readerFor(format)!.kind === 'blocks') continue;
    if (readerFor(format)!.kind !== 'lines' || parseOnce(buf, format, undefined, 256) < 1) continue;
    seen.add(format);
    out.push({ format, file: relative(FIXTURES, f), buf: repeated(buf, 1 << 20) });
  }
  return out;
}

async function main(): Promise<void> {
  const time = arg('time', 800);
  const dir = mkdtempSync(join(tmpdir(), 'flowsieve-bench-'));
  const sampleFile = join(dir, 'aws.log');
  generateAws(sampleFile, { records: arg('records', 40_000), seed: 11 });
  const aws = readFileSync(sampleFile);
  rmSync(dir, { recursive: true, force: true });

  const batches: FlowBatchData[] = [];
  const awsRecords = parseOnce(aws, 'aws-text', batches);
  const inbound = batches.reduce((s, b) => s + countInbound(b), 0);
  const rows = batches.reduce((s, b) => s + b.n, 0);
  const addrs = new Uint32Array(rows * 4);
  let k = 0;
  for (const b of batches) {
    addrs.set(b.src.subarray(0, b.n * 4), k);
    k += b.n * 4;
  }
  const dict = [''];
  const frames = batches.map((b, bucket) => encodeBlock({ kind: ROWS_KIND, rows: b.n, bucket, minTime: 0, maxTime: 0, columns: encodeRows(withDict(b, dict), b.n, false) }));
  const payloads = frames.map((f) => f.subarray(f.length - readBlockHeader(f).size));
  const rawBytes = frames.reduce((s, f) => s + readBlockHeader(f).raw, 0);
  const tableA = new ScanTable(W);
  const tableB = new ScanTable(W);
  batches.forEach((b, i) => (i % 2 ? tableA : tableB).addBatch(b));
  const stateA = tableA.exportState();
  const stateB = tableB.exportState();
  const scratch = new RowScratch();

  const bench = new Bench({ time, warmup: true, warmupTime: 200 });
  const rowsOf = new Map<string, Row>();
  const add = (r: Row, fn: () => unknown) => {
    rowsOf.set(r.name, r);
    bench.add(r.name, fn);
  };
  add({ name: 'parse aws-text (generated v2)', records: awsRecords, bytes: aws.length }, () => parseOnce(aws, 'aws-text'));
  for (const s of fixtureSamples()) {
    const n = parseOnce(s.buf, s.format);
    add({ name: `parse ${s.format} (${s.file} repeated)`, records: n, bytes: s.buf.length }, () => parseOnce(s.buf, s.format));
  }
  add({ name: 'hash + shard (source address)', records: rows, bytes: 0 }, () => {
    let x = 0;
    for (let i = 0; i < rows; i++) x += shardOf(hashAddress(addrs, i * 4), 2);
    return x;
  });
  add({ name: 'accumulate (ScanTable.addBatch, inbound rows)', records: inbound, bytes: 0 }, () => {
    const t = new ScanTable(W);
    for (const b of batches) t.addBatch(b);
    return t.n;
  });
  add({ name: 'merge (two exported shard states)', records: stateA.n + stateB.n, bytes: 0 }, () => {
    const t = new ScanTable(W);
    t.mergeState(stateA);
    t.mergeState(stateB);
    return t.n;
  });
  add({ name: 'lz4 decode (replay blocks, raw bytes)', records: rows, bytes: rawBytes }, () => {
    let n = 0;
    for (const p of payloads) n += uncompressSync(p).length;
    return n;
  });
  add({ name: 'replay block decode (checks + lz4 + expand)', records: rows, bytes: rawBytes }, () => {
    let n = 0;
    frames.forEach((f, bucket) => (n += decodeRowsBlock(f, dict, bucket, scratch).batch.n));
    return n;
  });

  process.stderr.write(`running ${rowsOf.size} benchmarks, ${time} ms each...\n`);
  await bench.run();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`flowsieve micro-benchmarks, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${availableParallelism()} cores (${cpu}), one thread`);
  console.log(`sample: ${awsRecords} AWS v2 records (${(aws.length / 1e6).toFixed(1)} MB), ${rows} rows kept for detection, ${inbound} inbound`);
  console.log('');
  console.log(`| benchmark | records/s | MB/s | ns/record | ±% |`);
  console.log(`|---|---:|---:|---:|---:|`);
  for (const task of bench.tasks) {
    const r = rowsOf.get(task.name)!;
    const res = task.result;
    if (res.state !== 'completed') {
      console.log(`| ${r.name} | ${res.state} | | | |`);
      continue;
    }
    const sec = res.latency.mean / 1000;
    const rps = r.records / sec;
    const mbs = r.bytes ? (r.bytes / 1e6 / sec).toFixed(0) : '';
    console.log(`| ${r.name} | ${fmt(rps)} | ${mbs} | ${(1e9 / rps).toFixed(1)} | ${res.latency.rme.toFixed(1)} |`);
  }
}

function countInbound(b: FlowBatchData): number {
  let n = 0;
  for (let i = 0; i < b.n; i++) if (b.feed[i]! & Feed.inbound) n++;
  return n;
}

/** The batch with its ids moved into one shared dictionary (as a replay file holds them). */
function withDict(b: FlowBatchData, dict: string[]): FlowBatchData {
  const index = new Map(dict.map((s, i) => [s, i]));
  const map = b.strings.map((s) => {
    let id = index.get(s);
    if (id === undefined) {
      id = dict.length;
      dict.push(s);
      index.set(s, id);
    }
    return id;
  });
  const remap = (c: Uint32Array) => Uint32Array.from(c.subarray(0, b.n), (x) => map[x]!);
  return { ...b, account: remap(b.account), region: remap(b.region), iface: remap(b.iface), instance: remap(b.instance) };
}

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)} M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)} k` : x.toFixed(0);
}

await main();
