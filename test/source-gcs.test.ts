/**
 * gs:// inputs through @google-cloud/storage against a real HTTP server on loopback that
 * speaks the GCS JSON API's objects.list and objects.get (test/helpers/gcs-server.ts; no
 * GCS emulator is published on npm or Debian). Same scans.ndjson as the files on disk,
 * paging, --from/--to over GCP's daily folders (GETs counted), retries after 503s, and an
 * object that never answers named in the report (exit code 2). No read may trip Node's
 * MaxListenersExceededWarning (the client library's response body gets 11 listeners a read:
 * src/source/gcs.ts).
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { expectBucketScansAsOnDisk, generatedLogs } from './helpers/buckets.js';
import { FakeGcs } from './helpers/gcs-server.js';
import { runDetect } from './helpers/run.js';

const dir = tempDir('flowsieve-src-gcs-');
const gcs = new FakeGcs();
let keys: string[] = [];
let root = '';
const env = () => ({ FLOWSIEVE_GCS_ENDPOINT: gcs.endpoint });

/** `fn`'s result and the messages of the MaxListenersExceededWarnings this process emitted meanwhile. */
async function withListenerWarnings<T>(fn: () => Promise<T>): Promise<[T, string[]]> {
  const warned: string[] = [];
  const collect = (w: Error) => {
    if (w.name === 'MaxListenersExceededWarning') warned.push(w.message);
  };
  process.on('warning', collect);
  try {
    const r = await fn();
    await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on the next tick
    return [r, warned];
  } finally {
    process.off('warning', collect);
  }
}

beforeAll(async () => {
  await gcs.start();
  ({ root, keys } = await generatedLogs(dir, 'gcp', 2, 6));
  for (const k of keys) gcs.put('vpc-logs', `export/${k}`, readFileSync(join(root, k)));
}, 60_000);

afterAll(async () => {
  await gcs.stop();
});

describe('gs:// inputs (GCS JSON API on loopback)', () => {
  it('detect on a bucket prefix writes the scans.ndjson of detect on the same files on disk', async () => {
    await expectBucketScansAsOnDisk(dir, root, ['gs://vpc-logs/export/'], env(), 'bucket', keys.length);
  }, 60_000);

  it('--from/--to lists only the daily folders in range and GETs only their objects', async () => {
    gcs.gets.length = 0;
    const day2 = keys.filter((k) => k.includes('/2024/03/02/'));
    expect(day2.length).toBeGreaterThan(0);
    expect(day2.length).toBeLessThan(keys.length);
    const [r, warned] = await withListenerWarnings(() =>
      runDetect(['gs://vpc-logs/export/'], {
        timeRange: { from: Date.UTC(2024, 2, 2) / 1000, to: Date.UTC(2024, 2, 3) / 1000 },
        source: { gcsEndpoint: gcs.endpoint },
      }),
    );
    expect(warned).toEqual([]);
    expect([...gcs.gets].sort()).toEqual(day2.map((k) => `export/${k}`).sort());
    expect(r.partial).toBe(false);
    expect(r.totals.records).toBeGreaterThan(0);
  }, 60_000);

  it('retries an object that answers 503, and names one that never answers (partial, the rest read)', async () => {
    const [flaky, dead] = [`export/${keys[0]}`, `export/${keys[1]}`];
    gcs.failures.set(flaky, 2);
    gcs.failures.set(dead, Infinity);
    gcs.gets.length = 0;
    const [r, warned] = await withListenerWarnings(() => runDetect(['gs://vpc-logs/export/'], { source: { gcsEndpoint: gcs.endpoint, backoffMs: 1, readAhead: 2 } }));
    gcs.failures.clear();
    expect(warned).toEqual([]);
    expect(gcs.gets.filter((g) => g === flaky)).toHaveLength(3);
    expect(gcs.gets.filter((g) => g === dead)).toHaveLength(4);
    expect(r.partial).toBe(true);
    const failed = r.files.filter((f: any) => f.error);
    expect(failed.map((f: any) => f.path)).toEqual([`gs://vpc-logs/${dead}`]);
    expect(failed[0].error).toMatch(new RegExp(`cannot read gs://vpc-logs/${dead.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: .*503.*\\(after 4 tries\\)`));
    expect(r.files.filter((f: any) => !f.error)).toHaveLength(keys.length - 1);
  }, 60_000);
});
