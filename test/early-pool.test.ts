import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { copyFileSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { restoreEnvAfterEach } from './helpers/env.js';
import { runDetect } from './helpers/run.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { EARLY_LOOK_STEPS, INLINE_TEXT_BYTES, lookedSmall } from '../dist/src/engine/small-input.js';
import { dropEarlyParsePool, earlyParsePoolShape, earlyParsePoolWaiting, startEarlyParsePool, takeEarlyParsePool } from '../dist/src/engine/early-pool.js';
import { dropLoneShard, launchLoneShard, loneShardWaiting } from '../dist/src/engine/lone-shard.js';
import { DEFAULT_RUN } from '../dist/src/engine/run.js';
import { run as detectRun, spec as detectSpec } from '../dist/src/cli/commands/detect.js';
import { parseArgs } from '../dist/src/app/args.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
// a parse pool left running keeps the process up past this (its threads never idle out)
const run = (args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, FLOWSIEVE_CONFIG: '' } });
const T0 = 1700006400;

/** detect's options for these inputs (the fields the early pool reads). */
const optsFor = (inputs: string[], over: Record<string, unknown> = {}) => ({ inputs, workers: 1, pipeline: 'auto', ...DEFAULT_RUN, ...over }) as never;

describe("detect's early parse pool", () => {
  it("takes its shape from the run's options, as the Engine does", () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    const file = join(dir, 'a.log');
    // a small input read in the main thread, the fused pipeline: none
    expect(earlyParsePoolShape(optsFor([file]))).toBeNull();
    expect(earlyParsePoolShape(optsFor([dir]))).toBeNull(); // a small folder
    expect(earlyParsePoolShape(optsFor([file], { pipeline: 'fused', workers: 2 }))).toBeNull();
    // the sharded pipeline: one small file starts one thread at once, of as many as asked
    expect(earlyParsePoolShape(optsFor([file], { pipeline: 'sharded', workers: 3 }))).toEqual({ threads: 3, started: 1 });
    expect(earlyParsePoolShape(optsFor([dir], { pipeline: 'sharded', workers: 2.5 }))).toEqual({ threads: 2, started: 2 });
    expect(earlyParsePoolShape(optsFor([dir], { pipeline: 'sharded', workers: 2, parseThreads: 1 }))).toEqual({ threads: 1, started: 1 });
    expect(earlyParsePoolShape(optsFor([file, join(dir, 'missing.log')]))).toEqual({ threads: 1, started: 1 });
    expect(earlyParsePoolShape(optsFor(['-'], { workers: 2 }))).toEqual({ threads: 2, started: 2 }); // stdin
    // a folder of more small files than the early look reads: a pool (detect's own look drops it)
    for (let i = 0; i < EARLY_LOOK_STEPS; i++) writeV2(join(dir, `m${i}.log`), scanner('45.3.3.3', 1, { start: T0 }));
    expect(earlyParsePoolShape(optsFor([dir]))).toEqual({ threads: 1, started: 1 });
  });

  it('is handed out only for its own shape', async () => {
    const two = optsFor(['-'], { workers: 2 });
    startEarlyParsePool(two);
    expect(takeEarlyParsePool(2, 1)).toBeNull(); // two threads, one started at once: another pool
    expect(earlyParsePoolWaiting()).toBe(false);
    startEarlyParsePool(two);
    expect(takeEarlyParsePool(1, 1)).toBeNull();
    startEarlyParsePool(two);
    const pool = takeEarlyParsePool(2, 2);
    expect(pool).not.toBeNull();
    expect(pool!.threads.length).toBe(2);
    expect(takeEarlyParsePool(2, 2)).toBeNull(); // taken once
    await pool!.destroy();
  });

  it('is taken by an Engine that asks for its shape, and dropped by one that does not', async () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    const file = join(dir, 'a.log');
    startEarlyParsePool(optsFor([file], { workers: 2, pipeline: 'sharded' }));
    expect(earlyParsePoolWaiting()).toBe(true);
    const taken = await runDetect([join(dir, 'a.log')], { workers: 2, pipeline: 'sharded' });
    expect(earlyParsePoolWaiting()).toBe(false);
    startEarlyParsePool(optsFor([file], { workers: 2, pipeline: 'sharded' }));
    const other = await runDetect([join(dir, 'a.log')], { workers: 1, pipeline: 'sharded' }); // one parse thread: not that pool
    expect(earlyParsePoolWaiting()).toBe(false);
    startEarlyParsePool(optsFor([file], { pipeline: 'sharded' }));
    expect(earlyParsePoolWaiting()).toBe(true);
    const small = await runDetect([join(dir, 'a.log')], { workers: 1, pipeline: 'auto' }); // a small input: read in this thread
    expect(small.pipeline).toBe('fused');
    expect(earlyParsePoolWaiting()).toBe(false);
    expect(other.scans).toEqual(taken.scans);
    expect(small.scans).toEqual(taken.scans);
    expect(taken.scans).toHaveLength(1);
    dropEarlyParsePool(); // none left: a no-op
  });

  it('is dropped by detect when the command fails after its start', async () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    const args = [join(dir, 'a.log'), '--out', join(dir, 'out'), '--quiet', '--pipeline', 'sharded', '--asn-db', join(dir, 'none.mmdb')];
    await expect(detectRun(parseArgs(detectSpec, args, { env: {} }))).rejects.toThrow();
    expect(earlyParsePoolWaiting()).toBe(false);
    // nor the look's answer: a folder looked at by a failed command, then grown, is looked at again
    const folder = join(dir, 'folder');
    mkdirSync(folder);
    writeV2(join(folder, 'a.log'), scanner('45.3.3.3', 11, { start: T0 }));
    const inFolder = [folder, '--out', join(dir, 'out'), '--quiet', '--asn-db', join(dir, 'none.mmdb')];
    await expect(detectRun(parseArgs(detectSpec, inFolder, { env: {} }))).rejects.toThrow(); // small: no pool, its answer kept
    truncateSync(join(folder, 'a.log'), INLINE_TEXT_BYTES + 1);
    expect(lookedSmall([folder])).toBe(false);
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
    // a failure after the pool's start (the ASN database opens after it)
    const badDb = run(['detect', join(dir, 'a.log'), '--out', out, '--quiet', '--pipeline', 'sharded', '--asn-db', join(dir, 'none.mmdb')]);
    expect([badDb.status, badDb.signal]).toEqual([1, null]);
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

/** A folder of GCP exports (vpc_flows in their paths): source 45.10.1.h probing port 3389 of 20 + h addresses, hour h. */
function gcpFolder(): string {
  const dir = tempDir();
  const day = join(dir, 'p1/compute.googleapis.com/vpc_flows/2024/03/01');
  mkdirSync(day, { recursive: true });
  for (let h = 0; h < 4; h++) {
    const lines = Array.from({ length: 20 + h }, (_, k) =>
      JSON.stringify({
        insertId: `i${h}-${k}`,
        jsonPayload: {
          connection: { src_ip: `45.10.1.${h}`, dest_ip: `10.1.0.${k + 2}`, src_port: 40000 + k, dest_port: 3389, protocol: 6 },
          reporter: 'DEST',
          start_time: `2024-03-01T0${h}:00:${String(k).padStart(2, '0')}Z`,
          end_time: `2024-03-01T0${h}:00:${String(k).padStart(2, '0')}Z`,
        },
        logName: 'projects/p1/logs/compute.googleapis.com%2Fvpc_flows',
        timestamp: `2024-03-01T0${h}:01:00Z`,
      }),
    );
    writeFileSync(join(day, `0${h}:00:00_0${h}:59:59_S0.json`), lines.join('\n') + '\n');
  }
  return dir;
}

describe("detect's early thread for a lone shard", () => {
  restoreEnvAfterEach('FLOWSIEVE_PARSE_HERE');
  restoreEnvAfterEach('FLOWSIEVE_EARLY_SHARD');

  it('starts where the main thread may parse and the one shard has a thread: a GCP folder, a plain file; not Azure, not at two workers', () => {
    const gcp = gcpFolder();
    const azure = tempDir();
    const blob = join(azure, 'insights-logs-networksecuritygroupflowevent/resourceId=/S/NSG/h=00/PT1H.json');
    mkdirSync(dirname(blob), { recursive: true });
    copyFileSync(new URL('./fixtures/azure-nsg-states.json', import.meta.url), blob);
    const sharded = { pipeline: 'sharded' };
    const cases: Array<[string[], Record<string, unknown>, boolean]> = [
      [[gcp], sharded, true],
      [[gcp], { ...sharded, workers: 2 }, false], // two shards, started by the Engine itself (and a parse pool here)
      [[gcp], { ...sharded, workers: 2, parseThreads: 1 }, false],
      [[gcp], {}, false], // a small folder: read fused in this thread
      [[azure], sharded, false], // Azure's one shard runs in the main thread (shard-place.ts)
      [[gcp, azure], sharded, false],
    ];
    for (const [inputs, over, started] of cases) {
      startEarlyParsePool(optsFor(inputs, over));
      expect([inputs, over, loneShardWaiting()]).toEqual([inputs, over, started]);
      if (started) expect(earlyParsePoolWaiting()).toBe(false); // the main thread parses: no parse pool
      dropLoneShard();
      dropEarlyParsePool();
    }
    process.env.FLOWSIEVE_PARSE_HERE = 'always'; // a plain file of any size parsed here
    const file = join(tempDir(), 'a.log');
    writeV2(file, scanner('45.3.3.3', 11, { start: T0 }));
    startEarlyParsePool(optsFor([file], sharded));
    expect(loneShardWaiting()).toBe(true);
    expect(earlyParsePoolShape(optsFor([file], sharded))).toBeNull();
    dropLoneShard();
    startEarlyParsePool(optsFor([blob], sharded)); // named Azure
    expect(loneShardWaiting()).toBe(false);
  });

  it("is started by the command line's start for a folder of GCP exports named first, before any option is read", () => {
    const gcp = gcpFolder();
    for (const [args, started] of [
      [[gcp, '--out', 'x'], true],
      [[gcp], true],
      [['--out', 'x', gcp], false], // the first argument only
      [[gcp, '--help'], false],
      [[gcp, '--list'], false],
      [[tempDir()], false], // an empty folder
      [[join(gcp, 'p1')], true], // the first file found down the folders
      [[], false],
    ] as Array<[string[], boolean]>) {
      launchLoneShard(args);
      expect([args, loneShardWaiting()]).toEqual([args, started]);
      dropLoneShard();
    }
    process.env.FLOWSIEVE_EARLY_SHARD = 'off';
    launchLoneShard([gcp]);
    startEarlyParsePool(optsFor([gcp], { pipeline: 'sharded' }));
    expect(loneShardWaiting()).toBe(false);
  });

  it('leaves no thread that keeps the process up: a run, a usage error, a small folder read in the main thread', () => {
    const gcp = gcpFolder();
    const out = join(tempDir(), 'out');
    const ran = run(['detect', gcp, '--out', out, '--quiet', '--no-enrich', '--pipeline', 'sharded']);
    expect([ran.status, ran.signal]).toEqual([0, null]);
    expect(readFileSync(join(out, 'scans.ndjson'), 'utf8').trim().split('\n')).toHaveLength(4);
    const bad = run(['detect', gcp, '--out', out, '--window', '7h']);
    expect([bad.status, bad.signal]).toEqual([1, null]);
    const small = run(['detect', gcp, '--out', join(tempDir(), 'out'), '--quiet', '--no-enrich']);
    expect([small.status, small.signal]).toEqual([0, null]);
  });

  it('is taken as the first of two shard threads, and dropped by a run that reads a small folder in the main thread', async () => {
    const gcp = gcpFolder();
    const two = await runDetect([gcp], { workers: 2, pipeline: 'sharded' });
    launchLoneShard([gcp]);
    const taken = await runDetect([gcp], { workers: 2, pipeline: 'sharded' });
    expect(loneShardWaiting()).toBe(false);
    expect(taken.scans).toEqual(two.scans);
    launchLoneShard([gcp]);
    const small = await runDetect([gcp], { workers: 1, pipeline: 'auto' });
    expect(small.pipeline).toBe('fused');
    expect(loneShardWaiting()).toBe(false);
    expect(small.scans).toEqual(two.scans);
  });

  it('is taken by the Engine that places its shard in a thread, and dropped by one that places it here; verdicts unchanged', async () => {
    const opts = { workers: 1, pipeline: 'sharded' };
    /** A run without the early thread, then one with it: the thread is gone after it. */
    const withAndWithout = async (input: string) => {
      const plain = await runDetect([input], opts);
      startEarlyParsePool(optsFor([input], opts));
      expect(loneShardWaiting()).toBe(true);
      const early = await runDetect([input], opts);
      expect(loneShardWaiting()).toBe(false);
      expect(early.scans).toEqual(plain.scans);
      expect(early.rejects).toEqual(plain.rejects);
      return early;
    };
    expect((await withAndWithout(gcpFolder())).scans).toHaveLength(4);
    // a plain file of Azure JSON not named so: the thread starts, planning places the shard here
    process.env.FLOWSIEVE_PARSE_HERE = 'always';
    const azure = join(tempDir(), 'nsg.json');
    copyFileSync(new URL('./fixtures/azure-nsg-states.json', import.meta.url), azure);
    await withAndWithout(azure);
  });
});
