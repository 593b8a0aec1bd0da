/**
 * The large suite (FLOWSIEVE_SLOW=1 npm test): a multi-million-record generated sample,
 * detected at 1 and 2 workers and from replay files, against its ground truth. Skipped by
 * default: the default suite covers the same features at small scale.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';

const SLOW = process.env.FLOWSIEVE_SLOW === '1';
const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const cli = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });

describe.skipIf(!SLOW)('large sample (FLOWSIEVE_SLOW=1)', () => {
  it('finds every planted scanner in ~2 M records, identically at 1 and 2 workers and from replay', () => {
    const dir = tempDir();
    const sample = join(dir, 'sample');
    expect(cli('generate', '--out', sample, '--scale', '10', '--seed', '3', '--quiet').status).toBe(0);
    const truth = JSON.parse(readFileSync(join(`${sample}-meta`, 'ground-truth.json'), 'utf8'));
    const outs: string[] = [];
    for (const w of ['1', '2']) {
      const out = join(dir, `out${w}`);
      const r = cli('detect', join(sample, 'aws'), '--out', out, '--workers', w, '--no-enrich', '--quiet', '--allow', join(`${sample}-meta`, 'allow.txt'));
      expect(r.status, r.stderr).toBe(0);
      outs.push(readFileSync(join(out, 'scans.ndjson'), 'utf8'));
    }
    expect(outs[1]).toBe(outs[0]);
    const found = new Set(outs[0]!.trim().split('\n').map((l) => { const v = JSON.parse(l); return `${v.window_start}|${v.src}|${v.protocol}|${v.dst_port}`; }));
    // the ground truth's rule: scans.ndjson holds exactly the scanners whose profiles name 'default'
    const expected = (truth.scanners as Array<Record<string, unknown>>)
      .filter((k) => (k.profiles as string[]).includes('default'))
      .map((k) => `${k.window_start}|${k.src}|${k.protocol}|${k.dst_port}`);
    expect(expected.length).toBeGreaterThan(10);
    expect([...found].sort()).toEqual(expected.sort());
    const replay = join(dir, 'replay.fsr');
    expect(cli('convert', join(sample, 'aws'), '--out', replay, '--quiet').status).toBe(0);
    const out = join(dir, 'outr');
    expect(cli('detect', replay, '--out', out, '--workers', '2', '--no-enrich', '--quiet').status).toBe(0);
    expect(readFileSync(join(out, 'scans.ndjson'), 'utf8')).toBe(outs[0]);
  }, 900_000);
});
