/**
 * The AWS text reader in WebAssembly (assembly/aws-lines.ts, src/formats/aws-wasm.ts)
 * against the JavaScript readers (plainV2, the compiled layouts, the general loop): the
 * same records, counters and rejects (line, offset, reason, text) on every layout of the
 * fixtures, on hostile lines, on random damage, and whatever the blocks the input comes in.
 */
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FlowSink, type SinkOptions } from '../dist/src/flow/sink.js';
import { readerFor } from '../dist/src/formats/registry.js';
import { ROUTE_DONE, WASM_WINDOW, awsWasm, setAwsReader } from '../dist/src/formats/aws-wasm.js';
import { rolesFor } from '../dist/src/formats/aws.js';
import { LineFeeder } from '../dist/src/input/lines.js';
import { formatAddress } from '../dist/src/net/address.js';
import { fixture, readBytes, type ReadResult } from './helpers/read-format.js';
import { tempDir } from './helpers/tmp.js';
import { feedLines, routedBy } from './helpers/routed.js';

const ROOT = join(import.meta.dirname, '..');
const V2 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(' ');
const V5 = [...V2, 'vpc-id', 'subnet-id', 'instance-id', 'tcp-flags', 'type', 'pkt-srcaddr', 'pkt-dstaddr', 'region', 'az-id', 'flow-direction', 'traffic-path'];
const REORDERED = ['srcaddr', 'region', 'dstaddr', 'start', 'end', 'srcport', 'account-id', 'dstport', 'protocol', 'flow-direction', 'interface-id', 'tcp-flags', 'packets', 'bytes', 'action', 'log-status', 'instance-id', 'resource-type'];
/**
 * Layouts the module reads by its role loop (plainLine) rather than by column index
 * (columnsRow): a role twice (every copy read, the last kept), an address last, over 64 columns.
 */
const BY_ROLES = [
  [...V2.slice(0, 6), 'srcport', ...V2.slice(6)],
  [...REORDERED.filter((f) => f !== 'dstaddr'), 'dstaddr'],
  [...V5, ...Array<string>(50).fill('vpc-id')],
];

function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s % n;
  };
}

/** Every record the reader emits (all fields), its counters and rejects, read by `kind` in blocks of `block` bytes. */
function parse(kind: 'js' | 'wasm-parse', input: Buffer, block = 1 << 20, fields?: string[]) {
  setAwsReader(kind);
  const sink = new FlowSink({ shards: 3, batchSize: 64, maxRejectsKept: 100_000 }, () => {});
  const records: unknown[] = [];
  const emit = sink.emit.bind(sink);
  const id = (x: number, lazy: () => number) => sink.dict.strings[x === -1 ? lazy() : x];
  sink.emit = (line: number, offset: number): boolean => {
    const r = sink.rec;
    const copy = [
      line, offset, formatAddress(r.src), formatAddress(r.dst), r.sport, r.dport, r.proto, r.tcpFlags, r.packets, r.bytes, r.start, r.end,
      r.cloud, r.action, r.direction, sink.dict.strings[r.account], sink.dict.strings[r.region],
      id(r.iface, () => sink.lazy!.iface()), id(r.instance, () => sink.lazy!.instance()),
    ];
    const ok = emit(line, offset);
    records.push([ok, ...copy]);
    return ok;
  };
  const reader = readerFor('aws-text')!;
  if (reader.kind !== 'lines') throw new Error('aws-text reads lines');
  const feeder = new LineFeeder(reader.open({ sink, file: 't', account: '999999999999', region: '', awsFields: fields }), 1 << 20, 0);
  for (let s = 0; s < input.length; s += block) feeder.push(input.subarray(s, Math.min(input.length, s + block)));
  feeder.end(false);
  sink.flushAll();
  return { records, counters: { ...sink.counters }, rejects: sink.rejects.map((j) => ({ ...j })), strings: sink.dict.strings.slice() };
}

function same(input: Buffer, block?: number, fields?: string[]) {
  const js = parse('js', input, block, fields);
  const wasm = parse('wasm-parse', input, block, fields);
  expect(wasm.records).toEqual(js.records);
  expect(wasm.counters).toEqual(js.counters);
  expect(wasm.rejects).toEqual(js.rejects);
  return wasm;
}

afterAll(() => setAwsReader('wasm'));

