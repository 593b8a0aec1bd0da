import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { detect } from '../dist/src/engine/run.js';
import { spec as detectSpec } from '../dist/src/cli/commands/detect.js';
import { writeResults } from '../dist/src/app/results.js';
import { parseArgs } from '../dist/src/app/args.js';
import { detectOptionsFrom } from '../dist/src/app/settings.js';
import { filterLogs, FilterSetupError } from '../dist/src/filter/run.js';
import { loadScanKeys } from '../dist/src/filter/keys.js';
import { parseAddress } from '../dist/src/net/address.js';
import { tempDir } from './helpers/tmp.js';

const W = 21600;
const T0 = 1717200000; // 2024-06-01T00:00:00Z, a window start
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const SCANNER = '45.33.1.7';
const SCANNER6 = '2600:3c00::7';

/** A small AWS log with two planted scanners, near-scanner traffic that is not a scan key, and noise. */
function awsLog(): string {
  const l: string[] = [HEADER];
  const rec = (src: string, dst: string, sport: number, dport: number, proto: number, pk: number, by: number, t: number, action = 'REJECT') =>
    l.push(`2 123456789012 eni-0a1b2c3d ${src} ${dst} ${sport} ${dport} ${proto} ${pk} ${by} ${t} ${t + 30} ${action} OK`);
  for (let i = 1; i <= 12; i++) rec(SCANNER, `10.0.0.${i}`, 40000 + i, 23, 6, 1, 44, T0 + 60 * i); // scan key: tcp/23, window 0
  for (let i = 1; i <= 3; i++) rec(SCANNER, `10.0.0.${i}`, 41000 + i, 80, 6, 1, 44, T0 + 70 * i); // same source, 3 endpoints: not a key
  for (let i = 1; i <= 2; i++) rec(SCANNER, `10.0.0.${i}`, 42000 + i, 23, 6, 1, 44, T0 + W + 10 * i); // next window: not a key
  rec('10.0.0.1', SCANNER, 23, 40001, 6, 1, 40, T0 + 61, 'ACCEPT'); // an endpoint's reply to the scanner
  for (let i = 1; i <= 10; i++) rec(SCANNER6, `fd00::${i}`, 50000, 3389, 6, 2, 120, T0 + 5 * i); // IPv6 scan key: tcp/3389
  for (let i = 0; i < 40; i++) {
    rec('10.0.0.5', `52.95.1.${i}`, 50000 + i, 443, 6, 12, 6000, T0 + 100 + i, 'ACCEPT');
    rec(`52.95.1.${i}`, '10.0.0.5', 443, 50000 + i, 6, 10, 9000, T0 + 100 + i, 'ACCEPT');
  }
  l.push('2 123456789012 eni-0a1b2c3d - - - - - - - 1717200000 1717200060 - NODATA');
  l.push('this line is not a flow record');
  l.push('');
  return l.join('\n') + '\n';
}

const SCAN_LINES = 22; // 12 IPv4 + 10 IPv6 probes

/** Options exactly as `flowsieve detect <inputs> --workers 1` builds them. */
function detectOptions(inputs: string[]) {
  return detectOptionsFrom(parseArgs(detectSpec, [...inputs, '--workers', '1']).values, inputs);
}

/** The records of an AWS text file, as (src, protocol, dst_port, window) keys, by simple splitting. */
function recordKeys(text: string) {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f.length === 14 && /^\d+$/.test(f[0]!) && f[3] !== '-')
    .map((f) => ({ src: f[3]!, proto: Number(f[7]), dport: Number(f[6]), window: Math.floor(Number(f[10]) / W) }));
}

let root: string;
let scansDir: string;
let inputs: string;

beforeAll(async () => {
  root = tempDir();
  inputs = join(root, 'logs');
  mkdirSync(join(inputs, 'sub'), { recursive: true });
  const text = awsLog();
  writeFileSync(join(inputs, 'flows.log'), text);
  writeFileSync(join(inputs, 'sub', 'flows.log.gz'), gzipSync(Buffer.from(text)));
  scansDir = join(root, 'run');
  const result = await detect(detectOptions([join(inputs, 'flows.log')]));
  await writeResults(scansDir, result, W, { window_seconds: W }, false);
});

