/** The packed per-file results of a 'files' task come back as the objects that went in. */
import { describe, expect, it } from 'vitest';
import { FileRows, packFiles, unpackFiles } from '../dist/src/engine/file-results.js';
import { newCounters } from '../dist/src/flow/sink.js';

function result(fileIndex: number, over: Record<string, unknown> = {}): any {
  const counters = newCounters();
  Object.keys(counters).forEach((k, i) => ((counters as any)[k] = fileIndex * 100 + i));
  return {
    fileIndex, chunkIndex: 0, counters, rejects: [], lines: fileIndex * 7 + 1, bytesIn: 2 ** 40 + fileIndex, bytesOut: 3 * fileIndex,
    batches: 0, minStart: Infinity, maxEnd: -Infinity, lateByWindow: [], ...over,
  };
}

describe('packed per-file results', () => {
  it('round-trip every field, with the rare ones only where a file has them', () => {
    const files = [
      result(3, { minStart: 1718000000, maxEnd: 1718000300 }),
      result(4, { rejects: [{ line: 2, offset: 40, reason: 'bad srcport', text: 'x' }] }),
      result(9, { error: { message: 'gzip: unexpected end of file', offset: -1 } }),
      result(12, { planError: 'damaged gzip data: incorrect data check' }),
      result(13, { lateByWindow: [[79500, 4]] }),
      result(14),
    ];
    const packed = packFiles(files);
    expect(packed.extras.map((x: any) => x.row)).toEqual([1, 2, 3, 4]);
    expect(unpackFiles(packed)).toEqual(files);
  });
});

describe('a run\'s packed rows by file index', () => {
  it('give each file its row, its extras, and the files handed back', () => {
    const files = [
      result(7, { minStart: 1718000000, maxEnd: 1718000300 }),
      result(2, { rejects: [{ line: 2, offset: 40, reason: 'bad srcport', text: 'x' }] }),
      result(5, { replan: true }),
      result(0),
    ];
    const rows = new FileRows(9);
    const handedBack: number[] = [];
    rows.add(packFiles(files.slice(0, 2)), (i: number) => handedBack.push(i));
    rows.add(packFiles(files.slice(2)), (i: number) => handedBack.push(i));
    expect(handedBack).toEqual([5]);
    expect([0, 1, 2, 5, 7, 8].map((i) => rows.has(i))).toEqual([true, false, true, true, true, false]);
    expect([0, 2, 5, 7].map((i) => rows.hasExtra(i))).toEqual([false, true, true, false]);
    for (const f of files) expect(rows.result(f.fileIndex)).toEqual(f);
    const rep = { bytes: 0, decompressedBytes: 0, counters: newCounters(), minStart: 0, maxEnd: 0 };
    rows.fill(7, rep);
    expect(rep).toEqual({ bytes: files[0].bytesIn, decompressedBytes: files[0].bytesOut, counters: files[0].counters, minStart: 1718000000, maxEnd: 1718000300 });
    rows.fill(0, { ...rep, counters: newCounters() });
    const totals = newCounters();
    rows.addTotals(totals);
    for (const k of Object.keys(totals)) expect((totals as any)[k]).toBe(files[0].counters[k] + files[3].counters[k]);
    rows.clear(5);
    expect([rows.has(5), rows.hasExtra(5)]).toEqual([false, false]);
  });
});
