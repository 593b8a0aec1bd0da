import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAddress } from '../dist/src/net/address.js';
import { IpDatabases } from '../dist/src/enrich/ipdb.js';
import { ActorIndex, parseCidr } from '../dist/src/enrich/actors.js';
import { reverseLookup } from '../dist/src/enrich/rdns.js';
import { Enricher, enrichColumns } from '../dist/src/enrich/index.js';
import { lookupV4 } from '../dist/src/enrich/asn-csv.js';
import { tempDir } from './helpers/tmp.js';

const words = (ip: string) => parseAddress(ip)!;
const countryDir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/geo-whois-asn-country-mmdb/package.json'));

describe('country and network, offline', () => {
  const db = new IpDatabases();
  const info = db.lookup(['8.8.8.8', '2001:4860:4860::8888', '1.1.1.1', '162.142.125.10', '10.0.0.1', '8.8.8.8'].map(words));
  it('knows well-known addresses (IPv4 and IPv6)', () => {
    expect(info.get('8.8.8.8')).toMatchObject({ country: 'US', asn: 15169 });
    expect(info.get('8.8.8.8')!.as_org).toMatch(/Google/);
    expect(info.get('2001:4860:4860::8888')).toMatchObject({ country: 'US', asn: 15169 });
    expect(info.get('1.1.1.1')).toMatchObject({ asn: 13335 });
    expect(info.get('162.142.125.10')!.as_org).toMatch(/Censys/);
  });
  it('answers once per distinct address, nothing for private ones', () => {
    expect(info.size).toBe(5);
    expect(info.get('10.0.0.1')).toEqual({ country: null, asn: null, as_org: null });
  });
  it('names its sources', () => {
    expect(db.sources.country).toMatch(/geo-whois-asn-country/);
    expect(db.sources.asn).toMatch(/@ip-location-db\/asn/);
  });
  it('takes a MaxMind-format file given by the user, and rejects a bad one', () => {
    const user = new IpDatabases({ geoipDb: join(countryDir, 'geo-whois-asn-country-ipv4.mmdb') });
    expect(user.sources.country).toContain('geo-whois-asn-country-ipv4.mmdb');
    const got = user.lookup([words('8.8.8.8'), words('2001:4860:4860::8888')]);
    expect(got.get('8.8.8.8')!.country).toBe('US');
    expect(got.get('2001:4860:4860::8888')!.country).toBeNull(); // an IPv4-only database
    expect(() => new IpDatabases({ geoipDb: '/nonexistent/GeoLite2-Country.mmdb' })).toThrow(/--geoip-db .*cannot read/);
    const junk = join(tempDir(), 'junk.mmdb');
    writeFileSync(junk, 'not a database');
    expect(() => new IpDatabases({ asnDb: junk })).toThrow(/--asn-db .*not a MaxMind DB/);
  });
});

describe('ASN range files', () => {
  it('merges sorted queries with overlapping and unsorted ranges', () => {
    const f = join(tempDir(), 'asn.csv');
    // out of order on purpose, with an overlap and a quoted organisation holding a comma and a quote
    writeFileSync(f, ['300,399,3,"Three, ""Inc."""', '100,199,1,One', '150,250,2,Two', '1000,1000,4,Four'].join('\n') + '\n');
    const got = lookupV4(f, [50, 100, 175, 220, 300, 399, 400, 1000]);
    expect(got.map((a) => a?.asn ?? null)).toEqual([null, 1, 1, 2, 3, 3, null, 4]);
    expect(got[4]!.org).toBe('Three, "Inc."');
  });
});

