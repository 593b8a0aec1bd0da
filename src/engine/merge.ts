/** Merging the shards' (or partitions') partial results into one run's results. */
import type { EndpointDay } from './verdict.js';

/**
 * Endpoint-days from several shards: scanner counts add (a source lives in one shard
 * only), port sets unite. Sorted by (day, cloud, account, endpoint) for stable output.
 */
export function mergeEndpointDays(parts: EndpointDay[][]): EndpointDay[] {
  const map = new Map<string, EndpointDay>();
  for (const part of parts) {
    for (const d of part) {
      const key = `${d.day}|${d.cloud}|${d.account}|${d.endpoint}`;
      const x = map.get(key);
      if (!x) {
        map.set(key, { ...d, ports: d.ports.slice(), ...(d.sources ? { sources: d.sources.slice() } : {}) });
        continue;
      }
      x.scanners += d.scanners;
      x.ports = unionSorted(x.ports, d.ports);
      if (x.sources && d.sources) x.sources = [...x.sources, ...d.sources].sort(); // disjoint: sources live in one shard
    }
  }
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
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
