/**
 * Streams the main thread cuts into line-aligned pieces for the parse threads: stdin, and
 * a large gzip file inflated once and parsed by every parse thread (engine/run.ts plans
 * the jobs). Neither ever holds a line longer than --max-line-bytes whole.
 */
import { createReadStream } from 'node:fs';
import { zlibNow } from './zlib.js';

/** The run options these streams read (a subset of DetectOptions). */
export interface StreamLimits {
  /** stdin, when an input is '-' (tests pass a buffer). */
  stdin?: () => AsyncIterable<Uint8Array>;
  maxLineBytes: number;
  chunkBytes: number;
}

/**
 * stdin in chunks that end at a newline (the carry goes to the next chunk), each with its
 * byte offset in the input. A line longer than --max-line-bytes is never buffered whole
 * (a 100 MB line without a newline used to be held, and re-concatenated for every piece
 * that arrived): its chunk ends with the line's first maxLineBytes + 1 bytes and a '\n',
 * which the worker reports as a line too long, and the rest of the line is dropped as it
 * arrives.
 */
export async function* stdinChunks(opts: StreamLimits): AsyncGenerator<{ bytes: Uint8Array; offset: number }> {
  const source = opts.stdin ? opts.stdin() : (process.stdin as AsyncIterable<Uint8Array>);
  const maxLine = Math.max(0, opts.maxLineBytes);
  let pending: Uint8Array[] = [];
  let pendingLen = 0;
  let tailLen = 0; // bytes of pending after its last '\n' (the line being received)
  let offset = 0; // input offset of pending's first byte
  let skipping = false; // dropping the rest of a line too long
  let lastEnd = 0; // the last chunk's offset + its length
  for await (const piece of source) {
    let p = piece;
    if (skipping) {
      const nl = p.indexOf(10);
      if (nl < 0) {
        offset += p.length;
        continue;
      }
      offset += nl + 1;
      p = p.subarray(nl + 1);
      skipping = false;
    }
    if (p.length === 0) continue;
    pending.push(p);
    pendingLen += p.length;
    const lastNl = p.lastIndexOf(10);
    tailLen = lastNl >= 0 ? p.length - lastNl - 1 : tailLen + p.length;
    if (tailLen > maxLine) {
      const all = Buffer.concat(pending, pendingLen);
      const cut = pendingLen - tailLen + maxLine + 1;
      const bytes = new Uint8Array(cut + 1);
      bytes.set(all.subarray(0, cut));
      bytes[cut] = 10;
      yield { bytes, offset };
      lastEnd = offset + bytes.length; // where a caller that does not wait for the next chunk ends this one
      offset += pendingLen;
      pending = [];
      pendingLen = tailLen = 0;
      skipping = true;
      continue;
    }
    if (pendingLen >= opts.chunkBytes && pendingLen > tailLen) {
      const all = Buffer.concat(pending, pendingLen);
      const whole = pendingLen - tailLen;
      yield { bytes: new Uint8Array(all.subarray(0, whole)), offset };
      offset += whole;
      lastEnd = offset;
      pending = tailLen ? [new Uint8Array(all.subarray(whole))] : [];
      pendingLen = tailLen;
    }
  }
  if (pendingLen > 0) yield { bytes: new Uint8Array(Buffer.concat(pending, pendingLen)), offset };
  // the dropped rest of a line too long at the very end: an empty chunk at the input's end,
  // so that a caller that takes each chunk's span up to the next chunk counts those bytes
  else if (offset > lastEnd) yield { bytes: new Uint8Array(0), offset };
}

/**
 * One large gzip file as line-aligned pieces of its inflated text, for all the parse
 * threads at once: zlib inflates on libuv's threads, so the main thread only cuts and
 * routes, and one file no longer waits on one parse thread. The last piece carries the
 * end of the stream: a stream that broke (truncated, damaged, or inflating past
 * --max-decompressed-bytes) makes its unterminated last line a truncated line and its
 * reason the file's error, as the one-thread reader (read.ts readGzipLines) reports them.
 */
export async function* gzipPieces(
  path: string,
  compressedSize: number,
  opts: Omit<StreamLimits, 'stdin'> & { maxDecompressedBytes: number },
): AsyncGenerator<{ index: number; task: { bytes: Uint8Array; start: number; end: number; compressedBytes: number; streamError?: string } }> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const state = { inflated: 0, error: '' };
  const inflated = bounded(file.pipe(zlibNow().createGunzip({ chunkSize: 1 << 20 })), opts.maxDecompressedBytes, state, { gzip: true, noun: 'file' });
  let held: { bytes: Uint8Array; offset: number; compressed: number } | null = null;
  let index = 0;
  let accounted = 0;
  for await (const { bytes, offset } of stdinChunks({ ...opts, stdin: () => inflated })) {
    // a piece spans the inflated bytes up to the next one: a line too long was cut short in it
    if (held) yield { index: index++, task: { bytes: held.bytes, start: held.offset, end: offset, compressedBytes: held.compressed } };
    const read = Math.min(file.bytesRead, compressedSize);
    held = { bytes, offset, compressed: read - accounted };
    accounted = read;
  }
  held ??= { bytes: new Uint8Array(0), offset: state.inflated, compressed: 0 };
  yield {
    index,
    task: {
      bytes: held.bytes,
      start: held.offset,
      end: held.offset + held.bytes.length,
      compressedBytes: held.compressed + (compressedSize - accounted),
      ...(state.error ? { streamError: state.error } : {}),
    },
  };
}

/**
 * The (inflated) stream up to maxBytes; a failure or the bound ends it and is described in
 * state.error ({line}: filled in by the report). A zlib error is told as gzip's where
 * `gzip`; `noun` names what was cut short in it ('the file is truncated').
 */
export async function* bounded(
  stream: AsyncIterable<Uint8Array>,
  maxBytes: number,
  state: { inflated: number; error: string },
  o: { gzip: boolean; noun: 'file' | 'data' },
): AsyncGenerator<Uint8Array> {
  try {
    for await (const chunk of stream) {
      if (state.inflated + chunk.length > maxBytes) {
        yield chunk.subarray(0, maxBytes - state.inflated);
        state.inflated = maxBytes;
        (stream as { destroy?: () => void }).destroy?.();
        state.error = `decompressed size exceeds --max-decompressed-bytes ${maxBytes} (a gzip bomb?): stopped after ${maxBytes} decompressed bytes, in line {line}`;
        return;
      }
      state.inflated += chunk.length;
      yield chunk;
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const zlib = o.gzip && typeof e.code === 'string' && e.code.startsWith('Z_');
    const what = !zlib ? 'read error' : e.code === 'Z_BUF_ERROR' ? `the ${o.noun} is truncated` : `the ${o.noun} is damaged`;
    state.error = `${zlib ? 'gzip: ' : ''}${e.message}: ${what} (stopped after ${state.inflated} decompressed bytes, in line {line})`;
  }
}

