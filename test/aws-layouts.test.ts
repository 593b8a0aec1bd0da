/**
 * Every AWS layout is read by a reader compiled from its header (aws-columns.ts). The same
 * flows written in any order of columns, with columns the detector ignores added, must
 * give the records the default (v2) layout gives; and what the compiled reader makes of a
 * plain line must be what the general loop makes of it (a line with two spaces between
 * columns is read by the general loop alone).
 */
import { describe, expect, it } from 'vitest';
import { FlowSink } from '../dist/src/flow/sink.js';
import { readerFor } from '../dist/src/formats/registry.js';
import { LineFeeder } from '../dist/src/input/lines.js';
import { formatAddress } from '../dist/src/net/address.js';

type Row = Record<string, string>;

const V2 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(' ');
const EXTRA = 'vpc-id subnet-id type pkt-srcaddr pkt-dstaddr az-id sublocation-type traffic-path'.split(' '); // ignored by the detector
const RICH = ['instance-id', 'tcp-flags', 'region', 'flow-direction'];

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** Flows with everything a line may hold: plain ones mostly, then '-', NODATA, IPv6, bad numbers and addresses. */
function flows(n: number): Row[] {
  const r = rng(19);
  const rows: Row[] = [];
  for (let k = 0; k < n; k++) {
    const odd = r(10) === 0 ? r(8) : -1;
    const start = 1718000000 + r(86400);
    const row: Row = {
      version: '5', 'account-id': r(5) === 0 ? `0${100000000 + r(9)}` : `12345678901${r(3)}`, 'interface-id': r(20) === 0 ? '-' : `eni-0${r(4)}a1b2c3d`,
      srcaddr: `${45 + r(3)}.${r(256)}.${r(256)}.${r(256)}`, dstaddr: r(4) === 0 ? `52.1.${r(256)}.9` : `10.0.${r(4)}.${r(256)}`,
      srcport: String(r(3) === 0 ? 443 : 1024 + r(60000)), dstport: String([22, 23, 443, 3389, 50000][r(5)]), protocol: String([6, 17, 1][r(3)]),
      packets: String(1 + r(40)), bytes: String(40 + r(100000)), start: String(start), end: String(start + r(60)),
      action: r(3) === 0 ? 'ACCEPT' : 'REJECT', 'log-status': 'OK',
      'vpc-id': `vpc-0${r(9)}ab`, 'subnet-id': `subnet-0${r(9)}`, type: 'IPv4', 'pkt-srcaddr': '-', 'pkt-dstaddr': `10.0.0.${r(9)}`, 'az-id': 'use1-az1',
      'sublocation-type': '-', 'traffic-path': String(r(9)),
      'instance-id': r(3) === 0 ? '-' : `i-0${r(7)}`, 'tcp-flags': String([2, 18, 4, 19, 0][r(5)]), region: r(6) === 0 ? '-' : ['us-east-1', 'eu-west-1'][r(2)]!,
      'flow-direction': ['ingress', 'egress', '-'][r(3)]!,
    };
    if (odd === 0) Object.assign(row, { srcaddr: '-', dstaddr: '-', srcport: '-', dstport: '-', protocol: '-', packets: '-', bytes: '-', action: '-', 'log-status': 'NODATA' });
    if (odd === 1) Object.assign(row, { packets: '-', bytes: '-' });
    if (odd === 2) Object.assign(row, { srcaddr: '2600:1f18::7', dstaddr: 'fd00:ec2::1', type: 'IPv6' });
    if (odd === 3) row.srcport = '12x';
    if (odd === 4) row.dstaddr = '10.0.0.300';
    if (odd === 5) row['tcp-flags'] = '-';
    if (odd === 6) row.start = '17180000001234567'; // 17 digits: past the compiled reader's 15
    if (odd === 7) row['log-status'] = 'SKIPDATA';
    rows.push(row);
  }
  return rows;
}

function text(fields: string[], rows: Row[], sep = ' '): string {
  return [fields.join(' '), ...rows.map((row) => fields.map((f) => row[f]).join(sep))].join('\n') + '\n';
}

