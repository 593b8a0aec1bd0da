import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { FlowSink } from '../dist/src/flow/sink.js';
import { awsText, awsPathInfo } from '../dist/src/formats/aws.js';
import { formatAddress } from '../dist/src/net/address.js';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';

/** Parse text with the AWS reader; return the emitted rows as plain objects and the sink. */
function parse(text: string, ctx: Record<string, unknown> = {}) {
  const batches: any[] = [];
  const sink = new FlowSink({ shards: 1, batchSize: 1024, maxRejectsKept: 100 }, (_s: number, b: any) => batches.push(b));
  const parser = awsText.open({ sink, file: 't', account: '', region: '', ...ctx } as any);
  const buf = Buffer.from(text);
  parser.parseLines(buf, 0, buf.length, 1, 0);
  sink.flushAll();
  const rows: any[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.n; i++) {
      rows.push({
        src: formatAddress(b.src, i * 4), dst: formatAddress(b.dst, i * 4), sport: b.sport[i], dport: b.dport[i], proto: b.proto[i],
        packets: b.packets[i], bytes: b.bytes[i], start: b.start[i], end: b.end[i], account: b.strings[b.account[i]],
        region: b.strings[b.region[i]], iface: b.strings[b.iface[i]], instance: b.strings[b.instance[i]], direction: b.direction[i],
        tcpFlags: b.tcpFlags[i], feed: b.feed[i],
      });
    }
  }
  return { rows, sink };
}

const HDR = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