describe('flowsieve filter (AWS text)', () => {
  it('the planted scanners are the run’s only scan keys', () => {
    const keys = loadScanKeys(join(scansDir, 'scans.ndjson'), W);
    expect(keys.size).toBe(2);
    expect(keys.has(parseAddress(SCANNER)!, 0, 6, 23, T0 / W)).toBe(true);
    expect(keys.has(parseAddress(SCANNER6)!, 0, 6, 3389, T0 / W)).toBe(true);
    expect(keys.has(parseAddress(SCANNER)!, 0, 6, 80, T0 / W)).toBe(false);
    expect(keys.has(parseAddress(SCANNER)!, 0, 6, 23, T0 / W + 1)).toBe(false);
  });

  it('removes exactly the scan-key records; kept + removed = read', async () => {
    const out = join(root, 'filtered');
    const r = await filterLogs({ inputs: [inputs], scansDir, out, mode: 'drop', replies: false, maxLineBytes: 1 << 20 });
    expect(r.partial).toBe(false);
    expect(r.window_seconds).toBe(W);
    expect(r.files.map((f) => f.output)).toEqual([join(out, 'flows.log'), join(out, 'sub', 'flows.log.gz')]);
    const input = readFileSync(join(inputs, 'flows.log'), 'utf8');
    const inputRecords = recordKeys(input).length;
    for (const f of r.files) {
      const c = f.counters;
      expect(c.scan_records).toBe(SCAN_LINES);
      expect(c.records).toBe(inputRecords);
      expect(c.kept_lines + c.scan_records).toBe(c.lines);
      expect(c.lines).toBe(input.split('\n').length - 1);
      expect(c.unparsed).toBe(4); // header, NODATA, a bad line, a blank line: all kept
    }
    const plain = readFileSync(join(out, 'flows.log'), 'utf8');
    // byte accounting: what was removed is exactly the scan lines
    expect(statSync(join(out, 'flows.log')).size).toBe(Buffer.byteLength(input) - r.files[0]!.counters.scan_bytes);
    expect(plain.split('\n')[0]).toBe(HEADER);
    expect(plain).toContain('this line is not a flow record');
    expect(plain).toContain('NODATA');
    // re-parsed: no record left is a scan key, every other record is still there
    const keys = loadScanKeys(join(scansDir, 'scans.ndjson'), W);
    const left = recordKeys(plain);
    expect(left.length).toBe(inputRecords - SCAN_LINES);
    for (const k of left) expect(keys.has(parseAddress(k.src)!, 0, k.proto, k.dport, k.window), `${k.src} ${k.dport}`).toBe(false);
    expect(left.filter((k) => k.src === SCANNER).length).toBe(5); // its non-scan traffic stays
    // gzip in, gzip out, same content
    expect(gunzipSync(readFileSync(join(out, 'sub', 'flows.log.gz'))).toString('utf8')).toBe(plain);
    // and the engine finds nothing left to call a scan
    const again = await detect(detectOptions([join(out, 'flows.log')]));
    expect(again.scans).toEqual([]);
    expect(again.totals.records).toBe(inputRecords - SCAN_LINES);
  });

  it('with --replies also removes the endpoints’ replies to scanners', async () => {
    const out = join(root, 'filtered-replies');
    const r = await filterLogs({ inputs: [join(inputs, 'flows.log')], scansDir, out, mode: 'drop', replies: true, maxLineBytes: 1 << 20 });
    expect(r.files[0]!.counters.scan_records).toBe(SCAN_LINES + 1);
    expect(readFileSync(join(out, 'flows.log'), 'utf8')).not.toMatch(/10\.0\.0\.1 45\.33\.1\.7 23 40001/);
  });

  it('refuses what it cannot do, and names files it cannot filter', async () => {
    const out = join(root, 'f2');
    await expect(filterLogs({ inputs: [inputs], scansDir: join(root, 'nope'), out, mode: 'drop', replies: false, maxLineBytes: 1 << 20 })).rejects.toThrow(
      FilterSetupError,
    );
    await expect(filterLogs({ inputs: [inputs], scansDir, out: join(inputs, 'out'), mode: 'drop', replies: false, maxLineBytes: 1 << 20 })).rejects.toThrow(
      /inside the input folder/,
    );
    await expect(filterLogs({ inputs: [inputs], scansDir, out, mode: 'tag', replies: false, maxLineBytes: 1 << 20 })).rejects.toThrow(/--mode tag needs a JSON format/);
    const odd = join(root, 'odd');
    mkdirSync(odd, { recursive: true });
    writeFileSync(join(odd, 'notes.txt'), 'hello\n');
    copyFileSync(join(inputs, 'flows.log'), join(odd, 'flows.log'));
    const r = await filterLogs({ inputs: [odd], scansDir, out, mode: 'drop', replies: false, maxLineBytes: 1 << 20 });
    expect(r.partial).toBe(true);
    expect(r.files.find((f) => f.input.endsWith('notes.txt'))).toMatchObject({ output: null, error: expect.stringMatching(/unrecognised format/) });
    expect(r.files.find((f) => f.input.endsWith('flows.log'))!.counters.scan_records).toBe(SCAN_LINES);
  });

  it('keeps what it read of a truncated gzip file and says so', async () => {
    const dir = join(root, 'trunc');
    mkdirSync(dir, { recursive: true });
    const gz = gzipSync(Buffer.from(awsLog()));
    writeFileSync(join(dir, 'cut.log.gz'), gz.subarray(0, Math.floor(gz.length * 0.6)));
    const r = await filterLogs({ inputs: [dir], scansDir, out: join(root, 'trunc-out'), mode: 'drop', replies: false, maxLineBytes: 1 << 20 });
    const f = r.files[0]!;
    expect(r.partial).toBe(true);
    expect(f.error).toMatch(/gzip/);
    expect(f.output).not.toBeNull();
    expect(f.counters.kept_lines + f.counters.scan_records).toBeLessThanOrEqual(f.counters.lines);
  });
});

