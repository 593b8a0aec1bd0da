/**
 * A large gzip file is inflated by the main thread and parsed in pieces by every parse
 * thread (run.ts gzipPieces). Whatever the file holds (good lines, bad lines, a cut, a
 * bomb), the result must be the one the one-thread reader gives: same verdicts, same
 * counts, same rejects with the same line numbers, same error with the same line.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, v2Line, V2_HEADER, type Flow } from './helpers/aws.js';
import { detect } from '../dist/src/engine/run.js';
import { accountingGap } from '../dist/src/flow/sink.js';

const T0 = 1718000000;
const dir = tempDir('flowsieve-gzsplit-');
const P = (name: string) => join(dir, name);

function lines(): string[] {
  const flows: Flow[] = [];
  for (let s = 0; s < 40; s++) flows.push(...scanner(`45.9.${s}.1`, 5 + (s % 30), { start: T0 + s * 97, dport: [22, 23, 445][s % 3]! }));
  for (let i = 0; i < 20000; i++) flows.push({ src: `81.${(i >> 8) & 255}.${i & 255}.7`, dst: `10.1.${i % 200}.9`, dport: 443, start: T0 + (i % 5000) });
  const out = flows.map(v2Line);
  // bad lines here and there, so that reject line numbers are checked across pieces
  for (let k = 1; k <= 30; k++) out.splice(k * 701, 0, k % 2 ? 'this is not a flow record' : v2Line({ src: '300.1.1.1', dst: '10.0.0.1', dport: 22, start: T0 }));
  return [V2_HEADER, ...out];
}

beforeAll(() => {
  const text = lines().join('\n') + '\n';
  const gz = gzipSync(Buffer.from(text));
  writeFileSync(P('whole.log.gz'), gz);
  writeFileSync(P('cut.log.gz'), gz.subarray(0, Math.floor(gz.length * 0.55)));
  writeFileSync(P('bomb.log.gz'), gz); // read with a small --max-decompressed-bytes
});

async function both(file: string, over: Record<string, unknown> = {}) {
  const run = (split: boolean) =>
    detect(detectOpts([P(file)], { workers: 2, nearMisses: true, chunkBytes: 64 << 10, gzipSplitBytes: split ? 0 : Infinity, ...over }));
  const [one, split] = [await run(false), await run(true)];
  return { one, split };
}

const view = (r: any) => ({
  scans: r.scans,
  nearMisses: r.nearMisses,
  totals: r.totals,
  files: r.files.map((f: any) => ({ ...f })),
  rejects: r.rejects,
  partial: r.partial,
});

describe('one large gzip file parsed by every parse thread', () => {
  it('gives the verdicts, counts, rejects and byte counts of the one-thread reader', async () => {
    const { one, split } = await both('whole.log.gz');
    expect(view(split)).toEqual(view(one));
    expect(split.scans.length).toBeGreaterThan(20);
    expect(split.rejects).toHaveLength(30);
    expect(split.files[0].bytes).toBe(statSync(P('whole.log.gz')).size);
    expect(accountingGap(split.files[0].counters)).toBe(0);
  }, 60_000);

  it('a truncated file: the same lines are read, the same line is truncated, the same error names it', async () => {
    const { one, split } = await both('cut.log.gz');
    expect(view(split)).toEqual(view(one));
    expect(split.files[0].error).toMatch(/the file is truncated \(stopped after \d+ decompressed bytes, in line \d+\)/);
    expect(split.rejects.at(-1)).toMatchObject({ reason: 'input ends inside this line (truncated file)' });
    expect(accountingGap(split.files[0].counters)).toBe(0);
  }, 60_000);

  it('a file inflating past --max-decompressed-bytes stops at the same byte and line', async () => {
    const { one, split } = await both('bomb.log.gz', { maxDecompressedBytes: 300_000 });
    expect(view(split)).toEqual(view(one));
    expect(split.files[0].error).toMatch(/a gzip bomb\?\): stopped after 300000 decompressed bytes, in line \d+/);
    expect(split.files[0].decompressedBytes).toBe(300_000);
  }, 60_000);
});
