/**
 * The endpoint-days of one inbound finalisation (detection.md §3, scan-finalise.ts): for each
 * scan, its endpoints on the scan's UTC day, and per endpoint-day the distinct scanner sources
 * and ports. Two ways to the same columns (DayColumns): EndpointDays here, in JavaScript, and
 * the module (endpoint-days-wasm.ts); endpointDaysOf makes the EndpointDay objects of either.
 */
import { fmix32, mix } from '../flow/hash.js';
import { nextPow2 } from './scan-layout.js';
import type { EndpointDay } from './verdict.js';
import { CLOUD_NAMES } from '../flow/types.js';
import { formatAddress } from '../net/address.js';
import type { V6Intern } from './v6-intern.js';

/** What the endpoint-days read of a table (scan-finalise.ts FinaliseTable has it): accounts, dst text, IPv6 addresses. */
export interface EndpointDayTable {
  readonly accounts: { readonly strings: readonly string[] };
  readonly v6: Pick<V6Intern, 'wordsOf'>;
  dstText(e: number): string;
}

/** Where a finalisation's scans go, one addScan a scan, and the endpoint-days that come out (EndpointDays or the module's StagedEndpointDays). */
export interface EndpointDaySink {
  addScan(window: number, sA: number, s6: number, port: number, rows: Uint32Array, from: number, count: number): void;
  result(withSources: boolean): EndpointDay[];
}

const DAY_SECONDS = 86400;

/** The UTC day (days since the epoch) of a window of windowSeconds. */
export function dayOf(window: number, windowSeconds: number): number {
  return Math.floor((window * windowSeconds) / DAY_SECONDS);
}

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
export class EndpointDays implements EndpointDaySink {
  /** open hash table, two words a slot: the key's hash, endpoint-day id + 1 (0 = empty) */
  private slots = new Int32Array(2048);
  private n = 0;
  /** per endpoint-day id, four words: day, cloud+account, dst, dst family (one cache line to compare) */
  private keyOf = new Uint32Array(256 * 4);
  /** per endpoint-day id: one entry of it (for the address text) */
  private entryOf = new Int32Array(256);
  // the triples
  private triples = 0;
  private tDay = new Int32Array(1024);
  private tSrc = new Float64Array(1024); // source word + 2^32 when IPv6 (an intern id)
  private tPort = new Uint32Array(1024);

  constructor(
    private readonly t: EndpointDayTable,
    private readonly windowSeconds: number,
  ) {}

  /**
   * A scan key of `window` from source (sA, s6 = F_SRC6 or 0) on port (protocol << 16 |
   * port), and its `count` endpoints: rows from.. of four words (first entry, cloud and
   * account, dst, dst family).
   */
  addScan(window: number, sA: number, s6: number, port: number, rows: Uint32Array, from: number, count: number): void {
    const day = dayOf(window, this.windowSeconds);
    const src = s6 ? sA + 4294967296 : sA;
    if (this.triples + count > this.tDay.length) this.growTriples(this.triples + count);
    for (let j = 0; j < count; j++) {
      const r = (from + j) * 4;
      const id = this.idOf(day, rows[r + 1]!, rows[r + 2]!, rows[r + 3]!, rows[r]!);
      const k = this.triples++;
      this.tDay[k] = id;
      this.tSrc[k] = src;
      this.tPort[k] = port;
    }
  }

  /** The endpoint-day's id, a new one when first seen. */
  private idOf(day: number, ep: number, dst: number, fam: number, e: number): number {
    const h = fmix32(mix(mix(mix(mix(0x1b873593, day), ep), dst), fam)) | 0;
    const slots = this.slots;
    const key = this.keyOf;
    const mask = (slots.length >> 1) - 1;
    let slot = h & mask;
    for (;;) {
      const v = slots[slot * 2 + 1]!;
      if (v === 0) break;
      if (slots[slot * 2] === h) {
        const k = (v - 1) * 4;
        if (((key[k]! ^ day) | (key[k + 1]! ^ ep) | (key[k + 2]! ^ dst) | (key[k + 3]! ^ fam)) === 0) return v - 1;
      }
      slot = (slot + 1) & mask;
    }
    const id = this.n++;
    if (id === this.entryOf.length) this.growIds();
    const k = id * 4;
    this.keyOf[k] = day;
    this.keyOf[k + 1] = ep;
    this.keyOf[k + 2] = dst;
    this.keyOf[k + 3] = fam;
    this.entryOf[id] = e;
    slots[slot * 2] = h;
    slots[slot * 2 + 1] = id + 1;
    if (this.n * 4 > slots.length) this.rehash(); // at most half the slots full
    return id;
  }

