/**
 * The AWS text reader and the sink in one thread, per layout of a bucket written by
 * bench/gen-bucket.ts: each layout's files inflated and joined into one text in memory
 * (one header line, when the layout has one), then parsed (no reading, no inflating, no
 * worker threads): ns per line of the parse alone, by layout.
 *
 *   node dist/bench/parse-layouts.js BUCKET_DIR [--logs 10] [--rounds 5] [--mb 64]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { FlowSink } from '../src/flow/sink.js';
import { readerFor } from '../src/formats/registry.js';
import { readLineBytes } from '../src/input/read.js';
import { HEADERS, LAYOUTS, flowLogs, gzipFilesUnder, type Layout } from './gen-bucket.js';
import { numArg as arg } from './args.js';

/** One layout's records as one text, up to `max` bytes. */
function layoutText(dir: string, logs: number, layout: Layout, max: number): Buffer {
  const parts: Buffer[] = layout === 'v2-plain' ? [] : [Buffer.from(HEADERS[layout] + '\n')];
  let n = 0;
  for (const l of flowLogs(logs).filter((x) => x.layout === layout)) {
    for (const f of gzipFilesUnder(join(dir, l.dir))) {
      let text = gunzipSync(readFileSync(f));
      if (layout !== 'v2-plain') text = text.subarray(text.indexOf(10) + 1); // its header
      parts.push(text);
      n += text.length;
      if (n >= max) return Buffer.concat(parts);
    }
  }
  return Buffer.concat(parts);
}

const dir = process.argv[2];
if (!dir) throw new Error('usage: parse-layouts.js BUCKET_DIR [--logs L] [--rounds R] [--mb M]');
const reader = readerFor('aws-text')!;
if (reader.kind !== 'lines') throw new Error('aws-text is a line reader');
const rows: string[] = [];
for (const layout of LAYOUTS) {
  const data = layoutText(dir, arg('logs', 10), layout, arg('mb', 64) << 20);
  const ns: number[] = [];
  let lines = 0;
  for (let r = 0; r < arg('rounds', 5); r++) {
    const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 0 }, () => {});
    const t0 = process.cpuUsage(); // CPU time: the machine's load does not count
    lines = readLineBytes(data, reader.open({ sink, file: layout, account: '', region: '' }), 1 << 20, 0);
    sink.flushAll();
    const u = process.cpuUsage(t0);
    ns.push(((u.user + u.system) * 1e3) / lines);
    if (sink.counters.rejected > 0) throw new Error(`${layout}: ${sink.counters.rejected} lines rejected`);
  }
  ns.sort((a, b) => a - b);
  rows.push(`| ${layout} | ${lines} | ${(data.length / lines).toFixed(0)} | ${ns[0]!.toFixed(0)} | ${ns[Math.floor(ns.length / 2)]!.toFixed(0)} |`);
}
process.stdout.write('| layout | lines | bytes/line | best ns/line | median ns/line |\n|---|---:|---:|---:|---:|\n' + rows.join('\n') + '\n');
