/** Writing output files atomically: a reader sees the old file or the new one, never half. */
import { mkdirSync, renameSync, writeFileSync, openSync, writeSync, closeSync, fsyncSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/** A file written line by line, renamed into place on close. */
export class AtomicLineWriter {
  private readonly tmp: string;
  private fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  constructor(private readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.fd = openSync(this.tmp, 'w');
  }
  line(text: string): void {
    this.buf.push(text);
    this.bufLen += text.length;
    if (this.bufLen > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length) writeSync(this.fd, this.buf.join('\n') + '\n');
    this.buf = [];
    this.bufLen = 0;
  }
  close(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}
