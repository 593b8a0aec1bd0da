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
  {
    format: 'azure-nsg',
    kind: 'document',
    seeds: [
      "{\"records\":[{\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":\"/SUBSCRIPTIONS/11111111-AAAA-4000-8000-000000000001/RESOURCEGROUPS/RG1/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WEB-NSG\",\"properties\":{\"Version\":2,\"flows\":[{\"rule\":\"r\",\"flows\":[{\"mac\":\"000D3AF87856\",\"flowTuples\":[\"1709287200,45.33.1.1,10.0.0.4,51000,23,T,I,D,B,,,,\",\"1709287204,52.1.1.1,10.0.0.4,40000,443,T,I,A,C,10,1000,8,900\",\"1709287207,,,40000,443,T,I,A,E,3,120,1,60\"]}]}]}},{\"category\":\"NetworkSecurityGroupFlowEvent\",\"resourceId\":\"/SUBSCRIPTIONS/X/RESOURCEGROUPS/RG/PROVIDERS/MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/N\",\"properties\":{\"Version\":1,\"flows\":[{\"rule\":\"r\",\"flows\":[{\"mac\":\"000D3AF87856\",\"flowTuples\":[\"1487282421,192.0.2.95,10.1.0.4,51529,5358,T,I,D\"]}]}]}}]}",
    ],
  },
  {
    format: 'azure-vnet',
    kind: 'document',
    seeds: [
      "{\n \"records\": [\n  {\n   \"macAddress\": \"00224871C205\",\n   \"category\": \"FlowLogFlowEvent\",\n   \"flowLogResourceID\": \"/SUBSCRIPTIONS/0/RESOURCEGROUPS/NETWORKWATCHERRG/PROVIDERS/MICROSOFT.NETWORK/NETWORKWATCHERS/NW/FLOWLOGS/FL\",\n   \"targetResourceID\": \"/subscriptions/0/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/v\",\n   \"flowRecords\": {\n    \"flows\": [\n     {\n      \"aclID\": \"a\",\n      \"flowGroups\": [\n       {\n        \"rule\": \"Internet\",\n        \"flowTuples\": [\n         \"1663145998065,101.33.218.153,10.0.0.6,55188,22,6,I,D,NX,0,0,0,0\",\n         \"1663146003606,10.0.0.6,52.239.184.180,23956,443,6,O,E,NX,3,767,2,1580\"\n        ]\n       }\n      ]\n     }\n    ]\n   }\n  }\n ]\n}",
    ],
  },
  {
    format: 'gcp',
    kind: 'lines',
    seeds: [
      "{\"insertId\":\"x\",\"jsonPayload\":{\"bytes_sent\":\"0\",\"packets_sent\":\"3\",\"connection\":{\"src_ip\":\"45.33.1.1\",\"dest_ip\":\"10.0.0.2\",\"src_port\":51000,\"dest_port\":22,\"protocol\":6},\"dest_instance\":{\"project_id\":\"p\",\"region\":\"us-east1\",\"vm_name\":\"vm-1\",\"zone\":\"us-east1-b\"},\"reporter\":\"DEST\",\"start_time\":\"2024-03-01T10:00:00.999999999Z\",\"end_time\":\"2024-03-01T10:00:05.5Z\"},\"logName\":\"projects/p/logs/compute.googleapis.com%2Fvpc_flows\"}",
      "{\"jsonPayload\":{\"bytes_sent\":\"100\",\"packets_sent\":\"2\",\"connection\":{\"src_ip\":\"10.0.0.2\",\"dest_ip\":\"10.1.0.3\",\"src_port\":40000,\"dest_port\":5432,\"protocol\":6},\"src_instance\":{\"project_id\":\"p\"},\"dest_instance\":{\"project_id\":\"q\"},\"reporter\":\"SRC\",\"start_time\":\"2024-03-01T10:00:00Z\",\"end_time\":\"2024-03-01T10:00:01+02:00\"}}",
      "{\"jsonPayload\":{\"packets_sent\":\"20\",\"bytes_sent\":800,\"connection\":{\"src_ip\":\"2001:db8::1\",\"dest_ip\":\"2600::1\",\"protocol\":58},\"reporter\":\"SRC\",\"start_time\":\"2025-09-27T21:13:05.056628399Z\",\"end_time\":\"2025-09-27T21:13:05.056628399Z\"}}",
    ],
  },
  {
    format: 'gcp-json',
    kind: 'document',
    seeds: ["[\n{\"insertId\":\"x\",\"jsonPayload\":{\"bytes_sent\":\"0\",\"packets_sent\":\"3\",\"connection\":{\"src_ip\":\"45.33.1.1\",\"dest_ip\":\"10.0.0.2\",\"src_port\":51000,\"dest_port\":22,\"protocol\":6},\"dest_instance\":{\"project_id\":\"p\",\"region\":\"us-east1\",\"vm_name\":\"vm-1\",\"zone\":\"us-east1-b\"},\"reporter\":\"DEST\",\"start_time\":\"2024-03-01T10:00:00.999999999Z\",\"end_time\":\"2024-03-01T10:00:05.5Z\"},\"logName\":\"projects/p/logs/compute.googleapis.com%2Fvpc_flows\"},\n{\"jsonPayload\":{\"bytes_sent\":\"100\",\"packets_sent\":\"2\",\"connection\":{\"src_ip\":\"10.0.0.2\",\"dest_ip\":\"10.1.0.3\",\"src_port\":40000,\"dest_port\":5432,\"protocol\":6},\"src_instance\":{\"project_id\":\"p\"},\"dest_instance\":{\"project_id\":\"q\"},\"reporter\":\"SRC\",\"start_time\":\"2024-03-01T10:00:00Z\",\"end_time\":\"2024-03-01T10:00:01+02:00\"}}\n]", "{\n  \"insertId\": \"x\",\n  \"jsonPayload\": {\n    \"bytes_sent\": \"0\",\n    \"packets_sent\": \"3\",\n    \"connection\": {\n      \"src_ip\": \"45.33.1.1\",\n      \"dest_ip\": \"10.0.0.2\",\n      \"src_port\": 51000,\n      \"dest_port\": 22,\n      \"protocol\": 6\n    },\n    \"dest_instance\": {\n      \"project_id\": \"p\",\n      \"region\": \"us-east1\",\n      \"vm_name\": \"vm-1\",\n      \"zone\": \"us-east1-b\"\n    },\n    \"reporter\": \"DEST\",\n    \"start_time\": \"2024-03-01T10:00:00.999999999Z\",\n    \"end_time\": \"2024-03-01T10:00:05.5Z\"\n  },\n  \"logName\": \"projects/p/logs/compute.googleapis.com%2Fvpc_flows\"\n}"],
  },
  {
    format: 'aws-json',
    kind: 'lines',
    // one unit per line: a Firehose line, or an envelope of one event (an envelope of n events is n units)
    seeds: [
      "{\"message\": \"2 123456789012 eni-0a1b2c3d 45.33.1.1 10.0.0.5 51000 23 6 1 40 1709287200 1709287200 REJECT OK\"}",
      "{\"message\": \"2 123456789012 eni-0a1b2c3d - - - - - - - 1709287200 1709287260 - NODATA\"}",
      "{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"210987654321\",\"logEvents\":[{\"id\":\"1\",\"message\":\"2 123456789012 eni-0a1b2c3d 45.33.1.3 10.0.0.5 51000 23 6 1 40 1709287202 1709287202 REJECT OK\"}]}",
      "{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\",\"logEvents\":[{\"id\":\"\",\"message\":\"CWL CONTROL MESSAGE: Checking health of destination Firehose.\"}]}",
    ],
  },
  {
    format: 'aws-cloudwatch',
    kind: 'document',
    seeds: ["{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"210987654321\",\"logEvents\":[{\"id\":\"1\",\"message\":\"2 123456789012 eni-0a1b2c3d 45.33.1.3 10.0.0.5 51000 23 6 1 40 1709287202 1709287202 REJECT OK\"}]}{\"messageType\":\"DATA_MESSAGE\",\"owner\":\"210987654321\",\"logEvents\":[{\"id\":\"1\",\"message\":\"2 123456789012 eni-0a1b2c3d 45.33.1.4 10.0.0.5 51000 23 6 1 40 1709287202 1709287202 REJECT OK\"}]}\n{\n  \"messageType\": \"DATA_MESSAGE\",\n  \"owner\": \"210987654321\",\n  \"logEvents\": [\n    {\n      \"id\": \"1\",\n      \"message\": \"2 123456789012 eni-0a1b2c3d 45.33.1.3 10.0.0.5 51000 23 6 1 40 1709287202 1709287202 REJECT OK\"\n    }\n  ]\n}\n{\"messageType\":\"CONTROL_MESSAGE\",\"owner\":\"CloudwatchLogs\",\"logEvents\":[{\"id\":\"\",\"message\":\"CWL CONTROL MESSAGE: Checking health of destination Firehose.\"}]}"],
  },
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
    const known = new Set<string>(supportedFormats());
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
          // documents count units (an Azure tuple, a GCP entry, an AWS message): each has one fate too
          if (t.kind === 'document') expect(out.gap).toBe(0);
          if (t.kind === 'lines') {
            expect(c.lines).toBe(out.feederLines);
            expect(out.gap).toBe(0);
            // the physical lines of the input
            const nl = bytes.reduce((n, b) => n + (b === 10 ? 1 : 0), 0);
            expect(c.lines).toBe(nl + (bytes.length > 0 && bytes[bytes.length - 1] !== 10 ? 1 : 0));
          }
        }),
        { numRuns: 400, ...(process.env.FUZZ_SEED ? { seed: Number(process.env.FUZZ_SEED) } : {}) },
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
