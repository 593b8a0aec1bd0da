/**
 * NetFlow / IPFIX readers: nfdump `-o csv` (every layout of formats.md §4.1) and goflow2
 * JSON (v1 and v2, §4.2), on the public fixtures (counts from fixtures/README.md) and on
 * constructed lines, then end to end through detect().
 *
 * Fixtures are read from ../shared/fixtures (or $FLOWSIEVE_FIXTURES, for worktrees that
 * sit elsewhere); those tests are skipped with a message when the folder is absent.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, tempDir } from './helpers/tmp.js';
import { parseWith } from './helpers/readers.js';
import { detectOpts } from './helpers/detect-opts.js';
import { sniffFormat } from '../dist/src/formats/sniff.js';
import { detect } from '../dist/src/engine/run.js';

const FIX = process.env.FLOWSIEVE_FIXTURES ?? FIXTURES;
const haveFixtures = existsSync(join(FIX, 'netflow'));
if (!haveFixtures) console.warn(`formats-netflow: fixtures not found at ${FIX}: fixture tests skipped`);

const OTHER = 3; // Cloud.other
const sniff = (text: string) => sniffFormat(new Uint8Array(Buffer.from(text)), 'x');
/** A pretty-printed JSON document on one line (what jq -c does, for these flat objects). */
const compact = (text: string) => text.split('\n').map((l) => l.trim()).join('');

const LEGACY_HEADER =
  'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,' +
  'mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr';
const legacyLine = (ts: string, te: string, sa: string, da: string, sp: number, dp: number | string, pr: string, flg = '......S.', pkts = 1, byts = 40) =>
  `${ts},${te},0.000,${sa},${da},${sp},${dp},${pr},${flg},0,0,${pkts},${byts},0,0,3,0,0,0,0,0,0,0,0.0.0.0,0.0.0.0,0,0,` +
  '00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,' +
  `    0.000,    0.000,    0.000,192.0.2.1,0/0,1,${te}.123`;
const CSV_HEADER = 'firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows';
const FAST_HEADER = 'cnt,af,firstSeen,lastSeen,proto,srcAddr,srcPort,dstAddr,dstPort,srcAS,dstAS,input,output,flags,srcTos,packets,bytes';
/** An nfdump 1.7.x layout seen in the wild: 35 columns, times with milliseconds (no column count can name it). */
const MID_HEADER = 'ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,ra,eng,exid,tr';
const midLine = (i: number) =>
  `2023-11-14 22:13:${String(i % 60).padStart(2, '0')}.000,2023-11-14 22:13:${String(i % 60).padStart(2, '0')}.500,0.500,45.77.1.${1 + (i % 200)},10.5.${i >> 8}.${i & 255},` +
  `${40000 + i},22,TCP,....S.,0,0,1,60,0,0,1,2,64500,15169,24,32,0,0,0.0.0.0,0.0.0.0,0,0,0,0,0,0,192.168.1.1,0,0,0`;

