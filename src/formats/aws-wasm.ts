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
import { readFileSync } from 'node:fs';
import { wasmFile } from '../data/files.js';
import type { ByteDict } from '../flow/dict.js';
import type { FlowSink, RoutedColumns } from '../flow/sink.js';
import { Cloud } from '../flow/types.js';
import { v4SpecialTable } from '../net/address.js';

/** Rows a call reads at most, and the bytes of a block it is given at most. */
export const WASM_ROWS = 4096;
export const WASM_WINDOW = 256 * 1024;
/** Columns of a layout the module takes at most (the lines of a longer layout go to the general loop of aws.ts). */
export const WASM_MAX_ROLES = 1024;

/** A plain row's route (assembly/aws-lines.ts ROUTE_*): its shard, or one of these. */
export const ROUTE_DONE = -1; // counted by the module: nothing to do
export const ROUTE_EMIT = -2; // for the sink's emit (a reject, or routing off)

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
const MAP_AT = COLUMNS_AT + WASM_ROWS * (27 * 4 + 2 * 8 + 2 * 16);
/** the sink's settings and a call's counts (f64 slots, assembly/aws-lines.ts S_*), then the IPv4 table */
const SINK_AT = MAP_AT + WASM_WINDOW / 8 + 64;
/** after the sink's slots and IPv4 table: the count of each shard's area (u32 a shard) at SINK_AT + 1024 */
const MAX_AREA_SHARDS = 64;
/** the table of string ids (assembly/aws-lines.ts idOfToken): slots, entries of 16 bytes, the arena of their bytes */
const DICT_AT = SINK_AT + 1024 + 4 * MAX_AREA_SHARDS;
const DICT_ENTRIES_AT = DICT_AT + 65536 * 4;
const DICT_ARENA_AT = DICT_ENTRIES_AT + 32768 * 16;
/** the shards' areas (assembly/aws-lines.ts toArea): a routed row's batch columns, WASM_ROWS rows a shard */
const AREAS_AT = DICT_ARENA_AT + (1 << 20);
const AREA_BYTES_A_ROW = 66;
const PAGES = 64; // 4 MiB: scripts/wasm.mjs --initialMemory; the module allocates nothing, the areas grow it here

/** The column reader of one thread: the instance and typed views of its columns. */
export class AwsWasm {
  private u8: Uint8Array;
  i32: Int32Array;
  u32: Uint32Array;
  f64: Float64Array;
  private memory: WebAssembly.Memory;
  /** The shards' areas (views over the memory) as the sink takes them; null until a read routes rows. */
  private areas: RoutedColumns | null = null;
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
  readonly accountS: number;
  readonly accountE: number;
  readonly regionS: number;
  readonly regionE: number;
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
  private readonly readLines: (inPtr: number, len: number, rolesPtr: number, nroles: number, maxRows: number, out: number, map: number, sink: number) => number;
  private readonly fixIds: (rows: number) => void;
  /** The dictionary whose ids the module's table holds (null: none yet). */
  private idsOf: ByteDict | null = null;
  private lastRoles: Uint8Array | null = null;
  private sinkSlots: Float64Array;

  /** routes: classify and route plain rows in the module where the sink allows it (else every plain row goes to emit). */
  constructor(module: WebAssembly.Module, readonly routes: boolean) {
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as { memory: WebAssembly.Memory; readLines: AwsWasm['readLines']; fixIds: AwsWasm['fixIds'] };
    if (exports.memory.buffer.byteLength < PAGES * 65536) exports.memory.grow(PAGES - exports.memory.buffer.byteLength / 65536);
    this.memory = exports.memory;
    const buf = exports.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    this.readLines = exports.readLines;
    this.fixIds = exports.fixIds;
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
    this.accountS = next(1);
    this.accountE = next(1);
    this.regionS = next(1);
    this.regionE = next(1);
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
    if (at * 4 !== MAP_AT) throw new Error('aws-wasm: the columns do not end where the bitmap starts');
    this.sinkSlots = new Float64Array(buf, SINK_AT, 32);
    // isPublicV4's ranges, copied once: src/net/address.ts stays the one definition
    const v4 = v4SpecialTable();
    this.u8.set(v4.firstOctet, SINK_AT + 256);
    this.u32[(SINK_AT + 512) / 4] = v4.net.length;
    for (let k = 0; k < v4.net.length; k++) {
      this.u32[(SINK_AT + 516) / 4 + 2 * k] = v4.net[k]!;
      this.u32[(SINK_AT + 516) / 4 + 2 * k + 1] = v4.mask[k]!;
    }
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
    this.u8.set(buf.subarray(s, s + len), BLOCK_AT);
    const routes = this.routes && sink.routable;
    // routed rows' batch columns written into areas, one a shard, for the sink to copy (up to 64 shards)
    const areas = routes && sink.shards <= MAX_AREA_SHARDS ? this.areasFor(sink.shards) : null;
    const slots = this.sinkSlots;
    slots[0] = routes ? 1 : 0;
    slots[1] = sink.notAfter;
    slots[2] = sink.rangeFrom;
    slots[3] = sink.rangeTo;
    slots[4] = sink.shards;
    slots[5] = region === 0 ? 1 : 0;
    slots[18] = areas === null ? 0 : AREAS_AT;
    slots[19] = WASM_ROWS;
    slots[21] = account;
    slots[22] = region;
    slots[23] = DICT_AT;
    slots[24] = sink.dict === this.idsOf ? 0 : 1;
    this.idsOf = sink.dict;
    const rows = this.readLines(BLOCK_AT, len, ROLES_AT, roles.length, WASM_ROWS, COLUMNS_AT, MAP_AT, SINK_AT);
    if (slots[26]! > slots[25]!) this.newIds(sink.dict, rows);
    return rows;
  }

