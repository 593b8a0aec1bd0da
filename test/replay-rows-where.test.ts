import { describe, expect, it, vi } from 'vitest';
import { allocBatch, type FlowBatchData } from '../dist/src/flow/batch.js';
import { blockRows, decodeRows, decodeRowsWhere, encodeRows, outboundColumns, RowScratch, selectedRows, selectRows } from '../dist/src/replay/row-codec.js';
import { OutboundTable } from '../dist/src/engine/outbound-table.js';
import { OutboundArena } from '../dist/src/engine/outbound-adds.js';
import { decodeBlock, encodeBlock, type Column } from '../dist/src/replay/block.js';
import { lz4Wasm } from '../dist/src/replay/lz4-wasm.js';

const INBOUND = 1; // Feed (a const enum: not in the compiled module)
const OUTBOUND = 2;
const T0 = 1700006400;
const COLUMNS = ['feed', 'proto', 'sport', 'dport', 'tcpFlags', 'packets', 'bytes', 'start', 'end', 'cloud', 'action', 'direction', 'account', 'region', 'iface', 'instance'] as const;

/** n rows of the given feeds, every fourth source and every fifth target IPv6, one unknown count in seven. */
function batchOf(feeds: number[]): FlowBatchData {
  const b = allocBatch(feeds.length);
  feeds.forEach((feed, i) => {
    b.feed[i] = feed;
    b.src.set(i % 4 === 0 ? [0x20010db8, 0, i, 1] : [0, 0, 0xffff, (0xc0000000 + i) >>> 0], i * 4);
    b.dst.set(i % 5 === 0 ? [0x20010db8, 1, 0, i] : [0, 0, 0xffff, 0x0a000000 + i], i * 4);
    b.proto[i] = i % 3 === 0 ? 17 : 6;
    b.sport[i] = 40000 + i;
    b.dport[i] = 22 + (i % 9);
    b.tcpFlags[i] = i % 2 === 0 ? -1 : 2;
    b.packets[i] = i % 7 === 0 ? NaN : 1 + i;
    b.bytes[i] = 60 * (1 + i);
    b.start[i] = T0 + i;
    b.end[i] = T0 + 2 * i;
    b.cloud[i] = i % 3;
    b.action[i] = i % 2;
    b.direction[i] = i % 3;
    b.account[i] = 1 + (i % 2);
    b.region[i] = 3;
    b.iface[i] = 4;
    b.instance[i] = i % 2 === 0 ? 0 : 5;
  });
  b.n = feeds.length;
  b.strings = ['', '111122223333', '444455556666', 'us-east-1', 'eni-1', 'i-1'];
  return b;
}

/** Row i of a batch as plain values (the columns decodeRowsWhere fills). */
function rowOf(b: FlowBatchData, i: number): unknown[] {
  return [...COLUMNS.map((c) => b[c][i]), ...b.src.subarray(i * 4, i * 4 + 4), ...b.dst.subarray(i * 4, i * 4 + 4)];
}

function block(b: FlowBatchData, wideIds = false): { cols: Map<string, Column>; dict: string[] } {
  return { cols: new Map<string, Column>(encodeRows(b, b.n, wideIds).map(([name, col]) => [name, col])), dict: b.strings };
}

describe('decodeRowsWhere: the rows of one feed of a replay block', () => {
  it('expands exactly the rows decodeRows expands with that feed, in order, block after block with one scratch', () => {
    const scratch = new RowScratch();
    const feeds = [
      Array.from({ length: 40 }, (_, i) => (i % 6 === 1 ? OUTBOUND : i % 6 === 4 ? OUTBOUND | INBOUND : i % 6 === 5 ? 0 : INBOUND)),
      Array.from({ length: 3000 }, (_, i) => (i % 11 === 0 ? OUTBOUND : INBOUND)), // grows the scratch
      [OUTBOUND, INBOUND, OUTBOUND],
    ];
    for (const f of feeds) {
      const { cols, dict } = block(batchOf(f));
      const all = decodeRows(cols, f.length, dict, new RowScratch());
      const want = Array.from({ length: all.n }, (_, i) => i).filter((i) => all.feed[i]! & OUTBOUND).map((i) => rowOf(all, i));
      const got = decodeRowsWhere(cols, blockRows(cols, f.length, dict), OUTBOUND, scratch);
      expect(got.n).toBe(want.length);
      expect(got.strings).toBe(dict);
      expect(Array.from({ length: got.n }, (_, i) => rowOf(got, i))).toEqual(want);
    }
  });

  it('gives an empty batch for a block without rows of that feed, and leaves the scratch as it was', () => {
    const scratch = new RowScratch();
    const first = block(batchOf([OUTBOUND, INBOUND, OUTBOUND]));
    const out = decodeRowsWhere(first.cols, blockRows(first.cols, 3, first.dict), OUTBOUND, scratch);
    const before = Array.from({ length: out.n }, (_, i) => rowOf(out, i));
    const none = block(batchOf([INBOUND, INBOUND, 0, INBOUND]));
    expect(decodeRowsWhere(none.cols, blockRows(none.cols, 4, none.dict), OUTBOUND, scratch).n).toBe(0);
    expect(Array.from({ length: out.n }, (_, i) => rowOf(out, i))).toEqual(before);
  });
});

