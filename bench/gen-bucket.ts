/**
 * An AWS VPC Flow Logs bucket as `aws s3 sync` leaves it, for the whole-run benchmarks
 * (issue 19): 5-minute gzip objects under
 * `AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_fl-…_<YYYYMMDDTHHMMZ>_<hash>.log.gz`,
 * one flow log per (account, region), each in one of four layouts (LAYOUTS):
 *
 * - v2 default format with its header line, and without one;
 * - a v5 custom format: the v2 fields, then `vpc-id subnet-id instance-id tcp-flags type
 *   pkt-srcaddr pkt-dstaddr region az-id … flow-direction traffic-path`;
 * - a v3 custom format in another order: `version vpc-id subnet-id instance-id interface-id
 *   account-id type srcaddr dstaddr …` with tcp-flags, bytes before packets, no direction.
 *
 * The data's shape is the one real multi-tenant logs have (issue 19 "Benchmarks"):
 * scanners reach 100-1,000 endpoints across accounts and regions (half of them vary their
 * counts: near misses), benign inbound traffic comes from a large pool of sources spread
 * over every account, about 1 in 12 of them a client of several endpoints, so that about
 * a quarter of the (key, endpoint) tuples belong to a key with more than one endpoint;
 * plus responses, outbound traffic, IPv6 clients and NODATA records. Deterministic in
 * the seed. Records are spread over the files by a per-log weight and a per-file jitter,
 * which gives objects of ~50 KB to ~2 MB gzip at the default 10 records per second.
 *
 *   node dist/bench/gen-bucket.js --out DIR [--records N] [--logs L] [--hours H] [--seed S]
 *
 * `--logs 10 --hours 6` (the default) writes 720 files; `--records 100000 --logs 35
 * --hours 24` writes 10,080 tiny ones (the per-file cost).
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { arg } from './args.js';
import { DAY0, Rng, mix, publicV4, v4 } from './gen-aws.js';

export const REGIONS = ['us-east-1', 'eu-west-1', 'ap-southeast-2'];
const SLOT = 300; // AWS delivers a flow log's records in 5-minute (or 1-minute) objects
const ENDPOINTS_PER_LOG = 400;
/** Benign sources per record, per flow log: sets records per (key, endpoint) tuple. */
const SOURCES_PER_RECORD = Number(process.env.GEN_SOURCES ?? 0.4);
/** Share of benign sources that are clients of every account. */
const MULTI = Number(process.env.GEN_MULTI ?? 0.08);

export type Layout = 'v2-header' | 'v2-plain' | 'v5-appended' | 'v3-reordered';
export const LAYOUTS: Layout[] = ['v2-header', 'v2-plain', 'v5-appended', 'v3-reordered'];

export const HEADERS: Record<Layout, string> = {
  'v2-header': 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  'v2-plain': 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  'v5-appended':
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status ' +
    'vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id ' +
    'pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path',
  'v3-reordered':
    'version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr ' +
    'protocol bytes packets start end action tcp-flags log-status',
};

export interface BucketOptions {
  out: string;
  records: number;
  logs?: number;
  hours?: number;
  seed?: number;
}

export interface FlowLog {
  index: number;
  account: string;
  region: string;
  layout: Layout;
  id: string;
  vpc: string;
  /** root of its objects, relative to `out` */
  dir: string;
}

export interface BucketStats {
  files: number;
  records: number;
  bytes: number;
  scanners: number;
  probes: number;
  logs: FlowLog[];
}

interface Eni {
  log: number;
  iface: string;
  instance: string;
  subnet: string;
  addr: string;
  az: string;
}

/** One scanner probe, placed in its file before the files are written. */
interface Probe {
  src: string;
  eni: number;
  proto: number;
  port: number;
  packets: number;
  bytes: number;
  start: number;
}

