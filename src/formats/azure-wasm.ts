/**
 * The Azure tuple fast path in WebAssembly (assembly/azure-tuples.ts, built into dist/wasm/
 * by scripts/wasm.mjs): the tuples of one record are read at once into rows in the module's
 * memory, each as azure-fast.ts would read it; azure.ts copies a taken row into the sink's
 * record and reads every other tuple with the JavaScript readers.
 *
 * Loaded synchronously, once per thread, the first time an Azure blob is read. The
 * environment variable FLOWSIEVE_AZURE_READER (js, wasm) selects the reader for A/B runs; a
 * build without the module (an install without devDependencies) runs the JavaScript one.
 */
import { readFileSync } from 'node:fs';
import type { FlowRecord } from '../flow/sink.js';
import { V4_MAPPED_W2 } from '../net/address.js';
import { wasmFile } from './aws-wasm.js';

/** Tuples a call reads at most, and the bytes of a record it is given at most (larger: JavaScript). */
export const AZURE_WASM_TUPLES = 4096;
export const AZURE_WASM_WINDOW = 1024 * 1024;

// linear memory: the spans (starts then ends), the rows, the record's bytes
const SPANS_AT = 0;
const ROWS_AT = SPANS_AT + AZURE_WASM_TUPLES * 8;
const ROW_BYTES = 56; // assembly/azure-tuples.ts ROW_BYTES
const BUF_AT = ROWS_AT + AZURE_WASM_TUPLES * ROW_BYTES;

/** The tuple layouts (assembly/azure-tuples.ts readTuples `layout`). */
export const enum TupleLayout { nsg = 1, vnet = 2 }

/** The WebAssembly tuple reader of one thread: its instance and views of its rows. */
export class AzureWasm {
  private readonly u8: Uint8Array;
  private readonly i32: Int32Array;
  private readonly f64: Float64Array;
  private readonly readTuples: (bufPtr: number, n: number, spansPtr: number, out: number, layout: number, version: number) => number;

  constructor(module: WebAssembly.Module) {
    const instance = new WebAssembly.Instance(module, {});
    const exports = instance.exports as { memory: WebAssembly.Memory; readTuples: AzureWasm['readTuples'] };
    const need = BUF_AT + AZURE_WASM_WINDOW;
    const have = exports.memory.buffer.byteLength;
    if (need > have) exports.memory.grow(Math.ceil((need - have) / 65536));
    const buf = exports.memory.buffer;
    this.u8 = new Uint8Array(buf);
    this.i32 = new Int32Array(buf);
    this.f64 = new Float64Array(buf);
    this.readTuples = exports.readTuples;
  }

  /**
   * Reads the n tuples buf[starts[k], ends[k]) (in order, within one record) into rows: false,
   * having read nothing, when they are too many or span too many bytes for one call.
   */
  read(buf: Uint8Array, starts: Int32Array, ends: Int32Array, n: number, layout: TupleLayout, version: number): boolean {
    if (n > AZURE_WASM_TUPLES) return false;
    const from = starts[0]!;
    const to = ends[n - 1]!;
    if (to - from > AZURE_WASM_WINDOW || to < from) return false;
    this.u8.set(buf.subarray(from, to), BUF_AT);
    this.i32.set(starts.subarray(0, n), SPANS_AT >> 2);
    this.i32.set(ends.subarray(0, n), (SPANS_AT >> 2) + n);
    // positions are buf's: the module adds BUF_AT - from to each (u32 arithmetic wraps)
    this.readTuples(BUF_AT - from, n, SPANS_AT, ROWS_AT, layout, version);
    return true;
  }

  /** Row k into rec (as azure-fast.ts fills it): true, or false when the tuple is not taken. */
  take(rec: FlowRecord, k: number): boolean {
    const r = (ROWS_AT + k * ROW_BYTES) >> 2;
    const i32 = this.i32;
    if (i32[r] === 0) return false;
    const f = r >> 1;
    const t = this.f64[f + 4]!;
    rec.start = t;
    rec.end = t;
    rec.proto = i32[r + 1]!;
    rec.direction = i32[r + 2]!;
    rec.action = i32[r + 3]!;
    rec.sport = i32[r + 4]!;
    rec.dport = i32[r + 5]!;
    writeV4(rec.src, i32[r + 6]!);
    writeV4(rec.dst, i32[r + 7]!);
    rec.packets = this.f64[f + 5]!;
    rec.bytes = this.f64[f + 6]!;
    return true;
  }
}

/** An IPv4 address as the sink's IPv4-mapped words (as azure-fast.ts ipv4To writes it). */
function writeV4(out: Uint32Array, v: number): void {
  out[0] = 0;
  out[1] = 0;
  out[2] = V4_MAPPED_W2;
  out[3] = v;
}

let reader: AzureWasm | null | undefined;

function load(): AzureWasm | null {
  const path = wasmFile('azure-tuples.wasm');
  return path === null ? null : new AzureWasm(new WebAssembly.Module(readFileSync(path)));
}

export type AzureReaderKind = 'js' | 'wasm';

/** This thread's WebAssembly reader, loaded on first use; null when the JavaScript reader is to run. */
export function azureWasm(): AzureWasm | null {
  if (reader === undefined) reader = process.env.FLOWSIEVE_AZURE_READER === 'js' ? null : load();
  return reader;
}

/** For tests and benchmarks: choose the reader of the documents read from now on in this thread. */
export function setAzureReader(kind: AzureReaderKind): void {
  reader = kind === 'js' ? null : load();
  if (kind !== 'js' && reader === null) throw new Error('the WebAssembly Azure reader is not built (dist/wasm/azure-tuples.wasm)');
}
