/**
 * The outbound table's finalisation groupings in WebAssembly (assembly/outbound-groups.ts,
 * built into dist/wasm/ by scripts/wasm.mjs). A detect run finalises a table once, so the
 * JavaScript groupings ran mostly before V8 had optimised them: ~60 ms of the shard thread on
 * the bucket's 147,511 entries against 11-17 ms warm (bench/RESULTS.md, branch shardwasm).
 * The module's code is compiled before it runs.
 *
 * One finalisation, one memory: every array the groupings write is laid out once, bump after
 * bump, in memory sized for them all, so the memory never grows during it (growing detaches
 * the buffer JavaScript holds views of) and the views handed out (Groups, host figures) stay
 * valid until the finalisation drops the instance. A table in an arena (outbound-adds.ts)
 * lends the space past its columns in its own memory (GroupingSpace), and the groupings read
 * its key columns where they lie; any other table's key columns are copied into a fresh
 * memory (a few MB, faulted in page by page: ~10 ms of a shard thread of 500 k entries).
 *
 * Every pass over entries (or hosts) is called in pieces of PIECE (wasm-pieces.ts): WebAssembly has no on-stack
 * replacement, so a call that starts in Liftoff (V8's baseline code) ends in it, and these
 * passes run once a finalisation; over the 7 M-record bucket's 519 k entries in one call each
 * they ran ~38 ms in Liftoff (perf, bench/RESULTS.md, branch wasmtier). In pieces, those after
 * V8's tier-up (a budget of executed code, then a compile in the background) run TurboFan code.
 *
 * FLOWSIEVE_OUTBOUND=js (or a build without the module, or a table too large for wasm32)
 * keeps the JavaScript groupings, for A/B runs and tests.
 */
import { wasmModule } from '../data/files.js';
import { nextPow2 } from './scan-layout.js';
import { inPieces, PIECE } from './wasm-pieces.js';
import { v4SpecialTable } from '../net/address.js';
import type { HomeNet } from '../net/home-net.js';
import type { V6Intern } from './v6-intern.js';

interface GroupsExports {
  setColumns(src: number, ep: number, pp: number, win: number, dst: number, flags: number, sports: number): void;
  hostHashes(from: number, to: number, upto: number, out: number, inWindow: number, m: number): number;
  groupBegin(m: number, start: number, slots: number, slotCount: number, fillStart: number): void;
  groupEntries(entries: number, from: number, to: number, by: number, hosts: number, start: number, groupOf: number, slots: number, slotCount: number, first: number): number;
  groupStarts(start: number, from: number, to: number): void;
  groupNext(next: number, start: number, count: number): void;
  groupOrder(entries: number, from: number, to: number, groupOf: number, next: number, order: number): void;
  keepCandidates(entries: number, from: number, to: number, need: number, start: number, groupOf: number, hostOf: number, k: number): number;
  setDistinct(keys: number, tags: number, rounds: number): void;
  hostBegin(start: number, hostCount: number): void;
  hostCounts(entries: number, from: number, to: number, hostOf: number, start: number): void;
  hostPlaces(entries: number, from: number, to: number, hostOf: number, next: number, order: number): void;
  hostFigures(hostFrom: number, hostTo: number, start: number, order: number, protocols: number, ports: number, targets: number, sports: number, need: number): void;
  setPublic(firstOctet: number, net: number, mask: number, specials: number, home: number, homeCount: number, public6: number): void;
  splitByTarget(entries: number, from: number, to: number, outbound: number, internal: number, nOut: number): number;
  keepBusyHosts(entries: number, from: number, to: number, hostOf: number, start: number, need: number, out: number, k: number): number;
  keepRepeatedTargets(entries: number, from: number, to: number, hostOf: number, start: number, targets: number, out: number, k: number): number;
  largeGroups(start: number, from: number, to: number, min: number, out: number, n: number): number;
}

