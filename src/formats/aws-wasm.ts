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
import { ROUTING_BLOCK_BYTES, WasmReaderChoice, WasmRouting, type WasmReaderKind } from './wasm-route.js';

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
const COLUMNS_AT = BLOCK_AT + WASM_WINDOW;
/** the separator bitmap of a block (a bit a byte, and a word past it), after the columns */
const MAP_AT = COLUMNS_AT + WASM_ROWS * (24 * 4 + 2 * 8 + 2 * 16);
/**
 * the routing block (src/formats/wasm-route.ts): the sink's settings, a call's counts, the IPv4 table;
 * before it, past the bitmap, the list of a line's separators (assembly/aws-lines.ts columnsRow: 65 u32
 * at most), then the module's table of dotted-quad shapes and number masks (its 2048 bytes just below the routing block, QUADS_BYTES)
 */
const SINK_AT = MAP_AT + WASM_WINDOW / 8 + 64 + 512 + 2048;
/**
 * the block's separators listed (assembly/aws-lines.ts listSeparators): a u32 each, at most one a
 * byte and the block's end, sixteen a word written past the last, the byte before the block just before
 */
const SEPS_AT = SINK_AT + ROUTING_BLOCK_BYTES + 8;
const SEPS_BYTES = (WASM_WINDOW + 80) * 4;
/**
 * the reader's block (assembly/aws-lines.ts I_*): its f64 slots, then the table of string ids
 * (idOfToken): slots, entries of 16 bytes (slot, the bytes' offset in the arena, length, id), the arena
 */
const IDS_AT = SEPS_AT + SEPS_BYTES;
/**
 * a file's block read where the module reads it (readTarget): a window, and room past it for the
 * module's reads and its one store past a block's end (readLines)
 */
const TARGET_AT = IDS_AT + IDS_BLOCK_BYTES;
/** the shards' areas (assembly/shared/route.ts toArea): a routed row's batch columns, WASM_ROWS rows a shard */
const AREAS_AT = TARGET_AT + WASM_WINDOW + 64;
/** The memory below the areas, the read target's included (the module allocates nothing; the areas grow it past this when a sink routes) */
const PAGES = Math.ceil(AREAS_AT / 65536);

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
  private readonly readLines: (inPtr: number, len: number, rolesPtr: number, nroles: number, maxRows: number, out: number, map: number, sink: number, ids: number, seps: number) => number;
  private readonly fixIds: (rows: number) => void;
  private readonly jsRowCount: () => number;
  private lastRoles: Uint8Array | null = null;
  /** The reader's ids block (assembly/aws-lines.ts I_*): what it counted (slot 0), the ids it is given and the new tokens it met. */
  private readonly ids: WasmTokenIds;
  /** A Buffer over the read target (readTarget), made again when the memory grew. */
  private targetView: Buffer = Buffer.alloc(0);

  /** routes: classify and route plain rows in the module where the sink allows it (else every plain row goes to emit). */
  constructor(module: WebAssembly.Module, readonly routes: boolean) {
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as { memory: WebAssembly.Memory; readLines: AwsWasm['readLines']; fixIds: AwsWasm['fixIds']; jsRowCount: AwsWasm['jsRowCount'] };
    if (exports.memory.buffer.byteLength < PAGES * 65536) exports.memory.grow(PAGES - exports.memory.buffer.byteLength / 65536);
    this.memory = exports.memory;
    const buf = exports.memory.buffer;
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
   * Where a file's next bytes (a window at most) may be read, so that read finds them where
   * the module reads them and copies none (AwsParser.readTarget: a plain file's blocks read
   * there by readLineRange). The memory is first grown as a read with this sink grows it (the
   * shards' areas), so that no read of the block detaches the view. Null: larger than a window.
   */
  readTarget(size: number, sink: FlowSink): Buffer | null {
    if (size > WASM_WINDOW) return null;
    if (this.routing.growFor(sink, this.routes && sink.routable)) this.views();
    if (this.targetView.buffer !== this.memory.buffer) this.targetView = Buffer.from(this.memory.buffer, TARGET_AT, WASM_WINDOW);
    return this.targetView;
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
    // bytes read into the target (readTarget) are read where they lie, any others copied into the block;
    // the module stores a 0 just past what it reads (readLines): there, a byte of the target's next line, put back after
    const inPlace = buf.buffer === this.u8.buffer && buf.byteOffset === TARGET_AT;
    const at = inPlace ? buf.byteOffset + s : BLOCK_AT;
    if (!inPlace) this.u8.set(buf.subarray(s, s + len), BLOCK_AT);
    const after = this.u8[at + len]!;
    this.ids.prepare(sink.dict, account, region);
    const rows = this.readLines(at, len, ROLES_AT, roles.length, WASM_ROWS, COLUMNS_AT, MAP_AT, SINK_AT, IDS_AT, SEPS_AT);
    if (inPlace) this.u8[at + len] = after;
    this.jsRows = this.jsRowCount();
    // the tokens it met first looked up in the dictionary, their ids put into its rows (assembly/aws-lines.ts fixIds)
    if (this.ids.hasNew) {
      this.ids.lookUp(sink.dict);
      this.fixIds(rows);
    }
    return rows;
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
