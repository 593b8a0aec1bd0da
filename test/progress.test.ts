/**
 * The progress a run reports (the CLI's progress line, --log-format json's records): at the
 * end every file is done, every byte read and every record counted, whether the files were
 * read many to a task (small gzip objects: their task's own figures are 0, the files' rows
 * carry them), alone, or in chunks.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, writeV2, type Flow } from './helpers/aws.js';
import { detect } from '../dist/src/engine/run.js';
import { figures } from '../dist/src/cli/progress.js';

const T0 = 1718000000;
const dir = tempDir('flowsieve-progress-');
const objects = join(dir, 'objects');
const big = join(dir, 'big.log');

beforeAll(() => {
  const flows: Flow[] = [];
  for (let s = 0; s < 20; s++) flows.push(...scanner(`45.2.${s}.1`, 12, { start: T0 + s * 60, dport: 22 }));
  for (let i = 0; i < 3000; i++) flows.push({ src: `81.${(i >> 8) & 255}.${i & 255}.7`, dst: `10.1.${i % 200}.9`, dport: 443, start: T0 + i });
  mkdirSync(objects);
  const per = Math.ceil(flows.length / 80);
  for (let f = 0; f < 80; f++) writeV2(join(objects, `${String(f).padStart(3, '0')}.log.gz`), flows.slice(f * per, (f + 1) * per), { gzip: true });
  writeV2(big, flows);
});

type Seen = { bytesDone: number; bytesTotal: number; records: number; filesDone?: number; filesTotal?: number };

async function lastProgress(inputs: string[], over: Record<string, unknown>): Promise<{ last: Seen; records: number; calls: number }> {
  let last: Seen | undefined;
  let calls = 0;
  const r = await detect(detectOpts(inputs, { ...over, onProgress: (p: Seen) => ((last = p), calls++) }));
  return { last: last!, records: r.totals.records, calls };
}

describe('run progress', () => {
  for (const workers of [1, 2]) {
    it(`counts the files, bytes and records of small objects read many to a task (${workers} workers)`, async () => {
      const { last, records, calls } = await lastProgress([objects], { workers });
      expect(records).toBeGreaterThan(3000);
      expect(calls).toBeGreaterThan(0);
      expect(last.filesTotal).toBe(80);
      expect(last.filesDone).toBe(80);
      expect(last.records).toBe(records);
      expect(last.bytesTotal).toBeGreaterThan(0);
      expect(last.bytesDone).toBe(last.bytesTotal);
      expect(figures({ ...last, elapsed: 1 }).eta_seconds).toBe(0);
    }, 30_000);
  }

  it('counts a text file read in chunks, and a mix of both', async () => {
    const { last, records } = await lastProgress([big, objects], { workers: 2, chunkBytes: 65536 });
    expect(last.filesTotal).toBe(81);
    expect(last.filesDone).toBe(81);
    expect(last.records).toBe(records);
    expect(last.bytesDone).toBe(last.bytesTotal);
  }, 30_000);
});
