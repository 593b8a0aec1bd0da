/**
 * Reading a task's bytes inside a parse worker: a byte range of a plain file, a whole
 * gzip file streamed through zlib, a whole document, or bytes handed over from stdin.
 * Decompression is bounded: a gzip bomb is stopped and reported, not inflated into memory.
 */
import { openSync, readSync, closeSync, createReadStream, fstatSync, readFileSync, statSync } from 'node:fs';
import { zlibNow } from './zlib.js';
import { LineFeeder } from './lines.js';
import { nativeModule, type NativeInflate } from './native.js';
import { fileBuffer, giveFileBuffer } from './file-buffers.js';
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
  const blocks = lineRangeBlocks(path, start, end, parser, maxLineBytes);
  for (;;) {
    const step = blocks.next();
    if (step.done) return step.value;
  }
}

/**
 * readLineRange, with `pause()` awaited after each block: for a range read in a thread that
 * has other work meanwhile (the engine's thread, which routes the batches to the shards as
 * they fill: src/engine/parse-here.ts).
 */
export async function readLineRangePausing(path: string, start: number, end: number, parser: LineParser, maxLineBytes: number, pause: () => Promise<void>): Promise<number> {
  const blocks = lineRangeBlocks(path, start, end, parser, maxLineBytes);
  try {
    for (;;) {
      const step = blocks.next();
      if (step.done) return step.value;
      await pause();
    }
  } finally {
    blocks.return(0); // the file closed, however the read ends
  }
}

