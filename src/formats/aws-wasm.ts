/**
 * The AWS text reader in WebAssembly (assembly/aws-lines.ts, built into dist/wasm/ by
 * scripts/wasm.mjs): one table-driven loop for every layout reads a block's plain lines
 * into columns in its linear memory, where the JavaScript path compiles a reader per
 * layout (aws-columns.ts) and pays V8's optimising compile of each in every thread.
 *
 * Loaded synchronously, once per thread, the first time an AWS text file is read. The
 * environment variable FLOWSIEVE_AWS_READER (AwsReaderKind: js, wasm-parse, wasm) selects
 * the readers for A/B runs; a build without the module (an install without devDependencies)
 * runs the JavaScript readers.
 */
import type { FlowSink, RoutedColumns } from '../flow/sink.js';
import { Cloud } from '../flow/types.js';
import { IDS_BLOCK_BYTES, WasmTokenIds } from './wasm-ids.js';
import { MAX_AREA_SHARDS, ROUTING_BLOCK_BYTES, WasmReaderChoice, WasmRouting, areasBytes, type WasmReaderKind } from './wasm-route.js';
import { ARENA_SLACK, TextArena } from './text-arena.js';

/** Rows a call reads at most, and the bytes of a block it is given at most. */
export const WASM_ROWS = 4096;
export const WASM_WINDOW = 256 * 1024;
/** Columns of a layout the module takes at most (the lines of a longer layout go to the general loop of aws.ts). */
export const WASM_MAX_ROLES = 1024;

/** A plain row's route (assembly/shared/route.ts ROUTE_*): its shard, or one of these. */
export { ROUTE_DONE, ROUTE_EMIT } from './wasm-route.js';

/** Flag bits of a row (assembly/aws-lines.ts F_*). */
export const enum RowFlag {
  plain = 1,
  srcV6 = 16,
  dstV6 = 32,
  noData = 64,
}

// linear memory: the roles, then the block, then the columns (each WASM_ROWS long)
const ROLES_AT = 0;
const BLOCK_AT = WASM_MAX_ROLES;
/** the block: a window, up to 7 bytes after BLOCK_AT (read: placed as its source lies modulo 8), and the byte past it */
const COLUMNS_AT = BLOCK_AT + WASM_WINDOW + 64;
/** the separator bitmap of a block (a bit a byte, and a word past it), after the columns */
const MAP_AT = COLUMNS_AT + WASM_ROWS * (24 * 4 + 2 * 8 + 2 * 16);
/**
 * the routing block (src/formats/wasm-route.ts): the sink's settings, a call's counts, the IPv4 table;
 * before it, past the bitmap, the list of a line's separators (assembly/aws-lines.ts columnsRow: 65 u32
 * at most), then the module's table of dotted-quad shapes (its 2048 bytes just below the routing block, QUADS_BYTES)
 */
const SINK_AT = MAP_AT + WASM_WINDOW / 8 + 64 + 512 + 2048;
/**
 * the reader's block (assembly/aws-lines.ts I_*): its f64 slots, then the table of string ids
 * (idOfToken): slots, entries of 16 bytes (slot, the bytes' offset in the arena, length, id), the arena
 */
const IDS_AT = SINK_AT + ROUTING_BLOCK_BYTES;
/**
 * the read window (readWindow): a plain file's next bytes are read there and read in place; apart
 * from the block, which takes what is copied (a line the feeder carried over a read's end, while
 * the read's bytes wait to be read), and with the arena's slack past it
 */
const READ_AT = IDS_AT + IDS_BLOCK_BYTES;
/** the shards' areas (assembly/shared/route.ts toArea): a routed row's batch columns, WASM_ROWS rows a shard */
const AREAS_AT = READ_AT + WASM_WINDOW + ARENA_SLACK;
/**
 * 4 MiB at first. The memory is a shared one (scripts/wasm.mjs): growing it (the areas of many
 * shards, the text arena) detaches no buffer, where a plain memory's grow detaches its old one
 * and V8 then checks every typed-array access of the thread for detaching (its
 * ArrayBufferDetaching protector: a grow for the text arena cost the parse thread ~3 %); and V8
 * does not count it as the thread's external memory (a plain 64 MiB one set off a collection
 * for external memory pressure). Views over it are made again when it grew, to see the new end.
 */
const PAGES = 64;
/**
 * The text arena (textArena): past the most the areas take (MAX_AREA_SHARDS), so that the areas
 * never reach it; ARENA_BYTES: the inflated files a thread holds at once (read.ts AHEAD_BYTES,
 * 24 MiB ahead, and the file parsed), bucket objects of 1-8 MiB; a file that does not fit is
 * inflated into a buffer of its own and copied into the block as before. Its pages are backed
 * only as files are first inflated into them.
 */
