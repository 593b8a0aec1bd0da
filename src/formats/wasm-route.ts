/**
 * The JavaScript side of the routing the readers' WebAssembly modules share
 * (assembly/shared/route.ts): the routing block in a module's memory (the sink's settings
 * for a read, the counts it made, the IPv4 table), and the shards' areas into which the module
 * writes the batch columns of the rows it routes, as views the sink copies runs from
 * (FlowSink.beginRouted, appendRoutedIds, routedUpToCounts, endRouted); and which reader a
 * thread runs, the module's or the JavaScript one (WasmReaderChoice).
 */
import { readFileSync } from 'node:fs';
import { wasmFile } from '../data/files.js';
import type { FlowSink, RoutedColumns } from '../flow/sink.js';
import { v4SpecialTable } from '../net/address.js';

/** A plain row's route (assembly/shared/route.ts ROUTE_*): its shard, or one of these. */
export const ROUTE_DONE = -1; // counted by the module: nothing to do
export const ROUTE_EMIT = -2; // for the sink's emit (a reject, or routing off)

/**
 * Areas a module writes at most, one a lane of the sink (FlowSink.lanes: a shard's, and its
 * outbound records' where they go apart); more: every routed row is appended from a FlowRecord.
 */
export const MAX_AREA_SHARDS = 64;
/** Bytes of the routing block: f64 slots, the IPv4 table, then each area's row count and first slot (u32 a shard each). */
export const ROUTING_BLOCK_BYTES = 1024 + 8 * MAX_AREA_SHARDS;
/** Bytes an area takes a row (assembly/shared/route.ts toArea, AREA_BYTES_A_ROW). */
export const AREA_BYTES_A_ROW = 82;
/** Where the routing block's area counts start (assembly/shared/route.ts AREA_COUNTS), and the areas' first slots. */
const AREA_COUNTS = 1024;
const AREA_STARTS = AREA_COUNTS + 4 * MAX_AREA_SHARDS;
/**
 * Rows past a read's most an area holds: a read's rows of a shard start at the slot as far
 * past a multiple of 8 as the shard's batch is filled (FlowSink.areaStart), up to 7.
 */
const AREA_SLACK = 8;

/** Bytes the areas of `shards` shards take, for reads of at most `rows` rows. */
export function areasBytes(shards: number, rows: number): number {
  return shards * (rows + AREA_SLACK) * AREA_BYTES_A_ROW;
}

/** The routing of one module instance: its block at `at`, its areas (when made) at `areasAt`, `rows` rows each. */
export class WasmRouting {
  private slots: Float64Array;
  private areas: RoutedColumns | null = null;
  /** Rows an area holds: a read's most (keptReads times for one shard) and the slack for its first slot. */
  private areaRows: number;