/** The flow logs: accounts cycle fastest, so every region holds several accounts. */
/** The gzip objects under a folder of a generated bucket, in name order. */
export function gzipFilesUnder(d: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(d, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...gzipFilesUnder(join(d, e.name)));
    else if (e.name.endsWith('.gz')) out.push(join(d, e.name));
  }
  return out.sort();
}

export function flowLogs(logs: number): FlowLog[] {
  const accounts = Math.max(1, Math.ceil(logs / REGIONS.length));
  return Array.from({ length: logs }, (_, i) => {
    const account = `4000${String(100000 + (i % accounts) * 7919).padStart(8, '0')}`;
    const region = REGIONS[Math.floor(i / accounts) % REGIONS.length]!;
    const h = mix(i + 4242).toString(16).padStart(8, '0');
    return {
      index: i, account, region, layout: LAYOUTS[i % LAYOUTS.length]!,
      id: `fl-0${h}${h.slice(0, 8)}`, vpc: `vpc-0${h}${mix(i).toString(16).padStart(8, '0')}`,
      dir: `AWSLogs/${account}/vpcflowlogs/${region}`,
    };
  });
}

function enis(logs: FlowLog[]): Eni[] {
  const out: Eni[] = [];
  for (const l of logs) {
    // a VPC per region: private addresses repeat across accounts, not within one
    const net = REGIONS.indexOf(l.region);
    for (let e = 0; e < ENDPOINTS_PER_LOG; e++) {
      const h = mix(l.index * 100_000 + e + 1);
      out.push({
        log: l.index,
        iface: `eni-0${h.toString(16).padStart(8, '0')}${mix(h).toString(16).padStart(8, '0')}`,
        instance: e % 5 === 4 ? '-' : `i-0${mix(h + 1).toString(16).padStart(8, '0')}${mix(h + 2).toString(16).padStart(8, '0')}`,
        subnet: `subnet-0${mix(l.index * 16 + (e >> 6)).toString(16).padStart(8, '0')}`,
        addr: `10.${net}.${e >> 6}.${(e & 63) + 10}`,
        az: `${l.region.slice(0, 3)}az${1 + (e % 3)}`,
      });
    }
  }
  return out;
}

const SCANNED: Array<[number, number]> = [[6, 22], [6, 23], [6, 445], [6, 3389], [17, 5060], [6, 8080], [6, 2323], [6, 6379], [17, 161], [6, 5900]];
const SERVICES: Array<[number, number]> = [[6, 443], [6, 80], [6, 22], [6, 3389], [6, 8080], [17, 53], [17, 123], [6, 25], [6, 8443], [6, 5432]];

/**
 * Scanners' probes, each in the file (log, slot) it falls in. A scanner works in one
 * 6-hour window of the bucket on one or two ports, and reaches 100-1,000 endpoints of
 * every account, once each (a quarter of them retry: two records); the noisy half vary
 * their packet counts (near misses, not scans).
 */
function planProbes(rng: Rng, scanners: number, eps: Eni[], t0: number, span: number, slots: number): { byFile: Map<number, Probe[]>; count: number } {
  const byFile = new Map<number, Probe[]>();
  let count = 0;
  const windows = Math.max(1, Math.ceil(span / 21600));
  for (let s = 0; s < scanners; s++) {
    const src = v4(((185 << 24) | (mix(s + 99) & 0xffffff)) >>> 0);
    const noisy = s % 2 === 1;
    const retries = s % 4 === 2 ? 2 : 1;
    const w = rng.int(windows);
    const from = t0 + w * 21600;
    const until = Math.min(t0 + span, from + 21600) - 120;
    const targets = Math.min(eps.length, 100 + rng.int(901));
    const first = rng.int(eps.length);
    const basePackets = 1 + rng.int(2);
    const baseBytes = [40, 44, 60][rng.int(3)]!;
    const ports = 1 + rng.int(2);
    for (let p = 0; p < ports; p++) {
      const [proto, port] = SCANNED[(s + p * 3) % SCANNED.length]!;
      for (let t = 0; t < targets; t++) {
        const eni = (first + t * 37) % eps.length;
        for (let k = 0; k < retries; k++) {
          const packets = noisy ? 1 + rng.int(40) : basePackets;
          const start = from + rng.int(until - from);
          const file = eps[eni]!.log * slots + Math.floor((start - t0) / SLOT);
          const probe: Probe = { src, eni, proto, port, packets, bytes: noisy ? packets * (40 + rng.int(1400)) : basePackets * baseBytes, start };
          const list = byFile.get(file);
          if (list) list.push(probe);
          else byFile.set(file, [probe]);
          count++;
        }
      }
    }
  }
  return { byFile, count };
}

