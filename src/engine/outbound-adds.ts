/**
 * The outbound table's storage in WebAssembly memory (assembly/outbound-adds.ts, built into
 * dist/wasm/ by scripts/wasm.mjs), for its add loop: one module instance per table, its
 * linear memory holding the table's columns, its index, the maps from a batch's string ids
 * to the table's, a stage of a batch's columns and the list of string choices left to
 * JavaScript. The table's JavaScript (finalisation, state export and merge, the records the
 * module does not take, the index's rebuild) reads and writes the same memory through the
 * views placed here, as it reads its own arrays on the JavaScript path.
 *
 * Why: in JavaScript the add loop ran interpreted for a run's first thousands of outbound
 * records, until V8 had compiled it (bench/RESULTS.md, branch gcproute). A module is
 * compiled before it runs.
 *
 * A replay table's fresh blocks (OutboundTable.addBlockRows) are added here too (addRows): a
 * span of the block's columns staged (stageRows) and each key looked up in the block's own
 * index (batchIndex, in this memory), where JavaScript's addBlockRun was the largest TurboFan
 * compile of a replay run, in each shard isolate (bench/RESULTS.md, session 22 replay2).
 *
 * A table that grows is placed in a new memory (and instance), never a grown one: growing a
 * memory detaches its buffer (scripts/wasm.mjs says what that costs). The room past the table
 * lent to its finalisation (groupingSpace) is the one growth, and only where the room set
 * aside is short. FLOWSIEVE_OUTBOUND=js
 * (or a build without the module) keeps the arrays and the loop in JavaScript, for A/B runs.
 */
import { PopulateAhead } from './populate-ahead.js';
import { wasmModule } from '../data/files.js';
import type { FlowBatchData } from '../flow/batch.js';
import { BatchStage, stageRecordBytes } from './batch-stage.js';
import { groupingBytes, type GroupingSpace } from './outbound-wasm.js';
import type { BlockRows, OutboundColumns } from '../replay/row-codec.js';

interface AddExports {
  addStaged(at: number, stage: number, from: number, n: number): number;
  addRows(at: number, from: number, n: number): number;
  countOutbound(at: number, stage: number, n: number): number;
}

/** Records of a batch staged (copied into the module's memory) a call at most. */
export const ADD_STAGE = 4096;
/** Batch-local string ids the maps in the module's memory cover (a batch of more strings is added in JavaScript). */
export const ADD_MAP_CAP = 16384;

const PAGE = 65536;
/** wasm32's 4 GiB less a page */
const MAX_PAGES = 65535;
/** The layout's u32 slots (assembly/outbound-adds.ts L_*). */
const enum L {
  p = 0,
  b,
  src,
  ep,
  pp,
  win,
  dst,
  f,
  first,
  last,
  iface,
  instance,
  region,
  sports,
  flags,
  index,
  mask,
  n,
  cap,
  limit,
  accountMap,
  stringMap,
  seconds, // f64 at slots 22-23
  stage = 24,
  compares,
  compareCount,
  // addRows' (assembly/outbound-adds.ts R_*): a replay block's columns, in ROW_COLUMNS' order
  rowColumns,
  rows = rowColumns + 15,
  lo,
  wide,
  batch,
  batchMask,
}
const COMPARES_AT = 256;
/** The stage's columns, in the order of assembly/outbound-adds.ts addStaged's offsets. */
const ADD_STAGE_COLUMNS = ['src', 'dst', 'packets', 'bytes', 'start', 'end', 'account', 'iface', 'instance', 'region', 'dport', 'sport', 'feed', 'proto', 'cloud'] as const;
/** The columns stage() copies: all but the feed (stageFeed's, copied first to count the outbound records). */
const ADD_STAGE_REST = ADD_STAGE_COLUMNS.filter((c) => c !== 'feed');
const FEED = ['feed'] as const;
const STAGE_RECORD_BYTES = stageRecordBytes(ADD_STAGE_COLUMNS);
const STAGE_AT = COMPARES_AT + 3 * ADD_STAGE * 12;
const MAPS_AT = STAGE_AT + ((ADD_STAGE * STAGE_RECORD_BYTES + 15) & ~15);
/** A fresh block's own index (OutboundTable.startBatchIndex), in the module's memory where it fits. */
export const BATCH_SLOTS = 1 << 16;
const BATCH_AT = MAPS_AT + 2 * ADD_MAP_CAP * 4;
const TABLE_AT = BATCH_AT + BATCH_SLOTS * 4;

