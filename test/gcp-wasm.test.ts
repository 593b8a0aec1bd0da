/**
 * The GCP NDJSON reader in WebAssembly (assembly/gcp-lines.ts, src/formats/gcp-wasm.ts)
 * against the JavaScript reader (gcp-fast.ts and the full walk): the same records, counters
 * and rejects (line, offset, reason, text) on the fixtures, on hostile lines, on random
 * damage, and whatever the blocks the input comes in; and the module takes the usual
 * LogEntry (so the comparison is not between two JavaScript runs).
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HAVE_FIXTURES, fixture, readBytes, type ReadResult } from './helpers/read-format.js';
import { damage, seeded } from './helpers/damage.js';
import { ENTRY, GATEWAY, SRC_COPY } from './helpers/gcp-entries.js';
import { gcpWasm, setGcpReader } from '../dist/src/formats/gcp-wasm.js';

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
    const long = ENTRY.replace('"insertId":"18baa0dea43c5"', `"insertId":"${'x'.repeat(300 * 1024)}"`);
    same([ENTRY, long, SRC_COPY, long, ENTRY].join('\n'), [undefined]);
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
});
