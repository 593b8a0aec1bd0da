/**
 * flowsieve generate's compromised hosts (detection.md §4, issue 5): the outbound ground truth
 * against an independent reading of the written files (every cloud), and end to end
 * through detect (AWS; Azure and GCP when this build has their readers).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { generate, DEFAULT_START } from '../dist/src/generate/index.js';
import { supportedFormats } from '../dist/src/formats/registry.js';
import { isPublicAddress, formatAddress, parseAddress } from '../dist/src/net/address.js';
import { readListFile } from '../dist/src/net/cidr.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const W = 21600;
type Cloud = 'aws' | 'azure' | 'gcp';
type Rec = Record<string, any>;

async function sample(dir: string, o: { seed: number; scale: number; days: number; clouds: Cloud[] }) {
  // the metadata in the logs folder itself (--meta DIR): these tests read both from one folder
  return generate({ out: dir, meta: dir, seed: o.seed, scale: o.scale, days: o.days, start: DEFAULT_START, clouds: o.clouds, windowSeconds: W, gzipLevel: 1 });
}

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...files(p));
    else out.push(p);
  }
  return out.sort();
}

const truthOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as Rec;
const iso = (t: number) => new Date(Math.floor(t / W) * W * 1000).toISOString().replace('.000', '');
const canon = (a: string) => formatAddress(parseAddress(a)!);

/** One record of any of the three formats, as a deliberately simple reader sees it. */
interface Flow {
  cloud: Cloud;
  account: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  start: number;
  direction: '' | 'ingress' | 'egress';
  flags: number;
  iface: string;
  instance: string;
}

function* flows(dir: string): Generator<Flow> {
  for (const f of files(join(dir, 'aws'))) {
    const lines = gunzipSync(readFileSync(f)).toString('latin1').trimEnd().split('\n');
    const h = lines[0]!.split(' ');
    const at = (name: string) => h.indexOf(name);
    for (const l of lines.slice(1)) {
      const v = l.split(' ');
      if (v[at('log-status')] !== 'OK') continue;
      const inst = at('instance-id') >= 0 ? v[at('instance-id')]! : '-';
      yield {
        cloud: 'aws', account: v[at('account-id')]!, src: canon(v[at('srcaddr')]!), dst: canon(v[at('dstaddr')]!),
        sport: +v[at('srcport')]!, dport: +v[at('dstport')]!, proto: +v[at('protocol')]!, start: +v[at('start')]!,
        direction: at('flow-direction') >= 0 ? (v[at('flow-direction')] as Flow['direction']) : '',
        flags: at('tcp-flags') >= 0 ? +v[at('tcp-flags')]! : -1, iface: v[at('interface-id')]!, instance: inst === '-' ? '' : inst,
      };
    }
  }
  for (const f of files(join(dir, 'azure'))) {
    const mac = /macAddress=([0-9A-F]{12})\//.exec(f)![1]!;
    for (const r of JSON.parse(readFileSync(f, 'utf8')).records) {
      const id = String(r.targetResourceID ?? r.resourceId);
      const account = id.split('/')[2]!.toLowerCase();
      const groups = r.properties ? r.properties.flows.flatMap((g: any) => g.flows) : r.flowRecords.flows.flatMap((a: any) => a.flowGroups);
      for (const g of groups) {
        for (const t of g.flowTuples as string[]) {
          const v = t.split(',');
          yield {
            cloud: 'azure', account, src: canon(v[1]!), dst: canon(v[2]!), sport: +v[3]!, dport: +v[4]!,
            proto: v[5] === 'T' ? 6 : v[5] === 'U' ? 17 : Number(v[5]), start: Number(v[0]) > 1e11 ? Math.floor(Number(v[0]) / 1000) : Number(v[0]),
            direction: v[6] === 'I' ? 'ingress' : 'egress', flags: -1, iface: mac, instance: id.slice(id.lastIndexOf('/') + 1),
          };
        }
      }
    }
  }
  for (const f of files(join(dir, 'gcp'))) {
    for (const line of readFileSync(f, 'utf8').trimEnd().split('\n')) {
      const p = JSON.parse(line).jsonPayload;
      const c = p.connection;
      if (p.reporter === 'SRC' && p.dest_instance) continue; // the destination's DEST record stands for it
      const vm = p.reporter === 'DEST' ? p.dest_instance : p.src_instance;
      yield {
        cloud: 'gcp', account: vm.project_id, src: canon(c.src_ip), dst: canon(c.dest_ip), sport: c.src_port ?? 0, dport: c.dest_port ?? 0,
        proto: c.protocol, start: Math.floor(Date.parse(p.start_time) / 1000), direction: p.reporter === 'DEST' ? 'ingress' : 'egress',
        flags: -1, iface: '', instance: vm.vm_name,
      };
    }
  }
}