describe('nfdump -o csv', () => {
  it.skipIf(!haveFixtures)('fixture nftest.1.out (nfdump -o raw, 35 Flow Record blocks) is not taken for CSV', () => {
    const text = readFileSync(join(FIX, 'netflow/nfdump/nftest.1.out'), 'utf8');
    expect(sniff(text)).toBeNull();
    // forced: every non-blank line is rejected with its line number, nothing is a record
    const out = parseWith('nfdump-csv', text);
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    const blank = text.split('\n').slice(0, lines).filter((l) => l.trim() === '').length;
    expect(lines).toBe(1283);
    expect(out.counters.records).toBe(0);
    expect(out.counters.blank).toBe(blank);
    expect(out.counters.rejected).toBe(lines - blank);
    expect(out.rejects.filter((r) => r.text.startsWith('Flow Record:'))).toHaveLength(35);
    expect(out.gap).toBe(0);
  });

  it('reads the legacy 48-column layout and stops at the Summary trailer', () => {
    const text = [
      LEGACY_HEADER,
      legacyLine('2024-03-01 10:00:01', '2024-03-01 10:00:03', '45.33.32.156', '10.0.0.10', 51234, 3389, 'TCP'),
      legacyLine('2024-03-01 10:00:02', '2024-03-01 10:00:02', '45.33.32.156', '10.0.0.11', 0, 2048, 'ICMP', '........'),
      legacyLine('2024-03-01 10:00:02', '2024-03-01 10:00:02', '2600:1f18::1', 'fd00::5', 5353, 5353, '  17 ', '.AP.SF', 3, 300),
      '',
      'Summary',
      'flows,bytes,packets,avg_bps,avg_pps,avg_bpp',
      '3,380,5,0,0,0',
    ].join('\n');
    expect(sniff(text)).toBe('nfdump-csv');
    const out = parseWith('nfdump-csv', text, { account: 'router-1', region: 'zrh' });
    expect(out.counters).toMatchObject({ lines: 8, records: 3, rejected: 0, headers: 1, blank: 1, trailers: 3, nodata: 0 });
    expect(out.gap).toBe(0);
    expect(out.records[0]).toMatchObject({
      line: 2, src: '45.33.32.156', dst: '10.0.0.10', sport: 51234, dport: 3389, proto: 6, tcpFlags: 2, packets: 1, bytes: 40,
      start: Date.UTC(2024, 2, 1, 10, 0, 1) / 1000, end: Date.UTC(2024, 2, 1, 10, 0, 3) / 1000,
      cloud: OTHER, direction: 0, account: 'router-1', region: 'zrh', iface: '192.0.2.1',
    });
    expect(out.records[1]).toMatchObject({ proto: 1, sport: 0, dport: 2048, tcpFlags: 0 });
    expect(out.records[2]).toMatchObject({ src: '2600:1f18::1', dst: 'fd00::5', proto: 17, tcpFlags: 0x1b, packets: 3, bytes: 300 });
    // no direction in the format: detection.md §3's public/private rule makes all three inbound,
    // and the ICMP echo request (dport 8.0 = 2048 from port 0) is not taken for a response
    expect(out.counters.inbound).toBe(3);
    expect(out.counters.responses).toBe(0);
  });

  it('reads the 1.7.5+ layout: numeric protocols, ICMP type.code, end = start + duration', () => {
    const text = [
      CSV_HEADER,
      '2024-03-01 10:00:01.250,0.000,6,198.51.100.23,51234,192.0.2.10,3389,1,40,1',
      '2024-03-01 10:00:02.010,2.999,1,198.51.100.23,0,192.0.2.10,8.0,1,84,1',
      '2024-03-01 10:00:02.010,0.100,58,2001:db8::1,0,2001:db8::2,128.0,1,84,1',
      '2024-03-01 10:00:02.010,0.100,  47 ,45.1.2.3,0,10.1.1.1,0,5,500,1',
    ].join('\n') + '\n';
    expect(sniff(text)).toBe('nfdump-csv');
    const out = parseWith('nfdump-csv', text);
    expect(out.counters).toMatchObject({ lines: 5, records: 4, rejected: 0, headers: 1 });
    expect(out.records.map((r) => [r.proto, r.dport, r.start, r.end])).toEqual([
      [6, 3389, 1709287201, 1709287201],
      [1, 2048, 1709287202, 1709287205],
      [58, 128 * 256, 1709287202, 1709287202],
      [47, 0, 1709287202, 1709287202],
    ]);
  });

  it('reads csv-fast (epoch milliseconds) and rejects a time in the wrong unit', () => {
    const text = [
      FAST_HEADER,
      '1,2,1709287201250,1709287203999,6,45.1.2.3,40000,10.0.0.1,22,0,0,0,0,......S.,0,1,40',
      '1,10,1709287201250,1709287201250,17,2600::1,53,fd00::1,53,0,0,0,0,........,0,1,80',
      '1,2,1709287201,1709287201,6,45.1.2.3,40000,10.0.0.1,22,0,0,0,0,......S.,0,1,40', // seconds, not ms
    ].join('\n');
    expect(sniff(text)).toBe('nfdump-csv');
    const out = parseWith('nfdump-csv', text);
    expect(out.counters).toMatchObject({ records: 2, rejected: 1, headers: 1 });
    expect(out.records[0]).toMatchObject({ start: 1709287201, end: 1709287203, tcpFlags: 2 });
    expect(out.rejects[0]).toMatchObject({ line: 4 });
    expect(out.rejects[0]!.reason).toMatch(/wrong unit/);
  });

  it('a chunk past the header takes the layout from the file header; headerless files go by column count', () => {
    const body = [midLine(1), midLine(2)].join('\n');
    // a later chunk of a 35-column file: no header in the chunk, the worker passes the file's first line
    expect(parseWith('nfdump-csv', body, { headerLine: MID_HEADER }).counters).toMatchObject({ records: 2, rejected: 0 });
    // without it the layout cannot be known: rejected, with the reason
    const blind = parseWith('nfdump-csv', body);
    expect(blind.counters).toMatchObject({ records: 0, rejected: 2 });
    expect(blind.rejects[0]!.reason).toMatch(/no nfdump CSV header/);
    // nfdump -q (no header) in a predefined layout: known by its 10 / 48 columns
    const quiet = '2024-03-01 10:00:01.250,0.000,6,45.1.2.3,51234,10.0.0.1,3389,1,40,1\n';
    expect(sniff(quiet)).toBe('nfdump-csv');
    expect(parseWith('nfdump-csv', quiet).counters).toMatchObject({ records: 1, headers: 0 });
  });

  it('rejects bad fields with the column named, and a header that lacks a needed column', () => {
    const text = [
      CSV_HEADER,
      '2024-03-01 10:00:01.250,0.000,6,45.1.2.300,51234,10.0.0.1,3389,1,40,1',
      '2024-03-01 10:00:01.250,0.000,6,45.1.2.3,70000,10.0.0.1,3389,1,40,1',
      '2024-03-01 10:00:01.250,0.000,BOGUS,45.1.2.3,1,10.0.0.1,3389,1,40,1',
      '2024-02-30 10:00:01.250,0.000,6,45.1.2.3,1,10.0.0.1,3389,1,40,1',
      '2024-03-01 10:00:01.250,0.000,6,45.1.2.3,1,10.0.0.1,300.1,1,40,1',
      '2024-03-01 10:00:01.250,0.000,6,45.1.2.3,1,10.0.0.1',
      'firstSeen,duration,srcAddr,dstAddr,packets',
      '2024-03-01 10:00:01.250,0.000,45.1.2.3,10.0.0.1,1',
    ].join('\n');
    const out = parseWith('nfdump-csv', text);
    expect(out.counters).toMatchObject({ records: 0, rejected: 8, headers: 1 });
    expect(out.gap).toBe(0);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'bad address (source address)'],
      [3, 'port out of range 0..65535'],
      [4, 'unknown protocol (protocol)'],
      [5, 'bad time (first seen)'],
      [6, 'bad port (destination port)'],
      [7, 'expected 10 columns, got 6'],
      [8, expect.stringMatching(/^header: nfdump CSV header lacks source port/)],
      [9, expect.stringMatching(/^header: nfdump CSV header lacks/)],
    ]);
  });

  it('starts reading again at a header after a Summary (concatenated outputs)', () => {
    const one = [LEGACY_HEADER, legacyLine('2024-03-01 10:00:01', '2024-03-01 10:00:01', '45.1.2.3', '10.0.0.1', 1, 22, 'TCP'), 'Summary', 'flows,bytes,packets,avg_bps,avg_pps,avg_bpp', '1,40,1,0,0,0'];
    const out = parseWith('nfdump-csv', [...one, ...one].join('\n'));
    expect(out.counters).toMatchObject({ lines: 10, records: 2, headers: 2, trailers: 6, rejected: 0 });
  });
});

