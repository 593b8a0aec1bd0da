/** Summaries of a list of numbers, as the statistics files report them. */

export interface Distribution {
  count: number;
  min: number;
  mean: number;
  median: number;
  p95: number;
  max: number;
}

/**
 * count, min, mean, median, 95th percentile and max. The median of an even count is the
 * mean of the two middle values; p95 is the nearest-rank percentile (the smallest value
 * with at least 95 % of the values at or below it), so it is always an observed value.
 * An empty list gives zeros.
 */
export function distribution(values: ArrayLike<number>): Distribution {
  const n = values.length;
  if (n === 0) return { count: 0, min: 0, mean: 0, median: 0, p95: 0, max: 0 };
  const v = Float64Array.from(values).sort();
  let sum = 0;
  for (let i = 0; i < n; i++) sum += v[i]!;
  const mid = n >> 1;
  const median = n % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
  return {
    count: n,
    min: v[0]!,
    mean: round(sum / n, 3),
    median,
    p95: v[Math.max(0, Math.ceil(0.95 * n) - 1)]!,
    max: v[n - 1]!,
  };
}

export function round(x: number, digits: number): number {
  const m = 10 ** digits;
  return Math.round(x * m) / m;
}

/** part / whole, rounded to 4 decimals; 0 when whole is 0. */
export function share(part: number, whole: number): number {
  return whole > 0 ? round(part / whole, 4) : 0;
}