  /** The tokens the last read met first, looked up in the dictionary, their ids put into its rows (assembly/aws-lines.ts fixIds). */
  private newIds(dict: ByteDict, rows: number): void {
    const { u32, i32, u8 } = this;
    for (let e = this.sinkSlots[25]!; e < this.sinkSlots[26]!; e++) {
      const at = DICT_ENTRIES_AT / 4 + 4 * e;
      const s = DICT_ARENA_AT + u32[at + 1]!;
      i32[at + 3] = dict.idOfBytes(u8, s, s + u32[at + 2]!);
    }
    this.fixIds(rows);
  }

  /** The shards' areas of the last read (null: the rows it routed are appended from a FlowRecord). */
  get routedAreas(): RoutedColumns | null {
    return this.sinkSlots[18] === 0 ? null : this.areas;
  }

  /** Areas for `shards` shards, the memory grown to hold them (and every view made again over it). */
  private areasFor(shards: number): RoutedColumns {
    if (this.areas !== null && this.areas.feed.length >= shards) return this.areas;
    const need = AREAS_AT + shards * WASM_ROWS * AREA_BYTES_A_ROW;
    const have = this.memory.buffer.byteLength;
    if (need > have) this.memory.grow(Math.ceil((need - have) / 65536));
    const buf = this.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.u32 = new Uint32Array(buf);
    this.f64 = new Float64Array(buf);
    this.sinkSlots = new Float64Array(buf, SINK_AT, 32);
    const n = WASM_ROWS;
    const per = <T>(make: (at: number) => T): T[] => Array.from({ length: shards }, (_, s) => make(AREAS_AT + s * n * AREA_BYTES_A_ROW));
    // the same offsets as assembly/aws-lines.ts toArea
    this.areas = {
      src: per((a) => new Uint32Array(buf, a, 4 * n)),
      dst: per((a) => new Uint32Array(buf, a + 16 * n, 4 * n)),
      packets: per((a) => new Float64Array(buf, a + 32 * n, n)),
      bytes: per((a) => new Float64Array(buf, a + 40 * n, n)),
      start: per((a) => new Uint32Array(buf, a + 48 * n, n)),
      end: per((a) => new Uint32Array(buf, a + 52 * n, n)),
      sport: per((a) => new Uint16Array(buf, a + 56 * n, n)),
      dport: per((a) => new Uint16Array(buf, a + 58 * n, n)),
      tcpFlags: per((a) => new Int16Array(buf, a + 60 * n, n)),
      feed: per((a) => new Uint8Array(buf, a + 62 * n, n)),
      proto: per((a) => new Uint8Array(buf, a + 63 * n, n)),
      action: per((a) => new Uint8Array(buf, a + 64 * n, n)),
      direction: per((a) => new Uint8Array(buf, a + 65 * n, n)),
      cloud: Cloud.aws,
    };
    return this.areas;
  }

  /** What the last read counted of the rows it routed itself, added to the sink's counters (as emit would have). */
  addCounts(sink: FlowSink): void {
    const slots = this.sinkSlots;
    const c = sink.counters;
    c.nodata += slots[20]! | 0; // the lines without a flow it counted (RowFlag.noData), routed or not
    if (slots[0] === 0) return;
    // `| 0`: a count read from a Float64Array is a double, and adding it in optimised code
    // stored a heap number in the counters, whose fields turned from small integers to
    // doubles (a new map): every function that had seen the old map (emit, the sink's
    // getters, parseLinesWasm) was deoptimised and compiled again (`--trace-generalization`)
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

let reader: AwsWasm | null | undefined;

function load(routes: boolean): AwsWasm | null {
  const path = wasmFile('aws-lines.wasm');
  return path === null ? null : new AwsWasm(new WebAssembly.Module(readFileSync(path)), routes);
}

/**
 * The AWS text readers: `wasm` (the default) parses and routes plain lines in WebAssembly,
 * `wasm-parse` parses them there and hands every record to the sink's emit, `js` runs the
 * compiled JavaScript readers (aws-columns.ts).
 */
export type AwsReaderKind = 'js' | 'wasm' | 'wasm-parse';

/** This thread's WebAssembly reader, loaded on first use; null when the JavaScript readers are to run. */
export function awsWasm(): AwsWasm | null {
  if (reader === undefined) {
    const kind = process.env.FLOWSIEVE_AWS_READER;
    reader = kind === 'js' ? null : load(kind !== 'wasm-parse');
  }
  return reader;
}

/** For tests and benchmarks: choose the reader of the parsers opened from now on in this thread. */
export function setAwsReader(kind: AwsReaderKind): void {
  reader = kind === 'js' ? null : load(kind === 'wasm');
  if (kind !== 'js' && reader === null) throw new Error('the WebAssembly AWS reader is not built (dist/wasm/aws-lines.wasm)');
}
