/**
 * detect's pools started as the command line starts (src/cli/prestart.ts, src/engine/pools.ts):
 * which arguments start them, that the engine takes them instead of making its own (no more
 * threads than without), that the outputs do not change, and that a run that fails before
 * its engine still ends.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers/tmp.js';
import { DETECT_FLAGS, detectPoolsAhead } from '../dist/src/cli/prestart.js';
import { spec } from '../dist/src/cli/commands/detect.js';
import { dropPoolsAhead, newPool, parsePoolOptions, poolsAhead, shardPoolOptions, startPoolsAhead } from '../dist/src/engine/pools.js';
import { defaultWorkers } from '../dist/src/engine/machine.js';
import { INLINE_TEXT_BYTES } from '../dist/src/engine/fused.js';

const ROOT = join(import.meta.dirname, '..');
const root = tempDir('flowsieve-prestart-');

/** A sparse file of `bytes`, starting with `head`. */
function file(name: string, bytes: number, head = ''): string {
  const path = join(root, name);
  writeFileSync(path, head);
  truncateSync(path, bytes);
  return path;
}

const big = file('big.log', INLINE_TEXT_BYTES + 1);
const small = file('small.log', 1000);
const W = defaultWorkers();

describe('detectPoolsAhead', () => {
  it('knows every option of detect that takes no value', () => {
    expect(new Set(DETECT_FLAGS)).toEqual(new Set(spec.options.filter((o) => o.type === 'boolean').map((o) => o.name)));
  });

  it('starts a parse pool and a pool a shard, as the engine makes them, for an input read in threads', () => {
    const pools = detectPoolsAhead([big, '--out', join(root, 'out'), '--quiet', '--no-enrich'], undefined, {});
    expect(pools).toEqual([parsePoolOptions(W, W), ...Array.from({ length: W }, shardPoolOptions)]);
    // an option's value is not an input; an input after an option that takes none is
    expect(detectPoolsAhead([small, '--region-map', big, '--out', join(root, 'out')], undefined, {})).toEqual([]);
    expect(detectPoolsAhead(['--quiet', big, '--out=x'], undefined, {})).toHaveLength(W + 1);
    expect(detectPoolsAhead(['--out', 'x', '--', big], undefined, {})).toHaveLength(W + 1);
  });

  it('follows --workers and --parse-threads, given as flags or variables', () => {
    const shapes = (parse: number, shards: number) => [parsePoolOptions(parse, parse), ...Array.from({ length: shards }, shardPoolOptions)];
    expect(detectPoolsAhead([big, '--workers', '2', '--out', 'x'], undefined, {})).toEqual(shapes(2, 2));
    expect(detectPoolsAhead([big, '--workers=3', '--parse-threads', '1', '--out', 'x'], undefined, {})).toEqual(shapes(1, 3));
    expect(detectPoolsAhead([big, '--out', 'x'], undefined, { FLOWSIEVE_WORKERS: '2', FLOWSIEVE_PARSE_THREADS: '' })).toEqual(shapes(2, 2));
    expect(detectPoolsAhead([big, '--workers', '1', '--out', 'x'], undefined, { FLOWSIEVE_WORKERS: '4' })).toEqual(shapes(1, 1)); // the flag first
  });

  it('starts no parse thread at once for replay files alone', () => {
    const replay = file('big.fsr', INLINE_TEXT_BYTES + 1, 'FSREPLAY');
    expect(detectPoolsAhead([replay, '--out', 'x'], undefined, {})[0]).toEqual(parsePoolOptions(W, 0));
  });

  it('starts none where the guess is not certain: a small input, stdin, a URL, a missing path, options that shape the pools, a config file', () => {
    const none = (args: string[], env: Record<string, string> = {}, config?: string) => expect(detectPoolsAhead(args, config, env)).toEqual([]);
    none([small, '--out', 'x']);
    none([big, '-', '--out', 'x']);
    none([big, 's3://bucket/prefix/', '--out', 'x']);
    none([big, join(root, 'missing.log'), '--out', 'x']);
    none(['--out', 'x']);
    for (const flag of ['--pipeline', '--partition', '--partials']) none([big, flag, '2', '--out', 'x']);
    none([big, '--pipeline=sharded', '--out', 'x']);
    none([big, '--list']);
    none([big, '-h']);
    none([big, '--out', 'x'], { FLOWSIEVE_PIPELINE: 'fused' });
    none([big, '--workers', 'two', '--out', 'x']);
    none([big, '--workers', '2', '--workers', '3', '--out', 'x']);
    none([big, '--out', 'x', '--parse-threads', '0']);
    none([big, '--out', 'x'], { FLOWSIEVE_PRESTART: 'off' });
    none([big, '--out', 'x'], {}, join(root, 'flowsieve.yaml'));
  });
});

