/**
 * JSON parsing for the JSON flow-log readers: JSON.parse vs the simdjson npm package vs
 * the byte-level scanner (src/formats/json-bytes.ts), on generated, realistic Azure
 * PT1H.json blobs (NSG v2 and VNet) and GCP LogEntry NDJSON.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/probes/json-parse.js [--mb 4] [--time 400] [--rounds 7] [--dump DIR]
 *
 * Two levels per input:
 * - locating the fields only: JSON.parse / simdjson.parse (then reading the fields a
 *   reader needs off the objects: Azure category, resource ids, MAC, every tuple
 *   string; GCP addresses, ports, protocol, reporter, times, counters, instance), and
 *   the byte scanner checking the whole grammar without keeping anything;
 * - end to end, "reader (…, full)": the same record parsing (tuple fields, addresses,
 *   times), validation and batching into a FlowSink, fed by JSON.parse objects or by
 *   the byte scanner (the production readers). These are the figures that decide.
 */
import { Bench } from 'tinybench';
import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FlowSink } from '../../src/flow/sink.js';
import { JsonScanner } from '../../src/formats/json-bytes.js';
import { azureNsg, azureVnet } from '../../src/formats/azure.js';
import { gcpLines, rfc3339Seconds } from '../../src/formats/gcp.js';
import { subscriptionOf } from '../../src/formats/azure.js';
import { nsgTuple as nsgTupleParse } from '../../src/formats/azure-nsg.js';
import { vnetTuple as vnetTupleParse } from '../../src/formats/azure-vnet.js';
import { parseAddressBytes } from '../../src/net/address.js';
import type { ReaderContext } from '../../src/formats/types.js';

const require = createRequire(import.meta.url);

interface SimdJson {
  parse(s: string): unknown;
  lazyParse(s: string): { valueForKeyPath(path: string): unknown };
  isValid(s: string): boolean;
}

function loadSimdJson(): SimdJson | null {
  try {
    const m = require('simdjson') as SimdJson;
    // check the native part works, not only that the module resolves
    const v = m.parse('{"a":[1,{"b":"x"}]}') as { a: [number, { b: string }] };
    if (v.a[1].b !== 'x') throw new Error('wrong result');
    return m;
  } catch (err) {
    console.error(`simdjson does not load: ${(err as Error).message}`);
    return null;
  }
}

// ---------------------------------------------------------------- data generation

let seed = 12345;
function rnd(n: number): number {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
}
const pick = <T>(a: readonly T[]): T => a[rnd(a.length)]!;
const pubIp = () => `${1 + rnd(222)}.${rnd(256)}.${rnd(256)}.${1 + rnd(254)}`;
const privIp = () => `10.${rnd(4)}.${rnd(256)}.${4 + rnd(250)}`;
const guid = () => [8, 4, 4, 4, 12].map((n) => Array.from({ length: n }, () => '0123456789abcdef'[rnd(16)]).join('')).join('-');
const mac = () => Array.from({ length: 12 }, () => '0123456789ABCDEF'[rnd(16)]).join('');

function nsgTuple(t: number): string {
  const inbound = rnd(3) > 0;
  if (inbound) return `${t},${pubIp()},${privIp()},${1024 + rnd(60000)},${pick([22, 23, 80, 443, 445, 3389, 8080, 5060])},${pick(['T', 'T', 'U'])},I,D,B,,,,`;
  const st = pick(['B', 'C', 'E']);
  const counts = st === 'B' ? ',,,' : `${1 + rnd(40)},${60 + rnd(20000)},${1 + rnd(40)},${60 + rnd(20000)}`;
  return `${t},${privIp()},${pubIp()},${1024 + rnd(60000)},443,T,O,A,${st},${counts}`;
}

function vnetTuple(t: number): string {
  const inbound = rnd(3) > 0;
  if (inbound) return `${t}${String(rnd(1000)).padStart(3, '0')},${pubIp()},${privIp()},${1024 + rnd(60000)},${pick([22, 23, 80, 443, 3389])},6,I,D,NX,0,0,0,0`;
  const st = pick(['B', 'C', 'E']);
  const counts = st === 'B' ? '0,0,0,0' : `${1 + rnd(40)},${60 + rnd(20000)},${1 + rnd(40)},${60 + rnd(20000)}`;
  return `${t}${String(rnd(1000)).padStart(3, '0')},${privIp()},${pubIp()},${1024 + rnd(60000)},443,6,O,${st},NX,${counts}`;
}

