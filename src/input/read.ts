/**
 * Reading a task's bytes inside a parse worker: a byte range of a plain file, a whole
 * gzip file streamed through zlib, a whole document, or bytes handed over from stdin.
 * Decompression is bounded: a gzip bomb is stopped and reported, not inflated into memory.
 */
import { openSync, readSync, closeSync, createReadStream, fstatSync, readFileSync, statSync } from 'node:fs';
import { Gunzip, constants as zc, createGunzip, gunzipSync } from 'node:zlib';
import { LineFeeder } from './lines.js';
import type { LineParser } from '../formats/types.js';

/** Read size: small enough that the parser reads what read() just copied from L2 cache (4 MiB reads: 3-5 % slower end to end). */
const BLOCK = 1 << 18;

/** A file planned from its first line turns out to have a damaged head: it is not read (plan.ts headError). */
export class HeadError extends Error {}

export class InputError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

let blockBuffer: Buffer | null = null;

/**
 * The thread's one read buffer, for every chunk it reads (readLineRange is synchronous and
 * the parsers keep no view of it): a fresh 4 MiB buffer per 8 MiB chunk cost a page fault
 * per 4 KiB as read() first filled it.
 */
function readBuffer(): Buffer {
  return (blockBuffer ??= Buffer.allocUnsafe(BLOCK));
}

/**
 * Lines that start in [start, end) of a plain file. A line that crosses `end` is read to
 * its end; a chunk that starts inside a line leaves that line to the previous chunk.
 * Returns the number of lines consumed.
 */
export function readLineRange(path: string, start: number, end: number, parser: LineParser, maxLineBytes: number): number {
  const fd = openSync(path, 'r');
  try {
    const buf = readBuffer();
    let pos = start;
    if (start > 0) {
      // skip the tail of the line that began in the previous chunk
      const one = Buffer.alloc(1);
      readSync(fd, one, 0, 1, start - 1);
      if (one[0] !== 10) {
        for (;;) {
          const got = readSync(fd, buf, 0, BLOCK, pos);
          if (got === 0) return 0;
          const nl = buf.subarray(0, got).indexOf(10);
          if (nl >= 0) {
            pos += nl + 1;
            break;
          }
          pos += got;
        }
      }
    }
    const feeder = new LineFeeder(parser, maxLineBytes, pos);
    while (pos < end) {
      const got = readSync(fd, buf, 0, Math.min(BLOCK, end - pos), pos);
      if (got === 0) break;
      feeder.push(buf.subarray(0, got));
      pos += got;
    }
    // finish the line that straddles the chunk's end
    while (feeder.hasPartialLine) {
      const got = readSync(fd, buf, 0, BLOCK, pos);
      if (got === 0) break;
      const nl = buf.subarray(0, got).indexOf(10);
      const take = nl >= 0 ? nl + 1 : got;
      feeder.push(buf.subarray(0, take));
      pos += take;
      if (nl >= 0) break;
    }
    feeder.end(false);
    return feeder.line - 1;
  } finally {
    closeSync(fd);
  }
}

export interface GzipReadResult {
  lines: number;
  decompressedBytes: number;
  /** bytes of the gzip file */
  compressedBytes: number;
  error?: InputError;
}

/**
 * Stream a gzip file through zlib into a line parser, bounded by maxBytes of output.
 * Errors name the decompressed byte count and the line reached (offset -1: a byte offset
 * in the compressed file would be misleading, and run.ts appends offsets >= 0 as-is).
 */
