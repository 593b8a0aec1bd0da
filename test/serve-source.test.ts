/**
 * `serve --source s3://…` on a loopback S3 server (s3rver): a 3-day backlog of AWS objects
 * is read oldest flows first, more objects arrive while it runs, serve is SIGKILLed twice
 * and restarted, and it ends with the verdicts of one `detect` over the same objects:
 * nothing read twice (the ledger), nothing skipped, nothing late.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { tempDir } from './helpers/tmp.js';
import { generatedLogs } from './helpers/buckets.js';
import { V2_HEADER, v2Line } from './helpers/aws.js';
import { runDetect } from './helpers/run.js';
import { getJson, openStateDb, startServe, stopServe, until } from './helpers/serve.js';
import { scanRecord } from '../dist/src/output/verdicts.js';

const require = createRequire(import.meta.url);
const S3rver = require('s3rver');
const W = 21600;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dir = tempDir('flowsieve-serve-src-');
let server: any;
let endpoint = '';
let s3: S3Client;
let root = '';
let keys: string[] = [];
const env = () => ({ AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1', FLOWSIEVE_S3_ENDPOINT: endpoint });
const put = (k: string) => s3.send(new PutObjectCommand({ Bucket: 'logs', Key: `flow/${k}`, Body: readFileSync(join(root, k)) }));

beforeAll(async () => {
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: join(dir, 's3rver'), configureBuckets: [{ name: 'logs' }] });
  endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  s3 = new S3Client({ endpoint, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } });
  ({ root, keys } = await generatedLogs(dir, 'aws', 3, 4));
  // a last object whose flow time moves the watermark past the third day, so every window closes
  const clock = 'AWSLogs/111111111111/vpcflowlogs/us-east-1/2024/03/04/111111111111_vpcflowlogs_us-east-1_fl-clock_20240304T0300Z_c.log';
  mkdirSync(dirname(join(root, clock)), { recursive: true });
  writeFileSync(join(root, clock), [V2_HEADER, v2Line({ src: '10.200.0.1', dst: '10.200.0.2', dport: 5000, start: Date.UTC(2024, 2, 4, 3) / 1000, action: 'ACCEPT' })].join('\n') + '\n');
  keys.push(clock);
}, 60_000);

afterAll(async () => {
  await server?.close();
});

describe('serve --source s3://', () => {
  it('a backlog plus live arrivals, SIGKILLed twice: the verdicts of one detect, every object read once', async () => {
    const expected = await runDetect([root], { windowSeconds: W, nearMisses: false });
    expect(expected.scans.length).toBeGreaterThan(10);
    // the backlog: the first two days and the morning of the third; the rest arrives live
    const live = keys.filter((k) => /_20240303T(1[2-9]|2\d)|_20240304T/.test(k));
    const backlog = keys.filter((k) => !live.includes(k));
    expect(live.length).toBeGreaterThan(4);
    for (const k of backlog) await put(k);

    const state = join(dir, 'state');
    const args = ['--source', 's3://logs/flow/', '--state', state, '--window', '6h', '--lateness', '30m', '--poll', '50ms', '--batch-files', '3', '--workers', '2', '--idle-stream', '3s', '--no-enrich'];
    let arrived = 0;
    for (let kill = 0; kill < 2; kill++) {
      const serve = await startServe(args, env());
      await serve.waitLog(/ready: batch/);
      await serve.waitLog(new RegExp(`batch ${kill * 4 + 3}: `), 60_000);
      if (kill === 1) for (; arrived < live.length / 2; arrived++) await put(live[arrived]!);
      serve.proc.kill('SIGKILL');
      expect(await serve.exited).toBe(null);
    }
    const serve = await startServe(args, env());
    await serve.waitLog(/ready: batch/);
    for (; arrived < live.length; arrived++) {
      await put(live[arrived]!);
      await sleep(30);
    }
    const status = await until(
      async () => {
        const st = (await getJson(`${serve.url}/v1/status`)).body;
        return st.files_pending === 0 && st.finalized_through === '2024-03-04T00:00:00Z' ? st : null;
      },
      90_000,
      'the bucket to be read',
    );
    expect(status.late_records).toBe(0);
    expect(await stopServe(serve)).toBe(0);

    const db = openStateDb(state);
    try {
      expect(db.all('SELECT name, COUNT(*) AS n FROM files GROUP BY name HAVING n > 1')).toEqual([]);
      expect(db.all('SELECT COUNT(*) AS n FROM files')[0].n).toBe(keys.length);
      expect(db.all('SELECT SUM(records) AS n FROM files')[0].n).toBe(expected.totals.records);
      // the backlog was read oldest flows first (the time in each AWS object's name), batch after batch
      const times = db.all('SELECT name FROM files ORDER BY seq, name').map((r: any) => /_(\d{8}T\d{4})Z_/.exec(r.name)![1]!);
      const bySeq = db.all('SELECT seq, name FROM files ORDER BY seq').map((r: any) => [r.seq, /_(\d{8}T\d{4})Z_/.exec(r.name)![1]!]);
      for (let i = 1; i < bySeq.length; i++) if (bySeq[i][0] !== bySeq[i - 1][0]) expect(bySeq[i][1] >= bySeq[i - 1][1], `${bySeq[i - 1]} then ${bySeq[i]}`).toBe(true);
      expect(times.length).toBe(keys.length);
      const lines = readFileSync(join(state, 'scans.ndjson'), 'utf8').trim().split('\n');
      expect(lines).toEqual(expected.scans.map((v: any) => JSON.stringify(scanRecord(v, W))));
      const perDay = (rows: Array<{ day: string; n: number }>) => Object.fromEntries(rows.map((r) => [r.day, r.n]));
      const want: Record<string, Set<string>> = {};
      for (const v of expected.scans as any[]) (want[new Date(v.window * W * 1000).toISOString().slice(0, 10)] ??= new Set()).add(v.src);
      expect(perDay(db.all('SELECT day, COUNT(DISTINCT src) AS n FROM scans GROUP BY day ORDER BY day'))).toEqual(
        Object.fromEntries(Object.entries(want).map(([d, s]) => [d, s.size])),
      );
    } finally {
      db.close();
    }
  }, 180_000);
});