/**
 * A replay block's columns that addRows reads (assembly/outbound-adds.ts R_FLAGS to
 * R_INSTANCE), and the bytes a row of each takes at most: a span of ROW_SPAN rows of each is
 * copied into the stage's room (stageRows), then the selected rows' numbers (ROWS_AT).
 */
/** a block's column as stageRows copies it */
type Column = Uint8Array | Uint16Array | Uint32Array | Float64Array;

const ROW_COLUMNS = [
  ['flags', 1, 0],
  ['af', 1, 0],
  ['src', 4, 0],
  ['dst', 4, 0],
  ['proto', 1, 0],
  ['dport', 2, 0],
  ['start', 4, 0],
  ['dur', 4, 0],
  // [column, bytes a row at most, its R_WIDE bit where it has two widths: set when it has the larger]
  ['packets', 8, 1],
  ['bytes', 8, 2],
  ['account', 4, 4],
  ['region', 4, 8],
  ['sport', 2, 0],
  ['iface', 4, 16],
  ['instance', 4, 32],
] as const;
const ROW_SPAN = ADD_STAGE;
/** ROW_COLUMNS' parts as arrays of their own (stageRows reads them by index: no tuple destructured a column) */
const ROW_NAMES = ROW_COLUMNS.map((c) => c[0]);
const ROW_MOST: number[] = ROW_COLUMNS.map((c) => c[1]);
const ROW_BIT: number[] = ROW_COLUMNS.map((c) => c[2]);
/** the columns OutboundColumns holds (the others are BlockRows') */
const ROW_OUTBOUND = ROW_NAMES.map((c) => c === 'sport' || c === 'iface' || c === 'instance');
const ROW_COLUMN_AT: number[] = [];
let rowsAt = STAGE_AT;
for (const most of ROW_MOST) {
  ROW_COLUMN_AT.push(rowsAt);
  rowsAt += (ROW_SPAN * most + 7) & ~7;
}
const ROWS_AT = rowsAt;
if (ROWS_AT + ADD_STAGE * 4 > MAPS_AT) throw new Error('outbound-adds: the row stage does not fit the stage');


/** The module, compiled once a thread; null when not built or FLOWSIEVE_OUTBOUND=js (read for each table: tests switch it). */
function addsModule(): WebAssembly.Module | null {
  return process.env.FLOWSIEVE_OUTBOUND === 'js' ? null : wasmModule('outbound-adds.wasm');
}

/** A table's columns, index and maps as views over one memory (OutboundTable's arrays). */
export interface OutboundViews {
  p: Float64Array;
  b: Float64Array;
  srcA: Uint32Array;
  ep: Uint32Array;
  pp: Uint32Array;
  win: Uint32Array;
  dstA: Uint32Array;
  f: Uint32Array;
  first: Uint32Array;
  last: Uint32Array;
  iface: Uint32Array;
  instance: Uint32Array;
  region: Uint32Array;
  sports: Uint32Array;
  flags: Uint8Array;
  index: Uint32Array;
  accountMap: Uint32Array;
  stringMap: Uint32Array;
  /** a fresh block's own index (OutboundTable.startBatchIndex), where addRows reads it */
  batchIndex: Uint32Array;
}


