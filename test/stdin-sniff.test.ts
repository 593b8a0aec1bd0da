/**
 * stdin is sniffed like a file: `cat *.log.gz | flowsieve detect -` (gzip members one
 * after another, each file's header line inside) finds the scanners that detect finds on
 * the files; a gzip fixture and a JSON document arrive with their own format; an empty or
 * damaged stream is reported and the run is partial (exit code 2), as for a file.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { generatedLogs, runCli, summaryOf } from './helpers/buckets.js';
import { HAVE_FIXTURES, fixture } from './helpers/read-format.js';
import { runDetect } from './helpers/run.js';

const dir = tempDir('flowsieve-stdin-');
let root = '';
let keys: string[] = [];
const scanKeys = (out: string) =>
  readFileSync(join(out, 'scans.ndjson'), 'utf8').trim().split('\n').map((l) => {
    const s = JSON.parse(l);
    return `${s.window_start} ${s.src} ${s.protocol}/${s.dst_port} ${s.endpoints}`;
  });
const bytesOf = (bufs: Buffer[]) => async function* () {
  for (const b of bufs) yield new Uint8Array(b);
};

beforeAll(async () => {
  ({ root, keys } = await generatedLogs(dir, 'aws', 1, 2));
}, 60_000);

describe('stdin sniffed like a file', () => {
  it('cat *.log.gz | flowsieve detect - finds the scanners detect finds on the files', async () => {
    const gz = keys.filter((k) => k.endsWith('.gz'));
    expect(gz.length).toBe(keys.length);
    const cat = Buffer.concat(gz.map((k) => readFileSync(join(root, k))));
    const piped = await runCli(['detect', '-', '--out', join(dir, 'piped'), '--workers', '2', '--no-enrich'], {}, cat);
    const files = await runCli(['detect', root, '--out', join(dir, 'files'), '--workers', '2', '--quiet']);
    expect(piped.code, piped.stderr).toBe(0);
    expect(files.code, files.stderr).toBe(0);
    const found = scanKeys(join(dir, 'piped'));
    expect(found.length).toBeGreaterThan(5);
    expect(found).toEqual(scanKeys(join(dir, 'files')));
    const s = summaryOf(join(dir, 'piped'));
    expect(s.files[0]).toMatchObject({ path: '<stdin>', format: 'aws-text', gzip: true });
    expect(s.totals.records).toBe(summaryOf(join(dir, 'files')).totals.records);
    expect(s.totals.rejected).toBe(0);
    // the region the key layout gave the files is missing on stdin, and the summary says so
    expect(s.region_blank.aws).toBeGreaterThan(0);
    expect(summaryOf(join(dir, 'files')).region_blank).toEqual({});
    expect(piped.stderr).toMatch(/region blank for [\d,]+ aws record\(s\)/);
  }, 60_000);

  (HAVE_FIXTURES ? it : it.skip)('a gzip public fixture and a JSON document on stdin count as the files do', async () => {
    for (const rel of ['aws-vpc/elastic-integrations/test-v5-all-fields.log', 'azure-nsg/msdocs/nsg-flow-logs-overview.v2-sample.json']) {
      const path = fixture(rel);
      if (!path) continue;
      const file = await runDetect([path], { workers: 1 });
      const piped = await runDetect(['-'], { workers: 1, stdin: bytesOf([gzipSync(readFileSync(path))]) });
      expect(piped.files[0].format).toBe(file.files[0].format);
      expect(piped.files[0].gzip).toBe(true);
      expect(piped.totals).toEqual(file.totals);
      expect(piped.scans).toEqual(file.scans);
    }
  }, 60_000);

  it('an empty stream or a damaged gzip stream is an input not read: named, partial', async () => {
    const empty = await runDetect(['-'], { workers: 1, stdin: bytesOf([]) });
    expect(empty.partial).toBe(true);
    expect(empty.files[0].error).toBe('empty input');
    const whole = readFileSync(join(root, keys[0]!));
    const half = whole.subarray(0, Math.floor(whole.length / 2));
    writeFileSync(join(dir, 'cut.log.gz'), half);
    const cut = await runDetect(['-'], { workers: 1, stdin: bytesOf([half]) });
    const cutFile = await runDetect([join(dir, 'cut.log.gz')], { workers: 1 });
    expect(cut.partial).toBe(true);
    expect(cut.files[0].error).toMatch(/^gzip: .*the data is truncated \(stopped after \d+ decompressed bytes, in line \d+\)$/);
    expect(cutFile.files[0].error).toMatch(/the file is truncated/);
    expect(cut.totals).toEqual(cutFile.totals);
  }, 60_000);
});