  /**
   * `rows`: the most rows a read routes to one area. `keptReads` (one shard only): the reads
   * an area holds, so that a sink that adds routed rows where they lie (FlowSink addRouted)
   * keeps them across reads and adds them in long runs (RoutedColumns.readRows).
   */

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly at: number,
    private readonly areasAt: number,
    private readonly rows: number,
    private readonly cloud: number,
    private readonly keptReads = 1,
  ) {
    this.areaRows = rows + AREA_SLACK;
    const buf = memory.buffer;
    this.slots = new Float64Array(buf, at, 32);
    // isPublicV4's ranges, copied once: src/net/address.ts stays the one definition
    const v4 = v4SpecialTable();
    new Uint8Array(buf).set(v4.firstOctet, at + 256);
    const u32 = new Uint32Array(buf);
    u32[(at + 512) / 4] = v4.net.length;
    for (let k = 0; k < v4.net.length; k++) {
      u32[(at + 516) / 4 + 2 * k] = v4.net[k]!;
      u32[(at + 516) / 4 + 2 * k + 1] = v4.mask[k]!;
    }
  }

  /**
   * The sink's settings for the next read (routes: the module routes rows; regionBlank: the
   * file's default region is the empty string). True when the memory grew to hold the areas:
   * the caller's views over it are to be made again.
   */
  settings(sink: FlowSink, routes: boolean, regionBlank: boolean): boolean {
    const before = this.memory.buffer;
    // routed rows' batch columns written into areas, one a lane, for the sink to copy
    const areas = routes && sink.lanes <= MAX_AREA_SHARDS ? this.areasFor(sink.lanes, sink.shards) : null;
    const slots = this.slots;
    slots[0] = routes ? 1 : 0;
    slots[1] = sink.notAfter;
    slots[2] = sink.rangeFrom;
    slots[3] = sink.rangeTo;
    slots[4] = sink.shards;
    slots[5] = regionBlank ? 1 : 0;
    slots[6] = sink.lanes > sink.shards ? 1 : 0; // outbound rows to areas of their own (assembly/shared/route.ts S_APART)
    slots[18] = areas === null ? 0 : this.areasAt;
    slots[19] = this.areaRows;
    // TypedArray.set into a SharedArrayBuffer (a ring slot's batch) copies a word at a time
    // only where source and target lie alike modulo 8, else a byte at a time (~10x slower)
    if (areas !== null) for (let s = 0; s < sink.lanes; s++) areas.starts[s] = sink.areaStart(s, areas);
    return this.memory.buffer !== before;
  }

  /** The memory grown now as settings(sink, routes) would grow it: true when it grew (views to be made again). */
  growFor(sink: FlowSink, routes: boolean): boolean {
    const before = this.memory.buffer;
    if (routes && sink.lanes <= MAX_AREA_SHARDS) this.areasFor(sink.lanes, sink.shards);
    return this.memory.buffer !== before;
  }

  /** No routing in the next read: every plain row is ROUTE_EMIT. */
  off(): void {
    this.slots[0] = 0;
    this.slots[18] = 0;
  }

  /** The shards' areas of the last read (null: the rows it routed are appended from a FlowRecord). */
  get routedAreas(): RoutedColumns | null {
    return this.slots[18] === 0 ? null : this.areas;
  }

  /** Where the areas made so far end (areasAt when none are): the memory past it is the caller's. */
  get areasEnd(): number {
    return this.areas === null ? this.areasAt : this.areasAt + this.areas.feed.length * this.areaRows * AREA_BYTES_A_ROW;
  }

  /** Whether the areas made hold several reads' rows (keptReads), which a sink may keep across reads. */
  get keepsReads(): boolean {
    return this.areas !== null && this.areas.readRows > 0;
  }

  /**
   * The views made again when the memory grew since they were made (its old buffer is then
   * detached: views over it read nothing and writes to them are lost): for a caller that grows
   * the memory itself (the Azure module's blob), after it does.
   */
  memoryGrew(): void {
    if (this.slots.buffer === this.memory.buffer) return;
    this.slots = new Float64Array(this.memory.buffer, this.at, 32);
    const areas = this.areas;
    this.areas = null;
    if (areas !== null) this.areasFor(areas.feed.length, areas.readRows > 0 ? 1 : 2);
  }

  /**
   * Areas for `lanes` lanes of a sink of `shards` shards (one shard: an area holds keptReads
   * reads), the memory grown to hold them.
   */
  private areasFor(lanes: number, shards: number): RoutedColumns {
    const kept = shards === 1 ? this.keptReads : 1;
    if (this.areas !== null && this.areas.feed.length >= lanes && this.areas.readRows > 0 === kept > 1) return this.areas;
    this.areaRows = this.rows * kept + AREA_SLACK;
    const need = this.areasAt + areasBytes(lanes, this.rows * kept);
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
    const buf = this.memory.buffer;
    this.slots = new Float64Array(buf, this.at, 32);
    const n = this.areaRows;
    const per = <T>(make: (at: number) => T): T[] => Array.from({ length: lanes }, (_, s) => make(this.areasAt + s * n * AREA_BYTES_A_ROW));
    // the same offsets as assembly/shared/route.ts toArea
    this.areas = {
      src: per((a) => new Uint32Array(buf, a, 4 * n)),
      dst: per((a) => new Uint32Array(buf, a + 16 * n, 4 * n)),
      packets: per((a) => new Float64Array(buf, a + 32 * n, n)),
      bytes: per((a) => new Float64Array(buf, a + 40 * n, n)),
      start: per((a) => new Uint32Array(buf, a + 48 * n, n)),
      end: per((a) => new Uint32Array(buf, a + 52 * n, n)),
      account: per((a) => new Int32Array(buf, a + 56 * n, n)),
      region: per((a) => new Int32Array(buf, a + 60 * n, n)),
      iface: per((a) => new Int32Array(buf, a + 64 * n, n)),
      instance: per((a) => new Int32Array(buf, a + 68 * n, n)),
      sport: per((a) => new Uint16Array(buf, a + 72 * n, n)),
      dport: per((a) => new Uint16Array(buf, a + 74 * n, n)),
      tcpFlags: per((a) => new Int16Array(buf, a + 76 * n, n)),
      feed: per((a) => new Uint8Array(buf, a + 78 * n, n)),
      proto: per((a) => new Uint8Array(buf, a + 79 * n, n)),
      action: per((a) => new Uint8Array(buf, a + 80 * n, n)),
      direction: per((a) => new Uint8Array(buf, a + 81 * n, n)),
      counts: new Uint32Array(buf, this.at + AREA_COUNTS, lanes),
      starts: new Uint32Array(buf, this.at + AREA_STARTS, lanes),
      ends: this.areas?.ends.length === lanes ? this.areas.ends : new Int32Array(lanes),
      cloud: this.cloud,
      readRows: kept > 1 ? this.rows : 0,
    };
    return this.areas;
  }

  /** What the last read counted of the rows it routed itself, added to the sink's counters (as emit would have). */
  addCounts(sink: FlowSink): void {
    const slots = this.slots;
    if (slots[0] === 0) return;
    const c = sink.counters;
    // `| 0`: a count read from a Float64Array is a double, and adding it in optimised code
    // stored a heap number in the counters, whose fields turned from small integers to
    // doubles (a new map): every function that had seen the old map (emit, the sink's
    // getters, the readers' loops) was deoptimised and compiled again (`--trace-generalization`)
    c.records += slots[8]! | 0;
    c.outsideRange += slots[9]! | 0;
    c.blankRegion += slots[10]! | 0;
    c.internal += slots[11]! | 0;
    c.responses += slots[12]! | 0;
    c.backscatter += slots[13]! | 0;
    c.inbound += slots[14]! | 0;
    c.outbound += slots[15]! | 0;
    if (slots[16]! < sink.minStart) sink.minStart = slots[16]!;
    if (slots[17]! > sink.maxEnd) sink.maxEnd = slots[17]!;
  }
}

