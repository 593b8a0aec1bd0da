import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync, truncateSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Packr } from 'msgpackr';
import { readCheckpoint, writeCheckpoint, CHECKPOINT_VERSION, CHECKPOINT_FILE } from '../dist/src/serve/checkpoint.js';
import { tempDir } from './helpers/tmp.js';

const meta = (seq: number) => ({
  version: CHECKPOINT_VERSION, seq, createdAt: 1, windowSeconds: 3600, maxEnd: 5, finalizedUpTo: -1,
  ledger: [{ name: 'a.log', size: 3, mtimeMs: 4, seq, stored: 'done/a.log', moved: true }], outbox: null,
});
const pieces = [Buffer.from('first piece'), Buffer.alloc(0), Buffer.alloc(70_000, 7)];
const read = (dir: string) => {
  const c = readCheckpoint(dir)!;
  return { ...c, shards: [...c.shards].map((p) => Buffer.from(p)) };
};

describe('checkpoint file', () => {
  it('writes the pieces as they come and reads them back one at a time, with the rest', async () => {
    const dir = tempDir();
    async function* gen() {
      for (const p of pieces) yield p;
    }
    const bytes = await writeCheckpoint(dir, meta(3), gen());
    expect(bytes).toBe(statSync(join(dir, CHECKPOINT_FILE)).size);
    const c = read(dir);
    expect(c).toMatchObject({ version: CHECKPOINT_VERSION, seq: 3, windowSeconds: 3600, maxEnd: 5, finalizedUpTo: -1, pieces: 3 });
    expect(c.ledger).toEqual(meta(3).ledger);
    expect(c.shards).toEqual(pieces);
    // the pieces can be read again (each iteration reads the file anew)
    expect([...readCheckpoint(dir)!.shards].length).toBe(3);
  });

  it('says what is wrong with a cut or damaged file instead of restoring part of it', async () => {
    const dir = tempDir();
    await writeCheckpoint(dir, meta(1), pieces);
    const path = join(dir, CHECKPOINT_FILE);
    const good = readFileSync(path);
    truncateSync(path, good.length - 3);
    expect(() => readCheckpoint(dir)).toThrow(/cannot be read \(no end marker: the file is truncated\)/);
    // a piece's length word that runs past the accumulators
    const bad = Buffer.from(good);
    bad.writeBigUInt64LE(10n ** 9n, 8);
    writeFileSync(path, bad);
    expect(() => readCheckpoint(dir)).toThrow(/is damaged: accumulator piece 0 at byte 8 says 1000000000 bytes, past the accumulators' end/);
    writeFileSync(path, Buffer.from('FSCKPT\x00\x03 and then nothing useful', 'latin1'));
    expect(() => readCheckpoint(dir)).toThrow(/cannot be read/);
  });

  it('reads a version-2 checkpoint (one msgpack value) as written by earlier releases', () => {
    const dir = tempDir();
    const packr = new Packr({ moreTypes: true, useRecords: false });
    writeFileSync(join(dir, CHECKPOINT_FILE), packr.pack({ ...meta(9), version: 2, shards: [new Uint8Array([1, 2, 3])] }));
    const c = read(dir);
    expect(c).toMatchObject({ version: 2, seq: 9, pieces: 1 });
    expect(c.shards).toEqual([Buffer.from([1, 2, 3])]);
  });

  it('refuses a layout it does not know, saying which versions it reads', () => {
    const dir = tempDir();
    const packr = new Packr({ moreTypes: true, useRecords: false });
    writeFileSync(join(dir, CHECKPOINT_FILE), packr.pack({ ...meta(1), version: 1, shards: [] }));
    expect(() => readCheckpoint(dir)).toThrow(/unknown layout \(version 1\); this flowsieve reads versions 2 to 4/);
  });
});
