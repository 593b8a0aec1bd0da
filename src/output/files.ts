/** Writing output files atomically: a reader sees the old file or the new one, never half. */
import { mkdirSync, rename, renameSync, writeFileSync, openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';

export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const tmp = tempName(path, 'tmp');
  writeFileSync(tmp, data);
  putInPlace(tmp, path);
}

/**
 * The files of the write now under way in putInPlaceMeanwhile: their renames, one chain for
 * each path (a later write of the same path lands after the earlier one).
 */
let meanwhile: Map<string, Promise<void>> | null = null;
let meanwhileSeq = 0;

/**
 * Runs `write` (which writes its files with the writers of this module) and resolves once
 * each of its files is in place; the renames into place run in the thread pool meanwhile, so
 * that this thread goes on writing. Why: a rename over an existing file on ext4 (its
 * auto_da_alloc) first starts the write-back of the new file's data, 0.1-1 ms of wall each and
 * 2-18 ms for detect's 14 outputs on a busy disk (bench/RESULTS.md, session 17, boot), which
 * this thread waited for one by one. Each file is still replaced whole; which of them lands
 * first is not fixed, so write the one that says the others are there (summary.json) after.
 * Rejects with the first failed rename (or what `write` threw), once every rename has ended.
 */
export async function putInPlaceMeanwhile(write: () => void): Promise<void> {
  if (meanwhile) return write(); // inside another: that one waits for these too
  const mine = new Map<string, Promise<void>>();
  meanwhile = mine;
  let failed: { error: unknown } | undefined;
  try {
    write();
  } catch (error) {
    failed = { error };
  } finally {
    meanwhile = null;
  }
  const ends = await Promise.allSettled(mine.values());
  if (failed) throw failed.error;
  for (const end of ends) if (end.status === 'rejected') throw end.reason;
}

/** A finished temporary file renamed to its path: now, or in the thread pool inside putInPlaceMeanwhile. */
function putInPlace(tmp: string, path: string): void {
  if (!meanwhile) return renameSync(tmp, path);
  // a name of its own first (no file there: no write-back), since the next write of the same
  // path reuses the temporary name
  const own = `${tmp}.${++meanwhileSeq}`;
  renameSync(tmp, own);
  const before = meanwhile.get(path) ?? Promise.resolve();
  meanwhile.set(
    path,
    before.then(
      () => renameFile(own, path),
      () => renameFile(own, path),
    ),
  );
}

const renameFile = (from: string, to: string) => new Promise<void>((done, fail) => rename(from, to, (err) => (err ? fail(err) : done())));

/**
 * A file under its temporary name, put in place later (commit) or never (discard): a staged
 * file, or a line writer's file once closed.
 */
abstract class PendingFile {
  private done = false;
  protected constructor(
    readonly path: string,
    protected readonly tmp: string,
  ) {}
  /** The file (closed) put in place. */
  commit(): void {
    if (this.done) return;
    this.done = true;
    putInPlace(this.tmp, this.path);
  }
  /** The file (closed) never put in place. */
  discard(): void {
    if (this.done) return;
    this.done = true;
    rmSync(this.tmp, { force: true });
  }
}

/** `path`'s temporary name in its folder (made): `.name.pid.suffix`. */
function tempName(path: string, suffix: string): string {
  mkdirSync(dirname(path), { recursive: true });
  return join(dirname(path), `.${basename(path)}.${process.pid}.${suffix}`);
}

/**
 * A file written now under its temporary name and put in place later (commit), or never
 * (discard): detect writes the files the ingest decides while the shards finalise, and
 * puts them in place with the run's other outputs.
 */
export class StagedFile extends PendingFile {
  constructor(path: string, data: string | Uint8Array) {
    super(path, tempName(path, 'staged'));
    writeFileSync(this.tmp, data);
  }
}

/** A file written line by line, renamed into place on close (a staged one: on commit). */
export class AtomicLineWriter extends PendingFile {
  private fd: number;
  private buf: string[] = [];
  private bufLen = 0;
  constructor(
    path: string,
    private readonly staged = false,
  ) {
    super(path, tempName(path, staged ? 'staged' : 'tmp'));
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
    if (!this.staged) this.commit();
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
