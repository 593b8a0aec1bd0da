/**
 * The cluster store on an S3-compatible bucket, against a real S3 protocol server on
 * loopback (s3rver: an HTTP server speaking the S3 REST API over a folder), through the
 * AWS SDK the production store uses.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { tempDir } from './helpers/tmp.js';
import { openStore } from '../dist/src/cluster/open-store.js';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

describe('S3 store (s3://bucket/prefix, S3-compatible endpoint)', () => {
  let server: any;
  let endpoint = '';
  beforeAll(async () => {
    const dir = tempDir('flowsieve-s3rver-');
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: 'flowlogs' }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  });
  afterAll(async () => {
    await server?.close();
  });

  it('puts, gets, sizes, lists and round-trips files and folders', async () => {
    const store = openStore('s3://flowlogs/runs/r1', { endpoint });
    expect(store.where).toBe('s3://flowlogs/runs/r1');
    expect(await store.size('plan.json')).toBeUndefined();
    await store.put('plan.json', JSON.stringify({ a: 1 }));
    expect(JSON.parse((await store.get('plan.json')).toString('utf8'))).toEqual({ a: 1 });
    expect(await store.size('plan.json')).toBe(7);

    const local = join(tempDir(), 'big.bin');
    const bytes = Buffer.alloc(3 << 20, 7);
    writeFileSync(local, bytes);
    expect(await store.putFile('groups/g0000.fsr', local)).toBe(bytes.length);
    expect(await store.putWith('partials/partial-0-of-2.fsp', async (p) => writeFileSync(p, 'zero'))).toBe(4);
    await store.writeFolder('out', (dir) => {
      mkdirSync(join(dir, 'stats'), { recursive: true });
      writeFileSync(join(dir, 'scans.ndjson'), '{}\n');
      writeFileSync(join(dir, 'stats', 'ports.ndjson'), '[]\n');
    });
    expect(await store.list('')).toEqual(['groups/g0000.fsr', 'out/scans.ndjson', 'out/stats/ports.ndjson', 'partials/partial-0-of-2.fsp', 'plan.json']);
    expect(await store.list('out')).toEqual(['out/scans.ndjson', 'out/stats/ports.ndjson']);
    const seen = await store.withLocalFiles(['groups/g0000.fsr', 'partials/partial-0-of-2.fsp'], async (paths) =>
      paths.map((p) => readFileSync(p).length),
    );
    expect(seen).toEqual([bytes.length, 4]);
    // a second run's prefix does not see the first's objects
    expect(await openStore('s3://flowlogs/runs/r2', { endpoint }).list('')).toEqual([]);
    // bad keys are refused before any request
    await expect(store.put('../escape', 'x')).rejects.toThrow(/bad store key/);
  });

  it('says clearly when the bucket does not exist', async () => {
    const store = openStore('s3://no-such-bucket/x', { endpoint });
    await expect(store.put('a', 'b')).rejects.toThrow(/bucket/i);
  });
});

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { HAVE_REDIS, TestRedis } from './helpers/redis.js';
import { writeScaleOutInput } from './helpers/scaleout.js';

const CLI = new URL('../dist/src/cli/main.js', import.meta.url).pathname;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';

describe.skipIf(!HAVE_REDIS && !IN_CI)('a cluster run on the S3 store', () => {
  let server: any;
  let endpoint = '';
  const redis = new TestRedis(tempDir('flowsieve-redis-'));
  const procs: ChildProcess[] = [];
  beforeAll(async () => {
    server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: tempDir('flowsieve-s3rver-'), configureBuckets: [{ name: 'runs' }] });
    endpoint = `http://127.0.0.1:${(await server.run()).port}`;
    await redis.start();
  });
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL');
    await redis.stop();
    await server?.close();
  });

  it('two workers, P = 4, the store in a bucket: the same verdicts as one detect', async () => {
    const root = tempDir('flowsieve-s3run-');
    const data = writeScaleOutInput(root);
    const inputs = data.inputs.filter((p) => !p.includes('missing'));
    const single = join(root, 'single');
    const d = spawnSync(process.execPath, [CLI, 'detect', ...inputs, '--out', single, '--workers', '1', '--no-enrich', '--quiet'], { encoding: 'utf8' });
    expect([0, 2]).toContain(d.status);
    const env = { ...process.env, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
    let log = '';
    const conn = ['--redis', redis.url, '--store', 's3://runs/flowsieve', '--s3-endpoint', endpoint];
    for (let i = 0; i < 2; i++) {
      const w = spawn(process.execPath, [CLI, 'cluster', 'worker', ...conn, '--workers', '1'], { stdio: ['ignore', 'pipe', 'pipe'], env });
      w.stdout!.on('data', (x) => (log += x));
      w.stderr!.on('data', (x) => (log += x));
      procs.push(w);
    }
    const sub = await spawnAsync(
      process.execPath,
      [CLI, 'cluster', 'submit', ...inputs, ...conn, '--partitions', '4', '--run', 's3-test', '--no-enrich', '--wait'],
      env,
    );
    expect([0, 2], `${sub.stderr}\n${log}`).toContain(sub.status);
    const store = openStore('s3://runs/flowsieve', { endpoint });
    const keys = await store.list('runs/s3-test/out');
    expect(keys).toContain('runs/s3-test/out/scans.ndjson');
    const scans = (await store.get('runs/s3-test/out/scans.ndjson')).toString('utf8');
    expect(scans.length).toBeGreaterThan(10);
    expect(scans).toBe(readFileSync(join(single, 'scans.ndjson'), 'utf8'));
  }, 300_000);
});

/** A child process run to its end without blocking the event loop (the workers' logs keep flowing). */
function spawnAsync(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('close', (status) => resolve({ status, stderr }));
  });
}
