/**
 * ByteDict (src/flow/dict.ts) grows its arena and its slot table through the same paths
 * from its constructor on (so that V8 has type feedback for them), and copies a new
 * string's bytes itself: ids must stay first-seen order, strings exact, whether the bytes
 * come in a Buffer or a plain Uint8Array, across many growths of both.
 */
import { describe, expect, it } from 'vitest';
import { ByteDict } from '../dist/src/flow/dict.js';

const enc = new TextEncoder();

describe('ByteDict', () => {
  it('keeps ids and strings across arena growth and rehashes, for Buffers and Uint8Arrays alike', () => {
    const d = new ByteDict();
    expect(d.size).toBe(1);
    expect(d.idOf('')).toBe(0);
    // long values grow the arena (4 KiB at first) many times; 5,000 values rehash the slots
    const values = Array.from({ length: 5000 }, (_, i) => `eni-${i.toString(16)}-${'é'.repeat(i % 7)}${'x'.repeat(i % 300)}`);
    values.forEach((v, i) => {
      const bytes = enc.encode(`<<${v}>>`);
      const id = i % 2 === 0 ? d.idOfBytes(bytes, 2, bytes.length - 2) : d.idOf(v);
      expect(id).toBe(i + 1);
    });
    expect(d.size).toBe(values.length + 1);
    values.forEach((v, i) => {
      expect(d.strings[i + 1]).toBe(v);
      const b = Buffer.from(`..${v}`);
      expect(d.idOfBytes(b, 2, b.length)).toBe(i + 1);
      expect(d.idOf(v)).toBe(i + 1);
    });
    expect(d.idOfBytes(enc.encode('abc'), 1, 1)).toBe(0);
  });
});