/** detection.md §4 over the independent reading: targets per key, ports per (host, target), ids per host. */
function readOutbound(dir: string) {
  const horizontal = new Map<string, Set<string>>();
  const vertical = new Map<string, Set<number>>();
  const internal = new Map<string, Set<string>>();
  const ids = new Map<string, { ifaces: Set<string>; instances: Set<string> }>();
  const add = <T>(m: Map<string, Set<T>>, k: string, v: T) => (m.get(k) ?? m.set(k, new Set()).get(k)!).add(v);
  for (const r of flows(dir)) {
    const outbound = (r.direction === 'egress' || (r.direction === '' && !isPublicAddress(r.src))) && isPublicAddress(r.dst);
    const inside = !isPublicAddress(r.src) && !isPublicAddress(r.dst); // internal scanning (detection.md §4)
    if ((!outbound && !inside) || r.proto === 1 || r.proto === 58 || (r.sport < 1024 && r.dport >= 1024)) continue;
    if (r.proto === 6 && [18, 4, 22].includes(r.flags)) continue;
    const host = `${iso(r.start)} ${r.cloud} ${r.account} ${r.src} ${r.proto}`;
    if (inside) {
      add(internal, `${host} ${r.dport}`, r.dst);
      continue;
    }
    add(horizontal, `${host} ${r.dport}`, r.dst);
    add(vertical, `${host} ${r.dst}`, r.dport);
    const h = ids.get(`${r.cloud} ${r.account} ${r.src}`) ?? ids.set(`${r.cloud} ${r.account} ${r.src}`, { ifaces: new Set(), instances: new Set() }).get(`${r.cloud} ${r.account} ${r.src}`)!;
    if (r.iface) h.ifaces.add(r.iface);
    if (r.instance) h.instances.add(r.instance);
  }
  return { horizontal, vertical, internal, ids };
}

const alertKey = (a: Rec) => `${a.window_start} ${a.cloud} ${a.account} ${a.src} ${a.protocol} ${a.kind === 'vertical' ? a.target : a.dst_port}`;

function runDetect(inputs: string[], out: string, extra: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'detect', ...inputs, '--out', out, '--quiet', ...extra], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const lines = (name: string) => readFileSync(join(out, name), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec);
  return { scans: lines('scans.ndjson'), alerts: lines('outbound.ndjson'), summary: JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) };
}

/** outbound.ndjson must be the truth's alerts, in order, field by field (looks_like_nat is not predicted). */
function expectAlerts(got: Rec[], expected: Rec[]) {
  const strip = (a: Rec) => {
    const { looks_like_nat: _n, host: _h, ...rest } = a;
    return rest;
  };
  expect(got.map(alertKey)).toEqual(expected.map(alertKey));
  expect(got.map(strip)).toEqual(expected.map(strip));
}

/** scans.ndjson must hold exactly the inbound truth's keys for the default profile, with the same features. */
function expectInboundMatches(scans: Rec[], truth: Rec) {
  const FIELDS = ['endpoints', 'clouds', 'accounts', 'regions', 'flows', 'packets', 'bytes', 'cv_packets', 'cv_bytes', 'cv_flows', 'first_seen', 'last_seen'];
  const key = (k: Rec) => `${k.window_start} ${k.src} ${k.protocol} ${k.dst_port}`;
  const expected = new Map<string, Rec>(truth.scanners.filter((k: Rec) => k.profiles.includes('default')).map((k: Rec) => [key(k), k]));
  const got = new Map(scans.map((k) => [key(k), k]));
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [k, exp] of expected) for (const f of FIELDS) expect(got.get(k)![f], `${k} ${f}`).toEqual(exp[f]);
}

