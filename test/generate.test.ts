import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { generate, DEFAULT_START } from '../dist/src/generate/index.js';
import { supportedFormats } from '../dist/src/formats/registry.js';
import { isPublicAddress, formatAddress, parseAddress } from '../dist/src/net/address.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const W = 21600;

type Cloud = 'aws' | 'azure' | 'gcp';
interface Truth {
  scanners: Array<Record<string, any>>;
  hard_negatives: Array<{ src: string; entity: string; reason: string }>;
  not_scans: Array<Record<string, any>>;
  entities: Array<{ name: string; role: string; src: string }>;
  records: Record<string, number>;
  warnings: string[];
}

async function sample(dir: string, o: { seed?: number; scale: number; days: number; clouds: Cloud[] }) {
  // the metadata in the logs folder itself (--meta DIR): these tests read both from one folder
  return generate({ out: dir, meta: dir, seed: o.seed ?? 7, scale: o.scale, days: o.days, start: DEFAULT_START, clouds: o.clouds, windowSeconds: W, gzipLevel: 1 });
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

function digest(dir: string): Map<string, string> {
  return new Map(files(dir).map((f) => [relative(dir, f), createHash('sha256').update(readFileSync(f)).digest('hex')]));
}

const truthOf = (dir: string) => JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8')) as Truth;
const keyOf = (k: Record<string, any>) => `${k.window_start} ${k.src} ${k.protocol} ${k.dst_port}`;
const FIELDS = ['endpoints', 'clouds', 'accounts', 'regions', 'flows', 'packets', 'bytes', 'cv_packets', 'cv_bytes', 'cv_flows', 'first_seen', 'last_seen'];

function detectCli(inputs: string[], out: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [CLI, 'detect', ...inputs, '--out', out, '--quiet', ...extra], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  const text = readFileSync(join(out, 'scans.ndjson'), 'utf8');
  return { text, scans: text.trim() === '' ? [] : text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>) };
}

/** scans.ndjson must hold exactly the truth's keys for the profile, with the same features. */
function expectMatchesTruth(scans: Array<Record<string, any>>, truth: Truth, profile: string) {
  const expected = new Map(truth.scanners.filter((k) => k.profiles.includes(profile)).map((k) => [keyOf(k), k]));
  const got = new Map(scans.map((k) => [keyOf(k), k]));
  expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [key, exp] of expected) {
    const g = got.get(key)!;
    for (const f of FIELDS) expect(g[f], `${key} ${f}`).toEqual(exp[f]);
  }
  const flagged = new Set(scans.map((k) => k.src));
  for (const n of truth.hard_negatives) expect(flagged.has(n.src), `hard negative ${n.entity} flagged`).toBe(false);
}

