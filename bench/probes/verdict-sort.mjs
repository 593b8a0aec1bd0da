// One sort of a run's verdicts as at its end (session 24 mainthr), in a fresh process: by the
// comparator (`cmp`, list.sort(compareVerdicts)) or by order keys (`keys`, sortVerdicts). The
// verdicts are the scans of a scans.ndjson (window, source, protocol, port), put in an order by
// a hash of the source as the shards' buckets give them. A/B the process's CPU (the comparator's
// interpreted calls and TurboFan compiles included):
//   python3 bench/probes/ab-cpu.py 21 'cmp=node bench/probes/verdict-sort.mjs OUT/scans.ndjson cmp' 'keys=node bench/probes/verdict-sort.mjs OUT/scans.ndjson keys'
// SHOW=1 prints the count, the sort's ms and the first and last verdicts' places.
import { readFileSync } from 'node:fs';
import { compareVerdicts, sortVerdicts } from '../../dist/src/engine/order.js';

const [file, how] = process.argv.slice(2);
const scans = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const verdicts = scans.map((s, i) => {
  const q = s.src.includes(':') ? [1, 2, 3, 4] : s.src.split('.').map(Number); // an IPv6 source: any words of its own
  const words = q.length === 4 && !s.src.includes(':') ? [0, 0, 0xffff, ((q[0] << 24) | (q[1] << 16) | (q[2] << 8) | q[3]) >>> 0] : [0x20010db8, 0, 0, i];
  return { window: Math.floor(Date.parse(s.window_start) / 1000 / 21600), srcWords: words, protocol: s.protocol, dstPort: s.dst_port, i };
});
verdicts.sort((a, b) => Math.imul(a.srcWords[3], 0x9e3779b1) - Math.imul(b.srcWords[3], 0x9e3779b1));
const t = process.hrtime.bigint();
const out = how === 'keys' ? sortVerdicts(verdicts) : verdicts.slice().sort(compareVerdicts);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
if (process.env.SHOW) console.log(out.length, ms.toFixed(2), 'ms', out[0].i, out[out.length - 1].i);
