/**
 * The endpoint-days in WebAssembly (assembly/endpoint-days.ts through StagedEndpointDays)
 * against EndpointDays in JavaScript: the same endpoint-days in the same order, with the same
 * distinct sources and ports, from the same scans; and the JavaScript fallback of the staged
 * scans (more rows than the module takes) gives them too.
 */
import { describe, expect, it } from 'vitest';
import { EndpointDays, type EndpointDayTable } from '../dist/src/engine/endpoint-days.js';
import { StagedEndpointDays } from '../dist/src/engine/endpoint-days-wasm.js';
import { wasmModule } from '../dist/src/data/files.js';
import { rng } from '../dist/bench/records.js'; // xorshift32 in [0, 1)

const W = 3600;
const module = wasmModule('endpoint-days.wasm');

/** A table of 3,000 entries: entry e's dst is 10.0.x.y (IPv6 for every 13th), accounts a0..a4 in two clouds. */
const table: EndpointDayTable = {
  accounts: { strings: ['a0', 'a1', 'a2', 'a3', 'a4'] },
  v6: { wordsOf: (id: number, v6: boolean, out: Uint32Array) => out.set(v6 ? [0x20010db8, 0, 0, id] : [0, 0, 0xffff, id >>> 0]) },
  dstText: (e: number) => (e % 13 === 0 ? `2001:db8::${e.toString(16)}` : `10.0.${e >> 8}.${e & 255}`),
};

type Scan = [window: number, sA: number, s6: number, port: number, rows: Uint32Array];

/**
 * Scans over a few days: many on a few busy endpoints (ranges past the module's insertion
 * sort), the same source on several ports, IPv6 sources, sources past 2^31.
 */
function scansOf(seed: number): Scan[] {
  const r = rng(seed);
  const out: Scan[] = [];
  for (let s = 0; s < 400; s++) {
    const n = 1 + Math.floor(r() * (s % 10 === 0 ? 300 : 20));
    const rows = new Uint32Array(n * 4);
    for (let j = 0; j < n; j++) {
      const e = r() < 0.5 ? Math.floor(r() * 20) : Math.floor(r() * 3000);
      const account = e % 5;
      rows.set([e, (((account & 1) << 30) | account) >>> 0, e % 13 === 0 ? e : (0x0a000000 + e) >>> 0, e % 13 === 0 ? 8 : 0], j * 4);
    }
    const src = s % 7 === 0 ? 0x90000000 + (s % 50) : 0x2d000000 + (s % 90);
    out.push([Math.floor(1717200000 / W) + Math.floor(r() * 40), src >>> 0, s % 11 === 0 ? 4 : 0, (s % 3 === 0 ? 17 << 16 : 6 << 16) | (22 + (s % 5)), rows]);
  }
  return out;
}

function endpointDays(days: EndpointDays | StagedEndpointDays, scans: Scan[], withSources: boolean): string {
  for (const [window, sA, s6, port, rows] of scans) days.addScan(window, sA, s6, port, rows, 0, rows.length / 4);
  return JSON.stringify(days.result(withSources));
}

describe.skipIf(module === null)('endpoint-days in WebAssembly (assembly/endpoint-days.ts)', () => {
  it('gives the endpoint-days of EndpointDays, in the same order, sources included', () => {
    for (const seed of [3, 5]) {
      for (const withSources of [false, true]) {
        const js = endpointDays(new EndpointDays(table, W), scansOf(seed), withSources);
        const parsed = JSON.parse(js) as { scanners: number; ports: number[] }[];
        expect(parsed.length).toBeGreaterThan(100);
        expect(parsed.some((d) => d.scanners > 24)).toBe(true); // a range past the insertion sort
        expect(endpointDays(new StagedEndpointDays(module!, table, W), scansOf(seed), withSources)).toBe(js);
      }
    }
  });

  it('gives none without scans, and the JavaScript fallback of its staged scans gives the same', () => {
    expect(new StagedEndpointDays(module!, table, W).result(true)).toEqual([]);
    const staged = new StagedEndpointDays(module!, table, W);
    const scans = scansOf(9);
    for (const [window, sA, s6, port, rows] of scans) staged.addScan(window, sA, s6, port, rows, 0, rows.length / 4);
    const inJs = (staged as unknown as { inJs(): EndpointDays }).inJs();
    expect(JSON.stringify(inJs.result(true))).toBe(endpointDays(new EndpointDays(table, W), scans, true));
  });
});