export async function readGzipLines(
  path: string,
  parser: LineParser,
  maxLineBytes: number,
  maxBytes: number,
  /** the file's size when the caller knows it (planned): spares a stat */
  size = -1,
  /** called when the file does not inflate whole at once, before any of it is parsed (it may throw) */
  beforeStream?: () => void,
): Promise<GzipReadResult> {
  const small = smallGzip(path, maxBytes, size);
  // most flow-log objects are small (AWS: 5-minute files): one synchronous inflate
  // costs far less than a stream; anything unusual takes the streaming path below
  if (small) return readInflatedLines(small, parser, maxLineBytes);
  beforeStream?.();
  const compressedBytes = statSync(path).size;
  const feeder = new LineFeeder(parser, maxLineBytes, 0);
  let total = 0;
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const stream = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(gunzip);
  const where = () => `after ${total} decompressed bytes, in line ${feeder.line}`;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (total + chunk.length > maxBytes) {
        // parse up to the limit exactly, so that the result does not depend on zlib's chunk sizes
        feeder.push(chunk.subarray(0, maxBytes - total));
        total = maxBytes;
        stream.destroy();
        const at = where();
        feeder.end(true);
        return {
          lines: feeder.line - 1,
          decompressedBytes: total,
          compressedBytes,
          error: new InputError(`decompressed size exceeds --max-decompressed-bytes ${maxBytes} (a gzip bomb?): stopped ${at}`, -1),
        };
      }
      total += chunk.length;
      feeder.push(chunk);
    }
  } catch (err) {
    const at = where();
    feeder.end(true);
    const e = err as NodeJS.ErrnoException;
    const zlib = typeof e.code === 'string' && e.code.startsWith('Z_');
    const what = !zlib ? 'read error' : e.code === 'Z_BUF_ERROR' ? 'the file is truncated' : 'the file is damaged';
    const message = `${zlib ? 'gzip: ' : ''}${e.message}: ${what} (stopped ${at})`;
    return { lines: feeder.line - 1, decompressedBytes: total, compressedBytes, error: new InputError(message, -1) };
  }
  feeder.end(false);
  return { lines: feeder.line - 1, decompressedBytes: total, compressedBytes };
}

/** The lines of a small gzip file inflated whole (smallGzip). */
export function readInflatedLines(small: SmallGzip, parser: LineParser, maxLineBytes: number): GzipReadResult {
  const feeder = new LineFeeder(parser, maxLineBytes, 0);
  feeder.push(small.text);
  feeder.end(false);
  return { lines: feeder.line - 1, decompressedBytes: small.text.length, compressedBytes: small.compressed };
}

const SMALL_GZIP_INPUT = 8 << 20;
const SMALL_GZIP_OUTPUT = 256 << 20;

export interface SmallGzip {
  text: Buffer;
  compressed: number;
}

/**
 * The whole decompressed content of a small, intact gzip file, or null (large,
 * truncated, damaged, or inflating past the bound (maxBytes, at most 256 MiB): the
 * streaming reader then handles it, with its exact error reporting).
 */
export function smallGzip(path: string, maxBytes: number, size: number): SmallGzip | null {
  const maxOutput = Math.min(maxBytes, SMALL_GZIP_OUTPUT);
  try {
    // size -1: not known (planning stat'ed not every file): the open file's own size decides
    const gz = size >= 0 ? (size > SMALL_GZIP_INPUT ? null : readFileSync(path)) : readUpTo(path, SMALL_GZIP_INPUT);
    if (gz === null) return null;
    // Node's zlib beat the pure-JS inflaters on these files, small and large (bench/RESULTS.md, 2026-12-06)
    return { text: gunzipWhole(gz, maxOutput), compressed: gz.length };
  } catch {
    return null;
  }
}

/** A whole file of at most `limit` bytes, or null when it is larger (one open, no stat of the path). */
function readUpTo(path: string, limit: number): Buffer | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size > limit) return null;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return got === size ? buf : buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The binding under a zlib stream, as node:zlib's own synchronous loop uses it (processChunkSync). */
interface ZlibHandle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
  close(): void;
  onerror: (message: string, errno: number) => void;
}

/** The thread's gunzip handle (undefined: none made yet; null: this Node has none to reuse). */
let gunzipHandle: { handle: ZlibHandle; state: Uint32Array } | null | undefined;
let gunzipFailed = false;

/**
 * A whole gzip file inflated with the thread's one gunzip handle, reset between files:
 * gunzipSync makes a new handle and Transform stream a call, which cost a small file about
 * as much as its inflate (4.4 against 8-10 µs a file, bench/RESULTS.md). The loop is
 * gunzipSync's own (node:zlib processChunkSync) on the same binding, so the bytes are its;
 * on any error, past maxOutput, or where the binding is not there, gunzipSync does the
 * file, so what fails fails as it did.
 */
function gunzipWhole(gz: Buffer, maxOutput: number): Buffer {
  gunzipHandle ??= openGunzip();
  const out = gunzipHandle ? inflateWith(gunzipHandle, gz, maxOutput) : null;
  return out ?? gunzipSync(gz, { maxOutputLength: maxOutput, chunkSize: inflateChunk(gz.length) });
}

function openGunzip(): { handle: ZlibHandle; state: Uint32Array } | null {
  const g = new Gunzip() as unknown as { _handle?: ZlibHandle; _writeState?: unknown };
  const handle = g._handle;
  const state = g._writeState;
  if (!handle || typeof handle.writeSync !== 'function' || typeof handle.reset !== 'function' || !(state instanceof Uint32Array)) return null;
  handle.onerror = () => {
    gunzipFailed = true;
  };
  return { handle, state };
}

