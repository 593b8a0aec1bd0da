/**
 * The output writers' renames in the thread pool (src/output/files.ts putInPlaceMeanwhile): every
 * file in place, whole, once the promise resolves; a path written twice ends with the later
 * data; a failed rename rejects after the others have landed; outside it, renames happen at once.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { AtomicLineWriter, putInPlaceMeanwhile, StagedFile, writeFileAtomic } from '../dist/src/output/files.js';

describe('files put in place meanwhile', () => {
  it('puts every file in place by the time it resolves, over older ones, and leaves no temporary file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.txt'), 'old a\n');
    writeFileSync(join(dir, 'staged.txt'), 'old staged\n');
    const staged = new StagedFile(join(dir, 'staged.txt'), 'new staged\n');
    await putInPlaceMeanwhile(() => {
      writeFileAtomic(join(dir, 'a.txt'), 'new a\n');
      const w = new AtomicLineWriter(join(dir, 'sub', 'b.txt'));
      w.line('b1');
      w.line('b2');
      w.close();
      staged.commit();
    });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new a\n');
    expect(readFileSync(join(dir, 'sub', 'b.txt'), 'utf8')).toBe('b1\nb2\n');
    expect(readFileSync(join(dir, 'staged.txt'), 'utf8')).toBe('new staged\n');
    expect(readdirSync(dir).sort()).toEqual(['a.txt', 'staged.txt', 'sub']);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['b.txt']);
  });

  it('ends a path written twice with the later data, every round', async () => {
    const dir = tempDir();
    for (let round = 0; round < 20; round++) {
      await putInPlaceMeanwhile(() => {
        for (let i = 0; i < 5; i++) writeFileAtomic(join(dir, 'same.txt'), `round ${round} write ${i}\n`);
      });
      expect(readFileSync(join(dir, 'same.txt'), 'utf8')).toBe(`round ${round} write 4\n`);
    }
    expect(readdirSync(dir)).toEqual(['same.txt']);
  });

  it('rejects with a failed rename once the other files are in place', async () => {
    const dir = tempDir();
    const blocked = join(dir, 'blocked');
    mkdirSync(join(blocked, 'not-empty'), { recursive: true }); // a folder that holds something: no file can be renamed over it
    const run = putInPlaceMeanwhile(() => {
      writeFileAtomic(blocked, 'x\n');
      writeFileAtomic(join(dir, 'fine.txt'), 'fine\n');
    });
    await expect(run).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST/);
    expect(readFileSync(join(dir, 'fine.txt'), 'utf8')).toBe('fine\n');
  });

  it('rejects with what `write` threw, after its renames have ended', async () => {
    const dir = tempDir();
    const run = putInPlaceMeanwhile(() => {
      writeFileAtomic(join(dir, 'first.txt'), 'first\n');
      throw new Error('the writer failed');
    });
    await expect(run).rejects.toThrow('the writer failed');
    expect(readFileSync(join(dir, 'first.txt'), 'utf8')).toBe('first\n');
  });

  it('renames at once outside it', () => {
    const dir = tempDir();
    writeFileAtomic(join(dir, 'now.txt'), 'now\n');
    expect(existsSync(join(dir, 'now.txt'))).toBe(true);
    expect(readdirSync(dir)).toEqual(['now.txt']);
  });
});
