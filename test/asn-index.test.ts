/**
 * The build's ASN indexes (src/enrich/asn-index.ts) answer as the scan of the CSV does
 * (asn-csv.ts lookupV4 / lookupV6): on a small file with unsorted and overlapping ranges,
 * and on the bundled files, for addresses spread over the whole space.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lookupV4, lookupV6 } from '../dist/src/enrich/asn-csv.js';
import { buildAsnIndex, lookupIndexed } from '../dist/src/enrich/asn-index.js';
import { compareAddress, parseAddress } from '../dist/src/net/address.js';
import { tempDir } from './helpers/tmp.js';

const dir = tempDir('flowsieve-asnidx-');
const asnDir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));

function indexed(csv: string, family: 4 | 6, queries: any[]) {
  const idx = join(dir, `${family}-${csv.split('/').pop()}.idx`);
  writeFileSync(idx, buildAsnIndex(csv, family));
  return lookupIndexed(csv, family, queries, idx);
}

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s;
  };
}

describe('ASN indexes', () => {
  it('answer as the merge does on unsorted, overlapping ranges', () => {
    const f = join(dir, 'asn.csv');
    writeFileSync(f, ['300,399,3,"Three, ""Inc."""', '100,199,1,One', '150,250,2,Two', '120,130,5,Inner', '1000,1000,4,Four', '500,x,6,BadEnd', '600,700,bad,BadAsn'].join('\n') + '\n');
    const queries = [50, 100, 125, 175, 220, 300, 399, 400, 550, 650, 1000, 1001];
    const got = indexed(f, 4, queries);
    expect(got).toEqual(lookupV4(f, queries));
    expect(got!.map((a) => a?.asn ?? null)).toEqual([null, 1, 1, 1, 2, 3, 3, null, null, null, 4, null]);
    expect(got![5]!.org).toBe('Three, "Inc."');
  });

  it('answer as the scan does on the bundled files', () => {
    const r = rng(7);
    const v4 = [...new Set(Array.from({ length: 3000 }, () => r()))].sort((a, b) => a - b);
    const v4csv = join(asnDir, 'asn-ipv4-num.csv');
    const got4 = indexed(v4csv, 4, v4);
    expect(got4).toEqual(lookupV4(v4csv, v4));
    expect(got4!.filter(Boolean).length).toBeGreaterThan(1000);
    // IPv6: the starts of ranges of the file, some moved a little, and random addresses
    const v6csv = join(asnDir, 'asn-ipv6.csv');
    const lines = readFileSync(v6csv, 'latin1').split('\n');
    const picked = new Map<string, Uint32Array>();
    for (let k = 0; k < 1500; k++) {
      const a = parseAddress(lines[r() % lines.length]!.split(',')[0]!);
      if (!a) continue;
      const w = Uint32Array.from(a);
      if (k % 3 === 1) w[3] = (w[3]! + (r() & 0xffff)) >>> 0;
      if (k % 3 === 2) w[1] = r();
      picked.set(w.join(','), w);
    }
    const v6 = [...picked.values()].sort((a, b) => compareAddress(a, 0, b, 0));
    const got6 = indexed(v6csv, 6, v6);
    expect(got6).toEqual(lookupV6(v6csv, v6));
    expect(got6!.filter(Boolean).length).toBeGreaterThan(500);
  });
});
