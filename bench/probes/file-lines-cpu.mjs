// files.ndjson's text (src/output/summary.ts fileLines) made from the reports of a run's
// files.ndjson, in a fresh process: the process's CPU (V8's compiler threads included, a pause
// after), and a check that the text is the file's. REPEAT: the reports repeated (10,080 tiny files ~ 15x 696).
//   node bench/probes/file-lines-cpu.mjs /abs/path/to/dist OUT/files.ndjson [REPEAT]
import { readFileSync } from 'node:fs';
const [dist, src, repeat = '1'] = process.argv.slice(2);
const { fileLines } = await import(dist + '/src/output/summary.js');
const { newCounters } = await import(dist + '/src/flow/sink.js');
const snake = (k) => k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);
const text = readFileSync(src, 'utf8');
const one = text.trim().split('\n').map((l) => {
  const o = JSON.parse(l);
  const counters = newCounters();
  for (const k of Object.keys(counters)) counters[k] = o[snake(k)];
  return { path: o.path, format: o.format, gzip: o.gzip, bytes: o.bytes, decompressedBytes: o.decompressed_bytes, counters, minStart: 0, maxEnd: 0, lateByWindow: [], error: o.error, replay: o.replay };
});
const files = Array.from({ length: Number(repeat) }, () => one).flat();
await new Promise((r) => setTimeout(r, 100));
const c0 = process.cpuUsage();
const out = fileLines({ files });
await new Promise((r) => setTimeout(r, 60));
const c = process.cpuUsage(c0);
if (out !== text.repeat(Number(repeat))) throw new Error('not the text of the files.ndjson given');
console.log(`${((c.user + c.system) / 1000).toFixed(2)} ms ${files.length} files`);