describe('known scanners', () => {
  const idx = ActorIndex.load();
  const actor = (ip: string, asn: number | null = null, rdns: string | null = null) => idx.match(words(ip), asn, rdns);
  it('labels published ranges, with the document they come from', () => {
    expect(actor('162.142.125.10')).toMatchObject({ actor: 'Censys', via: 'cidr' });
    expect(actor('162.142.125.10')!.source).toMatch(/^https:\/\//);
    expect(actor('2602:80d:1003::5')?.actor).toBe('Censys');
    expect(actor('71.6.135.131')?.actor).toBe('Shodan');
    expect(actor('2a03:b0c0:3:d0::f21:b001')?.actor).toBe('Shodan');
    expect(actor('184.105.139.70')?.actor).toBe('Shadowserver');
    expect(actor('71.6.233.7')?.actor).toBe('Rapid7 Project Sonar');
    expect(actor('8.8.8.8')).toBeNull();
  });
  it('labels by ASN, and by confirmed reverse DNS name', () => {
    expect(actor('203.0.113.5', 398722)).toMatchObject({ actor: 'Censys', via: 'asn' });
    expect(actor('203.0.113.5', null, 'census12.shodan.io')).toMatchObject({ actor: 'Shodan', via: 'rdns' });
    expect(actor('203.0.113.5', null, 'scan-01.stretchoid.com.')).toMatchObject({ actor: 'Stretchoid', via: 'rdns' });
    expect(actor('203.0.113.5', null, 'binaryedge.ninja.example.com')).toBeNull();
    expect(actor('203.0.113.5', null, 'evilshodan.io')).toBeNull();
  });
  it('every built-in entry has a source', async () => {
    const { readFileSync } = await import('node:fs');
    const doc = JSON.parse(readFileSync(new URL('../src/data/actors.json', import.meta.url), 'utf8'));
    for (const a of doc.actors) {
      for (const c of a.cidrs ?? []) {
        expect(c.source, a.name).toMatch(/^https:\/\//);
        for (const x of c.list) expect(parseCidr(x), `${a.name} ${x}`).not.toBeNull();
      }
      for (const x of a.asns ?? []) expect(x.source, a.name).toMatch(/^https:\/\//);
      for (const x of a.rdns ?? []) expect(x.source, a.name).toMatch(/^https:\/\//);
    }
    expect(doc.actors.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['Shodan', 'Censys', 'Shadowserver', 'BinaryEdge', 'Stretchoid', 'Rapid7 Project Sonar']));
  });
  it("reads the user's CIDR lists and MISP warninglists; the longest prefix wins", () => {
    const dir = tempDir();
    const plain = join(dir, 'our-pentest.txt');
    writeFileSync(plain, '# our own scanners\n198.51.100.0/24\n162.142.125.0/25 Censys (lab)\n2001:db8:1::/48, IPv6 Lab\nnot-a-cidr\n');
    const misp = join(dir, 'misp.json');
    writeFileSync(misp, JSON.stringify({ name: 'Example Scanner', type: 'cidr', list: ['192.0.2.0/24', '192.0.2.128/25'] }));
    const u = ActorIndex.load([plain, misp]);
    expect(u.match(words('198.51.100.9'), null)?.actor).toBe('our-pentest');
    expect(u.match(words('162.142.125.10'), null)?.actor).toBe('Censys (lab)');
    expect(u.match(words('162.142.125.200'), null)?.actor).toBe('Censys');
    expect(u.match(words('2001:db8:1::7'), null)?.actor).toBe('IPv6 Lab');
    expect(u.match(words('192.0.2.200'), null)).toMatchObject({ actor: 'Example Scanner', source: misp });
    expect(u.warnings.join('\n')).toMatch(/our-pentest\.txt:5: 'not-a-cidr'/);
    expect(() => ActorIndex.load([join(dir, 'missing.txt')])).toThrow(/--actors .*cannot read/);
    expect(ActorIndex.load([plain], false).match(words('162.142.125.200'), 398324)).toBeNull();
  });
  it('parses CIDRs strictly', () => {
    expect(parseCidr('10.0.0.0/8')?.len).toBe(104);
    expect(parseCidr('2001:db8::/32')?.len).toBe(32);
    expect(parseCidr('10.1.2.3')?.len).toBe(128);
    for (const bad of ['10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', '::/129', 'host.example']) expect(parseCidr(bad), bad).toBeNull();
  });
});

describe('reverse DNS (fake resolver: tests never use the network)', () => {
  it('keeps only forward-confirmed names', async () => {
    const fake = {
      reverse: async (ip: string) => {
        if (ip === '192.0.2.1') return ['scanner-1.example.net.'];
        if (ip === '192.0.2.2') return ['liar.example.net'];
        if (ip === '2001:db8::5') return ['v6.example.net'];
        throw Object.assign(new Error('no PTR'), { code: 'ENOTFOUND' });
      },
      resolve4: async (name: string) => (name === 'scanner-1.example.net.' ? ['192.0.2.1'] : ['203.0.113.1']),
      resolve6: async () => ['2001:DB8:0:0:0:0:0:5'],
    };
    const r = await reverseLookup(['192.0.2.1', '192.0.2.2', '192.0.2.3', '2001:db8::5', '192.0.2.1'], { resolver: fake, concurrency: 2 });
    expect([...r.names.entries()]).toEqual(expect.arrayContaining([['192.0.2.1', 'scanner-1.example.net'], ['2001:db8::5', 'v6.example.net']]));
    expect(r.names.size).toBe(2);
    expect(r).toMatchObject({ looked_up: 4, confirmed: 2, failed: 1 });
  });
  it('gives up on a slow resolver', async () => {
    const slow = { reverse: () => new Promise<string[]>(() => {}), resolve4: async () => [], resolve6: async () => [] };
    const r = await reverseLookup(['192.0.2.9'], { resolver: slow, timeoutMs: 20 });
    expect(r).toMatchObject({ confirmed: 0, failed: 1 });
  });
});

describe('enricher', () => {
  it('combines network, country and actor per distinct address', async () => {
    const e = new Enricher();
    const got = await e.enrich(['162.142.125.10', '8.8.8.8', '162.142.125.10'].map((t) => ({ text: t, words: words(t) })));
    expect(got.facts.size).toBe(2);
    expect(enrichColumns(got.facts.get('162.142.125.10'))).toMatchObject({ country: 'US', asn: 398324, actor: 'Censys', rdns: null });
    expect(enrichColumns(got.facts.get('8.8.8.8'))).toMatchObject({ country: 'US', asn: 15169, actor: null });
    expect(got.sources.rdns).toBe(false);
    expect(got.rdns).toBeNull();
  });

  it('with --rdns, loads the reverse lookup when it enriches and gives each address its confirmed name', async () => {
    const resolver = {
      reverse: async (ip: string) => {
        if (ip === '8.8.8.8') return ['dns.google.'];
        throw Object.assign(new Error('no PTR'), { code: 'ENOTFOUND' });
      },
      resolve4: async (name: string) => (name === 'dns.google.' ? ['8.8.8.8'] : []),
      resolve6: async () => [],
    };
    const e = new Enricher({ rdns: true, rdnsOptions: { resolver } });
    const got = await e.enrich(['8.8.8.8', '1.1.1.1'].map((t) => ({ text: t, words: words(t) })));
    expect(enrichColumns(got.facts.get('8.8.8.8'))).toMatchObject({ rdns: 'dns.google' });
    expect(enrichColumns(got.facts.get('1.1.1.1'))).toMatchObject({ rdns: null });
    expect(got.rdns).toEqual({ looked_up: 2, confirmed: 1, failed: 1 });
  });
});

describe('detect output', () => {
  it('adds country, asn, as_org, actor, rdns after the detection.md §7 columns and a stats section', async () => {
    const { detect } = await import('../dist/src/engine/run.js');
    const { spec } = await import('../dist/src/cli/commands/detect.js');
    const { writeResults } = await import('../dist/src/app/results.js');
    const { parseArgs } = await import('../dist/src/app/args.js');
    const { detectOptionsFrom } = await import('../dist/src/app/settings.js');
    const { analysisPlan, runAnalysis } = await import('../dist/src/app/analysis.js');
    const { SCAN_COLUMNS } = await import('../dist/src/output/verdicts.js');
    const { readFileSync } = await import('node:fs');
    const dir = tempDir();
    const lines = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'];
    for (let i = 1; i <= 10; i++) lines.push(`2 123456789012 eni-1 162.142.125.10 10.0.0.${i} 41000 443 6 1 44 ${1717200000 + i} ${1717200001 + i} REJECT OK`);
    writeFileSync(join(dir, 'a.log'), lines.join('\n') + '\n');
    const W = 21600;
    const inputs = [join(dir, 'a.log')];
    const result = await detect(detectOptionsFrom(parseArgs(spec, [...inputs, '--workers', '1']).values, inputs));
    const plan = analysisPlan({ top: 20 });
    const analysis = await runAnalysis(result, W, plan);
    const out = join(dir, 'out');
    await writeResults(out, result, W, { window_seconds: W, analysis: plan.settings }, false, analysis);
    const csv = readFileSync(join(out, 'scans.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe([...SCAN_COLUMNS, 'country', 'asn', 'as_org', 'actor', 'rdns'].join(','));
    expect(csv[1]).toMatch(/,US,398324,"?Censys, Inc\."?,Censys,$/);
    const nd = JSON.parse(readFileSync(join(out, 'scans.ndjson'), 'utf8').split('\n')[0]!);
    expect(Object.keys(nd).slice(-5)).toEqual(['country', 'asn', 'as_org', 'actor', 'rdns']);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.stats.actors.table[0]).toMatchObject({ actor: 'Censys', scanner_ips: 1 });
    expect(summary.stats.ports.top_per_protocol[0].by_scanner_ips[0]).toMatchObject({ port: 443, service: 'https' });
    expect(summary.stats.endpoints.all).toMatchObject({ endpoints: 10 });
    expect(summary.stats.countries.top[0]).toMatchObject({ country: 'US', scanner_ips: 1 });
    expect(summary.settings.analysis).toMatchObject({ enrich: true, rdns: false });
    expect(() => analysisPlan({ top: 20, 'geoip-db': '/nonexistent.mmdb' })).toThrow(/--geoip-db/);
  });
});