describe('flowsieve filter (any line format, through its reader)', () => {
  const NS = (t: number) => `${t}000000000`;
  /** goflow2 v2 JSON lines: a scanner of tcp/445 on 10 endpoints, and other traffic. */
  function goflowLog(): string {
    const l: string[] = [];
    const rec = (src: string, dst: string, sport: number, dport: number, t: number) =>
      l.push(`{"type":"IPFIX","time_received_ns":${NS(t + 5)},"time_flow_start_ns":${NS(t)},"time_flow_end_ns":${NS(t + 1)},"bytes":60,"packets":1,"src_addr":"${src}","dst_addr":"${dst}","proto":"TCP","src_port":${sport},"dst_port":${dport}}`);
    for (let i = 1; i <= 10; i++) rec('45.77.1.1', `10.1.0.${i}`, 40000 + i, 445, T0 + i);
    for (let i = 1; i <= 20; i++) rec(`10.1.0.${i}`, `93.184.216.${i}`, 50000 + i, 443, T0 + 100 + i);
    l.push('{"type":"SFLOW_5","time_received_ns":1717200005000000000,"etype":"ARP","src_addr":"","dst_addr":"","proto":""}');
    l.push('not json');
    return l.join('\n') + '\n';
  }

  it('drops or tags goflow2 records; tagged lines stay valid JSON and still read the same', async () => {
    const dir = join(root, 'goflow');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'flows.json');
    const text = goflowLog();
    writeFileSync(file, text);
    const run = join(root, 'goflow-run');
    const first = await detect(detectOptions([file]));
    expect(first.scans.map((v) => `${v.src} ${v.dstPort}`)).toEqual(['45.77.1.1 445']);
    await writeResults(run, first, W, { window_seconds: W }, false);

    const dropped = await filterLogs({ inputs: [file], scansDir: run, out: join(root, 'goflow-drop'), mode: 'drop', replies: false, maxLineBytes: 1 << 20 });
    const c = dropped.files[0]!.counters;
    expect(c).toMatchObject({ lines: 32, records: 30, scan_records: 10, kept_lines: 22, unparsed: 2, mixed_lines: 0 });
    const left = readFileSync(join(root, 'goflow-drop', 'flows.json'), 'utf8');
    expect(left).not.toContain('45.77.1.1');
    expect(left).toContain('not json');
    expect((await detect(detectOptions([join(root, 'goflow-drop', 'flows.json')]))).scans).toEqual([]);

    const tagged = await filterLogs({ inputs: [file], scansDir: run, out: join(root, 'goflow-tag'), mode: 'tag', replies: false, maxLineBytes: 1 << 20 });
    expect(tagged.files[0]!.counters).toMatchObject({ records: 30, scan_records: 10, kept_lines: 32 });
    const lines = readFileSync(join(root, 'goflow-tag', 'flows.json'), 'utf8').trim().split('\n');
    const objects = lines.filter((x) => x.startsWith('{')).map((x) => JSON.parse(x));
    expect(objects.filter((o) => o.flowsieve_scan === true).map((o) => o.src_addr)).toEqual(Array(10).fill('45.77.1.1'));
    expect(objects.filter((o) => o.flowsieve_scan === undefined).length).toBe(21);
    const again = await detect(detectOptions([join(root, 'goflow-tag', 'flows.json')]));
    expect(again.scans.map((v) => `${v.src} ${v.dstPort} ${v.endpoints}`)).toEqual(['45.77.1.1 445 10']);
  });

  it('knows which formats it can filter and tag', async () => {
    const { filterFor, filterableFormats } = await import('../dist/src/filter/registry.js');
    expect(filterableFormats()).toEqual(expect.arrayContaining(['aws-text', 'nfdump-csv', 'goflow2']));
    expect(filterFor('aws-text')!.canTag).toBe(false);
    expect(filterFor('nfdump-csv')!.canTag).toBe(false);
    expect(filterFor('goflow2')!.canTag).toBe(true);
  });
});

