/**
 * A small file named *.gz is not read by the main thread's planning: it is planned as gzip
 * AWS text from its name, and the parse thread that reads it checks that on its bytes
 * (input/plan.ts planFromText); any other content is handed back and planned on the main
 * thread as every file was before (engine/run.ts replanHandedBack). Whatever the file
 * holds, its report and the verdicts must be those of the same bytes under a name that is
 * planned on the main thread (*.gzip).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { expectReportsAlike, expectVerdictsAlike } from './helpers/planned-alike.js';
import { scanner, v2Line, V2_HEADER, type Flow } from './helpers/aws.js';
import { detect } from '../dist/src/engine/run.js';
import { convert } from '../dist/src/replay/convert.js';

const T0 = 1718000000;
const dir = tempDir('flowsieve-sniff-thread-');
const byName = join(dir, 'gz'); // *.gz: planned by the parse threads
const byHead = join(dir, 'gzip'); // the same bytes as *.gzip: planned on the main thread
const FIXTURES = new URL('./fixtures/', import.meta.url).pathname;

/** Every file of the test, by name (without the suffix): its bytes. */
function contents(replay: Buffer): Record<string, Buffer> {
  const flows: Flow[] = [...scanner('45.9.1.1', 30, { start: T0, dport: 22 }), ...scanner('45.9.2.1', 12, { start: T0 + 50, dport: 445 })];
  const aws = [V2_HEADER, ...flows.map(v2Line)].join('\n') + '\n';
  const gz = gzipSync(aws);
  const damaged = Buffer.from(gz);
  damaged.fill(0xff, Math.floor(gz.length / 2), Math.floor(gz.length / 2) + 6);
  const out: Record<string, Buffer> = {
    'aws-v2': gz,
    'aws-no-header': gzipSync(flows.map(v2Line).join('\n') + '\n'),
    'aws-blank-lines-first': gzipSync('\n\n   \n' + aws),
    // read by the parse thread's quick path (parseSmallInflated): bad lines rejected, a change of format named
    'aws-bad-lines': gzipSync(aws + '2 123456789012 eni-1 10.0.0.1 10.0.0.2 99999 22 6 1 40 1718000000 1718000060 ACCEPT OK\nnot a record\n'),
    'aws-then-gcp': gzipSync(aws + readFileSync(join(FIXTURES, 'gcp-cases.ndjson'), 'utf8')),
    'aws-plain-text': Buffer.from(aws), // named .gz, not gzip
    'aws-truncated': gz.subarray(0, Math.floor(gz.length / 2)),
    'aws-damaged': damaged,
    'header-only': gzipSync(V2_HEADER + '\n'),
    empty: Buffer.alloc(0),
    'empty-gzip': gzipSync(''),
    garbage: gzipSync('this is no flow log\n'),
    'replay-gzipped': gzipSync(replay),
    'replay-plain': replay,
  };
  for (const f of readdirSync(FIXTURES)) out[`fixture-${f}`] = gzipSync(readFileSync(join(FIXTURES, f)));
  return out;
}

/** A report as files.ndjson has it, its path without the suffix that made the difference. */
const comparable = <R extends { path: string }>(r: R): R => ({ ...r, path: r.path.replace(/\.gz(ip)?$/, '').replace(byHead, byName) });

let viaThread: Awaited<ReturnType<typeof detect>>;
let viaMain: Awaited<ReturnType<typeof detect>>;

beforeAll(async () => {
  const logs = join(dir, 'logs');
  mkdirSync(logs);
  writeFileSync(join(logs, 'a.log'), [V2_HEADER, ...scanner('45.9.3.1', 20, { start: T0, dport: 23 }).map(v2Line)].join('\n') + '\n');
  await convert({ ...detectOpts([logs]), out: join(dir, 'r.fsr') });
  mkdirSync(byName);
  mkdirSync(byHead);
  for (const [name, bytes] of Object.entries(contents(readFileSync(join(dir, 'r.fsr'))))) {
    writeFileSync(join(byName, `${name}.gz`), bytes);
    copyFileSync(join(byName, `${name}.gz`), join(byHead, `${name}.gzip`));
  }
  viaThread = await detect(detectOpts([byName], { workers: 2 }));
  viaMain = await detect(detectOpts([byHead], { workers: 2 }));
}, 60_000);

describe('small *.gz files planned by the parse threads', () => {
  it('read some files of every kind, and hand some back', () => {
    const formats = new Set(viaThread.files.map((f) => f.format));
    expect([...formats]).toEqual(expect.arrayContaining(['aws-text', 'replay', 'azure-nsg', 'gcp-json']));
    expect(viaThread.files.filter((f) => f.error).length).toBeGreaterThan(3);
    expect(viaThread.totals.records).toBeGreaterThan(100);
    const changed = viaThread.files.find((f) => f.path.endsWith('aws-then-gcp.gz'));
    expect(changed?.error).toMatch(/the content changes format/);
    expect(viaThread.files.find((f) => f.path.endsWith('aws-bad-lines.gz'))?.counters.rejected).toBeGreaterThan(0);
  });

  it('report every file as planning it on the main thread does', () => expectReportsAlike(viaThread, viaMain, comparable));

  it('give the same verdicts', () => expectVerdictsAlike(viaThread, viaMain));
});
