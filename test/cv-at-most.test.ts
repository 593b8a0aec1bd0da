/**
 * cvAtMost (src/detect/rules.ts): the outbound finalisation's test of a group's traffic,
 * folded without the sort where the CV is far from the threshold. It must decide exactly as
 * coefficientOfVariation(values) <= max, at the threshold itself too.
 */
import { describe, expect, it } from 'vitest';
import { coefficientOfVariation, cvAtMost } from '../dist/src/detect/rules.js';
import { rng } from '../dist/bench/records.js';

describe('cvAtMost', () => {
  it('decides as the sorted CV does, far from the threshold, near it and at it', () => {
    const r = rng(5);
    let near = 0;
    for (let k = 0; k < 3000; k++) {
      const n = 1 + Math.floor(r() * (k % 10 === 0 ? 5000 : 60));
      const spread = [0, 1e-9, 0.01, 0.3, 2][k % 5]!;
      const values = new Float64Array(n);
      for (let j = 0; j < n; j++) values[j] = Math.floor((40 + r() * spread * 40) * 1000) / 7;
      const exact = coefficientOfVariation(values.slice(), n);
      // thresholds on both sides of the CV, some within the fold's rounding of it
      for (const max of [0, 0.5, exact, exact * (1 + 1e-15), exact * (1 - 1e-15), exact + 1e-7, exact - 1e-7, exact * 2]) {
        if (Math.abs(exact - max) < 1e-6) near++;
        expect(cvAtMost(values.slice(), n, max)).toBe(exact <= max);
      }
    }
    expect(near).toBeGreaterThan(1000);
  });
});
