/**
 * Entry rows (src/replay/entry-rows.ts): what a replay file's twin block merges, and what it
 * must not. The end-to-end equality with the logs is in test/replay.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { allocBatch } from '../dist/src/flow/batch.js';
import { EntryRowsBuilder, checkEntryCounts, ENTRY_ROWS_COLUMN } from '../dist/src/replay/entry-rows.js';
import type { FlowBatchData } from '../dist/src/flow/batch.js';
import { decodeBlock, encodeBlock } from '../dist/src/replay/block.js';
import { lz4Wasm } from '../dist/src/replay/lz4-wasm.js';

const H = 21600;
const T = 1_700_006_400; // a multiple of 6 h
const IN = 1;
const OUT = 2;

interface Row {
  feed?: number;
  src?: number;
  dst?: number;
  port?: number;
  account?: number;
  region?: number;
  start: number;
  end?: number;
  packets?: number;
  bytes?: number;
}

/** A batch of IPv4 rows, in the order given (as a block sorted by entry would hold them). */
function batch(rows: Row[]): FlowBatchData {
  const b = allocBatch(rows.length);
  rows.forEach((r, i) => {
    b.feed[i] = r.feed ?? IN;
    b.src.set([0, 0, 0xffff, r.src ?? 0x01020304], i * 4);
    b.dst.set([0, 0, 0xffff, r.dst ?? 0x0a000001], i * 4);
    b.proto[i] = 6;
    b.dport[i] = r.port ?? 22;
    b.start[i] = r.start;
    b.end[i] = r.end ?? r.start;
    b.packets[i] = r.packets ?? 1;
    b.bytes[i] = r.bytes ?? 40;
    b.account[i] = r.account ?? 1;
    b.region[i] = r.region ?? 2;
  });
  b.n = rows.length;
  b.strings = ['', 'acct', 'region', 'other'];
  return b;
}

function merged(rows: Row[]): Array<Record<string, number>> {
  const { batch: out, flows } = new EntryRowsBuilder().merge(batch(rows), H);
  return Array.from({ length: out.n }, (_, i) => ({
    feed: out.feed[i]!, dst: out.dst[i * 4 + 3]!, account: out.account[i]!, region: out.region[i]!,
    start: out.start[i]!, end: out.end[i]!, packets: out.packets[i]!, bytes: out.bytes[i]!, flows: flows[i]!,
  }));
}

