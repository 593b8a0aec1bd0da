/**
 * Issue 16 items 3 and 4: the sidecar's state and spool under damage. A scans.ndjson cut
 * short inside a line is repaired at start (from the checkpoint) and said so; a spool file
 * deleted or rewritten while it is read is committed whole or not at all, and reported.
 */
import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, readFileSync, truncateSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2 } from './helpers/aws.js';
import { openStateDb } from './helpers/serve.js';
import { Sidecar } from '../dist/src/serve/sidecar.js';
import { DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';

const T0 = 1700006400;
const W = 3600;
const detectOpts = () =>
  ({ inputs: [], workers: 1, windowSeconds: W, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: false, outbound: { ...DEFAULT_OUTBOUND }, ...DEFAULT_RUN }) as any;

function sidecar(dir: string, logs: string[]) {
  return new Sidecar({
    detect: detectOpts(), spoolDir: join(dir, 'spool'), stateDir: join(dir, 'state'), doneDir: join(dir, 'done'), settleMs: 0, pollMs: 50,
    latenessSeconds: 0, batchFiles: 10, batchBytes: 1 << 30, reprocess: [], log: (l: string) => logs.push(l),
  });
}

const isNdjson = (text: string) => text.endsWith('\n') && text.trimEnd().split('\n').every((l) => JSON.parse(l) !== null);

describe('a scans.ndjson cut short inside a line', () => {
  it('is repaired at start from the checkpoint, and the repair is logged', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'spool'));
    writeV2(join(dir, 'spool', 'a.log'), [...scanner('45.1.1.1', 10, { start: T0 }), ...scanner('45.1.1.2', 10, { start: T0 }), ...scanner('45.1.1.9', 1, { start: T0 + 7200 })]);
    const logs: string[] = [];
    let sc = sidecar(dir, logs);
    await sc.start();
    await sc.cycle();
    await sc.stop();
    const scans = join(dir, 'state', 'scans.ndjson');
    const whole = readFileSync(scans, 'utf8');
    expect(whole.trimEnd().split('\n')).toHaveLength(2);
    truncateSync(scans, whole.length - 25); // inside the second line
    sc = sidecar(dir, logs);
    await sc.start();
    expect(logs.join('\n')).toMatch(/scans\.ndjson ended inside a line .*removed the torn \d+ byte\(s\) and wrote 1 line\(s\) of batch 1 again from the checkpoint/);
    expect(readFileSync(scans, 'utf8')).toBe(whole);
    // the next batch appends after whole lines
    writeV2(join(dir, 'spool', 'b.log'), [...scanner('45.1.1.3', 10, { start: T0 + 3 * 3600 }), ...scanner('45.1.1.9', 1, { start: T0 + 5 * 3600 })]);
    await sc.cycle();
    await sc.stop();
    const after = readFileSync(scans, 'utf8');
    expect(isNdjson(after)).toBe(true);
    expect(after.trimEnd().split('\n')).toHaveLength(3);
    // a line older than the last batch cannot be restored: it is cut off, and the file stays NDJSON
    truncateSync(scans, whole.length - 25);
    logs.length = 0;
    sc = sidecar(dir, logs);
    await sc.start();
    await sc.stop();
    expect(logs.join('\n')).toMatch(/could not be restored \(every verdict is in flowsieve\.db\)/);
    expect(isNdjson(readFileSync(scans, 'utf8'))).toBe(true);
  });
});

describe('a spool file deleted or rewritten while it is read', () => {
  it('is not committed in part: the batch is undone and the file reported', async () => {
    const dir = tempDir();
    const spool = join(dir, 'spool');
    mkdirSync(spool);
    writeV2(join(spool, 'a.log'), scanner('45.2.2.1', 10, { start: T0 }));
    writeV2(join(spool, 'b.log'), scanner('45.2.2.2', 10, { start: T0 }));
    const logs: string[] = [];
    const sc = sidecar(dir, logs);
    await sc.start();
    try {
      // the shipper deletes a.log while the engine reads the batch
      const engine = (sc as any).engine;
      const ingest = engine.ingest.bind(engine);
      engine.ingest = async (...args: unknown[]) => {
        const r = await ingest(...args);
        unlinkSync(join(spool, 'a.log'));
        return r;
      };
      expect(await sc.cycle()).toBe(true);
      expect(logs.join('\n')).toMatch(/a\.log: deleted while being read: none of its records are counted/);
      expect((sc.status() as any).batch).toBe(0); // nothing committed
      expect(await sc.cycle()).toBe(true); // b.log alone
      // b.log rewritten while read: read again whole later
      writeV2(join(spool, 'c.log'), scanner('45.2.2.3', 10, { start: T0 }));
      const engine2 = (sc as any).engine;
      const ingest2 = engine2.ingest.bind(engine2);
      engine2.ingest = async (...args: unknown[]) => {
        const r = await ingest2(...args);
        appendFileSync(join(spool, 'c.log'), scanner('45.2.2.3', 2, { start: T0 + 1 }).map((f) => `2 123456789012 eni-1 ${f.src} ${f.dst} 40000 23 6 1 40 ${f.start} ${f.start + 30} REJECT OK`).join('\n') + '\n');
        return r;
      };
      expect(await sc.cycle()).toBe(true);
      expect(logs.join('\n')).toMatch(/c\.log: changed while being read/);
      expect(await sc.cycle()).toBe(true);
    } finally {
      await sc.stop();
    }
    const db = openStateDb(join(dir, 'state'));
    try {
      expect(db.all('SELECT name, records FROM files ORDER BY name')).toEqual([{ name: 'b.log', records: 10 }, { name: 'c.log', records: 12 }]);
    } finally {
      db.close();
    }
    expect(existsSync(join(spool, 'a.log'))).toBe(false);
  });
});
