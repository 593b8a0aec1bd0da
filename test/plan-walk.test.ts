/**
 * Planning a folder works out the path's join and account/region once a folder: every
 * file must still get the path and the account and region its own full path gives.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { planInputs } from '../dist/src/input/plan.js';
import { keyInfo } from '../dist/src/input/key-info.js';

const dir = tempDir('flowsieve-plan-walk-');
const LINE = '2 123456789012 eni-0a1b2c3d 45.9.1.1 10.0.0.1 40000 22 6 1 40 1718000000 1718000030 REJECT OK\n';

describe('planning a folder', () => {
  it('gives each file its own path, account and region', () => {
    const folders = ['AWSLogs/111122223333/vpcflowlogs/eu-west-1/2024/06/01', 'x/region=us-east-2/accountId=444455556666/eventDay=20240601', 'plain'];
    const names = ['a.log.gz', 'b.log', 'AWSLogs\\999988887777\\vpcflowlogs\\ap-south-1\\c.log.gz'];
    for (const f of folders) {
      mkdirSync(join(dir, f), { recursive: true });
      for (const n of names) writeFileSync(join(dir, f, n), n.endsWith('.gz') ? gzipSync(LINE) : LINE);
    }
    for (const root of [dir, `${dir}/`, `${dir}//x/..//`]) {
      const files = planInputs([root], { quickHeadBelow: 1 << 20, sniffInThread: true });
      expect(files.length).toBe(folders.length * names.length);
      for (const f of files) {
        expect(f.path).toBe(join(f.path));
        const own = keyInfo(f.path);
        expect([f.account, f.region]).toEqual([own.account ?? '', own.region ?? '']);
      }
      // the backslash name names its own account wherever it lies
      expect(files.filter((f) => f.account === '999988887777').length).toBeGreaterThanOrEqual(2);
      expect(new Set(files.map((f) => f.account))).toEqual(new Set(['111122223333', '444455556666', '999988887777', '']));
    }
  });

  it('folders entered without a stat: a link back to any folder on the way is still not followed, a link elsewhere is', () => {
    // a/b/c/d holds links to the walk's root, to a and to c itself, and one to a folder beside a
    const root = join(dir, 'links');
    mkdirSync(join(root, 'a/b/c/d'), { recursive: true });
    mkdirSync(join(root, 'z'), { recursive: true });
    writeFileSync(join(root, 'a/b/c/d/f.log'), LINE);
    writeFileSync(join(root, 'z/g.log'), LINE);
    for (const [name, to] of [['root', '../../../..'], ['up', '../../..'], ['self', '..'], ['beside', '../../../../z']]) symlinkSync(to, join(root, 'a/b/c/d', name));
    const files = planInputs([root], { quickHeadBelow: 1 << 20, sniffInThread: true });
    const byPath = Object.fromEntries(files.map((f) => [f.path.slice(root.length + 1), f.error ?? f.format]));
    const loop = 'symbolic link back to a directory already being read: not followed';
    expect(byPath).toEqual({ 'a/b/c/d/beside/g.log': 'aws-text', 'a/b/c/d/f.log': 'aws-text', 'a/b/c/d/root': loop, 'a/b/c/d/self': loop, 'a/b/c/d/up': loop, 'z/g.log': 'aws-text' });
  });
});
