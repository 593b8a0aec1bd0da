/**
 * The GCP NDJSON fast path in WebAssembly (assembly/gcp-lines.ts, built into dist/wasm/ by
 * scripts/wasm.mjs): a window of a block's lines at a time is checked and its LogEntries'
 * fields picked out into rows in the module's memory, where the JavaScript fast path
 * (gcp-fast.ts) reads one line at a time; the usual flow's record is worked out there too,
 * and routed (wasm-route.ts) where the sink allows it. gcp.ts turns a taken row into a record
 * as it turns a line the JavaScript fast path took, and reads every other line with the full walk.
 *
 * Loaded synchronously, once per thread, the first time a GCP NDJSON file is read. The
 * environment variable FLOWSIEVE_GCP_READER (GcpReaderKind: js, wasm-parse, wasm) selects
 * the reader for A/B runs; a build without the module (an install without
 * devDependencies) runs the JavaScript one.
 */
import type { FlowSink, RoutedColumns } from '../flow/sink.js';
import { Cloud } from '../flow/types.js';
import { wasmKeyTable } from './gcp-fast.js';
import { IDS_BLOCK_BYTES, IdSlot, WasmTokenIds } from './wasm-ids.js';
import { ROUTING_BLOCK_BYTES, WasmReaderChoice, WasmRouting, type WasmReaderKind } from './wasm-route.js';

/** Rows a call reads at most, and the bytes of a block it is given at most. */
export const GCP_WASM_ROWS = 4096;
/**
 * 512 KiB: a plain file is read a window at a time (GcpLinesParser.readBytes), and each window
 * costs a few calls of JavaScript (the read, parseLines, the sink's settings and counts, the
 * block's step and, in the engine's thread, its pause). At 256 KiB those ran often enough in
 * both parsing isolates for V8 to optimise each of them with TurboFan, inlined into one another
 * (~34 compiles a run, V8's helper threads ~145 ms of CPU), for JavaScript that takes a few ms;
 * at 512 KiB they stay in baseline code (~14 compiles, the helpers ~0.6x): the run 0.93x CPU.
 * 1 MiB saved no more and cost the parse 1.06x (bench/RESULTS.md, session 21 gcp).
 */
export const GCP_WASM_WINDOW = 512 * 1024;
/**
 * Reads of routed rows a one-shard area holds (~3 MiB): a shard thread that parses its own
 * tasks adds them where they lie in runs of ~32 k rows (FlowSink addRouted), where a read's
 * own run (~250 LogEntries of a 256 KiB window, as it was then) cost the tables 1.12x the run's CPU in per-add work.
 */
const GCP_KEPT_READS = 9;

/** Flag bits of a row (assembly/gcp-lines.ts ROW_*). */
export const enum GcpRowFlag {
  taken = 1,
  blank = 2,
  payload = 4,
  connection = 8,
  srcInstance = 16,
  dstInstance = 32,
  /** src_ip is a dotted quad, its value in the row (RowSlot.srcV4) */
  srcV4 = 64,
  dstV4 = 128,
  /** a flow the module worked out as gcp.ts toRecord would (RowSlot.direction, account, region, instance) */
  simple = 256,
  /** a simple row that is the SRC copy of a flow between two VMs */
  duplicate = 512,
  /** a simple row's account (region, instance) is the last simple row's of this read that had one (not counting rows routed ROUTE_DONE): its id */
  accountSame = 1024,
  regionSame = 2048,
  instanceSame = 4096,
}

/**
 * A row (assembly/gcp-lines.ts ROW_BYTES): i32 slots (line, '\n', trimmed start and end,
 * flags, direction, 26 span starts, 26 span ends, the IPv4 source and destination, the
 * account, region and instance spans, the route and feed, their ids and a spare), then f64:
 * the start and end times, the 6 integer fields.
 */
