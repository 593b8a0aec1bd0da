/**
 * The inbound accumulator of one shard (SPEC §3).
 *
 * One open-addressing hash table over struct-of-arrays columns, keyed by
 * (scan key, endpoint, region) = (src, protocol, dst_port, window, cloud, account,
 * dst, region). Each entry holds the counts of that endpoint under that key: records,
 * known packets, known bytes, first start, last end. Everything SPEC §3 asks for is a
 * function of these entries, and entries merge by addition: two shards, two checkpoints
 * or two machines holding parts of the same key combine exactly.
 *
 * Memory: 51 bytes of columns per entry plus the index (4 bytes a slot, load <= 0.6);
 * no object per entry. Most keys in real traffic have one endpoint, so the entry is
 * the unit that decides speed and memory.
 */
import { fmix32, hashAddress, mix, shardOf } from './hash.js';
import { V6Intern } from './v6-intern.js';
import { StringDict } from '../flow/dict.js';
import type { FlowBatchData } from '../flow/batch.js';
import { CLOUD_NAMES, Feed } from '../flow/types.js';
import { coefficientOfVariation, failedConditions, type Thresholds } from '../detect/rules.js';
import { formatAddress } from '../net/address.js';

const F_PACKETS = 1;
const F_BYTES = 2;
const F_SRC6 = 4;
const F_DST6 = 8;

/** One scan key's result, as the shard hands it to the merger. */
export interface KeyVerdict {
  window: number;
  srcWords: number[]; // four words, for sorting
  src: string;
  protocol: number;
  dstPort: number;
  endpoints: number;
  clouds: number;
  accounts: number;
  regions: number;
  flows: number;
  packets: number;
  bytes: number;
  cvPackets: number | null;
  cvBytes: number | null;
  cvFlows: number;
  firstSeen: number;
  lastSeen: number;
  failed: string[]; // [] for a scan
}

export interface FinalizeOptions {
  thresholds: Thresholds;
  windowSeconds: number;
  nearMisses: boolean;
  /** Only finalise (and then drop) entries whose window is <= this; undefined = all. */
  uptoWindow?: number;
  /** Drop the finalised entries from the table (incremental finalisation). */
  drop?: boolean;
  /**
   * Also list each endpoint-day's scanner sources, so that a caller finalising a day
   * window by window can count the day's distinct scanners exactly (the sidecar).
   */
  endpointSources?: boolean;
}

/** Per endpoint per UTC day: the distinct scanners and scanned ports of scan keys that touched it. */
export interface EndpointDay {
  day: string; // YYYY-MM-DD
  cloud: string;
  account: string;
  endpoint: string; // dst address text
  scanners: number; // distinct scanner sources (sources are disjoint across shards, so counts add)
  ports: number[]; // distinct protocol << 16 | port, sorted
  sources?: string[]; // the scanner sources, sorted (only with FinalizeOptions.endpointSources)
}

export interface FinalizeResult {
  verdicts: KeyVerdict[];
  endpointDays: EndpointDay[];
  keys: number; // distinct scan keys finalised
  entries: number; // distinct (key, endpoint, region) entries finalised
}

/** Which shard is merging: entries of other shards' sources are skipped. */
export interface ShardFilter {
  shard: number;
  shards: number;
}

/** The columns of a table, as exported for checkpoints and merges. */
export interface ScanTableState {
  n: number;
  srcA: Uint32Array;
  pp: Uint32Array;
  win: Uint32Array;
  ep: Uint32Array;
  dstA: Uint32Array;
  region: Uint16Array;
  flags: Uint8Array;
  f: Uint32Array;
  p: Float64Array;
  b: Float64Array;
  first: Uint32Array;
  last: Uint32Array;
  accounts: string[];
  regions: string[];
  v6: Uint32Array;
}

