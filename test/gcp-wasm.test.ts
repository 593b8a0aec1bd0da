/**
 * The GCP NDJSON reader in WebAssembly (assembly/gcp-lines.ts, src/formats/gcp-wasm.ts)
 * against the JavaScript reader (gcp-fast.ts and the full walk): the same records, counters
 * and rejects (line, offset, reason, text) on the fixtures, on hostile lines, on random
 * damage, and whatever the blocks the input comes in; and the module takes the usual
 * LogEntry (so the comparison is not between two JavaScript runs).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { afterAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, fixture, readBytes, type ReadResult } from './helpers/read-format.js';
import { damage, seeded } from './helpers/damage.js';
import { ENTRY, GATEWAY, SRC_COPY } from './helpers/gcp-entries.js';
import { expectReadersAlike, feedLines, routedBy } from './helpers/routed.js';
import { GCP_WASM_WINDOW, gcpWasm, setGcpReader, type GcpReaderKind } from '../dist/src/formats/gcp-wasm.js';
import type { SinkOptions } from '../dist/src/flow/sink.js';

afterAll(() => setGcpReader('wasm'));

function read(input: Buffer, kind: 'js' | 'wasm', block?: number): ReadResult {
  setGcpReader(kind);
  return readBytes(input, { format: 'gcp', account: 'default-acct', region: 'default-region', block });
}

/** Both readers, in blocks of each size: everything the same. */
function same(input: Buffer | string, blocks: Array<number | undefined> = [undefined, 4096, 777]): ReadResult {
  const buf = typeof input === 'string' ? Buffer.from(input) : input;
  let first: ReadResult | null = null;
  for (const block of blocks) {
    const js = read(buf, 'js', block);
    expect(read(buf, 'wasm', block)).toEqual(js);
    first ??= js;
  }
  return first!;
}

/** The module's verdict on one line: taken (its fast path read it) or not. */
function wasmTakes(line: string): boolean {
  setGcpReader('wasm');
  const w = gcpWasm()!;
  const b = Buffer.from(`${line}\n`);
  expect(w.read(b, 0, b.length)).toBe(1);
  return (w.flagsOf(0) & 1) !== 0; // GcpRowFlag.taken (a const enum: not in dist)
}

/** The batches a reader hands the shards (through the sink as the engine runs it), with its counters and rejects. */
function route(kind: GcpReaderKind, input: Buffer, opts: Partial<SinkOptions>, region: string, block = 1 << 20, newReader = true) {
  if (newReader) setGcpReader(kind);
  return routedBy(opts, (sink) => feedLines('gcp', sink, input, 'default-acct', region, block));
}

/** A flow entry with every field that bears on its fate drawn at random (a few out of range, or not IPv4). */
function flowEntry(k: number): string {
  const r = seeded(k + 1);
  const pick = <T>(xs: T[]): T => xs[r(xs.length)]!;
  const ip = () => pick(['46.45.50.63', `203.0.113.${r(256)}`, `45.${r(256)}.${r(256)}.7`, `10.0.${r(4)}.${r(256)}`, '192.168.1.9', '2001:db8::1']);
  const conn = [`"src_ip":"${ip()}"`, `"dest_ip":"${ip()}"`, `"protocol":${pick([6, 6, 17, 1, 58, 300])}`];
  if (r(8) > 0) conn.push(`"src_port":${pick([53, 443, 1023, 1024, 9620, 70000])}`);
  if (r(8) > 0) conn.push(`"dest_port":${pick([22, 443, 1024, 8080, 99999])}`);
  const second = 10 + r(80);
  const time = (s: number) => pick([`2024-03-01T16:00:${String(s % 60).padStart(2, '0')}Z`, `2024-03-01T16:0${1 + (s % 5)}:00Z`, '2099-01-01T00:00:00Z', '1969-12-31T23:59:00Z']);
  const parts = [`"connection":{${conn.join(',')}}`];
  if (r(6) > 0) parts.push(`"start_time":"${time(second)}"`);
  if (r(3) > 0) parts.push(`"end_time":"${time(second + r(3))}"`);
  if (r(2) > 0) parts.push(`"bytes_sent":"${r(5000)}"`);
  if (r(2) > 0) parts.push(`"packets_sent":"${r(9)}"`);
  const reporter = pick(['DEST', 'SRC', 'DEST_GATEWAY', 'SRC_GATEWAY', null]);
  if (reporter !== null) parts.push(`"reporter":"${reporter}"`);
  const vm = (side: string) => `"${side}_instance":{${[r(3) > 0 ? `"project_id":"${pick(['p1', 'p2', 'acme'])}"` : '', r(3) > 0 ? `"region":"${pick(['us-east1', 'asia-east1'])}"` : '', `"vm_name":"${pick(['a', 'b', 'vm-7'])}"`, `"zone":"${pick(['us-east1-b', 'europe-west4-a'])}"`].filter(Boolean).join(',')}}`;
  if (r(2) > 0) parts.push(vm('src'));
  if (r(2) > 0) parts.push(vm('dest'));
  return `{"jsonPayload":{${parts.join(',')}}${r(2) > 0 ? ',"logName":"projects/lp/logs/x"' : ''}}`;
}