const ROW_BYTES = 352;
// linear memory: the key table, scratch (1 KiB, then the line shapes the module keeps:
// assembly/gcp-lines.ts SHAPES_SCRATCH, under 132 KiB, then the visit list: GCP_WASM_ROWS
// u32), the window (and slack for vector
// loads), the rows, the routing block (wasm-route.ts), the ids block (wasm-ids.ts), the copy
// window (and slack), the shards' areas (made on the first read that routes)
const TABLE_AT = 0;
const SCRATCH_AT = 12 * 1024;
const BLOCK_AT = 176 * 1024;
const ROWS_AT = BLOCK_AT + GCP_WASM_WINDOW + 64;
const ROUTING_AT = ROWS_AT + GCP_WASM_ROWS * ROW_BYTES;
const IDS_AT = ROUTING_AT + ROUTING_BLOCK_BYTES;
/** A second window, for bytes read elsewhere (a line carried over a block's end): copied there, they leave the window's bytes, which the reader has yet to read, as they are. */
const COPY_AT = IDS_AT + IDS_BLOCK_BYTES;
const AREAS_AT = COPY_AT + GCP_WASM_WINDOW + 64;
/** Where a row's slots are, in i32 elements from its start. */
export const enum RowSlot {
  line = 0,
  newline = 1,
  trimmedStart = 2,
  trimmedEnd = 3,
  flags = 4,
  direction = 5,
  spanS = 6,
  spanE = 32,
  srcV4 = 58,
  dstV4 = 59,
  /** a simple row's strings: start and end (-1: the file's default for account and region, none for instance) */
  accountS = 60,
  accountE = 61,
  regionS = 62,
  regionE = 63,
  instanceS = 64,
  instanceE = 65,
  /** a simple row's route: its shard, ROUTE_DONE or ROUTE_EMIT (wasm-route.ts) */
  route = 66,
  /** a routed row's Feed bits and its slot in its shard's area (feed | slot << 2) */
  feed = 67,
  /** a simple row's account, region and instance as the sink's dictionary ids (read with a sink and not ROUTE_DONE) */
  accountId = 68,
  regionId = 69,
  instanceId = 70,
}
const TIMES_AT = 288;
const INTS_AT = 304;

/** The WebAssembly GCP line reader of one thread: its instance and views of its rows. */
export class GcpWasm {
  i32!: Int32Array;
  f64!: Float64Array;
  private u8!: Uint8Array;
  private windowView: Buffer = Buffer.alloc(0);
  private readonly memory: WebAssembly.Memory;
  /** The routing block and the shards' areas (views over the memory) as the sink takes them. */
  private readonly routing: WasmRouting;
  private readonly readLines: (inPtr: number, len: number, base: number, maxRows: number, out: number, table: number, scratch: number, routing: number, ids: number) => number;
  private readonly fixIds: (out: number, rows: number) => void;
  private readonly visitCount: () => number;
  private readonly duplicateCount: () => number;
  /** The rows of the last read that JavaScript is to visit (assembly/gcp-lines.ts visitListAt), in i32 elements: `visits` of them, ascending. */
  readonly visitList: number;
  visits = 0;
  /** The simple rows' strings looked up in the module (assembly/shared/token-ids.ts). */
  private readonly ids: WasmTokenIds;

  /** routes: route simple rows in the module where the sink allows it (else every one goes to emit). */
  constructor(
    module: WebAssembly.Module,
    readonly routes = true,
  ) {
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as {
      memory: WebAssembly.Memory;
      readLines: GcpWasm['readLines'];
      fixIds: GcpWasm['fixIds'];
      visitListAt: (scratch: number) => number;
      visitCount: () => number;
      duplicateCount: () => number;
    };
    const visitAt = exports.visitListAt(SCRATCH_AT);
    if (visitAt + GCP_WASM_ROWS * 4 > BLOCK_AT) throw new Error('gcp-wasm: the line shapes and the visit list do not fit');
    this.visitList = visitAt >> 2;
    this.visitCount = exports.visitCount;
    this.duplicateCount = exports.duplicateCount;
    const need = AREAS_AT;
    const have = exports.memory.buffer.byteLength;
    if (need > have) exports.memory.grow(Math.ceil((need - have) / 65536));
    this.memory = exports.memory;
    this.views();
    this.readLines = exports.readLines;
    this.fixIds = exports.fixIds;
    this.ids = new WasmTokenIds(this.memory, IDS_AT);
    this.routing = new WasmRouting(this.memory, ROUTING_AT, AREAS_AT, GCP_WASM_ROWS, Cloud.gcp, GCP_KEPT_READS);
    const table = wasmKeyTable();
    if (table.length > SCRATCH_AT - TABLE_AT) throw new Error('gcp-wasm: the key table does not fit');
    this.u8.set(table, TABLE_AT);
    this.u8.fill(0xff, SCRATCH_AT, SCRATCH_AT + 1024); // the foreseen keys: none known
  }