export class ScanTable {
  n = 0;
  private cap: number;
  srcA: Uint32Array;
  pp: Uint32Array;
  win: Uint32Array;
  ep: Uint32Array;
  dstA: Uint32Array;
  region: Uint16Array;
  flags: Uint8Array;
  f: Uint32Array;
  p: Float64Array;
  b: Float64Array;
  first: Uint32Array;
  last: Uint32Array;
  private index: Int32Array;
  private mask: number;
  readonly v6 = new V6Intern();
  readonly accounts = new StringDict();
  readonly regions = new StringDict();
  private accountMap = new Uint32Array(64);
  private regionMap = new Uint32Array(64);

  constructor(
    readonly windowSeconds: number,
    initialCapacity = 1 << 14,
  ) {
    this.cap = initialCapacity;
    this.srcA = new Uint32Array(this.cap);
    this.pp = new Uint32Array(this.cap);
    this.win = new Uint32Array(this.cap);
    this.ep = new Uint32Array(this.cap);
    this.dstA = new Uint32Array(this.cap);
    this.region = new Uint16Array(this.cap);
    this.flags = new Uint8Array(this.cap);
    this.f = new Uint32Array(this.cap);
    this.p = new Float64Array(this.cap);
    this.b = new Float64Array(this.cap);
    this.first = new Uint32Array(this.cap);
    this.last = new Uint32Array(this.cap);
    this.index = new Int32Array(nextPow2(Math.ceil(this.cap / 0.6)));
    this.mask = this.index.length - 1;
  }

  /** Bytes held by the table (columns, index, dictionaries' typed parts). */
  get bytes(): number {
    return this.cap * 51 + this.index.byteLength + this.v6.bytes;
  }

  /** Add every inbound record of a batch. */
  addBatch(batch: FlowBatchData): void {
    this.mapDictionaries(batch);
    const { n, feed, src, dst, proto, dport, packets, bytes, start, end, cloud, account, region } = batch;
    const W = this.windowSeconds;
    const accountMap = this.accountMap;
    const regionMap = this.regionMap;
    for (let i = 0; i < n; i++) {
      if ((feed[i]! & Feed.inbound) === 0) continue;
      const o = i * 4;
      let fam = 0;
      let sA: number;
      if (src[o] === 0 && src[o + 1] === 0 && src[o + 2] === 0xffff) sA = src[o + 3]!;
      else {
        sA = this.v6.intern(src, o);
        fam |= F_SRC6;
      }
      let dA: number;
      if (dst[o] === 0 && dst[o + 1] === 0 && dst[o + 2] === 0xffff) dA = dst[o + 3]!;
      else {
        dA = this.v6.intern(dst, o);
        fam |= F_DST6;
      }
      const ppv = ((proto[i]! << 16) | dport[i]!) >>> 0;
      const w = Math.floor(start[i]! / W);
      const epv = ((cloud[i]! << 30) | accountMap[account[i]!]!) >>> 0;
      const reg = regionMap[region[i]!]!;
      const e = this.findOrInsert(sA, ppv, w, epv, dA, reg, fam);
      this.f[e]!++;
      const pk = packets[i]!;
      if (pk === pk) {
        this.p[e]! += pk;
        this.flags[e]! |= F_PACKETS;
      }
      const by = bytes[i]!;
      if (by === by) {
        this.b[e]! += by;
        this.flags[e]! |= F_BYTES;
      }
      const st = start[i]!;
      if (st < this.first[e]!) this.first[e] = st;
      const en = end[i]!;
      if (en > this.last[e]!) this.last[e] = en;
    }
  }

  /** Translate the batch's dictionary ids to this table's ids (once per batch, not per record). */
  private mapDictionaries(batch: FlowBatchData): void {
    const m = batch.strings.length;
    if (this.accountMap.length < m) {
      this.accountMap = new Uint32Array(nextPow2(m));
      this.regionMap = new Uint32Array(nextPow2(m));
    }
    for (let k = 0; k < m; k++) {
      const s = batch.strings[k]!;
      this.accountMap[k] = this.accounts.idOf(s);
      this.regionMap[k] = this.regions.idOf(s);
    }
    if (this.accounts.size >= 1 << 30) throw new Error('more than 2^30 distinct accounts in one shard');
    if (this.regions.size >= 1 << 16) throw new Error('more than 65535 distinct regions in one shard');
  }

