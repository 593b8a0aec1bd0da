import { describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HAVE_FIXTURES, LOCAL, fixture, readBytes as readBytesRaw, readPath as readPathRaw, type ReadOptions } from './helpers/read-format.js';

/** Every reader result here must account for every input unit (detection.md §6). */
function readPath(path: string, opts?: ReadOptions) {
  const r = readPathRaw(path, opts);
  expect(r.gap, `accounting gap in ${path}`).toBe(0);
  return r;
}
function readBytes(buf: Uint8Array, opts?: ReadOptions) {
  const r = readBytesRaw(buf, opts);
  expect(r.gap, 'accounting gap').toBe(0);
  return r;
}
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';

const fx = HAVE_FIXTURES ? it : it.skip;
if (!HAVE_FIXTURES) console.warn('formats-aws-json: ../shared/fixtures is absent; the public-fixture tests are skipped');

/** Field list of a custom format without account-id (so an envelope's owner is the account). */
const NO_ACCOUNT = 'version interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'.split(' ');

describe('AWS JSON-wrapped fixtures (counts as in fixtures/README.md)', () => {
  fx('Firehose {"message":…} line (Elastic test-with-message-field.log): 1 event, no-data', () => {
    const r = readPath(fixture('aws-vpc/elastic-integrations/test-with-message-field.log')!);
    expect(r.format).toBe('aws-json');
    expect(r.counters).toMatchObject({ lines: 1, records: 0, nodata: 1, rejected: 0 });
  });

  fx('CloudWatch envelope (OTel valid_vpc_flow_cw.json): 2 logEvents, 2 records', () => {
    const r = readPath(fixture('aws-vpc/otel-contrib/valid_vpc_flow_cw.json')!);
    expect(r.format).toBe('aws-json'); // one envelope per line: the line reader
    expect(r.counters).toMatchObject({ lines: 2, records: 2, rejected: 0 }); // 2 units on 1 line
    expect(r.flows.map((f) => [f.src, f.dst, f.dport, f.action])).toEqual([
      ['172.31.16.139', '172.31.16.21', 22, 'accept'],
      ['172.31.9.69', '172.31.9.12', 3389, 'reject'],
    ]);
    expect(r.flows[0]).toMatchObject({ account: '123456789010', iface: 'eni-1235b8ca123456789', cloud: 'aws', packets: 20, bytes: 4249 });
  });

  fx('custom 4-field messages (valid_vpc_flow_cw_custom.json) cannot be flows: 2 rejects, with the reason', () => {
    const r = readPath(fixture('aws-vpc/otel-contrib/valid_vpc_flow_cw_custom.json')!);
    expect(r.counters).toMatchObject({ lines: 2, records: 0, rejected: 2 });
    expect(r.rejects[0]!.reason).toBe('expected 14 fields, got 4');
    const custom = readPath(fixture('aws-vpc/otel-contrib/valid_vpc_flow_cw_custom.json')!, { awsFields: ['version', 'interface-id', 'srcaddr', 'dstaddr'] });
    expect(custom.counters.rejected).toBe(2);
    expect(custom.rejects[0]!.reason).toMatch(/field list lacks srcport, dstport, protocol, start/);
  });

  fx('a Transit Gateway envelope without a field list (valid_tgw_flow_cw.json): 1 reject', () => {
    const r = readPath(fixture('aws-vpc/otel-contrib/valid_tgw_flow_cw.json')!);
    expect(r.counters).toMatchObject({ lines: 1, records: 0, rejected: 1 });
  });
});

