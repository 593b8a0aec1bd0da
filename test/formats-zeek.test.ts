/**
 * Zeek conn.log (formats.md §4.3): TSV and JSON, field mapping, conn_state, sniffing,
 * bad lines, other Zeek logs, and verdicts end to end (inbound scan, backscatter, a
 * later chunk of a large file that starts past the #fields line).
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { parseWith } from './helpers/readers.js';
import { runDetect } from './helpers/run.js';
import { sniffFormat } from '../dist/src/formats/sniff.js';

const sniff = (text: string) => sniffFormat(new Uint8Array(Buffer.from(text)), 'x');
const FIELDS = ['ts', 'uid', 'id.orig_h', 'id.orig_p', 'id.resp_h', 'id.resp_p', 'proto', 'service', 'duration', 'orig_bytes', 'resp_bytes',
  'conn_state', 'local_orig', 'local_resp', 'missed_bytes', 'history', 'orig_pkts', 'orig_ip_bytes', 'resp_pkts', 'resp_ip_bytes', 'tunnel_parents'];
const TYPES = ['time', 'string', 'addr', 'port', 'addr', 'port', 'enum', 'string', 'interval', 'count', 'count', 'string', 'bool', 'bool', 'count', 'string',
  'count', 'count', 'count', 'count', 'set[string]'];
const HEAD = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn', '#open\t2024-03-01-10-00-00',
  `#fields\t${FIELDS.join('\t')}`, `#types\t${TYPES.join('\t')}`];
const T0 = 1709287200; // 2024-03-01T10:00:00Z

interface Conn { ts: number; src: string; sp: number; dst: string; dp: number; proto?: string; dur?: string; ob?: string; state: string; lo?: string; lr?: string; pk?: string; ipb?: string }
const tsv = (c: Conn) =>
  [c.ts.toFixed(6), 'CAbc1', c.src, c.sp, c.dst, c.dp, c.proto ?? 'tcp', '-', c.dur ?? '-', c.ob ?? '0', '0', c.state, c.lo ?? '-', c.lr ?? '-', 0, 'S',
    c.pk ?? '1', c.ipb ?? '44', '0', '0', '(empty)'].join('\t');
const json = (c: Conn) =>
  JSON.stringify({ ts: c.ts, uid: 'CAbc1', 'id.orig_h': c.src, 'id.orig_p': c.sp, 'id.resp_h': c.dst, 'id.resp_p': c.dp, proto: c.proto ?? 'tcp',
    ...(c.dur ? { duration: Number(c.dur) } : {}), orig_bytes: Number(c.ob ?? 0), resp_bytes: 0, conn_state: c.state,
    ...(c.lo ? { local_orig: c.lo === 'T' } : {}), ...(c.lr ? { local_resp: c.lr === 'T' } : {}), missed_bytes: 0, history: 'S',
    orig_pkts: Number(c.pk ?? 1), orig_ip_bytes: Number(c.ipb ?? 44), resp_pkts: 0, resp_ip_bytes: 0 });

describe('Zeek conn.log reader', () => {
  const conns: Conn[] = [
    { ts: T0 + 0.25, src: '45.9.1.1', sp: 40001, dst: '10.0.0.5', dp: 22, dur: '2.900000', state: 'S0', pk: '2', ipb: '88' },
    { ts: T0 + 1, src: '45.9.1.1', sp: 40002, dst: '10.0.0.6', dp: 23, state: 'REJ', lo: 'F', lr: 'T' },
    { ts: T0 + 2, src: '10.0.0.7', sp: 50000, dst: '81.1.1.1', dp: 443, dur: '61.5', ob: '1200', state: 'SF', lo: 'T', lr: 'F', pk: '12', ipb: '-' },
    { ts: T0 + 3, src: '45.9.1.2', sp: 8, dst: '10.0.0.5', dp: 0, proto: 'icmp', state: 'OTH' },
    { ts: T0 + 4, src: '2001:db8::1', sp: 128, dst: '2001:db8::2', dp: 0, proto: 'icmp', state: 'OTH' },
    { ts: T0 + 5, src: '45.9.1.3', sp: 25565, dst: '10.0.0.5', dp: 80, state: 'SHR', pk: '0', ipb: '0' },
    { ts: T0 + 6, src: '45.9.1.4', sp: 5060, dst: '10.0.0.5', dp: 5060, proto: 'udp', state: 'S0', pk: '-', ipb: '-', ob: '-' },
  ];
  const expected = [
    { src: '45.9.1.1', dst: '10.0.0.5', sport: 40001, dport: 22, proto: 6, packets: 2, bytes: 88, start: T0, end: T0 + 3, direction: 0, tcpFlags: -1 },
    { src: '45.9.1.1', dst: '10.0.0.6', sport: 40002, dport: 23, proto: 6, packets: 1, bytes: 44, start: T0 + 1, end: T0 + 1, direction: 1, tcpFlags: -1 },
    { src: '10.0.0.7', dst: '81.1.1.1', sport: 50000, dport: 443, proto: 6, packets: 12, bytes: 1200, start: T0 + 2, end: T0 + 63, direction: 2, tcpFlags: -1 },
    { src: '45.9.1.2', dst: '10.0.0.5', sport: 0, dport: 2048, proto: 1, packets: 1, bytes: 44, start: T0 + 3, end: T0 + 3, direction: 0, tcpFlags: -1 },
    { src: '2001:db8::1', dst: '2001:db8::2', sport: 0, dport: 128 * 256, proto: 58, packets: 1, bytes: 44, start: T0 + 4, end: T0 + 4, direction: 0, tcpFlags: -1 },
    { src: '45.9.1.3', dst: '10.0.0.5', sport: 25565, dport: 80, proto: 6, packets: 0, bytes: 0, start: T0 + 5, end: T0 + 5, direction: 0, tcpFlags: 18 },
    { src: '45.9.1.4', dst: '10.0.0.5', sport: 5060, dport: 5060, proto: 17, packets: NaN, bytes: NaN, start: T0 + 6, end: T0 + 6, direction: 0, tcpFlags: -1 },
  ];
  const pick = (r: object) => Object.fromEntries(Object.keys(expected[0]!).map((k) => [k, (r as Record<string, unknown>)[k]]));

  it('reads the TSV form: #fields, - unset, (empty), conn_state, local_orig/local_resp, ICMP type and code', () => {
    const text = [...HEAD, ...conns.map(tsv), '#close\t2024-03-01-11-00-00'].join('\n') + '\n';
    expect(sniff(text)).toBe('zeek');
    const out = parseWith('zeek', text);
    expect(out.rejects).toEqual([]);
    expect(out.records.map(pick)).toEqual(expected);
    expect(out.counters.headers).toBe(HEAD.length + 1);
    expect(out.gap).toBe(0);
    // a chunk that starts past the header learns the columns from the planner's header line
    const later = parseWith('zeek', conns.map(tsv).join('\n') + '\n', { headerLine: HEAD[6] });
    expect(later.records.map(pick)).toEqual(expected);
  });

  it('reads the JSON form (epoch and ISO ts, booleans) the same', () => {
    const text = conns.map(json).join('\n') + '\n';
    expect(sniff(text)).toBe('zeek');
    const out = parseWith('zeek', text);
    expect(out.rejects).toEqual([]);
    expect(out.records.map(pick)).toEqual(expected);
    const iso = parseWith('zeek', json(conns[0]!).replace(/"ts":[\d.]+/, '"ts":"2024-03-01T10:00:00.250000Z"') + '\n');
    expect(iso.records.map(pick)).toEqual([expected[0]]);
  });

  it('rejects bad lines with the reason, and refuses other Zeek logs', () => {
    const bad = [...HEAD, tsv(conns[0]!).replace('45.9.1.1', '45.9.1'), tsv(conns[0]!).replace('\t22\t', '\t70000\t'),
      tsv(conns[0]!).split('\t').slice(0, 10).join('\t'), tsv({ ...conns[0]!, proto: 'unknown_transport' })].join('\n');
    const out = parseWith('zeek', bad);
    expect(out.rejects.map((r) => [r.line, r.reason])).toEqual([
      [9, 'bad address (id.orig_h)'], [10, 'bad port (id.resp_p)'], [11, 'expected 21 fields, got 10'], [12, 'unknown_transport: not a TCP, UDP or ICMP flow'],
    ]);
    const dns = HEAD.map((l) => (l === '#path\tconn' ? '#path\tdns' : l)).join('\n') + '\n' + tsv(conns[0]!) + '\n';
    const d = parseWith('zeek', dns);
    expect(d.records).toHaveLength(0);
    expect(d.rejects.map((r) => r.reason)).toEqual(['a Zeek dns log, not conn.log: its records are not flows', 'a Zeek dns log, not conn.log: its records are not flows']);
    const j = parseWith('zeek', json(conns[0]!).replace('{', '{"_path":"dns",') + '\n' + json(conns[0]!).slice(0, 40) + '\n');
    expect(j.rejects.map((r) => r.reason)).toEqual(['a Zeek dns record, not conn', expect.stringMatching(/^bad JSON: /)]);
  });

  it('detect: an inbound scan from a Zeek sensor (gzip TSV), its backscatter and responses left out', async () => {
    const dir = tempDir();
    const lines = [...HEAD];
    // 45.77.7.7 probes TCP 445 of 14 hosts: S0 and REJ
    for (let k = 0; k < 14; k++) lines.push(tsv({ ts: T0 + k, src: '45.77.7.7', sp: 40000 + k, dst: `10.1.0.${k + 1}`, dp: 445, state: k % 2 ? 'REJ' : 'S0', pk: '1', ipb: '40' }));
    // a victim's SYN-ACKs to 12 of our hosts (Zeek saw only the responder's side: SHR)
    for (let k = 0; k < 12; k++) lines.push(tsv({ ts: T0 + 100 + k, src: `10.1.0.${k + 1}`, sp: 50000, dst: '45.88.8.8', dp: 25565, state: 'SHR', pk: '0', ipb: '0' }));
    for (let k = 0; k < 12; k++) lines.push(tsv({ ts: T0 + 200 + k, src: '45.66.6.6', sp: 25565, dst: `10.1.0.${k + 1}`, dp: 8080, state: 'RSTRH', pk: '0', ipb: '0' }));
    writeFileSync(join(dir, 'conn.log.gz'), gzipSync(lines.join('\n') + '\n'));
    const r = await runDetect([dir]);
    expect(r.files[0].format).toBe('zeek');
    expect(r.scans.map((v: any) => [v.src, v.protocol, v.dstPort, v.endpoints, v.packets, v.bytes])).toEqual([['45.77.7.7', 6, 445, 14, 14, 560]]);
    expect(r.totals.backscatter).toBe(24); // SHR and RSTRH: only the responder's SYN-ACK was seen
  });
});