/** readLineRange's read, a step a block of the range (the steps after it, to the end of its last line, in one). */
function* lineRangeBlocks(path: string, start: number, end: number, parser: LineParser, maxLineBytes: number): Generator<void, number> {
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
    const size = parser.readBytes ?? BLOCK;
    while (pos < end) {
      const target = parser.readTarget?.(size) ?? null; // read where the parser reads (no copy)
      const into = target ?? buf;
      const got = readSync(fd, into, 0, Math.min(target ? size : BLOCK, end - pos), pos);
      if (got === 0) break;
      // a parser that names its reads' size (GCP) has the next read start at the block's
      // last line, read again: no carried line parsed alone between two blocks
      if (target !== null && parser.readBytes !== undefined) pos += feeder.pushLines(into.subarray(0, got));
      else {
        feeder.push(into.subarray(0, got));
        pos += got;
      }
      yield;
    }
    // finish the line that straddles the chunk's end
    while (feeder.hasPartialLine) {
      const target = parser.readTarget?.(size) ?? null;
      const into = target ?? buf;
      const got = readSync(fd, into, 0, target ? size : BLOCK, pos);
      if (got === 0) break;
      const nl = into.subarray(0, got).indexOf(10);
      const take = nl >= 0 ? nl + 1 : got;
      feeder.push(into.subarray(0, take));
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
  const early = takeInflatedAhead(path, maxBytes);
  const small = (early && (await early)) || smallGzip(path, maxBytes, size);
  // most flow-log objects are small (AWS: 5-minute files): one synchronous inflate
  // costs far less than a stream; anything unusual takes the streaming path below
  if (small) {
    try {
      return readInflatedLines(small, parser, maxLineBytes);
    } finally {
      giveInflated(small);
    }
  }
  beforeStream?.();
  const compressedBytes = statSync(path).size;
  const feeder = new LineFeeder(parser, maxLineBytes, 0);
  let total = 0;
  const gunzip = zlibNow().createGunzip({ chunkSize: 1 << 20 });
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

/** The reader is done with `small` (its text is not read again): its memory may serve the thread's next file (file-buffers.ts). */
export function giveInflated(small: SmallGzip): void {
  giveFileBuffer(small.text);
}

/**
 * The whole decompressed content of a small, intact gzip file, or null (large,
 * truncated, damaged, or inflating past the bound (maxBytes, at most 256 MiB): the
 * streaming reader then handles it, with its exact error reporting).
 */
export function smallGzip(path: string, maxBytes: number, size: number): SmallGzip | null {
  const maxOutput = Math.min(maxBytes, SMALL_GZIP_OUTPUT);
  try {
    const planned = size >= 0 ? size : statSync(path).size;
    if (planned > SMALL_GZIP_INPUT) return null;
    const gz = readGzipFile(path, planned);
    try {
      // libdeflate where built (gunzipNative), else Node's zlib, which beat the pure-JS
      // inflaters on these files, small and large (bench/RESULTS.md, 2026-12-06)
      return { text: gunzipWhole(gz, maxOutput, fileBuffer), compressed: gz.length };
    } finally {
      giveFileBuffer(gz);
    }
  } catch {
    return null;
  }
}

/**
 * A whole gzip file read into one of the thread's reused buffers (file-buffers.ts), to its
 * end; `size` (its planned size) only sizes the buffer, so that one read takes it all and the
 * next finds the end (no fstat: its Stats object cost more than that read). The caller gives
 * the buffer back. The native module reads it where it can (readFileIn: opened relative to its
 * folder, kept open for the next file in it); anything it did not read whole is read here.
 */
function readGzipFile(path: string, size: number): Buffer {
  nativeInflate ??= loadNativeInflate();
  const readIn = nativeInflate?.readFileIn;
  if (readIn !== undefined) {
    const buf = fileBuffer(Math.max(size, 0) + 1);
    const got = readIn(path, buf);
    if (got >= 0) return buf.subarray(0, got);
    giveFileBuffer(buf);
  }
  const fd = openSync(path, 'r');
  try {
    let buf = fileBuffer(Math.max(size, 0) + 1);
    let got = 0;
    for (;;) {
      if (got === buf.length) {
        const more = fileBuffer(buf.length * 2); // it grew since it was planned
        buf.copy(more, 0, 0, got);
        giveFileBuffer(buf);
        buf = more;
      }
      const n = readSync(fd, buf, got, buf.length - got, null);
      if (n === 0) return buf.subarray(0, got);
      got += n;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The folder readGzipFile's native read keeps open closed: at a parse task's end (workers/parse.ts
 * parseWithSink), so that a folder renamed or replaced at its path later is not read from.
 */
export function endFileReads(): void {
  nativeInflate?.readFileInDone?.();
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
 * A whole gzip file: libdeflate where it takes the file (gunzipNative), else the thread's
 * one gunzip handle, reset between files:
 * gunzipSync makes a new handle and Transform stream a call, which cost a small file about
 * as much as its inflate (4.4 against 8-10 µs a file, bench/RESULTS.md). The loop is
 * gunzipSync's own (node:zlib processChunkSync) on the same binding, so the bytes are its;
 * on any error, past maxOutput, or where the binding is not there, gunzipSync does the
 * file, so what fails fails as it did.
 */
export function gunzipWhole(gz: Buffer, maxOutput: number, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const native = gunzipNative(gz, maxOutput, alloc);
  if (native) return native;
  return gunzipZlib(gz, maxOutput);
}

/** gunzipWhole's zlib path (exported for the tests and the benches: what runs without the native module). */
export function gunzipZlib(gz: Buffer, maxOutput: number): Buffer {
  gunzipHandle ??= openGunzip();
  const out = gunzipHandle ? inflateWith(gunzipHandle, gz, maxOutput) : null;
  return out ?? zlibNow().gunzipSync(gz, { maxOutputLength: maxOutput, chunkSize: inflateChunk(gz.length) });
}

/** The thread's native module (input/native.ts; null: none). */
let nativeInflate: NativeInflate | null | undefined;

function loadNativeInflate(): NativeInflate | null {
  return nativeModule();
}

/** Which inflater whole gzip files get in this thread: 'libdeflate', or 'zlib' (no native module, or FLOWSIEVE_INFLATE=zlib). */
export function wholeGzipInflater(): 'libdeflate' | 'zlib' {
  nativeInflate ??= loadNativeInflate();
  return nativeInflate ? 'libdeflate' : 'zlib';
}

/**
 * Memory not touched yet that this process will fill (the engine's batch ring) backed by
 * transparent huge pages where the kernel allows it (the native module's madvise): its first
 * touch is then a fault a 2 MiB page, not one a 4 KiB page (~1.5 us each here; bench/RESULTS.md,
 * branch parsejs). False without the module or the kernel's consent: nothing changes.
 */
export function adviseHugePages(bytes: Uint8Array): boolean {
  nativeInflate ??= loadNativeInflate();
  return nativeInflate?.adviseHugePages?.(bytes) ?? false;
}

/** deflate's best case is ~1032 bytes out a byte in: a trailer claiming more is damaged, or a size mod 2^32 that wrapped */
const MAX_DEFLATE_RATIO = 1032;

/**
 * A whole single-member gzip file inflated by libdeflate into a buffer of the trailer's size
 * (ISIZE), or null: no native module, more than one member, trailing bytes, a header CRC to
 * check (libdeflate skips it; zlib checks it), a size past maxOutput or impossible for the
 * input, or anything libdeflate refuses (damage, a CRC-32 or ISIZE that does not match what
 * inflates). The zlib path then does the file as before, so every file either comes out as
 * zlib makes it (libdeflate checks the CRC-32 and the exact size) or fails as it did.
 */
export function gunzipNative(gz: Buffer, maxOutput: number, alloc: (size: number) => Buffer = Buffer.allocUnsafe): Buffer | null {
  const size = nativeOutputSize(gz, maxOutput);
  if (size < 0) return null;
  const out = alloc(size);
  if (nativeInflate!.gunzip(gz, out) === gz.length) return out;
  giveFileBuffer(out);
  return null;
}

/** The size libdeflate is to inflate `gz` into (its trailer's ISIZE), or -1: the file is not for libdeflate (gunzipNative). */
function nativeOutputSize(gz: Buffer, maxOutput: number): number {
  nativeInflate ??= loadNativeInflate();
  if (!nativeInflate || gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b || gz[2] !== 8 || (gz[3]! & 0x02) !== 0) return -1;
  const size = gz.readUInt32LE(gz.length - 4);
  return size === 0 || size > maxOutput || size > gz.length * MAX_DEFLATE_RATIO ? -1 : size;
}

/**
 * Files read and being inflated ahead on libuv's thread pool (inflateAhead), by path, until
 * the thread's reader takes them (takeInflatedAhead): at most AHEAD_FILES, in the order the
 * thread will parse them, within AHEAD_BYTES of inflated text (aheadRoom).
 */
const ahead = new Map<string, Ahead>();

interface Ahead {
  maxOutput: number;
  done: Promise<SmallGzip | null>;
  /** the inflated text's size, counted in aheadBytes until the file is taken or dropped */
  bytes: number;
}

/** Inflated bytes of the files in `ahead`. */
let aheadBytes = 0;

/** Files started ahead and taken by their reader, since the thread began (tests: inflatedAheadNow). */
let aheadStarted = 0;
let aheadTaken = 0;

/**
 * Paths inflateAhead read and did not start (not a file for libdeflate under that bound on
 * its output, or not readable), with the bound: not read again at the next file's start; the
 * reader reads them when their turn comes. Cleared with `ahead` (dropInflatedAhead).
 */
const notAhead = new Map<string, number>();

/**
 * Below this many compressed bytes a file is not inflated ahead: its inflate (~30 µs) is
 * not worth the thread pool's round trip and the event loop turn that brings it back.
 */
const AHEAD_MIN_BYTES = 32 << 10;

/**
 * At most this many files of the process inflate ahead at once: libuv's pool has
 * UV_THREADPOOL_SIZE threads (4), one left to file reads; a parse thread past that reads its
 * next file itself when its turn comes, rather than wait for it behind the other threads'.
 */
const AHEAD_LIMIT = Math.max(1, (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1);

/**
 * Files a thread keeps inflated (or inflating) ahead of the one it parses. One was not
 * enough: started as the file before it starts, the next file's inflate shares the cores
 * with the parse and the shard threads and was often not done when the parse reached it
 * (the parse thread waited ~15 % of the 7 M bucket's pipeline, bench/RESULTS.md, branch
 * overlap); a few ahead inflate when a core is free, and the parse thread finds them done.
 */
export const AHEAD_FILES = 3;

/**
 * Inflated bytes a thread holds ahead: another file starts only while those ahead hold less
 * (the first always may, as one did before), so that a thread's ahead text stays under this
 * plus one file's (at most 256 MiB, SMALL_GZIP_OUTPUT; a bucket's 5-minute files: 1-8 MiB).
 */
export const AHEAD_BYTES = 24 << 20;

/** Whether another file may start inflating ahead (AHEAD_FILES, AHEAD_BYTES). */
function aheadRoom(): boolean {
  return ahead.size === 0 || (ahead.size < AHEAD_FILES && aheadBytes < AHEAD_BYTES);
}

/**
 * Start reading and inflating the gzip file `path` (`size` bytes, as planned) on libuv's
 * thread pool, so that it inflates while this thread parses the files before it (a 'files'
 * task, workers/parse.ts): the reader then takes it with takeInflatedAhead. Only what
 * gunzipNative would take: anything else (and any failure) is read as before, when its turn
 * comes. False: not started for want of room (aheadRoom, the pool's limit), so a caller
 * starting files in order stops there and tries again at its next file.
 */
export function inflateAhead(path: string, maxBytes: number, size: number): boolean {
  const maxOutput = Math.min(maxBytes, SMALL_GZIP_OUTPUT);
  if (size < AHEAD_MIN_BYTES || size > SMALL_GZIP_INPUT || ahead.has(path) || notAhead.get(path) === maxOutput) return true;
  if (!aheadRoom()) return false;
  nativeInflate ??= loadNativeInflate();
  if (!nativeInflate) return true;
  if (nativeInflate.gunzipFileAsync) return readAheadOnPool(nativeInflate, path, maxOutput, size);
  let gz: Buffer;
  try {
    gz = readGzipFile(path, size);
  } catch {
    notAhead.set(path, maxOutput);
    return true; // the reader reports it
  }
  const length = nativeOutputSize(gz, maxOutput);
  if (length < 0) {
    notAhead.set(path, maxOutput);
    giveFileBuffer(gz);
    return true;
  }
  const out = fileBuffer(length);
  const { done, finish } = inflation(gz, out);
  if (!nativeInflate.gunzipAsync(gz, out, AHEAD_LIMIT, finish)) {
    giveFileBuffer(out);
    giveFileBuffer(gz);
    return false; // the pool holds the process's limit: the next file's start tries again
  }
  startedAhead(path, maxOutput, done, length);
  return true;
}

/**
 * One file's inflate ahead from `gz` into `out`: the promise its reader takes, and the
 * callback the native inflate answers (the input bytes it took; any other answer: the file
 * is read as any file when its turn comes); `release` runs first (readAheadOnPool's fd).
 */
function inflation(gz: Buffer, out: Buffer, release?: () => void): { done: Promise<SmallGzip | null>; finish: (r: number) => void } {
  let finish!: (r: number) => void;
  const done = new Promise<SmallGzip | null>(
    (resolve) =>
      (finish = (r) => {
        release?.();
        giveFileBuffer(gz); // libdeflate is done with it
        if (r === gz.length) return resolve({ text: out, compressed: gz.length });
        giveFileBuffer(out);
        resolve(null);
      }),
  );
  return { done, finish };
}

/** Count a file started ahead: `length` bytes of text to come, taken by takeInflatedAhead. */
function startedAhead(path: string, maxOutput: number, done: Promise<SmallGzip | null>, length: number): void {
  ahead.set(path, { maxOutput, done, bytes: length });
  aheadBytes += length;
  aheadStarted++;
}

/** The four bytes of a gzip file's trailer that give its size inflated (ISIZE), read here. */
const trailer = Buffer.alloc(4);

/**
 * inflateAhead with the file read on the pool thread as well (native gunzipFileAsync): this
 * thread opens it and reads its trailer's ISIZE only, where reading the whole file cost it
 * ~6 ns a record of the bucket (kernel copy and page-cache lookups; bench/RESULTS.md, branch
 * parse7m). The same answers as inflateAhead: true when started or not a file for libdeflate
 * by its trailer (the reader reads it when its turn comes), false for want of room in the pool.
 * A file that is not `size` bytes by then, or not a gzip file libdeflate takes, comes back as
 * nothing: its reader then reads it as any file.
 */
function readAheadOnPool(native: NativeInflate, path: string, maxOutput: number, size: number): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    notAhead.set(path, maxOutput);
    return true; // the reader reports it
  }
  let length = -1;
  try {
    if (readSync(fd, trailer, 0, 4, size - 4) === 4) length = trailer.readUInt32LE(0);
  } catch {
    // read as any file
  }
  if (length <= 0 || length > maxOutput || length > size * MAX_DEFLATE_RATIO) {
    closeSync(fd);
    notAhead.set(path, maxOutput);
    return true;
  }
  const gz = fileBuffer(size);
  const out = fileBuffer(length);
  const { done, finish } = inflation(gz, out, () => closeSync(fd)); // closed here, not on the pool: Node tracks the fds openSync gives
  if (!native.gunzipFileAsync!(fd, gz, out, AHEAD_LIMIT, finish)) {
    closeSync(fd);
    giveFileBuffer(out);
    giveFileBuffer(gz);
    return false; // the pool holds the process's limit: the next file's start tries again
  }
  startedAhead(path, maxOutput, done, length);
  return true;
}

/**
 * Forget the files inflated ahead (a task's end: one not taken must not stand in for the
 * file's content in a later task), but those of `keep`: the first files of the task this
 * thread runs next, started ahead by the task before it. A dropped file's buffers serve the
 * thread's next files once its inflate is done.
 */
export function dropInflatedAhead(keep?: ReadonlySet<string>): void {
  for (const [path, a] of ahead) {
    if (keep?.has(path)) continue;
    ahead.delete(path);
    aheadBytes -= a.bytes;
    void a.done.then((r) => r && giveInflated(r));
  }
  notAhead.clear();
}

/** The file inflated ahead for this path and bound (null: it failed there, read it as any file), or undefined: none. */
export function takeInflatedAhead(path: string, maxBytes: number): Promise<SmallGzip | null> | undefined {
  const a = ahead.get(path);
  if (!a) return undefined;
  ahead.delete(path);
  aheadBytes -= a.bytes;
  if (a.maxOutput !== Math.min(maxBytes, SMALL_GZIP_OUTPUT)) return undefined;
  aheadTaken++;
  return a.done;
}

/** Files (and their inflated bytes) held ahead now, and how many were started and taken since the thread began (tests). */
export function inflatedAheadNow(): { files: number; bytes: number; started: number; taken: number } {
  return { files: ahead.size, bytes: aheadBytes, started: aheadStarted, taken: aheadTaken };
}

function openGunzip(): { handle: ZlibHandle; state: Uint32Array } | null {
  const g = new (zlibNow().Gunzip)() as unknown as { _handle?: ZlibHandle; _writeState?: unknown };
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
      z.handle.writeSync(zlibNow().constants.Z_FINISH, gz, inOff, availIn, out, produced, out.length - produced);
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
  const inflated = gunzipDocument(path, maxBytes);
  if (inflated) return inflated;
  const chunks: Buffer[] = [];
  let total = 0;
  const src = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gzip ? src.pipe(zlibNow().createGunzip({ chunkSize: 1 << 20 })) : src;
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
 * A small gzip document inflated by libdeflate in one call (gunzipNative), or null: the
 * stream below reads it, with its errors and its limit, as before.
 */
function gunzipDocument(path: string, maxBytes: number): Buffer | null {
  try {
    if (statSync(path).size > SMALL_GZIP_INPUT) return null;
    return gunzipNative(readFileSync(path), Math.min(maxBytes, SMALL_GZIP_OUTPUT));
  } catch {
    return null;
  }
}

/**
 * A plain document read synchronously into one buffer of its size: most are small (Azure
 * PT1H.json blobs of tens of KiB), where a read stream's async open, 1 MiB chunk and
 * concatenation cost more than the parse. Reads to the end even when the file grew since
 * fstat (a blob still being appended), in BLOCK steps so the limit stops it as the stream did.
 */
function readPlainWhole(path: string, maxBytes: number, bufferFor = freshBuffer, sizeHint = -1): Buffer {
  let total = 0;
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    // + 1: a read past the size sees growth or the end (a size planned before may be stale:
    // the reads go to the end either way, growing the buffer if they must)
    let buf = bufferFor((sizeHint >= 0 ? sizeHint : fstatSync(fd).size) + 1);
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

const freshBuffer = (size: number): Buffer => Buffer.allocUnsafeSlow(size);

/**
 * readWhole of a plain file into a buffer this thread keeps for the next call, which
 * overwrites it: for a caller that is done with the bytes before it reads again and keeps
 * none of them (a parse thread reading one Azure blob after another: its reader copies the
 * blob into its module and what it keeps into the sink). A fresh buffer each blob was an
 * allocation of tens of KiB and its free a blob (bench/RESULTS.md, branch azurestart).
 * `plannedSize`: the file's size when planned (-1: unknown), the buffer's size to start with.
 */
export function readPlainReused(path: string, maxBytes: number, plannedSize = -1): Buffer {
  // the planned size (a stat of the walk) spares an fstat a blob
  return readPlainWhole(path, maxBytes, reusedBuffer, plannedSize);
}

let reused: Buffer | null = null;

/** The kept buffer when it holds `size` bytes; else a new one, kept if it is not too large to keep. */
function reusedBuffer(size: number): Buffer {
  if (reused !== null && reused.length >= size) return reused;
  const buf = Buffer.allocUnsafeSlow(Math.max(size, 2 * (reused?.length ?? 0), 1 << 16));
  if (buf.length <= REUSED_MAX) reused = buf;
  return buf;
}

/** The largest read buffer a thread keeps between calls (a larger blob gets its own). */
const REUSED_MAX = 8 << 20;

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