/** The batches the sink posts (every column of every record, the strings), its counters, rejects and time span. */
function route(kind: 'js' | 'wasm', input: Buffer, opts: Partial<SinkOptions>, region: string, block = 1 << 20, newReader = true) {
  if (newReader) setAwsReader(kind);
  return routedBy(opts, (sink) => feedLines('aws-text', sink, input, '999999999999', region, block));
}

/** A plain record of a layout: fields by name, the rest filled in. */
function line(fields: string[], set: Record<string, string>, k: number): string {
  const r = rng(k + 1);
  const base: Record<string, string> = {
    version: '5', 'account-id': ['123456789012', '210987654321', '000000000042'][r(3)]!, 'interface-id': `eni-0${r(5)}abc`,
    srcaddr: r(5) === 0 ? `192.168.${r(256)}.${r(256)}` : r(9) === 0 ? `2600:1f18:${r(65536).toString(16)}::${r(4096).toString(16)}` : `${45 + r(3)}.${r(256)}.${r(256)}.${r(256)}`,
    dstaddr: r(4) === 0 ? `52.1.${r(256)}.9` : `10.0.${r(4)}.${r(256)}`, srcport: r(6) === 0 ? String([80, 443, 22][r(3)]) : String(1024 + r(60000)),
    dstport: String([22, 443, 3389, 8080, 1023, 1024][r(6)]), protocol: String([6, 6, 17, 1, 58][r(5)]), packets: String(1 + r(9)), bytes: String(40 + r(9000)),
    start: String(1718000000 + k), end: String(1718000060 + k), action: ['ACCEPT', 'REJECT'][r(2)]!, 'log-status': r(20) === 0 ? 'NODATA' : 'OK',
    'instance-id': r(3) === 0 ? '-' : `i-0${r(4)}`, 'tcp-flags': String([2, 18, 4, 22, 0, 19, 2, 2][r(8)]), region: ['us-east-1', 'eu-west-1', '-'][r(3)]!,
    'flow-direction': ['ingress', 'egress', '-'][r(3)]!, 'resource-type': 'NetworkInterface',
  };
  return fields.map((f) => set[f] ?? base[f] ?? `x${r(99)}`).join(' ');
}

