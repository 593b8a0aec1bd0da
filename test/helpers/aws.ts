/** Writing small AWS flow-log files for tests. */
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

export const V2_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';

export interface Flow {
  account?: string;
  iface?: string;
  src: string;
  dst: string;
  sport?: number;
  dport: number;
  proto?: number;
  packets?: number | '-';
  bytes?: number | '-';
  start: number;
  end?: number;
  action?: string;
}

export function v2Line(f: Flow): string {
  return [
    2, f.account ?? '123456789012', f.iface ?? 'eni-0a1b2c3d', f.src, f.dst, f.sport ?? 40000, f.dport, f.proto ?? 6,
    f.packets ?? 1, f.bytes ?? 40, f.start, f.end ?? f.start + 30, f.action ?? 'REJECT', 'OK',
  ].join(' ');
}

export function writeV2(path: string, flows: Flow[], opts: { header?: boolean; gzip?: boolean } = {}): void {
  const text = [...(opts.header === false ? [] : [V2_HEADER]), ...flows.map(v2Line)].join('\n') + '\n';
  writeFileSync(path, opts.gzip ? gzipSync(text) : text);
}

/** A scanner hitting n endpoints 10.0.<k>.x of one account with identical probes. */
export function scanner(src: string, n: number, opts: Partial<Flow> & { start: number }): Flow[] {
  return Array.from({ length: n }, (_, k) => ({ dport: 23, ...opts, src, dst: `10.0.${k >> 8}.${(k & 255) + 1}` }));
}

/** Deterministic shuffle (so tests can reorder records reproducibly). */
export function shuffled<T>(xs: T[], seed: number): T[] {
  const a = xs.slice();
  let s = seed >>> 0;
  for (let i = a.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/**
 * a.log and b.log in dir: 30 scanners from t0, two thirds of their flows in a.log and all of
 * them in b.log, an account a record there (more strings than PACK_STRINGS_FROM in a batch:
 * the batches' string tables travel packed, flow/batch.ts packStrings, and must reach the shards whole).
 */
export function writeTwoIngests(dir: string, t0: number): void {
  const flows: Flow[] = [];
  for (let i = 0; i < 30; i++) flows.push(...scanner(`45.9.${i}.1`, 6 + (i % 9), { start: t0 + i * 100, dport: 22 + (i % 4) }));
  writeV2(join(dir, 'a.log'), flows.filter((_, i) => i % 3 !== 0));
  writeV2(join(dir, 'b.log'), flows.map((f, i) => ({ ...f, account: `2109876${String(i).padStart(5, '0')}` })));
}
