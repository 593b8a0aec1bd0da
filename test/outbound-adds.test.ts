import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { allocBatch, type FlowBatchData } from '../dist/src/flow/batch.js';
import { OutboundTable } from '../dist/src/engine/outbound-table.js';

// The outbound table's add loop in WebAssembly (src/engine/outbound-adds.ts) against the
// JavaScript one (FLOWSIEVE_OUTBOUND=js): every column of every entry the same, in the same
// order, on batches chosen to stop the module (IPv6 ends, strings first met mid-batch, a
// table that grows, a table at its limit), to leave it string choices (an entry's
// instance, interface and region differing between its records), and mostly inbound
// batches, whose stages JavaScript adds between the module's.

const built = existsSync(new URL('../dist/wasm/outbound-adds.wasm', import.meta.url));
const T0 = 1700006400;
const W = 3600;
const OUTBOUND = 2; // Feed.outbound
const INBOUND = 1;

let x = 987654;
const rnd = (): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};

/** A batch of n records, `tenths` of them outbound, from a few hundred hosts, some IPv6; its strings `names` (strings[0] = ''). */
function batchOf(n: number, names: string[], tenths: number): FlowBatchData {
  const b = allocBatch(n);
  for (let i = 0; i < n; i++) {
    const h = rnd() % 300;
    b.feed[i] = rnd() % 10 < tenths ? OUTBOUND : INBOUND;
    b.src.set(h % 17 === 0 ? [0x2a000000, 0, 1, h] : [0, 0, 0xffff, (0x0a000000 + h) >>> 0], i * 4);
    b.dst.set(rnd() % 23 === 0 ? [0x2a000000, 0, 2, rnd() % 50] : [0, 0, 0xffff, rnd() % 2 ? rnd() : 0x36000000 + (rnd() % 40)], i * 4);
    b.proto[i] = [6, 17, 1][rnd() % 3]!;
    b.dport[i] = [22, 443, 65535, rnd() & 0xffff][rnd() % 4]!;
    b.sport[i] = rnd() & 0xffff;
    b.tcpFlags[i] = -1;
    b.packets[i] = rnd() % 9 === 0 ? NaN : 1 + (rnd() % 5);
    b.bytes[i] = rnd() % 9 === 0 ? NaN : 60 * (1 + (rnd() % 5));
    b.start[i] = T0 + (rnd() % (3 * W));
    b.end[i] = b.start[i]! + (rnd() % 60);
    b.cloud[i] = h % 3;
    // ids into `names`: the account by host, the others varying, 0 (none) among them
    b.account[i] = 1 + (h % (names.length - 1));
    b.iface[i] = rnd() % names.length;
    b.instance[i] = rnd() % names.length;
    b.region[i] = rnd() % names.length;
  }
  b.n = n;
  b.strings = names;
  return b;
}

/** Batches whose string tables differ (each met first by a batch after the table's first). */
function batches(): FlowBatchData[] {
  x = 987654; // the same batches for every table
  const out: FlowBatchData[] = [];
  for (let k = 0; k < 12; k++) {
    const names = [''];
    for (let s = 0; s < 5 + k * 3; s++) names.push(`name-${(k * 7 + s * 13) % 61}`);
    // some batches mostly inbound: their stages are added in JavaScript (addInModule's share)
    out.push(batchOf(1000 + k * 700, names, k % 3 === 1 ? 1 : 9));
  }
  // more strings than the module's maps cover: that batch is added in JavaScript
  out.push(batchOf(3000, ['', ...Array.from({ length: 20000 }, (_, s) => `many-${s % 97}-${s}`)], 9));
  // two batches over one string table in a row (a replay file's blocks): mapped once
  out.push(batchOf(2000, out[3]!.strings, 9));
  out.push(batchOf(1500, out[3]!.strings, 9));
  return out;
}

function tableOf(js: boolean, limit = Infinity, capacity = 16): OutboundTable {
  if (js) process.env.FLOWSIEVE_OUTBOUND = 'js';
  else delete process.env.FLOWSIEVE_OUTBOUND;
  const t = new OutboundTable(W, capacity); // from 16: grows many times
  t.limitEntries = limit;
  for (const b of batches()) t.addBatch(b);
  return t;
}

/** The table as plain values: every column of its entries, its strings and its drops. */
function stateOf(t: OutboundTable): string {
  const s = t.exportState();
  const cols = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, ArrayBuffer.isView(v) ? Array.from(v as Uint32Array) : v]));
  return JSON.stringify({ cols, dropped: t.droppedRecords, hosts: t.droppedHosts() });
}

