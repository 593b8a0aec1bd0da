/**
 * The replay shard's lz4 decoder: assembly/lz4-block.ts in WebAssembly, decoding each block
 * into the same linear memory. lz4-napi's `uncompressSync` returns a fresh Buffer a block
 * (28 KB on a replay file, ~40 B a row: 78 MB of external memory on 2 M rows, each
 * allocation a native call and GC pressure) and has no output argument.
 *
 * What `uncompress` returns is a view of this thread's memory, valid until its next call:
 * only for readers that are done with a block's columns before the next block (the shard's
 * replay loop, src/replay/shard-ops.ts). A payload the decoder refuses is refused as lz4-napi
 * refuses it: the block is corrupt.
 */
import { readFileSync } from 'node:fs';
import { wasmFile } from '../data/files.js';

/** bytes the decoder may write past the output and read past the input (assembly/lz4-block.ts WILD, doubled) */
const SLACK = 32;

interface Lz4Exports {
  memory: WebAssembly.Memory;
  decode(src: number, srcLen: number, dst: number, cap: number): number;
}

export class Lz4Wasm {
  private readonly exports: Lz4Exports;
  private u8: Uint8Array;

  constructor(module: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as Lz4Exports;
    this.u8 = new Uint8Array(this.exports.memory.buffer);
  }

  /**
   * The payload (lz4-napi's: a u32 size, then one lz4 block) decompressed, `raw` bytes
   * expected: a view at offset 0 of the memory (8-byte aligned), or null when the payload is
   * damaged or says another size.
   */
  uncompress(payload: Uint8Array, raw: number): Uint8Array | null {
    const cap = alignUp(raw + SLACK);
    const need = cap + payload.length + SLACK;
    if (this.u8.length < need) {
      const mem = this.exports.memory;
      mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
      this.u8 = new Uint8Array(mem.buffer);
    }
    this.u8.set(payload, cap);
    const n = this.exports.decode(cap, payload.length, 0, raw);
    return n === raw ? this.u8.subarray(0, n) : null;
  }
}

function alignUp(x: number): number {
  return (x + 15) & ~15;
}

let decoder: Lz4Wasm | null | undefined;

/**
 * This thread's decoder, loaded on first use; null when it is not built (an install without
 * the AssemblyScript compiler) or FLOWSIEVE_LZ4=napi asks for lz4-napi.
 */
export function lz4Wasm(): Lz4Wasm | null {
  if (decoder === undefined) {
    const path = process.env.FLOWSIEVE_LZ4 === 'napi' ? null : wasmFile('lz4-block.wasm');
    decoder = path === null ? null : new Lz4Wasm(new WebAssembly.Module(readFileSync(path)));
  }
  return decoder;
}
