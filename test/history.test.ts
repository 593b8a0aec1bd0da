import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { writeThreeDays, dayFlows } from './helpers/days.js';
import { v2Line, V2_HEADER } from './helpers/aws.js';
import { HistoryStore } from '../dist/src/store/history.js';
import { SCHEMA_VERSION } from '../dist/src/store/schema.js';
import { runRows } from '../dist/src/store/rows.js';
import { persistentScanners, actorScanners } from '../dist/src/store/analysis.js';
import { parseAddress } from '../dist/src/net/address.js';
import { describeOutcome, ipFactsFromScans, recordDetectRun } from '../dist/src/store/record.js';
import { runDetect } from './helpers/run.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const cli = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input });
const read = (p: string) => readFileSync(p, 'utf8');

function detect(inputs: string[], state: string, out: string, input?: string) {
  const r = cli(['detect', ...inputs, '--out', out, '--workers', '1', '--state', state], input);
  expect(r.status, r.stderr).toBe(0);
  return r.stderr;
}

/** detect in this process, then record the run as detect --state does; returns the history's message. */
async function record(inputs: string[], state: string, stdinText?: string): Promise<string> {
  const over = stdinText === undefined ? { workers: 1 } : { workers: 1, stdin: async function* () { yield Buffer.from(stdinText); } };
  const result = await runDetect(inputs, over);
  const store = HistoryStore.open(state, { create: true });
  try {
    return describeOutcome(recordDetectRun(store, result, { windowSeconds: 21600, inputs, settings: {} }), state);
  } finally {
    store.close();
  }
}

/** history --out into a fresh folder; returns history.json, the per-IP CSV and the histogram CSV. */
function history(state: string, dir: string, extra: string[] = []) {
  const r = cli(['history', '--state', state, '--out', dir, ...extra]);
  expect(r.status, r.stderr).toBe(0);
  return { json: read(join(dir, 'history.json')), scanners: read(join(dir, 'history_scanners.csv')), days: read(join(dir, 'history_days.csv')), stdout: r.stdout };
}

/** Three day files recorded one by one through the command line (detect --state), shared by several tests. */
const three = { dir: '', state: '' };
beforeAll(() => {
  three.dir = tempDir();
  three.state = join(three.dir, 'state');
  for (const f of writeThreeDays(three.dir)) expect(detect([f], three.state, join(three.dir, 'out'))).toMatch(/history .*: run \d+ recorded/);
});

