/**
 * The text arena (src/formats/text-arena.ts): spans of a region of a reader module's memory
 * that whole inflated files are written into (read.ts inflateAhead), so that the module reads
 * them in place. Spans never overlap (each with its slack past the text), are taken first fit
 * and given back through giveFileBuffer; a file that does not fit gets a buffer of its own.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ARENA_SLACK, TextArena, giveToArena } from '../dist/src/formats/text-arena.js';
import { awsWasm, setAwsReader } from '../dist/src/formats/aws-wasm.js';
import { giveFileBuffer, textBuffer } from '../dist/src/input/file-buffers.js';
import { dropInflatedAhead, giveInflated, inflateAhead, inflatedAheadNow, takeInflatedAhead, wholeGzipInflater } from '../dist/src/input/read.js';
import { tempDir } from './helpers/tmp.js';

describe('the text arena', () => {
  it('takes spans first fit, each with its slack, none overlapping, and null where none fits', () => {
    const memory = new ArrayBuffer(1 << 16);
    const arena = new TextArena(memory, 1024, 8192);
    const a = arena.take(1000)!;
    const b = arena.take(2000)!;
    const c = arena.take(3000)!;
    expect([a.byteOffset, b.byteOffset, c.byteOffset]).toEqual([1024, 1024 + 1152, 1024 + 1152 + 2176]);
    expect([a.length, b.length, c.length]).toEqual([1000, 2000, 3000]);
    expect(b.byteOffset - (a.byteOffset + a.length)).toBeGreaterThanOrEqual(ARENA_SLACK);
    expect(arena.take(3000), 'no room left').toBeNull();
    expect(arena.give(b)).toBe(true);
    expect(arena.give(b), 'given back once').toBe(false);
    expect(arena.take(1500)!.byteOffset, 'the first gap that fits').toBe(b.byteOffset);
    expect(arena.take(1700), 'no gap of 1,700 and its slack').toBeNull();
    expect(arena.taken).toBe(3);
    expect(arena.give(Buffer.alloc(10)), 'not its buffer').toBe(false);
    expect(giveToArena(Buffer.alloc(10))).toBe(false);
    expect(giveToArena(a), 'through the list of arenas').toBe(true);
    expect(arena.taken).toBe(2);
  });

  it('is the AWS module memory\'s, which textBuffer takes from and giveFileBuffer gives back to', () => {
    setAwsReader('wasm');
    const w = awsWasm()!;
    const arena = w.textArena();
    expect(w.textArena()).toBe(arena);
    const before = arena.taken;
    const text = textBuffer(1 << 20, arena);
    expect(arena.taken).toBe(before + 1);
    expect(text.length).toBe(1 << 20);
    giveFileBuffer(text);
    expect(arena.taken).toBe(before);
    // more than it holds: a buffer of its own
    const big = textBuffer(64 << 20, arena);
    expect(big.length).toBe(64 << 20);
    expect(arena.taken).toBe(before);
    giveFileBuffer(big);
  });

  it.skipIf(wholeGzipInflater() !== 'libdeflate')('holds a file inflated ahead into it, its content whole, until its reader gives it back', async () => {
    dropInflatedAhead();
    setAwsReader('wasm');
    const arena = awsWasm()!.textArena();
    const dir = tempDir('flowsieve-text-arena-');
    const text = Buffer.from(Array.from({ length: 4000 }, (_, k) => `2 123456789010 eni-${k % 97} 45.${k % 256}.${(k * 7) % 256}.1 10.0.0.${k % 250} ${1024 + k} 22 6 1 40 1700000000 1700000060 REJECT OK`).join('\n') + '\n');
    const gz = gzipSync(text);
    const path = join(dir, 'a.log.gz');
    writeFileSync(path, gz);
    expect(inflateAhead(path, 1 << 30, gz.length, arena)).toBe(true);
    const got = (await takeInflatedAhead(path, 1 << 30))!;
    expect(got.text.buffer, 'in the module\'s memory').toBe(arena.take(1)!.buffer);
    expect(got.text.equals(text)).toBe(true);
    const taken = arena.taken;
    giveInflated(got);
    expect(arena.taken).toBe(taken - 1);
    expect(inflatedAheadNow().files).toBe(0);
  });
});
