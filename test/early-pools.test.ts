import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { DETECT_FLAGS, detectThreadOptions } from '../dist/src/cli/early-pools.js';
import { detectRunsInline, dropEarlyPools, poolPlan, startEarlyPools, takeEarlyParsePool, takeEarlyShardPools } from '../dist/src/engine/pools.js';
import { spec } from '../dist/src/cli/commands/detect.js';
import { parseArgs } from '../dist/src/app/args.js';
import { detectOptionsFrom } from '../dist/src/app/settings.js';
import type { DetectOptions } from '../dist/src/engine/types.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const dir = tempDir('flowsieve-early-');
/** A 17 MB file that takes no disk (sparse): not a small input, so detect starts threads for it. */
const large = join(dir, 'large.log');
closeSync(openSync(large, 'w'));
truncateSync(large, 17 << 20);
const small = join(dir, 'small.log');
writeFileSync(small, 'x\n');

/** The plan the command makes from the same arguments, read by its own parser. */
function commandPlan(args: string[], env: Record<string, string> = {}) {
  const parsed = parseArgs(spec, args, { env });
  const opts = { ...detectOptionsFrom(parsed.values, parsed.positionals), pipeline: parsed.values.pipeline } as DetectOptions;
  const inline = detectRunsInline(opts);
  return { inline, plan: inline ? undefined : poolPlan(opts, false) };
}

describe('detect pools started from argv before the command loads', () => {
  it("knows which of detect's options take no value", () => {
    expect([...DETECT_FLAGS].sort()).toEqual(spec.options.filter((o) => o.type === 'boolean').map((o) => o.name).sort());
  });

  it('plans the threads as the command does', () => {
    const cases: Array<[string[], Record<string, string>]> = [
      [[large, '--out', dir, '--quiet', '--no-enrich'], {}],
      [['--workers', '2', large, '--out', dir], {}],
      [[large, '--parse-threads=3', '--min-endpoints', '5', '--out', dir], {}],
      [[large, '--out', dir], { FLOWSIEVE_WORKERS: '3' }],
      [[large, '--out', dir, '--workers', '2'], { FLOWSIEVE_WORKERS: '3' }],
      [[small, '--out', dir], {}],
      [[small, '--out', dir, '--pipeline', 'sharded'], {}],
      [[small, large, '--chunk-size', '64K', '--out', dir], {}],
      [['--near-misses', large, '--out', dir], {}],
    ];
    for (const [args, env] of cases) {
      const early = detectThreadOptions(args, env);
      expect(early, args.join(' ')).toBeDefined();
      const inline = detectRunsInline(early!);
      expect({ inline, plan: inline ? undefined : poolPlan(early!, false) }, args.join(' ')).toEqual(commandPlan(args, env));
    }
  });

  it('starts nothing where the look is not plain', () => {
    expect(detectThreadOptions([large, '--out', dir, '--help'], {})).toBeUndefined();
    expect(detectThreadOptions([large, '--list'], {})).toBeUndefined();
    expect(detectThreadOptions([large], { FLOWSIEVE_LIST: '1' })).toBeUndefined();
    expect(detectThreadOptions([large, '--workers', '0'], {})).toBeUndefined();
    expect(detectThreadOptions([large, '--pipeline', 'other'], {})).toBeUndefined();
    expect(detectThreadOptions([large, '--out'], {})).toBeUndefined();
    expect(detectThreadOptions(['--out', dir], {})).toBeUndefined();
  });

  it('hands the pools only to an engine that makes the same ones', async () => {
    const opts = detectThreadOptions([large, '--workers', '1'], {})!;
    startEarlyPools(opts);
    const plan = poolPlan(opts, false);
    expect(takeEarlyShardPools({ ...plan, shards: 2 })).toBeNull();
    expect(takeEarlyParsePool({ ...plan, minParse: 0 })).toBeNull();
    const shards = takeEarlyShardPools(plan);
    expect(shards).toHaveLength(1);
    const parse = takeEarlyParsePool(plan);
    expect(parse).not.toBeNull();
    expect(takeEarlyShardPools(plan)).toBeNull(); // taken once
    dropEarlyPools();
    expect(await shards![0]!.run({ op: 'memoryLimits', limits: { maxBytes: 1 << 26, spill: false, dir, shard: 0, shards: 1, owner: 't' } })).toBeUndefined();
    await Promise.all([parse!.destroy(), shards![0]!.destroy()]);
  });

  it('gives the same verdicts with the early threads, and exits on a usage error found after they started', () => {
    const input = join(dir, 'flows.log');
    writeV2(input, scanner('45.3.3.3', 60, { start: 1700006400 }));
    const run = (args: string[]) => spawnSync(process.execPath, [CLI, 'detect', ...args], { encoding: 'utf8', timeout: 60_000 });
    const sharded = run([input, '--out', join(dir, 'a'), '--quiet', '--no-enrich', '--pipeline', 'sharded']);
    const fused = run([input, '--out', join(dir, 'b'), '--quiet', '--no-enrich']);
    expect([sharded.status, fused.status]).toEqual([0, 0]);
    expect(readFileSync(join(dir, 'a/scans.ndjson'), 'utf8')).toBe(readFileSync(join(dir, 'b/scans.ndjson'), 'utf8'));
    expect(readFileSync(join(dir, 'a/scans.ndjson'), 'utf8')).not.toBe('');
    const bad = run([large, '--out', join(dir, 'c'), '--findings', 'nope']);
    expect(bad.status).toBe(1); // not killed by the timeout: idle threads do not hold the process
    expect(bad.stderr).toMatch(/--findings/);
  });
});
