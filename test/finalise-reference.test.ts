/**
 * The accumulator's finalisation (verdicts and endpoint-days) against a plain reference
 * written straight from detection.md §3 with Maps and Sets, on a random data set with the shape
 * of real logs: scanner keys of many endpoints across clouds, accounts and regions,
 * endpoints seen in several regions, IPv6 sources and destinations, unknown counts,
 * keys over two days, many one-endpoint keys and records of other feeds.
 */
import { describe, expect, it } from 'vitest';
import { ScanTable } from '../dist/src/engine/scan-table.js';
import { allocBatch } from '../dist/src/flow/batch.js';
import { coefficientOfVariation, DEFAULT_THRESHOLDS, failedConditions } from '../dist/src/detect/rules.js';
import { formatAddress } from '../dist/src/net/address.js';
import { rng } from '../dist/bench/records.js'; // xorshift32 in [0, 1)

const W = 21600;
const T0 = 1717200000; // 2024-06-01T00:00:00Z
const CLOUDS = ['aws', 'azure', 'gcp', 'other'];

interface Rec {
  feed: number; // 1 = inbound
  src: number[];
  dst: number[];
  proto: number;
  port: number;
  packets: number; // NaN = unknown
  bytes: number;
  start: number;
  end: number;
  cloud: number;
  account: string;
  region: string;
}

