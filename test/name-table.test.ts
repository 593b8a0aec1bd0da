/**
 * The NetFlow and Zeek readers' name tables are built at their first lookup, not as the parse
 * code loads (issue 19: a parse thread's start): the first lookup, a hit or a miss, answers as
 * a table built at once would.
 */
import { describe, expect, it } from 'vitest';
import { NameTable } from '../dist/src/formats/netflow-common.js';

const ENTRIES: Array<readonly [string, number]> = [['tcp', 6], ['TCP', 7], ['udp', 17], ['icmp', 1], ['unknown_transport', 0]];
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

describe('NameTable', () => {
  it('answers its first lookup, a miss or a hit, and every later one, as a built table', () => {
    for (const first of ['gre', 'UDP', '', 'x'.repeat(70)]) {
      const t = new NameTable(ENTRIES);
      const b = bytes(`..${first}..`);
      expect(t.lookup(b, 2, 2 + first.length)).toBe(first === 'UDP' ? 17 : -1);
      expect(t.get('TcP')).toBe(6); // the first of two entries of one name wins
      expect(t.get('icmp')).toBe(1);
      expect(t.get('unknown_transport')).toBe(0);
      expect(t.get('ipv6-icmp')).toBe(-1);
    }
  });

  it('holds many names (a table larger than its first slot)', () => {
    const t = new NameTable(Array.from({ length: 300 }, (_, i) => [`name${i}`, i] as const));
    for (let i = 299; i >= 0; i -= 7) expect(t.get(`NAME${i}`)).toBe(i);
    expect(t.get('name300')).toBe(-1);
  });
});
