// The Azure reader alone (parseDocument into a sink of 2 shards) over every blob under DIR, PASSES passes, with the
// build at DIST: CPU (user + sys) per pass, the first left out (compiles). Alternate two builds in a loop to A/B them:
//   node bench/probes/azure-reader-cpu.mjs /abs/path/to/dist /tmp/json-data/json-10-1/azure 6
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
const [dist, dir, passes = '5'] = process.argv.slice(2);
const { FlowSink } = await import(join(dist, 'src/flow/sink.js'));
const { readerFor } = await import(join(dist, 'src/formats/registry.js'));
const files = [];
const walk = (d) => { for (const n of readdirSync(d)) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else files.push(readFileSync(p)); } };
walk(dir);
const reader = readerFor('azure-nsg');
let t = 0, recs = 0;
for (let p = 0; p < Number(passes); p++) {
  const c0 = process.cpuUsage();
  const sink = new FlowSink({ shards: 2, batchSize: 4096, maxRejectsKept: 10 }, () => {});
  for (const b of files) reader.parseDocument(b, { sink, file: 'f', account: 'a', region: '' });
  sink.flushAll();
  const c = process.cpuUsage(c0);
  if (p > 0) t += (c.user + c.system) / 1000;
  recs = sink.counters.records;
}
console.log(`${(t / (Number(passes) - 1)).toFixed(1)} ms/pass ${recs} records`);
