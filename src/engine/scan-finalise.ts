/**
 * Finalisation of the inbound accumulator (SPEC §3): each scan key's features and
 * verdict, and the per-endpoint-day facts of the scans. Reads a table's entries
 * (scan-core.ts) and changes nothing in it.
 *
 * A key's entries all lie in its source's bucket, so entries are first sorted by bucket
 * (a counting sort), then grouped by key one bucket at a time with a small table that
 * stays in cache. Only keys with at least min_endpoints entries can be scans or near
 * misses, so the many one-endpoint keys are counted and passed over without further work.
 */
import { fmix32, mix, SHARD_BUCKETS } from './hash.js';
import type { ScanCore } from './scan-core.js';
import { BUCKET_SHIFT, ENTRY_WORDS, F_BYTES, F_DST6, F_PACKETS, F_SRC6, nextPow2, RF, WIN } from './scan-layout.js';
import type { EndpointDay, FinalizeOptions, FinalizeResult, KeyVerdict } from './verdict.js';
import { CLOUD_NAMES } from '../flow/types.js';
import { coefficientOfVariation, failedConditions } from '../detect/rules.js';
import { formatAddress } from '../net/address.js';

/** Every key's verdict of windows <= opts.uptoWindow (the caller adds held records first and drops after). */
export function finalizeTable(t: ScanCore, opts: FinalizeOptions): FinalizeResult {
  const upto = opts.uptoWindow ?? 0xffffffff;
  const { start, order: byBucket } = entriesByBucket(t, upto);
  const minTuples = Math.max(1, opts.thresholds.minEndpoints);
  const verdicts: KeyVerdict[] = [];
  const scratch = new Scratch();
  const grouper = new KeyGrouper();
  const days = new EndpointDays(t, opts.windowSeconds);
  // one callback for every bucket (a new closure per call would deoptimise group() each time)
  const onKey = (list: Int32Array): void => {
    const v = keyVerdict(t, list, opts, scratch);
    if (v.failed.length === 0) days.addScan(v.window, t.srcA(list[0]!), t.flags(list[0]!) & F_SRC6, ((v.protocol << 16) | v.dstPort) >>> 0, scratch.endpoints, scratch.endpointCount);
    if (v.failed.length === 0 || (opts.nearMisses && v.endpoints >= opts.thresholds.minEndpoints)) verdicts.push(v);
  };
  let keys = 0;
  for (let b = 0; b < SHARD_BUCKETS; b++) {
    if (start[b] === start[b + 1]) continue;
    keys += grouper.group(t, byBucket.subarray(start[b]!, start[b + 1]!), minTuples, onKey);
  }
  return { verdicts, endpointDays: days.result(opts.endpointSources === true), keys, entries: byBucket.length };
}

/** The entries of windows <= upto, sorted by source bucket: bucket b is order[start[b], start[b+1]). */
function entriesByBucket(t: ScanCore, upto: number): { start: Int32Array; order: Int32Array } {
  const u = t.u;
  const count = t.count;
  const start = new Int32Array(SHARD_BUCKETS + 1);
  let m = 0;
  for (let e = 0; e < count; e++) {
    if (u[e * ENTRY_WORDS + WIN]! > upto) continue;
    start[(u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT) + 1]!++;
    m++;
  }
  for (let b = 0; b < SHARD_BUCKETS; b++) start[b + 1]! += start[b]!;
  const fill = start.slice(0, SHARD_BUCKETS);
  const order = new Int32Array(m);
  for (let e = 0; e < count; e++) {
    if (u[e * ENTRY_WORDS + WIN]! > upto) continue;
    order[fill[u[e * ENTRY_WORDS + RF]! >>> BUCKET_SHIFT]!++] = e;
  }
  return { start, order };
}