describe('history across days (detect --state, flowsieve history)', () => {
  it('three days with scanners seen on 1, 2 and 3 days give the known histogram', () => {
    const { dir, state } = three;
    const h = history(state, join(dir, 'h'));
    const j = JSON.parse(h.json);
    expect(j.period).toMatchObject({ from: '2024-03-01', to: '2024-03-03', days_with_data: 3, calendar_days: 3, days_without_data: [] });
    expect(j.runs).toBe(3);
    expect(j.scanner_ips).toBe(5);
    expect(j.days_observed.histogram).toEqual([
      { days: 1, scanner_ips: 3, share: 0.6 },
      { days: 2, scanner_ips: 1, share: 0.2 },
      { days: 3, scanner_ips: 1, share: 0.2 },
    ]);
    expect(j.days_observed.one_day).toEqual({ scanner_ips: 3, share: 0.6 });
    expect(j.days_observed.every_day).toEqual({ scanner_ips: 1, share: 0.2 });
    expect(j.days_observed.median).toBe(1);
    expect(j.per_day.map((d: { day: string; scanner_ips: number; new_scanner_ips: number; ports: number }) => [d.day, d.scanner_ips, d.new_scanner_ips, d.ports])).toEqual([
      ['2024-03-01', 4, 4, 4],
      ['2024-03-02', 2, 0, 3],
      ['2024-03-03', 2, 1, 2],
    ]);
    expect(h.days).toBe('days,scanner_ips,share\n1,3,0.6\n2,1,0.2\n3,1,0.2\n');
    const lines = h.scanners.trim().split('\n');
    expect(lines[0]).toBe('ip,days,first_day,last_day,first_seen,last_seen,scan_keys,ports,flows,packets,bytes,max_endpoints,country,asn,as_org,actor');
    expect(lines.slice(1).map((l) => l.split(',').slice(0, 4).join(','))).toEqual([
      '45.10.0.1,3,2024-03-01,2024-03-03',
      '45.10.0.2,2,2024-03-01,2024-03-02',
      '45.10.0.3,1,2024-03-01,2024-03-01',
      '45.10.0.4,1,2024-03-01,2024-03-01',
      '45.10.0.5,1,2024-03-03,2024-03-03',
    ]);
    // 45.10.0.1: 12 probes a day on tcp/22 and 10 on tcp/23 on day 2
    expect(lines[1]).toContain(',2024-03-01T01:00:00Z,2024-03-03T01:00:30Z,4,2,46,46,1840,12,');
    expect(h.stdout).toMatch(/seen on one day only: 3 \(60\.0 %\)/);
    expect(h.stdout).toMatch(/seen on every day \(3\): 1 \(20\.0 %\)/);

    // a sub-period: only day 2 and 3
    const sub = JSON.parse(history(state, join(dir, 'h2'), ['--from', '2024-03-02', '--to', '2024-03-04']).json);
    expect(sub.period).toMatchObject({ days_with_data: 2, calendar_days: 3, days_without_data: ['2024-03-04'] });
    expect(sub.days_observed.histogram.map((x: { scanner_ips: number }) => x.scanner_ips)).toEqual([2, 1]);
  });

  it('the same input recorded again (re-run, copied, inside a folder run, or a part of one) gives the same history', async () => {
    const dir = tempDir();
    const inDir = join(dir, 'in');
    mkdirSync(inDir);
    const files = writeThreeDays(inDir);
    const state = join(dir, 'state');
    for (const f of files) await record([f], state);
    const first = history(state, join(dir, 'h1'));
    const endpoints = () => {
      const s = HistoryStore.open(state);
      try {
        return s.endpointDays(s.period());
      } finally {
        s.close();
      }
    };
    const eps = endpoints();
    expect(eps).toHaveLength(20 + 15 + 13); // endpoints 10.0.0.1 .. the widest scan of each day

    expect(await record([files[0]!], state)).toMatch(/replaces run 1\b/);
    const copy = join(dir, 'copy-of-day-1.log');
    copyFileSync(files[0]!, copy);
    expect(await record([copy], state)).toMatch(/replaces run 4\b/); // content, not path
    const again = history(state, join(dir, 'h2'));
    expect(again.scanners).toBe(first.scanners);
    expect(again.days).toBe(first.days);
    expect(JSON.parse(again.json)).toEqual(JSON.parse(first.json));

    // a run over the whole folder supersedes the three day runs
    expect(await record([inDir], state)).toMatch(/replaces runs 2, 3, 5/);
    const folder = history(state, join(dir, 'h3'));
    expect(folder.scanners).toBe(first.scanners);
    expect(JSON.parse(folder.json).runs).toBe(1);
    // and a file it already read is not recorded again
    expect(detect([files[1]!], state, join(dir, 'out'))).toMatch(/not recorded: run 6 already recorded every one of these files/);
    expect(history(state, join(dir, 'h4')).scanners).toBe(first.scanners);
    expect(endpoints()).toEqual(eps);
  });

  it('warns when two runs share some files; standard input is recognised by what it held', async () => {
    const dir = tempDir();
    const files = writeThreeDays(dir);
    const state = join(dir, 'state');
    await record([files[0]!, files[1]!], state);
    expect(detect([files[1]!, files[2]!], state, join(dir, 'out'))).toMatch(/warning: run 1 read 1 of the same file\(s\)/);

    const s2 = join(dir, 'state2');
    const text = [V2_HEADER, ...dayFlows(0).map(v2Line)].join('\n') + '\n';
    expect(await record(['-'], s2, text)).toMatch(/run 1 recorded/);
    expect(await record(['-'], s2, text)).toMatch(/run 2 recorded.*replaces run 1\b/);
    expect(JSON.parse(history(s2, join(dir, 'h')).json).scanner_ips).toBe(4);
  });

  it('usage errors: no --state, a folder without history, a bad day', () => {
    expect(cli(['history']).status).toBe(1);
    const none = cli(['history', '--state', join(three.dir, 'nothing')]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/no flowsieve history in/);
    expect(cli(['history', '--state', three.state, '--from', '2024-02-30']).stderr).toMatch(/--from must be a UTC day/);
    expect(cli(['history', '--state', three.state, '--from', '2024-03-02', '--to', '2024-03-01']).status).toBe(1);
    expect(cli(['export', '--state', three.state]).stderr).toMatch(/needs --out/);
  });
});

