/**
 * Columnar lz4 blocks: the unit of replay files and of accumulator spills.
 *
 * A block on disk is a frame:
 *
 *   u32 BLOCK_MAGIC | u32 header length H | u32 crc32(header) | header (msgpack, H bytes) | payload
 *
 * The header says what the payload holds: row count, column layout (name, element type,
 * values per row, byte offset in the uncompressed buffer), min/max time, the uncompressed
 * and compressed sizes and the payload's crc32. The payload is every column's bytes, each
 * at an 8-byte aligned offset, lz4-compressed as one block (lz4-napi). Decoding checks
 * both checksums before decompressing, then hands out typed-array views over the
 * decompressed buffer: no copy and no allocation per row.
 */
import { zlibNow } from '../input/zlib.js';
import { nativeModule } from '../input/native.js';
import { lz4Codec, msgpack } from './codecs.js';
import type { Lz4Wasm } from './lz4-wasm.js';
import { unpackHeader } from './header-unpack.js';

export const BLOCK_MAGIC = 0x31425346; // 'FSB1' little-endian
export const FRAME_PREFIX = 12;

export type ColumnType = 'u8' | 'i16' | 'u16' | 'u32' | 'f64';
export type Column = Uint8Array | Int16Array | Uint16Array | Uint32Array | Float64Array;

/** [name, element type, number of values, byte offset in the uncompressed buffer] */
export type ColumnLayout = [string, ColumnType, number, number];

export interface BlockHeader {
  kind: string; // what the block holds: 'rows' (flow records) or 'entries' (accumulator spill)
  rows: number;
  bucket: number; // source-address bucket (rows) or spill partition (entries)
  minTime: number;
  maxTime: number;
  raw: number; // uncompressed payload bytes
  size: number; // payload bytes on disk
  crc: number; // crc32 of the payload on disk
  cols: ColumnLayout[];
  meta?: unknown; // small kind-specific data (e.g. the dictionaries of a spilled partition)
}

const ELEMENT_BYTES: Record<ColumnType, number> = { u8: 1, i16: 2, u16: 2, u32: 4, f64: 8 };

function typeOf(c: Column): ColumnType {
  if (c instanceof Uint8Array) return 'u8';
  if (c instanceof Int16Array) return 'i16';
  if (c instanceof Uint16Array) return 'u16';
  if (c instanceof Uint32Array) return 'u32';
  return 'f64';
}

function viewOf(type: ColumnType, buf: ArrayBuffer, offset: number, length: number): Column {
  switch (type) {
    case 'u8':
      return new Uint8Array(buf, offset, length);
    case 'i16':
      return new Int16Array(buf, offset, length);
    case 'u16':
      return new Uint16Array(buf, offset, length);
    case 'u32':
      return new Uint32Array(buf, offset, length);
    case 'f64':
      return new Float64Array(buf, offset, length);
  }
}

export interface BlockInput {
  kind: string;
  rows: number;
  bucket: number;
  minTime: number;
  maxTime: number;
  /** [name, column, number of values]: the column's first `count` values are written. */
  columns: Array<[string, Column, number]>;
  meta?: unknown;
}

/** Encode columns into one framed block. */
export function encodeBlock(b: BlockInput): Buffer {
  const cols: ColumnLayout[] = [];
  let raw = 0;
  for (const [name, col, count] of b.columns) {
    const type = typeOf(col);
    if (count > col.length) throw new Error(`column '${name}' has ${col.length} values, ${count} asked`);
    cols.push([name, type, count, raw]);
    raw += align8(count * ELEMENT_BYTES[type]);
  }
  const plain = Buffer.alloc(raw);
  b.columns.forEach(([, col, count], k) => {
    const bytes = new Uint8Array(col.buffer, col.byteOffset, count * col.BYTES_PER_ELEMENT);
    plain.set(bytes, cols[k]![3]);
  });
  const payload = lz4Codec().compressSync(plain);
  const header: BlockHeader = {
    kind: b.kind,
    rows: b.rows,
    bucket: b.bucket,
    minTime: b.minTime,
    maxTime: b.maxTime,
    raw,
    size: payload.length,
    crc: zlibNow().crc32(payload),
    cols,
    ...(b.meta === undefined ? {} : { meta: b.meta }),
  };
  const h = msgpack().pack(header);
  const frame = Buffer.allocUnsafe(FRAME_PREFIX + h.length + payload.length);
  frame.writeUInt32LE(BLOCK_MAGIC, 0);
  frame.writeUInt32LE(h.length, 4);
  frame.writeUInt32LE(zlibNow().crc32(h), 8);
  h.copy(frame, FRAME_PREFIX);
  payload.copy(frame, FRAME_PREFIX + h.length);
  return frame;
}