  private hashOf(sA: number, ppv: number, w: number, epv: number, dA: number, reg: number, fam: number): number {
    let h = mix(0x2545f491, sA);
    h = mix(h, ppv);
    h = mix(h, w);
    h = mix(h, epv);
    h = mix(h, dA);
    h = mix(h, reg | (fam << 16));
    return fmix32(h);
  }

  /** Entry index of the key, inserting a zeroed entry when new. */
  findOrInsert(sA: number, ppv: number, w: number, epv: number, dA: number, reg: number, fam: number): number {
    const famBits = fam & (F_SRC6 | F_DST6);
    let slot = this.hashOf(sA, ppv, w, epv, dA, reg, famBits) & this.mask;
    const index = this.index;
    for (;;) {
      const e1 = index[slot]!;
      if (e1 === 0) break;
      const e = e1 - 1;
      if (
        this.srcA[e] === sA && this.pp[e] === ppv && this.win[e] === w && this.ep[e] === epv &&
        this.dstA[e] === dA && this.region[e] === reg && (this.flags[e]! & (F_SRC6 | F_DST6)) === famBits
      ) {
        return e;
      }
      slot = (slot + 1) & this.mask;
    }
    if (this.n === this.cap) {
      this.grow();
      return this.findOrInsert(sA, ppv, w, epv, dA, reg, fam);
    }
    const e = this.n++;
    index[slot] = e + 1;
    this.srcA[e] = sA;
    this.pp[e] = ppv;
    this.win[e] = w;
    this.ep[e] = epv;
    this.dstA[e] = dA;
    this.region[e] = reg;
    this.flags[e] = famBits;
    this.f[e] = 0;
    this.p[e] = 0;
    this.b[e] = 0;
    this.first[e] = 0xffffffff;
    this.last[e] = 0;
    return e;
  }

  private grow(): void {
    this.resize(this.cap * 2);
  }

  private resize(cap: number): void {
    const n = this.n;
    const copy = <T extends Uint32Array | Uint16Array | Uint8Array | Float64Array>(a: T, make: (c: number) => T): T => {
      const b = make(cap);
      b.set(a.subarray(0, n) as never);
      return b;
    };
    this.srcA = copy(this.srcA, (c) => new Uint32Array(c));
    this.pp = copy(this.pp, (c) => new Uint32Array(c));
    this.win = copy(this.win, (c) => new Uint32Array(c));
    this.ep = copy(this.ep, (c) => new Uint32Array(c));
    this.dstA = copy(this.dstA, (c) => new Uint32Array(c));
    this.region = copy(this.region, (c) => new Uint16Array(c));
    this.flags = copy(this.flags, (c) => new Uint8Array(c));
    this.f = copy(this.f, (c) => new Uint32Array(c));
    this.p = copy(this.p, (c) => new Float64Array(c));
    this.b = copy(this.b, (c) => new Float64Array(c));
    this.first = copy(this.first, (c) => new Uint32Array(c));
    this.last = copy(this.last, (c) => new Uint32Array(c));
    this.cap = cap;
    this.rebuildIndex();
  }

  private rebuildIndex(): void {
    this.index = new Int32Array(nextPow2(Math.ceil(this.cap / 0.6)));
    this.mask = this.index.length - 1;
    for (let e = 0; e < this.n; e++) {
      let slot =
        this.hashOf(this.srcA[e]!, this.pp[e]!, this.win[e]!, this.ep[e]!, this.dstA[e]!, this.region[e]!, this.flags[e]! & (F_SRC6 | F_DST6)) &
        this.mask;
      while (this.index[slot] !== 0) slot = (slot + 1) & this.mask;
      this.index[slot] = e + 1;
    }
  }