const ARENA_AT = Math.ceil((AREAS_AT + areasBytes(MAX_AREA_SHARDS, WASM_ROWS)) / 65536) * 65536;
const ARENA_BYTES = 32 << 20;

/** The column reader of one thread: the instance and typed views of its columns. */
export class AwsWasm {
  private u8: Uint8Array;
  i32: Int32Array;
  u32: Uint32Array;
  f64: Float64Array;
  private memory: WebAssembly.Memory;
  /** The routing block and the shards' areas (views over the memory) as the sink takes them. */
  private readonly routing: WasmRouting;
  // where each column starts, in elements of its view (assembly/aws-lines.ts readLines, same order)
  readonly lineStart: number;
  readonly lineEnd: number;
  readonly flags: number;
  readonly src: number;
  readonly dst: number;
  readonly sport: number;
  readonly dport: number;
  readonly proto: number;
  readonly start: number;
  readonly end: number;
  readonly tcpFlags: number;
  readonly action: number;
  readonly direction: number;
  readonly route: number;
  readonly feed: number;
  /** where a row's interface and instance tokens lie (-1: none), for the rows of jsRow only */
  readonly ifaceS: number;
  readonly ifaceE: number;
  readonly instanceS: number;
  readonly instanceE: number;
  readonly packets: number;
  readonly bytes: number;
  /** dictionary ids (assembly/aws-lines.ts idsOfRow) */
  readonly accountId: number;
  readonly regionId: number;
  readonly ifaceId: number;
  readonly instanceId: number;
  /** IPv6 addresses, four words a row (in u32 elements): rows flagged RowFlag.srcV6, dstV6 */
  readonly src6: number;
  readonly dst6: number;
  /** The rows the JavaScript side is to take (not plain, emitted, or routed without areas), ascending: `jsRows` of them after a read. */
  readonly jsRow: number;
  jsRows = 0;
  private readonly readLines: (inPtr: number, len: number, rolesPtr: number, nroles: number, maxRows: number, out: number, map: number, sink: number, ids: number) => number;
  private readonly fixIds: (rows: number) => void;
  private readonly jsRowCount: () => number;
  private lastRoles: Uint8Array | null = null;
  private arena: TextArena | null = null;
  private window: Buffer | null = null;
  /** The reader's ids block (assembly/aws-lines.ts I_*): what it counted (slot 0), the ids it is given and the new tokens it met. */
  private readonly ids: WasmTokenIds;

  /** routes: classify and route plain rows in the module where the sink allows it (else every plain row goes to emit). */
  constructor(module: WebAssembly.Module, readonly routes: boolean) {
    this.memory = new WebAssembly.Memory({ initial: PAGES, maximum: 65536, shared: true });
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    const exports = instance.exports as { readLines: AwsWasm['readLines']; fixIds: AwsWasm['fixIds']; jsRowCount: AwsWasm['jsRowCount'] };
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    this.readLines = exports.readLines;
    this.fixIds = exports.fixIds;
    this.jsRowCount = exports.jsRowCount;
    this.ids = new WasmTokenIds(this.memory, IDS_AT);
    let at = COLUMNS_AT / 4;
    const next = (words: number) => ((at += words * WASM_ROWS), at - words * WASM_ROWS);
    this.lineStart = next(1);
    this.lineEnd = next(1);
    this.flags = next(1);
    this.src = next(1);
    this.dst = next(1);
    this.sport = next(1);
    this.dport = next(1);
    this.proto = next(1);
    this.start = next(1);
    this.end = next(1);
    this.tcpFlags = next(1);
    this.action = next(1);
    this.direction = next(1);
    this.route = next(1);
    this.feed = next(1);
    this.ifaceS = next(1);
    this.ifaceE = next(1);
    this.instanceS = next(1);
    this.instanceE = next(1);
    this.accountId = next(1);
    this.regionId = next(1);
    this.ifaceId = next(1);
    this.instanceId = next(1);
    // f64 columns, in elements of 8 bytes (at is even: COLUMNS_AT and WASM_ROWS are)
    this.packets = next(2) / 2;
    this.bytes = next(2) / 2;
    this.src6 = next(4);
    this.dst6 = next(4);
    this.jsRow = next(1);
    if (at * 4 !== MAP_AT) throw new Error('aws-wasm: the columns do not end where the bitmap starts');
    // past a full window's bitmap (a word a 64 bytes, and one more) and the module's list of a
    // line's separators (65 u32, 8-aligned), its table of dotted quads (QUADS_BYTES, 2048)
    if (MAP_AT + (WASM_WINDOW / 64 + 2) * 8 + 8 + 65 * 4 > SINK_AT - 2048) throw new Error('aws-wasm: no room for the module\'s list and table below the routing block');
    this.routing = new WasmRouting(this.memory, SINK_AT, AREAS_AT, WASM_ROWS, Cloud.aws);
  }

