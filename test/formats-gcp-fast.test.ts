/**
 * The GCP reader's fast path (src/formats/gcp-fast.ts) against its full walk: on every
 * input, the reader with the fast path gives the same records, counters and rejects
 * (reason, line, offset, text) as without it; the fast path takes the usual LogEntry and
 * leaves everything unusual to the full walk; it never accepts what is not JSON.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { HAVE_FIXTURES, fixture, readBytes, type ReadResult } from './helpers/read-format.js';
import { damage, seeded } from './helpers/damage.js';
import { ENTRY, GATEWAY, SRC_COPY } from './helpers/gcp-entries.js';
import { gcpFastPath, rfc3339Seconds } from '../dist/src/formats/gcp.js';
import { GcpFastPath } from '../dist/src/formats/gcp-fast.js';
import { viewOf } from '../dist/src/formats/json-bytes.js';

function read(text: string, fast: boolean): ReadResult {
  gcpFastPath.enabled = fast;
  try {
    return readBytes(Buffer.from(text), { format: 'gcp', account: 'default-acct', region: 'default-region' });
  } finally {
    gcpFastPath.enabled = true;
  }
}

/** The reader with and without the fast path: everything the same. */
function same(text: string): ReadResult {
  const fast = read(text, true);
  expect(fast).toEqual(read(text, false));
  return fast;
}

const probe = new GcpFastPath(new Int32Array(32), new Int32Array(32));
function fastTakes(line: string): boolean {
  const b = Buffer.from(line);
  return probe.read(b, viewOf(b), 0, b.length);
}

describe('GCP fast path: the usual LogEntry', () => {
  it('takes the usual entries and reads them as the full walk does', () => {
    for (const line of [ENTRY, SRC_COPY, GATEWAY]) expect(fastTakes(line), line).toBe(true);
    const r = same([ENTRY, SRC_COPY, GATEWAY].join('\n'));
    expect(r.counters).toMatchObject({ lines: 3, records: 2, duplicates: 1, rejected: 0 });
    expect(r.flows[0]).toMatchObject({ src: '46.45.50.63', dst: '10.140.0.8', sport: 9620, dport: 443, proto: 6, packets: 1, bytes: 40, account: 'acme-data-829946', region: 'asia-east1', instance: 'data-asia-07', direction: 'ingress' });
    // the VPC's project and region come before the gateway's (gcp.ts); +01:00 is an hour before UTC
    expect(r.flows[1]).toMatchObject({ account: 'p3', region: 'europe-west4', instance: 'vpn-1', proto: 17, start: 1709308800 - 3600 });
    expect(r.flows[1]!.packets).toBeNaN(); // an absent counter is unknown
  });

  it('takes reordered keys, spacing, unicode, nested objects of the same key names and literals', () => {
    const variants = [
      // keys in another order, connection last
      '{"logName":"projects/p9/logs/x","jsonPayload":{"reporter":"DEST","start_time":"2024-03-01T16:00:00Z","connection":{"protocol":6,"src_port":1,"dest_port":22,"dest_ip":"10.0.0.1","src_ip":"198.51.100.7"}}}',
      // whitespace everywhere JSON allows it
      '{ "jsonPayload" : { "connection" : { "src_ip" : "198.51.100.7" , "dest_ip" : "10.0.0.1" , "protocol" : 6 , "dest_port" : 22 } ,\t"reporter":"DEST", "end_time":"2024-03-01T16:00:00Z" } }',
      // multi-byte UTF-8 in a kept field and in a skipped one
      '{"jsonPayload":{"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6},"dest_instance":{"vm_name":"vm-é-日本","project_id":"p"},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z","note":"ünïcödé ✓"}}',
      // the reader's key names inside objects it does not read, arrays and literals
      '{"jsonPayload":{"src_location":{"src_ip":"1.1.1.1","connection":{"src_ip":"2.2.2.2"}},"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z","tags":[1,-2.5e3,true,false,null,[],{},"x",[{"src_ip":"3.3.3.3"}]]},"labels":{"project_id":"not-this"}}',
      // a counter as a JSON number, a port as a string of digits
      '{"jsonPayload":{"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":"6","src_port":"0","dest_port":65535},"bytes_sent":123456789012345,"packets_sent":0,"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"}}',
    ];
    for (const v of variants) {
      expect(JSON.parse(v)).toBeTruthy();
      expect(fastTakes(v), v).toBe(true);
    }
    const r = same(variants.join('\n'));
    expect(r.counters).toMatchObject({ lines: 5, records: 5, rejected: 0 });
    expect(r.flows[0]!.account).toBe('p9');
    expect(r.flows[2]!.instance).toBe('vm-é-日本');
    expect(r.flows[3]!.src).toBe('198.51.100.7');
    expect(r.flows[4]).toMatchObject({ bytes: 123456789012345, packets: 0, proto: 6, sport: 0, dport: 65535 });
  });
});

