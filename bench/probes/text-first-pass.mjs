// What a process's first pass over an AWS text file costs beyond a warm pass: the file held in
// memory, read by the AWS reader into a sink of one shard (batches posted nowhere) ROUNDS times
// in one fresh process; for each pass the CPU of this thread (/proc/thread-self/schedstat) and
// of the whole process (process.cpuUsage: V8's helper threads too, which compile the reader's
// WebAssembly and JavaScript with TurboFan during the first pass), ns a record. The first pass
// is what a `detect` run pays (its main thread parses a large text file: engine/parse-here.ts);
// first minus warm is the warm-up: the module's Liftoff code until TurboFan's arrives, the
// JavaScript's interpreted and baseline code, first touches of fresh memory, the compiles.
//   node bench/probes/text-first-pass.mjs FILE [DIST] [--rounds 4]   (run `npm run build` first)
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const r = args.indexOf('--rounds');
const rounds = r < 0 ? 4 : Number(args.splice(r, 2)[1]);
const [file, dist = 'dist'] = args;
if (!file) throw new Error('usage: text-first-pass.mjs FILE [DIST] [--rounds R]');
const at = (p) => pathToFileURL(resolve(dist, p)).href;
const { FlowSink } = await import(at('src/flow/sink.js'));
const { readerFor } = await import(at('src/formats/registry.js'));
const { readLineBytes } = await import(at('src/input/read.js'));
const text = readFileSync(file);
const reader = readerFor('aws-text');
const threadMs = () => Number(readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]) / 1e6;
const processMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let k = 0; k < rounds; k++) {
  const t0 = threadMs();
  const p0 = processMs();
  const sink = new FlowSink({ shards: 1, batchSize: 32768, maxRejectsKept: 0 }, () => {});
  readLineBytes(text, reader.open({ sink, file, account: '', region: '' }), 1 << 20, 0);
  sink.flushAll();
  const thread = threadMs() - t0;
  const all = processMs() - p0;
  const records = sink.counters.records + sink.counters.nodata;
  console.log(`pass ${k}: this thread ${thread.toFixed(1)} ms (${((thread * 1e6) / records).toFixed(1)} ns a record), process ${all.toFixed(1)} ms (${((all * 1e6) / records).toFixed(1)} ns), ${records} records`);
}
