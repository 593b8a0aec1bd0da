/**
 * A small, fast, deterministic AWS VPC Flow Logs v2 writer for benchmarks and tests
 * (the full generator is `flowsieve generate`). One UTC day of traffic to the private
 * endpoints of a dozen accounts:
 *
 * - benign inbound: a pool of public sources, each talking to one home endpoint on one
 *   or two services; most scan keys have one endpoint (~0.32 distinct keys per line);
 * - scanners: sources that touch 12-60 endpoints on 1-3 ports in one or two windows with
 *   the same small packets/bytes (scans), and as many noisy ones whose counts vary (near misses);
 * - responses (srcport < 1024 <= dstport), outbound traffic, a little IPv6, NODATA lines.
 *
 * Usage: node dist/bench/gen-aws.js --records N --out FILE [--seed S] [--gzip]
 */
import { closeSync, openSync, writeSync, createReadStream, createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';
import { pipeline } from 'node:stream/promises';
import { arg } from './args.js';

export const DAY0 = 1717200000; // 2024-06-01T00:00:00Z
const W = 21600;
const ACCOUNTS = 12;
const ENDPOINTS_PER_ACCOUNT = 200;
const HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const SERVICES: Array<[number, number]> = [
  [6, 443], [6, 80], [6, 22], [6, 3389], [6, 8080], [17, 53], [17, 123], [6, 25], [6, 8443], [6, 3306], [17, 500], [6, 5432],
];
const SCANNED: Array<[number, number]> = [[6, 22], [6, 23], [6, 445], [6, 3389], [17, 5060], [6, 8080], [6, 2323], [6, 6379], [17, 161]];

export interface GenOptions {
  records: number;
  seed?: number;
}

export interface GenStats {
  lines: number;
  bytes: number;
  scanners: number;
  scannerRecords: number;
}

/** xorshift32: fast and deterministic. */
export class Rng {
  constructor(private s: number) {
    if (this.s === 0) this.s = 0x9e3779b9;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s;
  }
  int(n: number): number {
    return this.next() % n;
  }
  chance(p: number): boolean {
    return this.next() < p * 4294967296;
  }
}

export function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export function v4(x: number): string {
  return `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
}

interface Endpoint {
  account: string;
  eni: string;
  addr: string;
}

function endpoints(): Endpoint[] {
  const eps: Endpoint[] = [];
  for (let a = 0; a < ACCOUNTS; a++) {
    for (let e = 0; e < ENDPOINTS_PER_ACCOUNT; e++) {
      eps.push({
        account: `1111222233${String(a).padStart(2, '0')}`,
        eni: `eni-${mix(a * 1000 + e + 1).toString(16).padStart(8, '0')}${mix(e + 77).toString(16).padStart(8, '0')}`.slice(0, 21),
        addr: `10.${a}.${e >> 6}.${(e & 63) + 10}`,
      });
    }
  }
  return eps;
}

/** A public IPv4 address from an index (avoids every non-public range of detection.md §3). */
export function publicV4(i: number): number {
  const x = mix(i + 0x1234567);
  const first = 11 + (x % 80); // 11..90: public /8s only (none of 0, 10, 100.64, 127, 169.254, 172.16, 192.168, ...)
  return ((first << 24) | (x & 0xffffff)) >>> 0;
}

interface ScanRec {
  src: string;
  ep: number;
  proto: number;
  port: number;
  packets: number;
  bytes: number;
  start: number;
}

function scannerRecords(rng: Rng, scanners: number, eps: Endpoint[]): ScanRec[] {
  const recs: ScanRec[] = [];
  for (let s = 0; s < scanners; s++) {
    const src = v4(((185 << 24) | (mix(s + 99) & 0xffffff)) >>> 0);
    const noisy = s % 2 === 1; // half of them vary their counts: near misses, not scans
    const ports = 1 + rng.int(3);
    const windows = 1 + rng.int(2);
    const firstWindow = rng.int(4 - windows + 1);
    const basePackets = 1 + rng.int(2);
    const baseBytes = [40, 44, 60][rng.int(3)]!;
    for (let p = 0; p < ports; p++) {
      const [proto, port] = SCANNED[(s + p * 3) % SCANNED.length]!;
      for (let w = firstWindow; w < firstWindow + windows; w++) {
        const targets = 12 + rng.int(49);
        const first = rng.int(eps.length);
        for (let t = 0; t < targets; t++) {
          const packets = noisy ? 1 + rng.int(40) : basePackets;
          recs.push({
            src, ep: (first + t * 37) % eps.length, proto, port, packets,
            bytes: noisy ? packets * (40 + rng.int(1400)) : basePackets * baseBytes,
            start: DAY0 + w * W + rng.int(W - 120),
          });
        }
      }
    }
  }
  for (let i = recs.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [recs[i], recs[j]] = [recs[j]!, recs[i]!];
  }
  return recs;
}

/** Write `records` lines (plus a header line) of AWS v2 flow logs to `path`. */
export function generateAws(path: string, o: GenOptions): GenStats {
  const rng = new Rng(o.seed ?? 1);
  const eps = endpoints();
  const scanners = Math.max(6, Math.round(o.records / 40000));
  const scans = scannerRecords(rng, scanners, eps);
  const sources = Math.max(500, Math.round(o.records * 0.05));
  const scanShare = Math.min(0.5, scans.length / Math.max(1, o.records));
  const fd = openSync(path, 'w');
  const buf = Buffer.allocUnsafe(8 << 20);
  let pos = 0;
  let bytes = 0;
  const put = (line: string) => {
    if (pos + line.length + 1 > buf.length) {
      writeSync(fd, buf, 0, pos);
      bytes += pos;
      pos = 0;
    }
    pos += buf.write(line, pos, 'latin1');
    buf[pos++] = 10;
  };
  put(HEADER);
  let si = 0;
  for (let n = 0; n < o.records; n++) {
    const remaining = o.records - n;
    if (si < scans.length && (remaining <= scans.length - si || rng.chance(scanShare))) {
      const r = scans[si++]!;
      const e = eps[r.ep]!;
      put(`2 ${e.account} ${e.eni} ${r.src} ${e.addr} ${1024 + rng.int(64000)} ${r.port} ${r.proto} ${r.packets} ${r.bytes} ${r.start} ${r.start + rng.int(60)} REJECT OK`);
      continue;
    }
    put(benignLine(rng, eps, sources));
  }
  writeSync(fd, buf, 0, pos);
  bytes += pos;
  closeSync(fd);
  return { lines: o.records + 1, bytes, scanners, scannerRecords: scans.length };
}

function benignLine(rng: Rng, eps: Endpoint[], sources: number): string {
  const kind = rng.int(1000);
  const start = DAY0 + rng.int(86400 - 120);
  const end = start + rng.int(60);
  if (kind < 4) {
    const e = eps[rng.int(eps.length)]!;
    return `2 ${e.account} ${e.eni} - - - - - - - ${start} ${end} - NODATA`;
  }
  if (kind < 54) {
    // a response to one of our hosts' outbound connections
    const e = eps[rng.int(eps.length)]!;
    return `2 ${e.account} ${e.eni} ${v4(publicV4(rng.int(sources)))} ${e.addr} 443 ${1024 + rng.int(64000)} 6 ${1 + rng.int(20)} ${60 + rng.int(9000)} ${start} ${end} ACCEPT OK`;
  }
  if (kind < 104) {
    // outbound from our hosts
    const e = eps[rng.int(eps.length)]!;
    return `2 ${e.account} ${e.eni} ${e.addr} ${v4(publicV4(rng.int(sources)))} ${1024 + rng.int(64000)} 443 6 ${1 + rng.int(20)} ${60 + rng.int(9000)} ${start} ${end} ACCEPT OK`;
  }
  const s = rng.int(sources);
  const h = mix(s);
  const e = eps[h % eps.length]!;
  const [proto, port] = SERVICES[rng.chance(0.85) ? (h >>> 12) % SERVICES.length : rng.int(SERVICES.length)]!;
  const packets = 1 + rng.int(30);
  if (kind < 114) {
    // IPv6 client to the endpoint's IPv6 address
    const src = `2600:1f18:${(h & 0xffff).toString(16)}:${(h >>> 16).toString(16)}::${(s & 0xfff).toString(16)}`;
    const dst = `fd00:ec2::${(h % eps.length).toString(16)}`;
    return `2 ${e.account} ${e.eni} ${src} ${dst} ${1024 + rng.int(64000)} ${port} ${proto} ${packets} ${packets * (60 + rng.int(1400))} ${start} ${end} ACCEPT OK`;
  }
  const action = rng.chance(0.9) ? 'ACCEPT' : 'REJECT';
  return `2 ${e.account} ${e.eni} ${v4(publicV4(s))} ${e.addr} ${1024 + rng.int(64000)} ${port} ${proto} ${packets} ${packets * (60 + rng.int(1400))} ${start} ${end} ${action} OK`;
}

export async function gzipFile(src: string, dst: string, level = 6): Promise<void> {
  await pipeline(createReadStream(src, { highWaterMark: 1 << 20 }), createGzip({ level }), createWriteStream(dst));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = arg('out');
  if (!out) {
    process.stderr.write('usage: node dist/bench/gen-aws.js --records N --out FILE [--seed S] [--gzip]\n');
    process.exit(1);
  }
  const t0 = performance.now();
  const s = generateAws(out, { records: Number(arg('records') ?? 1e6), seed: Number(arg('seed') ?? 1) });
  if (process.argv.includes('--gzip')) await gzipFile(out, `${out}.gz`);
  process.stderr.write(`${s.lines} lines, ${(s.bytes / 1e6).toFixed(1)} MB, ${s.scanners} scanners in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
}
