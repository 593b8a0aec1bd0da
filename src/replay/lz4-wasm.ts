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
  smallRuns(
    n: number, below: number, shortRun: number, seconds: number, flags: number, af: number, src: number, src6: number, proto: number, dport: number,
    dst: number, dst6: number, start: number, account: number, accountWide: number, region: number, regionWide: number, scratch: number, out: number,
  ): number;
  smallKeys(): number;
  smallEntries(): number;
  blockIds(n: number, af: number, a: number, aWide: number, b: number, bWide: number, c: number, cWide: number, d: number, dWide: number): number;
  v6Sources(): number;
  v6Targets(): number;
  entrySums(n: number, flags: number, flows: number): number;
  entryRecords(): number;
  entryInbound(): number;
  entryOutbound(): number;
  repeatHeader(h: number, hLen: number, known: number, kLen: number, out: number): number;
}

type Ids = Uint16Array | Uint32Array;

/** The columns of a block's entry rows smallRuns reads, and its counts (row-codec.ts BlockRows, not imported: block.ts imports this file). */
export interface RunColumns {
  n: number;
  flags: Uint8Array;
  af: Uint8Array;
  src: Uint32Array;
  src6: Uint32Array;
  proto: Uint8Array;
  dport: Uint16Array;
  dst: Uint32Array;
  dst6: Uint32Array;
  start: Uint32Array;
  account: Uint16Array | Uint32Array;
  region: Uint16Array | Uint32Array;
  smallKeys: number;
  smallEntries: number;
}

/** A short run's rows in smallRuns's scratch: window, kind, account, region and four destination words. */
const SHORT_ROW_BYTES = 32;

/** A pass could not run here: a column lies outside this memory (entrySums), or in it while the memory would have to grow, which detaches it (smallRuns). */
export const NOT_IN_MEMORY = -2;

/**
 * The first bytes of the memory hold the block headers repeatHeader reads (the known one, the
 * one read, the numbers it writes); a block is decoded past them.
 */
const KNOWN_HEADER = 0;
const THIS_HEADER = 1024;
const HEADER_NUMBERS = 2048;
const HEADER_BYTES = THIS_HEADER - KNOWN_HEADER;
const DECODED = 4096;

export class Lz4Wasm {
  private readonly exports: Lz4Exports;
  private u8: Uint8Array;
  /** The first byte past the last block's payload (16-aligned): smallRuns's room starts here. */
  private free = 0;
  /** Where smallRuns wrote its ranges. */
  private out = 0;
  /** The header known to repeatHeader (its bytes at KNOWN_HEADER), as the caller read it; its bytes. */
  private known: unknown = undefined;
  private knownBytes = 0;
  /** The numbers repeatHeader wrote (a view kept while the memory does not grow). */
  private numbers: Float64Array;

  constructor(module: WebAssembly.Module) {
    this.exports = new WebAssembly.Instance(module, {}).exports as unknown as Lz4Exports;
    this.u8 = new Uint8Array(this.exports.memory.buffer);
    this.numbers = new Float64Array(this.exports.memory.buffer, HEADER_NUMBERS, (DECODED - HEADER_NUMBERS) / 8);
  }

  /**
   * The payload (lz4-napi's: a u32 size, then one lz4 block) decompressed, `raw` bytes
   * expected: a view of the memory (8-byte aligned), or null when the payload is damaged or
   * says another size.
   */
  uncompress(payload: Uint8Array, raw: number): Uint8Array | null {
    const cap = DECODED + alignUp(raw + SLACK);
    // and room for smallRuns past the payload: its ranges need 16 bytes a row, and a row of a block is more
    const need = cap + payload.length + SLACK + RUNS_ROOM + raw;
    if (this.u8.length < need) {
      const mem = this.exports.memory;
      mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
      this.u8 = new Uint8Array(mem.buffer);
    }
    this.u8.set(payload, cap);
    const n = this.exports.decode(cap, payload.length, DECODED, raw);
    this.free = alignUp(cap + payload.length + SLACK);
    return n === raw ? this.u8.subarray(DECODED, DECODED + n) : null;
  }