export class CorruptBlockError extends Error {}

/** The thread's CRC-32 (checksum): libdeflate's where the native module has it, else Node's zlib's (the same value). */
let crc32Of: ((b: Uint8Array) => number) | undefined;

/**
 * A header's or payload's CRC-32, as zlib's crc32 gives it: a replay run checks every block's
 * payload (80 MB a shard thread on the 20 M-record bench file), and libdeflate's carry-less
 * multiplication runs ~10 times as fast as zlib.crc32 there (bench/RESULTS.md, session 15 replay).
 */
function checksum(b: Uint8Array): number {
  crc32Of ??= nativeModule()?.crc32 ?? zlibNow().crc32;
  return crc32Of(b);
}

export interface DecodedBlock {
  header: BlockHeader;
  columns: Map<string, Column>;
  rawBytes: number;
}

/**
 * Decode one frame held in frame[0, length). Throws CorruptBlockError (with the reason)
 * when a checksum, a size or the layout does not hold: a damaged block never reaches the
 * decompressor or the accumulators. With `into`, the columns are views of its memory,
 * valid until its next use (src/replay/lz4-wasm.ts); without, of a buffer of their own.
 */
export function decodeBlock(frame: Uint8Array, expectKind: string, into?: Lz4Wasm | null): DecodedBlock {
  const header = readBlockHeader(frame, into);
  if (header.kind !== expectKind) throw new CorruptBlockError(`block holds '${header.kind}', expected '${expectKind}'`);
  const start = frame.length - header.size;
  const payload = frame.subarray(start);
  if (checksum(payload) !== header.crc) throw new CorruptBlockError('payload checksum mismatch');
  const plain = into ? uncompressInto(into, payload, header.raw) : uncompress(payload, header.raw);
  // lz4-napi returns a fresh buffer at offset 0; copy if an engine ever hands out an unaligned one
  const aligned = plain.byteOffset % 8 === 0 ? plain : Buffer.from(plain);
  return { header, columns: columnViews(header, aligned), rawBytes: header.raw };
}

/**
 * The columns of a block's plain bytes as views, checked against the header. An index loop:
 * `for (const [name, type, count, offset] of ...)` runs the iterator protocol twice a column,
 * which made decodeBlock one of the larger TurboFan compiles of a replay run (issue 19, replayv8).
 */
function columnViews(header: BlockHeader, aligned: Uint8Array): Map<string, Column> {
  const columns = new Map<string, Column>();
  const cols = header.cols;
  for (let i = 0; i < cols.length; i++) {
    const col = cols[i]!;
    const type = col[1];
    const count = col[2];
    const offset = col[3];
    if (!(type in ELEMENT_BYTES) || offset % 8 !== 0 || !(count >= 0) || offset + count * ELEMENT_BYTES[type] > header.raw) {
      throw new CorruptBlockError(`column '${col[0]}' lies outside the block`);
    }
    columns.set(col[0], viewOf(type, aligned.buffer as ArrayBuffer, aligned.byteOffset + offset, count));
  }
  return columns;
}

function uncompress(payload: Uint8Array, raw: number): Buffer {
  let plain: Buffer;
  try {
    plain = lz4Codec().uncompressSync(payload);
  } catch (err) {
    throw new CorruptBlockError(`lz4: ${(err as Error).message}`);
  }
  if (plain.length !== raw) throw new CorruptBlockError(`decompressed ${plain.length} bytes, header says ${raw}`);
  return plain;
}

function uncompressInto(into: Lz4Wasm, payload: Uint8Array, raw: number): Uint8Array {
  const plain = into.uncompress(payload, raw);
  if (plain === null) throw new CorruptBlockError(`lz4: the payload does not decompress to the ${raw} bytes its header says`);
  return plain;
}

/**
 * The header of a frame (checks the magic, the header checksum and the frame's length). With
 * `via`, a header that repeats the structure of the thread's last one is read by the module
 * (repeatedHeader).
 */