/** The features and verdict of one key, from its entries; its endpoints' first entries go to sc.endpoints. */
function keyVerdict(t: ScanCore, list: Int32Array, opts: FinalizeOptions, sc: Scratch): KeyVerdict {
  // sort the key's entries by endpoint (cloud+account, dst) so that an endpoint seen
  // in two regions is one endpoint
  const ids = Array.from(list);
  ids.sort((x, y) => t.ep(x) - t.ep(y) || t.dstA(x) - t.dstA(y) || (t.flags(x) & F_DST6) - (t.flags(y) & F_DST6));
  const m = ids.length;
  sc.ensure(m);
  let endpoints = 0;
  let clouds = 0;
  let accounts = 0;
  let flows = 0;
  let packets = 0;
  let bytes = 0;
  let nP = 0;
  let nB = 0;
  let first = 0xffffffff;
  let last = 0;
  let prevEp = -1;
  for (let j = 0; j < m; ) {
    const e0 = ids[j]!;
    const epv = t.ep(e0);
    if (epv !== prevEp) {
      accounts++;
      prevEp = epv;
    }
    clouds |= 1 << (epv >>> 30);
    let fe = 0;
    let pe = 0;
    let be = 0;
    let hasP = false;
    let hasB = false;
    // one endpoint: consecutive entries with the same (ep, dst)
    let q = j;
    while (
      q < m && t.ep(ids[q]!) === epv && t.dstA(ids[q]!) === t.dstA(e0) &&
      (t.flags(ids[q]!) & F_DST6) === (t.flags(e0) & F_DST6)
    ) {
      const e = ids[q]!;
      fe += t.f(e);
      if (t.flags(e) & F_PACKETS) {
        pe += t.p(e);
        hasP = true;
      }
      if (t.flags(e) & F_BYTES) {
        be += t.b(e);
        hasB = true;
      }
      if (t.first(e) < first) first = t.first(e);
      if (t.last(e) > last) last = t.last(e);
      sc.regions[q] = ((epv >>> 30) << 16) | t.region(e);
      q++;
    }
    sc.endpoints[endpoints] = e0;
    sc.fv[endpoints] = fe;
    if (hasP) sc.pv[nP++] = pe;
    if (hasB) sc.bv[nB++] = be;
    flows += fe;
    packets += pe;
    bytes += be;
    endpoints++;
    j = q;
  }
  sc.endpointCount = endpoints;
  const regionList = sc.regions.subarray(0, m).sort();
  let regions = 0;
  for (let j = 0; j < m; j++) if (j === 0 || regionList[j] !== regionList[j - 1]) regions++;
  const cvPackets = nP === 0 ? null : coefficientOfVariation(sc.pv, nP);
  const cvBytes = nB === 0 ? null : coefficientOfVariation(sc.bv, nB);
  const cvFlows = coefficientOfVariation(sc.fv, endpoints);
  const features = {
    endpoints,
    clouds: popcount(clouds),
    accounts,
    regions,
    cvPackets,
    cvBytes,
    cvFlows,
  };
  const e0 = list[0]!;
  const srcWords = new Uint32Array(4);
  t.v6.wordsOf(t.srcA(e0), (t.flags(e0) & F_SRC6) !== 0, srcWords);
  return {
    window: t.win(e0),
    srcWords: Array.from(srcWords),
    src: formatAddress(srcWords),
    protocol: t.pp(e0) >>> 16,
    dstPort: t.pp(e0) & 0xffff,
    ...features,
    flows,
    packets,
    bytes,
    firstSeen: first,
    lastSeen: last,
    failed: failedConditions(features, opts.thresholds),
  };
}

/**
 * Groups the entries of one bucket by scan key (src, protocol, dst port, window) and
 * hands each key with at least `minTuples` entries to `onKey`, its entries in table
 * order. Its arrays are reused from bucket to bucket.
 */
class KeyGrouper {
  private slots = new Int32Array(64); // key + 1 per slot, 0 = empty
  private keyFirst = new Int32Array(32); // an entry of each key, to compare against
  private keyCount = new Int32Array(32);
  private keyOf = new Int32Array(32); // per position in the bucket's list
  private offset = new Int32Array(33);
  private order = new Int32Array(32);

