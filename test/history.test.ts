import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { writeThreeDays, DAYS } from './helpers/days.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const cli = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });

describe('history', () => {
  it('smoke', () => {
    const dir = tempDir();
    const files = writeThreeDays(dir);
    const state = join(dir, 'state');
    for (const f of files) {
      const r = cli(['detect', f, '--out', join(dir, 'out'), '--workers', '1', '--state', state]);
      console.log(r.status, r.stderr);
    }
    const h = cli(['history', '--state', state, '--out', join(dir, 'h')]);
    console.log(h.status, h.stdout, h.stderr);
    const e = cli(['export', '--state', state, '--out', join(dir, 'e')]);
    console.log(e.status, e.stdout, e.stderr);
    console.log(readFileSync(join(dir, 'e', 'persistent.csv'), 'utf8'));
  });
});
