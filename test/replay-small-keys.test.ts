// Grouping a twin's inbound rows by scan key (src/engine/scan-ingest.ts dropSmallKeys): the
// run-by-run grouping of sorted IPv4 rows must equal the hashed one, and refuse any other rows.
import { describe, expect, it } from 'vitest';
import { groupKeys, groupSortedKeys, KEY_WORDS, type SmallKeyScratch } from '../dist/src/engine/scan-ingest.js';
import { F_SRC6 } from '../dist/src/engine/scan-layout.js';

type Row = [src: number, pp: number, window: number, dst: number, v6?: boolean];

function keyWords(rows: Row[]): Uint32Array {
  const k = new Uint32Array(rows.length * KEY_WORDS);
  rows.forEach(([src, pp, w, dst, v6], j) => {
    k.set([src, pp, w, 0, dst, v6 ? F_SRC6 << 16 : 0], j * KEY_WORDS);
  });
  return k;
}

function scratch(m: number): SmallKeyScratch {
  const n = Math.max(16, m * 2);
  return { keySlots: new Int32Array(n), keyFirst: new Int32Array(n), keyRows: new Int32Array(n), keyOf: new Int32Array(n), entrySlots: new Int32Array(n) };
}

/** Each row's key as the set of rows sharing it, and the rows of each key (independent of key numbering). */
function grouping(z: SmallKeyScratch, keys: number, m: number): string[] {
  const members: number[][] = Array.from({ length: keys }, () => []);
  for (let j = 0; j < m; j++) members[z.keyOf[j]!]!.push(j);
  members.forEach((rows, q) => expect(z.keyRows[q]).toBe(rows.length));
  return members.map((r) => r.join(',')).sort();
}

describe('small keys: grouping a twin\'s rows by scan key', () => {
  it('sorted IPv4 rows grouped run by run as the hash groups them (windows interleaved within a run)', () => {
    const rows: Row[] = [
      [1, 80, 5, 9], [1, 80, 6, 9], [1, 80, 5, 10], [1, 80, 6, 11], [1, 443, 5, 9], [2, 80, 5, 9], [2, 80, 5, 10], [0xfffffff0, 22, 7, 1],
    ];
    const k = keyWords(rows);
    const a = scratch(rows.length);
    const b = scratch(rows.length);
    const sorted = groupSortedKeys(k, rows.length, a);
    const hashed = groupKeys(k, rows.length, 15, b);
    expect(sorted).toBe(5);
    expect(hashed).toBe(5);
    expect(grouping(a, sorted, rows.length)).toEqual(grouping(b, hashed, rows.length));
  });

  it('refuses rows out of order, an IPv6 source, and a run of too many windows (the hash groups them)', () => {
    const z = scratch(200);
    expect(groupSortedKeys(keyWords([[2, 80, 5, 9], [1, 80, 5, 9]]), 2, z)).toBe(-1);
    expect(groupSortedKeys(keyWords([[1, 443, 5, 9], [1, 80, 5, 9]]), 2, z)).toBe(-1);
    expect(groupSortedKeys(keyWords([[1, 80, 5, 9], [1, 80, 5, 9, true]]), 2, z)).toBe(-1);
    const many: Row[] = Array.from({ length: 70 }, (_, w) => [1, 80, w, 9]);
    expect(groupSortedKeys(keyWords(many), many.length, z)).toBe(-1);
    expect(groupSortedKeys(keyWords(many.slice(0, 64)), 64, z)).toBe(64);
  });
});
