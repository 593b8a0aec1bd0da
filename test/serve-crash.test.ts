/**
 * Crash safety, for real: `flowsieve serve` runs as a child process while files land in
 * its spool, is killed with SIGKILL at random points several times and restarted, and
 * must end with exactly the verdicts, endpoint-day facts and alerts of one uninterrupted
 * `detect` over the same files: nothing lost, nothing counted twice.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { spawnSync } from 'node:child_process';
import { CLI, dropFile, getJson, openSqlite, openStateDb, startServe, stopServe, until } from './helpers/serve.js';
import { T0, clockFile, streamFiles, streamFlows } from './helpers/stream.js';
import { scanRecord, alertRecord } from '../dist/src/output/verdicts.js';

const W = 3600;
const HOURS = 30;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('serve: SIGKILL at random points, restart, same result as one detect', () => {
  it('ends with the verdicts and history of an uninterrupted detect', async () => {
    const seed = Number(process.env.FLOWSIEVE_CRASH_SEED ?? Date.now() % 100000);
    let s = seed;
    const random = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    console.log(`crash test seed ${seed} (FLOWSIEVE_CRASH_SEED=${seed} repeats it)`);

    const dir = tempDir();
    const files = [...streamFiles(streamFlows(HOURS)), clockFile(T0 + 49 * 3600)];
    const all = join(dir, 'all');
    mkdirSync(all);
    for (const f of files) writeFileSync(join(all, f.name), f.text);
    const expected = await runDetect([all], { windowSeconds: W, nearMisses: false });
    expect(expected.scans.length).toBeGreaterThan(90);
    expect(expected.alerts.some((a: any) => a.wormSignature)).toBe(true);

    const spool = join(dir, 'spool');
    const state = join(dir, 'state');
    mkdirSync(spool);
    const args = ['--spool', spool, '--state', state, '--window', '1h', '--lateness', '30m', '--settle', '0', '--poll', '50ms', '--batch-files', '2', '--workers', '2', '--no-enrich'];

    // the shipper: one file every 60 ms, whatever happens to serve
    let fed = 0;
    const feeder = (async () => {
      for (const f of files) {
        dropFile(spool, f.name, f.text);
        fed++;
        await sleep(60);
      }
    })();

    // first into the gaps between the steps of a commit (a self-inflicted SIGKILL at a
    // named point), then at random moments
    const points = ['after-checkpoint', 'after-append', 'after-ingest', 'after-commit', 'after-moves'];
    const kills = 4;
    let batchesSeen = 0;
    let resumed = 0;
    let redelivered = 0;
    for (let k = 0; k < points.length + kills; k++) {
      const point = points[k];
      const serve = await startServe(args, point ? { FLOWSIEVE_TEST_CRASH_AT: `${point}:2` } : {});
      await serve.waitLog(/ready: batch/);
      if (point) {
        const outcome = await Promise.race([serve.exited, sleep(30_000).then(() => 'still running')]);
        if (outcome !== null) serve.proc.kill('SIGKILL');
        expect(outcome, `crash point ${point} not reached`).toBe(null); // it killed itself there
      } else {
        await sleep(50 + Math.floor(random() * 900));
        serve.proc.kill('SIGKILL');
        expect(await serve.exited).toBe(null);
        // an at-least-once shipper delivers again files serve already took (a file still
        // waiting would only move back in the queue, and its records could become late)
        const taken = existsSync(join(spool, '.done')) ? readdirSync(join(spool, '.done')).filter((n) => n.endsWith('.log')).sort() : [];
        for (let r = 0; r < 2 && taken.length > 0; r++) {
          const pick = taken[Math.floor(random() * taken.length)];
          const f = files.find((x) => x.name === pick);
          if (!f) throw new Error(`no test file named ${pick}`);
          dropFile(spool, f.name, f.text);
          redelivered++;
        }
      }
      batchesSeen += (serve.log().match(/batch \d+: /g) ?? []).length;
      resumed += (serve.log().match(/resuming: applying batch/g) ?? []).length;
    }
    // a crash after the checkpoint and before the database commit is finished at restart
    expect(resumed).toBeGreaterThanOrEqual(2);
    await feeder;
    expect(fed).toBe(files.length);

    const serve = await startServe(args);
    await serve.waitLog(/ready: batch/);
    const status = await until(
      async () => {
        const st = (await getJson(`${serve.url}/v1/status`)).body;
        return st.files_pending === 0 && st.finalized_through === '2023-11-17T00:00:00Z' ? st : null;
      },
      60_000,
      'the spool to drain',
    );
    expect(status.late_records).toBe(0);
    expect(await stopServe(serve)).toBe(0);
    console.log(`${points.length} crashes at commit steps + ${kills} random kills, ${redelivered} files delivered twice; ${batchesSeen} batches committed before the last start; final batch ${status.batch}`);
    expect(serve.log()).toMatch(/stopped/);

    // every file processed exactly once, and gone from the spool
    expect(readdirSync(spool).filter((n) => !n.startsWith('.'))).toEqual([]);
    const done = readdirSync(join(spool, '.done'));
    expect([...new Set(done.map((n) => n.replace(/\.log\.\d+$/, '.log')))].sort()).toEqual(files.map((f) => f.name).sort());
    expect(done.length).toBeLessThanOrEqual(files.length + redelivered); // second deliveries set aside, not read
    const db = openStateDb(state);
    try {
      expect(db.all('SELECT name, COUNT(*) AS n FROM files GROUP BY name HAVING n > 1')).toEqual([]);
      expect(db.all('SELECT COUNT(*) AS n FROM files')[0].n).toBe(files.length);
      expect(db.all('SELECT SUM(records) AS n FROM files')[0].n).toBe(expected.totals.records);

      // verdicts: scans.ndjson is byte for byte what detect writes (finalised in window order)
      const lines = readFileSync(join(state, 'scans.ndjson'), 'utf8').trim().split('\n');
      const want = expected.scans.map((v: any) => JSON.stringify(scanRecord(v, W)));
      expect(lines.length).toBe(want.length);
      expect(lines).toEqual(want);
      expect(db.all('SELECT COUNT(*) AS n FROM scans')[0].n).toBe(want.length);

      // history: scanner days, endpoint-days (distinct scanners per day across windows), alerts
      const days = (rows: Array<{ src: string; day: string }>) => rows.map((r) => `${r.day} ${r.src}`).sort();
      expect(days(db.all('SELECT DISTINCT src, day FROM scans'))).toEqual(
        days([...new Set(expected.scans.map((v: any) => `${v.src}|${new Date(v.window * W * 1000).toISOString().slice(0, 10)}`))].map((x) => {
          const [src, day] = (x as string).split('|');
          return { src: src!, day: day! };
        })),
      );
      const eds = db.all('SELECT day, cloud, account, endpoint, scanners, ports FROM endpoint_days ORDER BY day, cloud, account, endpoint');
      expect(eds.map((r: any) => ({ ...r, ports: JSON.parse(r.ports) }))).toEqual(
        expected.endpointDays.map((d: any) => ({ day: d.day, cloud: d.cloud, account: d.account, endpoint: d.endpoint, scanners: d.scanners, ports: d.ports })),
      );
      expect(eds.find((r: any) => r.endpoint === '10.0.9.1')!.scanners).toBe(1); // the persistent scanner, once a day
      expect(db.all('SELECT COUNT(*) AS n FROM endpoint_day_sources')[0].n).toBe(0); // both days complete: lists folded
      const alerts = db.all('SELECT record FROM alerts').map((r: any) => r.record).sort();
      expect(alerts).toEqual(expected.alerts.map((a: any) => JSON.stringify(alertRecord(a, W))).sort());
    } finally {
      db.close();
    }

    // the shared history store (flowsieve history/export/report) got both days, as a
    // detect --state run over the same files records them
    const hist = join(dir, 'history');
    const d = spawnSync(process.execPath, [CLI, 'detect', all, '--out', join(dir, 'out'), '--state', hist, '--window', '1h', '--workers', '2', '--quiet'], { encoding: 'utf8' });
    expect(d.status, d.stderr).toBe(0);
    const queries = [
      'SELECT d.day, i.ip, d.scan_keys, d.flows, d.packets, d.bytes, d.ports, d.max_endpoints, d.first_seen, d.last_seen FROM scanner_days d JOIN ips i USING (ip_id) ORDER BY d.day, i.ip_key',
      'SELECT p.day, i.ip, p.protocol, p.port, p.scan_keys, p.flows, p.packets, p.bytes, p.max_endpoints FROM scanner_day_ports p JOIN ips i USING (ip_id) ORDER BY p.day, i.ip_key, p.protocol, p.port',
      'SELECT day, cloud, account, endpoint, scanner_ips, ports FROM endpoint_days ORDER BY day, cloud, account, endpoint',
    ];
    const served = openSqlite(join(state, 'flowsieve-history.sqlite'));
    const batch = openSqlite(join(hist, 'flowsieve-history.sqlite'));
    try {
      expect(served.all(queries[0]!).length).toBeGreaterThan(50);
      for (const q of queries) expect(served.all(q), q).toEqual(batch.all(q));
      expect(served.all('SELECT COUNT(*) AS n FROM runs')[0].n).toBe(2); // one per complete day
    } finally {
      served.close();
      batch.close();
    }
  });
});
