import { describe, expect, it } from 'vitest';
import { heldSorter, scanArena } from '../dist/src/engine/scan-wasm.js';
import { HELD_WORDS } from '../dist/src/engine/scan-layout.js';

// A file of its own: the budget of shared memory is the thread's (each test file runs in a fresh process).
const built = scanArena() !== null; // dist/wasm/ built with AssemblyScript

describe.skipIf(!built)('the table and held buffer memories (src/engine/scan-wasm.ts newArena)', () => {
  it('are shared memories while a thread has made less than 256 MB of them, plain ones past that, and both hold and sort rows alike', () => {
    const rows = 4096;
    const first = heldSorter(rows, 256, 3600)!;
    expect(first.rec.buffer).toBeInstanceOf(SharedArrayBuffer);
    // two held buffers of ~150 MB each (address space: their pages are never touched) spend the rest of the budget
    const big = [heldSorter(3_000_000, 256, 3600)!, heldSorter(3_000_000, 256, 3600)!];
    expect(big[0]!.rec.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(big[1]!.rec.buffer).toBeInstanceOf(ArrayBuffer);
    const plain = big[1]!;
    // what is left of the budget still goes to a memory that fits in it
    expect(heldSorter(rows, 256, 3600)!.rec.buffer).toBeInstanceOf(SharedArrayBuffer);
    // the same part sorted by bucket (then key hash) in each: the shared module and the plain one give the same rows
    const sorted = [first, plain].map((s) => {
      const m = 200; // a part holds 256 rows at most (partCap)
      for (let r = 0; r < m; r++) { // rows of HELD_WORDS words, in bucket (r * 37) % 64 (the region word's bits 20-31)
        for (let w = 0; w < HELD_WORDS; w++) s.rec[r * HELD_WORDS + w] = r * 100 + w;
        s.rec[r * HELD_WORDS + 5] = (((r * 37) % 64) << 20) | (r * 100 + 5);
      }
      s.sort(0, m);
      return [Array.from(s.sorted.subarray(0, m * HELD_WORDS)), Array.from(s.start)];
    });
    expect(sorted[0]).toEqual(sorted[1]);
    // bucket 0's four rows (0, 64, 128, 192) first, in the order of their key hashes' top bit
    const [words, starts] = sorted[0]!;
    expect(starts!.slice(0, 2)).toEqual([0, 4]);
    expect([0, 1, 2, 3].map((j) => words![j * HELD_WORDS]! / 100).sort((a, b) => a - b)).toEqual([0, 64, 128, 192]);
  });

  it('are plain memories under FLOWSIEVE_SHARED_ARENA=off, and shared again without it (read at each memory)', () => {
    process.env.FLOWSIEVE_SHARED_ARENA = 'off';
    try {
      expect(heldSorter(4096, 256, 3600)!.rec.buffer).toBeInstanceOf(ArrayBuffer);
    } finally {
      delete process.env.FLOWSIEVE_SHARED_ARENA;
    }
    expect(heldSorter(4096, 256, 3600)!.rec.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  // last: it spends the budget
  it("are shared for a thread's first table past the budget, once (tail.ts: its finalisation is shared), and plain after it", () => {
    const tables = [scanArena()!, scanArena()!];
    for (const t of tables) expect(t.place(4_000_000, 0, 6_000_000, false)).toBe(true); // ~440 MB each, untouched
    expect(tables.map((t) => t.shareable)).toEqual([true, false]);
    expect(heldSorter(4096, 256, 3600)!.rec.buffer).toBeInstanceOf(ArrayBuffer);
  });
});
