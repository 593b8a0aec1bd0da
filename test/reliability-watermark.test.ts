/**
 * Issue 16 item 1: one record stamped in the future must not stop a sidecar. Such records
 * are rejected as bad lines (in detect too), and the watermark is kept per source stream,
 * so one stream running ahead cannot make the others' records late.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, utimesSync } from 'node:fs';
import { openStateDb } from './helpers/serve.js';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { runDetect } from './helpers/run.js';
import { Sidecar } from '../dist/src/serve/sidecar.js';
import { Watermarks, streamOfPath } from '../dist/src/serve/windows.js';
import { fileTimeOf, notAfterFor } from '../dist/src/input/file-time.js';
import { DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';

const T0 = 1700006400; // 2023-11-15T00:00:00Z
const W = 3600;
const Y2100 = 4102444800;
const detectOpts = () =>
  ({ inputs: [], workers: 2, windowSeconds: W, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: false, outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN }) as any;

describe('records stamped in the future', () => {
  it('detect rejects them as bad lines, counted, with the reason', async () => {
    const dir = tempDir();
    const file = join(dir, 'a.log');
    writeV2(file, [...scanner('45.1.1.1', 10, { start: T0 }), { src: '45.9.9.9', dst: '10.0.0.1', dport: 22, start: Y2100 }]);
    const r = await runDetect([file]);
    expect(r.totals.records).toBe(10);
    expect(r.totals.rejected).toBe(1);
    expect(r.rejects[0]!.reason).toMatch(/timestamp in the future/);
    expect(r.scans.map((v) => v.src)).toEqual(['45.1.1.1']);
  });

  it("bounds records by the file's own time where its name gives one", () => {
    const aws = 'AWSLogs/123456789012/vpcflowlogs/us-east-1/2023/11/15/123456789012_vpcflowlogs_us-east-1_fl-1_20231115T0005Z_ab12.log.gz';
    expect(fileTimeOf(aws)).toBe(T0 + 300);
    expect(fileTimeOf('x/y=2023/m=11/d=15/h=02/m=00/macAddress=00/PT1H.json')).toBe(T0 + 7200);
    expect(fileTimeOf('vpc_flows/2023/11/15/03:00:00_03:59:59_S0.json')).toBe(T0 + 3 * 3600 + 59 * 60); // the hour's end
    expect(fileTimeOf('plain.log')).toBeNaN();
    const now = T0 + 365 * 86400;
    expect(notAfterFor(aws, now, 3600)).toBe(T0 + 300 + 86400 + 3600);
    expect(notAfterFor('plain.log', now, 3600)).toBe(now + 3600);
    expect(notAfterFor('plain.log', now, -1)).toBe(0);
  });
});

describe('per-stream watermarks', () => {
  const marks = () => new Watermarks({ latenessOf: (c: string) => (c === 'azure' ? 7200 : 1800), idleSeconds: 600 });

  it('follows the slowest active stream; idle streams stop holding it', () => {
    const m = marks();
    const now = T0 + 10 * 86400;
    m.observe('a', T0 + 86400, 'aws', now);
    m.observe('b', T0 + 3600, 'aws', now);
    expect(m.value(now)).toBe(T0 + 3600 - 1800);
    expect(m.value(now + 601)).toBe(T0 + 86400 - 1800); // both idle: the newest decides
    m.observe('a', T0 + 86400 + 60, 'aws', now + 601);
    expect(m.value(now + 601)).toBe(T0 + 86400 + 60 - 1800); // b idle, a active
    expect(m.value(now + 601, ['b'])).toBe(T0 + 3600 - 1800); // b has files waiting: it holds
    expect(m.value(now + 601, ['c'])).toBe(-Infinity); // a stream never read yet holds everything
    m.observe('z', T0 + 7200, 'azure', now + 601);
    expect(m.value(now + 601)).toBe(T0 + 7200 - 7200); // the cloud's own lateness
    expect(m.newest()).toBe(T0 + 86400 + 60);
    const copy = marks();
    copy.load(JSON.parse(JSON.stringify(m.toJSON())));
    expect(copy.value(now + 601)).toBe(m.value(now + 601));
  });

  it('names streams by account and region, or by spool folder without its dated part', () => {
    expect(streamOfPath('AWSLogs/123456789012/vpcflowlogs/eu-west-1/2023/11/15/f.log.gz')).toBe('aws:123456789012/eu-west-1');
    expect(streamOfPath('AWSLogs/o-abc/123456789012/vpcflowlogs/eu-west-1/2023/11/15/f.log.gz')).toBe('aws:123456789012/eu-west-1');
    expect(streamOfPath('insights-logs/resourceId=/SUB/X/y=2023/m=11/d=15/h=00/m=00/PT1H.json')).toBe('insights-logs/resourceId=/SUB/X');
    expect(streamOfPath('netflow/router1/f.csv')).toBe('netflow/router1');
    expect(streamOfPath('f.csv')).toBe('');
  });
});

describe('serve with a record stamped in 2100 during a backfill', () => {
  it('rejects the record and keeps every later record on time', async () => {
    const dir = tempDir();
    const spool = join(dir, 'spool');
    const state = join(dir, 'state');
    const now = T0 + 3 * 86400;
    for (const acct of ['111111111111', '222222222222']) mkdirSync(join(spool, 'AWSLogs', acct, 'vpcflowlogs', 'us-east-1'), { recursive: true });
    const path = (acct: string, name: string) => join(spool, 'AWSLogs', acct, 'vpcflowlogs', 'us-east-1', name);
    // account 1 runs a day ahead (a backfill) and carries one line stamped 2100-01-01
    writeV2(path('111111111111', 'a0.log'), [
      ...scanner('45.1.1.1', 10, { start: T0 + 86400, account: '111111111111' }),
      { src: '45.9.9.9', dst: '10.0.0.1', dport: 22, start: Y2100, account: '111111111111' },
    ]);
    // account 2 delivers its first day, hour by hour, seen in the spool while account 1 is read
    for (let h = 0; h < 3; h++) {
      writeV2(path('222222222222', `b${h}.log`), scanner(`45.2.2.${h + 1}`, 10, { start: T0 + h * 3600, account: '222222222222' }));
      utimesSync(path('222222222222', `b${h}.log`), now - 100 + h, now - 100 + h);
    }
    utimesSync(path('111111111111', 'a0.log'), now - 200, now - 200);
    const logs: string[] = [];
    const sc = new Sidecar({
      detect: { ...detectOpts(), nowSeconds: () => now }, spoolDir: spool, stateDir: state, doneDir: join(dir, 'done'), settleMs: 0, pollMs: 50,
      latenessSeconds: 1800, batchFiles: 1, batchBytes: 1 << 30, reprocess: [], log: (l: string) => logs.push(l), nowMs: () => now * 1000,
    });
    await sc.start();
    try {
      for (let i = 0; i < 4; i++) expect(await sc.cycle()).toBe(true);
      const status = sc.status() as any;
      expect(status.late_records).toBe(0);
      expect(status.newest_flow_time).toBe('2023-11-16T00:00:30Z'); // not 2100
      expect(status.streams).toBe(2);
      // windows closed by account 2's time alone (account 1 is a day ahead): hour 0
      expect(status.finalized_through).toBe('2023-11-15T01:00:00Z');
    } finally {
      await sc.stop();
    }
    const db = openStateDb(state);
    try {
      expect(db.all('SELECT SUM(rejected) AS n, SUM(late) AS l FROM files')).toEqual([{ n: 1, l: 0 }]);
    } finally {
      db.close();
    }
    expect(logs.join('\n')).not.toMatch(/late record/);
  });
});
