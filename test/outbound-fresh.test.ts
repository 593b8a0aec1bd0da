/**
 * OutboundTable.addBatch(batch, fresh): a replay twin holding its whole bucket adds keys no
 * other batch has, looked up in the batch's own index and indexed in the table later
 * (syncIndex). The table must end as the one every batch was looked up in: the same entries
 * in the same order, the same counts, drops and findings.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { allocBatch, type FlowBatchData } from '../dist/src/flow/batch.js';
import { OutboundTable } from '../dist/src/engine/outbound-table.js';

const T0 = 1700006400;
const W = 3600;
const OUTBOUND = 2; // Feed.outbound (a const enum: not in the compiled module)

interface Row {
  src: number;
  dst: number[];
  port: number;
  start: number;
  account: number;
}

const v4 = (a: number): number[] => [0, 0, 0xffff, a >>> 0];

function batchOf(rows: Row[]): FlowBatchData {
  const b = allocBatch(rows.length);
  rows.forEach((r, i) => {
    b.feed[i] = OUTBOUND;
    b.src.set(v4(r.src), i * 4);
    b.dst.set(r.dst, i * 4);
    b.proto[i] = 6;
    b.dport[i] = r.port;
    b.sport[i] = 40000 + (i % 7);
    b.tcpFlags[i] = -1;
    b.packets[i] = 1 + (i % 3);
    b.bytes[i] = 60 + i;
    b.start[i] = r.start;
    b.end[i] = r.start + 1;
    b.account[i] = 1 + r.account;
    b.iface[i] = 3 + (i % 2);
  });
  b.n = rows.length;
  b.strings = ['', '111122223300', '111122223301', 'eni-a', 'eni-b'];
  return b;
}

/** Batches of hosts, each host in one batch only (as a bucket's twin): scanners with a key seen again further on, IPv6 targets among them. */
function hostBatches(hosts = 3): Row[][] {
  const batches: Row[][] = [];
  for (let b = 0; b < 6; b++) {
    const rows: Row[] = [];
    for (let h = 0; h < hosts; h++) {
      const src = 0x0a000000 + b * 16 + h;
      const targets = 40 + 50 * h;
      for (let k = 0; k < targets; k++) {
        const dst = k % 9 === 0 ? [0x2a000000, 0, b, k] : v4(0x51000000 + k);
        rows.push({ src, dst, port: 23, start: T0 + (k % 5) * 1000, account: k % 2 });
        // the same key again after other rows (same window, account and target), and once in the next window
        if (k % 4 === 0) rows.push({ src, dst: v4(0x52000000 + k), port: 23, start: T0 + 10, account: 0 });
      }
      for (let k = 0; k < targets; k += 4) rows.push({ src, dst: v4(0x52000000 + k), port: 23, start: T0 + 20, account: 0 });
    }
    batches.push(rows);
  }
  return batches;
}

function table(fresh: boolean, limit = Infinity): OutboundTable {
  const t = new OutboundTable(W, 16); // grows while batches are added
  t.limitEntries = limit;
  for (const rows of hostBatches()) t.addBatch(batchOf(rows), fresh);
  // then a batch that is not fresh: its keys are found among the fresh batches' entries
  const again = hostBatches()[2]!.slice(0, 50).concat(hostBatches()[4]!.slice(0, 30));
  t.addBatch(batchOf(again));
  return t;
}

/**
 * Batches of over 1,024 records: the table moves into the WebAssembly module's memory at the
 * first (outbound-adds.ts) and grows there. Between the fresh batches, batches that are not
 * fresh go to the module, which looks their keys up in the table's index: it must hold the
 * fresh batches' entries by then, or their keys would be added twice.
 */
function largeTable(fresh: boolean, js: boolean, limit = Infinity): OutboundTable {
  if (js) process.env.FLOWSIEVE_OUTBOUND = 'js';
  else delete process.env.FLOWSIEVE_OUTBOUND;
  const t = new OutboundTable(W, 16);
  t.limitEntries = limit;
  const all = hostBatches(9);
  all.forEach((rows, b) => {
    t.addBatch(batchOf(rows), fresh);
    if (b % 2 === 1) t.addBatch(batchOf(all[b - 1]!.slice(0, 700).concat(rows.slice(0, 700))));
  });
  return t;
}

const saved = process.env.FLOWSIEVE_OUTBOUND;
afterEach(() => {
  if (saved === undefined) delete process.env.FLOWSIEVE_OUTBOUND;
  else process.env.FLOWSIEVE_OUTBOUND = saved;
});

const THRESHOLDS = { minTargets: 60, minPorts: 100, maxCvPackets: 5, maxCvBytes: 5 };

describe('outbound rows of a fresh batch (a whole-bucket replay twin)', () => {
  it('make the table that looking every record up makes: entries, counts, findings', () => {
    const looked = table(false);
    const fresh = table(true);
    expect(fresh.n).toBe(looked.n);
    expect(fresh.n).toBeGreaterThan(500);
    expect(fresh.exportState()).toEqual(looked.exportState());
    const findings = looked.finalize(THRESHOLDS);
    expect(findings.length).toBeGreaterThan(0);
    expect(fresh.finalize(THRESHOLDS)).toEqual(findings);
  });

  it('drop the same records when the table is full', () => {
    const looked = table(false, 300);
    const fresh = table(true, 300);
    expect(looked.droppedRecords).toBeGreaterThan(0);
    expect(fresh.droppedRecords).toBe(looked.droppedRecords);
    expect(fresh.droppedHosts()).toEqual(looked.droppedHosts());
    expect(fresh.exportState()).toEqual(looked.exportState());
  });
});

const built = existsSync(new URL('../dist/wasm/outbound-adds.wasm', import.meta.url));

describe.runIf(built)('outbound rows of fresh batches in the WebAssembly module\'s memory', () => {
  it('make the table the JavaScript loop makes looking every record up, with module adds between them', () => {
    const looked = largeTable(false, true);
    const fresh = largeTable(true, false);
    expect(fresh.srcA.byteOffset).toBeGreaterThan(0); // in the module's memory
    expect(looked.srcA.byteOffset).toBe(0);
    expect(fresh.n).toBe(looked.n);
    expect(fresh.n).toBeGreaterThan(5000);
    expect(fresh.exportState()).toEqual(looked.exportState());
    expect(fresh.finalize(THRESHOLDS)).toEqual(looked.finalize(THRESHOLDS));
    // the module's own table, every batch looked up, is that table too
    expect(largeTable(false, false).exportState()).toEqual(looked.exportState());
  });

  it('drop the same records when the table is full', () => {
    const looked = largeTable(false, true, 3000);
    const fresh = largeTable(true, false, 3000);
    expect(looked.droppedRecords).toBeGreaterThan(0);
    expect(fresh.droppedRecords).toBe(looked.droppedRecords);
    expect(fresh.droppedHosts()).toEqual(looked.droppedHosts());
    expect(fresh.exportState()).toEqual(looked.exportState());
  });
});