describe('the store', () => {
  it('has a versioned schema and refuses a database from a newer flowsieve', () => {
    const dir = tempDir();
    const s = HistoryStore.open(dir, { create: true });
    expect(s.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(s.db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(s.db.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
    s.db.pragma('user_version = 99');
    s.close();
    expect(() => HistoryStore.open(dir)).toThrow(/schema version 99/);
  });

  it('a run that fails half way leaves the history as it was (one transaction)', () => {
    const s = HistoryStore.inMemory();
    const rows = runRows({ scans: [verdict('45.1.1.1', '2024-03-01', 6, 22)], endpointDays: [] }, 1);
    s.record(run('a'), rows);
    const bad = runRows({ scans: [verdict('45.1.1.2', '2024-03-02', 6, 22)], endpointDays: [] }, 1);
    (bad.scannerDays[0] as { scanKeys: unknown }).scanKeys = null; // NOT NULL: the insert fails
    expect(() => s.record(run('b'), bad)).toThrow();
    expect(s.runs()).toHaveLength(1);
    expect(s.period().days).toEqual(['2024-03-01']);
    s.close();
  });
});

// ---------------------------------------------------------------- export

function verdict(ip: string, day: string, protocol: number, port: number, flows = 10) {
  const start = Date.parse(`${day}T01:00:00Z`) / 1000;
  return {
    window: start, srcWords: [...parseAddress(ip)!], src: ip, protocol, dstPort: port, endpoints: flows, clouds: 1, accounts: 1, regions: 1,
    flows, packets: flows, bytes: 40 * flows, cvPackets: 0, cvBytes: 0, cvFlows: 0, firstSeen: start, lastSeen: start + 30, failed: [],
  };
}

function run(name: string) {
  return { fingerprint: name, files: [{ fingerprint: name, path: name, bytes: 1 }], inputs: [name], windowSeconds: 21600, records: 0, partial: false, settings: {} };
}

const DAYS3 = ['2024-03-01', '2024-03-02', '2024-03-03'];

/**
 * 45.0.0.1 scans tcp/22 every day; 45.0.0.2 scans only tcp/9999 every day (a port no one
 * else scans); twelve other ports are scanned on day 1 by two IPs each, so tcp/22 (three IPs)
 * and nine of them are the ten most scanned, and tcp/9999 is not.
 */
function portsStore(dir?: string): HistoryStore {
  const s = dir ? HistoryStore.open(dir, { create: true }) : HistoryStore.inMemory();
  const research = { country: 'NL', asn: 64500, as_org: 'Example Scan BV', actor: 'Example Research' };
  const facts = new Map<string, { country: string; asn: number; as_org: string; actor: string | null }>([['45.0.0.1', research], ['45.0.1.1', research], ['45.0.0.2', { country: 'US', asn: 64501, as_org: 'Other "Net", Inc', actor: null }]]);
  DAYS3.forEach((day, d) => {
    const scans = [verdict('45.0.0.1', day, 6, 22), verdict('45.0.0.2', day, 6, 9999)];
    if (d === 0) {
      scans.push(verdict('45.0.1.1', day, 6, 22), verdict('45.0.1.2', day, 6, 22));
      for (let k = 0; k < 12; k++) scans.push(verdict(`45.0.2.${2 * k + 1}`, day, 6, 1000 + k, 10 + k), verdict(`45.0.2.${2 * k + 2}`, day, 6, 1000 + k, 10 + k));
    }
    s.record(run(day), runRows({ scans, endpointDays: [] }, 1), facts);
  });
  return s;
}

describe('export lists', () => {
  it('persistent scanners are those seen every day on one of the ten most scanned ports', () => {
    const s = portsStore();
    const p = s.period();
    const list = persistentScanners(s, p);
    expect(list.criteria.top_ports).toEqual(['tcp/22', 'tcp/1011', 'tcp/1010', 'tcp/1009', 'tcp/1008', 'tcp/1007', 'tcp/1006', 'tcp/1005', 'tcp/1004', 'tcp/1003']);
    expect(list.scanners.map((x) => x.ip)).toEqual(['45.0.0.1']); // 45.0.0.2 is every day too, but on tcp/9999
    expect(persistentScanners(s, p, 1).scanners.map((x) => x.ip)).toEqual([
      '45.0.0.1', '45.0.1.1', '45.0.1.2', ...Array.from({ length: 18 }, (_, k) => `45.0.2.${k + 7}`),
    ]);
    const actor = actorScanners(s, p, 'Example Research');
    expect(actor.list).toBe('actor-example-research');
    expect(actor.scanners.map((x) => [x.ip, x.country, x.asn, x.days])).toEqual([['45.0.0.1', 'NL', 64500, 3], ['45.0.1.1', 'NL', 64500, 1]]);
    s.close();
  });

  it('writes persistent, one-day and actor lists as text, CSV and JSON', () => {
    const { dir, state } = three;
    const out = join(dir, 'lists');
    const r = cli(['export', '--state', state, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(read(join(out, 'persistent.txt'))).toBe('45.10.0.1\n');
    expect(read(join(out, 'scanners-2024-03-03.txt'))).toBe('45.10.0.1\n45.10.0.5\n');
    const pj = JSON.parse(read(join(out, 'persistent.json')));
    expect(pj).toMatchObject({ list: 'persistent', count: 1, period: { from: '2024-03-01', to: '2024-03-03', days_with_data: 3 }, criteria: { min_days: 3, every_day: true } });
    expect(pj.criteria.top_ports).toEqual(['tcp/23', 'tcp/22', 'tcp/445', 'udp/5060', 'tcp/3389']);
    expect(pj.scanners[0]).toMatchObject({ ip: '45.10.0.1', days: 3, top_ports: ['tcp/22', 'tcp/23'], first_seen: '2024-03-01T01:00:00Z' });
    const csv = read(join(out, 'persistent.csv')).trim().split('\n');
    expect(csv[0]!.split(',').at(-1)).toBe('top_ports');
    expect(csv[1]).toMatch(/^45\.10\.0\.1,3,2024-03-01,2024-03-03,.*,tcp\/22 tcp\/23$/);
    expect(JSON.parse(read(join(out, 'export.json'))).lists.map((l: { list: string; count: number }) => [l.list, l.count])).toEqual([
      ['persistent', 1],
      ['scanners-2024-03-03', 2],
    ]);
    expect(r.stdout).toMatch(/no actor labels/);

    const r2 = cli(['export', '--state', state, '--out', out, '--min-days', '2', '--day', '2024-03-01']);
    expect(r2.status, r2.stderr).toBe(0);
    expect(read(join(out, 'persistent.txt'))).toBe('45.10.0.1\n45.10.0.2\n');
    expect(read(join(out, 'scanners-2024-03-01.txt'))).toBe('45.10.0.1\n45.10.0.2\n45.10.0.3\n45.10.0.4\n');
    expect(cli(['export', '--state', state, '--out', out, '--actor', 'Censys']).stderr).toMatch(/no actor labels in the history/);
    expect(cli(['export', '--state', state, '--out', out, '--min-days', '0']).status).toBe(1);
  });

  it('actor lists and enrichment columns (country, asn, as_org, actor) read from scans.ndjson', () => {
    const dir = tempDir();
    const scans = join(dir, 'scans.ndjson');
    writeFileSync(scans, [
      JSON.stringify({ src: '45.0.0.1', protocol: 6, dst_port: 22, country: 'NL', asn: 64500, as_org: 'Example Scan BV', actor: 'Example Research' }),
      'not json',
      JSON.stringify({ src: '45.0.0.2', protocol: 6, dst_port: 22, country: null, asn: null, as_org: null, actor: null }),
    ].join('\n') + '\n');
    const facts = ipFactsFromScans(scans)!;
    expect(facts.get('45.0.0.1')).toEqual({ country: 'NL', asn: 64500, as_org: 'Example Scan BV', actor: 'Example Research' });
    expect(facts.get('45.0.0.2')).toEqual({ country: null, asn: null, as_org: null, actor: null });
    writeFileSync(scans, JSON.stringify({ src: '45.0.0.1', protocol: 6, dst_port: 22 }) + '\n');
    expect(ipFactsFromScans(scans)).toBeUndefined(); // no enrichment columns

    const state = join(dir, 'state');
    portsStore(state).close();
    const out = join(dir, 'lists');
    const r = cli(['export', '--state', state, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(read(join(out, 'actor-example-research.txt'))).toBe('45.0.0.1\n45.0.1.1\n');
    expect(JSON.parse(read(join(out, 'actor-example-research.json')))).toMatchObject({ criteria: { actor: 'Example Research' }, count: 2 });
    expect(read(join(out, 'persistent.csv'))).toContain('45.0.0.1,3,2024-03-01,2024-03-03,');
    const only = cli(['export', '--state', state, '--out', join(dir, 'l2'), '--actor', 'Example Research']);
    expect(only.status, only.stderr).toBe(0);
    const unknown = cli(['export', '--state', state, '--out', join(dir, 'l3'), '--actor', 'Nobody']);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/known: Example Research/);
    // a CSV cell with a comma and quotes stays one cell
    const h = cli(['history', '--state', state, '--out', join(dir, 'h')]);
    expect(read(join(dir, 'h', 'history_scanners.csv'))).toContain(',US,64501,"Other ""Net"", Inc",');
    expect(h.status).toBe(0);
  });
});