/** Lines no plain reader takes, or takes only to the letter: each the general loop must agree on. */
function hostile(fields: string[]): string[] {
  const l = (set: Record<string, string>, k: number) => line(fields, set, k);
  const out: string[] = [];
  let k = 0;
  for (const [f, v] of [
    ['srcport', '65535'], ['srcport', '65536'], ['dstport', '99999999999999'], ['protocol', '255'], ['protocol', '256'],
    ['packets', '123456789012345'], ['packets', '1234567890123456'], ['bytes', '0'], ['bytes', '00'], ['bytes', '-'], ['packets', '-'],
    ['start', '4294967295'], ['start', '4294967296'], ['end', '1'], ['end', '4294967296'], ['start', '-'], ['end', '-'],
    ['tcp-flags', '2147483647'], ['tcp-flags', '2147483648'], ['tcp-flags', '-'], ['srcport', '12x'], ['dstport', '+1'], ['srcport', '-'],
    ['srcaddr', '1.2.3.4'], ['srcaddr', '01.2.3.4'], ['srcaddr', '1.2.3.256'], ['srcaddr', '1.2.3'], ['srcaddr', '1.2.3.4.5'], ['srcaddr', '1..3.4'],
    ['srcaddr', '255.255.255.255'], ['srcaddr', '0.0.0.0'], ['srcaddr', '1.2.3.04'], ['srcaddr', '1234.2.3.4'], ['srcaddr', '1.2.3.4x'],
    ['srcaddr', '2600:1f18::7'], ['dstaddr', '-'], ['dstaddr', '10.0.0.1000'], ['dstaddr', '192.168.001.1'],
    ['account-id', '12345678901234'], ['account-id', '123456789012345'], ['account-id', 'unknown'], ['account-id', '-'], ['account-id', '0123'],
    ['region', '-'], ['region', 'ap-south-2'], ['interface-id', '-'], ['instance-id', '-'], ['action', '-'], ['action', 'accept'],
    ['log-status', 'NODATA'], ['log-status', 'SKIPDATA'], ['log-status', 'OKAY'], ['flow-direction', '-'], ['flow-direction', 'egress'],
    ['resource-type', 'TransitGateway'], ['version', '-'], ['srcaddr', '1.2.3.4\u0000'], ['dstport', '4\u00003'],
  ] as const) {
    out.push(l({ [f]: v }, k++));
  }
  // IPv6 addresses (read in the module, routed by emit) and text that is nearly one
  for (const v of [
    '::', '::1', '1::', '2600:1f18:2940:5f6::e63', 'fd00:ec2::32', 'FE80::aB:Cd', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7',
    '1::2::3', ':1::2', '1:2:3:4:5:6:7::', '::1:2:3:4:5:6:7', '::ffff:1.2.3.4', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4',
    '::1.2.3', '::01.2.3.4', '1.2.3.4::1', '12345::1', 'g::1', '::1%eth0', '[::1]', '1:', ':', '::x', '2001:db8::1', 'ff02::1', 'fc00::5', '::ffff:10.0.0.1',
    '0:0:0:0:0:0:0:0', '1::2:3:4:5:6:7', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789', `${'1:'.repeat(22)}1`,
  ]) {
    out.push(l({ srcaddr: v }, k++), l({ dstaddr: v }, k++), l({ srcaddr: v, dstaddr: '2600::9' }, k++));
  }
  // lines without a flow (counted, not records), and the same with a field the general loop rejects
  for (const set of <Array<Record<string, string>>>[
    { 'log-status': 'NODATA', srcaddr: '-', dstaddr: '-', srcport: '-', dstport: '-', protocol: '-', packets: '-', bytes: '-', action: '-', 'tcp-flags': '-' },
    { 'log-status': 'SKIPDATA', srcaddr: '-', dstaddr: '-', srcport: '-', dstport: '-', protocol: '-', packets: '-', bytes: '-', action: '-' },
    { 'log-status': 'NODATA', srcaddr: '-', start: '-' }, { 'log-status': 'NODATA', end: 'x' }, { 'log-status': 'NODATA', srcport: '70000' },
    { 'log-status': 'NODATA', srcaddr: '1.2.3' }, { 'log-status': 'NODATA', packets: 'x' }, { 'log-status': 'NODATA', srcaddr: '2600::1' },
    { srcaddr: '-' }, { dstaddr: '-' }, { srcport: '-' }, { dstport: '-' }, { protocol: '-' }, { 'resource-type': 'TransitGateway', srcaddr: '-' },
    { 'log-status': 'NODATA', 'account-id': '-', region: '-', 'interface-id': '-' }, { 'log-status': 'NODATA', 'tcp-flags': '2147483648' },
  ]) {
    out.push(l(set, k++));
  }
  const plain = l({}, k++);
  out.push(plain.replace(' ', '  '), plain.replace(' ', '\t'), ` ${plain}`, `${plain} `, `${plain}\r`, `${plain}\r\r`, `${plain} x`);
  out.push(plain.slice(0, plain.length >> 1), plain.slice(0, -1), '', '   ', '\r', '\u0000', `${plain}\u0000`, plain.replace(/ /g, '\u0000'));
  out.push(fields.join(' ')); // a header mid-file
  out.push(V2.join(' '), line(V2, {}, k++), line(V2, {}, k++)); // another layout from here on
  out.push(fields.join(' '), l({}, k++), 'x'.repeat(300 * 1024), l({}, k++)); // back, and a line longer than the WebAssembly window
  for (let n = 0; n < 40; n++) out.push(l({}, k++)); // runs of plain lines between them
  return out;
}