/** [start, end) of each scalar value of a compact JSON line: a string that is not a key (its quotes included), a number. */
function valueTokens(line: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i]!;
    let j = i + 1;
    if (c === '"') {
      while (line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      j++;
      if (line[j] !== ':') out.push([i, j]);
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      while (j < line.length && '-+.eE0123456789'.includes(line[j]!)) j++;
      out.push([i, j]);
    }
    i = j;
  }
  return out;
}

/** A value token (a string with its quotes, or a number) made unusual, its length kept. */
function sameLength(token: string): string[] {
  const n = token.length;
  if (token.startsWith('"')) {
    const inner = n - 2;
    const at = (i: number, c: string) => `${token.slice(0, 1 + i)}${c}${token.slice(2 + i)}`;
    return inner === 0 ? [] : [at(0, '\\'), at(inner - 1, '\\'), at(0, '\u0001'), at(inner - 1, '\t'), at(0, '"'), at(inner - 1, '"')];
  }
  if (n === 1) return ['x', '-', '.'];
  return [`0${token.slice(1)}`, `-${token.slice(1)}`, `${token.slice(0, -1)}.`, `${token.slice(0, -1)}e`, `${token[0]}.${token.slice(2)}`, `${token[0]}e${token.slice(2)}`];
}

describe('GCP reader in WebAssembly', () => {
  it('takes the usual entries and reads them as the JavaScript reader does', () => {
    for (const line of [ENTRY, SRC_COPY, GATEWAY]) expect(wasmTakes(line), line).toBe(true);
    const r = same([GATEWAY, ENTRY, SRC_COPY, GATEWAY, ''].join('\n'));
    expect(r.counters).toMatchObject({ lines: 4, records: 3, duplicates: 1, rejected: 0 });
  });

  it('leaves every unusual line to the full walk, which reads or rejects it as before', () => {
    const hostile = [
      ENTRY.replace('"DEST"', '"DE\\u0053T"'), // an escape in a kept string
      ENTRY.replace('"logName"', '"log\\u004eame"'), // an escaped key
      ENTRY.replace('"bytes_sent":"40"', '"bytes_sent":40.5'), // a fraction
      ENTRY.replace('"bytes_sent":"40"', '"bytes_sent":"1234567890123456789"'), // more than 15 digits
      ENTRY.replace('"bytes_sent":"40"', '"bytes_sent":123456789012345678901234567890'),
      ENTRY.replace('"dest_port":443', '"dest_port":-1'),
      ENTRY.replace('"dest_port":443', '"dest_port":"x"'),
      ENTRY.replace('"protocol":6', '"protocol":null'),
      ENTRY.replace('"src_ip":"46.45.50.63"', '"src_ip":4'),
      ENTRY.replace('"src_ip":"46.45.50.63"', '"src_ip":"2001:db8::1"'), // IPv6: taken, read the same
      ENTRY.replace('"reporter":"DEST"', '"reporter":"DEST","reporter":"SRC"'), // a kept key twice
      ENTRY.replace('"insertId"', '"message":{"data":"e30="},"insertId"'), // a Pub/Sub envelope
      ENTRY.replace('"jsonPayload":{', '"jsonPayload":{"deep":' + '['.repeat(70) + ']'.repeat(70) + ','), // nesting past 64
      ENTRY.replace('"jsonPayload":{', '"jsonPayload":{"deep":' + '{"a":'.repeat(30) + '1' + '}'.repeat(30) + ','),
      ENTRY.replace('"connection":{', '"connection":{"note":"tab\there",'), // a control byte
      ENTRY.slice(0, -1), // truncated
      ENTRY.slice(0, 400),
      `${ENTRY} x`, // trailing data
      `${ENTRY}{}`,
      '{}',
      '[]',
      '"a string"',
      '{"jsonPayload":{}}',
      '{"jsonPayload":null,"logName":"projects/p/logs/x"}',
      ENTRY.replace('"dest_instance":{', '"dest_instance":{}, "x":{'),
      `  \t${ENTRY}\r`, // spaces and a CR around the line
      '   ',
      ENTRY.replace('"vm_name":"data-asia-07"', '"vm_name":"vm-é-日本-✓"'), // UTF-8
      ENTRY.replace('"start_time":"2024-03-01T16:00:34.260917328Z"', '"start_time":"2024-02-30T16:00:34Z"'),
      ENTRY.replace('"insertId":"18baa0dea43c5"', '"insertId":-0.5e+7,"t":true,"f":false,"n":null,"a":[1,[2,{}],"x"]'),
    ];
    // what may follow an entry on its line, and lines of whitespace only
    hostile.push(`${ENTRY} \t\r`, `${ENTRY}\r\r`, `${ENTRY} \r x`, ' \t\r ', '\r', `${GATEWAY}}`, `${GATEWAY},`);
    for (const line of hostile) same([GATEWAY, line, ENTRY].join('\n'));
    same(hostile.join('\n'));
    same(hostile.join('\r\n'));
  });

  it('addresses and times read in the module: the same values, and the same rejects', () => {
    const times = ['2024-03-01T16:00:00Z', '2024-03-01t16:00:00z', '2024-03-01 16:00:00.123456 UTC', '2024-03-01T16:00:00+01:00', '2024-03-01T16:00:00-05:30',
      '2024-02-29T23:59:60Z', '2023-02-29T00:00:00Z', '2024-04-31T00:00:00Z', '2024-13-01T00:00:00Z', '0000-01-01T00:00:00Z', '0000-03-01T00:00:00Z', '9999-12-31T23:59:59.999Z',
      '2024-03-01T16:00:00', '2024-03-01T16:00:00.Z', '2024-03-01T16:00:00+1:00', '2024-03-01T24:00:00Z', '2024-03-01T16:00:00+24:00', '2024-03-01X16:00:00Z', '2024-3-01T16:00:00Z', ''];
    const addresses = ['1.2.3.4', '0.0.0.0', '255.255.255.255', '010.1.1.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '1..3.4', ' 1.2.3.4', '1.2.3.4 ', '2001:db8::1', '::ffff:1.2.3.4', '1.2.3.4a', '123.123.123.1234', ''];
    const lines: string[] = [];
    for (const [i, x] of times.entries()) {
      lines.push(ENTRY.replace('"start_time":"2024-03-01T16:00:34.260917328Z"', `"start_time":"${x}"`));
      lines.push(ENTRY.replace('"end_time":"2024-03-01T16:00:34.944633793Z"', `"end_time":"${times[(i + 3) % times.length]}"`).replace(/"start_time":"[^"]*"/, `"start_time":"${x}"`));
    }
    for (const a of addresses) {
      lines.push(ENTRY.replace('"src_ip":"46.45.50.63"', `"src_ip":"${a}"`));
      lines.push(ENTRY.replace('"dest_ip":"10.140.0.8"', `"dest_ip":"${a}"`));
    }
    for (const line of lines.slice(0, 4)) expect(wasmTakes(line), line).toBe(true);
    const r = same([GATEWAY, ...lines].join('\n'));
    expect(r.counters.records).toBeGreaterThan(10);
    expect(r.counters.rejected).toBeGreaterThan(10);
  });

  it('times that share their date, hour and minute (kept from one time to the next in the module): the same values and rejects', () => {
    // heads valid and not (a 29 February of a common year, hour 24, a bad separator), tails valid and not, in a random order
    const heads = ['2024-03-01T16:00', '2024-03-01T16:01', '2024-02-29T23:59', '2023-02-29T00:00', '2024-03-01T24:00', '2024-03-01X16:00', '2024-03-01t16:00'];
    const tails = [':00Z', ':59Z', ':60Z', ':61Z', ':34.260917328Z', ':00+01:00', ':00-05:30', ':00.123 UTC', 'X00Z', ':0aZ', ':00', ':00.Z', '', ':00ZZ'];
    const rnd = seeded(31);
    const time = () => `${heads[rnd(heads.length)]}${tails[rnd(tails.length)]}`;
    const lines: string[] = [];
    for (let i = 0; i < 600; i++) {
      const [start, end] = rnd(3) === 0 ? [time(), time()] : ((t) => [t, t])(time());
      lines.push(ENTRY.replace('"start_time":"2024-03-01T16:00:34.260917328Z"', `"start_time":"${start}"`).replace('"end_time":"2024-03-01T16:00:34.944633793Z"', `"end_time":"${end}"`));
    }
    const r = same(lines.join('\n'), [undefined, 3001]);
    expect(r.counters.records).toBeGreaterThan(100);
    expect(r.counters.rejected).toBeGreaterThan(100);
  });

  it('addresses of digits and dots drawn at random (empty parts, leading zeros, four digits, over 255, 5 to 17 bytes): the same values and rejects', () => {
    const rnd = seeded(53);
    // parts of 0 to 4 characters, zeros and nines often: each form the module checks on its bitmasks
    const part = () => (rnd(5) > 0 ? String(rnd(256)) : ['', '0', '00', '01', '9', '99', '255', '256', '999', '1000', '0255'][rnd(11)]!);
    const address = () => {
      const parts = [part(), part(), part(), part()];
      if (rnd(12) === 0) parts.push(part());
      if (rnd(12) === 0) parts.pop();
      return parts.join(rnd(24) === 0 ? '..' : '.');
    };
    const lines: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const line = ENTRY.replace('"src_ip":"46.45.50.63"', `"src_ip":"${address()}"`);
      lines.push(rnd(2) === 0 ? line : line.replace('"dest_ip":"10.140.0.8"', `"dest_ip":"${address()}"`));
    }
    const r = same(lines.join('\n'), [undefined, 3001]);
    expect(r.counters.records).toBeGreaterThan(100);
    expect(r.counters.rejected).toBeGreaterThan(100);
  });

  it('quoted counts of digits and other bytes drawn at random (0 to 10 bytes; bytes just past the digits, 0x7f, 0xb0-0xb9 alone): the same values and rejects', () => {
    const rnd = seeded(59);
    // the bytes nearest the digits on each side and those whose xor with '0' is 0x80-0x89 (the module checks a byte's class in a word)
    const odd = ['/', ':', ' ', '-', '+', '.', 'a', '\x7f', '\xb0', '\xb9', '\xba', '\xc2', '\xff'];
    const count = () => {
      let s = '';
      for (let n = rnd(11); n > 0; n--) s += rnd(6) > 0 ? String(rnd(10)) : odd[rnd(odd.length)]!;
      return s;
    };
    const lines: string[] = [];
    for (let i = 0; i < 1500; i++) {
      const line = ENTRY.replace('"bytes_sent":"40"', `"bytes_sent":"${count()}"`);
      lines.push(rnd(2) === 0 ? line : line.replace('"packets_sent":"1"', `"packets_sent":"${count()}"`));
    }
    // latin1: each odd byte stays one byte (invalid UTF-8 as a damaged file has it)
    const r = same(Buffer.from(lines.join('\n'), 'latin1'), [undefined, 3001]);
    expect(r.counters.records).toBeGreaterThan(100);
    expect(r.counters.rejected).toBeGreaterThan(100);
    // the module itself leaves a count with a byte past the digits (alone, in its word) to the full walk
    const w = gcpWasm()!;
    const takes = (count: string) => {
      const b = Buffer.from(`${ENTRY.replace('"bytes_sent":"40"', `"bytes_sent":"${count}"`)}\n`, 'latin1');
      expect(w.read(b, 0, b.length)).toBe(1);
      return (w.flagsOf(0) & 1) !== 0;
    };
    for (const count of ['7', '40', '12345678']) expect(takes(count), count).toBe(true);
    for (const count of ['\xb0', '4\xb0', '1234567\xb9', '\xb91', '4:', '/4', '4\x7f', '4a']) expect(takes(count), JSON.stringify(count)).toBe(false);
  });

  it('times that share their date and hour but not their minute (the minute alone read in the module): the same values and rejects', () => {
    // each date and hour, valid and not (a 29 February of a common year, hour 24), with minutes valid and not, in a random order
    const hours = ['2024-03-01T16:', '2024-12-31T23:', '2023-02-29T00:', '2024-03-01T24:', '2024-03-01T16;'];
    const minutes = ['00', '01', '07', '30', '59', '60', '99', '5x', 'x5', '-1', '0:', ':0', '6'];
    const tails = [':00Z', ':59Z', ':34.260917328Z', ':00+01:00', ':61Z', 'Z'];
    const rnd = seeded(47);
    // the first of each list (a valid one) three times in four
    const some = (xs: string[], valid: number) => xs[rnd(4) > 0 ? rnd(valid) : rnd(xs.length)]!;
    const minute = () => some(minutes, 5);
    const time = () => `${some(hours, 2)}${minute()}${some(tails, 4)}`;
    const lines: string[] = [];
    for (let i = 0; i < 800; i++) {
      // runs of one date and hour, as in real files, and changes at random
      const [start, end] = rnd(3) === 0 ? [time(), time()] : ((t) => [t, t.replace(/T(..):(..)/, (m, h: string) => `T${h}:${minute()}`)])(time());
      lines.push(ENTRY.replace('"start_time":"2024-03-01T16:00:34.260917328Z"', `"start_time":"${start}"`).replace('"end_time":"2024-03-01T16:00:34.944633793Z"', `"end_time":"${end}"`));
    }
    const r = same(lines.join('\n'), [undefined, 3001]);
    expect(r.counters.records).toBeGreaterThan(100);
    expect(r.counters.rejected).toBeGreaterThan(100);
  });

  it('times with 9, 6, 3 or no fraction digits (real exports drop trailing 000s), mixed in runs and at random: the same values', () => {
    // a time of second `sec` whose fraction has `digits` digits (0: none), of nanoseconds drawn from rnd
    const rnd = seeded(59);
    const at = (sec: number, digits: number) => {
      const fraction = String(1 + rnd(999_999_999)).padStart(9, '0').slice(0, digits);
      return `2024-03-01T16:${String(Math.floor(sec / 60) % 60).padStart(2, '0')}:${String(sec % 60).padStart(2, '0')}${digits > 0 ? `.${fraction}` : ''}Z`;
    };
    const withTimes = (base: string, digits: () => number, sec: number) =>
      base.replace(/"(start_time|end_time|timestamp|receiveTimestamp)":"[^"]*"/g, (_, key: string) => `"${key}":"${at(sec + (key === 'end_time' ? 1 + rnd(40) : 0), digits())}"`);
    const lines: string[] = [];
    // runs of one length with another now and then (a clock's precision), then every value's length at random
    for (const [usual, other, every] of [[9, 6, 300], [6, 3, 150], [6, 9, 40], [3, 0, 7], [9, 3, 2]] as const) {
      for (let i = 0; i < 600; i++) {
        const base = [ENTRY, SRC_COPY, GATEWAY][rnd(3)]!;
        lines.push(withTimes(base, () => (rnd(every) === 0 ? other : usual), lines.length % 3600));
      }
    }
    for (let i = 0; i < 1500; i++) lines.push(withTimes([ENTRY, SRC_COPY, GATEWAY][rnd(3)]!, () => [9, 6, 3, 0][rnd(4)]!, i % 3600));
    for (const digits of [6, 3, 0]) expect(wasmTakes(withTimes(ENTRY, () => digits, 34)), `${digits} digits`).toBe(true);
    const r = same(lines.join('\n'), [undefined, 8191]);
    expect(r.counters.records + r.counters.duplicates).toBe(lines.length); // every time valid: no reject
    expect(r.counters.records).toBeGreaterThan(2500);
  });

  it('the record worked out in the module: every reporter, side, account, region and instance source', () => {
    let seed = 5;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pick = <T>(xs: T[]): T => xs[rnd(xs.length)]!;
    const str = () => pick(['', 'p1', 'us-east1', 'us-east1-b', 'europe-west4-a', 'x-1', 'vm-7', 'zz9-q', 'é-1']);
    const block = (keys: string[]) => `{${keys.filter(() => rnd(3) > 0).map((k) => `"${k}":"${str()}"`).join(',')}}`;
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const parts = [`"connection":{"src_ip":"${pick(['10.0.0.1', '198.51.100.7', '2001:db8::2'])}","dest_ip":"10.0.0.9","protocol":${pick(['6', '17', '"1"'])},"dest_port":${rnd(70000)}}`];
      const reporter = pick(['DEST', 'SRC', 'DEST_GATEWAY', 'SRC_GATEWAY', 'DES', 'SRC_GATEWAYS', 'src', '', null]);
      if (reporter !== null) parts.push(`"reporter":"${reporter}"`);
      for (const [name, keys] of [['src_instance', ['project_id', 'region', 'vm_name', 'zone']], ['dest_instance', ['project_id', 'region', 'vm_name', 'zone']], ['src_vpc', ['project_id', 'subnetwork_region']], ['dest_vpc', ['project_id', 'subnetwork_region']], ['src_gateway', ['project_id', 'location', 'name']], ['dest_gateway', ['project_id', 'location', 'name']]] as const) {
        if (rnd(2) === 0) parts.push(`"${name}":${block([...keys])}`);
      }
      if (rnd(4) > 0) parts.push(`"start_time":"2024-03-01T16:00:0${rnd(10)}Z"`);
      if (rnd(2) > 0) parts.push(`"end_time":"2024-03-01T16:00:1${rnd(10)}Z"`);
      if (rnd(2) > 0) parts.push(`"bytes_sent":"${rnd(1000)}"`);
      const top = [`"jsonPayload":{${parts.sort(() => rnd(3) - 1).join(',')}}`];
      if (rnd(2) > 0) top.push(`"logName":"${pick(['projects/lp/logs/x', 'projects//logs/x', 'projects/lp', 'project/lp/x', 'projects/'])}"`);
      if (rnd(2) > 0) top.push(`"resource":{"labels":{"project_id":"${pick(['', 'rp'])}"}}`);
      lines.push(`{${top.join(',')}}`);
    }
    expect(wasmTakes(lines[1]!)).toBe(true);
    const r = same(lines.join('\n'), [undefined]);
    expect(r.counters.duplicates).toBeGreaterThan(10);
    expect(r.counters.records).toBeGreaterThan(1000);
  });

  it('invalid UTF-8, a BOM, a last line without its newline', () => {
    const bad = Buffer.concat([Buffer.from(`${ENTRY}\n`), Buffer.from(ENTRY.replace('data-asia-07', 'data\u00ff')).map((c) => (c === 0xc3 ? 0xff : c)), Buffer.from(`\n${GATEWAY}\n`)]);
    same(bad);
    same(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${ENTRY}\n${SRC_COPY}\n${GATEWAY}`)]));
  });

  it('windows: more rows than a call takes, a line longer than the window', () => {
    const many = Array.from({ length: 9000 }, (_, i) => (i % 3 === 0 ? '' : i % 3 === 1 ? GATEWAY : '{"x":1}')).join('\n');
    same(many, [undefined, 65536]);
    const long = ENTRY.replace('"insertId":"18baa0dea43c5"', `"insertId":"${'x'.repeat(GCP_WASM_WINDOW + 44 * 1024)}"`);
    same([ENTRY, long, SRC_COPY, long, ENTRY].join('\n'), [undefined]);
  });

  it("a plain file read into the module's window (readLineRange): lines across blocks and ranges, long lines, damage, as the JavaScript reader reads the bytes", () => {
    const rnd = seeded(31);
    const lines: string[] = [];
    for (let i = 0; i < 2400; i++) {
      const line = [ENTRY, SRC_COPY, GATEWAY][i % 3]!;
      if (i % 97 === 5) lines.push(line.replace('"insertId":"18baa0dea43c5"', `"insertId":"${'y'.repeat(rnd(GCP_WASM_WINDOW + 64 * 1024))}"`));
      else lines.push(i % 7 === 3 ? damage(line, rnd, '{}[]":,\\ 0123456789x', 2).replace(/\n/g, ' ') : line);
    }
    const buf = Buffer.from(lines.join('\n'));
    const path = join(tempDir('gcp-window-'), 'flows.log');
    writeFileSync(path, buf);
    const js = read(buf, 'js');
    expect(js.flows.length).toBeGreaterThan(1000);
    setGcpReader('wasm');
    expect(readBytes(buf, { format: 'gcp', account: 'default-acct', region: 'default-region', file: { path, cuts: [] } })).toEqual(js);
    // a range's lines are numbered from 1 within it: compared by offset
    const unnumbered = (r: ReadResult) => ({ ...r, flows: r.flows.map(({ line: _, ...f }) => f), rejects: r.rejects.map(({ line: _, ...x }) => x) });
    for (const cuts of [[1 << 18], [77_777, 600_001, 1_500_000]]) {
      expect(unnumbered(readBytes(buf, { format: 'gcp', account: 'default-acct', region: 'default-region', file: { path, cuts } }))).toEqual(unnumbered(js));
    }
  });

  it('nested values anywhere: the keys after them read in the right object, and nesting up to its limit', () => {
    // unused values of every shape (nested objects and arrays, empty ones, literals, numbers, whitespace
    // or none) put before kept keys at each level: a kept key read after them must land in its own object
    const rnd = seeded(23);
    const ws = () => [' ', '', '', '\t', ' \r '][rnd(5)]!;
    const value = (depth: number): string => {
      const k = rnd(depth > 5 ? 4 : 7);
      if (k === 0) return `"s${rnd(40)}"`;
      if (k === 1) return ['0', '-1.5e3', '17', '2E-2'][rnd(4)]!;
      if (k === 2) return ['true', 'false', 'null'][rnd(3)]!;
      if (k === 3) return rnd(2) ? '{}' : '[]';
      if (k === 4) return `[${ws()}${Array.from({ length: 1 + rnd(3) }, () => value(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
      return `{${ws()}${Array.from({ length: 1 + rnd(3) }, (_, i) => `"k${i}"${ws()}:${ws()}${value(depth + 1)}`).join(`${ws()},${ws()}`)}${ws()}}`;
    };
    const spots = ['{"insertId"', '"jsonPayload":{', '"connection":{', '"dest_instance":{', '"reporter":"DEST",', '"resource":{', '"labels":{', '"src_location":{'];
    const lines: string[] = [];
    for (let i = 0; i < 900; i++) {
      let line = [ENTRY, SRC_COPY, GATEWAY][i % 3]!;
      for (let n = 1 + rnd(3); n > 0; n--) {
        const at = spots[rnd(spots.length)]!;
        const j = line.indexOf(at);
        if (j < 0) continue;
        const cut = at.startsWith('{"') ? j + 1 : j + at.length;
        line = `${line.slice(0, cut)}"x${rnd(9)}"${ws()}:${ws()}${value(0)}${ws()},${ws()}${line.slice(cut)}`;
      }
      lines.push(line);
    }
    // most are taken by the module (else the comparison would be between two JavaScript runs)
    expect(lines.filter((l) => wasmTakes(l)).length).toBeGreaterThan(600);
    same(lines.join('\n'), [undefined, 4099]);
    // damaged: structure bytes dropped, doubled or swapped
    const damaged = lines.slice(0, 600).map((l) => damage(l, rnd, '{}[]":, ', 2));
    same(damaged.join('\n'), [undefined]);
    // a member where an element belongs, an element where a member does: rejected as before
    const odd = ['"x":["a","k":1]', '"x":[1,"k":{}]', '"x":{"a":1,"b"}', '"x":{"a":1,"b",2}', '"x":[{"a":[]},"b":2]'];
    same(odd.map((x) => ENTRY.replace('"reporter":"DEST"', `${x},"reporter":"DEST"`)).join('\n'));
    // the depth limit (64 levels, the LogEntry's and jsonPayload's included), with a kept key after the nesting
    const nested = (deep: string) => ENTRY.replace('"reporter":"DEST"', `"deep":${deep},"reporter":"DEST"`);
    const arrays = (n: number) => nested('['.repeat(n) + ']'.repeat(n));
    const objects = (n: number) => nested('{"a":'.repeat(n) + '1' + '}'.repeat(n));
    for (const deep of [arrays, objects]) {
      expect(wasmTakes(deep(62))).toBe(true);
      expect(wasmTakes(deep(63))).toBe(false);
    }
    const r = same([arrays(62), arrays(63), objects(62), objects(63)].join('\n'));
    expect(r.counters).toMatchObject({ records: 4, rejected: 0 });
  });

  it('line shapes: a line like a kept one but for its values is read as the full walk reads it, whatever the values', () => {
    // each line after a clean one of its shape (which the module keeps): the same fixed bytes, one value changed
    const strings = ['', 'x', '\\"', '\\u0041', 'a\tb', '\u0001', 'é', '7', '-1', '1.5', '0123', '1234567890123456', '999999999999999', '10.0.0.1', '2001:db8::1', '2024-03-01T16:00:00Z', '2024-03-01T16:00:00', 'DEST', 'SRC', 'SRC_GATEWAY', 'projects/p/logs/x', 'us-east1-b'];
    const tokens = ['7', '0', '-1', '1.5', '1e3', '-0.5E+2', '01', '-', '1.', '1234567890123456', '999999999999999', 'true', 'null', '"7"', '""', '"x"', '{}', '[]', '{"a":1}', '[1,2]', '1 ', ' 1', '1,', '"a"b"'];
    const lines: string[] = [];
    for (const base of [ENTRY, SRC_COPY, GATEWAY]) {
      for (const [s, e] of valueTokens(base)) {
        const quoted = base[s] === '"';
        for (const v of quoted ? strings : []) lines.push(base, `${base.slice(0, s + 1)}${v}${base.slice(e - 1)}`);
        for (const v of tokens) lines.push(base, `${base.slice(0, s)}${v}${base.slice(e)}`);
      }
    }
    // and values damaged at random, the shapes' lines in a random order between them
    const rnd = seeded(41);
    for (let i = 0; i < 1500; i++) {
      const base = [ENTRY, SRC_COPY, GATEWAY][rnd(3)]!;
      const spans = valueTokens(base);
      const [s, e] = spans[rnd(spans.length)]!;
      lines.push([ENTRY, SRC_COPY, GATEWAY][rnd(3)]!, `${base.slice(0, s)}${damage(base.slice(s, e), rnd, '"\\ 0123456789-+.eE,:{}[]xé\u0001', 2, true)}${base.slice(e)}`);
    }
    const r = same(lines.join('\n'), [undefined, 8191]);
    expect(r.counters.records).toBeGreaterThan(3000);
    expect(r.counters.rejected).toBeGreaterThan(100);
  });

  it('line shapes: a value as long as the shape foresees but not plain (an escape, a control byte, a quote, a leading zero, a sign, a fraction)', () => {
    // a shape is kept until eight others have replaced it: each line below follows eight lines
    // of other shapes and a line of its own (kept again, every value's length foreseen)
    const others = Array.from({ length: 8 }, (_, k) => ENTRY.replace('"insertId"', `"x${k}":1,"insertId"`));
    const lines: string[] = [];
    for (const base of [ENTRY, SRC_COPY, GATEWAY]) {
      for (const [s, e] of valueTokens(base)) {
        for (const v of sameLength(base.slice(s, e))) lines.push(...others, base, `${base.slice(0, s)}${v}${base.slice(e)}`);
      }
    }
    const r = same(lines.join('\n'), [undefined]);
    expect(r.counters.rejected).toBeGreaterThan(30);
  });

  it('line shapes: fixed bytes of 7 to 60 between two values, each byte changed in turn (the first two chunks and those after them); values of 14 to 18 bytes not plain at each byte', () => {
    // an unknown member before insertId: the fixed bytes from the value before it to its own value are `","` + its key + `":"`
    const withKey = (key: string, value: string) => ENTRY.replace('"insertId"', `"${key}":"${value}","insertId"`);
    const lines: string[] = [];
    for (let n = 1; n <= 54; n++) {
      const key = 'k'.repeat(n);
      const base = withKey(key, 'v');
      const at = base.indexOf(`"${key}"`) - 2; // the step's first byte: the '"' that closed the value before
      const step = n + 6;
      for (let i = 0; i < step; i++) {
        const c = base[at + i] === 'k' ? 'q' : base[at + i] === '"' ? "'" : 'x';
        lines.push(base, `${base.slice(0, at + i)}${c}${base.slice(at + i + 1)}`);
      }
    }
    for (let n = 14; n <= 18; n++) {
      const value = 'v'.repeat(n);
      const base = withKey('k', value);
      const s = base.indexOf(value);
      for (let i = 0; i < n; i++) {
        for (const c of ['"', '\\', '\u0001', '\t', ' ', 'é']) lines.push(base, `${base.slice(0, s + i)}${c}${base.slice(s + i + 1)}`);
      }
    }
    const r = same(lines.join('\n'), [undefined]);
    expect(r.counters.records).toBeGreaterThan(1000);
    expect(r.counters.rejected).toBeGreaterThan(100);
  });

  it('line shapes: entries with more values than a shape holds, or long keys, read alike', () => {
    const rnd = seeded(43);
    const many = (n: number, key: (i: number) => string) => ENTRY.replace('"insertId"', `${Array.from({ length: n }, (_, i) => `"${key(i)}":${rnd(3) ? rnd(900) : `"v${rnd(99)}"`}`).join(',')},"insertId"`);
    const lines: string[] = [];
    for (let i = 0; i < 60; i++) {
      // 95 to 100 values in all (a shape holds 96), and 60 keys of 100 bytes (fixed bytes past 6 KB)
      lines.push(many(63 + (i % 6), (k) => `k${k}`), many(60, (k) => `${'long'.repeat(25)}${k}`));
    }
    const r = same(lines.join('\n'), [undefined]);
    expect(r.counters.records).toBe(lines.length);
  });

  it('random byte damage: same result', () => {
    const rnd = seeded(11);
    const alphabet = '{}[]":,\\ \t0123456789-+.eEtrufalsn_xA\u0001é';
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      lines.push(damage([ENTRY, SRC_COPY, GATEWAY][i % 3]!, rnd, alphabet, 3).replace(/\n/g, ' '));
    }
    same(lines.join('\n'), [undefined, 8191]);
  });

  const fx = HAVE_FIXTURES ? it : it.skip;
  fx('every NDJSON fixture: taken for every entry, and the same result', () => {
    for (const rel of ['gcp-vpc/elastic-beats/vpc-flow-log-entries.first14.json.log', 'gcp-vpc/otel-contrib/vpc-flow-log-google-service.ndjson', 'gcp-vpc/otel-contrib/vpc-flow-log-managed-instance.ndjson']) {
      const text = readFileSync(fixture(rel)!, 'utf8');
      for (const line of text.split('\n').filter((l) => l.trim().startsWith('{'))) expect(wasmTakes(line.trim()), `${rel}: ${line.slice(0, 80)}`).toBe(true);
      same(text);
      same(`${GATEWAY}\n${text}`);
    }
  });

  it('routes records into the batches of the shards as the emit of the sink does, with every option that bears on it', () => {
    const T = Date.parse('2024-03-01T16:00:00Z') / 1000;
    const options: Array<Partial<SinkOptions>> = [
      {}, { shards: 1 }, { shards: 5, batchSize: 7 }, { timeRange: { from: T + 20, to: T + 60 } }, { notAfter: T + 100 },
      // outbound records in batches of their own (a lane a shard more; past 32 shards not)
      { outboundApart: true }, { shards: 1, outboundApart: true }, { shards: 5, batchSize: 7, outboundApart: true }, { shards: 40, outboundApart: true },
      // more shards than the module has areas for: routed rows appended from a FlowRecord
      { shards: 70 },
      // emit alone applies these: the module hands every record to it
      { partition: { index: 1, count: 2 } }, { homeNet: ['45.0.0.0/8'] }, { lateBefore: T + 30, windowSeconds: 10 },
    ];
    const input = Buffer.from([ENTRY, SRC_COPY, GATEWAY, '{"x":1}', '', ...Array.from({ length: 600 }, (_, k) => flowEntry(k))].join('\n') + '\n');
    expectReadersAlike(route, input, options, 400);
    const js = route('js', input, {}, '');
    expect(js.counters.responses * js.counters.internal * js.counters.blankRegion * js.counters.outbound * js.counters.inbound * js.counters.duplicates * js.counters.rejected).toBeGreaterThan(0);
    expect(route('wasm', input, {}, '', 4099)).toEqual(js);
  });

  it("looks simple rows' strings up in the module's table, which follows the sink's dictionary: many distinct ones, more than it holds, sink after sink", () => {
    // a routed flow with its own project, region and instance (padded: long ids), seen from either end
    const flow = (k: number, pad: string) => {
      const out = k % 2 === 0;
      const vm = `{"project_id":"proj-${k}${pad}","region":"r-${k % 997}${pad}","vm_name":"vm-${k}${pad}","zone":"z-${k % 13}-b"}`;
      const conn = out ? `"src_ip":"10.${k & 255}.${(k >> 8) & 255}.9","dest_ip":"52.1.2.3","src_port":40000,"dest_port":443` : `"src_ip":"45.${k & 255}.${(k >> 8) & 255}.7","dest_ip":"10.0.0.9","src_port":40000,"dest_port":22`;
      return `{"jsonPayload":{"connection":{${conn},"protocol":6},"reporter":"${out ? 'SRC' : 'DEST'}","${out ? 'src' : 'dest'}_instance":${vm},"start_time":"2024-03-01T16:00:${String(k % 60).padStart(2, '0')}Z","bytes_sent":"${k}","packets_sent":"2"}}`;
    };
    // among them: rows handed to emit (in the future), to the full walk, and rows of other shapes
    const other = (k: number) => [flowEntry(k), '{"jsonPayload":{"connection":{"src_ip":"46.1.1.1","dest_ip":"10.0.0.1","protocol":6},"start_time":"2099-01-01T00:00:00Z"}}', ENTRY.replace('"asia-east1"', '"asia\u002deast1"')][k % 3]!;
    const input = (rows: number, pad: string, every = 7) => Buffer.from(Array.from({ length: rows }, (_, k) => (k % every === 3 ? other(k) : flow(k, pad))).join('\n') + '\n');
    // more entries than the table holds (three new tokens a row), then more bytes than its arena holds
    for (const [rows, pad] of [[30_000, ''], [4_000, 'x'.repeat(120)]] as const) {
      const many = input(rows, pad);
      const js = route('js', many, {}, '', 1 << 20);
      expect(js.posted.reduce((n, b) => n + (b.n as number), 0)).toBeGreaterThan(rows * 0.8);
      expect(route('wasm', many, {}, '')).toEqual(js);
      expect(route('wasm-parse', many, {}, '')).toEqual(js);
    }
    // sinks one after another on one reader (a task a sink), each dictionary giving other ids to the same strings
    const inputs = [0, 1, 2].map((n) => input(300 + n, '', 3 + n));
    const jsAll = inputs.map((one) => route('js', one, {}, 'r1'));
    setGcpReader('wasm');
    expect(inputs.map((one) => route('wasm', one, {}, 'r1', 1 << 20, false))).toEqual(jsAll);
  });
});