describe('goflow2 JSON', () => {
  it.skipIf(!haveFixtures)('fixture README.example-v2.json: pretty-printed (rejected with a hint), compacted it is 1 exact record', () => {
    const text = readFileSync(join(FIX, 'netflow/goflow2/README.example-v2.json'), 'utf8');
    expect(sniff(text)).toBe('goflow2');
    const raw = parseWith('goflow2', text);
    expect(raw.counters).toMatchObject({ lines: 17, records: 0, rejected: 17 });
    expect(raw.rejects[0]!.reason).toMatch(/pretty-printed.*jq -c/);
    const out = parseWith('goflow2', compact(text), { account: 'exporter-a' });
    expect(out.counters).toMatchObject({ lines: 1, records: 1, rejected: 0 });
    // time_received_ns 1681583295157626000 > 2^53: whole seconds exactly; sampling_rate 100 scales the counts
    expect(out.records[0]).toEqual({
      line: 1, src: 'fd01::1', dst: 'fd01::2', sport: 443, dport: 50001, proto: 6, tcpFlags: -1, packets: 100, bytes: 150000,
      start: 1681583295, end: 1681583295, cloud: OTHER, direction: 0, account: 'exporter-a', region: '', iface: '192.168.0.1',
    });
  });

  it.skipIf(!haveFixtures)('fixture README-v1.3.7.example-v1.txt: sniffed as goflow2 v1, its elided JSON rejected; repaired, 1 record', () => {
    const text = readFileSync(join(FIX, 'netflow/goflow2/README-v1.3.7.example-v1.txt'), 'utf8');
    expect(sniff(text)).toBe('goflow2');
    const broken = parseWith('goflow2', compact(text));
    expect(broken.counters).toMatchObject({ records: 0, rejected: 1 });
    expect(broken.rejects[0]!.reason).toMatch(/malformed JSON/);
    const repaired = compact(text.replace(/^\s*\.\.\.\n/m, '').replace(/,\s*}\s*$/, '}'));
    const out = parseWith('goflow2', repaired);
    expect(out.counters).toMatchObject({ records: 1, rejected: 0 });
    expect(out.records[0]).toMatchObject({
      src: '192.168.1.1', dst: '10.0.0.1', sport: 443, dport: 46344, proto: 6, tcpFlags: 16, packets: 100, bytes: 7000,
      start: 1621820000, end: 1621820000, iface: '192.168.1.254',
    });
  });

  it('reads v2 lines: protocol names or numbers, ICMP type/code, no-address flows as no data', () => {
    const lines = [
      // formats.md §4.2 constructed inbound SYN probe
      '{"type":"IPFIX","time_received_ns":1709287205000000000,"sequence_num":88123,"sampling_rate":0,"sampler_address":"192.0.2.1","time_flow_start_ns":1709287201250000000,"time_flow_end_ns":1709287201250000000,"bytes":40,"packets":1,"src_addr":"198.51.100.23","dst_addr":"192.0.2.10","etype":"IPv4","proto":"TCP","src_port":51234,"dst_port":3389,"in_if":3,"out_if":0,"tcp_flags":2}',
      '{"time_received_ns":1709287205000000000,"src_addr":"45.1.2.3","dst_addr":"10.0.0.1","proto":"ICMP","icmp_type":8,"icmp_code":0,"bytes":84,"packets":1}',
      '{"time_received_ns":"1709287205000000000","src_addr":"2600::1","dst_addr":"fd00::1","proto":"IPv6-ICMP","icmp_type":128,"bytes":"64","packets":"1","as_path":[64500,{"k":"}]"}],"bgp_communities":[]}',
      '{"time_received_ns":1709287205000000000,"src_addr":"45.1.2.3","dst_addr":"10.0.0.1","proto":17,"src_port":5353,"dst_port":5353}',
      '',
      '{"type":"SFLOW_5","time_received_ns":1709287205000000000,"etype":"ARP","src_addr":"","dst_addr":"","proto":""}',
    ];
    const text = lines.join('\n');
    expect(sniff(text)).toBe('goflow2');
    const out = parseWith('goflow2', text);
    expect(out.counters).toMatchObject({ lines: 6, records: 4, nodata: 1, blank: 1, rejected: 0 });
    expect(out.gap).toBe(0);
    expect(out.records.map((r) => [r.proto, r.sport, r.dport, r.start, r.end, r.packets, r.bytes, r.tcpFlags])).toEqual([
      [6, 51234, 3389, 1709287201, 1709287201, 1, 40, 2],
      [1, 0, 8 * 256, 1709287205, 1709287205, 1, 84, -1],
      [58, 0, 128 * 256, 1709287205, 1709287205, 1, 64, -1],
      [17, 5353, 5353, 1709287205, 1709287205, NaN, NaN, -1],
    ]);
  });

  it('rejects what it cannot trust, naming the field', () => {
    const base = '"time_received_ns":1709287205000000000,"src_addr":"45.1.2.3","dst_addr":"10.0.0.1","proto":6';
    const cases: Array<[string, RegExp]> = [
      [`{${base},"time_flow_start_ns":1709287201}`, /not a plausible time in nanoseconds \(wrong unit\?\)/],
      [`{"TimeReceived":1709287205000,"SrcAddr":"45.1.2.3","DstAddr":"10.0.0.1","Proto":6}`, /not a plausible time in seconds/],
      [`{${base},"dst_port":70000}`, /port out of range/],
      [`{"time_received_ns":1709287205000000000,"src_addr":"45.1.2.300","dst_addr":"10.0.0.1","proto":6}`, /bad src_addr/],
      [`{"time_received_ns":1709287205000000000,"src_addr":"45.1.2.3","dst_addr":"10.0.0.1","proto":""}`, /protocol name not known/],
      [`{"time_received_ns":1709287205000000000,"src_addr":"45.1.2.3","dst_addr":"10.0.0.1"}`, /no protocol/],
      [`{"src_addr":"45.1.2.3","dst_addr":"10.0.0.1","proto":6}`, /no time/],
      [`{"time_received_ns":1709287205000000000,"src_addr":"45.1.2.3","proto":6}`, /no destination address/],
      [`{${base},"bytes":-5}`, /bad bytes/],
      [`{${base},"bytes":1.5}`, /bad bytes/],
      [`{${base}`, /object not closed/],
      [`{${base}} trailing`, /text after the object/],
      [`{${base},"x":[1,2}`, /malformed JSON/],
      [`{"foo":1}`, /no known key/],
      ['[1,2,3]', /not a JSON object/],
    ];
    const out = parseWith('goflow2', cases.map(([l]) => l).join('\n'));
    expect(out.counters.records).toBe(0);
    expect(out.counters.rejected).toBe(cases.length);
    cases.forEach(([, why], i) => expect(out.rejects[i]!.reason, cases[i]![0]).toMatch(why));
  });
});

