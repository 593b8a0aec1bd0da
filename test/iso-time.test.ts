/**
 * isoTime (output/verdicts.ts) writes every time as toISOString less its milliseconds: whole
 * seconds of 1970-9999 from a day's text kept between calls and the time of day by arithmetic,
 * others (fractions, before 1970, past 9999) through the Date as before.
 */
import { describe, expect, it } from 'vitest';
import { isoTime } from '../dist/src/output/verdicts.js';

const byDate = (t: number) => new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('isoTime', () => {
  it("writes what toISOString writes, less the milliseconds, at day edges, leap days, fractions and the years' ends", () => {
    const times = [0, 1, 59, 60, 3599, 3600, 86399, 86400, 951782400, 951868799, 1717200000, 1717286399, 1717286400, 4102444800, 253402300799, 253402300800, -1, -86401, 1.5, 1717200000.999];
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      times.push(x % 2 === 0 ? (x * 61) % 253402300800 : 1717200000 + (x % 400000)); // anywhere, and runs of nearby times (the day kept)
    }
    for (const t of times) expect(isoTime(t), String(t)).toBe(byDate(t));
  });
});
