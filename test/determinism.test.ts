import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, shuffled, writeV2, type Flow } from './helpers/aws.js';

const T0 = 1700006400;

/** A mixed data set: scanners, near misses, benign clients, several accounts, two windows. */
function dataset(): Flow[] {
  const flows: Flow[] = [];
  let s = 12345;
  const rnd = (n: number) => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s % n;
  };
  for (let i = 0; i < 40; i++) {
    const acct = ['111111111111', '222222222222', '333333333333'][i % 3]!;
    const n = 6 + rnd(12);
    const bytesVary = i % 4 === 0;
    for (const f of scanner(`45.1.${i}.7`, n, { start: T0 + rnd(40000), account: acct, dport: [22, 23, 445, 3389][i % 4] })) {
      flows.push({ ...f, bytes: bytesVary ? 40 + rnd(400) : 44, packets: 1 + (bytesVary ? rnd(3) : 0) });
    }
  }
  // IPv6 scanner with unknown counters on some records
  for (let k = 0; k < 12; k++) flows.push({ src: '2a01:4f8::9', dst: `10.2.0.${k + 1}`, dport: 22, start: T0 + 100 + k, packets: k % 2 ? '-' : 1, bytes: k % 2 ? '-' : 60 });
  // benign: many sources, 1-2 endpoints each, varied
  for (let i = 0; i < 3000; i++) {
    flows.push({ src: `80.${rnd(200)}.${rnd(250)}.${1 + rnd(250)}`, dst: `10.0.0.${1 + rnd(20)}`, dport: 443, packets: 1 + rnd(50), bytes: 60 + rnd(90000), start: T0 + rnd(80000), action: 'ACCEPT' });
  }
  return flows;
}

function canon(r: any): string {
  const { lines: _l, headers: _h, blank: _b, ...totals } = r.totals; // header lines differ with the number of files
  return JSON.stringify({ scans: r.scans, near: r.nearMisses, days: r.endpointDays, alerts: r.alerts, keys: r.keys, entries: r.entries, totals });
}

describe('determinism', () => {
  it('gives identical results for any worker count, file order, record order and batch size', async () => {
    const flows = dataset();
    const dirA = tempDir();
    writeV2(join(dirA, 'all.log'), flows);
    const base = await runDetect([dirA], { workers: 1 });
    expect(base.scans.length).toBeGreaterThan(10);
    expect(base.nearMisses.length).toBeGreaterThan(3);
    const expected = canon(base);

    // the same records shuffled over three files (one gzip), read in another order
    const dirB = tempDir();
    const sh = shuffled(flows, 99);
    const third = Math.ceil(sh.length / 3);
    writeV2(join(dirB, 'b.log'), sh.slice(0, third));
    writeV2(join(dirB, 'a.log.gz'), sh.slice(third, 2 * third), { gzip: true });
    writeV2(join(dirB, 'c.log'), sh.slice(2 * third));
    for (const [workers, batchSize, chunkBytes] of [[2, 64, 65536], [4, 1000, 65536], [3, 16384, 1 << 23]] as const) {
      const r = await runDetect([join(dirB, 'c.log'), join(dirB, 'a.log.gz'), join(dirB, 'b.log')], { workers, batchSize, chunkBytes });
      expect(canon(r), `workers=${workers} batch=${batchSize}`).toBe(expected);
    }
  });

  it('gives identical results with outbound records in batches of their own or in their shard\'s one batch (FLOWSIEVE_OUTBOUND_APART)', async () => {
    const flows = dataset();
    // outbound scanning: internal hosts reaching many internet targets, and some reaching few
    for (let h = 0; h < 8; h++) {
      for (let k = 0; k < 20 + h * 15; k++) {
        flows.push({ src: `10.9.0.${h + 1}`, iface: `eni-${h}`, dst: `93.${h}.${k >> 4}.${(k & 15) + 1}`, sport: 40000 + k, dport: [22, 445, 3389][h % 3]!, start: T0 + 500 + k * 7, packets: 1, bytes: 60 });
      }
    }
    const file = join(tempDir(), 'all.log');
    writeV2(file, shuffled(flows, 5));
    const before = process.env.FLOWSIEVE_OUTBOUND_APART;
    for (const [workers, batchSize] of [[1, 64], [2, 16384]] as const) {
      const apart = await runDetect([file], { workers, batchSize });
      expect(apart.totals.outbound).toBe(580);
      expect(apart.alerts.length).toBeGreaterThan(0);
      process.env.FLOWSIEVE_OUTBOUND_APART = 'off';
      try {
        const together = await runDetect([file], { workers, batchSize });
        expect(canon(apart), `workers=${workers} batch=${batchSize}`).toBe(canon(together));
      } finally {
        if (before === undefined) delete process.env.FLOWSIEVE_OUTBOUND_APART;
        else process.env.FLOWSIEVE_OUTBOUND_APART = before;
      }
    }
  });

  it('gives identical results however a text file is cut into ranges (textRanges: as many as the parse threads, and at the early flushes)', async () => {
    const file = join(tempDir(), 'all.log');
    writeV2(file, shuffled(dataset(), 3));
    const expected = canon(await runDetect([file], { workers: 1, chunkBytes: 1 << 23 })); // one range
    for (const [workers, parseThreads] of [[1, 1], [1, 2], [2, 3]] as const) {
      const r = await runDetect([file], { workers, parseThreads, chunkBytes: 65536, textRanges: true });
      expect(canon(r), `workers=${workers} parse threads=${parseThreads}`).toBe(expected);
    }
  });

  it('gives identical results for any parse-thread count beside the shard count', async () => {
    // 64 KiB chunks: each file is several parse tasks, so every parse thread gets some
    const flows = shuffled(dataset(), 7);
    const dir = tempDir();
    const part = Math.ceil(flows.length / 4);
    for (let k = 0; k < 4; k++) writeV2(join(dir, `p${k}.log${k === 1 ? '.gz' : ''}`), flows.slice(k * part, (k + 1) * part), { gzip: k === 1 });
    const expected = canon(await runDetect([dir], { workers: 1, parseThreads: 1, chunkBytes: 65536 }));
    for (const [workers, parseThreads, batchSize] of [[1, 2, 64], [1, 3, 1000], [2, 1, 16384], [2, 4, 64]] as const) {
      const r = await runDetect([dir], { workers, parseThreads, batchSize, chunkBytes: 65536 });
      expect(canon(r), `workers=${workers} parse threads=${parseThreads} batch=${batchSize}`).toBe(expected);
    }
  });
});