describe('generate: compromised hosts in every cloud (ground truth and files)', () => {
  const dir = tempDir('fs-gen-out-');
  let truth: Rec;
  beforeAll(async () => {
    await sample(dir, { seed: 11, scale: 0.02, days: 1, clouds: ['aws', 'azure', 'gcp'] });
    truth = truthOf(dir);
  }, 60_000);

  it('plants a worm and a vertical scanner (alerts, with instance ids) and a miner and a NAT (none) per cloud', () => {
    const o = truth.outbound;
    expect(truth.warnings).toEqual([]);
    expect(o.hosts.map((h: Rec) => h.name)).toEqual(['aws', 'azure', 'gcp'].flatMap((c) => ['worm', 'vertical', 'miner', 'nat'].map((k) => `${c}-${k}`)));
    for (const h of o.hosts) {
      const mine = o.alerts.filter((a: Rec) => a.host === h.name);
      expect(mine.length, h.name).toBe(h.role === 'compromised' ? 1 : 0); // one day: one burst
      for (const a of mine) {
        expect([a.cloud, a.account, a.src, a.interface, a.instance]).toEqual([h.cloud, h.account, h.src, h.interface, h.instance]);
        expect(a.instance, `${h.name} names its instance`).toBeTruthy();
        if (h.kind === 'worm') expect([a.kind, a.protocol, a.dst_port, a.worm_signature, a.cv_bytes]).toEqual(['horizontal', 6, 23, true, 0]);
        if (h.kind === 'worm') expect(a.targets).toBeGreaterThanOrEqual(1000);
        if (h.kind === 'vertical') expect([a.kind, a.targets, a.ports, a.worm_signature]).toEqual(['vertical', 1, 1024, false]);
      }
    }
    const byName = new Map<string, Rec>(o.hosts.map((h: Rec) => [h.name, h]));
    // the ids detect reports: AWS ENI + instance-id (v5), Azure MAC + NSG / VNet name, GCP VM name only
    expect(byName.get('aws-worm')!.instance).toMatch(/^i-[0-9a-f]{17}$/);
    expect(byName.get('azure-worm')!.interface).toMatch(/^000D3A[0-9A-F]{6}$/);
    expect(byName.get('azure-worm')!.instance).toBe('WEB-NSG');
    expect(byName.get('azure-vertical')!.instance).toBe('app-vnet');
    expect([byName.get('gcp-worm')!.interface, byName.get('gcp-worm')!.instance]).toEqual([null, expect.stringMatching(/^web-us-\d{2}$/)]);
    // the NAT's uniform DNS keys pass the thresholds: only the allow list keeps them out
    for (const c of ['aws', 'azure', 'gcp']) {
      const nat = o.not_alerts.find((n: Rec) => n.host === `${c}-nat`);
      expect(nat.suppressed_by_allow_list).toBeGreaterThan(0);
      expect(nat.largest_horizontal.failed.some((f: string) => f.startsWith('cv_bytes'))).toBe(true);
      const miner = o.not_alerts.find((n: Rec) => n.host === `${c}-miner`);
      expect([miner.largest_horizontal.targets, miner.largest_horizontal.dst_port, miner.largest_vertical.ports]).toEqual([1, 3333, 1]);
    }
    expect(o.suppressed_by_allow_list.every((a: Rec) => a.host.endsWith('-nat') && a.protocol === 17 && a.dst_port === 53)).toBe(true);
  });

  it('writes allow.txt with each NAT id, readable by detect --allow', () => {
    const list = readListFile(join(dir, 'allow.txt'));
    expect(list.errors).toEqual([]);
    expect(list.cidrs).toEqual([]);
    const nats = truth.outbound.hosts.filter((h: Rec) => h.kind === 'nat');
    expect([...list.names].sort()).toEqual(nats.map((h: Rec) => h.interface ?? h.instance).sort());
    expect([...list.names].sort()).toEqual(truth.outbound.allow_list.ids);
  });

  it('the outbound truth agrees with an independent reading of the written files', () => {
    const { horizontal, vertical, internal, ids } = readOutbound(dir);
    const o = truth.outbound;
    // the internal vulnerability scanner (AWS v2 log, private to private) is an internal scan (detection.md §4)
    expect(o.alerts.filter((a: Rec) => a.kind === 'internal').map((a: Rec) => [a.host, a.protocol, a.dst_port])).toEqual([['internal-scanner', 6, 22]]);
    for (const a of [...o.alerts, ...o.suppressed_by_allow_list]) {
      if (a.kind === 'internal') expect(internal.get(alertKey(a))?.size, alertKey(a)).toBe(a.targets);
      else if (a.kind === 'horizontal') expect(horizontal.get(alertKey(a))?.size, alertKey(a)).toBe(a.targets);
      else expect(vertical.get(alertKey(a))?.size, alertKey(a)).toBe(a.ports);
    }
    // the hosts' records carry the ids the truth names (Azure: the blob's MAC and the NSG / VNet)
    for (const h of o.hosts) {
      const seen = ids.get(`${h.cloud} ${h.account} ${h.src}`)!;
      expect([...seen.ifaces], h.name).toEqual(h.interface ? [h.interface] : []);
      expect([...seen.instances], h.name).toEqual(h.instance ? [h.instance] : []);
    }
    // nothing else, benign traffic included, reaches 100 targets or 100 ports
    const listed = new Set([...o.alerts, ...o.suppressed_by_allow_list].map(alertKey));
    const natFailing = new Set(o.hosts.filter((h: Rec) => h.kind === 'nat').map((h: Rec) => `${h.cloud} ${h.account} ${h.src}`));
    for (const [k, targets] of horizontal) {
      if (targets.size < 100 || listed.has(k)) continue;
      const [, cloud, account, src] = k.split(' ');
      expect(natFailing.has(`${cloud} ${account} ${src}`), `${k}: ${targets.size} targets`).toBe(true); // the NAT's web keys (cv_bytes)
    }
    for (const [k, ports] of vertical) if (ports.size >= 100) expect(listed.has(k), k).toBe(true);
  });

  const multi = ['azure-nsg', 'azure-vnet', 'gcp'].every((f) => supportedFormats().includes(f as never));
  it.runIf(multi)(`detect --allow on all clouds writes exactly the outbound truth${multi ? '' : ' (skipped: no Azure/GCP readers in this build)'}`, () => {
    const inputs = ['aws', 'azure', 'gcp'].map((c) => join(dir, c));
    const r = runDetect(inputs, join(dir, 'out'), ['--region-map', join(dir, 'region-map.json'), '--allow', join(dir, 'allow.txt')]);
    expectAlerts(r.alerts, truth.outbound.alerts);
    expectInboundMatches(r.scans, truth);
    expect(r.summary.outbound.suppressed_by_allow_list).toBe(truth.outbound.suppressed_by_allow_list.length);
  });
});

