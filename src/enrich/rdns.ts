/**
 * Reverse DNS with forward confirmation (opt-in, `--rdns`): a PTR name counts only when
 * the name resolves back to the same address, because whoever controls an address's
 * reverse zone can write any name there. This is the only part of flowsieve that uses
 * the network; it is never on by default and never used in tests (they pass a fake
 * resolver).
 */
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';

/** The calls made on a resolver (node:dns Resolver has them; tests pass a fake). */
export interface DnsLike {
  reverse(ip: string): Promise<string[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
}

export interface RdnsOptions {
  concurrency: number; // queries in flight
  timeoutMs: number; // per query
  maxNames: number; // PTR names tried per address
  resolver?: DnsLike;
}

export const DEFAULT_RDNS: RdnsOptions = { concurrency: 32, timeoutMs: 3000, maxNames: 3 };

export interface RdnsResult {
  names: Map<string, string>; // address text -> confirmed name (addresses without one are absent)
  looked_up: number;
  confirmed: number;
  failed: number; // no PTR, time-out or resolver error
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timeout')), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Same address, whatever its text form (IPv6 compression, case). */
function sameAddress(a: string, b: string): boolean {
  if (a === b) return true;
  if (isIP(a) !== 6 || isIP(b) !== 6) return false;
  const expand = (x: string) => {
    const [head, tail = ''] = x.toLowerCase().split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = x.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
    return groups.map((g) => parseInt(g, 16)).join(':');
  };
  return expand(a) === expand(b);
}

/** The forward-confirmed reverse name of one address, or null. */
async function confirmedName(ip: string, r: DnsLike, opts: RdnsOptions): Promise<string | null> {
  const names = await withTimeout(r.reverse(ip), opts.timeoutMs);
  const v6 = isIP(ip) === 6;
  for (const name of names.slice(0, opts.maxNames)) {
    try {
      const addrs = await withTimeout(v6 ? r.resolve6(name) : r.resolve4(name), opts.timeoutMs);
      if (addrs.some((a) => sameAddress(a, ip))) return name.replace(/\.$/, '').toLowerCase();
    } catch {
      // this name does not resolve: try the next
    }
  }
  return null;
}

/** Confirmed names of distinct addresses, `concurrency` at a time. */
export async function reverseLookup(ips: readonly string[], options: Partial<RdnsOptions> = {}): Promise<RdnsResult> {
  const opts = { ...DEFAULT_RDNS, ...options };
  const r: DnsLike = opts.resolver ?? new dns.Resolver({ timeout: opts.timeoutMs, tries: 2 });
  const uniq = [...new Set(ips)];
  const result: RdnsResult = { names: new Map(), looked_up: uniq.length, confirmed: 0, failed: 0 };
  let next = 0;
  const worker = async () => {
    while (next < uniq.length) {
      const ip = uniq[next++]!;
      try {
        const name = await confirmedName(ip, r, opts);
        if (name) {
          result.names.set(ip, name);
          result.confirmed++;
        }
      } catch {
        result.failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency, uniq.length)) }, worker));
  return result;
}
