import { describe, expect, it } from 'vitest';
import { compareVerdicts, sortVerdicts, type Ordered } from '../dist/src/engine/order.js';

/** A source's words: IPv4-mapped (::ffff:a.b.c.d) or IPv6, with words past 2^31 (doubles in V8) too. */
function words(rand: () => number): number[] {
  if (rand() < 0.6) return [0, 0, 0xffff, pick(rand, [0, 1, 0x7fffffff, 0x80000000, 0xc0a80001, 0xffffffff, Math.floor(rand() * 2 ** 32)])];
  return [pick(rand, [0, 0x20010db8, 0xfe800000, 0xffffffff]), pick(rand, [0, 1, 0x80000000]), pick(rand, [0, 0xffff, 0x12345678]), Math.floor(rand() * 2 ** 32)];
}

function pick<T>(rand: () => number, xs: T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

/** A small seeded generator (mulberry32): the same verdicts every run. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

type Tagged = Ordered & { tag: number };

function verdicts(n: number, seed: number): Tagged[] {
  const rand = seeded(seed);
  const out: Tagged[] = [];
  for (let i = 0; i < n; i++) {
    // few distinct values a field, so that ties (kept in their order) are many
    out.push({ window: pick(rand, [0, 1, 7, 70000, 2 ** 32 - 1]), srcWords: words(rand), protocol: pick(rand, [1, 6, 17]), dstPort: pick(rand, [0, 22, 443, 65535]), tag: i });
  }
  return out;
}

describe('sortVerdicts', () => {
  it('orders as a stable sort by compareVerdicts', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const list = verdicts(2000, seed);
      const copy = list.slice();
      const got = sortVerdicts(list);
      expect(got.map((v) => v.tag)).toEqual(list.slice().sort(compareVerdicts).map((v) => v.tag));
      expect(list).toEqual(copy); // the input is left as it was
    }
  });

  it('keeps equal verdicts in their order, and takes empty and single lists', () => {
    const same = Array.from({ length: 5 }, (_, tag) => ({ window: 3, srcWords: [0, 0, 0xffff, 0x01020304], protocol: 6, dstPort: 22, tag }));
    expect(sortVerdicts(same).map((v) => v.tag)).toEqual([0, 1, 2, 3, 4]);
    expect(sortVerdicts([])).toEqual([]);
    expect(sortVerdicts([same[0]!])).toEqual([same[0]]);
  });

  it('sorts fields no key holds (a negative or fractional window, a port past 32 bits) by the comparator', () => {
    const odd: Tagged[] = [
      { window: 2, srcWords: [0, 0, 0xffff, 5], protocol: 6, dstPort: 1, tag: 0 },
      { window: -1, srcWords: [0, 0, 0xffff, 5], protocol: 6, dstPort: 1, tag: 1 },
      { window: 1.5, srcWords: [0, 0, 0xffff, 5], protocol: 6, dstPort: 2 ** 33, tag: 2 },
      { window: 1.5, srcWords: [0, 0, 0xffff, 5], protocol: 6, dstPort: 3, tag: 3 },
    ];
    expect(sortVerdicts(odd).map((v) => v.tag)).toEqual(odd.slice().sort(compareVerdicts).map((v) => v.tag));
    expect(sortVerdicts(odd).map((v) => v.tag)).toEqual([1, 3, 2, 0]);
  });
});
