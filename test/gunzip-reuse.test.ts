/**
 * A parse thread inflates small gzip files with one zlib handle, reset between files
 * (input/read.ts gunzipWhole): every file must come out as zlib.gunzipSync makes it, and
 * every file gunzipSync refuses must be refused, also right after a refused one. Run with
 * FLOWSIEVE_INFLATE=zlib: the files libdeflate takes (test/gunzip-native.test.ts) would
 * otherwise never reach the handle.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { smallGzip, wholeGzipInflater } from '../dist/src/input/read.js';

process.env.FLOWSIEVE_INFLATE = 'zlib'; // read when a file is first inflated, after the imports
const dir = tempDir('flowsieve-gunzip-');
const text = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `2 123456789012 eni-${i} 10.0.0.${i % 250} 45.9.1.1 443 ${i} 6 1 40 1718000000 1718000060 ACCEPT OK\n`).join(''));

const gz = gzipSync(text(2000));
const damaged = Buffer.from(gz);
damaged.fill(0xff, 200, 206);
const CASES: Record<string, Buffer> = {
  small: gzipSync(text(3)),
  large: gz, // inflates past the first output buffer (it grows)
  'two members': Buffer.concat([gzipSync(text(2)), gzipSync(text(50))]),
  'trailing zeros': Buffer.concat([gzipSync(text(2)), Buffer.alloc(16)]),
  'trailing bytes': Buffer.concat([gzipSync(text(2)), Buffer.from('junk')]),
  truncated: gz.subarray(0, gz.length >> 1),
  damaged,
  'not gzip': text(3),
  empty: Buffer.alloc(0),
  'empty inside': gzipSync(''),
};

/** gunzipSync's answer: the bytes, or null where it throws. */
function reference(bytes: Buffer, maxOutput: number): Buffer | null {
  try {
    return gunzipSync(bytes, { maxOutputLength: maxOutput });
  } catch {
    return null;
  }
}

describe('small gzip files inflated with one reused handle', () => {
  it('give what gunzipSync gives, and fail where it fails, in any order', () => {
    const names = Object.keys(CASES);
    const order = [...names, ...names.slice().reverse(), ...names]; // every case after every other kind
    const failed: string[] = [];
    for (const [k, name] of order.entries()) {
      const path = join(dir, `${k}.gz`);
      writeFileSync(path, CASES[name]!);
      for (const maxOutput of [1 << 24, 1000]) {
        const want = reference(CASES[name]!, maxOutput);
        const got = smallGzip(path, maxOutput, -1);
        expect(got?.text ?? null, `${name} at most ${maxOutput} bytes`).toEqual(want);
        if (want === null) failed.push(name);
      }
    }
    expect(failed).toEqual(expect.arrayContaining(['truncated', 'damaged', 'not gzip', 'large']));
    expect(wholeGzipInflater()).toBe('zlib');
  });
});