describe('the WebAssembly AWS reader reads as the JavaScript readers do', () => {
  it('is built into dist/wasm/, shipped by the package, and found from the worker bundles', () => {
    expect(existsSync(join(ROOT, 'dist/wasm/aws-lines.wasm'))).toBe(true); // tests run on a build (npm run build)
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.files).toContain('dist/wasm/*.wasm');
    expect(pkg.scripts.build).toContain('node scripts/wasm.mjs');
    if (existsSync(join(ROOT, 'dist/workers/parse.bundle.cjs'))) {
      // dist/workers/ is one folder below dist/: the module is named from there too (data/files.ts wasmFile)
      expect(readFileSync(join(ROOT, 'dist/workers/parse.bundle.cjs'), 'utf8')).toContain('../wasm/${name}');
    }
  });

  it('agrees on the role numbers of src/formats/aws-columns.ts', () => {
    const columns = readFileSync(join(ROOT, 'src/formats/aws-columns.ts'), 'utf8');
    const names = /export const enum Role \{([^}]*)\}/.exec(columns)![1]!.split(',').map((s) => s.trim()).filter(Boolean);
    const wasm = readFileSync(join(ROOT, 'assembly/aws-lines.ts'), 'utf8');
    const defined = [...wasm.matchAll(/^const R_([A-Z]+): u32 = (\d+);/gm)];
    expect(defined.length).toBe(names.length - 1); // all but ignore
    for (const [, name, value] of defined) expect(names.findIndex((n) => n.toUpperCase() === name)).toBe(Number(value));
  });

  it('every layout, with hostile lines among plain ones, CRLF, and in blocks of any size', () => {
    for (const fields of [V2, V5, REORDERED, V2.filter((f) => f !== 'end'), ...BY_ROLES]) {
      const body = hostile(fields);
      for (const eol of ['\n', '\r\n']) {
        const withHeader = Buffer.from([fields.join(' '), ...body].join(eol) + eol);
        const whole = same(withHeader);
        expect(whole.counters.records).toBeGreaterThan(40);
        expect(whole.counters.rejected).toBeGreaterThan(20);
        same(withHeader.subarray(0, withHeader.length - 7)); // the last line cut short, with no '\n'
        for (const block of [1, 7, 61, 4096]) same(withHeader, block);
      }
      // no header: the layout given (--aws-fields, or a later chunk's header)
      same(Buffer.from(body.join('\n')), 1 << 20, fields);
    }
    // no header and no layout given: line 1, a record, read as the default layout's (the module
    // reads it too); a layout given that lacks a field: the lines rejected, line 1 too, up to a header
    const v2 = hostile(V2);
    expect(same(Buffer.from(v2.join('\n'))).counters.records).toBeGreaterThan(40);
    const lacking = same(Buffer.from(v2.join('\n')), 1 << 20, V2.filter((f) => f !== 'srcaddr'));
    expect(lacking.rejects[0]!.line).toBe(1);
    expect(lacking.counters.rejected).toBeGreaterThan(100);
  });

  it("a plain file read into the module's read target (readLineRange): lines across blocks and ranges, hostile and long lines, CRLF, as the JavaScript reader reads the bytes", () => {
    // the module stores a 0 just past each block it reads: in the target, that byte is the
    // first of the line the block cut, which the feeder carries over after the read
    for (const [fields, eol] of [[V5, '\n'], [REORDERED, '\r\n']] as const) {
      const lines = [fields.join(' ')];
      for (let k = 0; lines.length < 12_000; k++) lines.push(...(k % 400 === 0 ? hostile(fields) : [line(fields, {}, 5000 + k)]));
      const buf = Buffer.from(lines.join(eol) + eol);
      expect(buf.length).toBeGreaterThan(6 << 18); // blocks of 256 KiB (src/input/read.ts)
      const path = join(tempDir('aws-target-'), 'flows.log');
      writeFileSync(path, buf);
      setAwsReader('js');
      const js = readBytes(buf, { format: 'aws-text', account: '999999999999' });
      expect(js.flows.length).toBeGreaterThan(8000);
      expect(js.rejects.length).toBeGreaterThan(20);
      setAwsReader('wasm-parse');
      const sink = new FlowSink({ shards: 1, batchSize: 64, maxRejectsKept: 10 }, () => {});
      const target = (readerFor('aws-text') as { open: (c: object) => { readTarget?: (n: number) => Buffer | null } }).open({ sink, file: 't', account: '', region: '' }).readTarget?.(1 << 18);
      expect(target?.buffer).toBe(awsWasm()!.u32.buffer); // read where the module reads it
      expect(readBytes(buf, { format: 'aws-text', account: '999999999999', file: { path, cuts: [] } })).toEqual(js);
      // a range's lines are numbered from 1 within it: compared by offset
      const unnumbered = (r: ReadResult) => ({ ...r, flows: r.flows.map(({ line: _, ...f }) => f), rejects: r.rejects.map(({ line: _, ...x }) => x) });
      const ranged = (kind: 'js' | 'wasm-parse', cuts: number[]) => {
        setAwsReader(kind);
        return unnumbered(readBytes(buf, { format: 'aws-text', account: '999999999999', awsFields: fields.slice(), file: { path, cuts } }));
      };
      for (const cuts of [[1 << 18], [77_777, 600_001, 1_000_003]]) expect(ranged('wasm-parse', cuts)).toEqual(ranged('js', cuts));
    }
  });

  it('blocks whose only separators are single spaces and \'\\n\' (checked a block at a time): lines split in two, joined, with a column more or fewer, a header, a byte over 127', () => {
    const r = rng(23);
    // what becomes of every 25th line, at a space: one line as two (their columns as many as one
    // line's: every nroles-th separator of the block still a '\n'), two lines as one, a column more, fewer, the header, a byte over 127
    const ops: Array<(t: string, at: number, k: number, fields: string[]) => string> = [
      (t, at) => `${t.slice(0, at)}\n${t.slice(at + 1)}`,
      (t, _at, k, fields) => `${t} ${line(fields, {}, k + 1)}`,
      (t) => `${t} x`,
      (t, at) => t.slice(0, at),
      (_t, _at, _k, fields) => fields.join(' '),
      (t, at) => `${t.slice(0, at)}\n${t.slice(at + 1).replace(/[0-9]/, '\u00e9')}`,
    ];
    for (const fields of [V2, V5, REORDERED]) {
      for (const op of ops) {
        const lines = [fields.join(' ')];
        for (let k = 0; k < 600; k++) {
          const t = line(fields, {}, k);
          const spaces = [...t.matchAll(/ /g)].map((m) => m.index);
          lines.push(k % 25 === 24 ? op(t, spaces[r(spaces.length)]!, k, fields) : t);
        }
        const input = Buffer.from(lines.join('\n') + '\n');
        const out = same(input);
        expect(out.counters.records).toBeGreaterThan(500);
        expect(out.counters.rejected + out.counters.headers).toBeGreaterThan(20);
        same(input.subarray(0, input.length - 7)); // the last line cut short, with no '\n'
      }
    }
  });

  it('random damage: bytes replaced, dropped and doubled in plain lines', () => {
    const r = rng(19);
    const alphabet = ' \t\r\n\u0000-.0123456789ax';
    for (const fields of [V2, V5, REORDERED, BY_ROLES[0]!]) {
      const lines = [fields.join(' ')];
      for (let k = 0; k < 3000; k++) {
        let t = line(fields, {}, k);
        for (let d = r(3); d > 0; d--) {
          const at = r(t.length);
          const op = r(3);
          t = op === 0 ? t.slice(0, at) + alphabet[r(alphabet.length)] + t.slice(at + 1) : op === 1 ? t.slice(0, at) + t.slice(at + 1) : t.slice(0, at) + t[at] + t.slice(at);
        }
        lines.push(t);
      }
      const input = Buffer.from(lines.join('\n') + '\n');
      const out = same(input);
      expect(out.counters.records).toBeGreaterThan(500);
      expect(out.counters.rejected).toBeGreaterThan(500);
      same(input, 997);
    }
  });

  it('dotted quads of every shape: parts of 0-4 digits, leading zeros, over 255, three to five parts', () => {
    let x = 4; // the upper bits of an LCG (rng's low bits repeat with a short period, and left some parts out)
    const r = (n: number) => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 16) % n;
    const part = () => ['0', '00', '01', '7', '10', '99', '100', '255', '256', '300', '999', '0255', '', '1234'][r(14)]!;
    const lines = [V2.join(' ')];
    for (let k = 0; k < 4000; k++) {
      const parts = Array.from({ length: r(8) === 0 ? 3 + r(3) : 4 }, () => (r(3) === 0 ? part() : String(r(256))));
      lines.push(line(V2, { [r(2) === 0 ? 'srcaddr' : 'dstaddr']: parts.join('.') }, k));
    }
    const out = same(Buffer.from(lines.join('\n') + '\n'));
    expect(out.counters.records).toBeGreaterThan(1000);
    expect(out.counters.rejected).toBeGreaterThan(1000);
  });

  it('every AWS text fixture, whole and in small blocks', () => {
    const dir = fixture('aws-vpc');
    if (!dir) return; // the shared fixtures are absent (FLOWSIEVE_FIXTURES)
    const files = readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.log'))
      .map((e) => join(e.parentPath, e.name));
    expect(files.length).toBeGreaterThan(10);
    let records = 0;
    for (const f of files) {
      const input = readFileSync(f);
      records += same(input).counters.records;
      same(input, 13);
    }
    expect(records).toBeGreaterThan(10);
  });

  it('classifies addresses in and at the edges of every non-public IPv4 range as the sink does (an octet a range covers whole answered from the first-octet table)', () => {
    const edges = [
      '0.0.0.1', '0.255.255.255', '1.0.0.1', '9.255.255.255', '10.0.0.0', '10.255.255.255', '11.0.0.1', '100.63.255.255', '100.64.0.1', '100.127.255.255',
      '100.128.0.1', '126.255.255.255', '127.0.0.1', '128.0.0.1', '169.254.1.1', '169.255.0.1', '172.15.255.255', '172.16.0.1', '172.31.255.255',
      '172.32.0.1', '192.0.0.5', '192.0.1.1', '192.0.2.1', '192.168.1.1', '192.169.0.1', '198.17.255.255', '198.18.0.1', '198.19.255.1', '198.20.0.1',
      '198.51.100.7', '203.0.113.9', '203.0.114.1', '223.255.255.255', '224.0.0.1', '239.255.255.255', '240.0.0.1', '255.255.255.255', '45.1.2.3',
    ];
    const lines = [V2.join(' ')];
    edges.forEach((a, k) => {
      for (const b of ['45.9.9.9', '10.0.0.9', a]) {
        lines.push(line(V2, { 'log-status': 'OK', srcaddr: a, dstaddr: b, protocol: '6', 'tcp-flags': '2', srcport: '40000' }, k));
        lines.push(line(V2, { 'log-status': 'OK', srcaddr: b, dstaddr: a, protocol: '6', 'tcp-flags': '2', srcport: '40000' }, k));
      }
    });
    const input = Buffer.from(lines.join('\n') + '\n');
    for (const opts of [{}, { shards: 3 }]) {
      const js = route('js', input, opts, '');
      expect(route('wasm', input, opts, '')).toEqual(js);
      expect(js.counters.internal * js.counters.inbound * js.counters.outbound).toBeGreaterThan(0);
    }
  });

  it('gives a source the shard the sink gives it over many sources and shard counts (shared/route.ts ShardOf: the hash modulo by a multiplication)', () => {
    // 3,000 public sources, IPv4 and IPv6, each scanning inbound: every one routed, over shard counts that divide 4096 and do not
    const lines = Array.from({ length: 3000 }, (_, k) => {
      const src = k % 7 === 0 ? `2600:1f18:${(k * 40503).toString(16).slice(-4)}::${k.toString(16)}` : `${45 + (k % 3)}.${(k * 7) & 255}.${(k * 13) >> 4 & 255}.${k & 255}`;
      return line(V2, { srcaddr: src, dstaddr: `10.0.${k & 3}.${k & 255}`, srcport: '40000', dstport: '22', protocol: '6', 'log-status': 'OK' }, k);
    });
    const input = Buffer.from(lines.join('\n') + '\n');
    for (const shards of [2, 3, 7, 16, 63]) {
      const js = route('js', input, { shards }, '');
      expect(route('wasm', input, { shards }, '')).toEqual(js);
      expect(js.counters.inbound).toBeGreaterThan(2500);
    }
  });

  it('routes records into the batches of the shards as the emit of the sink does, with every option that bears on it', () => {
    const T = 1718000000;
    const options: Array<Partial<SinkOptions>> = [
      {}, { shards: 1 }, { shards: 5, batchSize: 7 }, { timeRange: { from: T + 20, to: T + 60 } }, { notAfter: T + 100 },
      // outbound records in batches of their own (a lane a shard more; past 32 shards not)
      { outboundApart: true }, { shards: 1, outboundApart: true }, { shards: 5, batchSize: 7, outboundApart: true }, { shards: 40, outboundApart: true },
      // more shards than the module has areas for: routed rows appended from a FlowRecord
      { shards: 70 },
      // emit alone applies these: the module hands every record to it
      { partition: { index: 1, count: 2 } }, { homeNet: ['45.0.0.0/8'] }, { lateBefore: T + 30, windowSeconds: 10 },
    ];
    for (const fields of [V2, V5, REORDERED]) {
      const input = Buffer.from([fields.join(' '), ...hostile(fields), ...Array.from({ length: 400 }, (_, k) => line(fields, {}, 1000 + k))].join('\n') + '\n');
      for (const opts of options) {
        for (const region of ['', 'xx-home-1']) {
          const js = route('js', input, opts, region);
          const wasm = route('wasm', input, opts, region);
          expect(wasm).toEqual(js);
          expect(js.counters.records + js.counters.rejected).toBeGreaterThan(400);
        }
      }
      const js = route('js', input, {}, '');
      expect(js.counters.responses * js.counters.internal * js.counters.blankRegion * js.counters.outbound).toBeGreaterThan(0);
      if (fields.includes('tcp-flags')) expect(js.counters.backscatter).toBeGreaterThan(0);
      expect(route('wasm', input, {}, '', 13)).toEqual(js);
    }
  });

  it('puts outbound records in batches of their own where asked (outboundApart): each shard gets the same records', () => {
    const input = Buffer.from([V2.join(' '), ...Array.from({ length: 600 }, (_, k) => line(V2, {}, 5000 + k))].join('\n') + '\n');
    /** Each shard's records, a line a record with its strings, sorted; and how many batches of each Feed bits it got. */
    const byShard = (r: ReturnType<typeof route>) => {
      const rows: string[][] = [[], [], []];
      const kinds: number[] = [0, 0, 0, 0];
      for (const b of r.posted) {
        kinds[b.feeds]!++;
        const col = (c: string) => b[c] as number[];
        // an inbound lane's ids come as the strings they name (helpers/routed.ts)
        const str = (c: string, i: number) => (b.feeds === 1 ? (col(c)[i] as unknown as string) : (b.strings as string[])[col(c)[i]!]);
        for (let i = 0; i < (b.n as number); i++) {
          // an inbound record: the columns the inbound table reads (an inbound lane's batch carries no others: FlowBatchData.n)
          const inbound = col('feed')[i] === 1;
          const fixed = (inbound ? ['feed', 'proto', 'dport', 'packets', 'start', 'end'] : ['feed', 'proto', 'sport', 'dport', 'packets', 'start', 'end', 'direction']).map((c) => col(c)[i]);
          const ids = inbound ? [] : [str('iface', i), str('instance', i)];
          rows[b.shard]!.push([...fixed, col('src')[4 * i + 3], col('dst')[4 * i + 3], str('account', i), str('region', i), ...ids].join(' '));
        }
      }
      return { rows: rows.map((x) => x.sort()), kinds };
    };
    for (const kind of ['js', 'wasm'] as const) {
      const together = route(kind, input, { shards: 3 }, '');
      const apart = route(kind, input, { shards: 3, outboundApart: true }, '');
      expect(apart.counters).toEqual(together.counters);
      expect(together.counters.inbound * together.counters.outbound).toBeGreaterThan(0);
      const t = byShard(together);
      const a = byShard(apart);
      expect(a.rows).toEqual(t.rows);
      expect(t.kinds).toEqual([0, 0, 0, together.posted.length]); // every batch may hold either
      expect(a.kinds[1]! * a.kinds[2]!).toBeGreaterThan(0);
      expect(a.kinds[3]).toBe(0);
    }
  });

  it('lists for the JavaScript side only the rows it must take: lines not read, and plain rows where the sink has no areas', () => {
    setAwsReader('wasm');
    const w = awsWasm()!;
    const roles = (rolesFor(V2) as { roles: Uint8Array }).roles;
    const plain = Array.from({ length: 300 }, (_, k) => line(V2, { 'log-status': 'OK', srcaddr: `45.1.${k & 255}.9`, dstaddr: '10.0.0.1' }, k));
    const odd = new Set([0, 7, 8, 150, 299]); // a double space: the general loop reads it
    const input = Buffer.from(plain.map((l, k) => (odd.has(k) ? l.replace(' ', '  ') : l)).join('\n') + '\n');
    const listed = (shards: number) => {
      const sink = new FlowSink({ shards, batchSize: 64, maxRejectsKept: 10 }, () => {});
      const rows = w.read(input, 0, input.length, roles, sink, 1, 0);
      expect(rows).toBe(300);
      return Array.from(w.u32.subarray(w.jsRow, w.jsRow + w.jsRows));
    };
    expect(listed(3)).toEqual([...odd]);
    // more shards than it has areas for: every row but those counted alone (ROUTE_DONE) goes to the JavaScript side (appended from a FlowRecord)
    const all = listed(70);
    const taken = Array.from({ length: 300 }, (_, k) => k).filter((k) => odd.has(k) || w.i32[w.route + k] !== ROUTE_DONE);
    expect(all).toEqual(taken);
    expect(taken.length).toBeGreaterThan(250);
  });

  it('reads window after full window itself: what it keeps in its memory (its table of dotted quads) outlives each window\'s bitmap', () => {
    setAwsReader('wasm');
    const w = awsWasm()!;
    const roles = (rolesFor(V2) as { roles: Uint8Array }).roles;
    const input = Buffer.from(Array.from({ length: 6000 }, (_, k) => line(V2, { srcaddr: `${45 + (k % 3)}.${k & 255}.${(k * 7) & 255}.${k % 10}` }, k)).join('\n') + '\n');
    const sink = new FlowSink({ shards: 3, batchSize: 64, maxRejectsKept: 10 }, () => {});
    let windows = 0;
    for (let at = 0; at < input.length; windows++) {
      const rows = w.read(input, at, Math.min(input.length - at, WASM_WINDOW), roles, sink, 1, 0);
      // every line plain: none left to the general loop (its answer would be the same, only slower)
      for (let k = 0; k < rows; k++) expect(w.u32[w.flags + k]! & 1).toBe(1); // RowFlag.plain
      at += w.i32[w.lineEnd + rows - 1]! + 1;
    }
    expect(windows).toBeGreaterThan(2);
  });

  it('takes no line cut at the block\'s end, whatever the memory past the block held from a longer block', () => {
    setAwsReader('wasm');
    const w = awsWasm()!;
    const roles = (rolesFor(V2) as { roles: Uint8Array }).roles;
    const full = line(V2, { 'log-status': 'OK', srcaddr: '45.1.2.9', dstaddr: '10.0.0.1' }, 3);
    const longer = Buffer.from(`${full}\n${full}\n`);
    // the second line cut just after each of its tokens: the byte past the block was that
    // token's space (or the '\n' after the last) in the longer block read before it
    const cuts = [...full.matchAll(/ /g)].map((m) => m.index!).concat(full.length);
    expect(cuts).toHaveLength(V2.length);
    for (const cut of cuts) {
      const sink = new FlowSink({ shards: 1, batchSize: 64, maxRejectsKept: 10 }, () => {});
      expect(w.read(longer, 0, longer.length, roles, sink, 1, 0)).toBe(2);
      const cutBlock = longer.subarray(0, full.length + 1 + cut);
      expect(w.read(cutBlock, 0, cutBlock.length, roles, sink, 1, 0)).toBe(1);
      expect(w.i32[w.lineEnd]).toBe(full.length);
    }
  });

  it("looks a row's string ids up in a table that follows the sink's dictionary: sink after sink, and more tokens than it holds", () => {
    // outbound rows (the sink takes their interface and instance ids), each with its own, long ids
    const outbound = (k: number, pad = 0, instance = k) => line(V5, { srcaddr: `10.1.${k & 255}.${k >> 8 & 255}`, dstaddr: '52.1.2.3', srcport: '40000', dstport: '443', protocol: '6', 'tcp-flags': '2', 'log-status': 'OK', 'flow-direction': 'egress', 'interface-id': `eni-${k}${'x'.repeat(pad)}`, 'instance-id': `i-${instance}` }, k);
    // more entries than the table holds (two new tokens a row), then more bytes than its arena holds
    for (const [rows, pad] of [[40_000, 0], [8_000, 240]] as const) {
      const many = Buffer.from([V5.join(' '), ...Array.from({ length: rows }, (_, k) => outbound(k, pad))].join('\n') + '\n');
      const js = route('js', many, {}, '');
      expect(js.posted.length).toBeGreaterThan(100);
      expect(route('wasm', many, {}, '')).toEqual(js);
    }
    // tokens met again, in pairs found whole, one of the two new, or neither, while the table's slots grow (thousands of each)
    const again = Buffer.from([V5.join(' '), ...Array.from({ length: 30_000 }, (_, k) => outbound(k % 4999, 0, (k * 7) % 3001))].join('\n') + '\n');
    const jsAgain = route('js', again, {}, '');
    expect(route('wasm', again, {}, '')).toEqual(jsAgain);
    // sinks one after another on one reader (a task a sink), each dictionary giving other ids to the same strings
    const inputs = [0, 1, 2].map((n) => Buffer.from([V5.join(' '), ...Array.from({ length: 300 }, (_, k) => (k % 3 === n ? outbound(k) : line(V5, {}, 7 * k + n)))].join('\n') + '\n'));
    const jsAll = inputs.map((input) => route('js', input, {}, 'r1'));
    setAwsReader('wasm');
    expect(inputs.map((input) => route('wasm', input, {}, 'r1', 1 << 20, false))).toEqual(jsAll);
  });
});