/** The columns of a table the groupings read (OutboundTable's, entries [0, n)). */
export interface GroupedColumns {
  n: number;
  srcA: Uint32Array;
  ep: Uint32Array;
  pp: Uint32Array;
  win: Uint32Array;
  dstA: Uint32Array;
  flags: Uint8Array;
  sports: Uint32Array;
}

/**
 * Zeroed memory a finalisation may lay out in from `at` (OutboundArena.groupingSpace), in a
 * memory that holds the table's key columns already, at `columns` (src, ep, pp, win, dst,
 * flags, sports: setColumns' order). `laid`: where the layout has reached (the arena zeroes
 * up to it before lending the space again).
 */
export interface GroupingSpace {
  memory: WebAssembly.Memory;
  at: number;
  laid: number;
  columns: readonly number[];
}

/** Entries with equal keys (OutboundTable's Groups): views into the finalisation's memory. */
export interface WasmGroups {
  count: number;
  start: Int32Array;
  order: Int32Array;
  groupOf: Int32Array;
}

export interface WasmHostFigures {
  protocols: Int32Array;
  ports: Int32Array;
  targets: Int32Array;
  sports: Uint32Array;
  /** where each host's entries of the list start (hostCount + 1 i32s in the memory), for busyHosts */
  startAt: number;
  /** the same i32s as a view */
  listStart: Int32Array;
}

const PAGE = 65536;
/** the module's own data lies below this (it has none: a margin) */
const BASE = 1024;
/** wasm32's 4 GiB less a margin: a finalisation that would need more runs in JavaScript */
const MAX_BYTES = 65535 * PAGE;
/**
 * Bytes a table entry's finalisation may take at most (laid out, not all of it touched; n
 * entries, as many hosts at most): the key columns (25 B); host hashes, window list and host
 * numbers (12 B); the groupings' scratch, shared by all of them (slots, a power of two of at
 * most 4n: 16 B; first entries and group numbers: 8 B); the grouping by host's starts (4 B);
 * the target split's two lists and their busy hosts' lists (8 B); the groupings by port and by
 * target of those (start and order, an outbound entry twice: 16 B); host figures of both lists
 * (order 4 B, start and four figures a host: 40 B; 48 B); the distinct set (three arrays as
 * large as the slots: 48 B); the outbound list's entries of hosts that repeat a target (4 B)
 * and the numbers of the three groupings' large groups (at most a group an entry of each
 * list grouped, an outbound entry twice: 8 B). Fixed parts (16 slots at least, the special
 * ranges, alignment) are in the margin; test/outbound-wasm.test.ts lays out the worst case.
 */
const BYTES_PER_ENTRY = 25 + 12 + 24 + 4 + 8 + 8 + 16 + 48 + 48 + 4 + 8;

/**
 * Bytes a finalisation of a table of `entries` lays out at most, but for the IPv6 and home
 * network parts (wasmGrouping adds those): what an arena sets aside past its table
 * (OutboundArena.place), so that its memory seldom has to grow for one.
 */
export function groupingBytes(entries: number): number {
  return BASE + entries * BYTES_PER_ENTRY + 64 * 1024;
}

/** The module, compiled once a thread; null when not built or FLOWSIEVE_OUTBOUND=js (read at each finalisation: tests switch it). */
function groupsModule(): WebAssembly.Module | null {
  return process.env.FLOWSIEVE_OUTBOUND === 'js' ? null : wasmModule('outbound-groups.wasm');
}

/**
 * One finalisation's groupings, or null where JavaScript groups (see the module comment):
 * in the space `lend` gives for the bytes they need (the table's own memory), else over a
 * copy of the table's columns in a fresh memory.
 */
export function wasmGrouping(cols: GroupedColumns, v6: V6Intern, home: HomeNet, piece = PIECE, lend?: (bytes: number) => GroupingSpace | null): WasmGrouping | null {
  const m = groupsModule();
  if (m === null) return null;
  const homeV4 = home.v4Ranges();
  // and a byte an IPv6 address (public or not), the home networks' IPv4 ranges; the special ranges and alignment in the margin
  const bytes = groupingBytes(cols.n) + v6.n + homeV4.byteLength;
  if (bytes > MAX_BYTES) return null;
  try {
    const space = lend?.(bytes) ?? null;
    return new WasmGrouping(m, cols, bytes, home, homeV4, v6, piece, space);
  } catch {
    return null; // no address space for the memory: JavaScript groups
  }
}

