/**
 * The AWS text reader and the sink in one thread, over the first MB of a file already in
 * memory (no reading, no worker threads): what a parse thread spends per record.
 *
 *   node dist/bench/parse-aws.js FILE.log [--mb 200] [--rounds 4]
 */
import { openSync, readSync, closeSync } from 'node:fs';
import { FlowSink } from '../src/flow/sink.js';
import { readerFor } from '../src/formats/registry.js';
import { readLineBytes } from '../src/input/read.js';
import { numArg as arg } from './args.js';

const path = process.argv[2];
if (!path) throw new Error('usage: parse-aws.js FILE.log [--mb M] [--rounds R]');
const buf = Buffer.alloc(arg('mb', 200) << 20);
const fd = openSync(path, 'r');
const got = readSync(fd, buf, 0, buf.length, 0);
closeSync(fd);
let end = got;
while (end > 0 && buf[end - 1] !== 10) end--;
const data = buf.subarray(0, end);
const reader = readerFor('aws-text')!;
if (reader.kind !== 'lines') throw new Error('aws-text is a line reader');
for (let r = 0; r < arg('rounds', 4); r++) {
  const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 0 }, () => {});
  const t0 = performance.now();
  readLineBytes(data, reader.open({ sink, file: path, account: '', region: '' }), 1 << 20, 0);
  sink.flushAll();
  const ms = performance.now() - t0;
  console.log(`round ${r + 1}: ${sink.counters.records.toLocaleString('en-US')} records, ${((ms * 1e6) / sink.counters.records).toFixed(0)} ns/record, ${(data.length / ms / 1e3).toFixed(0)} MB/s`);
}