describe('the dedicated AWS filter and the reader-based one agree', () => {
  it('on the planted-scanner log, line for line', async () => {
    const { readerFilter } = await import('../dist/src/filter/reader.js');
    const { awsTextFilter } = await import('../dist/src/filter/aws.js');
    const { awsText } = await import('../dist/src/formats/aws.js');
    const { newFilterCounters } = await import('../dist/src/filter/types.js');
    const keys = loadScanKeys(join(scansDir, 'scans.ndjson'), W);
    const buf = Buffer.from(awsLog());
    const run = (f: any) => {
      const counters = newFilterCounters();
      const parts: Buffer[] = [];
      const lf = f.open({ keys, windowSeconds: W, mode: 'drop', replies: true, counters, file: 'x', account: '', region: '' });
      lf.filterLines(buf, 0, buf.length, { write: (b: Uint8Array, s: number, e: number) => parts.push(Buffer.from(b.subarray(s, e))) });
      return { text: Buffer.concat(parts).toString('utf8'), counters };
    };
    const a = run(awsTextFilter);
    const b = run(readerFilter(awsText, false));
    expect(b.text).toBe(a.text);
    expect(b.counters).toEqual(a.counters);
    expect(a.counters.scan_records).toBe(SCAN_LINES + 1);
  });
});

describe('flowsieve filter (AWS Firehose JSON lines)', () => {
  it('tags the scan records inside their JSON objects', async () => {
    const dir = join(root, 'firehose');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'firehose.json');
    const lines = awsLog()
      .split('\n')
      .slice(1) // Firehose messages carry no header line
      .filter((l) => l.trim() && !l.startsWith('this'))
      .map((l) => JSON.stringify({ message: l }));
    writeFileSync(file, lines.join('\n') + '\n');
    const out = join(root, 'firehose-tag');
    const r = await filterLogs({ inputs: [file], scansDir, out, mode: 'tag', replies: false, maxLineBytes: 1 << 20 });
    expect(r.files[0]!.format).toBe('aws-json');
    expect(r.files[0]!.counters).toMatchObject({ scan_records: SCAN_LINES, kept_lines: lines.length, lines: lines.length });
    const objects = readFileSync(join(out, 'firehose.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const tagged = objects.filter((o) => o.flowsieve_scan === true);
    expect(tagged.length).toBe(SCAN_LINES);
    expect(tagged.every((o) => o.message.includes(SCANNER) || o.message.includes(SCANNER6))).toBe(true);
  });
});