describe('NetFlow end to end', () => {
  const dir = tempDir('flowsieve-netflow-');

  it('finds a scanner across nfdump and goflow2 files; chunked files read as whole ones', async () => {
    // 12 endpoints probed on 22/TCP: 6 in a 35-column nfdump file cut into many chunks, 6 in goflow2
    const nf = [MID_HEADER];
    for (let i = 0; i < 400; i++) nf.push(midLine(i).replace(/^([^,]*,[^,]*,[^,]*,)45\.77\.1\.\d+,/, i < 6 ? '$145.77.1.1,' : '$145.77.9.9,'));
    const nfPath = join(dir, 'flows.csv');
    writeFileSync(nfPath, nf.join('\n') + '\n');
    const gf: string[] = [];
    for (let i = 0; i < 6; i++) {
      gf.push(`{"type":"NETFLOW_V9","time_received_ns":1700000010${i}00000000,"time_flow_start_ns":1700000000${i}00000000,"src_addr":"45.77.1.1","dst_addr":"10.9.0.${i}","proto":"TCP","src_port":${41000 + i},"dst_port":22,"bytes":60,"packets":1,"sampler_address":"192.0.2.7"}`);
    }
    const gfPath = join(dir, 'goflow2.json');
    writeFileSync(gfPath, gf.join('\n') + '\n');
    const size = readFileSync(nfPath).length;
    const r = await detect(detectOpts([nfPath, gfPath], { chunkBytes: 4096, account: 'campus', cloud: 'other' }));
    expect(size).toBeGreaterThan(8 * 4096); // really chunked
    expect(r.partial).toBe(false);
    const [nfRep, gfRep] = r.files;
    expect(nfRep).toMatchObject({ format: 'nfdump-csv' });
    expect(nfRep.counters).toMatchObject({ lines: 401, records: 400, rejected: 0, headers: 1 });
    expect(gfRep).toMatchObject({ format: 'goflow2' });
    expect(gfRep.counters).toMatchObject({ lines: 6, records: 6, rejected: 0 });
    const scan = r.scans.find((v: any) => v.src === '45.77.1.1');
    expect(scan).toBeDefined();
    expect(scan).toMatchObject({ protocol: 6, dstPort: 22, endpoints: 12, clouds: 1, flows: 12 });
  });
});
