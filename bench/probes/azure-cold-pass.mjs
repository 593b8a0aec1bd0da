// One cold pass of the Azure reader (parseDocument into a sink of 1 shard) over every blob under
// DIR, held in memory, in a fresh process: the process's CPU (V8's compiler threads included),
// a pause after so that their compiles are counted. What a detect run's parse thread pays once;
// azure-reader-cpu.mjs leaves that first pass out. Alternate two builds in a loop to A/B them:
//   node bench/probes/azure-cold-pass.mjs /abs/path/to/dist /tmp/json-data/json-10-1/azure
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
const [dist, dir] = process.argv.slice(2);
const { FlowSink } = await import(join(dist, 'src/flow/sink.js'));
const { readerFor } = await import(join(dist, 'src/formats/registry.js'));
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d)) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(readFileSync(p));
  }
};
walk(dir);
const reader = readerFor('azure-nsg');
await new Promise((r) => setTimeout(r, 50));
const c0 = process.cpuUsage();
const sink = new FlowSink({ shards: 1, batchSize: 4096, maxRejectsKept: 10 }, () => {});
for (const b of files) reader.parseDocument(b, { sink, file: 'f', account: 'a', region: '' });
sink.flushAll();
await new Promise((r) => setTimeout(r, 80));
const c = process.cpuUsage(c0);
console.log(`${((c.user + c.system) / 1000).toFixed(1)} ms ${sink.counters.records} records`);
