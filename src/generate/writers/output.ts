/**
 * A file written as a stream (optionally gzip). Records are encoded straight into a
 * byte buffer (everything the generator writes is ASCII): no string per record is
 * built or joined on the AWS path, which keeps the generator's own cost per record
 * well below the cost of compressing it. Full buffers go to the stream; compression
 * runs on libuv's thread pool while the generator goes on, and the generator awaits
 * drain() when a stream's buffer is full, so memory stays bounded whatever the scale.
 */
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';
import { createGzip, type Gzip } from 'node:zlib';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';

const CHUNK_BYTES = 128 * 1024;
const madeDirs = new Set<string>();

export interface OutputStats {
  files: number;
  bytesOut: number; // bytes of content (before compression)
}

export class OutFile {
  private buf: Buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  /** Write position in `buf`; writers that encode bytes themselves use it directly after reserve(). */
  pos = 0;
  private readonly file: WriteStream;
  private readonly gz: Gzip | null;
  private error: Error | null = null;
  lines = 0;

  constructor(
    readonly path: string,
    gzipLevel: number | null,
    private readonly stats: OutputStats,
  ) {
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      mkdirSync(dir, { recursive: true });
      madeDirs.add(dir);
    }
    this.file = createWriteStream(path);
    this.file.on('error', (e) => (this.error ??= e));
    if (gzipLevel !== null) {
      this.gz = createGzip({ level: gzipLevel });
      this.gz.on('error', (e) => (this.error ??= e));
      this.gz.pipe(this.file);
    } else {
      this.gz = null;
    }
    stats.files++;
  }

  /** Make room for `n` more bytes. */
  reserve(n: number): void {
    if (this.pos + n > this.buf.length) this.flushChunk();
  }

  /** ASCII text of any length. */
  write(text: string): void {
    if (text.length > CHUNK_BYTES / 4) {
      this.flushChunk();
      this.send(Buffer.from(text, 'latin1'));
      return;
    }
    this.reserve(text.length);
    this.pos += this.buf.write(text, this.pos, 'latin1');
  }

  /** A short ASCII string; the caller has reserved room. */
  ascii(s: string): void {
    const b = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) b[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** Pre-encoded bytes; the caller has reserved room. */
  bytes(u: Uint8Array): void {
    this.buf.set(u, this.pos);
    this.pos += u.length;
  }

  byte(c: number): void {
    this.buf[this.pos++] = c;
  }

  /** A non-negative integer in decimal; the caller has reserved room. */
  uint(n: number): void {
    const b = this.buf;
    if (n < 10) {
      b[this.pos++] = 48 + n;
      return;
    }
    let digits = 1;
    for (let x = n; x >= 10; x = Math.floor(x / 10)) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let x = n; x > 0; x = Math.floor(x / 10)) b[--p] = 48 + (x % 10);
  }

  private flushChunk(): void {
    if (this.pos === 0) return;
    const chunk = this.buf.subarray(0, this.pos);
    this.buf = Buffer.allocUnsafe(CHUNK_BYTES); // the stream keeps the old one until it is consumed
    this.pos = 0;
    this.send(chunk);
  }

  private send(chunk: Buffer): void {
    this.stats.bytesOut += chunk.length;
    (this.gz ?? this.file).write(chunk);
  }

  get needsDrain(): boolean {
    return (this.gz ?? this.file).writableNeedDrain;
  }

  async drain(): Promise<void> {
    if (this.error) throw this.error;
    const target = this.gz ?? this.file;
    if (target.writableNeedDrain) await once(target, 'drain');
    if (this.error) throw this.error;
  }

  async close(): Promise<void> {
    this.flushChunk();
    (this.gz ?? this.file).end();
    await finished(this.file);
    if (this.error) throw this.error;
  }
}

/** Forget the folders made by a previous run (it may have been removed since). */
export function forgetDirectories(): void {
  madeDirs.clear();
}

/**
 * A writer with one file open at a time, opened on the hour's first record and closed at
 * the hour's end (GCP's hourly NDJSON, a Zeek sensor's conn.log): its drain and close.
 */
export abstract class OneFileAnHour {
  protected file: OutFile | null = null;

  needsDrain(): boolean {
    return this.file?.needsDrain ?? false;
  }

  async drain(): Promise<void> {
    await this.file?.drain();
  }

  /** The hour's file, closed (`trailer` written last where given). */
  protected async closeFile(trailer = ''): Promise<void> {
    const f = this.file;
    this.file = null;
    if (f) {
      if (trailer) f.write(trailer);
      await f.close();
    }
  }
}