export function readBlockHeader(frame: Uint8Array, via?: Lz4Wasm | null): BlockHeader {
  if (frame.length < FRAME_PREFIX) throw new CorruptBlockError('block shorter than its frame prefix');
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.length);
  if (dv.getUint32(0, true) !== BLOCK_MAGIC) throw new CorruptBlockError('bad block magic');
  const hlen = dv.getUint32(4, true);
  if (FRAME_PREFIX + hlen > frame.length) throw new CorruptBlockError('block header runs past the block');
  const hbytes = frame.subarray(FRAME_PREFIX, FRAME_PREFIX + hlen);
  if (checksum(hbytes) !== dv.getUint32(8, true)) throw new CorruptBlockError('header checksum mismatch');
  let header: BlockHeader;
  try {
    // the common header without msgpackr (header-unpack.ts says why); what it leaves, msgpackr reads
    header = ((via ? repeatedHeader(via, hbytes) : unpackHeader(hbytes)) ?? msgpack().unpack(hbytes)) as BlockHeader;
  } catch (err) {
    throw new CorruptBlockError(`header: ${(err as Error).message}`);
  }
  if (!header || typeof header.rows !== 'number' || !Array.isArray(header.cols) || typeof header.size !== 'number') {
    throw new CorruptBlockError('header lacks its fields');
  }
  if (FRAME_PREFIX + hlen + header.size !== frame.length) {
    throw new CorruptBlockError(`block is ${frame.length} bytes, its header says ${FRAME_PREFIX + hlen + header.size}`);
  }
  return header;
}

/**
 * A header read through the replay module: the blocks of a file have headers of one structure
 * (the same keys, kind and columns; other rows, times, sizes and checksums), so one read in
 * JavaScript (unpackHeader) is remembered, and the next that repeats its structure is made
 * from its strings and the numbers the module read (assembly/lz4-block.ts repeatHeader). The
 * header reader in JavaScript runs once a block for 4,096 blocks of the 20 M-record bench file,
 * and TurboFan compiled it again in every shard thread (~30 ms of CPU each; issue 19, replayjit).
 * Undefined where msgpackr must read it (as unpackHeader).
 */
function repeatedHeader(via: Lz4Wasm, hbytes: Uint8Array): BlockHeader | undefined {
  const count = via.repeatHeader(hbytes);
  const known = via.knownHeader() as BlockHeader | undefined;
  if (count >= 0 && known !== undefined && count === 7 + 2 * known.cols.length) return headerOf(known, via.headerNumbers());
  const header = unpackHeader(hbytes);
  if (isTemplate(header)) via.rememberHeader(hbytes, header);
  return header as BlockHeader | undefined;
}

/** The keys of a header repeatedHeader rebuilds, in the order encodeBlock writes them (a header with `meta` is read whole). */
const TEMPLATE_KEYS = 'kind,rows,bucket,minTime,maxTime,raw,size,crc,cols';

/** Whether h is a header of encodeBlock's structure without meta: its numbers come in headerOf's order. */
function isTemplate(h: unknown): h is BlockHeader {
  if (typeof h !== 'object' || h === null || Object.keys(h).join() !== TEMPLATE_KEYS) return false;
  const b = h as BlockHeader;
  const numbers = [b.rows, b.bucket, b.minTime, b.maxTime, b.raw, b.size, b.crc];
  if (typeof b.kind !== 'string' || numbers.some((x) => typeof x !== 'number') || !Array.isArray(b.cols)) return false;
  return b.cols.every((c) => Array.isArray(c) && c.length === 4 && typeof c[0] === 'string' && typeof c[1] === 'string' && typeof c[2] === 'number' && typeof c[3] === 'number');
}

/** A header of the known one's strings and the numbers v (in the order the header holds them). */
function headerOf(known: BlockHeader, v: Float64Array): BlockHeader {
  const kc = known.cols;
  const cols = new Array<ColumnLayout>(kc.length);
  for (let i = 0; i < kc.length; i++) cols[i] = [kc[i]![0], kc[i]![1], v[7 + 2 * i]!, v[8 + 2 * i]!];
  return { kind: known.kind, rows: v[0]!, bucket: v[1]!, minTime: v[2]!, maxTime: v[3]!, raw: v[4]!, size: v[5]!, crc: v[6]!, cols };
}

export function align8(x: number): number {
  return (x + 7) & ~7;
}
