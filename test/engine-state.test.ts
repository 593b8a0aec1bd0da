import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, writeV2, type Flow } from './helpers/aws.js';
import { Engine, DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';

const T0 = 1700006400;
const W = 21600;

function engineOpts(workers: number) {
  return { inputs: [], workers, windowSeconds: W, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: true, outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN } as any;
}

function flows(): Flow[] {
  const out: Flow[] = [];
  for (let w = 0; w < 4; w++) {
    for (let i = 0; i < 12; i++) out.push(...scanner(`45.6.${w}.${i}`, 8 + i, { start: T0 + w * W + i * 60, dport: 22 + i }));
    out.push(...scanner('2a01:4f8::5', 11, { start: T0 + w * W + 5 }));
  }
  return out;
}

describe('engine state: checkpoints and incremental windows', () => {
  it('a checkpoint restored into another worker count continues exactly', async () => {
    const dir = tempDir();
    const all = flows();
    writeV2(join(dir, 'one.log'), all.filter((_, i) => i % 2 === 0));
    writeV2(join(dir, 'two.log'), all.filter((_, i) => i % 2 === 1));
    const whole = await runDetect([dir]);

    const a = new Engine(engineOpts(3));
    await a.ingest([join(dir, 'one.log')]);
    const states = await a.exportState();
    await a.close();
    expect(states).toHaveLength(3);

    const b = new Engine(engineOpts(2));
    await b.importState(states);
    await b.ingest([join(dir, 'two.log')]);
    const fin = await b.finalize();
    await b.close();
    expect(fin.scans.length).toBe(whole.scans.length);
    expect(JSON.stringify(fin.scans)).toBe(JSON.stringify(whole.scans));
    expect(JSON.stringify(fin.nearMisses)).toBe(JSON.stringify(whole.nearMisses));
    expect(JSON.stringify(fin.endpointDays)).toBe(JSON.stringify(whole.endpointDays));
    expect(fin.scans.length).toBeGreaterThan(20);
  });

  it('finalising windows one at a time gives the same verdicts as all at once', async () => {
    const dir = tempDir();
    writeV2(join(dir, 'f.log'), flows());
    const whole = await runDetect([dir]);
    const e = new Engine(engineOpts(2));
    await e.ingest([dir]);
    const first = Math.floor(T0 / W);
    const parts: any[] = [];
    for (let w = first; w < first + 4; w++) parts.push(await e.finalize({ uptoWindow: w, drop: true }));
    const rest = await e.finalize();
    await e.close();
    expect(rest.scans).toHaveLength(0);
    expect(rest.entries).toBe(0);
    const merged = { scans: parts.flatMap((p) => p.scans), nearMisses: parts.flatMap((p) => p.nearMisses), endpointDays: whole.endpointDays };
    expect(JSON.stringify(merged.scans)).toBe(JSON.stringify(whole.scans));
    expect(JSON.stringify(merged.nearMisses)).toBe(JSON.stringify(whole.nearMisses));
    expect(parts.map((p) => p.scans.length)).toEqual([11, 11, 11, 11]) // 10 IPv4 scanners with >= 10 endpoints and one IPv6, per window;
  });
  it('finalising windows one at a time gives each window its outbound findings once, and leaves both tables empty', async () => {
    // one of our own hosts probes 150 public targets in each of the first two windows, beside the scanners
    const dir = tempDir();
    const worm: Flow[] = [];
    for (let w = 0; w < 2; w++) for (let i = 0; i < 150; i++) worm.push({ src: '10.9.0.5', dst: `45.${w}.${i >> 8}.${(i & 255) + 1}`, dport: 23, start: T0 + w * W + i, action: 'ACCEPT' });
    writeV2(join(dir, 'f.log'), [...flows(), ...worm]);
    const whole = new Engine(engineOpts(2));
    await whole.ingest([dir]);
    const all = await whole.finalize();
    await whole.close();
    expect(all.findings.map((f) => f.src)).toEqual(['10.9.0.5', '10.9.0.5']);

    const e = new Engine(engineOpts(2));
    await e.ingest([dir]);
    const first = Math.floor(T0 / W);
    const parts = [];
    for (let w = first; w < first + 4; w++) parts.push(await e.finalize({ uptoWindow: w, drop: true }));
    const rest = await e.finalize();
    await e.close();
    expect(parts.map((p) => p.findings.length)).toEqual([1, 1, 0, 0]);
    expect(JSON.stringify(parts.flatMap((p) => p.findings))).toBe(JSON.stringify(all.findings));
    expect(rest.findings).toHaveLength(0);
    expect(rest.accumulatorEntries).toBe(0); // the inbound and the outbound table's windows all dropped
  });
});
