/**
 * FLOWSIEVE_SHARD_START=late: the shard threads boot after the parse threads' first result
 * (engine/late-shard-pool.ts). The tasks posted before then must reach the shard in the
 * order they came (its memory limits first), nothing may wait for ever (a run with nothing
 * to parse, an engine closed unused), and the verdicts and reports are those of a run whose
 * shards booted at once.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { expectReportsAlike, expectVerdictsAlike } from './helpers/planned-alike.js';
import { detect } from '../dist/src/engine/run.js';
import { LateShardPool } from '../dist/src/engine/late-shard-pool.js';

const NSG = 'insights-logs-networksecuritygroupflowevent/resourceId=/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG';

/** An NSG blob in which one source probes port 22 of many addresses (a scan to find), hour `h`. */
function scanBlob(h: number): string {
  const tuples = Array.from({ length: 40 }, (_, k) => `"${1709287200 + h * 3600 + k},45.9.1.${h},10.0.${k >> 4}.${(k & 15) + 4},5${k},22,T,I,D,B,1,60,0,0"`);
  const flows = `[{"rule":"DefaultRule_DenyAllInBound","flows":[{"mac":"00-0d-3a-f8-78-56","flowTuples":[${tuples.join(',')}]}]}]`;
  return `{"records":[{"time":"2024-03-01T10:00:00.0000000Z","category":"NetworkSecurityGroupFlowEvent","resourceId":"/SUBSCRIPTIONS/S1/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/NSG","operationName":"NetworkSecurityGroupFlowEvents","properties":{"Version":2,"flows":${flows}}}]}`;
}

/** A fake started pool: the tasks it was given, in order. */
function fakePool(log: unknown[]) {
  return { run: async (task: unknown) => (log.push(task), task), destroy: async () => void log.push('destroyed') };
}

afterEach(() => {
  delete process.env.FLOWSIEVE_SHARD_START;
});

describe('a shard pool that boots late', () => {
  it('holds its first task until started, then runs every task in the order posted', async () => {
    const log: unknown[] = [];
    let made = 0;
    const pool = new LateShardPool(() => (made++, fakePool(log)));
    const first = pool.run('limits');
    await Promise.resolve();
    expect([made, log, pool.started]).toEqual([0, [], false]);
    const second = pool.run('batch'); // a second task needs the shard: it starts the thread
    expect(made).toBe(1);
    await expect(Promise.all([first, second])).resolves.toEqual(['limits', 'batch']);
    pool.start(); // once only
    expect([made, log]).toEqual([1, ['limits', 'batch']]);
  });

  it('starts when asked, and when destroyed unused (the waiting task is run, not dropped)', async () => {
    const log: unknown[] = [];
    const pool = new LateShardPool(() => fakePool(log));
    const first = pool.run('limits');
    pool.start();
    await expect(first).resolves.toBe('limits');
    const unused = new LateShardPool(() => fakePool(log));
    const waiting = unused.run('limits');
    await unused.destroy();
    await expect(waiting).resolves.toBe('limits');
    expect(log).toEqual(['limits', 'limits', 'destroyed']);
  });

  it('gives the verdicts and reports of shards booted at once, and ends a run with nothing to parse', async () => {
    const dir = tempDir('flowsieve-late-shards-');
    for (let h = 0; h < 12; h++) {
      mkdirSync(join(dir, NSG, `h=${String(h).padStart(2, '0')}`), { recursive: true });
      writeFileSync(join(dir, NSG, `h=${String(h).padStart(2, '0')}`, 'PT1H.json'), scanBlob(h));
    }
    mkdirSync(join(dir, NSG, 'h=99')); // an empty folder
    const opts = () => detectOpts([dir], { workers: 2, pipeline: 'sharded' });
    const atOnce = await detect(opts());
    process.env.FLOWSIEVE_SHARD_START = 'late';
    const late = await detect(opts());
    expect(late.totals.records).toBe(12 * 40);
    expect(late.scans.length).toBeGreaterThan(0);
    expectReportsAlike(late, atOnce, (r) => r);
    expectVerdictsAlike(late, atOnce);
    const nothing = await detect(detectOpts([join(dir, 'missing')], { workers: 2, pipeline: 'sharded' }));
    expect(nothing.files.map((f) => Boolean(f.error))).toEqual([true]);
  }, 60_000);
});
