/**
 * A small input for the scale-out tests: several files (plain, gzip, AWS S3 layout), two
 * days, IPv4 and IPv6 scanners, near misses, a bad line, an own host that scans and is
 * itself scanned (worm signature: the alert needs facts from other partitions), an
 * allow-listed host and a scanner from the user's own range.
 */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const T0 = 1700006400; // 2023-11-15T00:00:00Z
const DAY = 86400;
const HDR = 'version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end action flow-direction log-status';

interface L {
  account?: string;
  iface?: string;
  inst?: string;
  src: string;
  dst: string;
  sport?: number;
  dport: number;
  proto?: number;
  packets?: number;
  bytes?: number;
  t: number;
  dir?: string;
}

function line(o: L): string {
  return [
    5, o.account ?? '123456789012', o.iface ?? 'eni-1', o.inst ?? 'i-1', o.src, o.dst, o.sport ?? 50000, o.dport, o.proto ?? 6,
    o.packets ?? 1, o.bytes ?? 40, o.t, o.t + 20, 'REJECT', o.dir ?? '-', 'OK',
  ].join(' ');
}

export interface ScaleOutInput {
  inputs: string[]; // as given on the command line (one folder, one missing file)
  allow: string;
  own: string;
  records: number;
}

/** Scanners s of day d probing n endpoints of one account: src 45.<d>.<s>.<s*7%250+1>. */
function scanners(day: number, count: number, out: string[], account: string): void {
  for (let s = 0; s < count; s++) {
    const src = `45.${day + 10}.${s}.${((s * 7) % 250) + 1}`;
    const n = 9 + (s % 6); // 9 .. 14 endpoints: some under min_endpoints
    const port = [22, 23, 445, 3389, 5060, 8080][s % 6]!;
    const wobble = s % 5 === 4; // a CV too high: a near miss
    for (let k = 0; k < n; k++) {
      out.push(line({
        account, src, dst: `10.${day}.${k >> 8}.${(k & 255) + 1}`, dport: port, proto: port === 5060 ? 17 : 6,
        packets: wobble ? 1 + k * 3 : 1, bytes: wobble ? 40 + k * 400 : 40, t: T0 + day * DAY + (s % 4) * 21600 + k,
      }));
    }
  }
}

export function writeScaleOutInput(root: string): ScaleOutInput {
  const dir = join(root, 'logs');
  const s3 = join(dir, 'AWSLogs', '210987654321', 'vpcflowlogs', 'eu-west-1', '2023', '11', '15');
  mkdirSync(s3, { recursive: true });
  const a = [HDR];
  // the worm: own host 10.0.0.5 probes 445 on 130 public targets and is scanned on 445 itself
  for (let k = 0; k < 130; k++) a.push(line({ iface: 'eni-worm', inst: 'i-worm', src: '10.0.0.5', dst: `81.2.${k >> 8}.${k + 1}`, dport: 445, t: T0 + 100 + k, dir: 'egress' }));
  for (let k = 0; k < 12; k++) a.push(line({ src: '45.9.9.4', dst: k === 0 ? '10.0.0.5' : `10.0.1.${k}`, dport: 445, t: T0 + 200 + k, dir: 'ingress' }));
  // an allow-listed NAT-like host with the same pattern
  for (let k = 0; k < 120; k++) a.push(line({ iface: 'eni-nat', inst: '-', src: '10.0.0.8', dst: `84.1.0.${k + 1}`, dport: 443, t: T0 + k, dir: 'egress' }));
  // a scanner from the user's own range, and an IPv6 scanner
  for (let k = 0; k < 10; k++) a.push(line({ src: '52.1.2.3', dst: `10.0.2.${k + 1}`, dport: 22, t: T0 + 300 + k, dir: 'ingress' }));
  for (let k = 0; k < 11; k++) a.push(line({ src: '2a01:4f8::5', dst: `2001:67c::${k + 1}`, dport: 23, t: T0 + 400 + k, dir: 'ingress' }));
  scanners(0, 40, a, '123456789012');
  a.push('5 123456789012 eni-1 i-1 45.1.1.1 10.0.0.1 notaport 23 6 1 40 1700006400 1700006420 REJECT - OK'); // rejected
  writeFileSync(join(dir, 'a.log'), a.join('\n') + '\n');

  const b = [HDR];
  scanners(1, 60, b, '123456789012');
  writeFileSync(join(dir, 'b.log.gz'), gzipSync(b.join('\n') + '\n'));

  const c = [HDR];
  scanners(0, 30, c, '210987654321'); // same scanners as day 0 of a.log, other account and region
  writeFileSync(join(s3, 'c.log'), c.join('\n') + '\n');

  const allow = join(root, 'allow.txt');
  writeFileSync(allow, 'eni-nat\n');
  const own = join(root, 'own.txt');
  writeFileSync(own, '52.1.2.0/24\n');
  return { inputs: [dir, join(root, 'missing.log')], allow, own, records: a.length + b.length + c.length - 4 };
}

/** Every file under a folder (relative path -> text), sorted; temporary files left out. */
export function folder(dir: string, rel = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, folder(dir, r));
    else out[r] = readFileSync(join(dir, r), 'utf8');
  }
  return out;
}

/**
 * The files of an output folder, for comparison: summary.json without the blocks that
 * describe the resources of the run(s) rather than the results (timing, memory limits).
 */
export function comparable(files: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, text] of Object.entries(files)) {
    if (name !== 'summary.json') {
      out[name] = text;
      continue;
    }
    const s = JSON.parse(text);
    delete s.performance;
    delete s.memory;
    out[name] = JSON.stringify(s, null, 2);
  }
  return out;
}

/**
 * For a run that read replay files instead of the logs: the same, and summary.json also
 * without what describes the files read (the replay files, their sizes); the counters of
 * the logs they hold stay.
 */
export function comparableOverReplay(files: Record<string, string>): Record<string, string> {
  const out = comparable(files);
  const s = JSON.parse(out['summary.json']!);
  delete out['files.ndjson']; // the replay files read, not the logs
  delete s.totals.bytes_read;
  delete s.region_blank; // by the cloud of each file's format: a replay file's are under 'replay'
  out['summary.json'] = JSON.stringify(s, null, 2);
  return out;
}
