/**
 * A stage of a batch's columns in a module's memory (src/engine/batch-stage.ts): each column
 * where the order puts it (the modules read them at those offsets), and a copy of records
 * [from, from + n) of every column or of those named.
 */
import { describe, expect, it } from 'vitest';
import { BatchStage, stageRecordBytes } from '../dist/src/engine/batch-stage.js';
import { allocBatch } from '../dist/src/flow/batch.js';

describe('BatchStage', () => {
  it('lays the columns out one after another, in the order given, cap records each', () => {
    // widest first, as the callers order them: a view's offset must be a multiple of its element's size
    const columns = ['packets', 'src', 'account', 'dport', 'feed'] as const;
    expect(stageRecordBytes(columns)).toBe(8 + 16 + 4 + 2 + 1);
    const s = new BatchStage(new ArrayBuffer(4096), 64, 10, columns);
    expect(s.views.packets.byteOffset).toBe(64);
    expect(s.views.src.byteOffset).toBe(64 + 80);
    expect(s.views.src.length).toBe(40);
    expect(s.views.account.byteOffset).toBe(64 + 80 + 160);
    expect(s.views.account).toBeInstanceOf(Uint32Array);
    expect(s.views.dport.byteOffset).toBe(64 + 80 + 160 + 40);
    expect(s.views.feed.byteOffset).toBe(64 + 80 + 160 + 40 + 20);
    expect(s.views.feed.length).toBe(10);
  });

  it('copies records [from, from + n) of each column, or of the columns named', () => {
    const b = allocBatch(32);
    b.n = 32;
    for (let i = 0; i < 32; i++) {
      b.packets[i] = i + 0.5;
      b.feed[i] = i;
      b.account[i] = 1000 + i;
      for (let w = 0; w < 4; w++) b.src[i * 4 + w] = i * 10 + w;
    }
    const aligned = 8 + 16 + 4 + 1; // packets first: the f64 column lies at an 8-byte offset
    const s = new BatchStage(new ArrayBuffer(16 * aligned + 64), 0, 16, ['packets', 'src', 'account', 'feed'] as const);
    s.copy(b, 5, 3, ['feed']);
    expect(Array.from(s.views.feed.subarray(0, 4))).toEqual([5, 6, 7, 0]);
    expect(s.views.packets[0]).toBe(0); // not named: not copied
    s.copy(b, 20, 2);
    expect(Array.from(s.views.packets.subarray(0, 3))).toEqual([20.5, 21.5, 0]);
    expect(Array.from(s.views.src.subarray(0, 9))).toEqual([200, 201, 202, 203, 210, 211, 212, 213, 0]);
    expect(Array.from(s.views.account.subarray(0, 3))).toEqual([1020, 1021, 0]);
    expect(Array.from(s.views.feed.subarray(0, 3))).toEqual([20, 21, 7]);
  });
});
