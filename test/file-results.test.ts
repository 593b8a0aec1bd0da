/** The packed per-file results of a 'files' task come back as the objects that went in. */
import { describe, expect, it } from 'vitest';
import { packFiles, unpackFiles } from '../dist/src/engine/file-results.js';
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