describe('AWS text reader', () => {
  it('reads the default v2 format with and without a header', () => {
    const line = '2 123456789010 eni-1235b8ca123456789 45.33.1.2 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';
    for (const text of [`${HDR}\n${line}\n`, `${line}\n`]) {
      const { rows, sink } = parse(text);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({ src: '45.33.1.2', dst: '172.31.16.21', sport: 20641, dport: 22, proto: 6, packets: 20, bytes: 4249, start: 1418530010, end: 1418530070, account: '123456789010', iface: '' }); // interface ids are kept for outbound records only (they name the source host of an alert)
      expect(sink.counters.records).toBe(1);
      expect(sink.counters.rejected).toBe(0);
    }
  });

  it('reads a custom field order (any subset with the needed fields)', () => {
    const text = [
      'srcaddr dstport start packets bytes protocol dstaddr srcport region flow-direction instance-id tcp-flags',
      '45.1.2.3 3389 1700000012 1 40 6 10.0.1.25 51234 eu-west-1 ingress i-0abc 2',
    ].join('\n');
    const { rows } = parse(text);
    expect(rows[0]).toMatchObject({ src: '45.1.2.3', dst: '10.0.1.25', sport: 51234, dport: 3389, region: 'eu-west-1', instance: '', direction: 1, tcpFlags: 2, start: 1700000012, end: 1700000012 });
  });

  it('splits on runs of whitespace and tolerates CRLF and blank lines', () => {
    const text = `${HDR}\r\n2  123456789010 eni-1 45.1.2.3\t10.0.0.62 5001 43638  6 1 40 1418530010 1418530070 ACCEPT OK\r\n\n`;
    const { rows, sink } = parse(text);
    expect(rows).toHaveLength(1); // public to private, srcport >= 1024: an inbound record
    expect(sink.counters.records).toBe(1);
    expect(sink.counters.rejected).toBe(0);
  });

  it("treats '-' counters as unknown, not zero", () => {
    const { rows } = parse(`${HDR}\n2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 23 6 - - 1418530010 1418530070 REJECT OK\n`);
    expect(Number.isNaN(rows[0].packets)).toBe(true);
    expect(Number.isNaN(rows[0].bytes)).toBe(true);
  });

  it('counts and skips NODATA and SKIPDATA records', () => {
    const text = [
      HDR,
      '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
      '2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA',
    ].join('\n');
    const { rows, sink } = parse(text);
    expect(rows).toHaveLength(0);
    expect(sink.counters.nodata).toBe(2);
    expect(sink.counters.records).toBe(0);
    expect(sink.counters.rejected).toBe(0);
  });

  it('keeps the account "unknown" as its own account', () => {
    const { rows } = parse(`2 unknown eni-1 45.1.2.3 10.0.0.1 40000 23 6 1 40 1418530010 1418530070 REJECT OK\n`);
    expect(rows[0].account).toBe('unknown');
  });

  it('reads IPv6 addresses and uses flow-direction', () => {
    const text = [
      'version srcaddr dstaddr srcport dstport protocol packets bytes start end flow-direction log-status',
      '5 2a01:4f8::1 2600:1f18::10 40000 22 6 1 60 1700000000 1700000000 ingress OK',
      '5 2600:1f18::10 2a01:4f8::1 22 40000 6 1 60 1700000000 1700000000 egress OK',
    ].join('\n');
    const { rows, sink } = parse(text);
    expect(rows).toHaveLength(1); // the egress record is a response (22 -> 40000)
    expect(rows[0]).toMatchObject({ src: '2a01:4f8::1', dst: '2600:1f18::10', direction: 1, feed: 1 });
    expect(sink.counters.responses).toBe(1);
  });

  it('rejects malformed lines with line number and reason, and goes on', () => {
    const text = [
      HDR,
      '2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 23 6 1 40 1418530010 1418530070 REJECT OK',
      '2 123456789010 eni-1 45.1.2.999 10.0.0.1 40000 23 6 1 40 1418530010 1418530070 REJECT OK',
      '2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 70000 6 1 40 1418530010 1418530070 REJECT OK',
      '2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 23 6 1 40 1418530010',
      '2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 23 6 1 40 1418530010 1418530070 REJECT OK extra',
      '2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 23 6 x 40 1418530010 1418530070 REJECT OK',
      '2 123456789010 eni-1 45.1.2.3 10.0.0.1 40000 23 6 1 40 1418530070 1418530010 REJECT OK',
      '2 123456789010 eni-1 45.1.2.4 10.0.0.1 40000 23 6 1 40 1418530010 1418530070 REJECT OK',
    ].join('\n');
    const { rows, sink } = parse(text);
    expect(rows).toHaveLength(2);
    expect(sink.counters.rejected).toBe(6);
    expect(sink.counters.lines).toBe(9);
    expect(sink.rejects.map((r: any) => r.line)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(sink.rejects[0].reason).toMatch(/srcaddr/);
    expect(sink.rejects[1].reason).toMatch(/port/);
    expect(sink.rejects[2].reason).toMatch(/expected 14 fields, got 11/);
    expect(sink.rejects[3].reason).toMatch(/got more/);
    expect(sink.rejects[4].reason).toMatch(/packets/);
    expect(sink.rejects[5].reason).toMatch(/end time before start/);
  });

  it('takes account and region from the S3 key layout', () => {
    expect(awsPathInfo('/b/AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/01/02/x.log.gz')).toEqual({ account: '123456789012', region: 'us-east-1' });
    expect(awsPathInfo('s3/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2024/x.log.gz')).toEqual({ account: '123456789012', region: 'eu-west-3' });
    expect(awsPathInfo('/tmp/flows.log')).toEqual({});
  });

  it('applies region from the path, gzip, directories and line numbers across chunks (end to end)', async () => {
    const dir = tempDir();
    const d = join(dir, 'AWSLogs', '111122223333', 'vpcflowlogs', 'ap-south-1', '2024', '01', '02');
    mkdirSync(d, { recursive: true });
    const lines = [HDR];
    for (let i = 0; i < 2000; i++) lines.push(`2 111122223333 eni-1 45.1.${i >> 8}.${i & 255} 10.0.0.1 40000 23 6 1 40 1700000000 1700000001 REJECT OK`);
    lines.push('this line is broken');
    writeFileSync(join(d, 'a.log.gz'), gzipSync(lines.join('\n') + '\n'));
    writeFileSync(join(dir, 'plain.log'), lines.join('\n') + '\n');
    // small chunks force several workers over one plain file
    const r = await runDetect([dir], { chunkBytes: 65536 });
    expect(r.totals.records).toBe(4000);
    expect(r.totals.rejected).toBe(2);
    expect(r.rejects.map((x: any) => [x.file.endsWith('a.log.gz') ? 'gz' : 'plain', x.line]).sort()).toEqual([['gz', 2002], ['plain', 2002]]);
    expect(r.files.find((f: any) => f.path.endsWith('a.log.gz'))!.gzip).toBe(true);
    expect(r.partial).toBe(false);
  });
});

describe('AWS text reader: the plain-v2 fast path', () => {
  /** Parse with the fast path switched off (every line through the general loop). */
  function parseGeneral(text: string) {
    const batches: any[] = [];
    const sink = new FlowSink({ shards: 1, batchSize: 1024, maxRejectsKept: 10_000 }, (_s: number, b: any) => batches.push(b));
    const parser: any = awsText.open({ sink, file: 't', account: '', region: '' } as any);
    parser.setRoles = function (roles: Uint8Array) {
      this.roles = roles;
      this.v2 = false;
    };
    const buf = Buffer.from(text);
    parser.parseLines(buf, 0, buf.length, 1, 0);
    sink.flushAll();
    return { batches, sink };
  }
  const rowsOf = (batches: any[]) =>
    batches.flatMap((b) => Array.from({ length: b.n }, (_, i) => JSON.stringify([
      formatAddress(b.src, i * 4), formatAddress(b.dst, i * 4), b.sport[i], b.dport[i], b.proto[i], b.packets[i], b.bytes[i], b.start[i],
      b.end[i], b.strings[b.account[i]], b.strings[b.iface[i]], b.action[i], b.feed[i], b.tcpFlags[i],
    ])));

  it('reads every line exactly as the general loop does, whatever is odd about it', () => {
    let x = 2463534242;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const pick = <T>(xs: T[]) => xs[rnd(xs.length)]!;
    // mostly plain values, one field in ten odd
    const odd = () => rnd(10) === 0;
    const src = () => (odd() ? pick(['010.1.2.3', '1.2.3', '256.1.1.1', '2001:db8::1', '-', '1.2.3.4.5', '0.0.0.0']) : `45.${rnd(256)}.${rnd(256)}.${rnd(256)}`);
    const dst = () => (odd() ? pick(['10.0.0.01', '2001:db8::2', '-', '45.1.1.1']) : `10.0.${rnd(4)}.${rnd(256)}`);
    const num = (plain: () => string) => (odd() ? pick(['-', '00080', '1'.repeat(18), '', '12a', '4294967296', '0', '70000']) : plain());
    const lines: string[] = [];
    for (let k = 0; k < 6000; k++) {
      const f = [
        odd() ? 'x' : '2',
        // numeric account ids are cached by value and digit count: leading zeros, 13 to 16 digits, slot collisions
        pick(['123456789012', '111122223333', 'unknown', '-', '0123456789012', '00123456789012', '123456789044', '123456789076', '99999999999999', '123456789012345', '1234567890123456', '12x456789012', '12345678901:', '/23456789012', '1234\u00e967890', '12345678\u007f012']),
        odd() ? pick(['-', 'eni-0a\r1b', 'eni\u00010a', 'eni-\u00e9\u00e9\u00e9', 'eni-0a1b2c3d4e5f6a7b8', 'eni-0a1b\t2c3d4e5f6a7b8']) : pick(['eni-0a1b2c3d', 'eni-9f8e7d6c', 'eni-0a1b2c3d4e5f6a7b8']),
        src(), dst(), num(() => String(1024 + rnd(60000))), num(() => pick(['22', '23', '445', '3389'])), odd() ? pick(['1', '-', '300']) : pick(['6', '17']),
        num(() => String(1 + rnd(9))), num(() => String(40 + rnd(400))),
        // start and end: ten digits are read four bytes at a time; the bytes around '0'..'9' must not pass
        odd() ? pick(['170000:000', '170000/000', '17000000a0', '1700000000\u00e9', '999999999', '12345678901', '170000000:']) : String(1700000000 + rnd(50000)),
        odd() ? pick(['-', '1699999999', '17000500/0', '17000500:0', '1700050000x']) : String(1700050000 + rnd(600)),
        odd() ? pick(['-', 'X']) : pick(['ACCEPT', 'REJECT']), odd() ? pick(['NODATA', 'SKIPDATA', 'OKAY', '-']) : 'OK',
      ];
      if (rnd(20) === 0) f.push('extra');
      if (rnd(20) === 0) f.pop();
      const sep = rnd(15) === 0 ? pick(['\t', '  ', ' \t']) : ' ';
      lines.push((rnd(30) === 0 ? ' ' : '') + f.join(sep) + (rnd(30) === 0 ? ' \r' : ''));
    }
    // the last line without its '\n' (read by the line's own path, not the run's)
    const text = lines.join('\n') + '\n' + lines[0];
    const fast = (() => {
      const batches: any[] = [];
      const sink = new FlowSink({ shards: 1, batchSize: 1024, maxRejectsKept: 10_000 }, (_s: number, b: any) => batches.push(b));
      const parser = awsText.open({ sink, file: 't', account: '', region: '' } as any);
      const buf = Buffer.from(text);
      parser.parseLines(buf, 0, buf.length, 1, 0);
      sink.flushAll();
      return { batches, sink };
    })();
    const general = parseGeneral(text);
    expect(fast.sink.counters).toEqual(general.sink.counters);
    expect(fast.sink.rejects).toEqual(general.sink.rejects);
    const a = rowsOf(fast.batches);
    expect(a).toEqual(rowsOf(general.batches));
    expect(a.length).toBeGreaterThan(1000); // plenty of lines took the fast path
    // and the accounts that differ only in leading zeros stayed apart
    const accounts = new Set(fast.batches.flatMap((b: any) => Array.from(b.account.subarray(0, b.n), (id: number) => b.strings[id])));
    expect(accounts).toContain('0123456789012');
    expect(accounts).toContain('00123456789012');
    expect(accounts).toContain('123456789012');
  });
});
