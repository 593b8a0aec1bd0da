import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, writeV2, type Flow } from './helpers/aws.js';
import { coefficientOfVariation, failedConditions, DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';

const T0 = 1700006400; // 2023-11-15T00:00:00Z, a window start for W = 6 h

async function detectFlows(flows: Flow[], over: Record<string, unknown> = {}) {
  const dir = tempDir();
  writeV2(join(dir, 'f.log'), flows);
  return runDetect([dir], over);
}

describe('coefficient of variation', () => {
  it('is the population standard deviation over the mean', () => {
    // values 1, 3: mean 2, population sd 1 -> 0.5
    expect(coefficientOfVariation(Float64Array.from([1, 3]), 2)).toBeCloseTo(0.5, 12);
    expect(coefficientOfVariation(Float64Array.from([5, 5, 5]), 3)).toBe(0);
    expect(coefficientOfVariation(Float64Array.from([0, 0]), 2)).toBe(0);
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, sd 2 -> 0.4
    expect(coefficientOfVariation(Float64Array.from([9, 2, 4, 4, 5, 4, 7, 5]), 8)).toBeCloseTo(0.4, 12);
  });
  it('does not depend on the order of values', () => {
    const a = Float64Array.from([0.1, 1e9, 3, 7.5, 2, 11, 13]);
    const b = Float64Array.from([13, 11, 2, 7.5, 3, 1e9, 0.1]);
    expect(coefficientOfVariation(a, 7)).toBe(coefficientOfVariation(b, 7));
  });
  it('names every failed condition', () => {
    const f = { endpoints: 9, clouds: 1, accounts: 1, regions: 1, cvPackets: 0.6, cvBytes: null, cvFlows: 1.01 };
    expect(failedConditions(f, DEFAULT_THRESHOLDS)).toEqual(['min_endpoints', 'max_cv_packets', 'max_cv_flows']);
  });
  it('names each condition alone and together, null and NaN CVs as the spec says, in a list of its own', () => {
    const pass = { endpoints: 10, clouds: 1, accounts: 1, regions: 1, cvPackets: 0.5, cvBytes: 0.5, cvFlows: 1 };
    const fails: [string, Record<string, number>][] = [
      ['min_endpoints', { endpoints: 9 }], ['min_accounts', { accounts: 0 }], ['min_regions', { regions: 0 }], ['min_clouds', { clouds: 0 }],
      ['max_cv_packets', { cvPackets: 0.51 }], ['max_cv_bytes', { cvBytes: NaN }], ['max_cv_flows', { cvFlows: 1.5 }],
    ];
    for (let mask = 0; mask < 1 << fails.length; mask++) {
      const f = { ...pass };
      const want: string[] = [];
      fails.forEach(([name, over], k) => {
        if ((mask >> k) & 1) {
          Object.assign(f, over);
          want.push(name);
        }
      });
      const got = failedConditions(f, DEFAULT_THRESHOLDS);
      expect(got, `mask ${mask}`).toEqual(want);
      got.push('changed'); // the caller's own list: the next key's is unchanged
    }
    const none = { ...pass, cvPackets: null, cvBytes: null };
    expect(failedConditions(none, { ...DEFAULT_THRESHOLDS, maxCvPackets: -1, maxCvBytes: -1 })).toEqual([]);
    expect(failedConditions({ ...none, cvPackets: 0 }, { ...DEFAULT_THRESHOLDS, maxCvPackets: -1 })).toEqual(['max_cv_packets']);
  });
});

describe('verdicts (detection.md §3)', () => {
  it('min_endpoints: 10 endpoints is a scan, 9 is not', async () => {
    const r = await detectFlows([...scanner('45.0.0.10', 10, { start: T0 }), ...scanner('45.0.0.9', 9, { start: T0 })]);
    expect(r.scans.map((v: any) => v.src)).toEqual(['45.0.0.10']);
    expect(r.scans[0]).toMatchObject({ endpoints: 10, flows: 10, packets: 10, bytes: 400, cvPackets: 0, cvBytes: 0, cvFlows: 0, protocol: 6, dstPort: 23 });
  });

  it('max_cv_bytes at, just under and just over 0.5', async () => {
    // 10 endpoints, bytes 5 x a and 5 x b: CV = (b - a) / (a + b)
    const mk = (src: string, a: number, b: number) => scanner(src, 10, { start: T0 }).map((f, k) => ({ ...f, bytes: k < 5 ? a : b }));
    const r = await detectFlows([...mk('45.0.1.1', 100, 300), ...mk('45.0.1.2', 100, 299), ...mk('45.0.1.3', 100, 301)]);
    // 300: (300-100)/400 = 0.5 exactly (at the limit: a scan); 299: under; 301: over
    expect(r.scans.map((v: any) => v.src)).toEqual(['45.0.1.1', '45.0.1.2']);
    expect(r.scans[0].cvBytes).toBe(0.5);
    const miss = r.nearMisses.find((v: any) => v.src === '45.0.1.3');
    expect(miss!.failed).toEqual(['max_cv_bytes']);
  });

  it('max_cv_packets and max_cv_flows', async () => {
    const packets = scanner('45.0.2.1', 10, { start: T0 }).map((f, k) => ({ ...f, packets: k < 5 ? 1 : 4, bytes: 40 }));
    // flows: 9 endpoints with 1 record and 1 endpoint with 30 records -> CV > 1
    // (uniform packets and bytes per endpoint: the heavy endpoint's 30 records add up to the others' one)
    const flows = [
      ...scanner('45.0.2.2', 10, { start: T0 }).map((f, k) => (k === 0 ? f : { ...f, packets: 30, bytes: 1200 })),
      ...Array.from({ length: 29 }, () => ({ src: '45.0.2.2', dst: '10.0.0.1', dport: 23, start: T0 + 5 })),
    ];
    const r = await detectFlows([...packets, ...flows]);
    expect(r.scans).toHaveLength(0);
    const byName = Object.fromEntries(r.nearMisses.map((v: any) => [v.src, v.failed]));
    expect(byName['45.0.2.1']).toEqual(['max_cv_packets']);
    expect(byName['45.0.2.2']).toEqual(['max_cv_flows']);
    const nm = r.nearMisses.find((v: any) => v.src === '45.0.2.2')!;
    // f_e = 30,1,...,1 (10 endpoints): mean 3.9, population sd = sqrt(mean of squares - mean^2)
    const mean = 3.9;
    const sd = Math.sqrt((900 + 9) / 10 - mean * mean);
    expect(nm.cvFlows).toBeCloseTo(sd / mean, 12);
    expect(nm.flows).toBe(39);
    expect(nm.cvPackets).toBe(0);
    expect(nm.cvBytes).toBe(0);
  });

  it('unknown counts: CV is null and its condition holds', async () => {
    const r = await detectFlows(scanner('45.0.3.1', 10, { start: T0, packets: '-', bytes: '-' }));
    expect(r.scans).toHaveLength(1);
    expect(r.scans[0]).toMatchObject({ cvPackets: null, cvBytes: null, packets: 0, bytes: 0, flows: 10 });
  });

  it('endpoint = (cloud, account, address): the same private IP in two accounts is two endpoints', async () => {
    const a = scanner('45.0.4.1', 5, { start: T0, account: '111111111111' });
    const b = scanner('45.0.4.1', 5, { start: T0, account: '222222222222' });
    const r = await detectFlows([...a, ...b]);
    expect(r.scans).toHaveLength(1);
    expect(r.scans[0]).toMatchObject({ endpoints: 10, accounts: 2 });
    // and the same five addresses in one account are five endpoints
    const r2 = await detectFlows([...scanner('45.0.4.2', 5, { start: T0 }), ...scanner('45.0.4.2', 5, { start: T0 + 60 })]);
    expect(r2.scans).toHaveLength(0);
    expect(r2.keys).toBe(1);
  });

  it('min_accounts, min_regions and the multi-cloud profile', async () => {
    const dir = tempDir();
    for (const [acct, region] of [['111111111111', 'us-east-1'], ['222222222222', 'eu-west-1']]) {
      writeV2(join(dir, `${acct}.log`), scanner('45.0.5.1', 6, { start: T0, account: acct }));
      writeFileSync(join(dir, `${acct}.region`), ''); // not a flow log: reported, run goes on
      void region;
    }
    const r = await runDetect([join(dir, '111111111111.log'), join(dir, '222222222222.log')], { thresholds: { minAccounts: 2 } });
    expect(r.scans).toHaveLength(1);
    const r3 = await runDetect([join(dir, '111111111111.log'), join(dir, '222222222222.log')], { thresholds: { minAccounts: 3 } });
    expect(r3.scans).toHaveLength(0);
    expect(r3.nearMisses[0].failed).toEqual(['min_accounts']);
    // regions: no region anywhere is one (empty) region; multi-cloud needs 2 clouds
    const r4 = await runDetect([join(dir, '111111111111.log'), join(dir, '222222222222.log')], { thresholds: { minAccounts: 2, minRegions: 2, minClouds: 2 } });
    expect(r4.nearMisses[0].failed).toEqual(['min_regions', 'min_clouds']);
  });

  it('windows: probes either side of a window boundary are two keys', async () => {
    const before = scanner('45.0.6.1', 10, { start: T0 + 21600 - 1 });
    const after = scanner('45.0.6.1', 10, { start: T0 + 21600 });
    const r = await detectFlows([...before, ...after.slice(0, 9)]);
    expect(r.scans).toHaveLength(1);
    expect(r.scans[0].window).toBe((T0 + 21599 - ((T0 + 21599) % 21600)) / 21600);
    expect(r.keys).toBe(2);
    // with a 12 h window both halves are one key of 10 endpoints
    const r2 = await detectFlows([...before, ...after.slice(0, 9)], { windowSeconds: 43200 });
    expect(r2.scans).toHaveLength(1);
    expect(r2.scans[0].endpoints).toBe(10);
    expect(r2.scans[0].flows).toBe(19);
  });

  it('first_seen is the min start and last_seen the max end', async () => {
    const flows = scanner('45.0.7.1', 10, { start: T0 + 100 }).map((f, k) => ({ ...f, start: T0 + 100 + k, end: T0 + 5000 - k }));
    const r = await detectFlows(flows);
    expect(r.scans[0].firstSeen).toBe(T0 + 100);
    expect(r.scans[0].lastSeen).toBe(T0 + 5000);
  });

  it('leaves out responses, backscatter and internal traffic', async () => {
    const dir = tempDir();
    const custom = 'version account-id srcaddr dstaddr srcport dstport protocol packets bytes start end tcp-flags log-status';
    const lines = [custom];
    for (let k = 0; k < 12; k++) {
      lines.push(`5 123456789012 45.0.8.1 10.0.0.${k + 1} 80 40000 6 1 40 ${T0} ${T0} 2 OK`); // response: srcport < 1024 <= dstport
      lines.push(`5 123456789012 45.0.8.2 10.0.0.${k + 1} 40000 23 6 1 40 ${T0} ${T0} 18 OK`); // SYN-ACK backscatter
      lines.push(`5 123456789012 45.0.8.3 10.0.0.${k + 1} 40000 23 6 1 40 ${T0} ${T0} 4 OK`); // RST backscatter
      lines.push(`5 123456789012 10.9.9.9 10.0.0.${k + 1} 40000 23 6 1 40 ${T0} ${T0} 2 OK`); // internal
      lines.push(`5 123456789012 45.0.8.4 10.0.0.${k + 1} 40000 23 6 1 40 ${T0} ${T0} 2 OK`); // a SYN scan
    }
    writeFileSync(join(dir, 'c.log'), lines.join('\n') + '\n');
    const r = await runDetect([dir]);
    expect(r.scans.map((v: any) => v.src)).toEqual(['45.0.8.4']);
    // private to private goes to the outbound accumulator as an internal-scan candidate (detection.md §4), never to inbound
    expect(r.totals).toMatchObject({ records: 60, responses: 12, backscatter: 24, internal: 0, outbound: 12, inbound: 12 });
    expect(r.alerts).toEqual([]); // 12 targets: under --min-internal-targets 20
  });

  it('IPv6 scanners are detected where the format gives the direction, and sort after IPv4', async () => {
    const dir = tempDir();
    const lines = ['version srcaddr dstaddr srcport dstport protocol packets bytes start end flow-direction log-status'];
    for (let k = 0; k < 10; k++) {
      lines.push(`5 2a01:4f8::7 2600:1f18::${k + 1} 40000 22 6 1 60 ${T0} ${T0} ingress OK`);
      lines.push(`5 45.0.9.1 10.0.0.${k + 1} 40000 22 6 1 60 ${T0} ${T0} ingress OK`);
    }
    writeFileSync(join(dir, 'v6.log'), lines.join('\n') + '\n');
    const r = await runDetect([dir]);
    expect(r.scans.map((v: any) => v.src)).toEqual(['45.0.9.1', '2a01:4f8::7']);
  });
});