describe('generate → detect: outbound alerts end to end (AWS)', () => {
  const dir = tempDir('fs-gen-out-aws-');
  let truth: Rec;
  beforeAll(async () => {
    await sample(dir, { seed: 3, scale: 0.03, days: 2, clouds: ['aws'] }); // two days: the truth closes a day at midnight
    truth = truthOf(dir);
  }, 60_000);

  it('with --allow: the worm and the vertical scan with their instance ids, no miner, no NAT; inbound unchanged', () => {
    const r = runDetect([join(dir, 'aws')], join(dir, 'out'), ['--allow', join(dir, 'allow.txt')]);
    expectAlerts(r.alerts, truth.outbound.alerts);
    const hosts = new Map<string, Rec>(truth.outbound.hosts.map((h: Rec) => [h.kind, h]));
    const worm = r.alerts.find((a) => a.src === hosts.get('worm')!.src)!;
    expect([worm.kind, worm.dst_port, worm.worm_signature, worm.severity, worm.instance]).toEqual(['horizontal', 23, true, 'critical', hosts.get('worm')!.instance]);
    const vertical = r.alerts.find((a) => a.src === hosts.get('vertical')!.src)!;
    expect([vertical.kind, vertical.ports, vertical.instance]).toEqual(['vertical', 1024, hosts.get('vertical')!.instance]);
    for (const k of ['worm', 'vertical']) expect(r.alerts.filter((a) => a.src === hosts.get(k)!.src).map((a) => a.window_start.slice(0, 10)), k).toEqual(['2024-03-01', '2024-03-02']);
    for (const k of ['miner', 'nat']) expect(r.alerts.some((a) => a.src === hosts.get(k)!.src), k).toBe(false);
    expect(r.summary.outbound.suppressed_by_allow_list).toBe(truth.outbound.suppressed_by_allow_list.length);
    expectInboundMatches(r.scans, truth);
  });

  it('without --allow: the NAT gateway DNS keys are alerted too, and look like a NAT', () => {
    const r = runDetect([join(dir, 'aws')], join(dir, 'out-noallow'), []);
    const byKey = (a: Rec, b: Rec) => (alertKey(a) < alertKey(b) ? -1 : alertKey(a) > alertKey(b) ? 1 : 0);
    expectAlerts([...r.alerts].sort(byKey), [...truth.outbound.alerts, ...truth.outbound.suppressed_by_allow_list].sort(byKey));
    const nat = r.alerts.filter((a) => a.interface === truth.outbound.allow_list.ids[0]);
    expect(nat.length).toBe(truth.outbound.suppressed_by_allow_list.length);
    expect(nat.every((a) => a.looks_like_nat && a.dst_port === 53 && a.instance === null)).toBe(true); // TCP, UDP and ESP; a NAT gateway has no instance
  });
});
