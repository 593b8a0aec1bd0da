/**
 * Property-based tests over every reader (fast-check): random bytes, token soup and
 * mutated valid lines must never throw past the reader, never give more records than the
 * input has lines, and (line readers) account for every line exactly, whatever the read
 * boundaries. To cover a new reader, add one entry to TARGETS.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseWith } from './helpers/readers.js';
import { supportedFormats } from '../dist/src/formats/registry.js';

interface Target {
  format: string;
  /** Valid input lines (or documents) that mutations start from. */
  seeds: string[];
  /** Line readers: lines joined with '\n'. Document readers: one seed is one document. */
  kind: 'lines' | 'document';
}

const AWS_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const NF_LEGACY_HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,' +
  'mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';

const TARGETS: Target[] = [
  {
    format: 'aws-text',
    kind: 'lines',
    seeds: [
      AWS_HEADER,
      '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK',
      '2 123456789010 eni-1235b8ca123456789 45.33.32.156 10.0.0.5 51234 3389 6 1 40 1418530010 1418530070 REJECT OK',
      '2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA',
      '2 unknown eni-1235b8ca123456789 2001:db8::1 2600::5 443 50001 6 - - 1418530010 1418530070 ACCEPT OK',
    ],
  },
  {
    format: 'nfdump-csv',
    kind: 'lines',
    seeds: [
      NF_LEGACY_HEADER,
      '2024-03-01 10:00:01,2024-03-01 10:00:01,0.000,198.51.100.23,192.0.2.10,51234,3389,TCP,......S.,0,0,1,40,0,0,3,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,    0.000,    0.000,    0.000,192.0.2.1,0/0,1,2024-03-01 10:00:05.123',
      'Summary',
      'flows,bytes,packets,avg_bps,avg_pps,avg_bpp',
      '1,40,1,0,0,0',
      'firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows',
      '2024-03-01 10:00:02.010,0.000,1,45.1.2.3,0,10.0.0.9,8.0,1,84,1',
      '2024-03-01 10:00:02.010,1.500,17  ,2600::1,53,10.0.0.9,33434,1,84,1',
    ],
  },
  {
    format: 'goflow2',
    kind: 'lines',
    seeds: [
      '{"type":"SFLOW_5","time_received_ns":1681583295157626000,"sequence_num":2999,"sampling_rate":100,"sampler_address":"192.168.0.1","time_flow_start_ns":1681583295157626000,"time_flow_end_ns":1681583295157626000,"bytes":1500,"packets":1,"src_addr":"fd01::1","dst_addr":"fd01::2","etype":"IPv6","proto":"TCP","src_port":443,"dst_port":50001}',
      '{"Type":"SFLOW_5","TimeFlowEnd":1621820000,"TimeFlowStart":1621820000,"TimeReceived":1621820000,"Bytes":70,"Packets":1,"SamplingRate":100,"SamplerAddress":"192.168.1.254","DstAddr":"10.0.0.1","SrcAddr":"45.1.1.1","Proto":6,"ProtoName":"TCP","SrcPort":443,"DstPort":46344,"TCPFlags":16}',
      '{"type":"IPFIX","time_received_ns":1709287205000000000,"time_flow_start_ns":1709287201250000000,"bytes":40,"packets":1,"src_addr":"198.51.100.23","dst_addr":"192.0.2.10","proto":"ICMP","icmp_type":8,"icmp_code":0,"as_path":[1,{"x":"]}"}]}',
    ],
  },
  // { format: 'azure-nsg', kind: 'document', seeds: [...] },   <- one line per new reader
];

/** Mutations of bytes: flip, insert, delete, duplicate a span, truncate. */
const mutation = fc.record({
  kind: fc.constantFrom('flip', 'insert', 'delete', 'dup', 'truncate', 'newline'),
  pos: fc.nat(),
  byte: fc.integer({ min: 0, max: 255 }),
  len: fc.integer({ min: 1, max: 16 }),
});

function mutate(text: string, muts: Array<{ kind: string; pos: number; byte: number; len: number }>): Uint8Array {
  let b = Buffer.from(text);
  for (const m of muts) {
    const p = b.length === 0 ? 0 : m.pos % (b.length + 1);
    switch (m.kind) {
      case 'flip':
        if (p < b.length) b[p] = m.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, p), Buffer.from([m.byte]), b.subarray(p)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, p), b.subarray(Math.min(b.length, p + m.len))]);
        break;
      case 'dup':
        b = Buffer.concat([b.subarray(0, p), b.subarray(p, p + m.len), b.subarray(p)]);
        break;
      case 'truncate':
        b = b.subarray(0, p);
        break;
      case 'newline':
        b = Buffer.concat([b.subarray(0, p), Buffer.from('\n'), b.subarray(p)]);
        break;
    }
  }
  return new Uint8Array(b);
}