describe('AWS JSON lines (test/fixtures/aws-firehose.ndjson)', () => {
  const r = readPath(LOCAL + 'aws-firehose.ndjson');

  it('reads Firehose lines and one-line CloudWatch envelopes; CONTROL_MESSAGE is no-data; every unit accounted for', () => {
    expect(r.format).toBe('aws-json');
    // 10 physical lines; the envelope on line 4 holds 2 events, so 11 units
    expect(r.counters).toMatchObject({ lines: 11, records: 4, nodata: 2, rejected: 4, blank: 1 });
    expect(r.flows.map((f) => `${f.line} ${f.src}`)).toEqual(['1 45.33.1.1', '3 45.33.1.2', '4 45.33.1.3', '4 45.33.1.4']);
  });

  it('the record account wins over the envelope owner; escapes in a message are decoded', () => {
    for (const f of r.flows) expect(f.account).toBe('123456789012');
    expect(r.flows[1]).toMatchObject({ src: '45.33.1.2', dst: '10.0.0.5' }); // "\u0020" between the addresses
  });

  it('says why each bad line is refused, with its line', () => {
    expect(r.rejects.map((j) => `${j.line}: ${j.reason}`)).toEqual([
      '7: "message" is not a string',
      '8: no "message" or "logEvents" (not an AWS flow-log wrapper)',
      '9: invalid JSON: input ends inside a string at column 12',
      '10: bad srcport',
    ]);
  });

  it('gives the same result when the file arrives in small blocks', () => {
    const small = readPath(LOCAL + 'aws-firehose.ndjson', { block: 50 });
    expect(small.counters).toEqual(r.counters);
    expect(small.flows).toEqual(r.flows);
    expect(small.rejects.map((j) => [j.line, j.offset])).toEqual(r.rejects.map((j) => [j.line, j.offset]));
  });

  it('message offsets point at the message in the file', () => {
    const text = readFileSync(LOCAL + 'aws-firehose.ndjson', 'latin1');
    const bad = r.rejects.find((j) => j.reason === 'bad srcport')!;
    expect(text.slice(bad.offset, bad.offset + 12)).toBe('"2 123456789');
  });
});

describe('CloudWatch envelopes as a document (test/fixtures/aws-cloudwatch.json)', () => {
  it('concatenated and pretty-printed envelopes; the owner is the account when messages have none', () => {
    const r = readPath(LOCAL + 'aws-cloudwatch.json', { awsFields: NO_ACCOUNT });
    expect(r.format).toBe('aws-cloudwatch');
    expect(r.counters).toMatchObject({ lines: 5, records: 3, nodata: 2, rejected: 0 });
    expect(r.flows.map((f) => [f.account, f.dst, f.line])).toEqual([
      ['111122223333', '10.0.0.5', 1],
      ['444455556666', '10.9.0.5', 1],
      ['777788889999', '10.8.0.5', 9],
    ]);
  });

  it('without the field list, every message is refused with the reason', () => {
    const r = readPath(LOCAL + 'aws-cloudwatch.json');
    expect(r.counters).toMatchObject({ lines: 5, records: 0, rejected: 4, nodata: 1 });
  });

  it('an envelope that breaks half-way keeps the envelopes before it', () => {
    const text = readFileSync(LOCAL + 'aws-cloudwatch.json', 'utf8');
    const cut = text.slice(0, text.indexOf('eni-3 45.33') + 5);
    const r = readBytes(Buffer.from(cut), { awsFields: NO_ACCOUNT });
    expect(r.counters).toMatchObject({ lines: 3, records: 2, rejected: 1 });
    expect(r.rejects[0]!.reason).toMatch(/^invalid JSON in object #3 \(from line 2\)/);
  });
});

describe('AWS JSON end to end', () => {
  it('a scan planted in Firehose lines is found, with the run counters', async () => {
    const dir = tempDir();
    const lines: string[] = [];
    for (let i = 0; i < 12; i++) {
      lines.push(JSON.stringify({ message: `2 1234567890${10 + (i % 3)} eni-${i} 45.90.1.2 10.0.${i}.5 40000 445 6 1 44 1709287200 1709287201 REJECT OK` }));
      lines.push(JSON.stringify({ message: `2 1234567890${10 + (i % 3)} eni-${i} - - - - - - - 1709287200 1709287260 - NODATA` }));
    }
    writeFileSync(join(dir, 'firehose.log'), lines.join('\n') + '\n');
    const res = await runDetect([dir]);
    expect(res.files[0]!.format).toBe('aws-json');
    expect(res.totals).toMatchObject({ lines: 24, records: 12, nodata: 12, rejected: 0 });
    expect(res.scans).toHaveLength(1);
    expect(res.scans[0]).toMatchObject({ src: '45.90.1.2', dstPort: 445, endpoints: 12, accounts: 3 });
  });

  it('bad lines are rejects, not a change of format: the run is not partial', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'firehose.log'), readFileSync(LOCAL + 'aws-firehose.ndjson'));
    const res = await runDetect([dir]);
    expect(res.files[0]!.error).toBeUndefined();
    expect(res.partial).toBe(false);
    expect(res.totals).toMatchObject({ lines: 11, records: 4, nodata: 2, rejected: 4, blank: 1 });
    expect(res.rejects.map((r) => r.line)).toEqual([7, 8, 9, 10]);
  });
});