describe('GCP fast path on the public fixtures', () => {
  const fx = HAVE_FIXTURES ? it : it.skip;
  fx('every NDJSON fixture: taken for every entry, and the same result as the full walk', () => {
    for (const rel of ['gcp-vpc/elastic-beats/vpc-flow-log-entries.first14.json.log', 'gcp-vpc/otel-contrib/vpc-flow-log-google-service.ndjson', 'gcp-vpc/otel-contrib/vpc-flow-log-managed-instance.ndjson']) {
      const text = readFileSync(fixture(rel)!, 'utf8');
      for (const line of text.split('\n').filter((l) => l.trim().startsWith('{'))) expect(fastTakes(line.trim()), `${rel}: ${line.slice(0, 80)}`).toBe(true);
      same(text);
    }
  });
});

describe('GCP fast path: foreseen keys and strings read four bytes at a time', () => {
  it('keys in a changing order, spaced keys and near-miss keys: same result as the full walk', () => {
    const reordered = '{"resource":{"type":"gce_subnetwork","labels":{"project_id":"r1"}},"jsonPayload":{"start_time":"2024-03-01T16:00:00Z","reporter":"DEST","connection":{"src_port":1,"protocol":6,"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","dest_port":22}}}';
    const spaced = ENTRY.replace('"reporter":', '"reporter" :').replace('"src_ip":', '"src_ip"\t:');
    // a key one byte off a foreseen one, a key that is a prefix of one, and one that runs on
    const nearMiss = ENTRY.replace('"reporter":"DEST"', '"reportex":"DEST"').replace('"logName":', '"logNam":').replace('"resource":', '"resourcex":');
    for (const line of [reordered, spaced, nearMiss]) expect(fastTakes(line), line).toBe(true);
    const lines = [ENTRY, reordered, ENTRY, spaced, ENTRY, nearMiss, ENTRY, reordered, reordered, GATEWAY];
    const r = same(lines.join('\n'));
    expect(r.counters).toMatchObject({ lines: 10, records: 10, rejected: 0 });
    expect(r.flows.find((f) => f.line === 6)).toMatchObject({ direction: 'unknown' }); // nearMiss has no reporter
    expect(r.flows.find((f) => f.line === 2)).toMatchObject({ account: 'r1', src: '198.51.100.7' });
  });

  it('two shapes interleaved (a DEST and a SRC entry, each key foreseen from two): same result as the full walk', () => {
    // the reporter's own entry as the generator writes it: other keys after connection
    const srcShape =
      '{"insertId":"f12304c076005","jsonPayload":{"bytes_sent":"40","connection":{"dest_ip":"46.45.50.63","dest_port":9620,"protocol":6,"src_ip":"10.140.0.8","src_port":443},' +
      '"dest_location":{"asn":3215,"continent":"Europe","country":"fra"},"end_time":"2024-03-01T16:00:34.838082239Z","packets_sent":"1","reporter":"SRC","rtt_msec":"168",' +
      '"src_instance":{"project_id":"acme-data-829946","region":"asia-east1","vm_name":"data-asia-07","zone":"asia-east1-a"},' +
      '"src_vpc":{"project_id":"acme-data-829946","subnetwork_name":"default","subnetwork_region":"asia-east1","vpc_name":"default"},"start_time":"2024-03-01T16:00:34.513165509Z"},' +
      '"logName":"projects/acme-data-829946/logs/compute.googleapis.com%2Fvpc_flows","resource":{"labels":{"project_id":"acme-data-829946"},"type":"gce_subnetwork"}}';
    // a third successor of "connection", a near miss of the second guess, and a key repeated
    // where the second guess is that key (a duplicate: the full walk decides)
    const third = srcShape.replace('"dest_location":', '"zzz_location":');
    const nearAlt = ENTRY.replace('"dest_instance":', '"dest_instancf":');
    const repeated = srcShape.replace('"dest_location":{"asn":3215,"continent":"Europe","country":"fra"}', '"packets_sent":"7"');
    expect(fastTakes(srcShape)).toBe(true);
    expect(fastTakes(repeated)).toBe(false);
    const lines = [ENTRY, srcShape, ENTRY, srcShape, srcShape, ENTRY, third, ENTRY, srcShape, nearAlt, srcShape, ENTRY, repeated, srcShape, ENTRY, SRC_COPY, ENTRY, GATEWAY, srcShape];
    const r = same(lines.join('\n'));
    expect(r.counters).toMatchObject({ lines: lines.length, rejected: 0 });
    expect(r.flows.find((f) => f.line === 2)).toMatchObject({ direction: 'egress', account: 'acme-data-829946', instance: 'data-asia-07', dst: '46.45.50.63' });
    expect(r.flows.find((f) => f.line === 10)).toMatchObject({ direction: 'ingress', instance: '' }); // nearAlt: no dest_instance
  });

  it('a quote, backslash or control byte at every offset of a long string is found', () => {
    const long = 'abcdefghijklmnopqrstuvwxyz0123456789';
    // an unescaped '"' ends the string early, '\' starts an escape, control bytes are not JSON
    const stops = ['"', '\\', '\\u0041', String.fromCharCode(1), String.fromCharCode(31), '\n', '\t'];
    for (const stop of stops) {
      for (let i = 0; i <= long.length; i++) {
        for (const field of ['"insertId":"18baa0dea43c5"', '"vm_name":"data-asia-07"']) {
          const name = field.slice(0, field.indexOf(':'));
          const line = ENTRY.replace(field, `${name}:"${long.slice(0, i)}${stop}${long.slice(i)}"`);
          expect(fastTakes(line), line).toBe(false);
        }
      }
    }
    const lines = [];
    for (let i = 0; i < 12; i++) lines.push(ENTRY.replace('"insertId":"18baa0dea43c5"', `"insertId":"${long.slice(0, i)}\\"${long.slice(i)}"`));
    lines.push(ENTRY.replace('"vm_name":"data-asia-07"', `"vm_name":"data\tasia"`));
    lines.push(ENTRY.replace('"vm_name":"data-asia-07"', `"vm_name":"data\\u002dasia"`));
    same(lines.join('\n'));
  });
});