export class WasmGrouping {
  private readonly ex: GroupsExports;
  private readonly memory: WebAssembly.Memory;
  private at = BASE;
  /** where the layout must end */
  private readonly end: number;
  /** hostHash of every entry of the windows grouped (0 for others), by entry */
  private hosts = 0;
  /**
   * The groupings' scratch, laid out once and reused: pages touched for the first time cost
   * a fault each (a fresh memory's bump allocation made each grouping touch new ones)
   */
  private readonly slots: number;
  private readonly slotCount: number;
  private readonly first: number;
  private readonly groupOf: number;

  constructor(
    module: WebAssembly.Module,
    private readonly cols: GroupedColumns,
    bytes: number,
    private readonly home: HomeNet,
    private readonly homeV4: Uint32Array,
    private readonly v6: V6Intern,
    /** entries a call of a pass (PIECE; tests cut at odd places) */
    private readonly piece: number,
    /** the table's memory and its key columns there, or null: a fresh memory, the columns copied in */
    private readonly space: GroupingSpace | null = null,
  ) {
    this.memory = space?.memory ?? new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE) });
    this.at = space?.at ?? BASE;
    this.end = this.at + bytes;
    this.ex = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as unknown as GroupsExports;
    const n = cols.n;
    const put = (a: Uint32Array | Uint8Array): number => {
      const p = this.alloc(a.BYTES_PER_ELEMENT * n);
      new (a.constructor as typeof Uint32Array)(this.memory.buffer, p, n).set(a.subarray(0, n));
      return p;
    };
    const [src, ep, pp, win, dst, flags, sports] = space?.columns ?? [put(cols.srcA), put(cols.ep), put(cols.pp), put(cols.win), put(cols.dstA), put(cols.flags), put(cols.sports)];
    this.ex.setColumns(src!, ep!, pp!, win!, dst!, flags!, sports!);
    this.slotCount = nextPow2(Math.max(16, n * 2));
    this.slots = this.alloc(this.slotCount * 4);
    this.first = this.alloc(n * 4);
    this.groupOf = this.alloc(n * 4);
    // the distinct set: a host's count touches only the first slots (its mask is its own)
    this.ex.setDistinct(this.alloc(this.slotCount * 4), this.alloc(this.slotCount * 4), this.alloc(this.slotCount * 4));
  }

  /** `bytes` of the memory, 8-aligned (zeroed: a fresh memory or a zeroed space, and nothing is laid twice). */
  private alloc(bytes: number): number {
    const p = this.at;
    this.at = Math.ceil((p + bytes) / 8) * 8; // not `& ~7`: offsets may pass 2^31
    if (this.at > this.end || this.at > this.memory.buffer.byteLength) throw new Error('outbound grouping: memory laid out past its size');
    if (this.space !== null) this.space.laid = this.at;
    return p;
  }

  private i32(p: number, n: number): Int32Array {
    return new Int32Array(this.memory.buffer, p, n);
  }

  /** An Int32Array of `n` in the memory, and its address. */
  private array(n: number): { p: number; a: Int32Array } {
    const p = this.alloc(n * 4);
    return { p, a: this.i32(p, n) };
  }

  /**
   * OutboundTable.candidateEntries: the entries (window <= upto) of hosts with at least `need`
   * entries, in entry order; hostOf: each one's host number (by entry), of hostCount.
   */
  candidates(upto: number, need: number): { candidates: Int32Array; hostOf: Int32Array; hostCount: number } {
    const n = this.cols.n;
    this.hosts = this.alloc(n * 4);
    const inWindow = this.array(n);
    let m = 0;
    inPieces(n, this.piece, (from, to) => {
      m = this.ex.hostHashes(from, to, upto >>> 0, this.hosts, inWindow.p, m);
    });
    const hostOf = this.array(n);
    const { groups, startP, groupOfP } = this.group(inWindow.p, m, 0, false);
    let k = 0;
    inPieces(m, this.piece, (from, to) => {
      k = this.ex.keepCandidates(inWindow.p, from, to, need, startP, groupOfP, hostOf.p, k);
    });
    return { candidates: inWindow.a.subarray(0, k), hostOf: hostOf.a, hostCount: groups.count };
  }

  /**
   * OutboundTable.splitByTarget of the candidates (as candidates() gave them): the entries
   * whose target is public (outbound) and those whose target is not (internal), in entry order.
   */
  splitByTarget(candidates: Int32Array): { outbound: Int32Array; internal: Int32Array } {
    const { home, v6, homeV4: ranges } = this;
    const special = v4SpecialTable();
    const first = this.alloc(256);
    new Uint8Array(this.memory.buffer, first, 256).set(special.firstOctet);
    const net = this.array(special.net.length);
    net.a.set(special.net);
    const mask = this.array(special.mask.length);
    mask.a.set(special.mask);
    const homeAt = this.array(ranges.length);
    homeAt.a.set(ranges);
    // IPv6 targets by intern id, judged here once each (there are few)
    const public6 = this.alloc(v6.n);
    const pub6 = new Uint8Array(this.memory.buffer, public6, v6.n);
    for (let id = 0; id < v6.n; id++) pub6[id] = home.isPublic(v6.words, id * 4) ? 1 : 0;
    this.ex.setPublic(first, net.p, mask.p, special.net.length, homeAt.p, ranges.length / 2, public6);
    const k = candidates.length;
    const outbound = this.array(k);
    const internal = this.array(k);
    const list = this.addressOf(candidates);
    let nOut = 0;
    inPieces(k, this.piece, (from, to) => {
      nOut = this.ex.splitByTarget(list, from, to, outbound.p, internal.p, nOut);
    });
    return { outbound: outbound.a.subarray(0, nOut), internal: internal.a.subarray(0, k - nOut) };
  }

  /** Entries of a list grouped by `by` (OutboundTable's BY_*); groupOf is valid until the next grouping. */
  groupBy(entries: Int32Array, by: number): WasmGroups {
    return this.group(this.addressOf(entries), entries.length, by, true).groups;
  }

  /** The address of a list in the memory (one of this grouping's views, or a copy). */
  private addressOf(entries: Int32Array): number {
    if (entries.buffer === this.memory.buffer) return entries.byteOffset;
    const list = this.array(entries.length);
    list.a.set(entries);
    return list.p;
  }

  private group(entriesP: number, m: number, by: number, withOrder: boolean): { groups: WasmGroups; startP: number; groupOfP: number } {
    const start = this.array(m + 1);
    const order = withOrder ? this.array(m) : { p: 0, a: new Int32Array(0) };
    const slotCount = nextPow2(Math.max(16, m * 2));
    const { ex, piece } = this;
    ex.groupBegin(m, start.p, this.slots, slotCount, this.space === null ? 1 : 0);
    let count = 0;
    inPieces(m, piece, (from, to) => {
      count = ex.groupEntries(entriesP, from, to, by, this.hosts, start.p, this.groupOf, this.slots, slotCount, this.first);
    });
    inPieces(count, piece, (from, to) => ex.groupStarts(start.p, from, to));
    if (withOrder) {
      ex.groupNext(this.first, start.p, count); // the first entries are no longer needed
      inPieces(m, piece, (from, to) => ex.groupOrder(entriesP, from, to, this.groupOf, this.first, order.p));
    }
    const groupOf = this.i32(this.groupOf, m);
    return { groups: { count, start: start.a.subarray(0, count + 1), order: order.a, groupOf }, startP: start.p, groupOfP: this.groupOf };
  }

  /**
   * OutboundTable.hostInfoOf's figures of the hosts of `entries` (hostOf: by entry, as
   * candidates gave it) with at least `need` of them (the hosts busyHosts keeps; others' are 0).
   */
  hostFigures(entries: Int32Array, hostOf: Int32Array, hostCount: number, need: number): WasmHostFigures {
    const list = this.addressOf(entries);
    const start = this.alloc((hostCount + 1) * 4);
    const order = this.alloc(entries.length * 4);
    const protocols = this.array(hostCount);
    const ports = this.array(hostCount);
    const targets = this.array(hostCount);
    const sports = this.alloc(hostCount * 4);
    const hostOfP = this.addressOf(hostOf);
    const { ex, piece } = this;
    const m = entries.length;
    ex.hostBegin(start, hostCount);
    inPieces(m, piece, (from, to) => ex.hostCounts(list, from, to, hostOfP, start));
    inPieces(hostCount, piece, (from, to) => ex.groupStarts(start, from, to));
    ex.groupNext(protocols.p, start, hostCount); // each host's next place: its figures' slots, written last, serve meanwhile
    inPieces(m, piece, (from, to) => ex.hostPlaces(list, from, to, hostOfP, protocols.p, order));
    // a host's figures go over all its entries three times (the bucket's hosts have ~100): fewer hosts a piece
    const hosts = Math.max(1, piece >> 6);
    inPieces(hostCount, hosts, (from, to) => ex.hostFigures(from, to, start, order, protocols.p, ports.p, targets.p, sports, need));
    return { protocols: protocols.a, ports: ports.a, targets: targets.a, sports: new Uint32Array(this.memory.buffer, sports, hostCount), startAt: start, listStart: this.i32(start, hostCount + 1) };
  }

  /**
   * OutboundTable's withRepeatedTargets of a list (figures: hostFigures of the list the
   * entries were kept from, whose host starts they count): the entries of hosts with more
   * entries than distinct targets, in their order. In JavaScript this loop over the outbound
   * entries runs once a run, mostly before V8 compiles it (~2.8 ms of the serial tail on the
   * GCP blobs' 65 k entries).
   */
  repeatedTargets(entries: Int32Array, hostOf: Int32Array, figures: WasmHostFigures): Int32Array {
    const out = this.array(entries.length);
    const list = this.addressOf(entries);
    const hostOfP = this.addressOf(hostOf);
    const targets = this.addressOf(figures.targets);
    let k = 0;
    inPieces(entries.length, this.piece, (from, to) => {
      k = this.ex.keepRepeatedTargets(list, from, to, hostOfP, figures.startAt, targets, out.p, k);
    });
    return out.a.subarray(0, k);
  }

  /**
   * OutboundTable's groupsOfAtLeast of groups this grouping made: the numbers of those with at
   * least `min` entries, in order (a loop over every group, once a run, as repeatedTargets').
   */
  largeGroups(groups: WasmGroups, min: number): Int32Array {
    if (!(min <= 0xffffffff)) return new Int32Array(0); // NaN, or more than any group holds
    const out = this.array(groups.count);
    const start = this.addressOf(groups.start);
    const least = Math.max(0, Math.ceil(min)); // a group's size is whole: at least 2.5 is at least 3
    let n = 0;
    inPieces(groups.count, this.piece, (from, to) => {
      n = this.ex.largeGroups(start, from, to, least, out.p, n);
    });
    return out.a.subarray(0, n);
  }

  /**
   * The entries of a list whose host has at least `need` of them (figures: hostFigures of the
   * same list), in their order: only they can make a group of `need` (keepBusyHosts).
   */
  busyHosts(entries: Int32Array, hostOf: Int32Array, figures: WasmHostFigures, need: number): Int32Array {
    if (need <= 1) return entries;
    const out = this.array(entries.length);
    const list = this.addressOf(entries);
    const hostOfP = this.addressOf(hostOf);
    let k = 0;
    inPieces(entries.length, this.piece, (from, to) => {
      k = this.ex.keepBusyHosts(list, from, to, hostOfP, figures.startAt, need, out.p, k);
    });
    return out.a.subarray(0, k);
  }
}
