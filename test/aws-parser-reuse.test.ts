import { describe, expect, it } from 'vitest';
import { FlowSink } from '../dist/src/flow/sink.js';
import { awsText } from '../dist/src/formats/aws.js';
import { setAwsReader } from '../dist/src/formats/aws-wasm.js';
import { formatAddress } from '../dist/src/net/address.js';

/**
 * A 'files' task reads its files one after another into one sink, and the AWS reader sets
 * the last file's parser up again for the next (AwsParser.openFile). Whatever belongs to a
 * file (account, region, layout, a bad header's error) must not leak into the next: the
 * rows of files read so must be the rows of each file read by a parser of its own.
 */
interface File {
  text: string;
  account: string;
  region: string;
  awsFields?: string[];
}

const V5 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type flow-direction';
const FILES: File[] = [
  // v2 without header: account from the lines, region from the path
  { text: '2 111111111111 eni-a 45.1.2.3 10.0.0.5 40000 22 6 1 40 1700000000 1700000060 REJECT OK\n2 111111111111 eni-a 10.0.0.5 8.8.8.8 40001 443 6 3 120 1700000000 1700000060 ACCEPT OK\n', account: '', region: 'eu-west-1' },
  // a custom layout with interface and instance (outbound rows keep them), no region in the path
  {
    text: `${V5}\n5 222222222222 eni-b 10.1.0.9 1.1.1.1 50000 3389 6 2 80 1700000100 1700000160 ACCEPT OK vpc-1 subnet-1 i-0b 2 IPv4 egress\n5 222222222222 eni-b 46.2.3.4 10.1.0.9 50001 23 6 1 40 1700000100 1700000160 REJECT OK vpc-1 subnet-1 i-0b 2 IPv4 ingress\n`,
    account: '', region: '',
  },
  // a field list from the plan that lacks needed fields: every line is rejected with its error
  { text: '1.2.3.4 5.6.7.8\n', account: '333333333333', region: 'us-east-1', awsFields: ['srcaddr', 'dstaddr'] },
  // no header after a file whose field list was bad: the default layout, no error
  { text: '2 666666666666 eni-f 49.1.1.1 10.4.0.4 43000 25 6 1 40 1700000400 1700000460 REJECT OK\n', account: '', region: 'eu-north-1' },
  // a layout without account-id: the account of the path
  {
    text: 'srcaddr dstaddr srcport dstport protocol start end\n47.9.9.9 10.2.0.1 41000 445 6 1700000200 1700000260\n',
    account: '444444444444', region: 'ap-south-1',
  },
  // no header after a custom layout: the default layout, not the last file's
  { text: '2 777777777777 eni-g 50.1.1.1 10.5.0.5 44000 21 6 1 40 1700000500 1700000560 REJECT OK\n', account: '', region: '' },
  // v2 again with a header, after all of the above
  { text: `version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n2 555555555555 eni-e 48.1.1.1 10.3.0.3 42000 80 6 1 40 1700000300 1700000360 REJECT OK\n`, account: '', region: 'sa-east-1' },
];

function rowsOf(batches: any[]): string[] {
  const rows: string[] = [];
  for (const b of batches) {
    for (let i = 0; i < b.n; i++) {
      rows.push([formatAddress(b.src, i * 4), formatAddress(b.dst, i * 4), b.sport[i], b.dport[i], b.proto[i], b.start[i], b.end[i], b.packets[i], b.bytes[i], b.feed[i], b.direction[i], b.tcpFlags[i],
        b.strings[b.account[i]], b.strings[b.region[i]], b.strings[b.iface[i]], b.strings[b.instance[i]]].join(' '));
    }
  }
  return rows;
}

function newSink(batches: any[]): FlowSink {
  return new FlowSink({ shards: 2, batchSize: 1024, maxRejectsKept: 100 }, (_s: number, b: any) => batches.push(b));
}

function readFile(sink: FlowSink, f: File) {
  const parser = awsText.open({ sink, file: 't', account: f.account, region: f.region, awsFields: f.awsFields } as any);
  const buf = Buffer.from(f.text);
  parser.parseLines(buf, 0, buf.length, 1, 0);
  return parser;
}

describe('AWS reader: one parser for the files of one sink', () => {
  for (const kind of ['wasm', 'js'] as const) {
    it(`reads each file as a parser of its own would (${kind} reader)`, () => {
      setAwsReader(kind);
      try {
        const alone: string[] = [];
        const aloneRejects: string[] = [];
        for (const f of FILES) {
          const batches: any[] = [];
          const sink = newSink(batches);
          readFile(sink, f);
          sink.flushAll();
          alone.push(...rowsOf(batches).sort());
          aloneRejects.push(...sink.rejects.map((r) => `${r.line} ${r.reason}`));
        }
        const batches: any[] = [];
        const sink = newSink(batches);
        const parsers = FILES.map((f) => readFile(sink, f));
        sink.flushAll();
        expect(new Set(parsers).size).toBe(1); // the same parser, set up again for each file
        expect(rowsOf(batches).sort()).toEqual(alone.sort());
        expect(sink.rejects.map((r) => `${r.line} ${r.reason}`)).toEqual(aloneRejects);
        expect(alone.length).toBe(8); // every record is a probe (inbound, or outbound from a private source)
        expect(alone.filter((r) => r.endsWith(' eni-b i-0b'))).toHaveLength(1); // the outbound record keeps its interface and instance
      } finally {
        setAwsReader('wasm');
      }
    });
  }
});