/** The fields of one record, reused for every line (the layouts pick theirs). */
class Rec {
  account = '';
  eni!: Eni;
  vpc = '';
  type = 'IPv4';
  src = '';
  dst = '';
  sport = 0;
  dport = 0;
  proto = 6;
  packets = 0;
  bytes = 0;
  start = 0;
  end = 0;
  action = 'ACCEPT';
  flags = 0;
  region = '';
  dir = 'ingress';
  path = '-';
}

function line(layout: Layout, r: Rec): string {
  const e = r.eni;
  switch (layout) {
    case 'v2-header':
    case 'v2-plain':
      return `2 ${r.account} ${e.iface} ${r.src} ${r.dst} ${r.sport} ${r.dport} ${r.proto} ${r.packets} ${r.bytes} ${r.start} ${r.end} ${r.action} OK`;
    case 'v5-appended':
      return (
        `5 ${r.account} ${e.iface} ${r.src} ${r.dst} ${r.sport} ${r.dport} ${r.proto} ${r.packets} ${r.bytes} ${r.start} ${r.end} ${r.action} OK ` +
        `${r.vpc} ${e.subnet} ${e.instance} ${r.flags} ${r.type} ${r.src} ${r.dst} ${r.region} ${e.az} - - - - ${r.dir} ${r.path}`
      );
    case 'v3-reordered':
      return (
        `3 ${r.vpc} ${e.subnet} ${e.instance} ${e.iface} ${r.account} ${r.type} ${r.src} ${r.dst} ${r.sport} ${r.dport} ${r.src} ${r.dst} ` +
        `${r.proto} ${r.bytes} ${r.packets} ${r.start} ${r.end} ${r.action} ${r.flags} OK`
      );
  }
}

function noDataLine(layout: Layout, r: Rec, status: string): string {
  const e = r.eni;
  switch (layout) {
    case 'v2-header':
    case 'v2-plain':
      return `2 ${r.account} ${e.iface} - - - - - - - ${r.start} ${r.end} - ${status}`;
    case 'v5-appended':
      return `5 ${r.account} ${e.iface} - - - - - - - ${r.start} ${r.end} - ${status} ${r.vpc} ${e.subnet} ${e.instance} - - - - ${r.region} ${e.az} - - - - - -`;
    case 'v3-reordered':
      return `3 ${r.vpc} ${e.subnet} ${e.instance} ${e.iface} ${r.account} - - - - - - - - - - ${r.start} ${r.end} - - ${status}`;
  }
}

const TCP_OPEN = [3, 19, 27, 31]; // SYN|FIN, SYN|ACK|FIN, ...: whole connections, never backscatter's 18/4/22