describe('generate: determinism and layout', () => {
  const dirA = tempDir('fs-gen-a-');
  const dirB = tempDir('fs-gen-b-');
  const dirC = tempDir('fs-gen-c-');
  const clouds: Cloud[] = ['aws', 'azure', 'gcp'];

  it('writes byte-identical files for the same seed, and other files for another seed', async () => {
    await sample(dirA, { scale: 0.02, days: 1, clouds });
    await sample(dirB, { scale: 0.02, days: 1, clouds });
    await sample(dirC, { scale: 0.02, days: 1, clouds, seed: 8 });
    const a = digest(dirA);
    expect(a.size).toBeGreaterThan(100);
    expect(digest(dirB)).toEqual(a);
    const c = digest(dirC);
    expect(c.get('ground-truth.json')).not.toEqual(a.get('ground-truth.json'));
  });

  it('refuses to write over an earlier sample', async () => {
    await expect(sample(dirA, { scale: 0.02, days: 1, clouds })).rejects.toThrow(/already holds generated files/);
  });

  it('writes AWS S3 objects: key layout, gzip, a header line, v2 and a custom v5 format', () => {
    const aws = files(join(dirA, 'aws'));
    const v2 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
    let v5Files = 0;
    for (const f of aws) {
      const rel = relative(dirA, f);
      const m = /^aws\/AWSLogs\/(\d{12})\/vpcflowlogs\/([a-z]+-[a-z]+-\d)\/(\d{4})\/(\d{2})\/(\d{2})\/(\d{12})_vpcflowlogs_([a-z]+-[a-z]+-\d)_fl-[0-9a-f]{17}_(\d{8})T(\d{4})Z_[0-9a-f]{8}\.log\.gz$/.exec(rel);
      expect(m, rel).not.toBeNull();
      expect(m![6]).toBe(m![1]);
      expect(m![7]).toBe(m![2]);
      expect(m![8]).toBe(`${m![3]}${m![4]}${m![5]}`);
      const lines = gunzipSync(readFileSync(f)).toString('latin1').trimEnd().split('\n');
      const header = lines[0]!.split(' ');
      if (lines[0] === v2) {
        for (const l of lines.slice(1)) expect(l.split(' ')).toHaveLength(14);
      } else {
        v5Files++;
        expect(header).toContain('flow-direction');
        expect(header).toContain('tcp-flags');
        expect(header).toContain('instance-id');
        expect(header).toContain('region');
        expect(header.indexOf('bytes')).toBeLessThan(header.indexOf('packets')); // not the v2 order
        for (const l of lines.slice(1)) {
          const v = l.split(' ');
          expect(v).toHaveLength(header.length);
          if (v[header.indexOf('log-status')] !== 'OK') continue;
          expect(['ingress', 'egress']).toContain(v[header.indexOf('flow-direction')]);
          expect(v[header.indexOf('region')]).toBe(m![2]);
        }
      }
    }
    expect(v5Files).toBeGreaterThan(0);
    expect(v5Files).toBeLessThan(aws.length);
  });

  it('writes Azure NSG v2 and VNet blobs and GCP LogEntries in the documented shapes', () => {
    let nsg = 0;
    let vnet = 0;
    for (const f of files(join(dirA, 'azure'))) {
      const rel = relative(join(dirA, 'azure'), f);
      const doc = JSON.parse(readFileSync(f, 'utf8'));
      expect(readFileSync(f, 'utf8').startsWith('{"records":[')).toBe(true);
      if (rel.startsWith('insights-logs-networksecuritygroupflowevent/')) {
        nsg++;
        expect(rel).toMatch(/^insights-logs-networksecuritygroupflowevent\/resourceId=\/SUBSCRIPTIONS\/[0-9A-F-]{36}\/RESOURCEGROUPS\/[A-Z-]+\/PROVIDERS\/MICROSOFT\.NETWORK\/NETWORKSECURITYGROUPS\/[A-Z-]+\/y=\d{4}\/m=\d{2}\/d=\d{2}\/h=\d{2}\/m=00\/macAddress=[0-9A-F]{12}\/PT1H\.json$/);
        for (const r of doc.records) {
          expect(r.category).toBe('NetworkSecurityGroupFlowEvent');
          expect(r.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
          expect(r.properties.Version).toBe(2);
          expect(rel).toContain(r.resourceId.slice(1));
          for (const g of r.properties.flows) {
            for (const fl of g.flows) {
              expect(rel).toContain(`macAddress=${fl.mac}/`);
              for (const t of fl.flowTuples as string[]) {
                const v = t.split(',');
                expect(v).toHaveLength(13);
                expect(['T', 'U']).toContain(v[5]);
                expect(['I', 'O']).toContain(v[6]);
                expect(['A', 'D']).toContain(v[7]);
                expect(['B', 'E']).toContain(v[8]);
                if (v[8] === 'B') expect(v.slice(9).join('')).toBe('');
                else expect(Number(v[9])).toBeGreaterThan(0);
              }
            }
          }
        }
      } else {
        vnet++;
        expect(rel).toMatch(/^insights-logs-flowlogflowevent\/flowLogResourceID=\/SUBSCRIPTIONS\/[0-9A-F-]{36}\/RESOURCEGROUPS\/NETWORKWATCHERRG\/PROVIDERS\/MICROSOFT\.NETWORK\/NETWORKWATCHERS\/NETWORKWATCHER_[A-Z]+\/FLOWLOGS\/[A-Z-]+\/y=\d{4}\/m=\d{2}\/d=\d{2}\/h=\d{2}\/m=00\/macAddress=[0-9A-F]{12}\/PT1H\.json$/);
        for (const r of doc.records) {
          expect(r.category).toBe('FlowLogFlowEvent');
          expect(r.flowLogVersion).toBe(4);
          expect(rel).toContain(`macAddress=${r.macAddress}/`);
          for (const acl of r.flowRecords.flows) {
            for (const g of acl.flowGroups) {
              for (const t of g.flowTuples as string[]) {
                const v = t.split(',');
                expect(v).toHaveLength(13);
                expect(v[0]).toMatch(/^\d{13}$/);
                expect(['6', '17']).toContain(v[5]);
                expect(['B', 'E', 'D']).toContain(v[7]);
                expect(v[8]).toBe('NX');
              }
            }
          }
        }
      }
    }
    expect(nsg).toBeGreaterThan(0);
    expect(vnet).toBeGreaterThan(0);
    const gcp = files(join(dirA, 'gcp'));
    expect(gcp.length).toBeGreaterThan(0);
    const nanos = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/;
    for (const f of gcp) {
      expect(relative(join(dirA, 'gcp'), f)).toMatch(/^[a-z]+-[a-z]+-\d+\/compute\.googleapis\.com\/vpc_flows\/\d{4}\/\d{2}\/\d{2}\/(\d{2}):00:00_\1:59:59_S0\.json$/);
      for (const line of readFileSync(f, 'utf8').trimEnd().split('\n')) {
        const e = JSON.parse(line);
        const p = e.jsonPayload;
        expect(e.logName).toMatch(/^projects\/[a-z0-9-]+\/logs\/compute\.googleapis\.com%2Fvpc_flows$/);
        expect(typeof p.bytes_sent).toBe('string');
        expect(typeof p.packets_sent).toBe('string');
        expect(typeof p.connection.protocol).toBe('number');
        expect(p.start_time).toMatch(nanos);
        expect(p.end_time).toMatch(nanos);
        expect(p.end_time >= p.start_time).toBe(true);
        expect(['SRC', 'DEST']).toContain(p.reporter);
        expect(p.reporter === 'DEST' ? p.dest_instance : p.src_instance).toBeDefined();
        if (p.connection.protocol === 1) expect(p.connection.dest_port).toBeUndefined();
      }
    }
    const map = JSON.parse(readFileSync(join(dirA, 'region-map.json'), 'utf8'));
    expect(Object.values(map)).toContain('westeurope');
  });

  it('plants the same scanners whatever the benign volume', async () => {
    const small = truthOf(dirA);
    const dirD = tempDir('fs-gen-d-');
    await sample(dirD, { scale: 0.08, days: 1, clouds });
    const bigger = truthOf(dirD);
    expect(bigger.records.total).toBeGreaterThan(small.records.total);
    expect(bigger.scanners.map(keyOf)).toEqual(small.scanners.map(keyOf));
    expect(bigger.scanners.map((k) => k.endpoints)).toEqual(small.scanners.map((k) => k.endpoints));
  });

  it('the ground truth agrees with an independent reading of the written files', () => {
    // a deliberately simple reader of the three formats, for the planted sources only
    const truth = truthOf(dirA);
    const planted = new Set(truth.entities.map((e) => e.src));
    const keys = new Map<string, Set<string>>();
    const add = (cloud: string, account: string, src: string, dst: string, proto: number, dport: number, start: number) => {
      const s = formatAddress(parseAddress(src)!);
      if (!planted.has(s)) return;
      const k = `${new Date(Math.floor(start / W) * W * 1000).toISOString().replace('.000', '')} ${s} ${proto} ${dport}`;
      if (!keys.has(k)) keys.set(k, new Set());
      keys.get(k)!.add(`${cloud}|${account}|${dst}`);
    };
    for (const f of files(join(dirA, 'aws'))) {
      const lines = gunzipSync(readFileSync(f)).toString('latin1').trimEnd().split('\n');
      const h = lines[0]!.split(' ');
      const at = (name: string) => h.indexOf(name);
      for (const l of lines.slice(1)) {
        const v = l.split(' ');
        if (v[at('log-status')] !== 'OK') continue;
        const [src, dst, sport, dport, proto] = [v[at('srcaddr')]!, v[at('dstaddr')]!, +v[at('srcport')]!, +v[at('dstport')]!, +v[at('protocol')]!];
        const dir = at('flow-direction') >= 0 ? v[at('flow-direction')] : '';
        const flags = at('tcp-flags') >= 0 ? +v[at('tcp-flags')]! : -1;
        const inbound = dir === 'ingress' || (dir === '' && isPublicAddress(src) && !isPublicAddress(dst));
        if (!inbound || (sport < 1024 && dport >= 1024) || (proto === 6 && [18, 4, 22].includes(flags))) continue;
        add('aws', v[at('account-id')]!, src, dst, proto, dport, +v[at('start')]!);
      }
    }
    for (const f of files(join(dirA, 'azure'))) {
      for (const r of JSON.parse(readFileSync(f, 'utf8')).records) {
        const account = String(r.resourceId ?? r.flowLogResourceID).split('/')[2]!.toLowerCase();
        const groups = r.properties ? r.properties.flows.flatMap((g: any) => g.flows) : r.flowRecords.flows.flatMap((a: any) => a.flowGroups);
        for (const g of groups) {
          for (const t of g.flowTuples as string[]) {
            const v = t.split(',');
            const proto = v[5] === 'T' ? 6 : v[5] === 'U' ? 17 : Number(v[5]);
            const ts = Number(v[0]) > 1e11 ? Math.floor(Number(v[0]) / 1000) : Number(v[0]);
            if (v[6] !== 'I' || (+v[3]! < 1024 && +v[4]! >= 1024)) continue;
            add('azure', account, v[1]!, v[2]!, proto, +v[4]!, ts);
          }
        }
      }
    }
    for (const f of files(join(dirA, 'gcp'))) {
      for (const line of readFileSync(f, 'utf8').trimEnd().split('\n')) {
        const p = JSON.parse(line).jsonPayload;
        const c = p.connection;
        if (p.reporter !== 'DEST' || ((c.src_port ?? 0) < 1024 && (c.dest_port ?? 0) >= 1024)) continue;
        add('gcp', p.dest_instance.project_id, c.src_ip, c.dest_ip, c.protocol, c.dest_port ?? 0, Date.parse(p.start_time) / 1000);
      }
    }
    expect(truth.scanners.length).toBeGreaterThan(10);
    for (const k of [...truth.scanners, ...truth.not_scans]) expect(keys.get(keyOf(k))?.size, keyOf(k)).toBe(k.endpoints);
    const scanKeys = [...keys].filter(([, eps]) => eps.size >= 10).map(([k]) => k);
    const negatives = new Set(truth.hard_negatives.map((n) => n.src));
    const explained = new Set(truth.scanners.map(keyOf));
    // every key of 10+ endpoints is a listed scan, or belongs to a hard negative that fails a CV
    for (const k of scanKeys) expect(explained.has(k) || negatives.has(k.split(' ')[1]!), k).toBe(true);
  });
});

describe('generate → detect, end to end', () => {
  const dir = tempDir('fs-gen-e2e-');

  it('detect finds every planted AWS scan key with its features, and no hard negative, at 1 and 2 workers', async () => {
    const report = await sample(dir, { scale: 0.3, days: 2, clouds: ['aws'] });
    expect(report.totalRecords).toBeGreaterThan(20_000);
    expect(report.totalRecords).toBeLessThan(100_000);
    const truth = truthOf(dir);
    expect(truth.warnings).toEqual([]);
    const kinds = new Set(truth.scanners.map((k) => truth.entities.find((e) => e.name === k.entity)!.name.split('-')[0]));
    for (const kind of ['zmap', 'masscan', 'multiport', 'retry', 'sip', 'snmp', 'icmp', 'ipv6', 'slow']) expect(kinds, kind).toContain(kind);
    expect(truth.not_scans.some((k) => k.entity === 'slow-redis')).toBe(true);
    const one = detectCli([join(dir, 'aws')], join(dir, 'out1'), ['--workers', '1']);
    const two = detectCli([join(dir, 'aws')], join(dir, 'out2'), ['--workers', '2']);
    expect(two.text).toBe(one.text);
    expectMatchesTruth(one.scans, truth, 'default');
    expect(truth.scanners.filter((k) => k.profiles.includes('multi-cloud'))).toEqual([]);
  });

  const multi = ['azure-nsg', 'azure-vnet', 'gcp'].every((f) => supportedFormats().includes(f as never));
  it.runIf(multi)(`multi-cloud: detect finds the planted keys under the default and the multi-cloud profile${multi ? '' : ' (skipped: this build has no Azure/GCP readers)'}`, async () => {
    const mdir = tempDir('fs-gen-multi-');
    await sample(mdir, { scale: 0.1, days: 1, clouds: ['aws', 'azure', 'gcp'] });
    const truth = truthOf(mdir);
    expect(truth.scanners.some((k) => k.profiles.includes('multi-cloud'))).toBe(true);
    const inputs = ['aws', 'azure', 'gcp'].map((c) => join(mdir, c));
    const regionMap = ['--region-map', join(mdir, 'region-map.json')];
    expectMatchesTruth(detectCli(inputs, join(mdir, 'out-d'), regionMap).scans, truth, 'default');
    expectMatchesTruth(detectCli(inputs, join(mdir, 'out-m'), [...regionMap, '--profile', 'multi-cloud']).scans, truth, 'multi-cloud');
  });

  it('CLI: generate --help, usage errors exit 1, and scripts/generate.mjs runs the same command', () => {
    const run = (args: string[]) => spawnSync(process.execPath, args, { encoding: 'utf8' });
    expect(run([CLI, 'generate', '--help']).stdout).toMatch(/--scale/);
    expect(run([CLI, 'generate']).status).toBe(1);
    expect(run([CLI, 'generate', '--out', join(dir, 'x'), '--clouds', 'aws,oracle']).stderr).toMatch(/--clouds must be one of aws, azure, gcp, got 'oracle'/);
    expect(run([CLI, 'generate', '--out', join(dir, 'x'), '--window', '7h']).stderr).toMatch(/--window must be a duration that divides 24h/);
    const script = new URL('../scripts/generate.mjs', import.meta.url).pathname;
    const r = run([script, '--out', join(dir, 'viascript'), '--scale', '0.01', '--days', '1', '--quiet']);
    expect(r.status).toBe(0);
    // the metadata beside the logs folder, which holds only logs (so `detect DIR` reads only flow logs)
    expect(statSync(join(dir, 'viascript-meta', 'ground-truth.json')).size).toBeGreaterThan(0);
    expect(readdirSync(join(dir, 'viascript'))).toEqual(['aws']);
    const d = run([CLI, 'detect', join(dir, 'viascript'), '--out', join(dir, 'viascript-out'), '--no-enrich', '--quiet']);
    expect(d.status, d.stderr).toBe(0);
  });
});
