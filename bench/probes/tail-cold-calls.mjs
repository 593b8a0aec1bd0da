// One cold call (a fresh process) of a build's mergeEndpointDays (the endpoint-days of an earlier run's stats/endpoints.ndjson as two parts, a third in both) or 4,000 isoTime calls; prints its CPU us. Alternate builds from a shell loop.
//   node bench/probes/tail-cold-calls.mjs ROOT merge|iso [ENDPOINTS_NDJSON]
import { readFileSync } from 'node:fs';
const [root, what] = process.argv.slice(2);
const rows = readFileSync(process.argv[4] ?? '/work/tmp-tailmain/o7/stats/endpoints.ndjson', 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const parts = [[], []];
rows.forEach((r, i) => {
  const ports = Array.from({ length: r.ports }, (_, k) => (6 << 16) | (k * 37 + 22));
  const d = { day: r.day, cloud: r.cloud, account: r.account, endpoint: r.endpoint, scanners: r.scanner_ips, ports };
  parts[i % 2].push(d);
  if (i % 3 === 0) parts[(i + 1) % 2].push({ ...d, ports: ports.slice(1), scanners: 1 }); // in both parts
});
if (what === 'merge') {
  const { mergeEndpointDays } = await import(`${root}/dist/src/engine/merge.js`);
  const t0 = process.cpuUsage();
  const out = mergeEndpointDays(parts);
  const t = process.cpuUsage(t0);
  console.log(t.user + t.system, out.length);
} else {
  const { isoTime } = await import(`${root}/dist/src/output/verdicts.js`);
  const t0 = process.cpuUsage();
  let n = 0;
  for (let i = 0; i < 4000; i++) n += isoTime(1717200000 + i * 37).length;
  const t = process.cpuUsage(t0);
  console.log(t.user + t.system, n);
}