  /** Windows present in the table (for incremental finalisation). */
  windows(): number[] {
    const seen = new Set<number>();
    for (let e = 0; e < this.n; e++) seen.add(this.win[e]!);
    return [...seen].sort((a, b) => a - b);
  }

  /**
   * Compute every key's features and verdict (SPEC §3). Keys are grouped with a
   * second, temporary hash table over (src, protocol, dst_port, window); only keys
   * with at least min_endpoints entries can be scans or near misses, so the many
   * one-endpoint keys are counted and passed over without further work.
   */
  finalize(opts: FinalizeOptions): FinalizeResult {
    const n = this.n;
    const upto = opts.uptoWindow ?? 0xffffffff;
    // 1. group entries by scan key
    const keyOf = new Int32Array(n).fill(-1);
    const keyIndex = new Int32Array(nextPow2(Math.max(16, Math.ceil(n / 0.5))));
    const kmask = keyIndex.length - 1;
    const keyFirst = new Int32Array(n); // an entry of each key, to compare against
    const keyCount = new Int32Array(n);
    let keys = 0;
    let entries = 0;
    for (let e = 0; e < n; e++) {
      if (this.win[e]! > upto) continue;
      entries++;
      const s6 = this.flags[e]! & F_SRC6;
      let slot = fmix32(mix(mix(mix(mix(0x3c6ef372, this.srcA[e]!), this.pp[e]!), this.win[e]!), s6)) & kmask;
      for (;;) {
        const k1 = keyIndex[slot]!;
        if (k1 === 0) {
          keyFirst[keys] = e;
          keyCount[keys] = 1;
          keyIndex[slot] = ++keys;
          keyOf[e] = keys - 1;
          break;
        }
        const r = keyFirst[k1 - 1]!;
        if (this.srcA[r] === this.srcA[e] && this.pp[r] === this.pp[e] && this.win[r] === this.win[e] && (this.flags[r]! & F_SRC6) === s6) {
          keyCount[k1 - 1]!++;
          keyOf[e] = k1 - 1;
          break;
        }
        slot = (slot + 1) & kmask;
      }
    }
    // 2. counting sort of the candidate keys' entries
    const minTuples = Math.max(1, opts.thresholds.minEndpoints);
    const offset = new Int32Array(keys + 1);
    for (let k = 0; k < keys; k++) offset[k + 1] = offset[k]! + (keyCount[k]! >= minTuples ? keyCount[k]! : 0);
    const order = new Int32Array(offset[keys]!);
    const fill = offset.slice(0, keys);
    for (let e = 0; e < n; e++) {
      const k = keyOf[e]!;
      if (k >= 0 && keyCount[k]! >= minTuples) order[fill[k]!++] = e;
    }
    // 3. features per candidate key
    const verdicts: KeyVerdict[] = [];
    const scratch = new Scratch();
    const days = new EndpointDays(this, opts.windowSeconds);
    const endpointEntries: number[] = [];
    for (let k = 0; k < keys; k++) {
      if (keyCount[k]! < minTuples) continue;
      endpointEntries.length = 0;
      const v = this.keyVerdict(order.subarray(offset[k]!, offset[k + 1]!), opts, scratch, endpointEntries);
      if (v.failed.length === 0) days.addScan(v, endpointEntries);
      if (v.failed.length === 0 || (opts.nearMisses && v.endpoints >= opts.thresholds.minEndpoints)) verdicts.push(v);
    }
    if (opts.drop) this.dropWindowsUpTo(upto);
    return { verdicts, endpointDays: days.result(opts.endpointSources === true), keys, entries };
  }

  /** Address text of an entry's destination. */
  dstText(e: number): string {
    const w = new Uint32Array(4);
    this.v6.wordsOf(this.dstA[e]!, (this.flags[e]! & F_DST6) !== 0, w);
    return formatAddress(w);
  }

