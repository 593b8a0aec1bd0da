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

/** A file written line by line, renamed into place on close (a staged one: on commit). */
export class AtomicLineWriter {
  private readonly tmp: string;
  private fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  private done = false;
  constructor(
    private readonly path: string,
    private readonly staged = false,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${staged ? 'staged' : 'tmp'}`);
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
    if (!this.staged) renameSync(this.tmp, this.path);
  }
  /** A staged file (closed) put in place. */
  commit(): void {
    if (this.done) return;
    this.done = true;
    renameSync(this.tmp, this.path);
  }
  /** A staged file (closed) never put in place. */
  discard(): void {
    if (this.done) return;
    this.done = true;
    rmSync(this.tmp, { force: true });
  }
}

/** Where output files go: in place at once (NOW), or staged (StagedOutputs). */
export interface OutputFiles {
  put(path: string, data: string): void;
  lines(path: string): { line(text: string): void; close(): void };
  remove(path: string): void;
}

/** Every file written in place at once, every removal done at once. */
export const NOW: OutputFiles = {
  put: writeFileAtomic,
  lines: (path) => new AtomicLineWriter(path),
  remove: (path) => rmSync(path, { force: true }),
};

/**
 * Files written now under temporary names and put in place together later (commit), removals
 * done then too; or none of it (discard): detect writes the outputs of the inbound verdicts
 * while the shards finalise their outbound tables, and puts them in place with the others.
 */
export class StagedOutputs implements OutputFiles {
  private readonly files: Array<StagedFile | AtomicLineWriter> = [];
  private readonly removals: string[] = [];
  put(path: string, data: string): void {
    this.files.push(new StagedFile(path, data));
  }
  lines(path: string): AtomicLineWriter {
    const w = new AtomicLineWriter(path, true);
    this.files.push(w);
    return w;
  }
  remove(path: string): void {
    this.removals.push(path);
  }
  commit(): void {
    for (const f of this.files) f.commit();
    for (const p of this.removals) rmSync(p, { force: true });
  }
  discard(): void {
    for (const f of this.files) f.discard();
  }
}