/** One benign record of a file: inbound clients (most), answers to our calls, our calls, IPv6, NODATA. */
function benign(rng: Rng, r: Rec, log: FlowLog, eps: Eni[], sources: number, slotStart: number): string | null {
  const kind = rng.int(1000);
  r.start = slotStart + rng.int(SLOT - 60);
  r.end = r.start + rng.int(60);
  r.type = 'IPv4';
  r.action = 'ACCEPT';
  r.flags = TCP_OPEN[rng.int(4)]!;
  r.path = '-';
  const base = log.index * ENDPOINTS_PER_LOG;
  if (kind < 4) {
    r.eni = eps[base + rng.int(ENDPOINTS_PER_LOG)]!;
    return noDataLine(log.layout, r, rng.chance(0.1) ? 'SKIPDATA' : 'NODATA');
  }
  if (kind < 84) {
    // the answer to one of our hosts' calls (a response: port 443 to a high port)
    r.eni = eps[base + rng.int(ENDPOINTS_PER_LOG)]!;
    r.src = v4(publicV4(rng.int(5000)));
    r.dst = r.eni.addr;
    r.sport = 443;
    r.dport = 1024 + rng.int(64000);
    r.proto = 6;
    r.packets = 1 + rng.int(20);
    r.bytes = 60 + rng.int(9000) * r.packets;
    r.dir = 'ingress';
    return line(log.layout, r);
  }
  if (kind < 164) {
    // our hosts calling internet services
    r.eni = eps[base + rng.int(ENDPOINTS_PER_LOG)]!;
    r.src = r.eni.addr;
    r.dst = v4(publicV4(rng.int(5000)));
    r.sport = 1024 + rng.int(64000);
    r.dport = 443;
    r.proto = 6;
    r.packets = 1 + rng.int(20);
    r.bytes = 60 + rng.int(900) * r.packets;
    r.dir = 'egress';
    r.path = '8';
    return line(log.layout, r);
  }
  // inbound clients: what a source reaches depends on the source alone (its records in
  // other files meet in the same keys). 1 source in 20 is a client of every account (one
  // address, one or two endpoints in each flow log); the others are clients of one flow
  // log's endpoint (their address is this log's own)
  const s = rng.int(1 + rng.int(sources)); // skewed: low indexes are busy clients
  const h = mix(s + 77);
  const [proto, port] = SERVICES[h % SERVICES.length]!;
  const multi = (h % 1000) < MULTI * 1000;
  r.eni = eps[base + (((h >>> 4) + (multi ? rng.int(2) * 53 : 0)) % ENDPOINTS_PER_LOG)]!;
  const source = multi ? 50_000_000 + s : 100_000_000 + s * 64 + log.index;
  r.proto = proto;
  r.sport = 1024 + rng.int(64000);
  r.dport = port;
  r.packets = 1 + rng.int(30);
  r.bytes = r.packets * (60 + rng.int(1400));
  r.action = rng.chance(0.9) ? 'ACCEPT' : 'REJECT';
  r.dir = 'ingress';
  if (kind < 180) {
    r.type = 'IPv6';
    r.src = `2600:1f18:${(source & 0xffff).toString(16)}:${(source >>> 16).toString(16)}::${(h & 0xfff).toString(16)}`;
    r.dst = `fd00:ec2::${r.eni.addr.split('.')[3]}`;
  } else {
    r.src = v4(publicV4(source));
    r.dst = r.eni.addr;
  }
  return line(log.layout, r);
}

function probeLine(layout: Layout, r: Rec, p: Probe, eps: Eni[], rng: Rng): string {
  r.eni = eps[p.eni]!;
  r.type = 'IPv4';
  r.src = p.src;
  r.dst = r.eni.addr;
  r.sport = 1024 + rng.int(64000);
  r.dport = p.port;
  r.proto = p.proto;
  r.packets = p.packets;
  r.bytes = p.bytes;
  r.start = p.start;
  r.end = p.start + rng.int(60);
  r.action = 'REJECT';
  r.flags = p.proto === 6 ? 2 : 0;
  r.dir = 'ingress';
  r.path = '-';
  return line(layout, r);
}

function stamp(t: number): { day: string; name: string } {
  const d = new Date(t * 1000).toISOString(); // 2024-06-01T00:05:00.000Z
  return { day: `${d.slice(0, 4)}/${d.slice(5, 7)}/${d.slice(8, 10)}`, name: `${d.slice(0, 4)}${d.slice(5, 7)}${d.slice(8, 10)}T${d.slice(11, 13)}${d.slice(14, 16)}Z` };
}

