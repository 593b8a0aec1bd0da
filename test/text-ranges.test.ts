/**
 * textRanges (src/input/plan.ts): how detect cuts a plain AWS text file into parse tasks when
 * --chunk-size is not given. The ranges cover the file once, in order, as many as the parse
 * threads or a multiple, none over TEXT_RANGE_BYTES nor (but the last of a piece) under the
 * least; a range ends at each early-flush cut that leaves pieces of the least or more.
 */
import { describe, expect, it } from 'vitest';
import { TEXT_RANGE_BYTES, textRanges } from '../dist/src/input/plan.js';
import { detectOptionsFrom } from '../dist/src/app/settings.js';
import { parseArgs } from '../dist/src/app/args.js';
import { spec } from '../dist/src/cli/commands/detect.js';
import { PARSE_HERE_RANGE_BYTES } from '../dist/src/engine/parse-here.js';

const MiB = 1 << 20;

/** The ranges in order, end to end over [0, size). */
function covers(ranges: Array<[number, number]>, size: number): void {
  expect(ranges[0]![0]).toBe(0);
  expect(ranges.at(-1)![1]).toBe(size);
  for (let i = 1; i < ranges.length; i++) expect(ranges[i]![0]).toBe(ranges[i - 1]![1]);
}

describe('textRanges', () => {
  it('cuts a file into as many ranges as the parse threads, or a multiple, of at most TEXT_RANGE_BYTES', () => {
    for (const size of [0, 3 * MiB, 51_266_943, 97_991_180, 224_204_136, 1 << 30]) {
      for (const threads of [1, 2, 3, 8]) {
        const r = textRanges(size, threads, 8 * MiB);
        covers(r, size);
        for (const [s, e] of r) expect(e - s).toBeLessThanOrEqual(Math.max(8 * MiB, TEXT_RANGE_BYTES));
        // fewer only where the least keeps them larger
        if (size >= threads * 8 * MiB) expect(r.length % threads).toBe(0);
      }
    }
    expect(textRanges(51_266_943, 1, 8 * MiB)).toHaveLength(1); // the 51 MB file: one task, not seven
    expect(textRanges(224_204_136, 1, 8 * MiB)).toHaveLength(4);
    expect(textRanges(224_204_136, 2, 8 * MiB)).toHaveLength(4);
  });

  it('takes a larger most for a file the engine\'s thread parses (PARSE_HERE_RANGE_BYTES): the 224 MB file in one range, a larger one in ranges of at most that', () => {
    expect(textRanges(224_204_136, 1, 8 * MiB, [], PARSE_HERE_RANGE_BYTES)).toEqual([[0, 224_204_136]]);
    const size = 3 * PARSE_HERE_RANGE_BYTES + 5;
    const r = textRanges(size, 1, 8 * MiB, [], PARSE_HERE_RANGE_BYTES);
    covers(r, size);
    expect(r).toHaveLength(4);
    for (const [s, e] of r) expect(e - s).toBeLessThanOrEqual(PARSE_HERE_RANGE_BYTES);
  });

  it('ends a range at each cut whose pieces are of the least or more', () => {
    const size = 224_204_136;
    const r = textRanges(size, 1, 8 * MiB, [0.9, 0.97]);
    covers(r, size);
    const ends = r.map(([, e]) => e);
    expect(ends).toContain(Math.floor(0.9 * size));
    expect(ends).toContain(Math.floor(0.97 * size));
    // the 51 MB file: the 97 % piece (1.5 MB) is under the least, so it stays with the last one
    const small = textRanges(51_266_943, 1, 8 * MiB, [0.9, 0.97]);
    covers(small, 51_266_943);
    expect(small.map(([, e]) => e)).toEqual([Math.floor(0.9 * 51_266_943), 51_266_943]);
  });
});

describe('--chunk-size', () => {
  const opts = (...args: string[]) => {
    const p = parseArgs(spec, ['f.log', '--out', 'o', ...args], {});
    return detectOptionsFrom(p.values, p.positionals);
  };
  it('given, every plain file is read in ranges of that size; not given, a text file in textRanges', () => {
    expect(opts().textRanges).toBe(true);
    expect(opts().chunkBytes).toBe(8 * MiB);
    expect(opts('--chunk-size', '1M').textRanges).toBe(false);
    expect(opts('--chunk-size', '1M').chunkBytes).toBe(MiB);
  });
});
