/**
 * The shards add their held-back records near the end of the parse (src/engine/tail.ts), at
 * a moment that depends on timing, not at the finalisation: the results must be those of
 * FLOWSIEVE_TAIL=serial, at any worker count and file order.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, shuffled, writeV2, type Flow } from './helpers/aws.js';
import { detect } from '../dist/src/engine/run.js';
import { EARLY_FLUSHES, earlyFlushesNamed, earlyFlushShares, flushesDue } from '../dist/src/engine/tail.js';

const T0 = 1718000000;
const FILES = 120;
const dir = tempDir('flowsieve-tailflush-');
const inOrder = join(dir, 'in-order');
const reversed = join(dir, 'reversed');

/**
 * 120 small gzip objects (several 'files' tasks, so the flushes come before the last): 60
 * scanners whose probes are spread over all of them, near misses (bytes too varied), outbound
 * sweeps from inside, and one-off benign records.
 */
beforeAll(() => {
  const flows: Flow[] = [];
  for (let s = 0; s < 60; s++) flows.push(...scanner(`45.${s >> 4}.${s & 15}.1`, 8 + ((s * 7) % 40), { start: T0 + s * 61, dport: [22, 23, 445, 3389][s % 4]! }));
  // near misses: many endpoints, but bytes that vary too much for a scan
  for (let s = 0; s < 8; s++) flows.push(...scanner(`46.1.${s}.1`, 14 + s, { start: T0 + s * 17, dport: 80 }).map((f, k) => ({ ...f, bytes: 40 + ((k * k * 997) % 9000) })));
  for (let h = 0; h < 6; h++) {
    for (let k = 0; k < 120; k++) flows.push({ src: `10.9.${h}.4`, dst: `52.${h}.${k >> 4}.${k & 15}`, dport: 22, start: T0 + k * 13, action: 'ACCEPT' });
  }
  for (let i = 0; i < 4000; i++) flows.push({ src: `81.${(i >> 8) & 255}.${i & 255}.7`, dst: `10.1.${i % 200}.9`, dport: 443, start: T0 + i * 3 });
  const mixed = shuffled(flows, 7);
  const per = Math.ceil(mixed.length / FILES);
  mkdirSync(inOrder);
  mkdirSync(reversed);
  for (let f = 0; f < FILES; f++) {
    const part = mixed.slice(f * per, (f + 1) * per);
    const name = (k: number): string => `${String(k).padStart(4, '0')}.log.gz`;
    writeV2(join(inOrder, name(f)), part, { gzip: true });
    writeV2(join(reversed, name(FILES - 1 - f)), [...part].reverse(), { gzip: true });
  }
});

afterEach(() => {
  delete process.env.FLOWSIEVE_TAIL;
});

async function run(input: string, workers: number, tail?: string): Promise<unknown> {
  if (tail) process.env.FLOWSIEVE_TAIL = tail;
  else delete process.env.FLOWSIEVE_TAIL;
  const r = await detect(detectOpts([input], { workers, pipeline: 'sharded', nearMisses: true }));
  const { scans, nearMisses, endpointDays, alerts, keys, entries, totals } = r;
  // the findings come in shard and entry order (the alerts made of them do not): compared as a set
  const findings = r.findings.map((f: unknown) => JSON.stringify(f)).sort();
  return { scans, nearMisses, endpointDays, findings, alerts, keys, entries, totals };
}

describe('held-back records added near the end of the parse', () => {
  it('give the results of adding them at the finalisation, at 1 and 2 workers and in either file order', async () => {
    const serial = (await run(inOrder, 1, 'serial')) as { scans: unknown[]; nearMisses: unknown[]; findings: unknown[] };
    expect(serial.scans.length).toBeGreaterThan(20);
    expect(serial.nearMisses.length).toBeGreaterThan(0);
    expect(serial.findings.length).toBeGreaterThan(0);
    for (const workers of [1, 2]) {
      expect(await run(inOrder, workers)).toEqual(serial);
      expect(await run(reversed, workers)).toEqual(serial);
    }
    expect(await run(reversed, 2, 'serial')).toEqual(serial);
  }, 60_000);

  it('give the serial results with the shares FLOWSIEVE_TAIL names', async () => {
    const serial = await run(inOrder, 1, 'serial');
    expect(await run(reversed, 1, '0.5,0.8')).toEqual(serial);
    expect(await run(inOrder, 2, '0.95')).toEqual(serial);
  }, 60_000);

  it('flush once for every share of the input passed, however many one task passes', () => {
    expect(EARLY_FLUSHES.length).toBeGreaterThan(0);
    expect(flushesDue(0, 1000, EARLY_FLUSHES)).toBe(0);
    expect(flushesDue(EARLY_FLUSHES[0]! * 1000 - 1, 1000, EARLY_FLUSHES)).toBe(0);
    expect(flushesDue(EARLY_FLUSHES[0]! * 1000, 1000, EARLY_FLUSHES)).toBe(1);
    expect(flushesDue(1000, 1000, EARLY_FLUSHES)).toBe(EARLY_FLUSHES.length);
    expect(flushesDue(1000, 1000, [])).toBe(0);
  });

  it('take their shares from FLOWSIEVE_TAIL', () => {
    expect(earlyFlushShares()).toEqual(EARLY_FLUSHES);
    expect(earlyFlushesNamed()).toBe(false);
    process.env.FLOWSIEVE_TAIL = 'serial';
    expect(earlyFlushShares()).toEqual([]);
    expect(earlyFlushesNamed()).toBe(false);
    process.env.FLOWSIEVE_TAIL = '0.97,0.5';
    expect(earlyFlushShares()).toEqual([0.5, 0.97]);
    expect(earlyFlushesNamed()).toBe(true);
    process.env.FLOWSIEVE_TAIL = 'often';
    expect(earlyFlushShares()).toEqual(EARLY_FLUSHES);
    expect(earlyFlushesNamed()).toBe(false);
  });
});
