import { describe, expect, it } from 'vitest';
import { allocBatch, type FlowBatchData } from '../dist/src/flow/batch.js';
import { OutboundTable } from '../dist/src/engine/outbound-table.js';

const T0 = 1700006400;
const OUTBOUND = 2; // Feed.outbound (a const enum: not in the compiled module)

interface Row {
  src: number;
  dst: number[]; // four words
  proto: number;
  port: number;
  sport: number;
}

/** One batch of outbound records of account 1, every record one flow of 1 packet, 60 bytes. */
function batchOf(rows: Row[]): FlowBatchData {
  const b = allocBatch(rows.length);
  rows.forEach((r, i) => {
    b.feed[i] = OUTBOUND;
    b.src.set([0, 0, 0xffff, r.src], i * 4);
    b.dst.set(r.dst, i * 4);
    b.proto[i] = r.proto;
    b.dport[i] = r.port;
    b.sport[i] = r.sport;
    b.tcpFlags[i] = -1;
    b.packets[i] = 1;
    b.bytes[i] = 60;
    b.start[i] = T0 + i;
    b.end[i] = T0 + i + 1;
    b.account[i] = 1;
  });
  b.n = rows.length;
  b.strings = ['', '111122223300'];
  return b;
}

const v4 = (a: number): number[] => [0, 0, 0xffff, a >>> 0];

