/**
 * Where a lone shard of the sharded pipeline runs (engine/shard-place.ts): in the engine's
 * thread for a whole run of Azure JSON blobs alone, in a thread of its own for any other
 * input, for an ingest that is not a whole run, and at two workers. Placed either way, a
 * run's verdicts, reports and counts must be the same; ShardToPlace keeps its tasks' order.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { Engine } from '../dist/src/engine/run.js';
import { shardHereFits, ShardToPlace } from '../dist/src/engine/shard-place.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';

const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;
const NSG = 'insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';
const VNET = 'insights-logs-flowlogflowevent/flowLogResourceID=/S1/RG/FLOWLOG';

/** An NSG blob of hour `h` in which `scanners` sources probe port 22 of 12-40 addresses, and a benign client. */
function nsgBlob(h: number, scanners: number): string {
  const t = 1709251200 + h * 3600;
  const tuples: string[] = [];
  for (let s = 0; s < scanners; s++) {
    for (let k = 0; k < 12 + ((s * 7 + h) % 29); k++) tuples.push(`"${t + k},45.9.${h}.${s + 1},10.0.${k >> 4}.${(k & 15) + 4},5${k},22,T,I,D,B,1,60,0,0"`);
  }
  for (let k = 0; k < 30; k++) tuples.push(`"${t + k},80.1.2.${k + 1},10.0.0.9,4${k}00,443,T,I,A,B,3,900,2,1200"`);
  const flows = `[{"rule":"DefaultRule_DenyAllInBound","flows":[{"mac":"00-0d-3a-f8-78-56","flowTuples":[${tuples.join(',')}]}]}]`;
  return `{"records":[{"time":"2024-03-01T${String(h).padStart(2, '0')}:00:00.0000000Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":${flows}}}]}`;
}

/** A folder of Azure blobs (NSG and VNet flow logs, one damaged), planned from their names. */
function azureFolder(): string {
  const dir = tempDir('flowsieve-shard-place-');
  const put = (p: string, bytes: string | Buffer) => {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), bytes);
  };
  for (let h = 0; h < 12; h++) put(`${NSG}/y=2024/m=03/d=01/h=${String(h).padStart(2, '0')}/PT1H.json`, nsgBlob(h, 3 + (h % 4)));
  put(`${NSG}/y=2024/m=03/d=02/h=00/PT1H.json`, readFileSync(join(FIXTURES, 'azure-nsg-states.json')));
  put(`${VNET}/y=2024/m=03/d=01/h=01/PT1H.json`, readFileSync(join(FIXTURES, 'azure-vnet-states.json')));
  put(`${NSG}/y=2024/m=03/d=02/h=01/PT1H.json`, readFileSync(join(FIXTURES, 'azure-truncated.json')));
  return dir;
}

/** One engine's whole run (or an ingest that is not one), its results less what depends on the machine, and where its shard ran. */
async function run(inputs: string[], over: Record<string, unknown>, wholeRun = true) {
  const engine = new Engine(detectOpts(inputs, { nearMisses: true, outbound: { ...DEFAULT_OUTBOUND }, ...over }));
  try {
    const ingest = await engine.ingest(inputs, undefined, { wholeRun });
    const fin = await engine.finalize();
    const canon = JSON.stringify({
      scans: fin.scans, near: fin.nearMisses, days: fin.endpointDays, findings: fin.findings, alerts: fin.alerts,
      keys: fin.keys, entries: fin.entries, files: ingest.files, totals: ingest.totals, rejects: ingest.rejects, bytesIn: ingest.bytesIn,
    });
    return { canon, scans: fin.scans.length, inThreads: engine.shardsInThreads };
  } finally {
    await engine.close(false);
  }
}