describe('GCP fast path: what it leaves to the full walk', () => {
  const conn = '"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6,"dest_port":22}';
  const wrap = (payload: string, top = '') => `{${top}"jsonPayload":{${payload}}}`;
  const base = (extra: string) => wrap(`${conn},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"${extra}`);
  const cases: Record<string, string> = {
    'an escaped key': wrap(`"connection":{"src\\u005fip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"`),
    'an escaped value': base(',"dest_instance":{"vm_name":"a\\"b","project_id":"p"}'),
    'an escape in a skipped string': base(',"note":"tab\\there"'),
    'a duplicate object key': base(`,${conn.replace('198.51.100.7', '203.0.113.9')}`),
    'a duplicate string key': wrap(`"connection":{"src_ip":"198.51.100.7","src_ip":"203.0.113.9","dest_ip":"10.0.0.1","protocol":6},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"`),
    'a duplicate jsonPayload': `${base('').slice(0, -1)},"jsonPayload":{"reporter":"SRC"}}`,
    'an empty jsonPayload': '{"jsonPayload":{}}',
    'an empty connection': wrap('"connection":{},"reporter":"DEST"'),
    'an empty instance block': base(',"dest_instance":{}'),
    'an empty LogEntry': '{}',
    'null where a string is read': base(',"reporter":null').replace('"reporter":"DEST",', ''),
    'null jsonPayload': '{"jsonPayload":null}',
    'a number where a string is read': wrap('"connection":{"src_ip":19851,"dest_ip":"10.0.0.1","protocol":6},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"'),
    'a negative port': wrap('"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6,"dest_port":-1},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"'),
    'a fractional port': wrap('"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6,"dest_port":22.0},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"'),
    'an exponent port': wrap('"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":6,"dest_port":2e1},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"'),
    'a leading zero': wrap('"connection":{"src_ip":"198.51.100.7","dest_ip":"10.0.0.1","protocol":06},"reporter":"DEST","start_time":"2024-03-01T16:00:00Z"'),
    'a 16-digit counter': base(',"bytes_sent":"1234567890123456"'),
    'a counter that is not digits': base(',"bytes_sent":"12a"'),
    'an empty counter': base(',"packets_sent":""'),
    'an object where a string is read': base(',"end_time":{"seconds":1}'),
    'an array where an object is read': wrap('"connection":[{"src_ip":"198.51.100.7"}]'),
    'a Pub/Sub envelope': `{"message":{"data":"${Buffer.from(base('')).toString('base64')}"},"subscription":"s"}`,
    'trailing data': `${base('')} x`,
    'two values on a line': `${base('')}{}`,
    'a control byte in a string': base(',"note":"a\u0001b"'),
    'a raw tab in a string': base(',"note":"a\tb"'),
    'a bad literal': base(',"flag":tru'),
    'nesting deeper than the fast path goes': base(`,"deep":${'['.repeat(100)}${']'.repeat(100)}`),
    'a trailing comma': base(',"x":1,'),
    'a missing colon': base(',"x" 1'),
    'not an object': '[1,2,3]',
  };
  for (const [name, line] of Object.entries(cases)) {
    it(`${name}: full walk, same result`, () => {
      expect(fastTakes(line), line).toBe(false);
      same(line);
      same(`${ENTRY}\n${line}\n${GATEWAY}\n`); // and the lines around it are read as before
    });
  }

  it('bytes that are not UTF-8: the full walk checks them, same rejects', () => {
    const bad = Buffer.concat([Buffer.from(base(',"note":"')), Buffer.from([0xff, 0xfe]), Buffer.from('"}}')]);
    const text = Buffer.concat([Buffer.from(ENTRY + '\n'), bad, Buffer.from('\n' + GATEWAY)]);
    gcpFastPath.enabled = true;
    const fast = readBytes(text, { format: 'gcp' });
    gcpFastPath.enabled = false;
    const full = readBytes(text, { format: 'gcp' });
    gcpFastPath.enabled = true;
    expect(fast).toEqual(full);
    expect(fast.counters).toMatchObject({ lines: 3, records: 2, rejected: 1 });
  });

  it('every truncation of an entry: same result, and the fast path takes only whole JSON', () => {
    for (let n = 1; n < ENTRY.length; n++) {
      const cut = ENTRY.slice(0, n);
      if (fastTakes(cut)) expect(() => JSON.parse(cut), cut).not.toThrow();
      if (n % 7 === 0) same(`${cut}\n${GATEWAY}`);
    }
    expect(fastTakes(ENTRY.slice(0, -1))).toBe(false);
  });

  it('random byte damage: same result, and the fast path never takes what JSON.parse refuses', () => {
    const rnd = seeded(7);
    const alphabet = '{}[]":,\\ \t0123456789-+.eEtrufalsn_xA\u0001';
    const lines: string[] = [];
    for (let i = 0; i < 3000; i++) {
      const line = damage([ENTRY, SRC_COPY, GATEWAY][i % 3]!, rnd, alphabet, 3).replace(/\n/g, ' ');
      if (fastTakes(line)) expect(() => JSON.parse(line), line).not.toThrow();
      lines.push(line);
    }
    same(lines.join('\n'));
  });
});

describe('RFC 3339 times: the last date is remembered, never wrongly', () => {
  it('the same, another and an invalid date one after the other', () => {
    const t = (x: string) => rfc3339Seconds(Buffer.from(x), 0, x.length);
    const seq: Array<[string, number]> = [
      ['2024-02-29T23:59:59Z', 1709251199],
      ['2024-02-29T00:00:00.5Z', 1709164800],
      ['2023-02-29T00:00:00Z', NaN], // not a leap year, after the cached 2024-02-29
      ['2024-02-29T00:00:00Z', 1709164800],
      ['2024-03-01T00:00:00+01:00', 1709247600],
      ['2024-03-01T00:00:00-00:30', 1709253000],
      ['2024-03-01T00:00:00+24:00', NaN],
      ['2024-03-01T00:00:60Z', 1709251260], // a leap second is accepted as :60
      ['2024-03-0aT00:00:00Z', NaN],
      ['1900-02-29T00:00:00Z', NaN],
      ['2000-02-29T00:00:00Z', 951782400],
      ['2024-03-01 10:00:00.123456 UTC', 1709287200],
    ];
    for (const [x, want] of seq) expect(t(x), x).toBe(want);
  });
});