  /** The views over the memory made (again, when it grew). */
  private views(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
  }

  /**
   * Reads the lines of buf[s, s + len) that end with '\n' (len <= GCP_WASM_WINDOW) into rows:
   * the rows written. Positions in the rows are buf's. With a sink, simple rows get their
   * strings' ids in its dictionary (the file's account and region ids where they have none),
   * and where the sink allows it they are routed as its emit would, ids and all (regionBlank:
   * the file's default region is the empty string); addCounts then adds what the read counted.
   */
  read(buf: Uint8Array, s: number, len: number, sink?: FlowSink, account = 0, region = 0): number {
    // bytes read into the window (readTarget) are read where they lie; any others copied there
    const inPlace = buf.buffer === this.memory.buffer && buf.byteOffset === BLOCK_AT;
    if (!inPlace) this.u8.set(buf.subarray(s, s + len), COPY_AT);
    if (sink === undefined) this.routing.off();
    else if (this.routing.settings(sink, this.routes && sink.routable, region === 0)) this.views();
    const ids = this.ids;
    if (sink !== undefined) ids.prepare(sink.dict, account, region);
    ids.slots[IdSlot.own] = sink === undefined ? 0 : 1;
    const rows = this.readLines(inPlace ? BLOCK_AT + s : COPY_AT, len, s, GCP_WASM_ROWS, ROWS_AT, TABLE_AT, SCRATCH_AT, ROUTING_AT, IDS_AT);
    if (sink !== undefined && ids.hasNew) {
      ids.lookUp(sink.dict);
      this.fixIds(ROWS_AT, rows);
    }
    this.visits = this.visitCount();
    return rows;
  }

  /**
   * The window as a Buffer, for a file's bytes to be read into (GCP_WASM_WINDOW bytes; read
   * then finds them in place). The memory is first grown as a read with this sink grows it
   * (the shards' areas), so that no later read detaches the view while its bytes are parsed.
   */
  window(sink: FlowSink): Buffer {
    if (this.routing.growFor(sink, this.routes && sink.routable)) this.views();
    if (this.windowView.buffer !== this.memory.buffer) this.windowView = Buffer.from(this.memory.buffer, BLOCK_AT, GCP_WASM_WINDOW);
    return this.windowView;
  }

  /** The shards' areas of the last read (null: the rows it routed are appended from a FlowRecord). */
  get routedAreas(): RoutedColumns | null {
    return this.routing.routedAreas;
  }

  /** What the last read counted of the rows it routed itself, and its duplicates, added to the sink's counters (as emit and the reader would have). */
  addCounts(sink: FlowSink): void {
    this.routing.addCounts(sink);
    sink.counters.duplicates += this.duplicateCount();
  }

  /** Row k's first slot, in i32 elements. */
  rowAt(k: number): number {
    return (ROWS_AT + k * ROW_BYTES) >> 2;
  }

  /** Row k's flags (GcpRowFlag). */
  flagsOf(k: number): number {
    return this.i32[this.rowAt(k) + RowSlot.flags]!;
  }

  /** Row k's start and end times (Unix seconds; NaN when absent or not RFC 3339), in f64 elements. */
  timesAt(k: number): number {
    return (ROWS_AT + k * ROW_BYTES + TIMES_AT) >> 3;
  }

  /** Row k's integer fields (gcp-fast.ts N), in f64 elements. */
  intsAt(k: number): number {
    return (ROWS_AT + k * ROW_BYTES + INTS_AT) >> 3;
  }
}

const choice = new WasmReaderChoice('gcp-lines.wasm', 'FLOWSIEVE_GCP_READER', (module, routes) => new GcpWasm(module, routes));

/** The GCP readers (`FLOWSIEVE_GCP_READER`). */
export type GcpReaderKind = WasmReaderKind;

/** This thread's WebAssembly reader, loaded on first use; null when the JavaScript reader is to run. */
export function gcpWasm(): GcpWasm | null {
  return choice.current();
}

/** For tests and benchmarks: choose the reader of the parsers opened from now on in this thread. */
export function setGcpReader(kind: GcpReaderKind): void {
  choice.choose(kind);
}
