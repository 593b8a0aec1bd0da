/**
 * An input that arrives as a byte stream, not a file: stdin, or an object GET from a
 * bucket. It is sniffed as a file is (gzip by its magic bytes, then the format from the
 * first inflated bytes) and cut into line-aligned pieces for the parse threads. zlib
 * inflates on libuv's threads; the main thread only cuts at newlines and hands pieces on,
 * never looking inside a record.
 */
import { zlibNow } from './zlib.js';
import { isGzip, sniffFormat, awsHeaderOf } from '../formats/sniff.js';
import { readerFor } from '../formats/registry.js';
import type { FormatName } from '../formats/types.js';
import { unrecognised, firstLineOf, type InputFile } from './plan.js';
import { bounded, stdinChunks, type StreamLimits } from './streams.js';

const HEAD_BYTES = 1 << 16;

/** What the first bytes of a stream said. */
export interface StreamHead {
  gzip: boolean;
  format: FormatName | null;
  awsFields?: string[];
  headerLine?: string;
  /** Why the stream cannot be read (empty, unknown format, damaged gzip start). */
  error?: string;
  /** The (inflated) content from its first byte, bounded; ends early when the stream breaks (see state). */
  body: AsyncIterable<Uint8Array>;
  /** Raw bytes taken from the source so far; error: why the stream broke ('' while intact). */
  state: { raw: number; inflated: number; error: string };
}

export interface StreamSniffOptions {
  format?: FormatName;
  awsFields?: string[];
  maxDecompressedBytes: number;
}

/** An async iterator whose consumed chunks can be put back in front. */
class Pushback implements AsyncIterable<Uint8Array> {
  private readonly front: Uint8Array[] = [];
  private readonly it: AsyncIterator<Uint8Array>;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }
  unshift(chunks: Uint8Array[]): void {
    this.front.unshift(...chunks);
  }
  async next(): Promise<Uint8Array | null> {
    if (this.front.length) return this.front.shift()!;
    const r = await this.it.next();
    return r.done ? null : r.value;
  }
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      const c = await this.next();
      if (c === null) return;
      yield c;
    }
  }
  async return(): Promise<void> {
    await this.it.return?.();
  }
}

/**
 * Sniff a byte stream: gzip or not, then its format. A read error or damaged gzip after
 * the start ends `body` early and leaves the reason in state.error (the caller reports the
 * input as partial); the content is bounded by maxDecompressedBytes, as a file is.
 */
export async function sniffStream(source: AsyncIterable<Uint8Array>, name: string, opts: StreamSniffOptions): Promise<StreamHead> {
  const state = { raw: 0, inflated: 0, error: '' };
  const counted = countRaw(source, state);
  const raw = new Pushback(counted);
  const first: Uint8Array[] = [];
  let have = 0;
  try {
    while (have < 2) {
      const c = await raw.next();
      if (c === null) break;
      first.push(c);
      have += c.length;
    }
  } catch (err) {
    return { gzip: false, format: null, error: `cannot read: ${(err as Error).message}`, body: empty(), state };
  }
  if (have === 0) return { gzip: false, format: null, error: 'empty input', body: empty(), state };
  raw.unshift(first);
  const gzip = isGzip(Buffer.concat(first));
  // pipeline, not pipe: a read error of the source must reach (and end) the gunzip stream
  // node:stream and node:zlib loaded here, not with the module: most runs stream nothing (input/zlib.ts)
  const { Readable, pipeline } = process.getBuiltinModule('node:stream');
  const inflated = gzip ? pipeline(Readable.from(raw, { objectMode: false }), zlibNow().createGunzip({ chunkSize: 1 << 20 }), () => {}) : raw;
  const body = new Pushback(bounded(inflated as AsyncIterable<Uint8Array>, opts.maxDecompressedBytes, state, { gzip, noun: 'data' }));
  const head: Uint8Array[] = [];
  let headLen = 0;
  while (headLen < HEAD_BYTES) {
    const c = await body.next();
    if (c === null) break;
    head.push(c);
    headLen += c.length;
  }
  body.unshift(head);
  const headBytes = Buffer.concat(head, headLen).subarray(0, HEAD_BYTES);
  const base = { gzip, body, state };
  if (headLen === 0) {
    await body.return();
    return { ...base, format: null, error: state.error || (gzip ? 'the gzip data holds no data' : 'empty input'), body: empty() };
  }
  const format = opts.format ?? sniffFormat(headBytes, name);
  if (!format) {
    await body.return();
    return { ...base, format: null, error: unrecognised(headBytes), body: empty() };
  }
  const reader = readerFor(format);
  if (!reader || reader.kind === 'blocks') {
    await body.return();
    return { ...base, format, error: reader ? `'${format}' files are read from disk, not from a stream` : `format '${format}' is not supported yet`, body: empty() };
  }
  return {
    ...base,
    format,
    awsFields: format === 'aws-text' ? (awsHeaderOf(headBytes) ?? opts.awsFields) : undefined,
    headerLine: reader.kind === 'lines' ? firstLineOf(headBytes) : undefined,
  };
}

