/** Merging the shards' (or partitions') partial results into one run's results. */
import type { EndpointDay } from './verdict.js';

/**
 * Endpoint-days from several shards: scanner counts add (a source lives in one shard
 * only), port sets unite. Sorted by the text `day|cloud|account|endpoint` for stable output.
 *
 * Grouped in one Map per level (day, cloud, account, endpoint) on the strings as they
 * came, and each level sorted as its part of that text sorts: building and hashing a
 * joined key per endpoint-day, a Map over them and a sort of the joined keys cost ~0.4 s of
 * the main thread's CPU on 140 k endpoint-days (a 10 M-record replay run; issue 19). A
 * field holding '|' would make the two orders differ: such inputs take the joined keys.
 */
export function mergeEndpointDays(parts: EndpointDay[][]): EndpointDay[] {
  const days: Level<Level<Level<Map<string, EndpointDay>>>> = new Map();
  // each field's text is looked at for '|' once, when a level first meets it (the endpoints:
  // once each), not on every endpoint-day of every part: ~8,000 on the 7 M-record bucket
  const seen = { bar: false };
  for (const part of parts) {
    for (const d of part) {
      const endpoints = within(within(within(days, d.day, seen), d.cloud, seen), d.account, seen);
      const x = endpoints.get(d.endpoint);
      if (x) fold(x, d);
      else {
        if (d.endpoint.includes('|')) seen.bar = true;
        endpoints.set(d.endpoint, copyOf(d));
      }
    }
  }
  if (seen.bar) return mergeByJoinedKey(parts);
  const out: EndpointDay[] = [];
  for (const day of sortedKeys(days)) {
    const clouds = days.get(day)!;
    for (const cloud of sortedKeys(clouds)) {
      const accounts = clouds.get(cloud)!;
      for (const account of sortedKeys(accounts)) {
        const endpoints = accounts.get(account)!;
        // the last field: nothing follows it in the joined key, so plain text order (the
        // default sort's, UTF-16 code units as `<`: no comparator called per comparison)
        for (const endpoint of [...endpoints.keys()].sort()) out.push(endpoints.get(endpoint)!);
      }
    }
  }
  return out;
}

type Level<T> = Map<string, T>;

/** The map under `key` of a level, made when first needed (a key holding '|' noted in `seen`). */
function within<T>(level: Level<Map<string, T>>, key: string, seen: { bar: boolean }): Map<string, T> {
  let m = level.get(key);
  if (!m) {
    if (key.includes('|')) seen.bar = true;
    level.set(key, (m = new Map()));
  }
  return m;
}

/** A level's keys in the order their text followed by '|' sorts (the joined key's order for every field but the last; no key holds '|'). */
function sortedKeys(level: Map<string, unknown>): string[] {
  return [...level.keys()].sort(compareField);
}

/** `a + '|'` against `b + '|'`, without building either. */
function compareField(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  if (a.length === b.length) return 0;
  // one is a prefix of the other: its '|' meets the longer one's next character
  return a.length < b.length ? BAR - b.charCodeAt(n) : a.charCodeAt(n) - BAR;
}

const BAR = 0x7c; // '|'

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The first part's endpoint-day, copied (its arrays too), for the others to fold into. */
function copyOf(d: EndpointDay): EndpointDay {
  return { ...d, ports: d.ports.slice(), ...(d.sources ? { sources: d.sources.slice() } : {}) };
}

function fold(x: EndpointDay, d: EndpointDay): void {
  x.scanners += d.scanners;
  x.ports = unionSorted(x.ports, d.ports);
  if (x.sources && d.sources) x.sources = [...x.sources, ...d.sources].sort(); // disjoint: sources live in one shard
}

/** mergeEndpointDays by one joined text key per endpoint-day (any field may hold '|'). */
function mergeByJoinedKey(parts: EndpointDay[][]): EndpointDay[] {
  const map = new Map<string, EndpointDay>();
  for (const part of parts) {
    for (const d of part) {
      const key = `${d.day}|${d.cloud}|${d.account}|${d.endpoint}`;
      const x = map.get(key);
      if (!x) map.set(key, copyOf(d));
      else fold(x, d);
    }
  }
  return [...map.entries()].sort(([a], [b]) => compareText(a, b)).map(([, d]) => d);
}

function unionSorted(a: number[], b: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = i < a.length ? a[i]! : Infinity;
    const y = j < b.length ? b[j]! : Infinity;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) {
      out.push(x);
      i++;
    } else {
      out.push(y);
      j++;
    }
  }
  return out;
}