  private rehash(): void {
    const old = this.slots;
    const slots = new Int32Array(old.length * 2);
    const mask = (slots.length >> 1) - 1;
    for (let i = 0; i < old.length; i += 2) {
      if (old[i + 1] === 0) continue;
      let s = old[i]! & mask;
      while (slots[s * 2 + 1] !== 0) s = (s + 1) & mask;
      slots[s * 2] = old[i]!;
      slots[s * 2 + 1] = old[i + 1]!;
    }
    this.slots = slots;
  }

  private growIds(): void {
    const c = this.entryOf.length * 2;
    const key = new Uint32Array(c * 4);
    key.set(this.keyOf);
    this.keyOf = key;
    const entry = new Int32Array(c);
    entry.set(this.entryOf);
    this.entryOf = entry;
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

  /**
   * The endpoint-days. In passes of their own, each a small function: V8 compiles this once
   * a worker by on-stack replacement, and with the sorts and the distinct counts in its loop
   * it was one of the two largest TurboFan compiles of a replay run (issue 19, replayv8).
   */
  result(withSources: boolean): EndpointDay[] {
    const n = this.n;
    const g = this.groupTriples();
    const scanners = distinctPerDay(g, n);
    const srcs = g.srcs;
    return endpointDaysOf({ n, keyOf: this.keyOf, entryOf: this.entryOf, start: g.start, portEnd: g.portEnd, ports: g.ports, scanners, sources: () => srcs }, this.t, withSources);
  }

  /** The triples grouped by endpoint-day (a counting sort, stable): sources and ports of day i in [start[i], start[i + 1]). */
  private groupTriples(): DayTriples {
    const start = dayStarts(this.tDay, this.triples, this.n);
    const fill = start.slice(0, this.n);
    const srcs = new Float64Array(this.triples);
    const ports = new Uint32Array(this.triples);
    scatterTriples(this.tDay, this.tSrc, this.tPort, this.triples, fill, srcs, ports);
    return { start, srcs, ports, portEnd: fill };
  }
}

/**
 * One finalisation's endpoint-days as columns, ids in the order first seen: n endpoint-days,
 * each with its key (keyOf: four words an id, day, cloud+account, dst, dst family), one entry
 * of it (for the address text), its distinct ports ports[start[i], portEnd[i]) ascending, its
 * distinct sources' count, and (sources(), asked for with --endpoint-sources only) its sources
 * sources()[start[i], start[i + 1]) ascending, each a source word + 2^32 when IPv6.
 */
export interface DayColumns {
  n: number;
  keyOf: Uint32Array;
  entryOf: Int32Array;
  start: Int32Array;
  portEnd: Int32Array;
  ports: Uint32Array;
  scanners: Int32Array;
  sources(): Float64Array;
}

/** The EndpointDay objects of columns `c` (in id order), their sources' text with `withSources`. */
export function endpointDaysOf(c: DayColumns, t: EndpointDayTable, withSources: boolean): EndpointDay[] {
  const dayText = new Map<number, string>();
  const out: EndpointDay[] = new Array(c.n);
  for (let i = 0; i < c.n; i++) out[i] = endpointDay(c, i, t, dayText);
  if (withSources) addSources(out, c, t);
  return out;
}

function endpointDay(c: DayColumns, i: number, t: EndpointDayTable, dayText: Map<number, string>): EndpointDay {
  const portList: number[] = [];
  for (let j = c.start[i]!, to = c.portEnd[i]!; j < to; j++) portList.push(c.ports[j]!);
  const day = c.keyOf[i * 4]!;
  let dayString = dayText.get(day);
  if (dayString === undefined) dayText.set(day, (dayString = new Date(day * DAY_SECONDS * 1000).toISOString().slice(0, 10)));
  const ep = c.keyOf[i * 4 + 1]!;
  return {
    day: dayString,
    cloud: CLOUD_NAMES[ep >>> 30]!,
    account: t.accounts.strings[ep & 0x3fffffff]!,
    endpoint: t.dstText(c.entryOf[i]!),
    scanners: c.scanners[i]!,
    ports: portList,
  };
}

/** Each endpoint-day's distinct sources as text, sorted (--endpoint-sources only). */
function addSources(out: EndpointDay[], c: DayColumns, t: EndpointDayTable): void {
  const srcText = new Map<number, string>();
  const srcs = c.sources();
  for (let i = 0; i < out.length; i++) {
    const from = c.start[i]!;
    const list: string[] = [];
    for (let j = from; j < c.start[i + 1]!; j++) if (j === from || srcs[j] !== srcs[j - 1]) list.push(sourceText(srcs[j]!, srcText, t));
    out[i]!.sources = list.sort();
  }
}

function sourceText(src: number, cache: Map<number, string>, t: EndpointDayTable): string {
  let text = cache.get(src);
  if (text === undefined) {
    const w = new Uint32Array(4);
    t.v6.wordsOf(src >= 4294967296 ? src - 4294967296 : src, src >= 4294967296, w);
    cache.set(src, (text = formatAddress(w)));
  }
  return text;
}

/** EndpointDays's triples by endpoint-day; portEnd[i]: the end of day i's distinct ports, from start[i] (distinctPerDay). */
interface DayTriples {
  start: Int32Array;
  srcs: Float64Array;
  ports: Uint32Array;
  portEnd: Int32Array;
}

/**
 * Where each of n endpoint-days' triples start in day order (n + 1 offsets). The loops of the
 * grouping are functions of their own: each runs once a worker, so V8 optimises it while it
 * runs (on-stack replacement), and code after an optimised loop, with no type feedback yet,
 * deoptimised it when one function held them all.
 */
function dayStarts(tDay: Int32Array, m: number, n: number): Int32Array {
  const start = new Int32Array(n + 1);
  for (let k = 0; k < m; k++) start[tDay[k]! + 1]!++;
  for (let i = 0; i < n; i++) start[i + 1]! += start[i]!;
  return start;
}

/** The m triples' sources and ports into their endpoint-day's place (fill: each day's next place). */
function scatterTriples(tDay: Int32Array, tSrc: Float64Array, tPort: Uint32Array, m: number, fill: Int32Array, srcs: Float64Array, ports: Uint32Array): void {
  for (let k = 0; k < m; k++) {
    const at = fill[tDay[k]!]!++;
    srcs[at] = tSrc[k]!;
    ports[at] = tPort[k]!;
  }
}

/**
 * Sorts each endpoint-day's sources and ports, moves its distinct ports to the front of its
 * range (their end into g.portEnd), and returns its distinct sources' count a day.
 */
function distinctPerDay(g: DayTriples, n: number): Int32Array {
  const { start, srcs, ports, portEnd } = g;
  const scanners = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const from = start[i]!;
    const to = start[i + 1]!;
    sortRange(srcs, from, to);
    sortRange(ports, from, to);
    let c = 0;
    for (let j = from; j < to; j++) if (j === from || srcs[j] !== srcs[j - 1]) c++;
    scanners[i] = c;
    let w = from;
    for (let j = from; j < to; j++) if (j === from || ports[j] !== ports[j - 1]) ports[w++] = ports[j]!;
    portEnd[i] = w;
  }
  return scanners;
}

/**
 * Sort a[from, to) ascending in place: insertion sort for the short runs most
 * endpoint-days have (a few scanners each), the typed array's sort beyond (a subarray
 * and a sort call for each of tens of thousands of endpoint-days cost more than the sorting).
 */
function sortRange(a: Float64Array | Uint32Array, from: number, to: number): void {
  if (to - from > 24) {
    a.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= from && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
}
