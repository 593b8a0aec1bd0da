/**
 * Where a parse thread's time goes on a bucket (bench/gen-bucket.ts), stage by stage, in
 * one thread, file after file as a 'files' task reads them: read (readFileSync), inflate
 * (one call a file, as a parse thread does: read.ts gunzipWhole, libdeflate where built,
 * zlib with FLOWSIEVE_INFLATE=zlib), parse into the sink (the AWS reader,
 * validation, classification, hashing, appending to the shards' batches). ns per record,
 * best of the rounds, in CPU time (process.cpuUsage: the machine's load does not count). Accumulation and finalisation are the shard side (bench/accumulate.ts).
 *
 *   node dist/bench/stages.js BUCKET_DIR [--rounds 3]
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlowSink } from '../src/flow/sink.js';
import { readerFor } from '../src/formats/registry.js';
import { readLineBytes, gunzipWhole, wholeGzipInflater } from '../src/input/read.js';
import { awsPathInfo } from '../src/formats/aws.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: stages.js BUCKET_DIR [--rounds R]');
const i = process.argv.indexOf('--rounds');
const rounds = i > 0 ? Number(process.argv[i + 1]) : 3;

function files(d: string): string[] {
  return readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
}

const paths = files(dir);
/** CPU of this (one-thread) process in ms: on a loaded machine wall time would count the waits. */
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const reader = readerFor('aws-text')!;
if (reader.kind !== 'lines') throw new Error('aws-text reads lines');
const best = { read: Infinity, inflate: Infinity, parse: Infinity };
let records = 0;
let textBytes = 0;
for (let r = 0; r < rounds; r++) {
  textBytes = 0;
  let read = 0;
  let inflate = 0;
  let parse = 0;
  const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 0 }, () => {});
  for (const p of paths) {
    const t0 = cpuMs();
    const gz = readFileSync(p);
    const t1 = cpuMs();
    const text = gunzipWhole(gz, 256 << 20);
    textBytes += text.length;
    const t2 = cpuMs();
    const where = awsPathInfo(p);
    readLineBytes(text, reader.open({ sink, file: p, account: where.account ?? '', region: where.region ?? '' }), 1 << 20, 0);
    parse += cpuMs() - t2;
    read += t1 - t0;
    inflate += t2 - t1;
  }
  sink.flushAll();
  records = sink.counters.records + sink.counters.nodata;
  best.read = Math.min(best.read, read);
  best.inflate = Math.min(best.inflate, inflate);
  best.parse = Math.min(best.parse, parse);
}
const ns = (ms: number) => ((ms * 1e6) / records).toFixed(0);
process.stdout.write(
  `| stage (one thread, ${paths.length} files, ${records} records, best of ${rounds}) | ns/record |\n|---|---:|\n` +
    `| read (readFileSync) | ${ns(best.read)} |\n| inflate (${wholeGzipInflater()}, one call a file) | ${ns(best.inflate)} |\n` +
    `| inflate: MB of text a CPU second | ${(textBytes / 1e3 / best.inflate).toFixed(0)} |\n` +
    `| parse + sink (reader, validate, classify, hash, append to the shard's batch) | ${ns(best.parse)} |\n`,
);