/**
 * Which reader of a format a thread runs: `wasm` (the default) reads and routes the usual
 * records in WebAssembly, `wasm-parse` reads them there and hands every record to the sink's
 * emit, `js` runs the JavaScript reader.
 */
export type WasmReaderKind = 'js' | 'wasm' | 'wasm-parse';

/**
 * A format's WebAssembly reader for this thread, as its environment variable chooses it
 * (FLOWSIEVE_AWS_READER and the like), loaded on first use; the same for every reader module.
 */
export class WasmReaderChoice<R> {
  private reader: R | null | undefined;

  /** `file`: the module in dist/wasm; `make`: the reader over the compiled module, routing rows or not. */
  constructor(
    private readonly file: string,
    private readonly envVar: string,
    private readonly make: (module: WebAssembly.Module, routes: boolean) => R,
  ) {}

  /** This thread's reader; null when the JavaScript reader is to run (chosen, or the module not built). */
  current(): R | null {
    if (this.reader === undefined) {
      const kind = process.env[this.envVar];
      this.reader = kind === 'js' ? null : this.load(kind !== 'wasm-parse');
    }
    return this.reader;
  }

  /** For tests and benchmarks: the reader of the parsers opened from now on in this thread. */
  choose(kind: WasmReaderKind): void {
    this.reader = kind === 'js' ? null : this.load(kind === 'wasm');
    if (kind !== 'js' && this.reader === null) throw new Error(`the WebAssembly reader is not built (dist/wasm/${this.file})`);
  }

  private load(routes: boolean): R | null {
    const path = wasmFile(this.file);
    return path === null ? null : this.make(new WebAssembly.Module(readFileSync(path)), routes);
  }
}
