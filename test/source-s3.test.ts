/**
 * s3:// inputs against a real S3 protocol server on loopback (s3rver), through the AWS
 * SDK: detect on a bucket prefix writes the very scans.ndjson that detect on the same
 * files on disk writes; --from/--to skip date folders (the GETs are counted); a damaged
 * object is named and makes the run partial (exit code 2); --list reads nothing.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tempDir } from './helpers/tmp.js';
import { expectBucketScansAsOnDisk, filesUnder, generatedLogs, runCli, summaryOf } from './helpers/buckets.js';
import { runDetect } from './helpers/run.js';
import { Writable } from 'node:stream';
import { listInputs } from '../dist/src/source/list.js';
import { makePlan } from '../dist/src/cluster/plan.js';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');

const dir = tempDir('flowsieve-src-s3-');
let server: any;
let endpoint = '';
let keys: string[] = [];
let root = '';
const env = () => ({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', FLOWSIEVE_S3_ENDPOINT: endpoint });

beforeAll(async () => {
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3rver'), configureBuckets: [{ name: 'logs' }, { name: 'broken' }] });
  const { port } = await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  Object.assign(process.env, env());
  ({ root, keys } = await generatedLogs(dir, 'aws', 2, 6));
  const s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  for (const k of keys) await s3.send(new PutObjectCommand({ Bucket: 'logs', Key: `flow/${k}`, Body: readFileSync(join(root, k)) }));
  // a damaged gzip object beside a good one
  const good = readFileSync(join(root, keys[0]!));
  await s3.send(new PutObjectCommand({ Bucket: 'broken', Key: 'a/good.log.gz', Body: good }));
  const big = keys.map((k) => readFileSync(join(root, k))).sort((a, b) => b.length - a.length)[0]!;
  await s3.send(new PutObjectCommand({ Bucket: 'broken', Key: 'a/bad.log.gz', Body: big.subarray(0, Math.floor(big.length * 0.6)) }));
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('s3:// inputs', () => {
  it('detect on a bucket prefix writes the scans.ndjson of detect on the same files on disk', async () => {
    const s = await expectBucketScansAsOnDisk(dir, root, ['s3://logs/flow/'], env(), 'bucket', keys.length);
    expect(s.totals.records).toBe(summaryOf(join(dir, 'disk')).totals.records);
  }, 60_000);

  it('filter on a bucket prefix writes the files filter writes from disk, byte for byte, in the key layout', async () => {
    const scans = join(dir, 'disk');
    const fromDisk = await runCli(['filter', root, '--scans', scans, '--out', join(dir, 'filtered-disk'), '--quiet']);
    const fromBucket = await runCli(['filter', 's3://logs/flow/', '--scans', scans, '--out', join(dir, 'filtered-bucket'), '--quiet'], env());
    expect(fromDisk.code, fromDisk.stderr).toBe(0);
    expect(fromBucket.code, fromBucket.stderr).toBe(0);
    const written = filesUnder(join(dir, 'filtered-bucket'));
    expect(written).toEqual(filesUnder(join(dir, 'filtered-disk')));
    expect(written).toEqual(keys);
    for (const k of written) expect(readFileSync(join(dir, 'filtered-bucket', k)).equals(readFileSync(join(dir, 'filtered-disk', k))), k).toBe(true);
  }, 60_000);

  it('cluster submit plans a bucket prefix as its objects, each read by its URL', async () => {
    const { plan } = await makePlan(
      { inputs: ['s3://logs/flow/'], partitions: 2, stage: 'replay', options: {}, groupBytes: 1 << 20, attempts: 1, backoffMs: 0 },
      { source: { s3Endpoint: endpoint } },
    );
    expect(plan.files.map((f: any) => f.path)).toEqual(keys.map((k) => `s3://logs/flow/${k}`));
    expect(plan.files.map((f: any) => f.size)).toEqual(keys.map((k) => readFileSync(join(root, k)).length));
    expect(plan.files.every((f: any) => f.mtimeMs > 0 && !f.error)).toBe(true);
  });

  it('--from/--to lists only the date folders in range and GETs only their objects', async () => {
    const gets: string[] = [];
    const day2 = keys.filter((k) => k.includes('/2024/03/02/'));
    expect(day2.length).toBeGreaterThan(0);
    expect(day2.length).toBeLessThan(keys.length);
    const r = await runDetect(['s3://logs/flow/'], {
      timeRange: { from: Date.UTC(2024, 2, 2) / 1000, to: Date.UTC(2024, 2, 3) / 1000 },
      source: { s3Endpoint: endpoint, onGet: (u: string) => gets.push(u) },
    });
    expect(gets.sort()).toEqual(day2.map((k) => `s3://logs/flow/${k}`).sort());
    expect(r.files).toHaveLength(day2.length);
    expect(r.partial).toBe(false);
    // the records are cut at the range too: what remains starts on 2024-03-02
    expect(r.totals.records).toBeGreaterThan(0);
    expect(r.files.every((f: any) => f.minStart >= Date.UTC(2024, 2, 2) / 1000 && f.minStart < Date.UTC(2024, 2, 3) / 1000)).toBe(true);
    // a local folder is pruned and cut the same way
    const local = await runDetect([root], { timeRange: { from: Date.UTC(2024, 2, 2) / 1000, to: Date.UTC(2024, 2, 3) / 1000 } });
    expect(local.files).toHaveLength(day2.length);
    expect(local.scans).toEqual(r.scans);
    expect(local.totals).toEqual(r.totals);
  }, 60_000);

  it('a damaged object is named, counted, and makes the run partial (exit code 2)', async () => {
    const out = join(dir, 'broken');
    const r = await runCli(['detect', 's3://broken/a/', '--out', out, '--workers', '1'], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('s3://broken/a/bad.log.gz');
    const s = summaryOf(out);
    expect(s.partial).toBe(true);
    expect(s.totals.files_failed).toBe(1);
    expect(s.files.find((f: any) => f.path === 's3://broken/a/bad.log.gz').error).toMatch(/truncated/);
    expect(s.files.find((f: any) => f.path === 's3://broken/a/good.log.gz').error).toBeUndefined();
  }, 60_000);

  it('a missing bucket is an unreadable input with the reason (the run is partial)', async () => {
    const r = await runDetect(['s3://no-such-bucket/x/'], { workers: 1, source: { s3Endpoint: endpoint } });
    expect(r.partial).toBe(true);
    expect(r.files[0].error).toMatch(/^cannot list s3:\/\/no-such-bucket\/x\/: NoSuchBucket/);
  }, 60_000);

  it('--list prints the objects, their bytes and days, and fetches nothing', async () => {
    const gets: string[] = [];
    let text = '';
    const sink = new Writable({ write(chunk, _enc, done) { text += chunk; done(); } });
    const from = Date.UTC(2024, 2, 2) / 1000;
    const code = await listInputs(['s3://logs/flow/'], { timeRange: { from, to: 2 ** 32 }, source: { s3Endpoint: endpoint, onGet: (u: string) => gets.push(u) } } as any, sink);
    expect(code).toBe(0);
    expect(gets).toEqual([]);
    const lines = text.trim().split('\n');
    const day2 = keys.filter((k) => k.includes('/2024/03/02/'));
    expect(lines).toHaveLength(day2.length + 1);
    expect(lines[0]).toMatch(/^\d+\t2024-03-02\ts3:\/\/logs\/flow\/AWSLogs\//);
    expect(lines.at(-1)).toMatch(new RegExp(`^total\\t${day2.length} object\\(s\\)/file\\(s\\), \\d+ bytes, 2024-03-02\\.\\.2024-03-02 \\(1 day`));
  }, 60_000);
});
