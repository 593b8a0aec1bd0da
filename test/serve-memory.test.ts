/**
 * The sidecar under a tiny --max-memory: the accumulators spill to disk, windows are
 * still finalised one at a time, a restart in the middle restores a checkpoint that
 * holds the spilled entries, and the verdicts end up exactly those of one detect.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { dropFile, getJson, startServe, stopServe, until } from './helpers/serve.js';
import { T0, clockFile, streamFiles, streamFlows } from './helpers/stream.js';
import { scanRecord } from '../dist/src/output/verdicts.js';
import type { Flow } from './helpers/aws.js';

const W = 3600;
const HOURS = 12;

/** The stream's scanners plus many one-record sources, so that the tables outgrow the limit. */
function flows(): Flow[] {
  const out = streamFlows(HOURS);
  for (let i = 0; i < 12_000; i++) {
    out.push({ src: `81.${(i >> 8) & 255}.${i & 255}.9`, dst: `10.1.${i % 200}.7`, dport: 443, start: T0 + (i % (HOURS * 3600)), packets: 1, bytes: 60 });
  }
  return out;
}

describe('serve: --max-memory with spills, window by window, across a restart', () => {
  it('finalises the same verdicts as one detect', async () => {
    const dir = tempDir();
    const files = [...streamFiles(flows()), clockFile(T0 + 30 * 3600)];
    const all = join(dir, 'all');
    mkdirSync(all);
    for (const f of files) writeFileSync(join(all, f.name), f.text);
    const expected = await runDetect([all], { windowSeconds: W, nearMisses: false });
    expect(expected.scans.length).toBeGreaterThan(20);

    const spool = join(dir, 'spool');
    const state = join(dir, 'state');
    const spill = join(dir, 'spill');
    mkdirSync(spool);
    mkdirSync(spill);
    const args = [
      '--spool', spool, '--state', state, '--window', '1h', '--lateness', '30m', '--settle', '0', '--poll', '50ms',
      '--batch-files', '3', '--workers', '2', '--max-memory', '256K', '--spill-dir', spill, '--no-enrich',
    ];
    const half = Math.floor(files.length / 2);
    let serve = await startServe(args);
    for (const f of files.slice(0, half)) dropFile(spool, f.name, f.text);
    await until(async () => ((await getJson(`${serve.url}/v1/status`)).body.files_pending === 0 ? true : null), 60_000, 'the first half');
    expect(await stopServe(serve)).toBe(0); // graceful: the checkpoint holds what was spilled
    const firstLog = serve.log();

    serve = await startServe(args);
    await serve.waitLog(/ready: batch/);
    for (const f of files.slice(half)) dropFile(spool, f.name, f.text);
    await until(
      async () => {
        const st = (await getJson(`${serve.url}/v1/status`)).body;
        return st.files_pending === 0 && st.finalized_through !== null && Date.parse(st.finalized_through) >= (T0 + HOURS * 3600) * 1000 ? st : null;
      },
      60_000,
      'the spool to drain and the windows to close',
    );
    expect(await stopServe(serve)).toBe(0);
    expect(firstLog + serve.log()).toMatch(/accumulator entries spilled to disk/);

    const lines = readFileSync(join(state, 'scans.ndjson'), 'utf8').trim().split('\n');
    expect(lines).toEqual(expected.scans.map((v: any) => JSON.stringify(scanRecord(v, W))));
    expect(readdirSync(spill).filter((n) => n.startsWith('.flowsieve-spill'))).toEqual([]); // removed at exit
  }, 120_000);
});
