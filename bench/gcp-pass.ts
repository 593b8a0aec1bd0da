/**
 * The GCP NDJSON reader over a folder of GCP files, as a parse thread runs it but in one
 * thread: the WebAssembly reader, the routing and the sink's batches (posted nowhere), CPU
 * ns a line. With --base, another build's reader over the same bytes, alternated round by
 * round (A B A B …) so that the load of a shared machine falls on both alike, and both
 * sinks' counters compared.
 *
 *   node dist/bench/gcp-pass.js [--dir /tmp/json-data/json-10-1/gcp] [--rounds 9] [--base DIST] [--read 1]
 *
 * --read: each file read from disk as a parse thread reads it (readLineRange: read() into
 * 256 KiB blocks, in the page cache after the first round), not pushed from memory.
 *
 * DIST is a build's dist/ folder (one outside the repository needs node_modules beside it).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { arg, numArg, opt } from './args.js';

const BLOCK = 1 << 18; // as src/input/read.ts reads a file

type Pass = () => { cpuNs: number; lines: number; counters: string };

async function load(dist: string, files: Buffer[]): Promise<Pass> {
  const root = resolve(dist, 'src');
  const { FlowSink } = await import(join(root, 'flow/sink.js'));
  const { readerFor } = await import(join(root, 'formats/registry.js'));
  const { LineFeeder } = await import(join(root, 'input/lines.js'));
  const { readLineRange } = await import(join(root, 'input/read.js'));
  const reader = readerFor('gcp');
  return () => {
    const sink = new FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 100 }, () => {});
    const t0 = process.cpuUsage();
    if (fromFiles) {
      for (const [path, size] of paths) readLineRange(path, 0, size, reader.open({ sink, file: 'bench', account: 'a', region: '' }), 1 << 20);
    }
    for (const buf of fromFiles ? [] : files) {
      const feeder = new LineFeeder(reader.open({ sink, file: 'bench', account: 'a', region: '' }), 1 << 20, 0);
      for (let s = 0; s < buf.length; s += BLOCK) feeder.push(buf.subarray(s, Math.min(buf.length, s + BLOCK)));
      feeder.end(false);
    }
    sink.flushAll();
    const t = process.cpuUsage(t0);
    return { cpuNs: (t.user + t.system) * 1000, lines: sink.counters.lines, counters: JSON.stringify(sink.counters) };
  };
}

const dir = opt('dir', '/tmp/json-data/json-10-1/gcp');
const rounds = numArg('rounds', 9);
const fromFiles = arg('read') !== undefined;
const entries = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
const files = entries.map((e) => readFileSync(join(e.parentPath, e.name)));
const paths = entries.map((e, i): [string, number] => [join(e.parentPath, e.name), files[i]!.length]);
const builds: Array<[string, Pass]> = [];
const base = arg('base');
if (base) builds.push([base, await load(base, files)]);
builds.push(['dist', await load(resolve(import.meta.dirname, '..'), files)]);
const ns: number[][] = builds.map(() => []);
const counters = new Set<string>();
for (let r = 0; r < rounds + 2; r++) {
  builds.forEach(([, pass], i) => {
    const { cpuNs, lines, counters: c } = pass();
    counters.add(c);
    if (r >= 2) ns[i]!.push(cpuNs / lines); // two rounds of warm-up
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const mb = files.reduce((n, b) => n + b.length, 0) / 1e6;
console.log(`GCP reader over ${dir}: ${files.length} files, ${mb.toFixed(1)} MB, ${rounds} rounds alternated, CPU ns a line (median, least)`);
builds.forEach(([name], i) => console.log(`${name}: ${median(ns[i]!).toFixed(0)} (${Math.min(...ns[i]!).toFixed(0)})${i > 0 ? `  ratio ${(median(ns[i]!) / median(ns[0]!)).toFixed(3)}` : ''}`));
console.log(`counters ${counters.size === 1 ? 'the same' : 'DIFFER'}`);