describe('pools started ahead', () => {
  it('are taken by a pool of the same options, once, and the others destroyed', async () => {
    // no thread at once (minThreads 0): the pools alone are tested here
    startPoolsAhead([parsePoolOptions(1, 0), parsePoolOptions(2, 0)]);
    expect(poolsAhead()).toBe(2);
    const taken = newPool(parsePoolOptions(2, 0));
    expect(poolsAhead()).toBe(1);
    const made = newPool(parsePoolOptions(2, 0)); // none left of those options: a new one
    expect(made).not.toBe(taken);
    expect(poolsAhead()).toBe(1);
    await dropPoolsAhead();
    expect(poolsAhead()).toBe(0);
    await Promise.all([taken.destroy(), made.destroy()]);
  });

  it('start no more threads in a detect run than without, and change no output; a run that fails first still ends', () => {
    const dir = join(root, 'run');
    mkdirSync(dir, { recursive: true });
    // a v2 text file past the small input's bytes: read in threads
    const line = (i: number) => `2 123456789012 eni-0a1b2c3d 203.0.113.${i % 200} 10.0.${(i >> 8) & 255}.${i & 255} 40000 ${i % 1000} 6 1 44 1700000000 1700000060 REJECT OK\n`;
    const lines: string[] = ['version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n'];
    let bytes = 0;
    for (let i = 0; bytes <= INLINE_TEXT_BYTES; i++) {
      const l = line(i);
      lines.push(l);
      bytes += l.length;
    }
    const input = join(dir, 'flows.log');
    writeFileSync(input, lines.join(''));
    expect(detectPoolsAhead([input, '--out', 'x'], undefined, {})).toHaveLength(W + 1);
    // counts the worker threads a process makes (printed on stderr at exit)
    const probe = join(dir, 'count-workers.cjs');
    writeFileSync(probe, `const wt = require('node:worker_threads'); let n = 0; const W = wt.Worker;
wt.Worker = class extends W { constructor(...a) { super(...a); n++; } };
process.on('exit', () => process.stderr.write('workers ' + n + '\\n'));`);
    const run = (out: string, env: Record<string, string>, ...more: string[]) =>
      spawnSync(process.execPath, ['-r', probe, join(ROOT, 'dist/src/cli/main.cjs'), 'detect', input, '--quiet', '--no-enrich', ...(out ? ['--out', join(dir, out)] : []), ...more], {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        timeout: 60_000,
      });
    const on = run('on', {});
    const off = run('off', { FLOWSIEVE_PRESTART: 'off' });
    expect(on.status).toBe(0);
    expect(off.status).toBe(0);
    const workers = (r: ReturnType<typeof run>) => /workers (\d+)/.exec(r.stderr)?.[1];
    expect(workers(on)).toBe(workers(off));
    for (const f of ['scans.ndjson', 'outbound.ndjson', 'files.ndjson', 'rejects.ndjson']) expect(readFileSync(join(dir, 'on', f), 'utf8')).toBe(readFileSync(join(dir, 'off', f), 'utf8'));
    // two workers, two parse threads: four threads either way
    const two = run('two', {}, '--workers', '2');
    expect(two.status).toBe(0);
    expect(workers(two)).toBe(workers(run('two-off', { FLOWSIEVE_PRESTART: 'off' }, '--workers', '2')));
    expect(readFileSync(join(dir, 'two', 'scans.ndjson'), 'utf8')).toBe(readFileSync(join(dir, 'on', 'scans.ndjson'), 'utf8'));
    // no --out: a usage error after the pools started; the process still ends, with its code
    const failed = run('', {});
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain('--out');
  });
});