  /**
   * Whether the msgpack bytes h repeat the structure of the header last remembered
   * (rememberHeader; assembly/lz4-block.ts repeatHeader: the same containers and strings, numbers
   * where it has numbers): how many numbers it holds, now in headerNumbers() in their order,
   * or -1 when none is known or h does not repeat it.
   */
  repeatHeader(h: Uint8Array): number {
    if (this.knownBytes === 0 || h.length > HEADER_BYTES) return -1;
    this.u8.set(h, THIS_HEADER);
    return this.exports.repeatHeader(THIS_HEADER, h.length, KNOWN_HEADER, this.knownBytes, HEADER_NUMBERS);
  }

  /** The header last remembered, as its caller read it. */
  knownHeader(): unknown {
    return this.known;
  }

  /** The numbers of the last header repeatHeader read. */
  headerNumbers(): Float64Array {
    if (this.numbers.buffer !== this.exports.memory.buffer) this.numbers = new Float64Array(this.exports.memory.buffer, HEADER_NUMBERS, (DECODED - HEADER_NUMBERS) / 8);
    return this.numbers;
  }

  /** The header h read as `value`: repeatHeader reads the next headers against it (one too long to hold is not remembered). */
  rememberHeader(h: Uint8Array, value: unknown): void {
    if (h.length > HEADER_BYTES) return;
    this.u8.set(h, KNOWN_HEADER);
    this.knownBytes = h.length;
    this.known = value;
  }

  /**
   * scan-ingest.ts longRuns's pass over a block's entry rows, run by the module (assembly/lz4-block.ts
   * smallRuns): the small keys and entries into r, the long runs' ranges for copyRanges; returns how
   * many ints those are, -1 when a row breaks the block's order, or NOT_IN_MEMORY. Columns that
   * do not lie in this memory (a block lz4-napi decoded, a test's) are copied in first.
   */
  smallRuns(r: RunColumns, below: number, seconds: number, shortRun: number): number {
    const c = this.holds(r) ? r : this.copyIn(r);
    if (c === null) return NOT_IN_MEMORY;
    const scratch = this.free;
    const out = scratch + shortRun * SHORT_ROW_BYTES;
    // uncompress left room for this past the payload (copyIn past the copies), unless rows are unusually narrow
    if (out + 16 * (r.n + 1) + SLACK > this.u8.length) return NOT_IN_MEMORY;
    const x = this.exports;
    const ints = x.smallRuns(
      r.n, below, shortRun, seconds, c.flags.byteOffset, c.af.byteOffset, c.src.byteOffset, c.src6.byteOffset, c.proto.byteOffset,
      c.dport.byteOffset, c.dst.byteOffset, c.dst6.byteOffset, c.start.byteOffset, c.account.byteOffset, wide(c.account),
      c.region.byteOffset, wide(c.region), scratch, out,
    );
    if (ints < 0) return ints;
    r.smallKeys += x.smallKeys();
    r.smallEntries += x.smallEntries();
    this.out = out;
    return ints;
  }

  /** Whether every column smallRuns reads lies in this memory (the IPv6 ones may be empty: they are then not read). */
  private holds(r: RunColumns): boolean {
    const b = this.exports.memory.buffer;
    return r.flags.buffer === b && r.af.buffer === b && r.src.buffer === b && r.proto.buffer === b && r.dport.buffer === b &&
      r.dst.buffer === b && r.start.buffer === b && r.account.buffer === b && r.region.buffer === b &&
      (r.src6.buffer === b || r.src6.length === 0) && (r.dst6.buffer === b || r.dst6.length === 0);
  }