describe('selectRows with the count the index gives (atMost)', () => {
  /** selectRows' rows, and their IPv6 places, as plain arrays. */
  const found = (m: number) => {
    const z = selectedRows();
    return [z.row, z.ks, z.kd].map((a) => Array.from(a.subarray(0, m)));
  };

  it('finds the same rows and IPv6 places as the whole pass, outbound rows early, late or spread', () => {
    const shapes = [
      Array.from({ length: 60 }, (_, i) => (i < 7 ? OUTBOUND : INBOUND)),
      Array.from({ length: 60 }, (_, i) => (i >= 50 ? OUTBOUND : INBOUND)),
      Array.from({ length: 60 }, (_, i) => (i % 9 === 2 ? OUTBOUND | INBOUND : i % 9 === 5 ? OUTBOUND : INBOUND)),
    ];
    for (const f of shapes) {
      const { cols, dict } = block(batchOf(f));
      const r = blockRows(cols, f.length, dict);
      const all = selectRows(r, OUTBOUND);
      const want = found(all);
      expect(selectRows(r, OUTBOUND, all)).toBe(all);
      expect(found(all)).toEqual(want);
    }
  });

  it('stops once it has found that many (the rows after the last are not read)', () => {
    const f = [INBOUND, OUTBOUND, INBOUND, OUTBOUND, OUTBOUND, INBOUND];
    const { cols, dict } = block(batchOf(f));
    const r = blockRows(cols, f.length, dict);
    expect(selectRows(r, OUTBOUND, 2)).toBe(2);
    expect(found(2)[0]).toEqual([1, 3]);
    expect(selectRows(r, OUTBOUND)).toBe(3);
  });
});

/** The columns as the shard has them: a block decoded into the replay module's memory, where blockRows's checks run in the module. */
function decoded(cols: Map<string, Column>, n: number): Map<string, Column> {
  const frame = encodeBlock({ kind: 'rows', rows: n, bucket: 0, minTime: 0, maxTime: 0, columns: [...cols].map(([name, c]) => [name, c, c.length]) });
  const into = decodeBlock(frame, 'rows', lz4Wasm()).columns;
  expect(into.get('af')!.buffer).not.toBe(cols.get('af')!.buffer);
  return into;
}

describe.each([
  ['in JavaScript', (cols: Map<string, Column>) => cols],
  ...(lz4Wasm() === null ? [] : [['in the replay module', decoded]]),
] as Array<[string, (cols: Map<string, Column>, n: number) => Map<string, Column>]>)('blockRows: the checks a replay block passes before its rows are read in place, %s', (_, place) => {
  const ids = ['account', 'region', 'iface', 'instance'] as const;

  it('takes ids up to the last dictionary entry in every id column, narrow and wide', () => {
    for (const wide of [false, true]) {
      const b = batchOf(Array.from({ length: 50 }, () => INBOUND));
      for (const c of ids) b[c][49] = b.strings.length - 1;
      const cols = place(new Map<string, Column>(encodeRows(b, b.n, wide).map(([name, col]) => [name, col])), b.n);
      const r = blockRows(cols, b.n, b.strings);
      expect(r.n).toBe(50);
      expect(r.account[49]).toBe(b.strings.length - 1);
    }
  });

  it('refuses an id past the dictionary in any id column, at any row', () => {
    for (const c of ids) {
      for (const row of [0, 17, 49]) {
        const b = batchOf(Array.from({ length: 50 }, () => INBOUND));
        b[c][row] = b.strings.length;
        const { cols, dict } = block(b);
        expect(() => blockRows(place(cols, b.n), b.n, dict), `${c} at row ${row}`).toThrow(/dictionary id 6 out of range \(6 entries\)/);
      }
    }
  });

  it('refuses a block whose IPv6 source or target column holds fewer addresses than its rows say', () => {
    for (const name of ['src6', 'dst6']) {
      const { cols, dict } = block(batchOf(Array.from({ length: 20 }, () => INBOUND)));
      const six = cols.get(name) as Uint32Array;
      cols.set(name, six.subarray(0, six.length - 4));
      expect(() => blockRows(place(cols, 20), 20, dict), name).toThrow(/IPv6 address column is too short/);
    }
  });
});

