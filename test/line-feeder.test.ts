/**
 * LineFeeder.pushLines (src/input/lines.ts), as src/input/read.ts drives it for a parser that names
 * its reads' size (GCP): each read starts where the last one's whole lines ended, so a block's
 * last, partial line is read again, not carried. The lines parsed, their numbers and offsets, the
 * lines too long and the lines carried must be those of one push of the whole input, whatever the
 * block size; and one line longer than a block must not set every later block carrying.
 */
import { describe, expect, it } from 'vitest';
import { LineFeeder } from '../dist/src/input/lines.js';

class Recorder {
  readonly seen: string[] = [];
  /** parseLines calls given a carried line (a copy, not a view of the block) */
  carried = 0;
  constructor(private readonly blocks: Set<Uint8Array>) {}
  parseLines(buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number {
    if (!this.blocks.has(buf)) this.carried++;
    let n = 0;
    let start = s;
    for (let i = s; i < e; i++) {
      if (buf[i] !== 10 && i !== e - 1) continue;
      const end = buf[i] === 10 ? i : i + 1;
      this.seen.push(`${firstLine + n}@${baseOffset + (start - s)}:${Buffer.from(buf.subarray(start, end)).toString()}`);
      n++;
      start = i + 1;
    }
    return n;
  }
  lineTooLong(line: number, offset: number): void {
    this.seen.push(`${line}@${offset}:too long`);
  }
  truncated(line: number, offset: number): void {
    this.seen.push(`${line}@${offset}:truncated`);
  }
}

/** The input fed as read.ts feeds it: reads of `size` from where the last pushLines left off. */
function byPushLines(input: Buffer, size: number, maxLine: number): Recorder {
  const blocks = new Set<Uint8Array>();
  const r = new Recorder(blocks);
  const feeder = new LineFeeder(r, maxLine, 0);
  let pos = 0;
  while (pos < input.length) {
    const block = input.subarray(pos, Math.min(input.length, pos + size));
    blocks.add(block);
    pos += feeder.pushLines(block);
  }
  feeder.end(false);
  return r;
}

function wholeInput(input: Buffer, maxLine: number): string[] {
  const r = new Recorder(new Set([input]));
  const feeder = new LineFeeder(r, maxLine, 0);
  feeder.push(input);
  feeder.end(false);
  return r.seen;
}

/** Lines of random lengths (some longer than the blocks), with or without a last '\n'. */
function randomInput(seed: number, lines: number, most: number): Buffer {
  let x = seed;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8);
  const parts: string[] = [];
  for (let i = 0; i < lines; i++) {
    const len = next() % 5 === 0 ? next() % most : next() % 24;
    parts.push(String.fromCharCode(97 + (i % 26)).repeat(len));
  }
  return Buffer.from(parts.join('\n') + (seed % 2 === 0 ? '\n' : ''));
}

describe('LineFeeder.pushLines', () => {
  it('parses the lines of one push of the whole input, at any block size, long lines and lines too long included', () => {
    for (let seed = 1; seed <= 40; seed++) {
      const input = randomInput(seed, 300, 400);
      for (const size of [7, 32, 100, 256, 4096]) {
        for (const maxLine of [50, 150, 1 << 20]) {
          expect(byPushLines(input, size, maxLine).seen, `seed ${seed}, blocks of ${size}, lines up to ${maxLine}`).toEqual(wholeInput(input, maxLine));
        }
      }
    }
  });

  it('carries a line longer than a block, and only that line: the blocks after it start at a line again', () => {
    const short = Array.from({ length: 200 }, (_, i) => `line ${i}`).join('\n');
    const input = Buffer.from(`${'x'.repeat(300)}\n${short}\n`);
    const r = byPushLines(input, 64, 1 << 20);
    expect(r.seen).toEqual(wholeInput(input, 1 << 20));
    // the long line spans five blocks: it is parsed from the carry once; every later line from a block
    expect(r.carried).toBe(1);
  });
});
