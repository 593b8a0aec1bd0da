import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { readReplayHeader } from '../dist/src/replay/file.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('convert --partitions P', () => {
  it('writes one replay file per partition; detect per partition + merge == one detect', () => {
    const dir = tempDir();
    const sample = join(dir, 'sample');
    expect(cli('generate', '--out', sample, '--scale', '0.05', '--days', '1', '--seed', '9', '--quiet').status).toBe(0);
    const logs = join(sample, 'aws');
    const single = join(dir, 'single');
    expect(cli('detect', logs, '--out', single, '--workers', '1', '--no-enrich', '--quiet').status).toBe(0);

    const P = 3;
    const r = cli('convert', logs, '--out', join(dir, 'replay', 'all.fsr'), '--partitions', String(P), '--quiet');
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(join(dir, 'replay')).sort()).toEqual(['all.part-0-of-3.fsr', 'all.part-1-of-3.fsr', 'all.part-2-of-3.fsr']);
    const parts = join(dir, 'parts');
    for (let p = 0; p < P; p++) {
      const d = cli('detect', join(dir, 'replay', `all.part-${p}-of-${P}.fsr`), '--partition', `${p}/${P}`, '--partials', parts, '--out', join(dir, `o${p}`), '--workers', '1', '--no-enrich', '--quiet');
      expect(d.status, d.stderr).toBe(0);
    }
    const merged = join(dir, 'merged');
    const m = cli('merge', parts, '--out', merged, '--no-enrich', '--quiet');
    expect(m.status, m.stderr).toBe(0);
    const scans = readFileSync(join(single, 'scans.ndjson'), 'utf8');
    expect(scans.length).toBeGreaterThan(100);
    expect(readFileSync(join(merged, 'scans.ndjson'), 'utf8')).toBe(scans);
    expect(readFileSync(join(merged, 'outbound.ndjson'), 'utf8')).toBe(readFileSync(join(single, 'outbound.ndjson'), 'utf8'));
    // the merged summary counts every record once, as the single run does
    const sum = (d: string) => JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8')).totals;
    const [a, b] = [sum(single), sum(merged)];
    for (const k of ['records', 'inbound', 'outbound', 'nodata', 'rejected', 'internal', 'responses']) expect(b[k], k).toBe(a[k]);
    expect(b.other_partition).toBe(0);
    // one pass wrote all P files: each holds what a conversion filtered by the sink (--partition p/P) holds
    for (let p = 0; p < P; p++) {
      const filtered = join(dir, 'filtered', `p${p}.fsr`);
      const c = cli('convert', logs, '--out', filtered, '--partition', `${p}/${P}`, '--quiet');
      expect(c.status, c.stderr).toBe(0);
      const one = readReplayHeader(join(dir, 'replay', `all.part-${p}-of-${P}.fsr`)).header;
      const two = readReplayHeader(filtered).header;
      expect(one.totals).toEqual(two.totals);
      expect(one.rows).toBe(two.rows);
      expect(one.partition).toEqual(two.partition);
      expect([...new Set(one.blocks.bucket)].sort()).toEqual([...new Set(two.blocks.bucket)].sort());
      expect(one.blocks.inbound!.reduce((x: number, y: number) => x + y, 0)).toBe(two.totals.inbound);
    }
    // each partition's file holds only its own sources: together, every key once
    const perPart = [0, 1, 2].map((p) => readFileSync(join(dir, `o${p}`, 'scans.ndjson'), 'utf8').split('\n').filter(Boolean).length);
    expect(perPart.reduce((a, b) => a + b, 0)).toBe(scans.split('\n').filter(Boolean).length);
  });
});
