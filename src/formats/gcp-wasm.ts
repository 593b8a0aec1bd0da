/**
 * The GCP NDJSON fast path in WebAssembly (assembly/gcp-lines.ts, built into dist/wasm/ by
 * scripts/wasm.mjs): a window of a block's lines at a time is checked and its LogEntries'
 * fields picked out into rows in the module's memory, where the JavaScript fast path
 * (gcp-fast.ts) reads one line at a time. gcp.ts turns a taken row into a record as it turns
 * a line the JavaScript fast path took, and reads every other line with the full walk.
 *
 * Loaded synchronously, once per thread, the first time a GCP NDJSON file is read. The
 * environment variable FLOWSIEVE_GCP_READER (js, wasm) selects the reader for A/B runs; a
 * build without the module (an install without devDependencies) runs the JavaScript one.
 */
import { readFileSync } from 'node:fs';
import { wasmFile } from '../data/files.js';
import { wasmKeyTable } from './gcp-fast.js';

/** Rows a call reads at most, and the bytes of a block it is given at most. */
export const GCP_WASM_ROWS = 4096;
export const GCP_WASM_WINDOW = 256 * 1024;

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
  /** a simple row's account (region, instance) is the last simple row's of this read that had one: its id */
  accountSame = 1024,
  regionSame = 2048,
  instanceSame = 4096,
}

// linear memory: the key table, scratch, the window (and slack for vector loads), the rows
const TABLE_AT = 0;
const SCRATCH_AT = 12 * 1024;
const BLOCK_AT = 16 * 1024;
const ROWS_AT = BLOCK_AT + GCP_WASM_WINDOW + 64;
/**
 * A row (assembly/gcp-lines.ts ROW_BYTES): i32 slots (line, '\n', trimmed start and end,
 * flags, direction, 26 span starts, 26 span ends, the IPv4 source and destination, the
 * account, region and instance spans), then f64: the start and end times, the 6 integer fields.
 */
const ROW_BYTES = 328;
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
}
const TIMES_AT = 264;
const INTS_AT = 280;

/** The WebAssembly GCP line reader of one thread: its instance and views of its rows. */
export class GcpWasm {
  readonly i32: Int32Array;
  readonly f64: Float64Array;
  private readonly u8: Uint8Array;
  private readonly readLines: (inPtr: number, len: number, base: number, maxRows: number, out: number, table: number, scratch: number) => number;

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as { memory: WebAssembly.Memory; readLines: GcpWasm['readLines'] };
    const need = ROWS_AT + GCP_WASM_ROWS * ROW_BYTES;
    const have = exports.memory.buffer.byteLength;
    if (need > have) exports.memory.grow(Math.ceil((need - have) / 65536));
    const buf = exports.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.readLines = exports.readLines;
    const table = wasmKeyTable();
    if (table.length > SCRATCH_AT - TABLE_AT) throw new Error('gcp-wasm: the key table does not fit');
    this.u8.set(table, TABLE_AT);
    this.u8.fill(0xff, SCRATCH_AT, SCRATCH_AT + 1024); // the foreseen keys: none known
  }

  /**
   * Reads the lines of buf[s, s + len) that end with '\n' (len <= GCP_WASM_WINDOW) into rows:
   * the rows written. Positions in the rows are buf's.
   */
  read(buf: Uint8Array, s: number, len: number): number {
    this.u8.set(buf.subarray(s, s + len), BLOCK_AT);
    return this.readLines(BLOCK_AT, len, s, GCP_WASM_ROWS, ROWS_AT, TABLE_AT, SCRATCH_AT);
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

let reader: GcpWasm | null | undefined;

function load(): GcpWasm | null {
  const path = wasmFile('gcp-lines.wasm');
  return path === null ? null : new GcpWasm(new WebAssembly.Module(readFileSync(path)));
}

export type GcpReaderKind = 'js' | 'wasm';

/** This thread's WebAssembly reader, loaded on first use; null when the JavaScript reader is to run. */
export function gcpWasm(): GcpWasm | null {
  if (reader === undefined) reader = process.env.FLOWSIEVE_GCP_READER === 'js' ? null : load();
  return reader;
}

/** For tests and benchmarks: choose the reader of the parsers opened from now on in this thread. */
export function setGcpReader(kind: GcpReaderKind): void {
  reader = kind === 'js' ? null : load();
  if (kind !== 'js' && reader === null) throw new Error('the WebAssembly GCP reader is not built (dist/wasm/gcp-lines.wasm)');
}
