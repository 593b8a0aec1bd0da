/**
 * smallInput (src/engine/small-input.ts): whether detect reads its inputs in the main thread. Its
 * folder walk names entries by appending to the folder's prefix (no join an entry), so the
 * paths it stats must still be right at every depth, with or without a trailing separator.
 */
import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join, sep } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';
import { EARLY_LOOK_STEPS, INLINE_TEXT_BYTES, lookedSmall, smallInput, smallInputKept } from '../dist/src/engine/small-input.js';

const root = tempDir('flowsieve-small-');

/** A file of `bytes` (sparse) at path, its folders made. */
function file(path: string, bytes: number): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, '');
  truncateSync(path, bytes);
  return path;
}

describe('smallInput', () => {
  it('counts the files of nested folders, given with or without a trailing separator, a .gz name five times', () => {
    const dir = join(root, 'nested');
    file(join(dir, 'AWSLogs', '123456789012', 'vpcflowlogs', 'eu-west-1', 'a.log'), 1000);
    file(join(dir, 'AWSLogs', '123456789012', 'vpcflowlogs', 'eu-west-1', '2024', 'b.log.gz'), 1000);
    expect(smallInput([dir])).toBe(true);
    expect(smallInput([dir + sep])).toBe(true);
    expect(smallInput([`${dir}${sep}.${sep}AWSLogs`])).toBe(true);
    // a file deep down that takes the rest of the bytes: only the .gz one counts five times
    const big = file(join(dir, 'AWSLogs', '123456789012', 'vpcflowlogs', 'eu-west-1', '2024', '05', 'c.log'), INLINE_TEXT_BYTES - 6000);
    expect(smallInput([dir])).toBe(true);
    truncateSync(big, INLINE_TEXT_BYTES - 5999);
    expect(smallInput([dir])).toBe(false);
    expect(smallInput([dir + sep])).toBe(false);
  });

  it('is not small past the folder files limit, for a missing path, or for stdin', () => {
    const many = join(root, 'many');
    for (let i = 0; i < 513; i++) file(join(many, `d${i % 3}`, `${i}.log`), 1);
    expect(smallInput([many])).toBe(false);
    expect(smallInput([join(root, 'missing')])).toBe(false);
    expect(smallInput(['-'])).toBe(false);
  });

  it("answers the early look within EARLY_LOOK_STEPS folders and files, kept for detect's look once", () => {
    const few = join(root, 'few');
    for (let i = 0; i < 3; i++) file(join(few, `${i}.log`), 1);
    expect(smallInputKept([few])).toBe(true);
    const big = join(root, 'big');
    file(join(big, 'a.log'), INLINE_TEXT_BYTES + 1);
    expect(smallInputKept([big])).toBe(false);
    expect(lookedSmall([big])).toBe(false); // the kept answer
    truncateSync(join(big, 'a.log'), 1);
    expect(lookedSmall([big])).toBe(true); // taken once: looked at again
    // more small files than the early look reads: not known then, small for detect's own look
    const wide = join(root, 'wide');
    for (let i = 0; i < EARLY_LOOK_STEPS + 1; i++) file(join(wide, `${i}.log`), 1);
    expect(smallInputKept([wide])).toBeUndefined();
    expect(lookedSmall([wide])).toBe(true);
    expect(smallInputKept([few])).toBe(true);
    expect(lookedSmall([wide])).toBe(true); // another input's answer is not taken
  });
});