describe('OutboundTable.addBlockRows: a fresh block\'s outbound rows read in its columns', () => {
  /** A block of n rows, every third outbound, rows 3k and 3k + 3 of one key in pairs (counted twice), as the shard reads it. */
  function outboundBlock(n: number, seed: number, strings = false) {
    const b = batchOf(Array.from({ length: n }, (_, i) => (i % 3 === 0 ? OUTBOUND : i % 3 === 1 ? OUTBOUND | INBOUND : INBOUND)));
    if (strings) {
      // an instance, interface and account of its own every few rows (each first met stops the
      // module); counts past 2^31 (u32) or past 2^32 (an odd seed: f64 counts), wide ids (an even one)
      b.strings = [...b.strings, ...Array.from({ length: 300 }, (_, k) => `s-${(k * 7919) % 300}`)];
      for (let i = 0; i < n; i++) {
        b.instance[i] = 6 + ((i * 31 + seed) % 300);
        b.iface[i] = i % 5 === 0 ? 0 : 6 + ((i * 17) % 300);
        b.account[i] = i % 4 === 0 ? 1 : 6 + (i % 7);
        b.bytes[i] = i % 13 === 0 ? (seed % 2 === 1 ? 1e10 : 3e9) + i : b.bytes[i]!;
      }
    }
    for (let i = 6; i < n; i += 12) {
      b.src.copyWithin(i * 4, (i - 3) * 4, (i - 2) * 4);
      b.dst.copyWithin(i * 4, (i - 3) * 4, (i - 2) * 4);
      b.proto[i] = b.proto[i - 3]!;
      b.dport[i] = b.dport[i - 3]!;
      b.cloud[i] = b.cloud[i - 3]!;
      b.account[i] = b.account[i - 3]!;
    }
    for (let i = 0; i < n; i++) b.start[i] = T0 + ((i * 7919 + seed * 104729) % 86400);
    const { cols, dict } = block(b, strings && seed % 2 === 0);
    return { cols, r: blockRows(cols, n, dict) };
  }

  it('holds the same entries, counts and strings as the block expanded and added as a batch, block after block', () => {
    const direct = new OutboundTable(3600, 16);
    const batched = new OutboundTable(3600, 16);
    const scratch = new RowScratch();
    // the 3,000-row block's 2,000 outbound rows move both tables into the module's memory (addBatch's 1,024)
    for (const [n, seed] of [[90, 1], [600, 2], [3000, 4], [31, 3]] as const) {
      const { cols, r } = outboundBlock(n, seed);
      const m = selectRows(r, OUTBOUND);
      expect(m).toBe(Math.ceil((2 * n) / 3));
      expect(direct.addBlockRows(r, outboundColumns(cols), m, true)).toBe(true);
      batched.addBatch(decodeRowsWhere(cols, r, OUTBOUND, scratch), true);
    }
    expect(direct.n).toBeGreaterThan(0);
    expect(direct.exportState()).toEqual(batched.exportState());
  });

  it('adds in the module (addRows) exactly what addBlockRun adds in JavaScript: entries, counts, string ids, in order', () => {
    const original = OutboundArena.prototype.addRows;
    const stopped: number[] = []; // each call of the module: 1 where it stopped at a row for JavaScript
    const addRows = vi.spyOn(OutboundArena.prototype, 'addRows').mockImplementation(function (this: OutboundArena, ...a: Parameters<OutboundArena['addRows']>) {
      const j = original.apply(this, a);
      stopped.push(j < a[1] ? 1 : 0);
      return j;
    });
    const tables = ['js', 'wasm'].map((mode) => {
      process.env.FLOWSIEVE_OUTBOUND = mode === 'js' ? 'js' : '';
      return new OutboundTable(3600, 16); // grows several times in a block: the module stops, the rows staged again
    });
    delete process.env.FLOWSIEVE_OUTBOUND;
    try {
      for (const [n, seed] of [[90, 1], [3000, 4], [600, 2], [31, 3]] as const) {
        const { cols, r } = outboundBlock(n, seed, true);
        expect(r.bytes instanceof Float64Array).toBe(seed % 2 === 1);
        expect(r.account instanceof Uint32Array).toBe(seed % 2 === 0);
        const m = selectRows(r, OUTBOUND);
        for (const t of tables) expect(t.addBlockRows(r, outboundColumns(cols), m, true)).toBe(true);
      }
    } finally {
      addRows.mockRestore();
    }
    expect(stopped.length).toBeGreaterThan(10);
    expect(stopped).toContain(1); // IPv6 rows, strings first met, growths: handed to JavaScript
    expect(stopped).toContain(0);
    const [js, wasm] = tables.map((t) => t.exportState());
    expect(js!.n).toBeGreaterThan(1000);
    expect(js!.strings.length).toBeGreaterThan(100);
    expect(wasm).toEqual(js);
  });

  it('declines (adds nothing) where the rows must come as a batch: rows not fresh', () => {
    const t = new OutboundTable(3600, 16);
    const { cols, r } = outboundBlock(90, 1);
    expect(t.addBlockRows(r, outboundColumns(cols), selectRows(r, OUTBOUND), false)).toBe(false);
    expect(t.n).toBe(0);
  });
});
