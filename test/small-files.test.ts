/**
 * Many small files are parsed several to a task ('files' mode, run.ts planJobs), into one
 * sink. Each file's report must be the one it gets when it is read on its own: counts,
 * rejects with their line numbers, time span, byte counts, errors; and the verdicts over
 * the whole folder must not change with the grouping.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, v2Line, V2_HEADER, type Flow } from './helpers/aws.js';
import { detect, Engine } from '../dist/src/engine/run.js';
import { planInputs } from '../dist/src/input/plan.js';

const T0 = 1718000000;
const dir = tempDir('flowsieve-smallfiles-');
const CUSTOM = 'version vpc-id interface-id account-id srcaddr dstaddr srcport dstport protocol bytes packets start end action tcp-flags log-status';

/** A v2 record in the custom layout above (bytes before packets, tcp-flags). */
function customLine(f: Flow): string {
  return `3 vpc-01 ${f.iface ?? 'eni-0a1b2c3d'} ${f.account ?? '123456789012'} ${f.src} ${f.dst} ${f.sport ?? 40000} ${f.dport} ${f.proto ?? 6} ${f.bytes ?? 40} ${f.packets ?? 1} ${f.start} ${f.end ?? f.start + 30} REJECT 2 OK`;
}

const names: string[] = [];

beforeAll(() => {
  // 24 scanners, each spread over every file: a verdict needs the records of many files
  const flows: Flow[] = [];
  for (let s = 0; s < 24; s++) flows.push(...scanner(`45.9.${s}.1`, 12 + s, { start: T0 + s * 97, dport: [22, 23, 445][s % 3]! }));
  for (let i = 0; i < 3000; i++) flows.push({ src: `81.${(i >> 8) & 255}.${i & 255}.7`, dst: `10.1.${i % 200}.9`, dport: 443, start: T0 + (i % 5000) });
  const files = 40;
  for (let f = 0; f < files; f++) {
    const mine = flows.filter((_, k) => k % files === f);
    const custom = f % 4 === 3;
    const lines = mine.map(custom ? customLine : v2Line);
    if (f % 5 === 1) lines.splice(3, 0, 'this is not a flow record', v2Line({ src: '300.1.1.1', dst: '10.0.0.1', dport: 22, start: T0 })); // rejects
    const header = custom ? [CUSTOM] : f % 4 === 1 ? [] : [V2_HEADER];
    const text = [...header, ...lines].join('\n') + '\n';
    const gz = f % 2 === 0;
    const name = `f${String(f).padStart(2, '0')}.log${gz ? '.gz' : ''}`;
    let bytes: Uint8Array = gz ? gzipSync(text) : Buffer.from(text);
    if (f === 6) bytes = bytes.subarray(0, Math.floor(bytes.length * 0.6)); // a cut gzip file: an error, lines up to the cut
    writeFileSync(join(dir, name), bytes);
    names.push(name);
  }
  writeFileSync(join(dir, 'f99-empty.log'), ''); // unreadable: listed, never grouped
  // a gzip file whose first line is fine and whose data is damaged further on, within
  // its first 64 KiB: planned from its first line, it must still be reported as planning
  // reports a damaged head, and none of it read
  const many = Array.from({ length: 3000 }, (_, k) => v2Line({ src: `81.1.${k & 255}.${k >> 8}`, dst: `10.2.0.${k & 255}`, dport: 443 + (k % 97), start: T0 + k * 7, bytes: 40 + k }));
  const gz = Buffer.from(gzipSync([V2_HEADER, ...many].join('\n') + '\n'));
  gz.fill(0xff, 4000, 4100);
  writeFileSync(join(dir, 'f98-damaged.log.gz'), gz);
  names.push('f98-damaged.log.gz');
});

describe('small files, several to a parse task', () => {
  it('gives each file the report it gets alone, and the same verdicts', async () => {
    const opts = detectOpts([dir], { workers: 2, nearMisses: true });
    const grouped = await detect(opts);
    // every file on its own: an engine that ingests them one at a time (one task each)
    const engine = new Engine(opts);
    const alone: any[] = [];
    try {
      for (const n of [...names, 'f99-empty.log']) {
        const r = await engine.ingest([join(dir, n)]);
        alone.push({ files: r.files, rejects: r.rejects });
      }
      const fin = await engine.finalize();
      expect(grouped.scans).toEqual(fin.scans);
      expect(grouped.nearMisses).toEqual(fin.nearMisses);
    } finally {
      await engine.close();
    }
    expect(grouped.files).toEqual(alone.flatMap((a) => a.files));
    expect(grouped.rejects).toEqual(alone.flatMap((a) => a.rejects));
    // what is checked is there: rejects in several files, the cut file's error, verdicts
    expect(grouped.scans.length).toBe(24);
    expect(new Set(grouped.rejects.map((r: any) => r.file)).size).toBe(8);
    expect(grouped.files.find((f: any) => f.path.endsWith('f06.log.gz'))!.error).toMatch(/truncated/);
    expect(grouped.files.find((f: any) => f.path.endsWith('f99-empty.log'))!.error).toBe('empty file');
    const damaged = grouped.files.find((f: any) => f.path.endsWith('f98-damaged.log.gz'))!;
    const planned = planInputs([join(dir, 'f98-damaged.log.gz')], {})[0]!; // the whole head inflated at planning
    expect(planned.error).toMatch(/^damaged gzip data/);
    expect({ error: damaged.error, format: damaged.format, bytes: damaged.bytes, records: damaged.counters.lines }).toEqual({ error: planned.error, format: null, bytes: 0, records: 0 });
  });
});
