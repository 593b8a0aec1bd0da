/**
 * The sidecar's parts in process: event-time arithmetic, which spool files count as
 * complete, the engine's late-record accounting, and --keep (files stay, the ledger
 * keeps them from being read twice, across restarts).
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { openStateDb } from './helpers/serve.js';
import { closableUpTo, dayStart, lateBefore, watermark, windowsOfDay } from '../dist/src/serve/windows.js';
import { Spool } from '../dist/src/serve/spool.js';
import { Sidecar } from '../dist/src/serve/sidecar.js';
import { Engine, DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';

const T0 = 1700006400;
const W = 3600;
const detectOpts = () =>
  ({ inputs: [], workers: 2, windowSeconds: W, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: false, outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN }) as any;

describe('event time', () => {
  it('closes a window once the newest flow time passes its end by the lateness', () => {
    const now = T0 + 100 * 86400;
    expect(watermark(-Infinity, now, 1800)).toBe(-Infinity);
    expect(closableUpTo(watermark(-Infinity, now, 1800), W)).toBe(-1);
    const w0 = T0 / W;
    expect(closableUpTo(watermark(T0 + 3600 + 1799, now, 1800), W)).toBe(w0 - 1); // window w0 ends at T0+3600: not yet
    expect(closableUpTo(watermark(T0 + 3600 + 1800, now, 1800), W)).toBe(w0);
    expect(lateBefore(-1, W)).toBe(0);
    expect(lateBefore(w0, W)).toBe(T0 + 3600);
  });

  it('does not let a record from the future close the present windows', () => {
    const now = T0 + 7200;
    expect(watermark(T0 + 365 * 86400, now, 0)).toBe(now);
    expect(closableUpTo(watermark(T0 + 365 * 86400, now, 0), W)).toBe(T0 / W + 1);
  });

  it('knows the windows of a day and refuses dates that do not exist', () => {
    expect(windowsOfDay('2023-11-15', W)).toEqual({ first: T0 / W, last: T0 / W + 23 });
    expect(windowsOfDay('2023-11-15', 21600)).toEqual({ first: T0 / 21600, last: T0 / 21600 + 3 });
    for (const bad of ['2023-02-30', '2023-1-05', '15.11.2023', '']) expect(dayStart(bad)).toBeNaN();
  });
});

describe('spool', () => {
  it('takes complete files only, oldest first, and skips names of files being written', () => {
    const dir = tempDir();
    const spool = join(dir, 'spool');
    mkdirSync(join(spool, 'AWSLogs', 'sub'), { recursive: true });
    const old = Date.now() / 1000 - 3600;
    for (const [name, age] of [['b.log', 100], ['a.log', 200], ['AWSLogs/sub/c.log', 300]] as const) {
      writeFileSync(join(spool, name), 'x\n');
      utimesSync(join(spool, name), old - age, old - age);
    }
    for (const partial of ['.hidden.log', 'd.log.tmp', 'e.part', 'f.log.partial', 'g.log._COPYING_']) writeFileSync(join(spool, partial), 'x\n');
    writeFileSync(join(spool, 'fresh.log'), 'still being written\n');
    const s = new Spool({ dir: spool, doneDir: join(spool, '.done'), settleMs: 60_000 });
    const scan = s.scan(new Map(), Date.now());
    expect(scan.ready.map((f: any) => f.name)).toEqual(['AWSLogs/sub/c.log', 'a.log', 'b.log']);
    expect(scan.settling).toBe(1);
    // with settle 0 (files renamed in) the fresh file is complete too
    const now = new Spool({ dir: spool, doneDir: join(spool, '.done'), settleMs: 0 }).scan(new Map(), Date.now());
    expect(now.ready.map((f: any) => f.name)).toContain('fresh.log');
    // a file in the ledger with the same size and time is done; changed, it is new again
    const a = scan.ready.find((f: any) => f.name === 'a.log')!;
    const ledger = new Map([['a.log', { name: 'a.log', size: a.size, mtimeMs: a.mtimeMs, seq: 1, stored: '', moved: false }]]);
    const again = s.scan(ledger, Date.now());
    expect(again.ready.map((f: any) => f.name)).not.toContain('a.log');
    expect(again.done.map((f: any) => f.name)).toEqual(['a.log']);
    ledger.get('a.log')!.size = 1;
    expect(s.scan(ledger, Date.now()).ready.map((f: any) => f.name)).toContain('a.log');
  });
});

describe('engine: time span and late records', () => {
  it('reports the newest flow time and counts records of finalised windows per window, without accumulating them', async () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), [...scanner('45.1.1.1', 10, { start: T0 + 60 }), ...scanner('45.2.2.2', 10, { start: T0 + 3 * W + 5 })]);
    const e = new Engine(detectOpts());
    try {
      const first = await e.ingest([join(dir, 'a.log')]);
      expect(first.minStart).toBe(T0 + 60);
      expect(first.maxEnd).toBe(T0 + 3 * W + 5 + 30); // the scanner helper writes end = start + 30
      expect(first.totals.late).toBe(0);
      const fin = await e.finalize({ uptoWindow: T0 / W, drop: true, endpointSources: true });
      expect(fin.scans.map((v: any) => v.src)).toEqual(['45.1.1.1']);
      expect(fin.endpointDays[0].sources).toEqual(['45.1.1.1']);
      // the same file again, with window T0/W final: its 10 records there are late
      const again = await e.ingest([join(dir, 'a.log')], undefined, { lateBefore: T0 + W });
      expect(again.totals.late).toBe(10);
      expect(again.files[0].lateByWindow).toEqual([[T0 / W, 10]]);
      expect(again.totals.inbound).toBe(10);
      const rest = await e.finalize({ drop: true });
      expect(rest.scans.map((v: any) => [v.src, v.flows])).toEqual([['45.2.2.2', 20]]);
    } finally {
      await e.close();
    }
  });
});

describe('serve --keep', () => {
  it('leaves files in the spool and reads each once, across restarts', async () => {
    const dir = tempDir();
    const spool = join(dir, 'spool');
    const state = join(dir, 'state');
    mkdirSync(spool);
    writeV2(join(spool, 'a.log'), scanner('45.3.3.3', 10, { start: T0 }));
    const logs: string[] = [];
    const make = () =>
      new Sidecar({
        detect: detectOpts(), spoolDir: spool, stateDir: state, doneDir: null, settleMs: 0, pollMs: 50, latenessSeconds: 0,
        batchFiles: 10, batchBytes: 1 << 30, reprocess: [], log: (l: string) => logs.push(l),
      });
    const one = make();
    await one.start();
    expect(await one.cycle()).toBe(true);
    expect(await one.cycle()).toBe(false);
    await one.stop();
    expect(existsSync(join(spool, 'a.log'))).toBe(true);
    const two = make();
    await two.start();
    // no day is complete yet: /v1/report's plain page of what is final (see http.ts)
    const { renderReport } = await import('../dist/src/serve/report.js');
    expect(renderReport(two.store, two.status())).toMatch(/No UTC day is complete yet[\s\S]*2023-11-15/);
    await expect(make().start()).rejects.toThrow(/another flowsieve serve is using the state folder/);
    expect(await two.cycle()).toBe(false);
    writeV2(join(spool, 'b.log'), scanner('45.4.4.4', 10, { start: T0 + 7200 }));
    expect(await two.cycle()).toBe(true);
    await two.stop();
    const db = openStateDb(state);
    try {
      expect(db.all('SELECT name FROM files ORDER BY name').map((r: any) => r.name)).toEqual(['a.log', 'b.log']);
      expect(db.all('SELECT src FROM scans').map((r: any) => r.src)).toEqual(['45.3.3.3']); // b.log's window is still open
    } finally {
      db.close();
    }
  });
});
