import { describe, expect, it } from 'vitest';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { scanArena, type HeldSorter, type ScanArena } from '../dist/src/engine/scan-wasm.js';
import { allocBatch, type FlowBatchData } from '../dist/src/flow/batch.js';

// A file of its own: its thread's first memories are shared ones (scan-wasm.ts SHARED_BUDGET),
// so a held buffer's memory can hold its table (ScanArena.hostIn).
const INBOUND = 1;
const W = 3600;
const built = scanArena() !== null;

/** Records of `keys` keys (some IPv6, some with unknown or wide counts), each key `repeat` times over the batches. */
function batches(seed: number, count: number, size: number, keys: number): FlowBatchData[] {
  let x = seed;
  const r = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
  const out: FlowBatchData[] = [];
  for (let k = 0; k < count; k++) {
    const b = allocBatch(size);
    b.strings = ['', 'acct-a', 'eu-west-1'];
    for (let i = 0; i < size; i++) {
      const key = r() % keys;
      const o = i * 4;
      if (key % 31 === 0) b.src.set([0x20010db8, 0, key, 7], o);
      else b.src.set([0, 0, 0xffff, Math.imul(key, 2654435761) >>> 0], o);
      b.dst.set([0, 0, 0xffff, 0x0a000000 + (r() % 40)], o);
      b.feed[i] = INBOUND;
      b.proto[i] = 6;
      b.dport[i] = [22, 443, 3389][key % 3]!;
      b.account[i] = 1;
      b.region[i] = 2;
      b.start[i] = 1_700_000_000 + (r() % (2 * W));
      b.end[i] = b.start[i]! + (r() % 60);
      b.packets[i] = key % 17 === 0 ? NaN : key % 23 === 0 ? 2 ** 40 : 1 + (r() % 9);
      b.bytes[i] = 40 + (r() % 5000);
    }
    b.n = size;
    out.push(b);
  }
  return out;
}

interface Inside {
  arena: ScanArena | null;
  pending: { sorter: HeldSorter | null } | null;
}
const inside = (t: ScanTable) => t as unknown as Inside;
/** Where the arena lies: the end of its region in its held buffer's memory (0: a memory of its own). */
const hostEnd = (a: ScanArena) => (a as unknown as { hostEnd: number }).hostEnd;

function contents(t: ScanTable) {
  const s = t.exportState();
  return {
    n: s.n,
    words: Buffer.from(s.words.buffer, s.words.byteOffset, s.words.byteLength).toString('base64'),
    counts: Buffer.from(s.counts.buffer, s.counts.byteOffset, s.counts.byteLength).toString('base64'),
    v6: [...s.v6],
  };
}

describe.skipIf(!built)('a table in its held buffer\'s memory (scan-wasm.ts ScanArena.hostIn)', () => {
  it('adds each sorted part where it was sorted: the table grown there in place, moved out in the middle of a part, or left for JavaScript arrays', () => {
    const input = batches(3, 6, 6000, 20000);
    // the reference: JavaScript arrays and loop
    const js = new ScanTable(W, 1 << 8, 1, 1 << 14, null);
    for (const b of input) js.addBatch(b);
    const want = contents(js);
    expect(want.n).toBeGreaterThan(15000);

    // in the held buffer's memory from the first hold on, grown there through each resize (a small table)
    const inPlace = new ScanTable(W, 1 << 8, 1, 1 << 14, scanArena());
    inPlace.addBatch(input[0]!);
    const arena = inPlace.arena!;
    expect(hostEnd(arena)).toBeGreaterThan(0);
    for (const b of input.slice(1)) inPlace.addBatch(b);
    inPlace.flush();
    expect(inPlace.arena).toBe(arena);
    expect(hostEnd(arena)).toBeGreaterThan(0);
    expect(contents(inPlace)).toEqual(want);

    // another place after the table (another thread's): its first resize, in the first part of the first flush, moves it to a memory of its own
    const movedOut = new ScanTable(W, 1 << 8, 1, 1 << 14, scanArena());
    movedOut.addBatch(input[0]!);
    expect(hostEnd(movedOut.arena!)).toBeGreaterThan(0);
    inside(movedOut).pending!.sorter!.arena.memory.grow(1);
    for (const b of input.slice(1)) movedOut.addBatch(b);
    movedOut.flush();
    expect(movedOut.arena).not.toBeNull();
    expect(hostEnd(movedOut.arena!)).toBe(0);
    expect(contents(movedOut)).toEqual(want);

    // a table that may not take more than a few hundred kB leaves the arena in the middle of a part
    for (const maxBytes of [400_000, 900_000]) {
      const left = new ScanTable(W, 1 << 8, 1, 1 << 14, scanArena(maxBytes));
      left.addBatch(input[0]!);
      expect(hostEnd(left.arena!)).toBeGreaterThan(0);
      for (const b of input.slice(1)) left.addBatch(b);
      left.flush();
      expect(left.arena).toBeNull();
      expect(contents(left)).toEqual(want);
    }
  });
});
