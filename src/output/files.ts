/** Writing output files atomically: a reader sees the old file or the new one, never half. */
import { mkdirSync, renameSync, writeFileSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

/**
 * A file written now under its temporary name and put in place later (commit), or never
 * (discard): detect writes the files the ingest decides while the shards finalise, and
 * puts them in place with the run's other outputs.
 */
export class StagedFile {
  private readonly tmp: string;
  private done = false;
  constructor(
    readonly path: string,
    data: string | Uint8Array,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.staged`);
    writeFileSync(this.tmp, data);
  }
  commit(): void {
    if (this.done) return;
    this.done = true;
    renameSync(this.tmp, this.path);
  }
  discard(): void {
    if (this.done) return;
    this.done = true;
    rmSync(this.tmp, { force: true });
  }
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
  // No fsync before the rename (as writeFileAtomic): readers still see the old file or the
  // whole new one; an fsync a file cost 20-100 ms of wall time a run on a busy disk, most of
  // the start-to-exit time of a small run. Checkpoints that must survive a crash (serve/) sync.
  close(): void {
    this.flush();
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
}