function records(seed: number): Rec[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const accounts = ['', '111111111111', '222222222222', '333333333333', 'sub-a', 'sub-b'];
  const regions = ['us-east-1', 'eu-west-1', 'westeurope', 'us-central1'];
  const v4 = (x: number): number[] => [0, 0, 0xffff, x >>> 0];
  const v6 = (x: number): number[] => [0x20010db8, 0, x >>> 16, x & 0xffff];
  // endpoints: (cloud, account, dst); a few hundred, some IPv6
  const endpoints = Array.from({ length: 300 }, (_, k) => ({
    cloud: k % 7 === 0 ? 1 : k % 11 === 0 ? 2 : 0,
    account: pick(accounts),
    dst: k % 13 === 0 ? v6(0x100 + k) : v4(0x0a000000 + k * 3),
  }));
  const out: Rec[] = [];
  const add = (src: number[], proto: number, port: number, ep: (typeof endpoints)[number], start: number, packets: number, bytes: number, region: string): void => {
    out.push({ feed: 1, src, dst: ep.dst, proto, port, packets, bytes, start, end: start + Math.floor(r() * 30), cloud: ep.cloud, account: ep.account, region });
  };
  // scanner-like keys: 5-150 endpoints, steady counts (scans) or noisy ones (near misses)
  for (let k = 0; k < 60; k++) {
    const src = k % 9 === 0 ? v6(0xa000 + k) : v4(0x2d000000 + k * 7919);
    const port = pick([22, 23, 445, 3389]);
    const proto = k % 10 === 0 ? 17 : 6;
    const steady = k % 3 !== 0;
    const day = k % 4 === 0 ? 1 : 0;
    const start = T0 + day * 86400 + Math.floor(r() * W * 2); // two windows of the day
    const n = 5 + Math.floor(r() * 146);
    for (let j = 0; j < n; j++) {
      const ep = pick(endpoints);
      const unknown = k % 5 === 0 && j % 4 === 0;
      const packets = unknown ? NaN : steady ? 1 : 1 + Math.floor(r() * 9);
      const bytes = k % 8 === 0 ? NaN : steady ? 44 : 40 + Math.floor(r() * 900);
      add(src, proto, port, ep, start + Math.floor(r() * 60), packets, bytes, pick(regions));
      if (r() < 0.1) add(src, proto, port, ep, start + Math.floor(r() * 60), packets, bytes, pick(regions)); // again, maybe in another region
    }
  }
  // benign: one-endpoint keys and a few small multi-endpoint keys, several records each
  for (let k = 0; k < 2000; k++) {
    const src = k % 17 === 0 ? v6(0xb0000 + k) : v4(0x51000000 + k * 104729);
    const port = pick([443, 80, 53, 8080]);
    const eps = k % 10 === 0 ? 2 + Math.floor(r() * 12) : 1;
    for (let j = 0; j < eps; j++) {
      const ep = pick(endpoints);
      const records = 1 + Math.floor(r() * 3);
      for (let q = 0; q < records; q++) add(src, 6, port, ep, T0 + Math.floor(r() * 86400 * 2), 1 + Math.floor(r() * 20), 60 + Math.floor(r() * 5000), pick(regions));
    }
  }
  // records of other feeds: not inbound, never counted
  for (let k = 0; k < 300; k++) {
    const o = out[Math.floor(r() * out.length)]!;
    out.push({ ...o, feed: k % 2 === 0 ? 0 : 2 });
  }
  // arrival order
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** The records as batches of `size`, each with its own string table. */
function batches(recs: Rec[], size: number) {
  const out = [];
  for (let from = 0; from < recs.length; from += size) {
    const part = recs.slice(from, from + size);
    const b = allocBatch(part.length);
    const ids = new Map<string, number>();
    const id = (s: string): number => {
      if (s === '') return 0;
      let x = ids.get(s);
      if (x === undefined) ids.set(s, (x = b.strings.push(s) - 1));
      return x;
    };
    part.forEach((x, i) => {
      b.feed[i] = x.feed;
      b.src.set(x.src, i * 4);
      b.dst.set(x.dst, i * 4);
      b.proto[i] = x.proto;
      b.dport[i] = x.port;
      b.packets[i] = x.packets;
      b.bytes[i] = x.bytes;
      b.start[i] = x.start;
      b.end[i] = x.end;
      b.cloud[i] = x.cloud;
      b.account[i] = id(x.account);
      b.region[i] = id(x.region);
    });
    b.n = part.length;
    out.push(b);
  }
  return out;
}

const cv = (xs: number[]): number => coefficientOfVariation(Float64Array.from(xs), xs.length);

/** detection.md §3 from the records, with Maps and Sets. */
function reference(recs: Rec[], thresholds: typeof DEFAULT_THRESHOLDS, nearMisses: boolean) {
  type Ep = { f: number; p: number; b: number; hasP: boolean; hasB: boolean; cloud: number; account: string; dst: string };
  const keys = new Map<string, { r: Rec; window: number; eps: Map<string, Ep>; regions: Set<string>; first: number; last: number }>();
  for (const x of recs) {
    if (x.feed !== 1) continue;
    const window = Math.floor(x.start / W);
    const k = `${formatAddress(x.src)}|${x.proto}|${x.port}|${window}`;
    let key = keys.get(k);
    if (!key) keys.set(k, (key = { r: x, window, eps: new Map(), regions: new Set(), first: Infinity, last: 0 }));
    const dst = formatAddress(x.dst);
    const ek = `${x.cloud}|${x.account}|${dst}`;
    let ep = key.eps.get(ek);
    if (!ep) key.eps.set(ek, (ep = { f: 0, p: 0, b: 0, hasP: false, hasB: false, cloud: x.cloud, account: x.account, dst }));
    ep.f++;
    if (!Number.isNaN(x.packets)) {
      ep.p += x.packets;
      ep.hasP = true;
    }
    if (!Number.isNaN(x.bytes)) {
      ep.b += x.bytes;
      ep.hasB = true;
    }
    key.regions.add(`${x.cloud}|${x.region}`);
    key.first = Math.min(key.first, x.start);
    key.last = Math.max(key.last, x.end);
  }
  const verdicts = [];
  const days = new Map<string, { day: string; cloud: string; account: string; endpoint: string; srcs: Set<string>; ports: Set<number> }>();
  for (const key of keys.values()) {
    const eps = [...key.eps.values()];
    const withP = eps.filter((e) => e.hasP);
    const withB = eps.filter((e) => e.hasB);
    const features = {
      endpoints: eps.length,
      clouds: new Set(eps.map((e) => e.cloud)).size,
      accounts: new Set(eps.map((e) => `${e.cloud}|${e.account}`)).size,
      regions: key.regions.size,
      cvPackets: withP.length === 0 ? null : cv(withP.map((e) => e.p)),
      cvBytes: withB.length === 0 ? null : cv(withB.map((e) => e.b)),
      cvFlows: cv(eps.map((e) => e.f)),
    };
    const failed = failedConditions(features, thresholds);
    const src = formatAddress(key.r.src);
    if (failed.length === 0) {
      const day = new Date(key.window * W * 1000).toISOString().slice(0, 10);
      for (const e of eps) {
        const k = `${day}|${CLOUDS[e.cloud]}|${e.account}|${e.dst}`;
        let d = days.get(k);
        if (!d) days.set(k, (d = { day, cloud: CLOUDS[e.cloud]!, account: e.account, endpoint: e.dst, srcs: new Set(), ports: new Set() }));
        d.srcs.add(src);
        d.ports.add(((key.r.proto << 16) | key.r.port) >>> 0);
      }
    }
    if (failed.length > 0 && !(nearMisses && features.endpoints >= thresholds.minEndpoints)) continue;
    verdicts.push({
      window: key.window,
      srcWords: key.r.src,
      src,
      protocol: key.r.proto,
      dstPort: key.r.port,
      ...features,
      flows: eps.reduce((s, e) => s + e.f, 0),
      packets: eps.reduce((s, e) => s + e.p, 0),
      bytes: eps.reduce((s, e) => s + e.b, 0),
      firstSeen: key.first,
      lastSeen: key.last,
      failed,
    });
  }
  const endpointDays = [...days.values()].map(({ srcs, ports, ...d }) => ({
    ...d,
    scanners: srcs.size,
    ports: [...ports].sort((a, b) => a - b),
    sources: [...srcs].sort(),
  }));
  return { verdicts, endpointDays, keys: keys.size };
}

const byJson = <T>(xs: T[]): string[] => xs.map((x) => JSON.stringify(x, Object.keys(x as object).sort())).sort();

describe('finalisation against a plain reference (detection.md §3)', () => {
  it('gives the reference verdicts and endpoint-days on random multi-endpoint data, on every ingest path', () => {
    const recs = records(20261206);
    const thresholds = { ...DEFAULT_THRESHOLDS };
    const want = reference(recs, thresholds, true);
    const opts = { thresholds, windowSeconds: W, nearMisses: true, endpointSources: true };
    const scans = want.verdicts.filter((v) => v.failed.length === 0).length;
    // the data set exercises what it should: scans and near misses, endpoint-days with several scanners
    expect(scans).toBeGreaterThan(20);
    expect(want.verdicts.length - scans).toBeGreaterThan(10);
    expect(want.endpointDays.some((d) => d.scanners > 1 && d.ports.length > 1)).toBe(true);

    const direct = new ScanTable(W, 1 << 8, 1, 0); // added batch by batch, growing from small
    for (const b of batches(recs, 1000)) direct.addBatch(b);
    const held = new ScanTable(W, 1 << 12, 2, 5000); // held back and added in bucket order
    for (const b of batches(recs, 777)) held.addBatch(b);
    const merged = new ScanTable(W, 1 << 10, 1, 0); // two halves merged through exported state
    const half = Math.floor(recs.length / 2);
    for (const part of [recs.slice(0, half), recs.slice(half)]) {
      const t = new ScanTable(W, 1 << 10, 1, 0);
      for (const b of batches(part, 500)) t.addBatch(b);
      merged.mergeState(t.exportState());
    }
    for (const t of [direct, held, merged]) {
      const got = t.finalize(opts);
      expect(got.keys).toBe(want.keys);
      expect(byJson(got.verdicts)).toEqual(byJson(want.verdicts));
      expect(byJson(got.endpointDays)).toEqual(byJson(want.endpointDays));
    }
  });

  it('keeps only the scans without near misses, in the module and in JavaScript (keys are dropped before their verdicts are made)', () => {
    const recs = records(20261207);
    const thresholds = { ...DEFAULT_THRESHOLDS };
    const want = reference(recs, thresholds, false);
    expect(want.verdicts.length).toBeGreaterThan(20);
    expect(reference(recs, thresholds, true).verdicts.length - want.verdicts.length).toBeGreaterThan(10); // near misses to drop
    const opts = { thresholds, windowSeconds: W, nearMisses: false, endpointSources: true };
    const inModule = new ScanTable(W, 1 << 12, 1, 5000); // held: a table in its arena, finalised in the module
    const inJs = new ScanTable(W, 1 << 12, 1, 0); // JavaScript arrays, finalised in JavaScript
    for (const t of [inModule, inJs]) for (const b of batches(recs, 1000)) t.addBatch(b);
    expect(inModule.arena).not.toBeNull();
    expect(inJs.arena).toBeNull();
    for (const t of [inModule, inJs]) {
      const got = t.finalize(opts);
      expect(got.keys).toBe(want.keys);
      expect(byJson(got.verdicts)).toEqual(byJson(want.verdicts));
      expect(byJson(got.endpointDays)).toEqual(byJson(want.endpointDays));
    }
  });
});