describe('the lone shard placed by planning', () => {
  it('runs in this thread for a whole run of Azure blobs, with the verdicts of a shard thread', async () => {
    const dir = azureFolder();
    const here = await run([dir], { workers: 1 });
    expect(here.inThreads).toBe(false);
    expect(here.scans).toBeGreaterThan(10);
    // the same run, its shard in a thread: an ingest that is not a whole run, two and three workers
    const notWhole = await run([dir], { workers: 1 }, false);
    expect(notWhole.inThreads).toBe(true);
    expect(notWhole.canon).toBe(here.canon);
    for (const workers of [2, 3]) {
      const threads = await run([dir], { workers });
      expect(threads.inThreads, `${workers} workers`).toBe(true);
      expect(threads.canon, `${workers} workers`).toBe(here.canon);
    }
    // small batches: many adds relayed in this thread
    const small = await run([dir], { workers: 1, batchSize: 100 });
    expect(small.inThreads).toBe(false);
    expect(small.canon).toBe(here.canon);
  });

  it('keeps its thread for other inputs, and with Azure blobs among them', async () => {
    const dir = tempDir('flowsieve-shard-place-aws-');
    writeV2(join(dir, 'a.log'), scanner('45.9.9.9', 20, { start: 1709251200 }));
    expect((await run([dir], { workers: 1 })).inThreads).toBe(true);
    expect((await run([azureFolder(), dir], { workers: 1 })).inThreads).toBe(true);
  });

  it('is in a thread when the engine is used before any ingest', async () => {
    const engine = new Engine(detectOpts([], { workers: 1 }));
    try {
      expect((await engine.stats()).entries).toBe(0);
      expect(engine.shardsInThreads).toBe(true);
    } finally {
      await engine.close(false);
    }
  });
});

describe('shardHereFits', () => {
  const file = (format: string | null, extra: Record<string, unknown> = {}) => ({ path: 'x', size: 10, format, ...extra }) as never;
  it('takes whole runs of Azure formats alone (files in error aside)', () => {
    expect(shardHereFits([file('azure-nsg'), file('azure-vnet'), file(null, { error: 'unreadable' })], true)).toBe(true);
    expect(shardHereFits([file('azure-nsg')], false)).toBe(false);
    expect(shardHereFits([file('azure-nsg'), file('gcp')], true)).toBe(false);
    expect(shardHereFits([file('aws-text')], true)).toBe(false);
    expect(shardHereFits([file('azure-nsg', { open: true })], true)).toBe(false);
    expect(shardHereFits([file(null, { error: 'unreadable' })], true)).toBe(false);
    expect(shardHereFits([], true)).toBe(false);
  });
});

describe('ShardToPlace', () => {
  /** A pool that records its tasks in the order run. */
  const pool = (log: unknown[]) => ({ run: async (t: unknown) => (log.push(t), t), destroy: async () => {} });

  it('runs the tasks given before its place first, in order, then the rest', async () => {
    const log: unknown[] = [];
    const p = new ShardToPlace();
    const early = [p.run(1), p.run(2)];
    p.place(pool(log));
    const late = p.run(3);
    expect(await Promise.all([...early, late])).toEqual([1, 2, 3]);
    expect(log).toEqual([1, 2, 3]);
    expect(() => p.place(pool(log))).toThrow();
  });

  it('is placed by the first task after placeOnNextTask, behind the waiting ones', async () => {
    const log: unknown[] = [];
    const p = new ShardToPlace();
    const first = p.run('limits');
    let made = 0;
    p.placeOnNextTask(() => (made++, pool(log)));
    expect(p.placed).toBe(false);
    expect(made).toBe(0);
    await Promise.all([first, p.run('batch'), p.run('more')]);
    expect(made).toBe(1);
    expect(log).toEqual(['limits', 'batch', 'more']);
  });

  it('fails the waiting tasks when destroyed unplaced', async () => {
    const p = new ShardToPlace();
    const waiting = p.run('limits');
    await p.destroy();
    await expect(waiting).rejects.toThrow('before its shard was placed');
  });
});