/** A PT1H.json blob as Azure writes it: one compact record per minute, appended with ",\n". */
function azureBlob(kind: 'nsg' | 'vnet', bytes: number): Buffer {
  const sub = guid();
  const records: string[] = [];
  let size = 0;
  let t = 1_700_000_000;
  while (size < bytes) {
    t += 60;
    const m = mac();
    let rec: string;
    if (kind === 'nsg') {
      const rules = ['DefaultRule_DenyAllInBound', 'DefaultRule_AllowInternetOutBound', 'UserRule_allow-https'].map((rule) => ({
        rule,
        flows: [{ mac: m, flowTuples: Array.from({ length: 5 + rnd(20) }, () => nsgTuple(t + rnd(60))) }],
      }));
      rec = JSON.stringify({
        time: new Date(t * 1000).toISOString().replace('Z', '0000Z'),
        systemId: guid(),
        macAddress: m,
        category: 'NetworkSecurityGroupFlowEvent',
        resourceId: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/PROD-RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG-${rnd(20)}`,
        operationName: 'NetworkSecurityGroupFlowEvents',
        properties: { Version: 2, flows: rules },
      });
    } else {
      const groups = ['BlockHighRiskTCPPortsFromInternet', 'Internet', 'DefaultRule_AllowInternetOutBound'].map((rule) => ({
        rule,
        flowTuples: Array.from({ length: 5 + rnd(20) }, () => vnetTuple(t + rnd(60))),
      }));
      rec = JSON.stringify({
        time: new Date(t * 1000).toISOString().replace('Z', '0000Z'),
        flowLogVersion: 4,
        flowLogGUID: guid(),
        macAddress: m,
        category: 'FlowLogFlowEvent',
        flowLogResourceID: `/SUBSCRIPTIONS/${sub.toUpperCase()}/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NETWORKWATCHER_EASTUS/FLOWLOGS/VNETFLOWLOG`,
        targetResourceID: `/subscriptions/${sub}/resourceGroups/prod-rg/providers/Microsoft.Network/virtualNetworks/vnet-${rnd(5)}`,
        operationName: 'FlowLogFlowEvent',
        flowRecords: { flows: [{ aclID: guid(), flowGroups: groups }] },
      });
    }
    records.push(rec);
    size += rec.length + 2;
  }
  return Buffer.from(`{"records":[${records.join(',\n')}]}`);
}

const rfc = (t: number) => new Date(t * 1000).toISOString().replace(/\.(\d{3})Z$/, (_m, ms: string) => `.${ms}${rnd(1e6).toString().padStart(6, '0')}Z`);

/** Cloud Storage sink shard: one LogEntry per line, ~1 KB each (formats.md §3.4). */
function gcpNdjson(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  let t = 1_700_000_000;
  while (size < bytes) {
    t += rnd(3);
    const inbound = rnd(2) === 0;
    const vm = { project_id: 'prod-project', region: 'us-east1', vm_name: `web-${rnd(50)}`, zone: 'us-east1-b' };
    const vpc = { project_id: 'prod-project', subnetwork_name: 'default', vpc_name: 'default' };
    const ext = { asn: rnd(60000), city: 'Saint Petersburg', continent: 'Europe', country: 'rus', region: 'Saint Petersburg' };
    const src = inbound ? pubIp() : privIp();
    const dst = inbound ? privIp() : pubIp();
    const payload: Record<string, unknown> = {
      bytes_sent: String(rnd(100000)),
      connection: { dest_ip: dst, dest_port: inbound ? pick([22, 80, 443, 3389]) : 1024 + rnd(60000), protocol: 6, src_ip: src, src_port: inbound ? 1024 + rnd(60000) : 443 },
      end_time: rfc(t + 5),
      packets_sent: String(1 + rnd(500)),
      reporter: inbound ? 'DEST' : 'SRC',
      rtt_msec: String(rnd(300)),
      start_time: rfc(t),
    };
    if (inbound) {
      payload.dest_instance = vm;
      payload.dest_vpc = vpc;
      payload.src_location = ext;
    } else {
      payload.src_instance = vm;
      payload.src_vpc = vpc;
      payload.dest_location = ext;
    }
    const line = JSON.stringify({
      insertId: guid().slice(0, 13),
      jsonPayload: payload,
      logName: 'projects/prod-project/logs/compute.googleapis.com%2Fvpc_flows',
      receiveTimestamp: rfc(t + 300),
      resource: { labels: { location: 'us-east1-b', project_id: 'prod-project', subnetwork_id: String(rnd(1e9)), subnetwork_name: 'default' }, type: 'gce_subnetwork' },
      timestamp: rfc(t + 300),
    });
    lines.push(line);
    size += line.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
}

// ---------------------------------------------------------------- extraction with JS objects

type Obj = Record<string, unknown>;
let sink = 0; // results are summed here so that no work can be optimised away

function azureFromObject(doc: unknown): void {
  for (const r of (doc as { records: Obj[] }).records) {
    sink += String(r.category).length + String(r.resourceId ?? r.targetResourceID ?? '').length + String(r.macAddress ?? '').length;
    const p = r.properties as { flows?: { flows: { mac: string; flowTuples: string[] }[] }[] } | undefined;
    if (p?.flows) for (const rule of p.flows) for (const g of rule.flows) for (const t of g.flowTuples) sink += t.length + g.mac.length;
    const fr = r.flowRecords as { flows: { flowGroups: { flowTuples: string[] }[] }[] } | undefined;
    if (fr) for (const acl of fr.flows) for (const g of acl.flowGroups) for (const t of g.flowTuples) sink += t.length;
  }
}

function gcpFromObject(o: Obj): void {
  const p = o.jsonPayload as Obj;
  const c = p.connection as Obj;
  sink += (c.src_ip as string).length + (c.dest_ip as string).length + (c.src_port as number) + (c.dest_port as number) + (c.protocol as number);
  sink += (p.reporter as string).length + (p.start_time as string).length + (p.end_time as string).length;
  sink += Number(p.bytes_sent) + Number(p.packets_sent);
  const inst = (p.dest_instance ?? p.src_instance) as Obj | undefined;
  if (inst) sink += (inst.project_id as string).length + (inst.region as string).length + (inst.vm_name as string).length;
}

function eachLine(text: string, f: (line: string) => void): void {
  let i = 0;
  for (;;) {
    const j = text.indexOf('\n', i);
    if (j < 0) break;
    if (j > i) f(text.slice(i, j));
    i = j + 1;
  }
}

// ---------------------------------------------------------------- readers

/**
 * What a JSON.parse-based reader would do: JSON.parse, then the same tuple / field
 * parsers as the real readers, fed through a scratch byte buffer, into a FlowSink.
 */
const scratch = Buffer.alloc(4096);

function azureJsonParseReader(buf: Buffer, s: FlowSink): void {
  const doc = JSON.parse(buf.toString('utf8')) as { records: Obj[] };
  const rec = s.rec;
  for (const r of doc.records) {
    const account = s.dict.idOf(subscriptionOf(String(r.resourceId ?? r.targetResourceID ?? '')));
    const p = r.properties as { Version: number; flows?: { flows: { mac: string; flowTuples: string[] }[] }[] } | undefined;
    const each = (t: string, iface: number) => {
      const n = scratch.write(t, 'latin1');
      rec.cloud = 1;
      rec.account = account;
      rec.iface = iface;
      rec.region = 0;
      rec.instance = 0;
      rec.tcpFlags = -1;
      const why = p ? nsgTupleParse(rec, scratch, 0, n, p.Version) : vnetTupleParse(rec, scratch, 0, n);
      if (why === null) s.emit(0, 0);
      else s.noData();
    };
    if (p?.flows) for (const rule of p.flows) for (const g of rule.flows) {
      const iface = s.dict.idOf(g.mac);
      for (const t of g.flowTuples) each(t, iface);
    }
    const fr = r.flowRecords as { flows: { flowGroups: { flowTuples: string[] }[] }[] } | undefined;
    const iface = s.dict.idOf(String(r.macAddress ?? ''));
    if (fr) for (const acl of fr.flows) for (const g of acl.flowGroups) for (const t of g.flowTuples) each(t, iface);
  }
}

function gcpJsonParseReader(buf: Buffer, s: FlowSink): void {
  const rec = s.rec;
  eachLine(buf.toString('utf8'), (l) => {
    const p = (JSON.parse(l) as Obj).jsonPayload as Obj;
    const c = p.connection as Obj;
    let n = scratch.write(c.src_ip as string, 'latin1');
    parseAddressBytes(scratch, 0, n, rec.src, 0);
    n = scratch.write(c.dest_ip as string, 'latin1');
    parseAddressBytes(scratch, 0, n, rec.dst, 0);
    rec.sport = (c.src_port as number) ?? 0;
    rec.dport = (c.dest_port as number) ?? 0;
    rec.proto = c.protocol as number;
    n = scratch.write(p.start_time as string, 'latin1');
    rec.start = rfc3339Seconds(scratch, 0, n);
    n = scratch.write(p.end_time as string, 'latin1');
    rec.end = rfc3339Seconds(scratch, 0, n);
    rec.bytes = Number(p.bytes_sent);
    rec.packets = Number(p.packets_sent);
    const dest = p.reporter === 'DEST';
    rec.direction = dest ? 1 : 2;
    const inst = (dest ? p.dest_instance : p.src_instance) as Obj | undefined;
    rec.account = inst ? s.dict.idOf(inst.project_id as string) : 0;
    rec.region = inst ? s.dict.idOf(inst.region as string) : 0;
    rec.instance = inst ? s.dict.idOf(inst.vm_name as string) : 0;
    rec.cloud = 2;
    rec.tcpFlags = -1;
    s.emit(0, 0);
  });
}

function nullSink(): FlowSink {
  return new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 10 }, () => {});
}

function ctxFor(s: FlowSink): ReaderContext {
  return { sink: s, file: 'bench', account: '', region: '', regionMap: {} };
}

function scanAll(sc: JsonScanner, buf: Uint8Array): void {
  sc.reset(buf, 0, buf.length, false);
  while (sc.peek() >= 0) sc.skip();
  sink += sc.pos;
}

// ---------------------------------------------------------------- main

function arg(name: string, d: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
}

type Task = [name: string, fn: () => void];

/** The approaches compared on one input (same order in every round, then rotated). */
function tasksFor(name: string, buf: Buffer, simd: SimdJson | null, sc: JsonScanner): Task[] {
  const tasks: Task[] = [];
  if (name.startsWith('GCP')) {
    tasks.push(['JSON.parse', () => eachLine(buf.toString('utf8'), (l) => gcpFromObject(JSON.parse(l) as Obj))]);
    if (simd) {
      tasks.push(['simdjson.parse', () => eachLine(buf.toString('utf8'), (l) => gcpFromObject(simd.parse(l) as Obj))]);
      tasks.push([
        'simdjson.lazyParse + valueForKeyPath',
        () =>
          eachLine(buf.toString('utf8'), (l) => {
            const d = simd.lazyParse(l);
            for (const k of ['src_ip', 'dest_ip', 'src_port', 'dest_port', 'protocol']) sink += String(d.valueForKeyPath(`jsonPayload.connection.${k}`)).length;
            for (const k of ['reporter', 'start_time', 'end_time', 'bytes_sent', 'packets_sent']) sink += String(d.valueForKeyPath(`jsonPayload.${k}`)).length;
          }),
      ]);
    }
    tasks.push(['byte scanner: validate only', () => scanAll(sc, buf)]);
    tasks.push([
      'reader (JSON.parse, full)',
      () => {
        const s = nullSink();
        gcpJsonParseReader(buf, s);
        sink += s.counters.records;
      },
    ]);
    tasks.push([
      'reader (byte scanner, full)',
      () => {
        const s = nullSink();
        gcpLines.open(ctxFor(s)).parseLines(buf, 0, buf.length, 1, 0);
        if (s.counters.records === 0 || s.counters.rejected > 0) throw new Error('gcp reader read nothing');
        sink += s.counters.records;
      },
    ]);
    return tasks;
  }
  const reader = name.includes('NSG') ? azureNsg : azureVnet;
  tasks.push(['JSON.parse', () => azureFromObject(JSON.parse(buf.toString('utf8')))]);
  if (simd) tasks.push(['simdjson.parse', () => azureFromObject(simd.parse(buf.toString('utf8')))]);
  tasks.push(['byte scanner: validate only', () => scanAll(sc, buf)]);
  tasks.push([
    'reader (JSON.parse, full)',
    () => {
      const s = nullSink();
      azureJsonParseReader(buf, s);
      sink += s.counters.records;
    },
  ]);
  tasks.push([
    'reader (byte scanner, full)',
    () => {
      const s = nullSink();
      reader.parseDocument(buf, ctxFor(s));
      if (s.counters.records === 0 || s.counters.rejected > 0) throw new Error('azure reader read nothing');
      sink += s.counters.records;
    },
  ]);
  return tasks;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/**
 * On a shared machine the load changes from second to second, so one long tinybench run
 * per approach would compare approaches under different loads. Instead every approach
 * runs in each of several short rounds (the order rotating), and the table gives each
 * approach's best round (the least disturbed) and its median round.
 */
async function main(): Promise<void> {
  const mb = arg('mb', 4);
  const time = arg('time', 400);
  const rounds = arg('rounds', 7);
  const simd = loadSimdJson();
  const inputs = {
    'Azure NSG v2 PT1H.json': azureBlob('nsg', mb << 20),
    'Azure VNet PT1H.json': azureBlob('vnet', mb << 20),
    'GCP LogEntry NDJSON': gcpNdjson(mb << 20),
  };
  const dump = process.argv.indexOf('--dump');
  if (dump > 0) {
    // write the generated inputs (to profile or to feed the CLI) and stop
    const dir = process.argv[dump + 1]!;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'nsg-PT1H.json'), inputs['Azure NSG v2 PT1H.json']);
    writeFileSync(join(dir, 'vnet-PT1H.json'), inputs['Azure VNet PT1H.json']);
    writeFileSync(join(dir, 'gcp.ndjson'), inputs['GCP LogEntry NDJSON']);
    return;
  }
  const sc = new JsonScanner();
  const results: string[] = [];
  for (const [name, buf] of Object.entries(inputs)) {
    const tasks = tasksFor(name, buf, simd, sc);
    const ms = new Map<string, number[]>(tasks.map(([t]) => [t, []]));
    for (let r = 0; r < rounds; r++) {
      // short rounds: at least `time` ms and 5 runs per approach (warm-up only in the first round)
      const bench = new Bench({ name, time, iterations: 5, warmup: r === 0, warmupIterations: 5, warmupTime: 100 });
      for (let k = 0; k < tasks.length; k++) {
        const [t, fn] = tasks[(k + r) % tasks.length]!;
        bench.add(t, fn);
      }
      await bench.run();
      for (const t of bench.tasks) {
        const res = t.result as unknown as { latency?: { mean: number }; error?: unknown };
        if (!res.latency) throw new Error(`${name} / ${t.name} failed: ${String(res.error)}`);
        ms.get(t.name)!.push(res.latency.mean);
      }
    }
    const mbps = (m: number) => (buf.length / 1e6 / (m / 1000)).toFixed(0);
    results.push(`\n${name}: ${(buf.length / 1048576).toFixed(1)} MiB`);
    results.push(`| approach | MB/s, best round | MB/s, median round | ms per run, best / median |`);
    results.push('|---|---:|---:|---:|');
    for (const [t] of tasks) {
      const xs = ms.get(t)!;
      const best = Math.min(...xs);
      const med = median(xs);
      results.push(`| ${t} | ${mbps(best)} | ${mbps(med)} | ${best.toFixed(1)} / ${med.toFixed(1)} |`);
    }
  }
  console.log(`node ${process.version}, ${process.platform}/${process.arch}, simdjson ${simd ? 'loaded' : 'NOT loaded'}, ${rounds} rounds of ${time} ms per approach`);
  console.log(results.join('\n'));
  if (sink === 42) console.log('');
}

await main();