  /**
   * Columns of a block that was not decoded here (lz4-napi's, a test's) copied into this memory
   * from `free` on, with room after them for smallRuns: their views, or null when one column
   * lies here already and the memory would have to grow (which detaches it).
   */
  private copyIn(r: RunColumns): RunColumns | null {
    const cols = [r.flags, r.af, r.src, r.src6, r.proto, r.dport, r.dst, r.dst6, r.start, r.account, r.region];
    const mem = this.exports.memory;
    let bytes = 0;
    for (const c of cols) bytes += alignUp(c.byteLength);
    const need = this.free + bytes + RUNS_ROOM + 16 * (r.n + 1) + SLACK;
    if (need > mem.buffer.byteLength) {
      if (cols.some((c) => c.buffer === mem.buffer)) return null;
      mem.grow(Math.ceil((need - mem.buffer.byteLength) / 65536));
      this.u8 = new Uint8Array(mem.buffer);
    }
    const [flags, af, src, src6, proto, dport, dst, dst6, start, account, region] = cols.map((c) => {
      const at = this.free;
      this.u8.set(new Uint8Array(c.buffer, c.byteOffset, c.byteLength), at);
      this.free += alignUp(c.byteLength);
      return new (c.constructor as Uint8ArrayConstructor)(mem.buffer, at, c.length);
    }) as [Uint8Array, Uint8Array, Uint32Array, Uint32Array, Uint8Array, Uint16Array, Uint32Array, Uint32Array, Uint32Array, Uint16Array | Uint32Array, Uint16Array | Uint32Array];
    return { n: r.n, flags, af, src, src6, proto, dport, dst, dst6, start, account, region, smallKeys: 0, smallEntries: 0 };
  }

  /**
   * row-codec.ts blockRows's pass over a block decoded here, run by the module (assembly/lz4-block.ts
   * blockIds): the rows with an IPv6 source and target into v6[0], v6[1], and the largest id of
   * a .. d; -1 when a column does not lie in this memory (the caller counts them itself).
   */
  blockIds(n: number, af: Uint8Array, a: Ids, b: Ids, c: Ids, d: Ids, v6: Int32Array): number {
    const buf = this.exports.memory.buffer;
    if (af.buffer !== buf || a.buffer !== buf || b.buffer !== buf || c.buffer !== buf || d.buffer !== buf) return -1;
    const x = this.exports;
    const m = x.blockIds(n, af.byteOffset, a.byteOffset, wide(a), b.byteOffset, wide(b), c.byteOffset, wide(c), d.byteOffset, wide(d));
    v6[0] = x.v6Sources();
    v6[1] = x.v6Targets();
    return m >>> 0; // a u32: ids past 2^31 come back negative
  }

  /**
   * entry-rows.ts checkEntryCounts's pass over a block decoded here, run by the module
   * (assembly/lz4-block.ts entrySums): the records its rows stand for, in all, inbound and
   * outbound, into sums[0..2]; returns the first row whose count cannot be (0, or more than one
   * on an outbound row), -1 when none, NOT_IN_MEMORY when a column does not lie in this memory.
   */
  entrySums(n: number, flags: Uint8Array, flows: Uint32Array, sums: Float64Array): number {
    const buf = this.exports.memory.buffer;
    if (flags.buffer !== buf || flows.buffer !== buf) return NOT_IN_MEMORY;
    const x = this.exports;
    const bad = x.entrySums(n, flags.byteOffset, flows.byteOffset);
    sums[0] = x.entryRecords();
    sums[1] = x.entryInbound();
    sums[2] = x.entryOutbound();
    return bad;
  }

  /** The `ints` ints of ranges the last smallRuns wrote, into `into` from 0. */
  copyRanges(into: Int32Array, ints: number): void {
    into.set(new Int32Array(this.exports.memory.buffer, this.out, ints));
  }
}

/** Bytes past a block's payload for smallRuns's short-run scratch (and the slack of its ranges' end). */
const RUNS_ROOM = 1024;

/** 1 for a column of u32 ids, 0 for u16. */
function wide(ids: Ids): number {
  return ids.BYTES_PER_ELEMENT === 4 ? 1 : 0;
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
