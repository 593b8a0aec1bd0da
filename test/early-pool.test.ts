import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { EARLY_LOOK_STEPS } from '../dist/src/engine/small-input.js';
import { dropEarlyParsePool, earlyParsePoolWaiting, earlyParseThreads, startEarlyParsePool, takeEarlyParsePool } from '../dist/src/engine/early-pool.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
// a parse pool left running keeps the process up past this (its threads never idle out)
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, FLOWSIEVE_CONFIG: '' } });
const T0 = 1700006400;

describe("detect's early parse pool", () => {
  it('takes its shape from the arguments and their variables alone', () => {
    expect(earlyParseThreads(['a', '--workers', '3', '--out', 'o'], {})).toBe(3);
    expect(earlyParseThreads(['a', '--out', 'o'], {})).toBe(Math.max(1, Math.floor(availableParallelism() / 2)));
    expect(earlyParseThreads(['a', '--workers=3', '--parse-threads', '2'], {})).toBe(2);
    expect(earlyParseThreads(['a', '--workers', '2', '--workers', '4'], {})).toBe(4); // the last flag wins
    expect(earlyParseThreads(['a'], { FLOWSIEVE_WORKERS: '2' })).toBe(2);
    expect(earlyParseThreads(['a', '--workers', '3'], { FLOWSIEVE_WORKERS: '2', FLOWSIEVE_PARSE_THREADS: '1' })).toBe(1);
    expect(earlyParseThreads(['a', '--workers', '2.5'], {})).toBe(2); // as the Engine floors it
    expect(earlyParseThreads(['a', '--pipeline', 'sharded', '--workers', '1'], {})).toBe(1);
    // nothing to start, or nothing the arguments can tell
    for (const args of [['a', '--pipeline', 'fused'], ['a', '--list'], ['--help'], ['x.fsr'], ['a', '--workers', '0'], ['a', '--workers', 'x'], ['a', '--parse-threads', '1.5']]) {
      expect(earlyParseThreads(args, {}), args.join(' ')).toBeNull();
    }
    expect(earlyParseThreads(['a'], { FLOWSIEVE_PIPELINE: 'fused' })).toBeNull();
    // inputs detect will read in the main thread: no pool (the look's answer kept for detect's)
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    expect(earlyParseThreads([join(dir, 'a.log'), '--out', dir, '--quiet'], {})).toBeNull();
    expect(earlyParseThreads([join(dir, 'a.log'), '--out', dir, '--pipeline', 'sharded'], {})).toBe(1);
    expect(earlyParseThreads([join(dir, 'a.log'), join(dir, 'missing.log'), '--out', dir], {})).toBe(1);
    expect(earlyParseThreads([dir, '--out', dir], {})).toBeNull(); // a small folder
    expect(earlyParseThreads([join(dir, 'nothing'), '--out', dir], {})).toBe(1);
    // a folder of more small files than the early look reads: a pool (detect's look drops it)
    for (let i = 0; i < EARLY_LOOK_STEPS; i++) writeV2(join(dir, `m${i}.log`), scanner('45.3.3.3', 1, { start: T0 }));
    expect(earlyParseThreads([dir, '--out', dir], {})).toBe(1);
  });

  it('is handed out only for its own shape', async () => {
    startEarlyParsePool(['--workers', '2'], {});
    expect(takeEarlyParsePool(2, 1)).toBeNull(); // two threads, one started at once: another pool
    expect(earlyParsePoolWaiting()).toBe(false);
    startEarlyParsePool(['--workers', '2'], {});
    expect(takeEarlyParsePool(1, 1)).toBeNull();
    startEarlyParsePool(['--workers', '2'], {});
    const pool = takeEarlyParsePool(2, 2);
    expect(pool).not.toBeNull();
    expect(pool!.threads.length).toBe(2);
    expect(takeEarlyParsePool(2, 2)).toBeNull(); // taken once
    await pool!.destroy();
  });

  it('is taken by an Engine that asks for its shape, and dropped by one that does not', async () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    startEarlyParsePool(['--workers', '2'], {});
    expect(earlyParsePoolWaiting()).toBe(true);
    const taken = await runDetect([join(dir, 'a.log')], { workers: 2, pipeline: 'sharded' });
    expect(earlyParsePoolWaiting()).toBe(false);
    startEarlyParsePool(['--workers', '2'], {});
    const other = await runDetect([join(dir, 'a.log')], { workers: 1, pipeline: 'sharded' }); // one parse thread: not that pool
    expect(earlyParsePoolWaiting()).toBe(false);
    startEarlyParsePool([], {});
    const small = await runDetect([join(dir, 'a.log')], { workers: 1, pipeline: 'auto' }); // a small input: read in this thread
    expect(small.pipeline).toBe('fused');
    expect(earlyParsePoolWaiting()).toBe(false);
    expect(other.scans).toEqual(taken.scans);
    expect(small.scans).toEqual(taken.scans);
    expect(taken.scans).toHaveLength(1);
    dropEarlyParsePool(); // none left: a no-op
  });

  it('is dropped, and the process exits, when the input is small or the command fails', () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    const out = join(dir, 'out');
    const small = run(['detect', join(dir, 'a.log'), '--out', out, '--quiet', '--no-enrich']);
    expect([small.status, small.signal]).toEqual([0, null]);
    expect(readFileSync(join(out, 'scans.ndjson'), 'utf8').trim().split('\n')).toHaveLength(1);
    const badOut = run(['detect', join(dir, 'a.log'), '--out', join(dir, 'a.log', 'x'), '--quiet']);
    expect([badOut.status, badOut.signal]).toEqual([1, null]);
    const badOption = run(['detect', join(dir, 'a.log'), '--out', out, '--window', '7h']);
    expect([badOption.status, badOption.signal]).toEqual([1, null]);
    // a path that is not there: planning reports it, the run goes on (and takes the pool)
    const missing = run(['detect', join(dir, 'missing.log'), '--out', join(dir, 'out2'), '--quiet', '--no-enrich', '--workers', '2']);
    expect([missing.status, missing.signal]).toEqual([2, null]);
    expect(existsSync(join(dir, 'out2', 'summary.json'))).toBe(true);
    // a small folder past the early look: a pool started, dropped by detect's look, the run exits
    mkdirSync(join(dir, 'wide'));
    for (let i = 0; i < EARLY_LOOK_STEPS; i++) writeV2(join(dir, 'wide', `${i}.log`), scanner('45.3.3.3', 1, { start: T0 }));
    const wide = run(['detect', join(dir, 'wide'), '--out', join(dir, 'out3'), '--quiet', '--no-enrich']);
    expect([wide.status, wide.signal]).toEqual([0, null]);
    expect(existsSync(join(dir, 'out3', 'scans.ndjson'))).toBe(true);
  });
});