/** A table's storage in a fresh instance, or null where the JavaScript path runs (see the module comment). */
export function outboundArena(): OutboundArena | null {
  const m = addsModule();
  return m === null ? null : new OutboundArena(m);
}

export class OutboundArena {
  private ex: AddExports | null = null;
  private layout = new Uint32Array(0);
  private memoryBytes = new Uint8Array(0);
  private seconds = new Float64Array(0);
  private staged: BatchStage<(typeof ADD_STAGE_COLUMNS)[number]> | null = null;
  /** (entry, column 0-2, id) triples the last call left to keepSmallest in JavaScript */
  compares = new Uint32Array(0);
  /** the entries' columns backed on libuv's pool ahead of the adds (entriesAhead) */
  private ahead: PopulateAhead | null = null;
  private lead = 0;

  /** The table's memory and where its parts lie (tableAt), its capacity and index slots: place's. */
  private memory: WebAssembly.Memory | null = null;
  private at: number[] = [];
  private cap = 0;
  private slots = 0;
  /** The space the last finalisation laid out in (groupingSpace): zeroed again before the next one. */
  private space: GroupingSpace | null = null;

  constructor(private readonly module: WebAssembly.Module) {}

  /**
   * Entries up to `need` may be written soon: their columns backed ahead (PopulateAhead), at
   * least 32,768 entries (2.1 MB) past it, or a sixteenth of the capacity where that is less.
   */
  entriesAhead(need: number): void {
    this.ahead?.ensure(need, this.lead);
  }

  /**
   * A new memory (and instance) for `cap` entries and an index of `slots`, all zero: the
   * caller copies what it keeps from its old views (`keep` entries). The old memory is left as it is.
   */
  place(cap: number, slots: number, keep: number, room: boolean): OutboundViews {
    const at = tableAt(cap);
    const end = at[L.index]! + slots * 4;
    // and, with `room` (a replay table's), room past the table for its finalisation
    // (groupingSpace), where it fits in wasm32: address space only, until one touches it (a
    // memory of 36 MB and one of 132 MB cost the same to make, 16 ms of CPU with 36 MB
    // touched; growing the first by 96 MB cost 3.3 ms). Other tables measured 1.01-1.02x CPU
    // with it on GCP (bench/RESULTS.md, session 16 replayfin's note), so they go without.
    const withRoom = room ? Math.ceil((end + groupingBytes(cap)) / PAGE) : 0;
    const memory = new WebAssembly.Memory({ initial: withRoom > 0 && withRoom <= MAX_PAGES ? withRoom : Math.ceil(end / PAGE) });
    this.ex = new WebAssembly.Instance(this.module, { env: { memory } }).exports as unknown as AddExports;
    this.memory = memory;
    this.at = at;
    this.cap = cap;
    this.slots = slots;
    this.space = null;
    const buf = memory.buffer;
    this.viewsOf(buf);
    const layout = this.layout;
    layout.set(at, L.p);
    layout[L.mask] = slots - 1;
    layout[L.cap] = cap;
    layout[L.accountMap] = MAPS_AT;
    layout[L.stringMap] = MAPS_AT + ADD_MAP_CAP * 4;
    layout[L.stage] = STAGE_AT;
    layout[L.compares] = COMPARES_AT;
    for (let k = 0; k < ROW_COLUMN_AT.length; k++) layout[L.rowColumns + k] = ROW_COLUMN_AT[k]!;
    layout[L.batch] = BATCH_AT;
    // every column of an entry, p to flags (the index is written as entries go in: at random)
    const columns = at.slice(L.p, L.flags + 1).map((a, c) => [a, c < 2 ? 8 : c < 14 ? 4 : 1] as const);
    this.ahead = new PopulateAhead(new Uint8Array(buf), columns, cap, keep);
    this.lead = Math.min(1 << 15, Math.max(1024, cap >> 4));
    return viewsOver(buf, at, cap, slots);
  }

