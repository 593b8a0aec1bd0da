import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2, v2Line } from './helpers/aws.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const run = (args: string[], input?: string) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', input });
const T0 = 1700006400;

describe('command line', () => {
  it('prints help for the tool and for each command', () => {
    const top = run(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/detect/);
    const d = run(['detect', '--help']);
    expect(d.status).toBe(0);
    expect(d.stdout).toMatch(/--min-endpoints/);
    expect(d.stdout).toMatch(/--near-misses/);
  });

  it("lists each command with its own spec's name and summary (commands load on use)", async () => {
    const { COMMAND_INDEX } = await import('../dist/src/cli/command-index.js');
    for (const c of COMMAND_INDEX) {
      const cmd = await c.load();
      expect({ name: cmd.spec.name, summary: cmd.spec.summary }).toEqual({ name: c.name, summary: c.summary });
    }
    const top = run(['--help']);
    for (const c of COMMAND_INDEX) expect(top.stdout).toContain(c.summary);
  });

  it('exits 1 on usage errors', () => {
    expect(run(['detect']).status).toBe(1);
    expect(run(['detect', 'x', '--out']).status).toBe(1);
    expect(run(['detect', 'x', '--out', '/tmp/y', '--bogus']).status).toBe(1);
    expect(run(['detect', 'x', '--out', '/tmp/y', '--window', '7h']).stderr).toMatch(/--window must be a duration that divides 24h/);
    expect(run(['nope']).status).toBe(1);
  });

  it('writes scans.ndjson, scans.csv, summary.json and rejects; exit 2 when an input is unreadable', () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    writeFileSync(join(dir, 'b.log'), 'version srcaddr\nnot a flow log\n');
    const out = join(dir, 'out');
    const r = run(['detect', join(dir, 'a.log'), join(dir, 'missing.log'), '--out', out, '--workers', '1']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/missing\.log/);
    const scans = readFileSync(join(out, 'scans.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(scans).toHaveLength(1);
    expect(Object.keys(scans[0])).toEqual([
      'window_start', 'window_end', 'src', 'protocol', 'dst_port', 'endpoints', 'clouds', 'accounts', 'regions', 'flows', 'packets',
      'bytes', 'cv_packets', 'cv_bytes', 'cv_flows', 'first_seen', 'last_seen',
      'country', 'asn', 'as_org', 'actor', 'rdns', // the scanner IP's enrichment, after the detection.md §7 columns
    ]);
    expect(scans[0]).toMatchObject({ window_start: '2023-11-15T00:00:00Z', window_end: '2023-11-15T06:00:00Z', src: '45.3.3.3', endpoints: 11 });
    const csv = readFileSync(join(out, 'scans.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('window_start,window_end,src,protocol,dst_port,endpoints,clouds,accounts,regions,flows,packets,bytes,cv_packets,cv_bytes,cv_flows,first_seen,last_seen,country,asn,as_org,actor,rdns');
    expect(csv[1]!.startsWith('2023-11-15T00:00:00Z,2023-11-15T06:00:00Z,45.3.3.3,6,23,11,1,1,1,11,11,440,0,0,0,2023-11-15T00:00:00Z,2023-11-15T00:00:30Z,')).toBe(true);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.partial).toBe(true);
    expect(summary.totals.records).toBe(11);
    expect(summary.files).toBe('files.ndjson');
    const files = readFileSync(join(out, 'files.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(files.find((f: any) => f.path.endsWith('missing.log')).error).toMatch(/ENOENT/);
    expect(existsSync(join(out, 'rejects.ndjson'))).toBe(true);
  });

  it('reads stdin with -', () => {
    const dir = tempDir();
    const text = scanner('45.4.4.4', 10, { start: T0 }).map(v2Line).join('\n') + '\n';
    const r = run(['detect', '-', '--out', join(dir, 'o'), '--quiet'], text);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(dir, 'o', 'scans.ndjson'), 'utf8')).toMatch(/45\.4\.4\.4/);
  });

  it('applies the multi-cloud profile and explicit thresholds', () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.5.5.5', 12, { start: T0 }));
    const out = join(tempDir(), 'o'); // not under the input folder, which is read whole
    expect(run(['detect', dir, '--out', out, '--profile', 'multi-cloud', '--near-misses', '--quiet']).status).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson'), 'utf8')).toBe('');
    const nm = JSON.parse(readFileSync(join(out, 'near_misses.ndjson'), 'utf8').trim());
    expect(nm.failed).toEqual(['min_accounts', 'min_regions', 'min_clouds']);
    expect(run(['detect', dir, '--out', out, '--min-endpoints', '13', '--quiet']).status).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson'), 'utf8')).toBe('');
  });
});