/** Write the bucket under `o.out`: every file gzip, level 6, as AWS writes them. */
export function generateBucket(o: BucketOptions): BucketStats {
  const rng = new Rng(o.seed ?? 7);
  const logs = flowLogs(o.logs ?? 10);
  const hours = o.hours ?? 6;
  const slots = hours * 12;
  const span = hours * 3600;
  const t0 = DAY0;
  const eps = enis(logs);
  const scanners = Math.max(8, Math.round(o.records / 15000));
  const { byFile, count: probes } = planProbes(rng, scanners, eps, t0, span, slots);
  const benignTotal = Math.max(0, o.records - probes);
  const sources = Math.max(200, Math.round((benignTotal * SOURCES_PER_RECORD) / logs.length));
  const weights = logs.map((l) => 1 + (mix(l.index + 5) % 6)); // busy and quiet flow logs
  const weightSum = weights.reduce((a, b) => a + b, 0) * slots;
  const r = new Rec();
  let files = 0;
  let bytes = 0;
  let records = 0;
  for (const log of logs) {
    r.account = log.account;
    r.region = log.region;
    r.vpc = log.vpc;
    for (let slot = 0; slot < slots; slot++) {
      const slotStart = t0 + slot * SLOT;
      const jitter = 0.5 + (mix(log.index * 1000 + slot) % 1000) / 1000; // 0.5-1.5
      let n = Math.round((benignTotal * weights[log.index]! * jitter) / weightSum);
      const mine = byFile.get(log.index * slots + slot) ?? [];
      const lines: string[] = log.layout === 'v2-plain' ? [] : [HEADERS[log.layout]];
      let pi = 0;
      while (n > 0 || pi < mine.length) {
        const probeNext = pi < mine.length && (n === 0 || rng.chance((mine.length - pi) / (n + mine.length - pi)));
        if (probeNext) lines.push(probeLine(log.layout, r, mine[pi++]!, eps, rng));
        else {
          const l = benign(rng, r, log, eps, sources, slotStart);
          n--;
          if (l !== null) lines.push(l);
        }
      }
      if (lines.length === (log.layout === 'v2-plain' ? 0 : 1)) continue; // AWS writes no empty objects
      records += lines.length - (log.layout === 'v2-plain' ? 0 : 1);
      const st = stamp(slotStart + SLOT);
      const dir = join(o.out, log.dir, st.day);
      mkdirSync(dir, { recursive: true });
      const gz = gzipSync(Buffer.from(lines.join('\n') + '\n', 'latin1'), { level: 6 });
      const hash = mix(log.index * 7 + slot * 131 + (o.seed ?? 7)).toString(36).padStart(7, '0').slice(0, 8);
      writeFileSync(join(dir, `${log.account}_vpcflowlogs_${log.region}_${log.id}_${st.name}_${hash}.log.gz`), gz);
      files++;
      bytes += gz.length;
    }
  }
  return { files, records, bytes, scanners, probes, logs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = arg('out');
  if (!out) {
    process.stderr.write('usage: node dist/bench/gen-bucket.js --out DIR [--records N] [--logs L] [--hours H] [--seed S]\n');
    process.exit(1);
  }
  const t = performance.now();
  const s = generateBucket({ out, records: Number(arg('records') ?? 2e6), logs: Number(arg('logs') ?? 10), hours: Number(arg('hours') ?? 6), seed: Number(arg('seed') ?? 7) });
  process.stderr.write(
    `${s.files} files, ${s.records} records (${s.probes} scanner probes from ${s.scanners} scanners), ${(s.bytes / 1e6).toFixed(1)} MB gzip ` +
      `in ${((performance.now() - t) / 1000).toFixed(1)} s\n`,
  );
}
