/**
 * Home networks (detection.md §3, --home-net), the amended inbound rule (a private source is never
 * an internet scanner) and internal scanning (detection.md §4), end to end through detect.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { HomeNet, parseHomeNetOption } from '../dist/src/net/home-net.js';
import { parseAddress } from '../dist/src/net/address.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const NF_HEADER = 'firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows';
const nf = (sec: number, src: string, dst: string, dport: number, sport = 40000, proto = 6, bytes = 40) =>
  `2024-03-01 10:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}.000,0.000,${proto},${src},${sport},${dst},${dport},1,${bytes},1`;

describe('HomeNet', () => {
  it('merges ranges and answers membership for both families', () => {
    const h = new HomeNet(['147.32.0.0/16', '147.33.0.0/16', '147.32.5.0/24', '2001:718::/32', '9.9.9.9']);
    const has = (a: string) => h.contains(parseAddress(a)!, 0);
    expect(h.size).toBe(3); // the two /16s are adjacent, the /24 inside: one range; the v6 and the /32
    expect([has('147.32.0.0'), has('147.33.255.255'), has('147.34.0.0'), has('147.31.255.255')]).toEqual([true, true, false, false]);
    expect([has('9.9.9.9'), has('9.9.9.10'), has('2001:718::1'), has('2001:719::1')]).toEqual([true, false, true, false]);
    expect(h.isPublic(parseAddress('147.32.1.1')!, 0)).toBe(false);
    expect(h.isPublic(parseAddress('8.8.8.8')!, 0)).toBe(true);
    expect(h.isPublic(parseAddress('10.1.1.1')!, 0)).toBe(false);
    expect(new HomeNet([]).isPublic(parseAddress('147.32.1.1')!, 0)).toBe(true);
  });

  it('reads commas and @files, and names the line of a bad entry', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'home.txt'), '# campus\n147.32.0.0/16\n\n2001:718::/32 # v6\n');
    expect(parseHomeNetOption(`192.0.3.0/24, @${join(dir, 'home.txt')}`, (p) => readFileSync(p, 'utf8'))).toEqual(['192.0.3.0/24', '147.32.0.0/16', '2001:718::/32']);
    writeFileSync(join(dir, 'bad.txt'), '147.32.0.0/16\n147.32.0.0/33\n');
    expect(() => parseHomeNetOption(`@${join(dir, 'bad.txt')}`, (p) => readFileSync(p, 'utf8'))).toThrow(/bad\.txt:2: not a CIDR/);
    expect(() => parseHomeNetOption('campus', (p) => readFileSync(p, 'utf8'))).toThrow(/not a CIDR or address: 'campus'/);
  });
});

describe('--home-net on NetFlow of a network on public addresses', () => {
  const dir = tempDir();
  const lines = [NF_HEADER];
  // an internet scanner probing 15 campus hosts on 22 (campus is public address space)
  for (let k = 0; k < 15; k++) lines.push(nf(k, '45.77.1.5', `147.32.1.${k + 1}`, 22));
  // a campus host scanning 120 internet addresses on 23 (compromised)
  for (let k = 0; k < 120; k++) lines.push(nf(100 + k, '147.32.9.9', `81.3.${k >> 8}.${(k & 255) + 1}`, 23));
  // a campus host sweeping 25 other campus hosts on 445 (lateral movement)
  for (let k = 0; k < 25; k++) lines.push(nf(300 + k, '147.32.5.5', `147.32.7.${k + 1}`, 445, 50000, 6, 60));
  // campus servers answering: responses, not probes
  for (let k = 0; k < 15; k++) lines.push(nf(400 + k, `147.32.1.${k + 1}`, '45.77.1.5', 40000, 22));
  writeFileSync(join(dir, 'campus.csv'), lines.join('\n') + '\n');
  const opts = (home?: string[]) => ({ outbound: { minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5, minInternalTargets: 20, homeNet: home } });

  it('without it nothing is found: every record is public to public', async () => {
    const r = await runDetect([dir], opts());
    expect(r.scans).toHaveLength(0);
    expect(r.alerts).toHaveLength(0);
  });

  it('with it: the inbound scanner, the outbound scan and the internal sweep', async () => {
    const r = await runDetect([dir], opts(['147.32.0.0/16']));
    expect(r.scans.map((v: any) => [v.src, v.protocol, v.dstPort, v.endpoints])).toEqual([['45.77.1.5', 6, 22, 15]]);
    expect(r.alerts.map((a: any) => [a.kind, a.src, a.dstPort, a.targets])).toEqual([
      ['internal', '147.32.5.5', 445, 25],
      ['horizontal', '147.32.9.9', 23, 120],
    ]);
    expect(r.totals.responses).toBe(15);
  });

  it('the CLI takes --home-net @FILE and writes kind internal', () => {
    const home = join(dir, '..', 'home.txt');
    writeFileSync(home, '147.32.0.0/16\n');
    const out = join(dir, '..', 'out');
    const res = spawnSync(process.execPath, [CLI, 'detect', join(dir, 'campus.csv'), '--home-net', `@${home}`, '--workers', '2', '--out', out, '--quiet'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    const alerts = readFileSync(join(out, 'outbound.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(alerts.map((a) => a.kind)).toEqual(['internal', 'horizontal']);
    const bad = spawnSync(process.execPath, [CLI, 'detect', join(dir, 'campus.csv'), '--home-net', '147.32.0.0/40', '--out', out], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/--home-net: not a CIDR or address: '147.32.0.0\/40'/);
  });
});

describe('a private source is never an internet scanner (detection.md §3, amended)', () => {
  const HDR = 'version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end flow-direction log-status';
  const T0 = 1700006400;
  const dir = tempDir();
  const lines = [HDR];
  // 10.0.0.5 reaches 11 private endpoints on 6379, in records the log marks ingress
  for (let k = 0; k < 11; k++) lines.push(`5 123456789012 eni-0a${k} i-0b${k} 10.0.0.5 10.0.1.${k + 1} 50000 6379 6 1 60 ${T0 + k} ${T0 + k} ingress OK`);
  // and egress at its own interface (both ends log intra-VPC traffic)
  for (let k = 0; k < 11; k++) lines.push(`5 123456789012 eni-src i-src 10.0.0.5 10.0.1.${k + 1} 50000 6379 6 1 60 ${T0 + k} ${T0 + k} egress OK`);
  writeFileSync(join(dir, 'vpc.log'), lines.join('\n') + '\n');

  it('is not an inbound scan; at min_internal_targets 11 it is an internal scan naming the interfaces', async () => {
    const r = await runDetect([dir]);
    expect(r.scans).toHaveLength(0);
    expect(r.nearMisses).toHaveLength(0);
    expect(r.alerts).toHaveLength(0); // 11 < 20 targets
    const r2 = await runDetect([dir], { outbound: { minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5, minInternalTargets: 11 } });
    expect(r2.alerts.map((a: any) => [a.kind, a.cloud, a.account, a.src, a.protocol, a.dstPort, a.targets, a.flows])).toEqual([
      ['internal', 'aws', '123456789012', '10.0.0.5', 6, 6379, 11, 22],
    ]);
    // the ids of the records logged at the targets (ingress) name the targets, not the scanning host
    expect([r2.alerts[0].iface, r2.alerts[0].instance]).toEqual(['eni-src', 'i-src']);
  });
});