  /** The arena's own views of its memory's buffer (place; again after groupingSpace grew it). */
  private viewsOf(buf: ArrayBuffer): void {
    this.layout = new Uint32Array(buf, 0, COMPARES_AT / 4);
    this.memoryBytes = new Uint8Array(buf);
    this.seconds = new Float64Array(buf, L.seconds * 4, 1);
    this.compares = new Uint32Array(buf, COMPARES_AT, 3 * ADD_STAGE * 3);
    this.staged = new BatchStage(buf, STAGE_AT, ADD_STAGE, ADD_STAGE_COLUMNS);
  }

  /**
   * `bytes` of zeroed memory past the table, in its memory, for a finalisation's groupings
   * (outbound-wasm.ts), which then read the table's key columns where they lie instead of a
   * copy of them in a fresh memory (the copy's page faults were ~10 ms of each shard thread of a
   * 2-worker replay run: bench/RESULTS.md, session 16 replayfin). place sets room aside for a
   * finalisation of the whole capacity; where that is short the memory grows, which detaches
   * its buffer: `moved` then gets the table's views of the new one. What a finalisation laid
   * out is zeroed before the next one. null: no such memory to be had (the groupings copy the
   * columns).
   */
  groupingSpace(bytes: number, moved: (views: OutboundViews) => void): GroupingSpace | null {
    const memory = this.memory!;
    const from = Math.ceil((this.at[L.index]! + this.slots * 4) / 8) * 8; // not `& ~7`: offsets may pass 2^31
    const need = from + bytes;
    if (need > memory.buffer.byteLength) {
      try {
        memory.grow(Math.ceil((need - memory.buffer.byteLength) / PAGE));
      } catch {
        return null; // past wasm32's 4 GiB, or no address space
      }
      const buf = memory.buffer;
      this.viewsOf(buf);
      this.ahead?.moved(new Uint8Array(buf));
      moved(viewsOver(buf, this.at, this.cap, this.slots));
    }
    const last = this.space;
    if (last !== null) new Uint8Array(memory.buffer, from, last.laid - from).fill(0);
    const at = this.at;
    this.space = { memory, at: from, laid: from, columns: [at[L.src]!, at[L.ep]!, at[L.pp]!, at[L.win]!, at[L.dst]!, at[L.flags]!, at[L.sports]!] };
    return this.space;
  }

  /** The feed column of records [from, from + n) of the batch (n <= ADD_STAGE) staged: how many are outbound. */
  stageFeed(batch: FlowBatchData, from: number, n: number): number {
    this.staged!.copy(batch, from, n, FEED);
    return this.ex!.countOutbound(0, ADD_STAGE, n);
  }

  /** The other columns of records [from, from + n) staged (after stageFeed). */
  stage(batch: FlowBatchData, from: number, n: number): void {
    this.staged!.copy(batch, from, n, ADD_STAGE_REST);
  }

  /**
   * The staged records [from, n) added to a table of `count` entries that may hold `limit`
   * (windows of `seconds`): the record it stopped at (n: none). entries() and
   * compareCount() then tell what it did.
   */
  add(from: number, n: number, count: number, limit: number, seconds: number): number {
    const layout = this.layout;
    layout[L.n] = count;
    layout[L.limit] = Math.min(limit, 0xffffffff);
    this.seconds[0] = seconds;
    return this.ex!.addStaged(0, ADD_STAGE, from, n);
  }

