/**
 * Narrow batches (src/flow/batch.ts FlowBatchData.narrow): a parse thread's ring batches carry
 * an IPv4 address as one word, an IPv6 one as an entry beside the words (a bit a record says
 * which); they widen in place when their IPv6 entries fill the room. Every reader sees the same
 * addresses in either form, and a run's results do not depend on which form crossed the threads.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { BatchStage, narrowStage } from '../dist/src/engine/batch-stage.js';
import { allocBatch, narrowIsV6, putNarrow, startNarrow, wideAddress, wideAt, widenAddresses } from '../dist/src/flow/batch.js';
import { createBatchRing, BatchRing } from '../dist/src/flow/batch-ring.js';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { scanner, shuffled, writeV2, type Flow } from './helpers/aws.js';

const T0 = 1700006400;

/** Record i's addresses in the four-word form: IPv4-mapped, or (every third source, every fifth target) an IPv6 one. */
function words(i: number, side: 0 | 1): number[] {
  const v6 = side === 0 ? i % 3 === 1 : i % 5 === 2;
  return v6 ? [0x2a010000 + i, side, 0x9000 + i, 0x7000000 + i] : [0, 0, 0xffff, (0x0a000000 + i * 7 + side) >>> 0];
}

/** A narrow batch of capacity `cap` with records 0..n-1 put as the sink puts them; false when one did not fit. */
function fill(cap: number, n: number) {
  const b = allocBatch(cap);
  startNarrow(b);
  let fits = true;
  for (let i = 0; i < n && fits; i++) {
    const [s0, s1, s2, s3] = words(i, 0) as [number, number, number, number];
    const [d0, d1, d2, d3] = words(i, 1) as [number, number, number, number];
    fits = putNarrow(b.src, cap, i, s0, s1, s2, s3) && putNarrow(b.dst, cap, i, d0, d1, d2, d3);
    b.n = i + 1;
  }
  return { b, fits };
}