describe('entry rows', () => {
  it('merge the inbound records of one entry and 6-h window: counts, known sums, least start, greatest end', () => {
    const got = merged([
      { start: T + 10, end: T + 70, packets: 2, bytes: 100 },
      { start: T + 20, end: T + 30, packets: NaN, bytes: NaN }, // counts unknown
      { start: T + 40, end: T + 500, packets: 3, bytes: 60 },
    ]);
    expect(got).toEqual([{ feed: IN, dst: 0x0a000001, account: 1, region: 2, start: T + 10, end: T + 500, packets: 5, bytes: 160, flows: 3 }]);
    // no record with known counts: the sums stay unknown
    const unknown = merged([{ start: T, packets: NaN, bytes: NaN }, { start: T + 1, packets: NaN, bytes: NaN }]);
    expect(unknown).toHaveLength(1);
    expect(unknown[0]!.packets).toBeNaN();
    expect(unknown[0]!.flows).toBe(2);
  });

  it('keep apart what a detect window, an endpoint or a region could split, and every outbound record', () => {
    const got = merged([
      { start: T + H - 1 },
      { start: T + H }, // the next entry window: a 6-h run puts it in another window
      { start: T + H + 5, account: 3 }, // another endpoint (account), interleaved in the sorted block
      { start: T + H + 6 },
      { start: T + H + 7, region: 3 }, // another region: another inbound entry
      { start: T + H + 8, feed: OUT },
      { start: T + H + 9, feed: OUT },
      { start: T + H + 10, dst: 0x0a000002 }, // another endpoint
    ]);
    expect(got.map((r) => [r.feed, r.start, r.account, r.region, r.dst, r.flows])).toEqual([
      [IN, T + H - 1, 1, 2, 0x0a000001, 1],
      [IN, T + H, 1, 2, 0x0a000001, 2],
      [IN, T + H + 5, 3, 2, 0x0a000001, 1],
      [IN, T + H + 7, 1, 3, 0x0a000001, 1],
      [OUT, T + H + 8, 1, 2, 0x0a000001, 1],
      [OUT, T + H + 9, 1, 2, 0x0a000001, 1],
      [IN, T + H + 10, 1, 2, 0x0a000002, 1],
    ]);
  });

  it('merge nothing in a block with a count that is not a whole number (its sums would depend on the order)', () => {
    const got = merged([{ start: T, packets: 1.5 }, { start: T + 1 }, { start: T + 2 }]);
    expect(got.map((r) => r.flows)).toEqual([1, 1, 1]);
  });

  it('are checked against the index: records in all and by feed, no count 0, outbound rows one record each', () => {
    const flags = new Uint8Array([IN, IN, OUT]);
    const cols = (flows: number[]) => new Map([[ENTRY_ROWS_COLUMN, Uint32Array.from(flows)]]);
    expect(checkEntryCounts(cols([2, 1, 1]), flags, 3, 4, 3, 1)).toBeInstanceOf(Uint32Array);
    expect(checkEntryCounts(cols([2, 1, 1]), flags, 3, 5, 3, 1)).toMatch(/stand for 4 records, index says 5/);
    expect(checkEntryCounts(cols([1, 1, 2]), flags, 3, 4, 3, 1)).toMatch(/entry row 2 stands for 2 records/);
    expect(checkEntryCounts(cols([3, 0, 1]), flags, 3, 4, 3, 1)).toMatch(/entry row 1 stands for 0 records/);
    expect(checkEntryCounts(cols([2, 1, 1]), flags, 3, 4, 2, 2)).toMatch(/inbound and/);
    expect(checkEntryCounts(new Map(), flags, 3, 4, 3, 1)).toMatch(/missing/);
  });

  it.runIf(lz4Wasm() !== null)('are checked alike by the replay module, in a block decoded into its memory (40 rows: past any step)', () => {
    const n = 40;
    const inModule = (flows: number[], f: Uint8Array) => {
      const frame = encodeBlock({ kind: 'rows', rows: n, bucket: 0, minTime: 0, maxTime: 0, columns: [['flags', f, n], [ENTRY_ROWS_COLUMN, Uint32Array.from(flows), n]] });
      const cols = decodeBlock(frame, 'rows', lz4Wasm()).columns;
      return { cols, flags: cols.get('flags') as Uint8Array };
    };
    const f = Uint8Array.from({ length: n }, (_, i) => (i % 5 === 4 ? OUT : IN));
    const ones = Array.from({ length: n }, (_, i) => (i % 5 === 4 ? 1 : 1 + (i % 3))); // 32 inbound rows, 8 outbound
    const inb = ones.reduce((a, c, i) => a + (i % 5 === 4 ? 0 : c), 0);
    const check = (flows: number[], rows: number, i: number, o: number) => {
      const m = inModule(flows, f);
      expect(m.flags.buffer).not.toBe(f.buffer);
      const got = checkEntryCounts(m.cols, m.flags, n, rows, i, o);
      expect(got).toEqual(checkEntryCounts(new Map([[ENTRY_ROWS_COLUMN, Uint32Array.from(flows)]]), f, n, rows, i, o));
      return got;
    };
    expect(check(ones, inb + 8, inb, 8)).toBeInstanceOf(Uint32Array);
    expect(check(ones, inb + 9, inb, 8)).toMatch(/stand for \d+ records, index says/);
    expect(check(ones, inb + 8, inb - 1, 9)).toMatch(/inbound and/);
    expect(check(ones.map((c, i) => (i === 39 ? 2 : c)), inb + 9, inb, 9)).toMatch(/entry row 39 stands for 2 records/);
    expect(check(ones.map((c, i) => (i === 17 ? 0 : c)), inb, inb, 8)).toMatch(/entry row 17 stands for 0 records/);
  });
});