  private keyVerdict(list: Int32Array, opts: FinalizeOptions, sc: Scratch, endpointsOut: number[]): KeyVerdict {
    // sort the key's entries by endpoint (cloud+account, dst) so that an endpoint seen
    // in two regions is one endpoint
    const ids = Array.from(list);
    ids.sort((x, y) => this.ep[x]! - this.ep[y]! || this.dstA[x]! - this.dstA[y]! || (this.flags[x]! & F_DST6) - (this.flags[y]! & F_DST6));
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
      const epv = this.ep[e0]!;
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
        q < m && this.ep[ids[q]!] === epv && this.dstA[ids[q]!] === this.dstA[e0] &&
        (this.flags[ids[q]!]! & F_DST6) === (this.flags[e0]! & F_DST6)
      ) {
        const e = ids[q]!;
        fe += this.f[e]!;
        if (this.flags[e]! & F_PACKETS) {
          pe += this.p[e]!;
          hasP = true;
        }
        if (this.flags[e]! & F_BYTES) {
          be += this.b[e]!;
          hasB = true;
        }
        if (this.first[e]! < first) first = this.first[e]!;
        if (this.last[e]! > last) last = this.last[e]!;
        sc.regions[q] = ((epv >>> 30) << 16) | this.region[e]!;
        q++;
      }
      endpointsOut.push(e0);
      sc.fv[endpoints] = fe;
      if (hasP) sc.pv[nP++] = pe;
      if (hasB) sc.bv[nB++] = be;
      flows += fe;
      packets += pe;
      bytes += be;
      endpoints++;
      j = q;
    }
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
    this.v6.wordsOf(this.srcA[e0]!, (this.flags[e0]! & F_SRC6) !== 0, srcWords);
    return {
      window: this.win[e0]!,
      srcWords: Array.from(srcWords),
      src: formatAddress(srcWords),
      protocol: this.pp[e0]! >>> 16,
      dstPort: this.pp[e0]! & 0xffff,
      ...features,
      flows,
      packets,
      bytes,
      firstSeen: first,
      lastSeen: last,
      failed: failedConditions(features, opts.thresholds),
    };
  }

  /** Remove every entry of windows <= upto (after they were finalised). */
  dropWindowsUpTo(upto: number): void {
    let w = 0;
    for (let e = 0; e < this.n; e++) {
      if (this.win[e]! <= upto) continue;
      if (w !== e) {
        this.srcA[w] = this.srcA[e]!;
        this.pp[w] = this.pp[e]!;
        this.win[w] = this.win[e]!;
        this.ep[w] = this.ep[e]!;
        this.dstA[w] = this.dstA[e]!;
        this.region[w] = this.region[e]!;
        this.flags[w] = this.flags[e]!;
        this.f[w] = this.f[e]!;
        this.p[w] = this.p[e]!;
        this.b[w] = this.b[e]!;
        this.first[w] = this.first[e]!;
        this.last[w] = this.last[e]!;
      }
      w++;
    }
    this.n = w;
    this.rebuildIndex();
  }

  /** The table's contents, for a checkpoint or a merge elsewhere. */
  exportState(): ScanTableState {
    const n = this.n;
    return {
      n,
      srcA: this.srcA.slice(0, n),
      pp: this.pp.slice(0, n),
      win: this.win.slice(0, n),
      ep: this.ep.slice(0, n),
      dstA: this.dstA.slice(0, n),
      region: this.region.slice(0, n),
      flags: this.flags.slice(0, n),
      f: this.f.slice(0, n),
      p: this.p.slice(0, n),
      b: this.b.slice(0, n),
      first: this.first.slice(0, n),
      last: this.last.slice(0, n),
      accounts: this.accounts.strings.slice(),
      regions: this.regions.strings.slice(),
      v6: this.v6.words.slice(0, this.v6.n * 4),
    };
  }

  /** Add another table's contents to this one: counts add, first/last take min/max. */
  mergeState(s: ScanTableState, only?: ShardFilter): void {
    const accountIds = s.accounts.map((a) => this.accounts.idOf(a));
    const regionIds = s.regions.map((r) => this.regions.idOf(r));
    const v6Ids = new Uint32Array(s.v6.length / 4);
    for (let k = 0; k < v6Ids.length; k++) v6Ids[k] = this.v6.intern(s.v6, k * 4);
    const words = new Uint32Array(4);
    for (let i = 0; i < s.n; i++) {
      const fl = s.flags[i]!;
      if (only) {
        // keep only the sources this shard owns (a checkpoint may come from another worker count)
        if (fl & F_SRC6) words.set(s.v6.subarray(s.srcA[i]! * 4, s.srcA[i]! * 4 + 4));
        else words.set([0, 0, 0xffff, s.srcA[i]!]);
        if (shardOf(hashAddress(words, 0), only.shards) !== only.shard) continue;
      }
      const sA = fl & F_SRC6 ? v6Ids[s.srcA[i]!]! : s.srcA[i]!;
      const dA = fl & F_DST6 ? v6Ids[s.dstA[i]!]! : s.dstA[i]!;
      const epIn = s.ep[i]!;
      const epv = ((epIn >>> 30) << 30 | accountIds[epIn & 0x3fffffff]!) >>> 0;
      const e = this.findOrInsert(sA, s.pp[i]!, s.win[i]!, epv, dA, regionIds[s.region[i]!]!, fl);
      this.f[e]! += s.f[i]!;
      this.p[e]! += s.p[i]!;
      this.b[e]! += s.b[i]!;
      this.flags[e]! |= fl & (F_PACKETS | F_BYTES);
      if (s.first[i]! < this.first[e]!) this.first[e] = s.first[i]!;
      if (s.last[i]! > this.last[e]!) this.last[e] = s.last[i]!;
    }
  }
}

