#!/usr/bin/env node
/**
 * npm run demo: generate a sample into ./sample (once), run detect on it into ./out (with
 * the sample's allow list), and show what was found: the top of scans.ndjson, scanners
 * per day, the most scanned ports, the outbound alerts (our own hosts scanning), and how
 * both compare with the sample's ground truth.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const SAMPLE = 'sample';
const META = 'sample-meta'; // generate's ground truth, region map and allow list, beside the logs
const OUT = 'out';

if (!existsSync(CLI)) {
  console.error('demo: dist/ is missing; run `npm run build` first');
  process.exit(1);
}
const { supportedFormats } = await import(new URL('../dist/src/formats/registry.js', import.meta.url).href);
const formats = supportedFormats();
// only the clouds this build can read (the Azure and GCP readers may not be there yet)
const readable = ['aws', ...(formats.includes('azure-nsg') && formats.includes('azure-vnet') ? ['azure'] : []), ...(formats.includes('gcp') ? ['gcp'] : [])];

function run(args) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [CLI, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0 && !(args[0] === 'detect' && r.status === 2)) {
    console.error(`demo: flowsieve ${args[0]} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
  return (performance.now() - t) / 1000;
}

const truthPath = join(META, 'ground-truth.json');
if (!existsSync(truthPath)) {
  // an interrupted earlier run (or one from before the metadata moved out of ./sample)
  for (const part of ['aws', 'azure', 'gcp', 'ground-truth.json', 'region-map.json', 'allow.txt']) {
    for (const dir of [SAMPLE, META]) rmSync(join(dir, part), { recursive: true, force: true });
  }
  console.log(`demo: generating a sample into ./${SAMPLE} and ./${META} (${readable.join(', ')}) ...`);
  run(['generate', '--out', SAMPLE, '--scale', '0.5', '--days', '3', '--clouds', readable.join(',')]);
} else {
  console.log(`demo: using the sample in ./${SAMPLE} (remove ./${META} to make a new one)`);
}
const truth = JSON.parse(readFileSync(truthPath, 'utf8'));
const clouds = truth.generator.clouds.filter((c) => readable.includes(c));
const inputs = clouds.map((c) => join(SAMPLE, c));
const allowPath = join(META, 'allow.txt');
const extra = [
  ...(clouds.includes('azure') ? ['--region-map', join(META, 'region-map.json')] : []),
  ...(existsSync(allowPath) ? ['--allow', allowPath] : []), // a sample from before allow.txt: no outbound truth either
];
console.log(`\ndemo: flowsieve detect ${inputs.join(' ')} --out ${OUT} ${extra.join(' ')}`);
const seconds = run(['detect', ...inputs, '--out', OUT, ...extra]);

const scans = readFileSync(join(OUT, 'scans.ndjson'), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const summary = JSON.parse(readFileSync(join(OUT, 'summary.json'), 'utf8'));

const table = (rows, head) => {
  const cells = [head, ...rows].map((r) => r.map(String));
  const width = head.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => '  ' + r.map((c, i) => (typeof rows[0]?.[i] === 'number' ? c.padStart(width[i]) : c.padEnd(width[i]))).join('  ')).join('\n');
};
const PROTO = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmp6' };

console.log(`\nscans.ndjson: ${scans.length} scan keys (first 10)`);
console.log(table(scans.slice(0, 10).map((s) => [s.window_start, s.src, `${PROTO[s.protocol] ?? s.protocol}/${s.dst_port}`, s.endpoints, s.accounts, s.clouds, s.cv_bytes ?? '-']),
  ['window', 'source', 'port', 'endpoints', 'accounts', 'clouds', 'cv_bytes']));

const days = new Map();
for (const s of scans) {
  const d = s.window_start.slice(0, 10);
  if (!days.has(d)) days.set(d, { ips: new Set(), keys: 0, flows: 0 });
  const x = days.get(d);
  x.ips.add(s.src);
  x.keys++;
  x.flows += s.flows;
}
console.log('\nscanners per day');
console.log(table([...days].sort().map(([d, x]) => [d, x.ips.size, x.keys, x.flows]), ['day', 'scanner IPs', 'scan keys', 'flows']));

const ports = new Map();
for (const s of scans) {
  const k = `${PROTO[s.protocol] ?? s.protocol}/${s.dst_port}`;
  if (!ports.has(k)) ports.set(k, new Set());
  ports.get(k).add(s.src);
}
console.log('\nmost scanned ports (by scanner IPs)');
console.log(table([...ports].sort((a, b) => b[1].size - a[1].size || (a[0] < b[0] ? -1 : 1)).slice(0, 8).map(([p, ips]) => [p, ips.size]), ['port', 'scanner IPs']));

const t = summary.totals ?? {};
console.log(`\nsummary: ${t.records?.toLocaleString('en-US')} records in ${t.files} files, ${summary.scanner_ips} scanner IPs, ${seconds.toFixed(1)} s`);

// the sample's ground truth: what a correct engine reports (default profile)
const key = (k) => `${k.window_start} ${k.src} ${k.protocol} ${k.dst_port}`;
const expected = new Set(truth.scanners.filter((k) => k.profiles.includes('default')).map(key));
const got = new Set(scans.map(key));
const found = [...expected].filter((k) => got.has(k)).length;
const unexpected = [...got].filter((k) => !expected.has(k));
const negatives = truth.hard_negatives.filter((n) => scans.some((s) => s.src === n.src));
console.log(`ground truth: ${found}/${expected.size} planted scan keys found, ${unexpected.length} unexpected, ` +
  `${negatives.length}/${truth.hard_negatives.length} hard negatives flagged`);
for (const k of unexpected.slice(0, 5)) console.log(`  unexpected: ${k}`);
for (const n of negatives) console.log(`  hard negative flagged: ${n.src} (${n.entity}: ${n.reason})`);
if (clouds.length < truth.generator.clouds.length) console.log(`  (this build reads only ${clouds.join(', ')}; the sample also has ${truth.generator.clouds.filter((c) => !clouds.includes(c)).join(', ')})`);

// outbound alerts: our own hosts scanning the internet (detection.md §4), against the truth's `outbound` section
const alertsPath = join(OUT, 'outbound.ndjson');
const alerts = existsSync(alertsPath) ? readFileSync(alertsPath, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
console.log(`\noutbound.ndjson: ${alerts.length} alert(s) from our own hosts${alerts.length > 12 ? ' (first 12)' : ''}`);
if (alerts.length > 0) {
  console.log(table(alerts.slice(0, 12).map((a) => [
    a.window_start, a.cloud, a.src, a.kind, a.kind === 'vertical' ? `${PROTO[a.protocol] ?? a.protocol} -> ${a.target}` : `${PROTO[a.protocol] ?? a.protocol}/${a.dst_port}`,
    a.targets, a.ports, a.instance ?? a.interface ?? '-', a.worm_signature ? 'yes' : 'no', a.severity,
  ]), ['window', 'cloud', 'host', 'kind', 'what', 'targets', 'ports', 'instance', 'worm', 'severity']));
}
const ob = truth.outbound;
if (ob) {
  const akey = (a) => `${a.window_start} ${a.cloud} ${a.account} ${a.src} ${a.protocol} ${a.kind === 'vertical' ? a.target : a.dst_port}`;
  const readableCloud = (a) => clouds.includes(a.cloud);
  const exp = new Map(ob.alerts.filter(readableCloud).map((a) => [akey(a), a]));
  const gotAlerts = new Map(alerts.map((a) => [akey(a), a]));
  const fields = ['targets', 'ports', 'flows', 'packets', 'bytes', 'cv_packets', 'cv_bytes', 'interface', 'instance', 'region', 'worm_signature', 'severity'];
  const matched = [...exp].filter(([k, e]) => gotAlerts.has(k) && fields.every((f) => JSON.stringify(gotAlerts.get(k)[f]) === JSON.stringify(e[f]))).length;
  const extraAlerts = [...gotAlerts.keys()].filter((k) => !exp.has(k));
  const quiet = ob.not_alerts.filter((n) => clouds.includes(n.cloud));
  const loud = quiet.filter((n) => alerts.some((a) => a.cloud === n.cloud && a.account === n.account && a.src === n.src));
  console.log(`ground truth (outbound): ${matched}/${exp.size} expected alerts found with the same features, ${extraAlerts.length} unexpected, ` +
    `${loud.length}/${quiet.length} not-a-scan hosts alerted (${quiet.map((n) => n.host).join(', ')})`);
  for (const k of [...exp.keys()].filter((k) => !gotAlerts.has(k)).slice(0, 5)) console.log(`  missing: ${k} (${exp.get(k).host})`);
  for (const k of extraAlerts.slice(0, 5)) console.log(`  unexpected: ${k}`);
  for (const n of loud) console.log(`  alerted, but ${n.reason}: ${n.host} ${n.src}`);
}
