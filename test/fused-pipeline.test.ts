import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { copyFileSync, writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, shuffled, writeV2, type Flow } from './helpers/aws.js';
import { HAVE_FIXTURES, fixture } from './helpers/read-format.js';

const T0 = 1700006400;

if (!HAVE_FIXTURES) console.warn('fused-pipeline: ../shared/fixtures is absent; the mixed input has no Azure, GCP or fixture AWS files');

/** Scanners over three accounts (two windows), an IPv6 scanner, benign clients and outbound traffic. */
function flows(): Flow[] {
  const out: Flow[] = [];
  let s = 777;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  for (let i = 0; i < 30; i++) {
    const account = ['111111111111', '222222222222', '333333333333'][i % 3]!;
    for (const f of scanner(`45.9.${i}.7`, 8 + rnd(10), { start: T0 + rnd(40000), account, dport: [22, 445, 3389][i % 3] })) {
      out.push({ ...f, bytes: i % 4 === 0 ? 40 + rnd(400) : 44 });
    }
  }
  for (let k = 0; k < 12; k++) out.push({ src: '2a01:4f8::9', dst: `10.2.0.${k + 1}`, dport: 22, start: T0 + 100 + k, packets: 1, bytes: 60 });
  for (let i = 0; i < 2500; i++) {
    out.push({ src: `80.${rnd(200)}.${rnd(250)}.${1 + rnd(250)}`, dst: `10.0.0.${1 + rnd(20)}`, dport: 443, packets: 1 + rnd(50), bytes: 60 + rnd(90000), start: T0 + rnd(80000), account: ['111111111111', '222222222222'][i % 2] });
  }
  // outbound: one host reaching many public targets
  for (let i = 0; i < 150; i++) out.push({ src: '10.0.0.5', dst: `93.184.${i >> 8}.${i & 255}`, dport: 80, start: T0 + i, packets: 2, bytes: 120 });
  return out;
}

/** What a run writes, less what depends on the machine (time, memory). */
function canon(r: any): string {
  return JSON.stringify({
    scans: r.scans, near: r.nearMisses, days: r.endpointDays, alerts: r.alerts, suppressed: r.alertsSuppressed, findings: r.findings,
    files: r.files, totals: r.totals, rejects: r.rejects, keys: r.keys, entries: r.entries, partial: r.partial, bytesIn: r.bytesIn,
  });
}

/**
 * A mixed input: the records over many small files of three accounts (text and gzip), one
 * file large enough to be read in chunks and one gzip file large enough to be inflated in
 * pieces, the public fixtures' AWS layouts, Azure and GCP files and a malformed file.
 */
function mixedInput(): string[] {
  const dir = tempDir();
  const all = shuffled(flows(), 5);
  const parts = 12;
  const per = Math.ceil(all.length / (parts + 2));
  for (let p = 0; p < parts; p++) {
    const slice = all.slice(p * per, (p + 1) * per);
    writeV2(join(dir, `acct${p % 3}-${p}.log${p % 2 ? '.gz' : ''}`), slice, { gzip: p % 2 === 1 });
  }
  writeV2(join(dir, 'big.log'), all.slice(parts * per, (parts + 1) * per));
  writeV2(join(dir, 'big.log.gz'), all.slice((parts + 1) * per), { gzip: true });
  writeFileSync(join(dir, 'broken.log'), 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 1 eni-1 1.2.3.4 10.0.0.1 x 22 6 1 40 1700006400 1700006401 ACCEPT OK\nnot a record at all\n');
  const inputs = [dir];
  if (HAVE_FIXTURES) {
    for (const rel of [
      'aws-vpc/elastic-beats/bad.log',
      'aws-vpc/elastic-integrations/test-v5-all-fields.log',
      'aws-vpc/otel-contrib/valid_vpc_flow_log_multi.log',
      'azure-nsg/msdocs/nsg-flow-logs-overview.v2-sample.json',
      'azure-vnet/msdocs/vnet-flow-logs-overview.sample.json',
      'gcp-vpc/otel-contrib/vpc-flow-log-managed-instance.ndjson',
    ]) {
      const f = fixture(rel);
      if (f) copyFileSync(f, join(dir, rel.replace(/\//g, '_')));
    }
  }
  return inputs;
}

describe('fused pipeline', () => {
  it('gives the sharded pipeline results at 1-3 workers, any batch size and file order', async () => {
    const inputs = mixedInput();
    // small chunks and gzip pieces: big.log is read in chunks, big.log.gz in pieces, by any thread
    const common = { chunkBytes: 65536, gzipSplitBytes: 16384 };
    const base = await runDetect(inputs, { ...common, workers: 2, pipeline: 'sharded' });
    expect(base.pipeline).toBe('sharded');
    expect(base.scans.length).toBeGreaterThan(10);
    expect(base.findings.length).toBeGreaterThan(0);
    expect(base.rejects.length).toBeGreaterThan(0);
    if (HAVE_FIXTURES) {
      const formats = new Set(base.files.map((f: { format: string | null }) => f.format));
      for (const f of ['azure-nsg', 'azure-vnet', 'gcp']) expect(formats, f).toContain(f);
    }
    const expected = canon(base);
    for (const [workers, batchSize] of [[1, 16384], [2, 64], [3, 1000]] as const) {
      const r = await runDetect(inputs, { ...common, workers, batchSize, pipeline: 'fused' });
      expect(r.pipeline).toBe('fused');
      expect(canon(r), `fused, workers=${workers} batch=${batchSize}`).toBe(expected);
    }
  });

  it('auto reads a small input fused in the main thread, a large folder and stdin sharded', async () => {
    const dir = tempDir();
    writeV2(join(dir, 'a.log'), flows().slice(0, 500));
    // a small folder too; a folder of more than 512 files, or more than 16 MB of text, is read sharded at any worker count
    expect([(await runDetect([dir], { pipeline: 'auto' })).pipeline]).toEqual(['fused']);
    const many = tempDir();
    for (let i = 0; i < 513; i++) writeFileSync(join(many, `f${i}.log`), '');
    writeV2(join(many, 'a.log'), flows().slice(0, 500));
    for (const workers of [1, 2]) expect((await runDetect([many], { pipeline: 'auto', workers })).pipeline).toBe('sharded');
    // one small file: one thread parses and accumulates it, with the results of the sharded pipeline's
    const small = await runDetect([join(dir, 'a.log')], { pipeline: 'auto', workers: 3 });
    expect([small.pipeline, small.workers]).toEqual(['fused', 1]);
    expect(canon(small)).toBe(canon(await runDetect([join(dir, 'a.log')], { pipeline: 'sharded', workers: 3 })));
    // the main thread's shard forgets a run at its end, and serves one run at a time (the other takes a thread)
    const again = await Promise.all([0, 1].map(() => runDetect([join(dir, 'a.log')], { pipeline: 'auto' })));
    for (const r of again) expect(canon(r)).toBe(canon(small));
    expect((await runDetect([join(dir, 'a.log')], { pipeline: 'auto', maxMemory: 1 << 12 })).pipeline).toBe('sharded'); // does not fit
    const stdin = async function* () {
      yield new Uint8Array(Buffer.from('version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n'));
    };
    expect((await runDetect(['-'], { pipeline: 'fused', stdin })).pipeline).toBe('sharded');
  });
});