  /**
   * Reads the lines of buf[s, s + len) that end with '\n' (len <= WASM_WINDOW), by the
   * layout's roles (at most WASM_MAX_ROLES), into the columns: the rows written. Offsets in
   * the columns are relative to s.
   */
  read(buf: Uint8Array, s: number, len: number, roles: Uint8Array, sink: FlowSink, account: number, region: number): number {
    if (roles !== this.lastRoles) {
      this.u8.set(roles, ROLES_AT);
      this.lastRoles = roles;
    }
    if (this.routing.settings(sink, this.routes && sink.routable, region === 0)) this.views();
    // text inflated into the arena is read where it lies (the byte past the window, which the
    // module overwrites, put back after); any other copied into the block
    const inPlace = buf.buffer === this.memory.buffer;
    // TypedArray.set into a shared memory copies a word at a time only where source and target
    // lie alike modulo 8, else a byte at a time (~35 ns a line more): the window placed so
    const at = inPlace ? buf.byteOffset + s : BLOCK_AT + ((buf.byteOffset + s) & 7);
    if (!inPlace) this.u8.set(buf.subarray(s, s + len), at);
    const past = this.u8[at + len]!;
    this.ids.prepare(sink.dict, account, region);
    const rows = this.readLines(at, len, ROLES_AT, roles.length, WASM_ROWS, COLUMNS_AT, MAP_AT, SINK_AT, IDS_AT);
    this.u8[at + len] = past;
    this.jsRows = this.jsRowCount();
    // the tokens it met first looked up in the dictionary, their ids put into its rows (assembly/aws-lines.ts fixIds)
    if (this.ids.hasNew) {
      this.ids.lookUp(sink.dict);
      this.fixIds(rows);
    }
    return rows;
  }

  /**
   * The thread's text arena in this module's memory (text-arena.ts), made at the first call:
   * the memory grown to hold it past the most the areas may take (a shared memory: the buffers
   * over it stay as they are, and the files inflated into them on the pool with them).
   */
  textArena(): TextArena {
    if (this.arena !== null) return this.arena;
    const have = this.memory.buffer.byteLength;
    if (have < ARENA_AT + ARENA_BYTES) this.memory.grow(Math.ceil((ARENA_AT + ARENA_BYTES - have) / 65536));
    this.views();
    this.routing.memoryGrew();
    this.arena = new TextArena(this.memory.buffer, ARENA_AT, ARENA_BYTES);
    return this.arena;
  }

  /**
   * The read window as a Buffer (WASM_WINDOW bytes), for a plain file's bytes to be read into
   * (LineParser.readTarget): read then finds them in place, and nothing is copied.
   */
  readWindow(): Buffer {
    if (this.window === null) this.window = Buffer.from(this.memory.buffer, READ_AT, WASM_WINDOW);
    return this.window;
  }

  /** The shards' areas of the last read (null: the rows it routed are appended from a FlowRecord). */
  get routedAreas(): RoutedColumns | null {
    return this.routing.routedAreas;
  }

  /** The views over the memory made again (it grew). */
  private views(): void {
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
  }

  /** What the last read counted of the rows it routed itself, added to the sink's counters (as emit would have). */
  addCounts(sink: FlowSink): void {
    sink.counters.nodata += this.ids.slots[0]! | 0; // the lines without a flow it counted (RowFlag.noData), routed or not
    this.routing.addCounts(sink);
  }
}

const choice = new WasmReaderChoice('aws-lines.wasm', 'FLOWSIEVE_AWS_READER', (module, routes) => new AwsWasm(module, routes));

/** The AWS text readers (`FLOWSIEVE_AWS_READER`; `js`: the compiled JavaScript readers, aws-columns.ts). */
export type AwsReaderKind = WasmReaderKind;

/** This thread's WebAssembly reader, loaded on first use; null when the JavaScript reader is to run. */
export function awsWasm(): AwsWasm | null {
  return choice.current();
}

/** For tests and benchmarks: choose the reader of the parsers opened from now on in this thread. */
export function setAwsReader(kind: AwsReaderKind): void {
  choice.choose(kind);
}