const saved = process.env.FLOWSIEVE_OUTBOUND;
afterEach(() => {
  if (saved === undefined) delete process.env.FLOWSIEVE_OUTBOUND;
  else process.env.FLOWSIEVE_OUTBOUND = saved;
});

describe.runIf(built)('outbound adds in WebAssembly', () => {
  it('adds where the module is built, and its columns live in the module memory from its first large batch', () => {
    // the module's columns lie above its stage and maps; a JavaScript array's at offset 0
    const small = new OutboundTable(W, 16);
    small.addBatch(batchOf(500, ['', 'a', 'b'], 9));
    expect(small.srcA.byteOffset).toBe(0);
    const t = tableOf(false);
    expect(t.srcA.byteOffset).toBeGreaterThan(0);
    expect(t.n).toBeGreaterThan(5000);
    const js = tableOf(true);
    expect(js.srcA.byteOffset).toBe(0);
    expect(js.n).toBe(t.n);
  });

  it('leaves every entry as the JavaScript loop does: IPv6 ends, new strings, growth, string choices', () => {
    const wasm = tableOf(false);
    const js = tableOf(true);
    expect(wasm.n).toBe(js.n);
    const a = JSON.parse(stateOf(wasm)) as { cols: Record<string, unknown> };
    const b = JSON.parse(stateOf(js)) as { cols: Record<string, unknown> };
    for (const k of Object.keys(b.cols)) expect({ k, at: firstDifference(JSON.stringify(a.cols[k]), JSON.stringify(b.cols[k])) }).toEqual({ k, at: null });
    // the instance choices were real: entries whose records named several instances
    expect(new Set((a.cols.instance as number[]).filter((id) => id !== 0)).size).toBeGreaterThan(10);
  });

  it('the same at a limit of entries: the same records dropped, by the same hosts', () => {
    // a limit below the capacity too (a spill lowers it on a table made larger)
    for (const capacity of [16, 8192]) {
      const wasm = tableOf(false, 3000, capacity);
      const js = tableOf(true, 3000, capacity);
      expect(js.droppedRecords).toBeGreaterThan(0);
      expect(firstDifference(stateOf(wasm), stateOf(js))).toBeNull();
    }
  });
});

/** Where two states first differ (null: equal), with a little of each around it. */
function firstDifference(a: string, b: string): string | null {
  if (a === b) return null;
  let i = 0;
  while (a[i] === b[i]) i++;
  return `at ${i}: ${a.slice(i - 40, i + 40)} | ${b.slice(i - 40, i + 40)}`;
}

describe('outbound adds in JavaScript: slots read ahead a run of records at a time (OutboundTable.readAhead)', () => {
  /** Records [from, to) of batch b as a batch of their own (the same string table). */
  function slice(b: FlowBatchData, from: number, to: number): FlowBatchData {
    const out = allocBatch(to - from);
    for (const [k, v] of Object.entries(b)) {
      if (!ArrayBuffer.isView(v)) continue;
      const col = v as Uint32Array;
      const per = col.length / b.src.length * 4; // values a record (src and dst: 4)
      (out as unknown as Record<string, Uint32Array>)[k]!.set(col.subarray(from * per, to * per));
    }
    out.n = to - from;
    out.strings = b.strings;
    return out;
  }

  it('leaves every entry as records added a few at a time do: runs across the read-ahead boundaries, IPv6 ends, strings first met', () => {
    process.env.FLOWSIEVE_OUTBOUND = 'js';
    x = 4242;
    const names = ['', ...Array.from({ length: 30 }, (_, s) => `n-${s}`)];
    // mostly inbound (the adds' own pass reads ahead) and mostly outbound, each past several read-aheads
    const big = [batchOf(5000, names, 1), batchOf(4500, names, 9), batchOf(3001, names, 5)];
    const whole = new OutboundTable(W, 16);
    for (const b of big) whole.addBatch(b);
    const few = new OutboundTable(W, 16);
    for (const b of big) for (let i = 0; i < b.n; i += 7) few.addBatch(slice(b, i, Math.min(b.n, i + 7)));
    expect(whole.n).toBeGreaterThan(5000);
    expect(firstDifference(stateOf(whole), stateOf(few))).toBeNull();
  });
});