function inflateWith(z: { handle: ZlibHandle; state: Uint32Array }, gz: Buffer, maxOutput: number): Buffer | null {
  gunzipFailed = false;
  let out = Buffer.allocUnsafe(inflateChunk(gz.length));
  let inOff = 0;
  let availIn = gz.length;
  let produced = 0;
  try {
    for (;;) {
      z.handle.writeSync(zc.Z_FINISH, gz, inOff, availIn, out, produced, out.length - produced);
      if (gunzipFailed) break;
      const availOut = z.state[0]!;
      inOff += availIn - z.state[1]!;
      availIn = z.state[1]!;
      produced = out.length - availOut;
      if (produced > maxOutput) break;
      if (availOut !== 0) {
        z.handle.reset();
        return out.subarray(0, produced);
      }
      const more = Buffer.allocUnsafe(out.length * 2); // the output buffer was full: there may be more
      out.copy(more, 0, 0, produced);
      out = more;
    }
  } catch {
    gunzipHandle = null; // the binding is not what this loop expects: gunzipSync from now on
    return null;
  }
  // an error, or too much output: a fresh handle for the next file, and gunzipSync says what went wrong
  try {
    z.handle.close();
  } catch {
    // closed already
  }
  gunzipHandle = undefined;
  return null;
}

/**
 * zlib's output chunk for inflating `compressed` bytes at once: about the whole output
 * (flow logs inflate ~8 times), so that the sync inflate makes one chunk and copies
 * nothing into a concatenation (its default 16 KiB chunks cost ~30 % more on 5-minute
 * objects, bench/RESULTS.md).
 */
export function inflateChunk(compressed: number): number {
  return Math.min(8 << 20, Math.max(16 << 10, 2 ** Math.ceil(Math.log2(Math.max(1, compressed) * 8))));
}

/** Whole-file read for document formats, gunzipping when needed, bounded by maxBytes. */
export async function readWhole(path: string, gzip: boolean, maxBytes: number): Promise<Buffer> {
  if (!gzip) return readPlainWhole(path, maxBytes);
  const chunks: Buffer[] = [];
  let total = 0;
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gzip ? src.pipe(createGunzip({ chunkSize: 1 << 20 })) : src;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        stream.destroy();
        throw new InputError(`file exceeds the limit of ${maxBytes} bytes for one document (gzip bomb?); not read`, total);
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`${gzip ? 'gzip' : 'read'}: ${(err as Error).message}`, total);
  }
  return Buffer.concat(chunks, total);
}

/**
 * A plain document read synchronously into one buffer of its size: most are small (Azure
 * PT1H.json blobs of tens of KiB), where a read stream's async open, 1 MiB chunk and
 * concatenation cost more than the parse. Reads to the end even when the file grew since
 * fstat (a blob still being appended), in BLOCK steps so the limit stops it as the stream did.
 */
function readPlainWhole(path: string, maxBytes: number): Buffer {
  let total = 0;
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    let buf = Buffer.allocUnsafeSlow(fstatSync(fd).size + 1); // + 1: a read past the size sees growth or the end
    for (;;) {
      if (total === buf.length) {
        const more = Buffer.allocUnsafeSlow(buf.length * 2);
        buf.copy(more, 0, 0, total);
        buf = more;
      }
      const got = readSync(fd, buf, total, Math.min(BLOCK * 4, buf.length - total), null);
      if (got === 0) return buf.subarray(0, total);
      total += got;
      if (total > maxBytes) throw new InputError(`file exceeds the limit of ${maxBytes} bytes for one document (gzip bomb?); not read`, total);
    }
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`read: ${(err as Error).message}`, total);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

/** Lines in a block of bytes (from stdin). */
/** Lines of bytes in memory; `truncated`: the input broke off after them (an unterminated last line is a truncated line). */
export function readLineBytes(bytes: Uint8Array, parser: LineParser, maxLineBytes: number, baseOffset: number, truncated = false): number {
  const feeder = new LineFeeder(parser, maxLineBytes, baseOffset);
  // bytes posted from another thread arrive as a plain Uint8Array: viewed as a Buffer (no
  // copy), so that the parsers see the one kind of array they see everywhere else
  feeder.push(Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  feeder.end(truncated);
  return feeder.line - 1;
}
