import { afterEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { allocBatch, type FlowBatchData } from '../dist/src/flow/batch.js';
import { OutboundTable, type OutboundThresholds } from '../dist/src/engine/outbound-table.js';
import { wasmGrouping } from '../dist/src/engine/outbound-wasm.js';
import { HomeNet } from '../dist/src/net/home-net.js';
import { outboundArena } from '../dist/src/engine/outbound-adds.js';

// The outbound finalisation's groupings in WebAssembly (src/engine/outbound-wasm.ts) against
// the JavaScript ones (FLOWSIEVE_OUTBOUND=js): the same findings, in the same order, on shapes
// chosen to break a grouping: many entries, IPv6 sources and targets whose intern ids equal
// IPv4 words, ports and protocols at their limits, several windows, home networks.

const built = existsSync(new URL('../dist/wasm/outbound-groups.wasm', import.meta.url));
const T0 = 1700006400;
const W = 3600;
const OUTBOUND = 2; // Feed.outbound (a const enum: not in the compiled module)

let x = 12345;
const rnd = (): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};

interface Row {
  src: number[];
  dst: number[];
  proto: number;
  port: number;
  start: number;
  packets: number;
  sport: number;
}

const v4 = (a: number): number[] => [0, 0, 0xffff, a >>> 0];
const v6 = (a: number, b: number): number[] => [0x2a000000 >>> 0, 0, a >>> 0, b >>> 0];

function batchOf(rows: Row[]): FlowBatchData {
  const b = allocBatch(rows.length);
  rows.forEach((r, i) => {
    b.feed[i] = OUTBOUND;
    b.src.set(r.src, i * 4);
    b.dst.set(r.dst, i * 4);
    b.proto[i] = r.proto;
    b.dport[i] = r.port;
    b.sport[i] = r.sport;
    b.tcpFlags[i] = -1;
    b.packets[i] = r.packets;
    b.bytes[i] = r.packets * 60;
    b.start[i] = r.start;
    b.end[i] = r.start + 1;
    b.account[i] = 1 + (r.src[3]! & 1); // a host's records one account
    b.iface[i] = 3;
  });
  b.n = rows.length;
  b.strings = ['', '111122223300', '444455556600', 'eni-1'];
  return b;
}

