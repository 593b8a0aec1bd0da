import { describe, expect, it } from 'vitest';
import { V6Intern } from '../dist/src/engine/v6-intern.js';

describe('V6Intern', () => {
  it('gives each IPv6 address one id through growth, and its words back', () => {
    const t = new V6Intern();
    const n = 5000; // past several growths of the words and rehashes of the index
    const w = new Uint32Array(n * 4);
    for (let i = 0; i < n; i++) w.set([0x20010db8, i >>> 3, 0xffff0000 + i, Math.imul(i, 0x9e3779b1) >>> 0], i * 4);
    const ids = Array.from({ length: n }, (_, i) => t.intern(w, i * 4));
    expect(ids).toEqual(Array.from({ length: n }, (_, i) => i)); // new addresses numbered in order
    expect(t.n).toBe(n);
    for (let i = n - 1; i >= 0; i -= 7) expect(t.intern(w, i * 4)).toBe(i); // a repeat keeps its id
    expect(t.n).toBe(n);
    const out = new Uint32Array(4);
    for (let i = 0; i < n; i += 13) {
      t.wordsOf(i, true, out);
      expect(Array.from(out)).toEqual(Array.from(w.subarray(i * 4, i * 4 + 4)));
      expect(t.find(w, i * 4)).toBe(i);
    }
    expect(t.find(Uint32Array.of(0x20010db8, 1, 2, 3), 0)).toBe(-1);
  });

  it('keeps IPv4-mapped addresses as their IPv4 word (wordOf)', () => {
    const t = new V6Intern();
    const v4 = Uint32Array.of(0, 0, 0xffff, 0xc0000201);
    expect(t.wordOf(v4, 0)).toBe(0xc0000201);
    expect(t.wasV6).toBe(false);
    const v6 = Uint32Array.of(0x20010db8, 0, 0, 1);
    expect(t.wordOf(v6, 0)).toBe(0);
    expect(t.wasV6).toBe(true);
    expect(t.n).toBe(1);
  });

  it('numbers addresses by first appearance with repeats and tag collisions, past the tagged ids (plain slots from then on)', () => {
    // a reference: ids in order of first appearance (a Map of the four words)
    const n = 3000;
    const w = new Uint32Array(n * 4);
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
    for (let i = 0; i < n; i++) {
      // every fifth record repeats an earlier address (the shape of a run: many new, some again)
      if (i > 10 && i % 5 === 0) w.copyWithin(i * 4, (next() % i) * 4, (next() % i) * 4 + 4);
      else w.set([0x26001f18, next(), 0, next() & 4095], i * 4);
    }
    const expected = new Map<string, number>();
    const want = Array.from({ length: n }, (_, i) => {
      const key = Array.from(w.subarray(i * 4, i * 4 + 4)).join(':');
      if (!expected.has(key)) expected.set(key, expected.size);
      return expected.get(key)!;
    });
    for (const tagged of [1 << 24, 64, 1]) {
      const t = new V6Intern(tagged);
      expect(Array.from({ length: n }, (_, i) => t.intern(w, i * 4))).toEqual(want);
      expect(t.n).toBe(expected.size);
      for (let i = 0; i < n; i += 11) expect(t.find(w, i * 4)).toBe(want[i]);
      expect(t.find(Uint32Array.of(0x26001f18, 1, 2, 3), 0)).toBe(-1);
      // internAll (the held path's loop): the same ids, in lists of 1 to 700 addresses, through the growths
      const u = new V6Intern(tagged);
      const ids = new Uint32Array(n);
      for (let i = 0, m = 1; i < n; i += m, m = (m * 7) % 701) u.internAll(w.subarray(i * 4, Math.min(n, i + m) * 4), Math.min(m, n - i), ids.subarray(i));
      expect(Array.from(ids)).toEqual(want);
      expect(u.n).toBe(expected.size);
      expect(u.bytes).toBe(t.bytes); // grown at the same ids
      for (let i = 0; i < n; i += 11) expect(u.find(w, i * 4)).toBe(want[i]);
    }
  });
});