describe('narrow batches', () => {
  it('hold IPv4 and IPv6 records mixed: each record reads back in four words, before and after widening', () => {
    const { b, fits } = fill(64, 40);
    expect(fits).toBe(true);
    expect(b.narrow).toBe(true);
    const scratch = new Uint32Array(4);
    for (let i = 0; i < 40; i++) {
      for (const [side, col] of [[0, b.src], [1, b.dst]] as const) {
        const w = wideAddress(b, col, i, scratch);
        expect(Array.from(w.subarray(wideAt(b, i), wideAt(b, i) + 4)), `record ${i} side ${side}`).toEqual(words(i, side));
      }
    }
    // a bit a record says which are IPv6 (sources 1, 4, 7, ...; targets 2, 7, 12, ...)
    expect(Array.from({ length: 40 }, (_, i) => narrowIsV6(b.src, 64, i)).flatMap((v, i) => (v ? [i] : [])).slice(0, 4)).toEqual([1, 4, 7, 10]);
    expect(Array.from({ length: 40 }, (_, i) => narrowIsV6(b.dst, 64, i)).flatMap((v, i) => (v ? [i] : [])).slice(0, 4)).toEqual([2, 7, 12, 17]);
    widenAddresses(b);
    expect(b.narrow).toBe(false);
    for (let i = 0; i < 40; i++) {
      expect(Array.from(b.src.subarray(i * 4, i * 4 + 4))).toEqual(words(i, 0));
      expect(Array.from(b.dst.subarray(i * 4, i * 4 + 4))).toEqual(words(i, 1));
    }
  });

  it('say when an IPv6 address finds no room, and widen the records before it', () => {
    // capacity 8: 32 words a column, 12 before the entries, room for 5 IPv6 entries; sources 1, 4, 7, ... are IPv6
    const { b, fits } = fill(8, 8);
    expect(fits).toBe(true);
    const full = fill(16, 16); // sources 1, 4, ..., 13 and targets 2, 7, 12: room for 11 entries each
    expect(full.fits).toBe(true);
    const over = allocBatch(8);
    startNarrow(over);
    let put = 0;
    while (putNarrow(over.src, 8, put, 0x20010db8, 0, 0, put)) put++;
    expect(put).toBe(5);
    over.n = put;
    widenAddresses(over);
    expect(Array.from(over.src.subarray(16, 20))).toEqual([0x20010db8, 0, 0, 4]);
    widenAddresses(b);
    for (let i = 0; i < 8; i++) expect(Array.from(b.src.subarray(i * 4, i * 4 + 4))).toEqual(words(i, 0));
  });

  it('stage as the modules read them: four words, or the words as they are for the hold module', () => {
    const { b } = fill(64, 40);
    const wide = fill(64, 40).b;
    widenAddresses(wide);
    const four = new BatchStage(new ArrayBuffer(40 * 32), 0, 40, ['src', 'dst'] as const);
    four.copy(b, 3, 30);
    const expected = new BatchStage(new ArrayBuffer(40 * 32), 0, 40, ['src', 'dst'] as const);
    expected.copy(wide, 3, 30);
    expect(Array.from(four.views.src)).toEqual(Array.from(expected.views.src));
    expect(Array.from(four.views.dst)).toEqual(Array.from(expected.views.dst));
    const kept = new BatchStage(new ArrayBuffer(64 * 32), 0, 64, ['src', 'dst'] as const, true);
    kept.copy(b, 3, 30);
    expect(Array.from(kept.views.src.subarray(0, 30))).toEqual(Array.from(b.src.subarray(3, 33)));
    // for the hold module: a bit a staged record, then the IPv6 entries from the first staged one's
    for (const [side, view, k0] of [[0, kept.views.src, kept.k0Src], [1, kept.views.dst, kept.k0Dst]] as const) {
      for (let k = 0; k < 30; k++) {
        const v6 = ((view[64 + (k >>> 5)]! >>> (k & 31)) & 1) === 1;
        expect(v6, `staged ${k} side ${side}`).toBe(words(3 + k, side)[2] !== 0xffff);
        if (v6) expect(Array.from(view.subarray(64 + 2 + (view[k]! - k0) * 4, 64 + 2 + (view[k]! - k0) * 4 + 4))).toEqual(words(3 + k, side));
      }
    }
    // a stage from a record not at a multiple of 32, past the last one with an IPv6 address
    const late = new Uint32Array(64 * 4);
    expect(narrowStage(late, 64, b.src, 64, 38, 2)).toBe(0);
    expect(Array.from(late.subarray(64, 66))).toEqual([0, 0]);
  });

  it('cross threads in a ring slot with their form', () => {
    const ring = new BatchRing(createBatchRing(2, 64));
    const b = ring.take(64)!;
    startNarrow(b);
    expect(putNarrow(b.src, 64, 0, 0, 0, 0xffff, 0x01020304)).toBe(true);
    expect(putNarrow(b.src, 64, 1, 0x20010db8, 1, 2, 3)).toBe(true);
    b.n = 2;
    const copy = structuredClone({ batch: b }).batch;
    expect(copy.narrow).toBe(true);
    widenAddresses(copy);
    expect(Array.from(b.src.subarray(0, 8))).toEqual([0, 0, 0xffff, 0x01020304, 0x20010db8, 1, 2, 3]); // the same memory
  });

  it('give a run the results of the fused pipeline (no narrow batches): IPv6 scanners and targets, outbound, batches that widen', async () => {
    const dir = tempDir();
    const flows: Flow[] = [];
    for (let i = 0; i < 12; i++) flows.push(...scanner(`45.9.${i}.7`, 12 + i, { start: T0 + i * 100, dport: [22, 445, 3389][i % 3]! }));
    for (let i = 0; i < 6; i++) flows.push(...scanner(`2a01:4f8::${i + 1}`, 12 + i, { start: T0 + i * 50, dport: 22 }));
    // IPv6 targets of an IPv4 scanner, and an internal IPv6 host reaching many public targets (outbound)
    for (let k = 0; k < 30; k++) flows.push({ src: '61.4.4.4', dst: `fd00:ec2::${k + 1}`, dport: 23, start: T0 + k });
    for (let k = 0; k < 150; k++) flows.push({ src: 'fd00:ec2::99', dst: `93.184.${k >> 8}.${k & 255}`, dport: 80, start: T0 + k, packets: 2, bytes: 120, action: 'ACCEPT' });
    for (let k = 0; k < 150; k++) flows.push({ src: '10.0.0.5', dst: k % 4 === 0 ? `2600:1f18::${k + 1}` : `93.185.${k >> 8}.${k & 255}`, dport: 443, start: T0 + k, packets: 2, bytes: 120, action: 'ACCEPT' });
    // a stretch of IPv6 records longer than a small batch holds: those batches widen
    for (let k = 0; k < 200; k++) flows.push({ src: `2a02:6b8::${k + 1}`, dst: `fd00:ec2::${(k % 9) + 1}`, dport: 8080, start: T0 + 5 + k });
    const all = shuffled(flows, 9);
    writeV2(join(dir, 'a.log'), all.slice(0, 1200));
    writeV2(join(dir, 'b.log'), [...all.slice(1200), ...flows.slice(-200)]);
    // findings in a set's order: their order in a result differs between the pipelines in the base build too
    const canon = (r: any) => JSON.stringify({ scans: r.scans, near: r.nearMisses, alerts: r.alerts, findings: r.findings.map((f: unknown) => JSON.stringify(f)).sort(), totals: r.totals, keys: r.keys, entries: r.entries });
    const fused = await runDetect([dir], { workers: 2, pipeline: 'fused', nearMisses: true });
    expect(fused.scans.some((s: { src: string }) => s.src.includes(':'))).toBe(true);
    expect(fused.alerts.length).toBeGreaterThan(0);
    for (const batchSize of [64, 1024, 32768]) {
      const r = await runDetect([dir], { workers: 2, pipeline: 'sharded', batchSize, nearMisses: true });
      expect(canon(r), `batch ${batchSize}`).toBe(canon(fused));
    }
  });
});