async function* empty(): AsyncGenerator<Uint8Array> {}

async function* countRaw(source: AsyncIterable<Uint8Array>, state: { raw: number }): AsyncGenerator<Uint8Array> {
  for await (const c of source) {
    state.raw += c.length;
    yield c;
  }
}

/** The whole content of a document stream (JSON formats), bounded. */
export async function collectBody(head: StreamHead): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const c of head.body) {
    chunks.push(c);
    n += c.length;
  }
  return new Uint8Array(Buffer.concat(chunks, n));
}

/** One parse task's worth of a streamed input (the fields run.ts adds to the file's common ones). */
export interface StreamedPiece {
  chunkIndex: number;
  format: FormatName;
  gzip: boolean;
  awsFields?: string[];
  headerLine?: string;
  mode: 'bytes';
  bytes: Uint8Array;
  start: number;
  end: number;
  compressedBytes: number;
  streamError?: string;
}

/**
 * The parse tasks of a streamed input (stdin, an object in a bucket): sniffed as it
 * arrives, then line-aligned pieces of its text for every parse thread, or one whole
 * document. What the sniff learns (gzip, format, header, or why it cannot be read) is
 * written into the input's plan entry for the report; a stream that breaks makes its last
 * piece carry why, as a large gzip file's pieces do (streams.ts gzipPieces).
 */
export async function* streamedPieces(
  f: InputFile,
  open: () => AsyncIterable<Uint8Array> | Promise<AsyncIterable<Uint8Array>>,
  opts: StreamLimits & { format?: FormatName; maxDecompressedBytes: number },
): AsyncGenerator<StreamedPiece> {
  let source: AsyncIterable<Uint8Array>;
  try {
    source = await open();
  } catch (err) {
    f.error = (err as Error).message;
    return;
  }
  const head = await sniffStream(source, f.display, { format: opts.format, awsFields: f.awsFields, maxDecompressedBytes: opts.maxDecompressedBytes });
  Object.assign(f, { gzip: head.gzip, format: head.format, awsFields: head.awsFields, headerLine: head.headerLine });
  if (head.error) {
    f.error = head.error;
    return;
  }
  const sniffed = { format: head.format!, gzip: head.gzip, awsFields: head.awsFields, headerLine: head.headerLine, mode: 'bytes' as const };
  if (readerFor(head.format!)?.kind !== 'lines') {
    const bytes = await collectBody(head);
    const streamError = head.state.error ? { streamError: head.state.error.replace(', in line {line}', '') } : {};
    yield { ...sniffed, chunkIndex: 0, bytes, start: 0, end: bytes.length, compressedBytes: head.state.raw, ...streamError };
    return;
  }
  let held: { bytes: Uint8Array; offset: number; compressed: number } | null = null;
  let index = 0;
  let accounted = 0;
  // each piece spans the input up to the next one (the dropped rest of a line too long included)
  for await (const { bytes, offset } of stdinChunks({ ...opts, stdin: () => head.body })) {
    if (held) yield { ...sniffed, chunkIndex: index++, bytes: held.bytes, start: held.offset, end: offset, compressedBytes: held.compressed };
    held = { bytes, offset, compressed: head.state.raw - accounted };
    accounted = head.state.raw;
  }
  held ??= { bytes: new Uint8Array(0), offset: head.state.inflated, compressed: 0 };
  yield {
    ...sniffed, chunkIndex: index, bytes: held.bytes, start: held.offset, end: Math.max(held.offset + held.bytes.length, head.state.inflated),
    compressedBytes: held.compressed + (head.state.raw - accounted),
    ...(head.state.error ? { streamError: head.state.error } : {}),
  };
}
