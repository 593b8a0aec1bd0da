/**
 * A run of one shard on GCP NDJSON: the shard thread parses tasks too (Engine.parsesInShard,
 * 'fusedParseHere'), beside the parse thread. Its results must be those of the parse thread
 * alone (FLOWSIEVE_SHARD_PARSES=off) and of two workers.
 */
import { describe, expect, it } from 'vitest';
import { restoreEnvAfterEach } from './helpers/env.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { ENTRY } from './helpers/gcp-entries.js';
import { seeded } from './helpers/damage.js';
import { shuffled } from './helpers/aws.js';

/** ENTRY with another flow: its addresses and ports. */
function entry(src: string, dst: string, sport: number, dport: number): string {
  return ENTRY.replace('"dest_ip":"10.140.0.8"', `"dest_ip":"${dst}"`)
    .replace('"dest_port":443', `"dest_port":${dport}`)
    .replace('"src_ip":"46.45.50.63"', `"src_ip":"${src}"`)
    .replace('"src_port":9620', `"src_port":${sport}`);
}

/** Scanners (one reaching more endpoints than the next), benign clients, a few damaged lines. */
function lines(): string[] {
  const out: string[] = [];
  const rnd = seeded(4242);
  for (let k = 0; k < 40; k++) {
    for (let d = 0; d < 4 + k; d++) out.push(entry(`45.9.${k}.7`, `10.140.${k % 4}.${d + 1}`, 40000 + d, [22, 445, 3389][k % 3]!));
  }
  for (let i = 0; i < 2500; i++) out.push(entry(`80.${rnd(200)}.${rnd(250)}.${1 + rnd(250)}`, `10.140.0.${1 + rnd(20)}`, 1024 + rnd(60000), 443));
  for (let i = 0; i < 5; i++) out.push('{"jsonPayload":{"connection":' + 'x'.repeat(i));
  return shuffled(out, 7); // records in an order of their own: a file's cut into chunks falls anywhere
}

/** What a run writes, less what depends on the machine (time, memory). */
function canon(r: any): string {
  return JSON.stringify({
    scans: r.scans, near: r.nearMisses, days: r.endpointDays, alerts: r.alerts, findings: r.findings,
    files: r.files, totals: r.totals, rejects: r.rejects, keys: r.keys, entries: r.entries, partial: r.partial, bytesIn: r.bytesIn,
  });
}

/** Files large and small: some read in chunks, some whole (planned from their names, in the thread that reads them), one a JSON array named like an export. */
function input(): string {
  const dir = tempDir();
  const all = lines();
  const folder = join(dir, 'proj', 'compute.googleapis.com', 'vpc_flows', '2024', '03', '01');
  mkdirSync(folder, { recursive: true });
  const cuts = [0, 900, 1000, 1100, 2000, all.length];
  for (let f = 0; f + 1 < cuts.length; f++) writeFileSync(join(folder, `16:00:00_16:59:59_S${f}.json`), all.slice(cuts[f], cuts[f + 1]).join('\n') + '\n');
  writeFileSync(join(folder, '17:00:00_17:59:59_S0.json'), '[' + all.slice(0, 50).join(',') + ']');
  return dir;
}

describe('the shard thread parses too (one shard, GCP NDJSON)', () => {
  restoreEnvAfterEach('FLOWSIEVE_SHARD_PARSES');

  it('gives the results of the parse thread alone, and of two workers', async () => {
    const dir = input();
    const common = { chunkBytes: 65536 };
    process.env.FLOWSIEVE_SHARD_PARSES = 'off';
    const alone = await runDetect([dir], { ...common, workers: 1 });
    expect(alone.shardParsed).toBe(0);
    expect(alone.scans.length).toBeGreaterThan(10);
    expect(alone.rejects.length).toBeGreaterThan(0);
    expect(new Set(alone.files.map((f: { format: string | null }) => f.format))).toEqual(new Set(['gcp', 'gcp-json']));
    const two = await runDetect([dir], { ...common, workers: 2 });
    expect(two.shardParsed).toBe(0);
    expect(canon(two)).toBe(canon(alone));
    process.env.FLOWSIEVE_SHARD_PARSES = 'always';
    for (const batchSize of [16384, 100]) {
      const both = await runDetect([dir], { ...common, workers: 1, batchSize });
      expect(both.shardParsed, `batch ${batchSize}`).toBeGreaterThan(0);
      expect(canon(both), `batch ${batchSize}`).toBe(canon(alone));
    }
    // at the default size threshold this input is too small: the parse thread alone reads it
    delete process.env.FLOWSIEVE_SHARD_PARSES;
    expect((await runDetect([dir], { ...common, workers: 1 })).shardParsed).toBe(0);
  });
});
