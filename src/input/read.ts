/**
 * Reading a task's bytes inside a parse worker: a byte range of a plain file, a whole
 * gzip file streamed through zlib, a whole document, or bytes handed over from stdin.
 * Decompression is bounded: a gzip bomb is stopped and reported, not inflated into memory.
 */
import { openSync, readSync, closeSync, createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { LineFeeder } from './lines.js';
import type { LineParser } from '../formats/types.js';

const BLOCK = 1 << 22; // 4 MiB reads

export class InputError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/**
 * Lines that start in [start, end) of a plain file. A line that crosses `end` is read to
 * its end; a chunk that starts inside a line leaves that line to the previous chunk.
 * Returns the number of lines consumed.
 */
export function readLineRange(path: string, start: number, end: number, parser: LineParser, maxLineBytes: number): number {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(BLOCK);
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
  error?: InputError;
}

/** Stream a gzip file through zlib into a line parser, bounded by maxBytes of output. */
export async function readGzipLines(
  path: string,
  parser: LineParser,
  maxLineBytes: number,
  maxBytes: number,
): Promise<GzipReadResult> {
  const feeder = new LineFeeder(parser, maxLineBytes, 0);
  let total = 0;
  const gunzip = createGunzip({ chunkSize: 1 << 20 });
  const stream = createReadStream(path, { highWaterMark: 1 << 20 }).pipe(gunzip);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      total += chunk.length;
      if (total > maxBytes) {
        stream.destroy();
        feeder.end(true);
        return {
          lines: feeder.line - 1,
          decompressedBytes: total,
          error: new InputError(`decompressed size exceeds the limit of ${maxBytes} bytes (gzip bomb?); stopped`, total),
        };
      }
      feeder.push(chunk);
    }
  } catch (err) {
    feeder.end(true);
    return { lines: feeder.line - 1, decompressedBytes: total, error: new InputError(`gzip: ${(err as Error).message}`, total) };
  }
  feeder.end(false);
  return { lines: feeder.line - 1, decompressedBytes: total };
}

/** Whole-file read for document formats, gunzipping when needed, bounded by maxBytes. */
export async function readWhole(path: string, gzip: boolean, maxBytes: number): Promise<Buffer> {
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

/** Lines in a block of bytes (from stdin). */
export function readLineBytes(bytes: Uint8Array, parser: LineParser, maxLineBytes: number, baseOffset: number): number {
  const feeder = new LineFeeder(parser, maxLineBytes, baseOffset);
  feeder.push(bytes);
  feeder.end(false);
  return feeder.line - 1;
}
