/**
 * The generator's only source of randomness: a small seeded PRNG (mulberry32), so that
 * the same seed gives byte-identical output on every machine. Math.random is never used.
 * Every part of the scenario draws from its own stream, derived from the seed and a
 * label, so adding traffic in one place (more benign volume, another cloud) does not
 * shift the numbers drawn anywhere else.
 */
import { fmix32 } from '../flow/hash.js';

/** A 32-bit seed for the stream named by `labels` under the run's seed. */
export function streamSeed(seed: number, ...labels: Array<string | number>): number {
  let h = fmix32((seed >>> 0) ^ 0x5bd1e995);
  for (const label of labels) {
    const s = String(label);
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0; // FNV-1a step
    h = fmix32(h ^ 0x9e3779b9);
  }
  return h >>> 0;
}

export class Rng {
  private s: number;

  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** Uniform 32-bit unsigned integer (mulberry32). */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] (both included). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.float() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** Log-uniform in [lo, hi): heavy-tailed sizes (bytes, packets). */
  logUniform(lo: number, hi: number): number {
    return lo * Math.pow(hi / lo, this.float());
  }

  /** Index in [0, n) skewed towards 0: a few endpoints are much more popular than the rest. */
  skewed(n: number): number {
    const u = this.float();
    return Math.floor(n * u * u * u);
  }

  /** k distinct items of `items` (k clamped to the length), in a random order. */
  sample<T>(items: readonly T[], k: number): T[] {
    const a = items.slice();
    const n = Math.min(k, a.length);
    for (let i = 0; i < n; i++) {
      const j = i + Math.floor(this.float() * (a.length - i));
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
    return a.slice(0, n);
  }

  /** Lower-case hex string of `digits` digits. */
  hex(digits: number): string {
    let s = '';
    while (s.length < digits) s += this.u32().toString(16).padStart(8, '0');
    return s.slice(0, digits);
  }
}

/**
 * A bijection on [0, 2^bits): distinct counters give distinct outputs. Used to hand out
 * client addresses that never repeat within a window without remembering the ones used.
 */
export function permute(x: number, bits: number, key: number): number {
  const mask = bits >= 32 ? 0xffffffff : (1 << bits) - 1;
  let v = (x ^ key) & mask;
  for (let round = 0; round < 3; round++) {
    v = Math.imul(v, 0x2c1b3c6d | 1) & mask; // odd multiplier: invertible mod 2^bits
    v ^= v >>> Math.max(1, bits >>> 1); // xorshift right: invertible
    v = (v + (key >>> (round * 3))) & mask;
  }
  return v >>> 0;
}
