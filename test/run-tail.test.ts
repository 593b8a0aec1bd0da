/**
 * The serial end of a detect run (issue 19): detectThenClose answers with the results while
 * the engine's threads still stop, whileFinalising runs while shard threads finalise (not
 * for an inline shard), and the enrichment's databases opened ahead (Enricher.prepare) give
 * the same facts as opened at the first lookup.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, v2Line, V2_HEADER, type Flow } from './helpers/aws.js';
import { detect, detectThenClose, type InboundVerdicts } from '../dist/src/engine/run.js';
import { Enricher } from '../dist/src/enrich/index.js';
import { parseAddress } from '../dist/src/net/address.js';
import { discardStaged, runSettings, stageInboundOutputs, stageIngestOutputs, writeResults } from '../dist/src/app/results.js';
import { analyse } from '../dist/src/stats/index.js';

const T0 = 1718000000;
const dir = tempDir('flowsieve-tail-');
const file = join(dir, 'flows.log');

beforeAll(() => {
  const flows: Flow[] = [];
  for (let s = 0; s < 6; s++) flows.push(...scanner(`45.9.${s}.1`, 12 + s, { start: T0 + s * 97, dport: [22, 23, 445][s % 3]! }));
  const lines = flows.map(v2Line);
  lines.splice(40, 0, 'not a flow record', v2Line({ src: '300.1.1.1', dst: '10.0.0.1', dport: 22, start: T0 })); // rejects
  for (let i = 0; i < 500; i++) flows.push({ src: `81.2.${i & 255}.7`, dst: `10.1.${i % 200}.9`, dport: 443, start: T0 + i });
  writeFileSync(file, [V2_HEADER, ...lines, ...flows.slice(lines.length - 2).map(v2Line)].join('\n') + '\n');
});

describe('detectThenClose', () => {
  it('gives the results of detect and calls whileFinalising once while shard threads finalise', async () => {
    let calls = 0;
    const run = await detectThenClose(detectOpts([file], { workers: 2, pipeline: 'sharded', whileFinalising: () => calls++ }));
    expect(calls).toBe(1);
    await run.closed;
    const plain = await detect(detectOpts([file], { workers: 1, pipeline: 'sharded' }));
    expect(run.result.scans.length).toBe(6);
    expect(run.result.scans).toEqual(plain.scans);
    expect(run.result.totals).toEqual(plain.totals);
  });

  it('hands onInboundVerdicts the run\'s inbound verdicts, once, split or not, at one worker or two', async () => {
    for (const [workers, split] of [[1, 'always'], [1, 'off'], [2, 'always']] as const) {
      process.env.FLOWSIEVE_TAILSPLIT = split;
      try {
        const seen: InboundVerdicts[] = [];
        const run = await detectThenClose(detectOpts([file], { workers, pipeline: 'sharded', nearMisses: true, onInboundVerdicts: (v: InboundVerdicts) => seen.push(v) }));
        await run.closed;
        expect(seen.length).toBe(1);
        expect(run.result.scans.length).toBe(6);
        expect(seen[0]!.scans).toEqual(run.result.scans);
        expect(seen[0]!.nearMisses).toEqual(run.result.nearMisses);
        expect(seen[0]!.endpointDays).toEqual(run.result.endpointDays);
      } finally {
        delete process.env.FLOWSIEVE_TAILSPLIT;
      }
    }
  });

  it('does not call whileFinalising when this thread finalises the shard (small input, inline)', async () => {
    let calls = 0;
    const run = await detectThenClose(detectOpts([file], { pipeline: 'auto', whileFinalising: () => calls++ }));
    await run.closed;
    expect(calls).toBe(0);
    expect(run.result.scans.length).toBe(6);
  });

  it('rejects with the error of the run when it fails after the shards have their finalise', async () => {
    const failing = () => {
      throw new Error('while finalising');
    };
    await expect(detectThenClose(detectOpts([file], { workers: 2, pipeline: 'sharded', whileFinalising: failing }))).rejects.toThrow('while finalising');
  });
});

describe('Enricher.prepare', () => {
  it('gives the same facts as databases opened at the first lookup', async () => {
    const ips = ['162.142.125.10', '8.8.8.8', '2001:4860:4860::8888', '10.0.0.1'];
    const addresses = ips.map((t) => ({ text: t, words: parseAddress(t)! }));
    const prepared = new Enricher();
    prepared.prepare();
    const got = await prepared.enrich(addresses);
    const want = await new Enricher().enrich(addresses);
    expect([...got.facts]).toEqual([...want.facts]);
    expect(got.facts.get('8.8.8.8')).toMatchObject({ country: 'US', asn: 15169 });
  });
});

describe('staged ingest outputs', () => {
  it('writes the same files as writeResults alone, and discarding leaves nothing', async () => {
    const opts = detectOpts([file], { workers: 1, pipeline: 'sharded' });
    const result = await detect(opts);
    const settings = runSettings(opts, [file]);
    expect(result.rejects.length).toBe(2);
    const plain = join(dir, 'plain');
    const early = join(dir, 'early');
    await writeResults(plain, result, 6 * 3600, settings, false);
    const staged = stageIngestOutputs(early, result);
    expect(readdirSync(early).filter((f) => !f.startsWith('.'))).toEqual([]); // not in place before the results are
    await writeResults(early, result, 6 * 3600, settings, false, undefined, staged);
    for (const name of ['rejects.ndjson', 'files.ndjson', 'scans.ndjson', 'scans.csv']) {
      expect(readFileSync(join(early, name), 'utf8')).toBe(readFileSync(join(plain, name), 'utf8'));
    }
    expect(readdirSync(early).filter((f) => f.startsWith('.'))).toEqual([]);
    const failed = join(dir, 'failed');
    discardStaged(stageIngestOutputs(failed, result));
    expect(readdirSync(failed)).toEqual([]);
  });

  it('with the inbound outputs staged too (scans, near misses, statistics): the same files, stale ones removed, nothing in place before', async () => {
    const result = await detect(detectOpts([file], { workers: 1, pipeline: 'sharded', nearMisses: true }));
    const settings = runSettings(detectOpts([file]), [file]);
    const analysis = analyse({ scans: result.scans, endpointDays: result.endpointDays, windowSeconds: 6 * 3600, enrichment: null, topN: 10 });
    const listing = (d: string): string[] => readdirSync(d, { recursive: true, encoding: 'utf8' }).sort();
    for (const nearMisses of [true, false]) {
      const plain = join(dir, `plain-inbound-${nearMisses}`);
      const early = join(dir, `early-inbound-${nearMisses}`);
      for (const d of [plain, early]) {
        // stale files of an earlier run: near misses and enriched statistics, which these runs do not write
        mkdirSync(join(d, 'stats'), { recursive: true });
        for (const f of ['near_misses.csv', 'near_misses.ndjson', 'stats/countries.csv', 'stats/actors.json']) writeFileSync(join(d, f), 'stale\n');
      }
      await writeResults(plain, result, 6 * 3600, settings, nearMisses, analysis);
      const staged = stageIngestOutputs(early, result);
      staged.inbound = stageInboundOutputs(early, result, 6 * 3600, nearMisses, analysis);
      expect(listing(early).filter((f) => !f.split('/').pop()!.startsWith('.'))).toEqual(['near_misses.csv', 'near_misses.ndjson', 'stats', 'stats/actors.json', 'stats/countries.csv']);
      await writeResults(early, result, 6 * 3600, settings, nearMisses, analysis, staged);
      expect(listing(early)).toEqual(listing(plain));
      expect(listing(early).some((f) => f.includes('near_misses'))).toBe(nearMisses);
      for (const name of listing(plain).filter((f) => f !== 'stats')) expect(readFileSync(join(early, name), 'utf8')).toBe(readFileSync(join(plain, name), 'utf8'));
    }
    const failed = join(dir, 'failed-inbound');
    const staged = stageIngestOutputs(failed, result);
    staged.inbound = stageInboundOutputs(failed, result, 6 * 3600, true, analysis);
    discardStaged(staged);
    expect(readdirSync(failed, { recursive: true })).toEqual(['stats']);
  });
});