  /**
   * Selected rows [from, m) of a replay block (`row`: their numbers, ascending) staged for
   * addRows: those whose span of the block's rows fits ROW_SPAN, ADD_STAGE at most, their
   * columns copied over that span a column at a time. The end of the rows staged.
   */
  stageRows(r: BlockRows, oc: OutboundColumns, row: Int32Array, from: number, m: number): number {
    const lo = row[from]!;
    // the last row whose span fits: rows ascend, so a binary search
    let a = from + 1;
    let b = Math.min(m, from + ADD_STAGE);
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if (row[mid - 1]! - lo < ROW_SPAN) a = mid;
      else b = mid - 1;
    }
    const to = a;
    const span = row[to - 1]! - lo + 1;
    const mem = this.memoryBytes;
    const layout = this.layout;
    let wide = 0;
    for (let k = 0; k < ROW_NAMES.length; k++) {
      const c = (ROW_OUTBOUND[k] ? (oc as unknown as Record<string, Column>) : (r as unknown as Record<string, Column>))[ROW_NAMES[k]!]!;
      const per = c.BYTES_PER_ELEMENT;
      mem.set(new Uint8Array(c.buffer, c.byteOffset + lo * per, span * per), ROW_COLUMN_AT[k]!);
      if (per === ROW_MOST[k]) wide |= ROW_BIT[k]!;
    }
    new Int32Array(mem.buffer, ROWS_AT, to - from).set(row.subarray(from, to));
    layout[L.rows] = (ROWS_AT - from * 4) >>> 0; // addRows reads row j at rows + 4j
    layout[L.lo] = lo;
    layout[L.wide] = wide;
    return to;
  }

  /**
   * The staged rows [from, to) added (addRows) to a table of `count` entries that may hold
   * `limit`, looked up in the block's index of `batchMask` (views' batchIndex): the row it
   * stopped at (to: none), as add's.
   */
  addRows(from: number, to: number, count: number, limit: number, seconds: number, batchMask: number): number {
    const layout = this.layout;
    layout[L.n] = count;
    layout[L.limit] = Math.min(limit, 0xffffffff);
    layout[L.batchMask] = batchMask;
    this.seconds[0] = seconds;
    return this.ex!.addRows(0, from, to);
  }

  /** The table's entries after the last call. */
  entries(): number {
    return this.layout[L.n]!;
  }

  /** The string choices the last call listed (compares). */
  compareCount(): number {
    return this.layout[L.compareCount]!;
  }
}

/**
 * Where a table of `cap` entries lies, in the layout's order (L.p to L.index): packets and
 * bytes (f64), the 12 u32 columns (L.src to L.sports), the flags (u8), then the index.
 */
function tableAt(cap: number): number[] {
  const pAt = TABLE_AT;
  const bAt = pAt + cap * 8;
  const colsAt = bAt + cap * 8;
  const flagsAt = colsAt + 12 * cap * 4;
  const indexAt = (flagsAt + cap + 15) & ~15;
  return [pAt, bAt, ...Array.from({ length: 12 }, (_, k) => colsAt + k * cap * 4), flagsAt, indexAt];
}

/** The table's views over a memory laid out by tableAt (`at`), its index of `slots`. */
function viewsOver(buf: ArrayBuffer, at: number[], cap: number, slots: number): OutboundViews {
  const u32 = (l: L) => new Uint32Array(buf, at[l]!, cap);
  return {
    p: new Float64Array(buf, at[L.p]!, cap),
    b: new Float64Array(buf, at[L.b]!, cap),
    srcA: u32(L.src),
    ep: u32(L.ep),
    pp: u32(L.pp),
    win: u32(L.win),
    dstA: u32(L.dst),
    f: u32(L.f),
    first: u32(L.first),
    last: u32(L.last),
    iface: u32(L.iface),
    instance: u32(L.instance),
    region: u32(L.region),
    sports: u32(L.sports),
    flags: new Uint8Array(buf, at[L.flags]!, cap),
    index: new Uint32Array(buf, at[L.index]!, slots),
    accountMap: new Uint32Array(buf, MAPS_AT, ADD_MAP_CAP),
    stringMap: new Uint32Array(buf, MAPS_AT + ADD_MAP_CAP * 4, ADD_MAP_CAP),
    batchIndex: new Uint32Array(buf, BATCH_AT, BATCH_SLOTS),
  };
}