/** Pieces that readers care about, for token-soup inputs. */
const TOKENS = [
  ',', ' ', '"', '{', '}', '[', ']', ':', '.', '-', '\\', '\r', '\n', '\t', '0', '65536', '4294967296', '1681583295157626000',
  '1.2.3.4', '::1', 'fe80::1%eth0', 'TCP', 'ICMP6', 'Summary', 'NODATA', 'ACCEPT', '"src_addr"', '"proto"', '"time_received_ns"',
  '2024-02-30 10:00:00', '2024-03-01 10:00:01.250', '8.0', '\u00ff', '\ufffd', '\u0000', 'null', 'true', '1e999',
];

const inputs = (t: Target): fc.Arbitrary<{ bytes: Uint8Array; cuts: number[]; maxLine: number }> => {
  const seedText = t.kind === 'lines' ? fc.array(fc.constantFrom(...t.seeds), { minLength: 1, maxLength: 8 }).map((l) => l.join('\n')) : fc.constantFrom(...t.seeds);
  const mutated = fc.tuple(seedText, fc.array(mutation, { maxLength: 6 })).map(([s, m]) => mutate(s, m));
  const soup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((ts) => new Uint8Array(Buffer.from(ts.join(''))));
  const random = fc.uint8Array({ maxLength: 400 });
  const jsonish = fc.json({ maxDepth: 2 }).map((j) => new Uint8Array(Buffer.from(j)));
  const bytes = fc.oneof({ arbitrary: mutated, weight: 4 }, { arbitrary: soup, weight: 2 }, random, jsonish);
  return fc.record({
    bytes,
    cuts: fc.array(fc.nat({ max: 2000 }), { maxLength: 5 }),
    maxLine: fc.constantFrom(1 << 20, 64, 200),
  });
};

describe('fuzz: every reader survives hostile bytes', () => {
  it('covers every registered reader that is in TARGETS', () => {
    const known = new Set(supportedFormats());
    for (const t of TARGETS) expect(known.has(t.format), `${t.format} is registered`).toBe(true);
  });

  for (const t of TARGETS) {
    it(`${t.format}: never throws, records <= lines, every line accounted for`, () => {
      fc.assert(
        fc.property(inputs(t), ({ bytes, maxLine }) => {
          const out = parseWith(t.format, bytes, { maxLineBytes: maxLine });
          const c = out.counters;
          expect(c.records).toBeLessThanOrEqual(c.lines);
          expect(out.records.length).toBe(c.records);
          if (t.kind === 'lines') {
            expect(c.lines).toBe(out.feederLines);
            expect(out.gap).toBe(0);
            // the physical lines of the input
            const nl = bytes.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
            expect(c.lines).toBe(nl + (bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? 1 : 0));
          }
        }),
        { numRuns: 400 },
      );
    });

    if (t.kind === 'lines') {
      it(`${t.format}: the result does not depend on where reads cut the input`, () => {
        fc.assert(
          fc.property(inputs(t), ({ bytes, cuts, maxLine }) => {
            const whole = parseWith(t.format, bytes, { maxLineBytes: maxLine });
            const cut = parseWith(t.format, bytes, { maxLineBytes: maxLine, cuts });
            expect(cut.counters).toEqual(whole.counters);
            expect(cut.records).toEqual(whole.records);
            expect(cut.rejects.map((r) => [r.line, r.offset, r.reason])).toEqual(whole.rejects.map((r) => [r.line, r.offset, r.reason]));
          }),
          { numRuns: 300 },
        );
      });
    }
  }
});

describe('fuzz: exact values', () => {
  it('goflow2 nanosecond times above 2^53 become exact whole seconds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 100000000000000000n, max: 4294967295999999999n }), fc.bigInt({ min: 0n, max: 10000000000n }), (ns, dur) => {
        const end = ns + dur;
        const line = `{"time_received_ns":${end},"time_flow_start_ns":${ns},"time_flow_end_ns":${end},"src_addr":"45.1.2.3","dst_addr":"10.0.0.1","proto":6,"src_port":40000,"dst_port":22}`;
        const out = parseWith('goflow2', line);
        const start = Number(ns / 1_000_000_000n);
        const stop = Number(end / 1_000_000_000n);
        if (start < 1e8 || stop >= 2 ** 32) {
          expect(out.counters.rejected).toBe(1); // not a plausible time in nanoseconds
          return;
        }
        expect(out.records).toHaveLength(1);
        expect(out.records[0]!.start).toBe(start);
        expect(out.records[0]!.end).toBe(stop);
      }),
      { numRuns: 300 },
    );
  });

  it('nfdump date-times are read as UTC, to the second', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1e11, max: 4102444799999 }), (ms) => {
        const iso = new Date(ms).toISOString(); // 2024-03-01T10:00:01.250Z
        const ts = `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
        const out = parseWith('nfdump-csv', `firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows\n${ts},1.999,6,45.1.2.3,40000,10.0.0.1,22,1,40,1\n`);
        expect(out.records).toHaveLength(1);
        expect(out.records[0]!.start).toBe(Math.floor(ms / 1000));
        expect(out.records[0]!.end).toBe(Math.floor((ms + 1999) / 1000));
      }),
      { numRuns: 300 },
    );
  });
});