/** Every record the AWS reader emits, with every field a layout may set, and its counters and rejects. */
function parse(input: string) {
  const sink = new FlowSink({ shards: 2, batchSize: 64, maxRejectsKept: 10_000 }, () => {});
  const records: unknown[] = [];
  const emit = sink.emit.bind(sink);
  const id = (x: number, lazy: () => number) => sink.dict.strings[x === -1 ? lazy() : x];
  sink.emit = (line: number, offset: number): boolean => {
    const r = sink.rec;
    const copy = {
      line, src: formatAddress(r.src), dst: formatAddress(r.dst), sport: r.sport, dport: r.dport, proto: r.proto, tcpFlags: r.tcpFlags,
      packets: r.packets, bytes: r.bytes, start: r.start, end: r.end, action: r.action, direction: r.direction,
      account: sink.dict.strings[r.account], region: sink.dict.strings[r.region],
      iface: id(r.iface, () => sink.lazy!.iface()), instance: id(r.instance, () => sink.lazy!.instance()),
    };
    const ok = emit(line, offset);
    if (ok) records.push(copy);
    return ok;
  };
  const reader = readerFor('aws-text')!;
  if (reader.kind !== 'lines') throw new Error('aws-text reads lines');
  const feeder = new LineFeeder(reader.open({ sink, file: 't', account: '999999999999', region: 'xx-home-1' }), 1 << 20, 0);
  feeder.push(Buffer.from(input));
  feeder.end(false);
  return { records, counters: { ...sink.counters }, rejects: sink.rejects.map((j) => ({ line: j.line, reason: j.reason })) };
}

function shuffle<T>(xs: T[], seed: number): T[] {
  const r = rng(seed);
  const a = xs.slice();
  for (let i = a.length - 1; i > 0; i--) {
    const j = r(i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

const rows = flows(3000);

describe('AWS layouts compiled from the header', () => {
  it('the v2 fields in any order, with ignored columns added, give the records of the default layout', () => {
    const v2 = parse(text(V2, rows));
    expect(v2.records.length).toBeGreaterThan(2000);
    expect(v2.counters.rejected).toBeGreaterThan(50);
    for (let seed = 1; seed <= 4; seed++) {
      const layout = shuffle([...V2, ...EXTRA.slice(0, 2 * seed)], seed);
      expect(parse(text(layout, rows))).toEqual(v2);
    }
  });

  it('any layout: the compiled reader reads a plain line as the general loop does', () => {
    for (let seed = 1; seed <= 4; seed++) {
      const layout = seed === 1 ? [...V2, ...EXTRA, ...RICH] : shuffle([...V2, ...EXTRA, ...RICH], seed * 7);
      const compiled = parse(text(layout, rows));
      const general = parse(text(layout, rows, '  ')); // two spaces: no fast reader takes the line
      expect(compiled).toEqual(general);
      expect(compiled.records.length).toBeGreaterThan(2000);
    }
  });

  it('CRLF files: a record ending "\\r\\n" is read by the fast readers as the general loop reads it', () => {
    for (const layout of [V2, [...V2, ...EXTRA, ...RICH], shuffle([...V2, ...EXTRA, ...RICH], 5)]) {
      const crlf = (sep: string) => text(layout, rows, sep).replace(/\n/g, '\r\n');
      const fast = parse(crlf(' '));
      expect(fast).toEqual(parse(crlf('  '))); // two spaces: the general loop alone
      expect(fast).toEqual(parse(text(layout, rows)));
      expect(fast.records.length).toBeGreaterThan(2000);
    }
  });

  it('numbers of every length and ending are read by the fast readers (plainV2, compiled) as the general loop reads them', () => {
    const r = rng(7);
    const numeric = ['srcport', 'dstport', 'protocol', 'packets', 'bytes', 'tcp-flags'];
    const odd = rows.slice(0, 1800).map((row, k) => {
      const digits = 1 + (k % 16);
      let v = String(1 + r(9));
      while (v.length < digits) v += String(r(10));
      const tail = ['', '', 'x', ':', '/', '0'][r(6)]!;
      return { ...row, [numeric[k % numeric.length]!]: (k % 7 === 0 ? '0' : '') + v + tail };
    });
    for (const layout of [V2, shuffle([...V2, ...EXTRA, ...RICH], 3)]) {
      const fast = parse(text(layout, odd));
      expect(fast).toEqual(parse(text(layout, odd, '  ')));
      expect(fast.records.length).toBeGreaterThan(200);
      expect(fast.counters.rejected).toBeGreaterThan(200);
    }
  });

  it('layouts without an end column, or with a Transit Gateway resource-type, read as the general loop does', () => {
    const tgw = rows.map((row, k) => ({ ...row, 'resource-type': k % 7 === 0 ? 'TransitGateway' : 'NetworkInterface' }));
    for (const layout of [V2.filter((f) => f !== 'end'), [...V2, 'resource-type']]) {
      expect(parse(text(layout, tgw))).toEqual(parse(text(layout, tgw, '\t')));
    }
  });
});