/** Hosts of every kind over three windows: scanners (horizontal, vertical, internal), many small hosts, IPv6 on both sides. */
function hostileRows(): Row[] {
  const rows: Row[] = [];
  for (let h = 0; h < 3000; h++) {
    // IPv6 hosts' intern ids are small numbers: the same words as IPv4 hosts 0.0.0.k
    const src = h % 7 === 0 ? v6(1, h) : v4(h % 11 === 0 ? h : 0x0a000000 + h);
    const start = T0 + (h % 3) * W + (rnd() % W);
    const targets = 5 + (rnd() % 40);
    for (let k = 0; k < targets; k++) {
      const dst = k % 5 === 0 ? v6(2, rnd() % 500) : v4(k % 9 === 0 ? 0x0a100000 + (rnd() % 300) : k % 13 === 0 ? rnd() % 4 : rnd());
      rows.push({ src, dst, proto: [6, 17, 0, 255][rnd() % 4]!, port: [0, 65535, 22, 443][rnd() % 4]!, start, packets: 1 + (rnd() % 3), sport: rnd() & 0xffff });
    }
  }
  for (let s = 0; s < 8; s++) {
    const src = s % 2 ? v6(3, s) : v4(0x0a200000 + s);
    const start = T0 + (s % 3) * W;
    for (let k = 0; k < 130; k++) rows.push({ src, dst: s % 4 < 2 ? v4(0x36000000 + k * 7) : v6(4, k), proto: 6, port: 445, start, packets: 2, sport: rnd() & 0xffff });
    for (let k = 0; k < 130; k++) rows.push({ src, dst: v4(0x37000001 + s), proto: 6, port: 1 + k * 3, start, packets: 1, sport: 40000 });
    for (let k = 0; k < 25; k++) rows.push({ src, dst: s % 2 ? [0xfd000000, 0, 0, k] : v4(0xc0a80000 + k), proto: 17, port: 161, start, packets: 1, sport: 40000 });
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = rnd() % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
}

function findings(rows: Row[], t: OutboundThresholds, js: boolean, upto?: number): string[] {
  if (js) process.env.FLOWSIEVE_OUTBOUND = 'js';
  else delete process.env.FLOWSIEVE_OUTBOUND;
  const table = new OutboundTable(W, 64);
  for (let from = 0; from < rows.length; from += 4096) table.addBatch(batchOf(rows.slice(from, from + 4096)));
  return table.finalize(t, upto).map((f) => JSON.stringify(f));
}

/** The WebAssembly findings equal the JavaScript ones, one by one (a failure shows the first that differs). */
function expectSame(rows: Row[], t: OutboundThresholds, upto?: number): string[] {
  const wasm = findings(rows, t, false, upto);
  const js = findings(rows, t, true, upto);
  const differs = wasm.findIndex((f, i) => f !== js[i]);
  expect(differs === -1 ? null : { at: differs, wasm: wasm[differs], js: js[differs] }).toBeNull();
  expect(wasm.length).toBe(js.length);
  return wasm;
}

const saved = process.env.FLOWSIEVE_OUTBOUND;
afterEach(() => {
  if (saved === undefined) delete process.env.FLOWSIEVE_OUTBOUND;
  else process.env.FLOWSIEVE_OUTBOUND = saved;
});

describe.runIf(built)('outbound finalisation in WebAssembly', () => {
  const rows = hostileRows();
  const thresholds: OutboundThresholds = { minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5, minInternalTargets: 20 };

  it('runs in the module where it is built, and not with FLOWSIEVE_OUTBOUND=js', () => {
    const t = new OutboundTable(W, 16);
    t.addBatch(batchOf(rows.slice(0, 100)));
    expect(wasmGrouping(t, t.v6, new HomeNet([]))).not.toBeNull();
    process.env.FLOWSIEVE_OUTBOUND = 'js';
    expect(wasmGrouping(t, t.v6, new HomeNet([]))).toBeNull();
  });

  it('finds the same alerts as JavaScript, in the same order, on many hosts with IPv6 on both sides', () => {
    const parsed = expectSame(rows, thresholds).map((f) => JSON.parse(f) as { kind: string });
    // every kind is found: the comparison is not of two empty lists
    expect(new Set(parsed.map((f) => f.kind))).toEqual(new Set(['horizontal', 'vertical', 'internal']));
    expect(parsed.length).toBeGreaterThanOrEqual(24);
  });

  it('the same with low thresholds (nearly every host a candidate), windows up to one, and home networks', () => {
    const low: OutboundThresholds = { ...thresholds, minTargets: 3, minPorts: 2, minInternalTargets: 2, maxCvPackets: 10, maxCvBytes: 10 };
    const all = expectSame(rows, low);
    expect(all.length).toBeGreaterThan(1000);
    const upto = Math.floor(T0 / W) + 1;
    expect(expectSame(rows, low, upto).length).toBeLessThan(all.length);
    const home = { ...low, homeNet: ['54.0.0.0/7', '2a00:0:2::/48', '::ffff:192.0.0.0/100'] };
    expect(expectSame(rows, home)).not.toEqual(all);
  });

  it('fits its memory where every entry is its own host and a candidate, with 20,000 home networks', () => {
    // the layout's bound (outbound-wasm.ts BYTES_PER_ENTRY) at its worst: as many hosts as entries, all in the lists
    const each: Row[] = [];
    for (let k = 0; k < 6000; k++) each.push({ src: k % 3 ? v4(0x0a000000 + k) : v6(5, k), dst: k % 2 ? v4(0x08000000 + k) : v4(0x0a300000 + k), proto: 6, port: k & 0xffff, start: T0, packets: 1, sport: k });
    const ones = { ...thresholds, minTargets: 1, minPorts: 1, minInternalTargets: 1 };
    expect(expectSame(each, ones)).toHaveLength(6000 + 3000); // a horizontal and a vertical finding an outbound entry, an internal one each other
    expect(expectSame(each, { ...ones, minTargets: 0, minPorts: -1, minInternalTargets: 0 })).toHaveLength(9000); // thresholds below one: the same
    const homeNet = Array.from({ length: 20000 }, (_, k) => `8.0.${k >> 8}.${k & 255}/32`);
    expect(expectSame(each, { ...ones, homeNet })).toHaveLength(6000);
  });

  it('groups a replay table in its own memory: grown where the room set aside is short, and zeroed again for the next finalisation', () => {
    // 4,096 entries in a table of 4,096 (the arena's room is for a finalisation of 4,096 with
    // 64 KiB to spare); 20,000 home networks apart (not merged into one range) take 160 KB more:
    // the memory grows for them
    const each: Row[] = [];
    for (let k = 0; k < 4096; k++) each.push({ src: v4(0x0a000000 + (k >> 4)), dst: k % 3 ? v4(0x08000000 + k) : v4(0x09000001 + ((k & 255) << 8)), proto: 6, port: 443, start: T0 + (k & 1) * W, packets: 1 + (k % 5), sport: k });
    const homeNet = Array.from({ length: 20000 }, (_, k) => `9.${k >> 8}.${k & 255}.1/32`);
    const t0: OutboundThresholds = { ...thresholds, minTargets: 4, minPorts: 4, minInternalTargets: 2, maxCvPackets: 10, maxCvBytes: 10, homeNet };
    const twice = (js: boolean, replay = !js): string[][] => {
      if (js) process.env.FLOWSIEVE_OUTBOUND = 'js';
      else delete process.env.FLOWSIEVE_OUTBOUND;
      const t = new OutboundTable(W, 4096);
      // as addBlockRows marks a table replay blocks feed (only those group in their own memory)
      (t as unknown as { replayRows: boolean }).replayRows = replay;
      t.addBatch(batchOf(each));
      expect(t.n).toBe(4096);
      const before = t.srcA.buffer.byteLength;
      const first = t.finalize(t0).map((f) => JSON.stringify(f));
      // a replay table's memory grown, its views taken again; any other table's copied, its memory as it was
      if (!js) expect(t.srcA.buffer.byteLength > before).toBe(replay);
      const again = t.finalize(t0).map((f) => JSON.stringify(f));
      t.dropWindowsUpTo(Math.floor(T0 / W));
      t.addBatch(batchOf(each.filter((r) => r.start === T0).map((r) => ({ ...r, start: T0 + 2 * W }))));
      const later = t.finalize({ ...t0, homeNet: [] }).map((f) => JSON.stringify(f));
      return [first, again, later];
    };
    const [first, again, later] = twice(false);
    expect(first.length).toBeGreaterThan(200);
    expect(again).toEqual(first);
    expect(later.length).toBeGreaterThan(200);
    expect([first, again, later]).toEqual(twice(true));
    expect([first, again, later]).toEqual(twice(false, false));
  });

  it('an arena lends its room past the table zeroed again, and its views after it grew', () => {
    delete process.env.FLOWSIEVE_OUTBOUND;
    const arena = outboundArena()!;
    const views = arena.place(1024, 2048, 0, true);
    views.srcA[5] = 7;
    const moved: unknown[] = [];
    const space = arena.groupingSpace(1 << 16, (v) => moved.push(v))!;
    expect(moved).toHaveLength(0); // place set room aside
    expect(space.columns[0]).toBe(views.srcA.byteOffset);
    // a finalisation's layout, left dirty
    new Uint8Array(space.memory.buffer, space.at, 5000).fill(0xab);
    space.laid = space.at + 5000;
    const again = arena.groupingSpace(1 << 16, (v) => moved.push(v))!;
    expect(again.at).toBe(space.at);
    expect(new Uint8Array(again.memory.buffer, again.at, 5000).every((b) => b === 0)).toBe(true);
    // more than the room: the memory grows, the table's views are made again, entries where they were
    const grown = arena.groupingSpace(64 << 20, (v) => moved.push(v))!;
    expect(moved).toHaveLength(1);
    expect((moved[0] as typeof views).srcA[5]).toBe(7);
    expect(grown.memory.buffer.byteLength).toBeGreaterThanOrEqual(grown.at + (64 << 20));
  });

  it('an empty table and a table of one entry', () => {
    expect(findings([], thresholds, false)).toEqual([]);
    const one = [{ src: v4(0x0a000001), dst: v4(0x08080808), proto: 6, port: 443, start: T0, packets: 1, sport: 5 }];
    const low = { ...thresholds, minTargets: 1, minPorts: 1 };
    expect(expectSame(one, low)).toHaveLength(2); // a horizontal and a vertical finding of one target
  });
});

/** Every pass of a grouping (outbound-wasm.ts) with calls of `piece` entries: each list and figure, copied out. */
function passesInPieces(t: OutboundTable, piece: number, upto: number, need: number): number[][] {
  const g = wasmGrouping(t, t.v6, new HomeNet(['54.0.0.0/7', '2a00:0:2::/48']), piece)!;
  const { candidates, hostOf, hostCount } = g.candidates(upto, need);
  const out: number[][] = [[...candidates], [...hostOf], [hostCount]];
  const { outbound, internal } = g.splitByTarget(candidates);
  out.push([...outbound], [...internal]);
  for (const list of [outbound, internal]) {
    const figures = g.hostFigures(list, hostOf, hostCount, need);
    out.push([...figures.protocols], [...figures.ports], [...figures.targets], [...figures.sports]);
    const busy = g.busyHosts(list, hostOf, figures, need);
    out.push([...busy]);
    for (const by of [0, 1, 2]) {
      const groups = g.groupBy(busy, by); // BY_HOST, BY_PORT, BY_TARGET
      out.push([groups.count], [...groups.start], [...groups.order], [...groups.groupOf.subarray(0, busy.length)]);
    }
  }
  return out;
}

describe.runIf(built)('outbound groupings called in pieces', () => {
  const tableOf = (rows: Row[]): OutboundTable => {
    delete process.env.FLOWSIEVE_OUTBOUND;
    const t = new OutboundTable(W, 64);
    for (let from = 0; from < rows.length; from += 4096) t.addBatch(batchOf(rows.slice(from, from + 4096)));
    return t;
  };
  const whole = 1 << 30; // one call a pass

  it('give what one call a pass gives, with pieces cut at odd places', () => {
    const t = tableOf(hostileRows().slice(0, 20000));
    const upto = Math.floor(T0 / W) + 1; // two windows of three: entries left out of hostHashes' list
    for (const need of [1, 3]) {
      const one = passesInPieces(t, whole, upto, need);
      expect(one[0]!.length).toBeGreaterThan(1000); // candidates
      expect(one[3]!.length).toBeGreaterThan(100); // outbound
      expect(one[4]!.length).toBeGreaterThan(100); // internal
      for (const piece of [1, 3, 7, 1000, 8191]) expect(passesInPieces(t, piece, upto, need)).toEqual(one);
    }
  });

  it('the same over one entry, and over no candidates at all', () => {
    const t = tableOf([{ src: v4(0x0a000001), dst: v4(0x08080808), proto: 6, port: 443, start: T0, packets: 1, sport: 5 }]);
    const one = passesInPieces(t, whole, 0xffffffff, 1);
    expect(one[0]).toEqual([0]);
    for (const piece of [1, 2]) expect(passesInPieces(t, piece, 0xffffffff, 1)).toEqual(one);
    const none = passesInPieces(t, whole, 0xffffffff, 2); // a host needs two entries: no candidate
    expect(none[0]).toEqual([]);
    expect(passesInPieces(t, 1, 0xffffffff, 2)).toEqual(none);
  });
});

describe('HomeNet.v4Ranges', () => {
  it('cuts each range to the IPv4-mapped block', () => {
    expect(Array.from(new HomeNet([]).v4Ranges())).toEqual([]);
    expect(Array.from(new HomeNet(['10.1.0.0/16', '2a00::/16']).v4Ranges())).toEqual([0x0a010000, 0x0a01ffff]);
    expect(Array.from(new HomeNet(['::/0']).v4Ranges())).toEqual([0, 0xffffffff]);
    expect(Array.from(new HomeNet(['::ffff:128.0.0.0/97', '1.2.3.4']).v4Ranges())).toEqual([0x01020304, 0x01020304, 0x80000000, 0xffffffff]);
  });
});
