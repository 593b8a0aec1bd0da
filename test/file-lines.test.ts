/** files.ndjson, written field by field, is what JSON.stringify writes of each file's object. */
import { describe, expect, it } from 'vitest';
import { fileLines } from '../dist/src/output/summary.js';
import { newCounters } from '../dist/src/flow/sink.js';

const snake = (k: string) => k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`);

/** The object form files.ndjson had, stringified. */
function reference(files: any[]): string {
  return files
    .map((f) => {
      const counters: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(f.counters)) counters[snake(k)] = v;
      return JSON.stringify({
        path: f.path, format: f.format, gzip: f.gzip, bytes: f.bytes, decompressed_bytes: f.decompressedBytes, ...counters,
        ...(f.error ? { error: f.error } : {}), ...(f.replay ? { replay: f.replay } : {}),
      }) + '\n';
    })
    .join('');
}

function file(over: Record<string, unknown> = {}): any {
  const counters = newCounters();
  Object.keys(counters).forEach((k, i) => ((counters as any)[k] = i * 1013));
  return { path: 'AWSLogs/1/a.log.gz', format: 'aws-text', gzip: true, bytes: 2 ** 40 + 3, decompressedBytes: 0.5, counters, minStart: 0, maxEnd: 0, lateByWindow: [], ...over };
}

describe('files.ndjson', () => {
  it('equals JSON.stringify of each file, odd values included', () => {
    const files = [
      file(),
      file({ path: 'dir "quoted"\\back\u2028\u0001é🙂.gz', format: null, gzip: false, error: 'cannot read: EACCES ("x")' }),
      file({ bytes: NaN, decompressedBytes: Infinity, error: '' }),
      file({ gzip: undefined, counters: { ...newCounters(), lines: -0, records: -Infinity, nodata: 1e21, rejected: 1.5e-7 } }),
      file({ format: 'replay', replay: { rows: 3, clouds: { aws: 2, gcp: 1 }, note: 'a\nb' } }),
    ];
    expect(fileLines({ files } as any)).toBe(reference(files));
    expect(fileLines({ files: [] } as any)).toBe('');
  });
});
