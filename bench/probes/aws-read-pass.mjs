// An AWS text file read as a parse thread (or the main thread at one worker) reads it:
// readLineRange (read() into the reader's target or the thread's buffer, blocks of 256 KiB)
// into the AWS reader and a sink of one shard, batches posted nowhere; one or more builds
// alternated in one process: CPU ns a line, median and least of the rounds, and the sinks'
// counters compared between builds; the median of each round's ratio to the first build's.
//   node bench/probes/aws-read-pass.mjs FILE DIST [DIST2 ...] [--rounds 9]
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const r = args.indexOf('--rounds');
const rounds = r < 0 ? 9 : Number(args.splice(r, 2)[1]);
const [file, ...dists] = args;
if (!file || dists.length === 0) throw new Error('usage: aws-read-pass.mjs FILE DIST [DIST2 ...] [--rounds R]');
const size = statSync(file).size;
const builds = [];
for (const d of dists) {
  const at = (p) => pathToFileURL(resolve(d, p)).href;
  const { FlowSink } = await import(at('src/flow/sink.js'));
  const { readerFor } = await import(at('src/formats/registry.js'));
  const { readLineRange } = await import(at('src/input/read.js'));
  builds.push({ d, FlowSink, reader: readerFor('aws-text'), readLineRange, ns: [], counters: '' });
}
for (let k = 0; k < rounds; k++) {
  for (const b of builds) {
    const sink = new b.FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 100 }, () => {});
    const t0 = process.cpuUsage();
    b.readLineRange(file, 0, size, b.reader.open({ sink, file, account: '', region: '' }), 1 << 20);
    sink.flushAll();
    const t = process.cpuUsage(t0);
    b.ns.push(((t.user + t.system) * 1000) / sink.counters.lines);
    b.counters = JSON.stringify(sink.counters);
  }
}
for (const b of builds) {
  const ns = b.ns.slice().sort((x, y) => x - y);
  const same = b.counters === builds[0].counters ? '' : ' COUNTERS DIFFER';
  // each round's ratio to the first build's in that round: the load moves both alike
  const pair = b.ns.map((x, k) => x / builds[0].ns[k]).sort((x, y) => x - y);
  process.stdout.write(`${b.d}: median ${ns[ns.length >> 1].toFixed(1)} min ${ns[0].toFixed(1)} ns a line, round ratio ${pair[pair.length >> 1].toFixed(3)} (${b.ns.map((x) => x.toFixed(0)).join(' ')})${same}\n`);
}
