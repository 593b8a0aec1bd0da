import { describe, expect, it } from 'vitest';
import { mergeEndpointDays } from '../dist/src/engine/merge.js';
import type { EndpointDay } from '../dist/src/engine/verdict.js';

/** The merge as it was written first: one joined text key per endpoint-day, sorted as text. */
function reference(parts: EndpointDay[][]): EndpointDay[] {
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
      const ports = [...new Set([...x.ports, ...d.ports])].sort((a, b) => a - b);
      x.ports = ports;
      if (x.sources && d.sources) x.sources = [...x.sources, ...d.sources].sort();
    }
  }
  return [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, d]) => d);
}

function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Parts of endpoint-days whose fields are prefixes of each other, with characters on both sides of '|' in code order. */
function partsOf(seed: number, fields: { accounts: string[]; endpoints: string[] }): EndpointDay[][] {
  const r = rng(seed);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  const parts: EndpointDay[][] = [];
  for (let p = 0; p < 3; p++) {
    const part: EndpointDay[] = [];
    for (let k = 0; k < 300; k++) {
      const d: EndpointDay = {
        day: pick(['2024-06-01', '2024-06-02', '2024-06-1']),
        cloud: pick(['aws', 'azure', 'gcp', 'aws2']),
        account: pick(fields.accounts),
        endpoint: pick(fields.endpoints),
        scanners: 1 + Math.floor(r() * 4),
        ports: [...new Set([Math.floor(r() * 5), 65536 + Math.floor(r() * 5)])].sort((a, b) => a - b),
      };
      if (p > 0 && r() < 0.5) d.sources = [`45.0.0.${p * 100 + k}`]; // some with sources, some without
      part.push(d); // the same endpoint-day may come twice in one part
    }
    parts.push(part);
  }
  return parts;
}

describe('mergeEndpointDays (per-level maps) against the joined-key merge', () => {
  it('gives the same endpoint-days in the same order, fields prefixes of each other', () => {
    const accounts = ['p', 'p-2', 'p~', 'p}x', 'p{', 'pz', 'p ', '', '111122223333', '11112222333', 'P'];
    const endpoints = ['10.0.0.1', '10.0.0.10', '10.0.0.1~', '2001:db8::1', '2001:db8::', 'a', 'a}'];
    for (let seed = 1; seed <= 5; seed++) {
      const parts = partsOf(seed, { accounts, endpoints });
      const got = mergeEndpointDays(parts);
      expect(JSON.stringify(got)).toBe(JSON.stringify(reference(parts)));
    }
  });

  it('falls back to the joined key when a field holds the separator', () => {
    const parts = partsOf(9, { accounts: ['a|b', 'a', 'a|', 'ab'], endpoints: ['x', 'x|y', 'x|'] });
    expect(JSON.stringify(mergeEndpointDays(parts))).toBe(JSON.stringify(reference(parts)));
  });

  it('leaves its inputs unchanged', () => {
    const parts = partsOf(3, { accounts: ['a', 'b'], endpoints: ['x', 'y'] });
    const before = JSON.stringify(parts);
    mergeEndpointDays(parts);
    expect(JSON.stringify(parts)).toBe(before);
  });
});