/** Collects EndpointDay facts from the scan keys of one finalisation. */
class EndpointDays {
  private readonly map = new Map<string, { d: EndpointDay; srcs: Set<string>; ports: Set<number> }>();
  constructor(
    private readonly t: ScanTable,
    private readonly windowSeconds: number,
  ) {}

  addScan(v: KeyVerdict, endpointEntries: number[]): void {
    const day = new Date(v.window * this.windowSeconds * 1000).toISOString().slice(0, 10);
    const port = ((v.protocol << 16) | v.dstPort) >>> 0;
    for (const e of endpointEntries) {
      const epv = this.t.ep[e]!;
      const cloud = CLOUD_NAMES[epv >>> 30]!;
      const account = this.t.accounts.strings[epv & 0x3fffffff]!;
      const endpoint = this.t.dstText(e);
      const key = `${day}|${cloud}|${account}|${endpoint}`;
      let x = this.map.get(key);
      if (!x) this.map.set(key, (x = { d: { day, cloud, account, endpoint, scanners: 0, ports: [] }, srcs: new Set(), ports: new Set() }));
      x.srcs.add(v.src);
      x.ports.add(port);
    }
  }

  result(withSources: boolean): EndpointDay[] {
    return [...this.map.values()].map(({ d, srcs, ports }) => ({
      ...d,
      scanners: srcs.size,
      ports: [...ports].sort((a, b) => a - b),
      ...(withSources ? { sources: [...srcs].sort() } : {}),
    }));
  }
}

class Scratch {
  fv = new Float64Array(64);
  pv = new Float64Array(64);
  bv = new Float64Array(64);
  regions = new Uint32Array(64);
  ensure(m: number): void {
    if (this.fv.length >= m) return;
    const c = nextPow2(m);
    this.fv = new Float64Array(c);
    this.pv = new Float64Array(c);
    this.bv = new Float64Array(c);
    this.regions = new Uint32Array(c);
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

export function nextPow2(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}
