/**
 * filter on the document formats (Azure NSG/VNet, GCP JSON arrays, CloudWatch envelopes):
 * on a generated 3-cloud sample, the filtered logs hold no scan and exactly the records not
 * removed; the same GCP entries and AWS lines filtered as lines and as documents lose the
 * same records; --mode tag marks the objects; stderr is a summary, not a line a file.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_WORKERS: '2' } });
const summary = (dir: string) => JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

describe('filter: document formats', () => {
  const dir = tempDir('flowsieve-filter-docs-');
  const sample = join(dir, 'sample');
  const meta = join(dir, 'sample-meta');
  const regionMap = ['--region-map', join(meta, 'region-map.json')];

  it('Azure NSG and VNet files come back without their scan tuples; the folder layout is kept', () => {
    expect(cli('generate', '--out', sample, '--scale', '0.02', '--days', '1', '--clouds', 'aws,azure,gcp', '--quiet').status).toBe(0);
    const run = join(dir, 'run');
    expect(cli('detect', sample, '--out', run, '--no-enrich', '--quiet', ...regionMap).status).toBe(0);
    const out = join(dir, 'filtered');
    const f = cli('filter', sample, '--scans', run, '--out', out, '--report', join(dir, 'report.json'));
    expect(f.status, f.stderr).toBe(0);
    // a summary by format, not a line per file
    expect(f.stderr.trim().split('\n').length).toBeLessThan(8);
    expect(f.stderr).toMatch(/azure-nsg: \d+ file\(s\), \d+ records, [1-9]\d* removed/);
    expect(f.stderr).toMatch(/azure-vnet: \d+ file\(s\), \d+ records, [1-9]\d* removed/);
    expect(filesUnder(out).map((p) => p.slice(out.length))).toEqual(filesUnder(sample).map((p) => p.slice(sample.length)));
    const again = join(dir, 'again');
    expect(cli('detect', out, '--out', again, '--no-enrich', '--quiet', ...regionMap).status).toBe(0);
    expect(readFileSync(join(again, 'scans.ndjson'), 'utf8')).toBe('');
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(summary(again).totals.records).toBe(summary(run).totals.records - report.totals.scan_records);
  });

  it('GCP entries and AWS lines lose the same records as lines and as documents (JSON array, CloudWatch envelope)', () => {
    const run = join(dir, 'run');
    const docs = join(dir, 'docs');
    mkdirSync(docs);
    const gcpFile = filesUnder(join(sample, 'gcp'))[0]!;
    const gcpLines = readFileSync(gcpFile, 'utf8').trim().split('\n');
    writeFileSync(join(docs, 'gcp-lines.json'), gcpLines.join('\n') + '\n');
    writeFileSync(join(docs, 'gcp-array.json'), JSON.stringify(gcpLines.map((l) => JSON.parse(l)), null, 2));
    // a default-format (v2) file with scan records: CloudWatch messages have no header line
    const awsLines = filesUnder(join(sample, 'aws'))
      .map((p) => gunzipSync(readFileSync(p)).toString('utf8').trim().split('\n'))
      .filter((l) => l[0]!.startsWith('version account-id interface-id srcaddr'))
      .sort((a, b) => b.length - a.length)[0]!;
    const body = awsLines.slice(1); // past the header: CloudWatch messages are default-format lines
    writeFileSync(join(docs, 'aws.log'), awsLines.join('\n') + '\n');
    const envelope = { messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: 'vpc', logStream: 'eni-1', logEvents: body.map((m, i) => ({ id: String(i), timestamp: 0, message: m })) };
    writeFileSync(join(docs, 'cloudwatch.json'), JSON.stringify(envelope, null, 2));
    const out = join(dir, 'docs-out');
    const f = cli('filter', docs, '--scans', run, '--out', out, '--report', join(dir, 'docs-report.json'));
    expect(f.status, f.stderr).toBe(0);
    const byName = Object.fromEntries(JSON.parse(readFileSync(join(dir, 'docs-report.json'), 'utf8')).files.map((r: any) => [r.input.split('/').pop(), r]));
    expect([byName['gcp-lines.json'].format, byName['gcp-array.json'].format, byName['cloudwatch.json'].format]).toEqual(['gcp', 'gcp-json', 'aws-cloudwatch']);
    expect(byName['gcp-array.json'].counters.scan_records).toBe(byName['gcp-lines.json'].counters.scan_records);
    expect(byName['cloudwatch.json'].counters.scan_records).toBe(byName['aws.log'].counters.scan_records);
    expect(byName['aws.log'].counters.scan_records).toBeGreaterThan(0);
    const left = JSON.parse(readFileSync(join(out, 'cloudwatch.json'), 'utf8'));
    expect(left.logEvents.length).toBe(body.length - byName['cloudwatch.json'].counters.scan_records);

    const tagged = join(dir, 'tagged');
    writeFileSync(join(dir, 'only-docs.txt'), '');
    const t = cli('filter', join(docs, 'cloudwatch.json'), join(docs, 'gcp-array.json'), '--scans', run, '--out', tagged, '--mode', 'tag');
    expect(t.status, t.stderr).toBe(0);
    const cw = JSON.parse(readFileSync(join(tagged, 'cloudwatch.json'), 'utf8'));
    expect(cw.logEvents.length).toBe(body.length);
    expect(cw.logEvents.filter((e: any) => e.flowsieve_scan === true).length).toBe(byName['cloudwatch.json'].counters.scan_records);
  });
});