  /** Returns the number of distinct keys among `ids`. */
  group(t: ScanCore, ids: Int32Array, minTuples: number, onKey: (list: Int32Array) => void): number {
    const m = ids.length;
    this.ensure(m);
    const size = nextPow2(Math.max(16, m * 2));
    const slots = this.slots;
    slots.fill(0, 0, size);
    const mask = size - 1;
    const { keyFirst, keyCount, keyOf } = this;
    let keys = 0;
    for (let j = 0; j < m; j++) {
      const e = ids[j]!;
      const sA = t.srcA(e);
      const pp = t.pp(e);
      const w = t.win(e);
      const s6 = t.flags(e) & F_SRC6;
      let slot = fmix32(mix(mix(mix(mix(0x3c6ef372, sA), pp), w), s6)) & mask;
      for (;;) {
        const k1 = slots[slot]!;
        if (k1 === 0) {
          keyFirst[keys] = e;
          keyCount[keys] = 1;
          keyOf[j] = keys;
          slots[slot] = ++keys;
          break;
        }
        const r = keyFirst[k1 - 1]!;
        if (t.srcA(r) === sA && t.pp(r) === pp && t.win(r) === w && (t.flags(r) & F_SRC6) === s6) {
          keyCount[k1 - 1]!++;
          keyOf[j] = k1 - 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
    }
    // the candidate keys' entries, contiguous per key (counting sort)
    const offset = this.offset;
    offset[0] = 0;
    let candidates = 0;
    for (let k = 0; k < keys; k++) {
      const c = keyCount[k]! >= minTuples ? keyCount[k]! : 0;
      if (c) candidates++;
      offset[k + 1] = offset[k]! + c;
    }
    if (candidates === 0) return keys;
    const order = this.order;
    const fill = offset.slice(0, keys);
    for (let j = 0; j < m; j++) {
      const k = keyOf[j]!;
      if (keyCount[k]! >= minTuples) order[fill[k]!++] = ids[j]!;
    }
    for (let k = 0; k < keys; k++) if (keyCount[k]! >= minTuples) onKey(order.subarray(offset[k]!, offset[k + 1]!));
    return keys;
  }

  private ensure(m: number): void {
    if (this.keyOf.length >= m) return;
    const c = nextPow2(m);
    this.slots = new Int32Array(Math.max(16, c * 2));
    this.keyFirst = new Int32Array(c);
    this.keyCount = new Int32Array(c);
    this.keyOf = new Int32Array(c);
    this.offset = new Int32Array(c + 1);
    this.order = new Int32Array(c);
  }
}

/** Per-key working arrays, reused from key to key. */
class Scratch {
  fv = new Float64Array(64);
  pv = new Float64Array(64);
  bv = new Float64Array(64);
  regions = new Uint32Array(64);
  /** the first entry of each endpoint of the last key (keyVerdict), endpointCount of them */
  endpoints = new Int32Array(64);
  endpointCount = 0;
  ensure(m: number): void {
    if (this.fv.length >= m) return;
    const c = nextPow2(m);
    this.fv = new Float64Array(c);
    this.pv = new Float64Array(c);
    this.bv = new Float64Array(c);
    this.regions = new Uint32Array(c);
    this.endpoints = new Int32Array(c);
  }
}

function popcount(x: number): number {
  let c = 0;
  while (x) {
    c += x & 1;
    x >>>= 1;
  }
  return c;
}

const DAY_SECONDS = 86400;

/**
 * Collects the EndpointDay facts of one finalisation's scans in typed arrays: an
 * endpoint-day (UTC day, cloud and account, dst) gets an integer id from a small open
 * hash table, and each (scan key, endpoint) adds one (endpoint-day, source, port)
 * triple. result() sorts the triples per endpoint-day to count distinct sources and
 * ports. No string or object per tuple: text is made once per endpoint-day and per
 * distinct source at the end. (A Map keyed by a template string with two Sets per
 * endpoint-day cost 18 % of a run's CPU on real data, issue 19.) Endpoint-days come out
 * in the order first seen, as the Map gave them.
 */
export class EndpointDays {
  private slots = new Int32Array(1024); // endpoint-day id + 1, 0 = empty
  private n = 0;
  // per endpoint-day id: its key and one entry of it (for the address text)
  private dayOf = new Uint32Array(256);
  private epOf = new Uint32Array(256);
  private dstOf = new Uint32Array(256);
  private famOf = new Uint8Array(256);
  private entryOf = new Int32Array(256);
  // the triples
  private triples = 0;
  private tDay = new Int32Array(1024);
  private tSrc = new Float64Array(1024); // source word + 2^32 when IPv6 (an intern id)
  private tPort = new Uint32Array(1024);

  constructor(
    private readonly t: ScanCore,
    private readonly windowSeconds: number,
  ) {}

  /** A scan key of `window` from source (sA, s6 = F_SRC6 or 0) on port (protocol << 16 | port): its endpoints' entries. */
  addScan(window: number, sA: number, s6: number, port: number, endpoints: Int32Array, count: number): void {
    const t = this.t;
    const day = Math.floor((window * this.windowSeconds) / DAY_SECONDS);
    const src = s6 ? sA + 4294967296 : sA;
    if (this.triples + count > this.tDay.length) this.growTriples(this.triples + count);
    for (let j = 0; j < count; j++) {
      const e = endpoints[j]!;
      const id = this.idOf(day, t.ep(e), t.dstA(e), t.flags(e) & F_DST6, e);
      const k = this.triples++;
      this.tDay[k] = id;
      this.tSrc[k] = src;
      this.tPort[k] = port;
    }
  }

  /** The endpoint-day's id, a new one when first seen. */
  private idOf(day: number, ep: number, dst: number, fam: number, e: number): number {
    let mask = this.slots.length - 1;
    let slot = fmix32(mix(mix(mix(mix(0x1b873593, day), ep), dst), fam)) & mask;
    for (;;) {
      const v = this.slots[slot]!;
      if (v === 0) break;
      const id = v - 1;
      if (this.dayOf[id] === day && this.epOf[id] === ep && this.dstOf[id] === dst && this.famOf[id] === fam) return id;
      slot = (slot + 1) & mask;
    }
    const id = this.n++;
    if (id === this.dayOf.length) this.growIds();
    this.dayOf[id] = day;
    this.epOf[id] = ep;
    this.dstOf[id] = dst;
    this.famOf[id] = fam;
    this.entryOf[id] = e;
    this.slots[slot] = id + 1;
    if (this.n * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      mask = this.slots.length - 1;
      for (let i = 0; i < this.n; i++) {
        let s = fmix32(mix(mix(mix(mix(0x1b873593, this.dayOf[i]!), this.epOf[i]!), this.dstOf[i]!), this.famOf[i]!)) & mask;
        while (this.slots[s] !== 0) s = (s + 1) & mask;
        this.slots[s] = i + 1;
      }
    }
    return id;
  }

  private growIds(): void {
    const c = this.dayOf.length * 2;
    const grow = <A extends Uint32Array | Uint8Array | Int32Array>(a: A, make: new (n: number) => A): A => {
      const b = new make(c);
      b.set(a);
      return b;
    };
    this.dayOf = grow(this.dayOf, Uint32Array);
    this.epOf = grow(this.epOf, Uint32Array);
    this.dstOf = grow(this.dstOf, Uint32Array);
    this.famOf = grow(this.famOf, Uint8Array);
    this.entryOf = grow(this.entryOf, Int32Array);
  }

  private growTriples(need: number): void {
    const c = nextPow2(need);
    const day = new Int32Array(c);
    day.set(this.tDay);
    const src = new Float64Array(c);
    src.set(this.tSrc);
    const port = new Uint32Array(c);
    port.set(this.tPort);
    this.tDay = day;
    this.tSrc = src;
    this.tPort = port;
  }

  result(withSources: boolean): EndpointDay[] {
    const n = this.n;
    const m = this.triples;
    // the triples grouped by endpoint-day (a counting sort, stable)
    const start = new Int32Array(n + 1);
    for (let k = 0; k < m; k++) start[this.tDay[k]! + 1]!++;
    for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
    const fill = start.slice(0, n);
    const srcs = new Float64Array(m);
    const ports = new Uint32Array(m);
    for (let k = 0; k < m; k++) {
      const at = fill[this.tDay[k]!]!++;
      srcs[at] = this.tSrc[k]!;
      ports[at] = this.tPort[k]!;
    }
    const dayText = new Map<number, string>();
    const srcText = new Map<number, string>();
    const out: EndpointDay[] = new Array(n);
    for (let i = 0; i < n; i++) {
      const s = srcs.subarray(start[i]!, start[i + 1]!).sort();
      const p = ports.subarray(start[i]!, start[i + 1]!).sort();
      let scanners = 0;
      for (let j = 0; j < s.length; j++) if (j === 0 || s[j] !== s[j - 1]) scanners++;
      const portList: number[] = [];
      for (let j = 0; j < p.length; j++) if (j === 0 || p[j] !== p[j - 1]) portList.push(p[j]!);
      const day = this.dayOf[i]!;
      let dayString = dayText.get(day);
      if (dayString === undefined) dayText.set(day, (dayString = new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10)));
      const ep = this.epOf[i]!;
      const d: EndpointDay = {
        day: dayString,
        cloud: CLOUD_NAMES[ep >>> 30]!,
        account: this.t.accounts.strings[ep & 0x3fffffff]!,
        endpoint: this.t.dstText(this.entryOf[i]!),
        scanners,
        ports: portList,
      };
      if (withSources) {
        const list: string[] = [];
        for (let j = 0; j < s.length; j++) if (j === 0 || s[j] !== s[j - 1]) list.push(this.sourceText(s[j]!, srcText));
        d.sources = list.sort();
      }
      out[i] = d;
    }
    return out;
  }

  private sourceText(src: number, cache: Map<number, string>): string {
    let text = cache.get(src);
    if (text === undefined) {
      const w = new Uint32Array(4);
      this.t.v6.wordsOf(src >= 4294967296 ? src - 4294967296 : src, src >= 4294967296, w);
      cache.set(src, (text = formatAddress(w)));
    }
    return text;
  }
}