describe('outbound finalisation: host figures and grouping (typed arrays)', () => {
  it('counts a host\'s distinct protocols, ports and targets (IPv4 and IPv6), whatever the record order', () => {
    const rows: Row[] = [];
    const scanner = 0x0a000005; // 10.0.0.5
    // 120 public targets on 23/TCP (the horizontal scan), 20 of them IPv6
    for (let k = 0; k < 120; k++) rows.push({ src: scanner, dst: k < 20 ? [0x2a000000, 0, 0, k + 1] : v4(0x51020000 + k), proto: 6, port: 23, sport: 40000 + k });
    // the same host: 5 of those targets again on 2323/TCP, 3 new ones on 53/UDP and one IPv6 target on 53/UDP
    for (let k = 20; k < 25; k++) rows.push({ src: scanner, dst: v4(0x51020000 + k), proto: 6, port: 2323, sport: 40000 });
    for (let k = 0; k < 3; k++) rows.push({ src: scanner, dst: v4(0x52000000 + k), proto: 17, port: 53, sport: 40000 });
    rows.push({ src: scanner, dst: [0x2a000000, 0, 0, 1], proto: 17, port: 53, sport: 40000 });
    // another host, with entries on the same ports: counted apart
    for (let k = 0; k < 30; k++) rows.push({ src: 0x0a000006, dst: v4(0x53000000 + k), proto: 6, port: 23, sport: 1000 });
    const figures = (order: Row[]) => {
      const t = new OutboundTable(3600, 16);
      t.addBatch(batchOf(order));
      return t.finalize({ minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5 });
    };
    const f = figures(rows);
    expect(f.map((x) => [x.kind, x.src, x.dstPort, x.targets, x.protocolsOfHost, x.portsOfHost, x.targetsOfHost])).toEqual([
      ['horizontal', '10.0.0.5', 23, 120, 2, 3, 123], // 120 + 3 new IPv4 targets; the IPv6 one on 53 was seen on 23
    ]);
    // source ports: 120 different ones and 40000 again: the sketch has bits set, at most 32
    expect(f[0]!.sourcePortSpread).toBeGreaterThan(16);
    expect(f[0]!.sourcePortSpread).toBeLessThanOrEqual(32);
    // the figures do not depend on the record order
    const reversed = figures([...rows].reverse());
    expect(reversed.map((x) => [x.targets, x.protocolsOfHost, x.portsOfHost, x.targetsOfHost, x.sourcePortSpread])).toEqual([[120, 2, 3, 123, f[0]!.sourcePortSpread]]);
  });

  it('counts an IPv4 target and an IPv6 target whose intern id is the same number as two targets', () => {
    const rows: Row[] = [];
    // internal targets: 0.0.0.0-0.0.0.2 (IPv4 words 0, 1, 2) and fd00::1-3 (IPv6 intern ids 0, 1, 2)
    for (let k = 0; k < 3; k++) rows.push({ src: 0x0a000009, dst: v4(k), proto: 6, port: 22, sport: 5 });
    for (let k = 0; k < 3; k++) rows.push({ src: 0x0a000009, dst: [0xfd000000, 0, 0, k + 1], proto: 6, port: 22, sport: 5 });
    const t = new OutboundTable(3600, 16);
    t.addBatch(batchOf(rows));
    const f = t.finalize({ minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5, minInternalTargets: 6 });
    expect(f.map((x) => [x.kind, x.targets, x.protocolsOfHost, x.portsOfHost, x.targetsOfHost])).toEqual([['internal', 6, 1, 1, 6]]);
  });

  it('finds horizontal, vertical and internal scans of several hosts in one table, each with its own entries', () => {
    const rows: Row[] = [];
    for (let s = 0; s < 3; s++) {
      for (let k = 0; k < 100; k++) rows.push({ src: 0x0a100000 + s, dst: v4(0x36000000 + s * 1000 + k), proto: 6, port: 445, sport: 5 });
      for (let p = 0; p < 100 + s; p++) rows.push({ src: 0x0a110000 + s, dst: v4(0x37000001 + s), proto: 6, port: 1 + p, sport: 5 });
      for (let k = 0; k < 20 + s; k++) rows.push({ src: 0x0a120000 + s, dst: v4(0x0a200000 + k), proto: 6, port: 22, sport: 5 });
      for (let k = 0; k < 99; k++) rows.push({ src: 0x0a130000 + s, dst: v4(0x38000000 + k), proto: 6, port: 80, sport: 5 }); // one target short
    }
    const t = new OutboundTable(3600, 16);
    t.addBatch(batchOf(rows));
    const f = t.finalize({ minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5, minInternalTargets: 20, homeNet: ['10.0.0.0/8'] });
    const seen = f.map((x) => `${x.kind} ${x.src} ${x.targets} ${x.ports}`).sort();
    expect(seen).toEqual([
      'horizontal 10.16.0.0 100 1', 'horizontal 10.16.0.1 100 1', 'horizontal 10.16.0.2 100 1',
      'internal 10.18.0.0 20 1', 'internal 10.18.0.1 21 1', 'internal 10.18.0.2 22 1',
      'vertical 10.17.0.0 1 100', 'vertical 10.17.0.1 1 101', 'vertical 10.17.0.2 1 102',
    ]);
  });

  it('finds a vertical scan of one target among a host\'s many targets of one entry each (the grouping by target skips only hosts without a repeated target)', () => {
    const rows: Row[] = [];
    // 10.0.0.8: 300 targets once each on 80/TCP, and one of them again on 3 more ports (entries 303, targets 300)
    for (let k = 0; k < 300; k++) rows.push({ src: 0x0a000008, dst: v4(0x39000000 + k), proto: 6, port: 80, sport: 5 });
    for (let p = 0; p < 3; p++) rows.push({ src: 0x0a000008, dst: v4(0x39000007), proto: 6, port: 8080 + p, sport: 5 });
    // 10.0.0.9: 400 targets once each: no vertical group, left out of the grouping by target
    for (let k = 0; k < 400; k++) rows.push({ src: 0x0a000009, dst: v4(0x3a000000 + k), proto: 6, port: 81 + (k % 7), sport: 5 });
    const saved = process.env.FLOWSIEVE_OUTBOUND;
    try {
      for (const mode of ['wasm', 'js']) {
        if (mode === 'js') process.env.FLOWSIEVE_OUTBOUND = 'js';
        else delete process.env.FLOWSIEVE_OUTBOUND;
        const t = new OutboundTable(3600, 16);
        t.addBatch(batchOf(rows));
        const f = t.finalize({ minTargets: 1000, minPorts: 4, maxCvPackets: 0.5, maxCvBytes: 0.5 });
        expect(f.map((x) => `${x.kind} ${x.src} ${x.targets} ${x.ports} ${x.targetsOfHost}`)).toEqual(['vertical 10.0.0.8 1 4 300']);
      }
    } finally {
      if (saved === undefined) delete process.env.FLOWSIEVE_OUTBOUND;
      else process.env.FLOWSIEVE_OUTBOUND = saved;
    }
  });

  it('maps each batch\'s own string table as its records use it: the same alert however the strings are laid out', () => {
    const rows: Row[] = [];
    for (let k = 0; k < 100; k++) rows.push({ src: 0x0a000007, dst: v4(0x51030000 + k), proto: 6, port: 445, sport: 5 });
    const names = ['111122223300', '444455556666', 'eni-b', 'eni-a', 'i-2', 'i-1', 'us-east-1', 'eu-west-1'];
    /** rows [from, to) as a batch whose string table is `order` (names the records do not use included) */
    const part = (from: number, to: number, order: string[], account: string, iface: string, instance: string, region: string) => {
      const b = batchOf(rows.slice(from, to));
      b.strings = ['', ...order];
      const id = (x: string) => b.strings.indexOf(x);
      b.account.fill(id(account), 0, b.n);
      b.iface.fill(id(iface), 0, b.n);
      b.instance.fill(id(instance), 0, b.n);
      b.region.fill(id(region), 0, b.n);
      return b;
    };
    const alert = (batches: FlowBatchData[]) => {
      const t = new OutboundTable(3600, 16);
      for (const b of batches) t.addBatch(b);
      return t.finalize({ minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5 }).map((x) => [x.src, x.account, x.targets, x.iface, x.instance, x.region]);
    };
    const expected = [['10.0.0.7', '111122223300', 100, 'eni-a;eni-b', 'i-1;i-2', 'eu-west-1;us-east-1']];
    // two batches, two string tables in different orders: the alert names the entries' interfaces, instances and regions
    expect(alert([part(0, 50, names, '111122223300', 'eni-b', 'i-2', 'us-east-1'), part(50, 100, [...names].reverse(), '111122223300', 'eni-a', 'i-1', 'eu-west-1')])).toEqual(expected);
    expect(alert([part(50, 100, names, '111122223300', 'eni-a', 'i-1', 'eu-west-1'), part(0, 50, [...names].reverse(), '111122223300', 'eni-b', 'i-2', 'us-east-1')])).toEqual(expected);
    // another account's records of the same source and targets are another host: no alert of 100 targets for either
    expect(alert([part(0, 50, names, '111122223300', 'eni-a', 'i-1', 'eu-west-1'), part(50, 100, [...names].reverse(), '444455556666', 'eni-a', 'i-1', 'eu-west-1')])).toEqual([]);
  });

  it('keeps a horizontal or internal scan only with even packets and bytes per target, in either grouping', () => {
    // four hosts of 100 public targets on 23/TCP and four of 25 internal targets on 445/TCP: even
    // traffic; uneven packets; uneven bytes; uneven bytes but no byte counts given (a null CV passes)
    const rows: Row[] = [];
    const shape: Array<[number, number]> = []; // per row: packets, bytes (NaN: not given)
    const kinds = ['even', 'packets', 'bytes', 'no-bytes'];
    kinds.forEach((kind, h) => {
      for (let k = 0; k < 125; k++) {
        const internal = k >= 100;
        rows.push({ src: 0x0a000010 + h, dst: v4(internal ? 0x0a100000 + h * 256 + k : 0x51040000 + h * 256 + k), proto: 6, port: internal ? 445 : 23, sport: 7 });
        const odd = k % 2 === 1;
        shape.push([kind === 'packets' && odd ? 40 : 1, kind === 'no-bytes' ? NaN : kind === 'bytes' && odd ? 6000 : 60]);
      }
    });
    const b = batchOf(rows);
    shape.forEach(([p, by], i) => {
      b.packets[i] = p;
      b.bytes[i] = by;
    });
    const saved = process.env.FLOWSIEVE_OUTBOUND;
    try {
      for (const js of [false, true]) {
        if (js) process.env.FLOWSIEVE_OUTBOUND = 'js';
        else delete process.env.FLOWSIEVE_OUTBOUND;
        const t = new OutboundTable(3600, 16);
        t.addBatch(b);
        const f = t.finalize({ minTargets: 100, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5, minInternalTargets: 20, homeNet: ['10.0.0.0/8'] });
        const found = f.map((x) => `${x.kind} ${kinds[Number(x.src.split('.')[3]) - 16]} ${x.targets} ${x.cvBytes === null ? 'null' : x.cvBytes.toFixed(3)}`).sort();
        expect(found, js ? 'JavaScript groupings' : 'WebAssembly groupings').toEqual(['horizontal even 100 0.000', 'horizontal no-bytes 100 null', 'internal even 25 0.000', 'internal no-bytes 25 null']);
      }
    } finally {
      if (saved === undefined) delete process.env.FLOWSIEVE_OUTBOUND;
      else process.env.FLOWSIEVE_OUTBOUND = saved;
    }
  });
});
