/**
 * The spool folder a log shipper (or an object-store sync) writes flow-log files into.
 * Only complete files are taken: names that shippers use while writing (dot files,
 * *.tmp, *.part, ...) are skipped, and a file must not have changed for the settle time
 * (0 when the shipper writes elsewhere and renames files in). Done files are moved to
 * the done folder (kept for --reprocess) or, with --keep, left where they are and
 * remembered in the ledger.
 */
import { closeSync, copyFileSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, statSync, unlinkSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fsyncDir, type LedgerEntry } from './checkpoint.js';

export interface SpoolOptions {
  dir: string;
  /** Where done files go; null = leave them in the spool (--keep). */
  doneDir: string | null;
  settleMs: number;
  /** Told once per path about an entry that is not taken: a symbolic link, a FIFO, a socket, a device. */
  onSkipped?: (path: string, what: string) => void;
}

export interface SpoolFile {
  name: string; // relative to the spool, '/'-separated
  path: string;
  size: number;
  mtimeMs: number;
  /** Content identity when the spool knows it without reading the file (objects: serve/object-spool.ts). */
  fingerprint?: string;
}

export interface SpoolScan {
  ready: SpoolFile[]; // complete and not yet ingested, oldest first
  settling: number; // files still being written (or too fresh to tell)
  pendingBytes: number; // bytes of ready + settling files
  done: SpoolFile[]; // ingested (in the ledger) but not moved yet
}

const PARTIAL = /(^\.|\.(tmp|temp|part|partial|swp|crdownload|filepart)$|~$|_COPYING_$)/i;

export class Spool {
  readonly dir: string;
  private readonly doneDir: string | null;

  constructor(private readonly opts: SpoolOptions) {
    this.dir = resolve(opts.dir);
    this.doneDir = opts.doneDir === null ? null : resolve(opts.doneDir);
    mkdirSync(this.dir, { recursive: true });
    if (this.doneDir) mkdirSync(this.doneDir, { recursive: true });
  }

  scan(ledger: ReadonlyMap<string, LedgerEntry>, nowMs: number): SpoolScan {
    const out: SpoolScan = { ready: [], settling: 0, pendingBytes: 0, done: [] };
    for (const path of this.walk(this.dir)) {
      let st;
      try {
        st = statSync(path);
      } catch {
        continue; // removed or renamed between the listing and now
      }
      if (!st.isFile()) continue;
      const name = relative(this.dir, path).split(sep).join('/');
      const f: SpoolFile = { name, path, size: st.size, mtimeMs: st.mtimeMs };
      const seen = ledger.get(name);
      if (seen && seen.size === f.size && seen.mtimeMs === f.mtimeMs) {
        if (!seen.moved && this.doneDir) out.done.push(f);
        continue;
      }
      out.pendingBytes += f.size;
      // settle 0: ready now (a file's time may be a fraction of a millisecond past Date.now())
      if (this.opts.settleMs <= 0 || nowMs - f.mtimeMs >= this.opts.settleMs) out.ready.push(f);
      else out.settling++;
    }
    out.ready.sort((a, b) => a.mtimeMs - b.mtimeMs || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return out;
  }

  private *walk(dir: string): Generator<string> {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      if (PARTIAL.test(e.name)) continue;
      const full = join(dir, e.name);
      if (e.isDirectory()) {
        if (full === this.doneDir) continue; // a done folder inside the spool (the default .done is skipped as a dot name)
        yield* this.walk(full);
      } else if (e.isFile()) {
        yield full;
      } else {
        this.skipped(full, e.isSymbolicLink() ? 'a symbolic link' : e.isFIFO() ? 'a FIFO' : e.isSocket() ? 'a socket' : 'a device or special file');
      }
    }
  }

  private readonly skippedOnce = new Set<string>();

  /** Links are not followed (a link could lead out of the spool, or to a file read twice): said once per path. */
  private skipped(path: string, what: string): void {
    if (this.skippedOnce.has(path)) return;
    if (this.skippedOnce.size < 10_000) this.skippedOnce.add(path);
    this.opts.onSkipped?.(path, what);
  }

  /** Where a done file will go: the same name under the done folder, suffixed on a clash. */
  plannedDonePath(name: string, seq: number): string {
    const to = join(this.doneDir ?? this.dir, name);
    return existsSync(to) ? `${to}.${seq}` : to;
  }

  /**
   * Move a done file out of the spool to its planned place (copy + unlink when the done
   * folder is on another file system). The folders touched are fsynced by syncMoves().
   */
  moveDone(name: string, to: string): void {
    const from = join(this.dir, name);
    if (!this.doneDir) return;
    mkdirSync(dirname(to), { recursive: true });
    try {
      renameSync(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
      copyFileSync(from, to);
      unlinkSync(from);
    }
    this.touched.add(dirname(from));
    this.touched.add(dirname(to));
  }

  private readonly touched = new Set<string>();

  /** Make the moves durable (a power loss must not bring a done file back). */
  syncMoves(): void {
    for (const d of this.touched) {
      try {
        fsyncDir(d);
      } catch {
        // the folder may be gone (a shipper cleaning up); nothing to make durable then
      }
    }
    this.touched.clear();
  }
}

export function isPartialName(name: string): boolean {
  return PARTIAL.test(name);
}

const SAMPLE_BYTES = 64 * 1024;

/**
 * A file's content identity, to recognise a file delivered twice (a shipper that retries,
 * a sync that fetches again what serve moved away): SHA-256 of its size, first 64 KiB and
 * last 64 KiB. Path and time do not matter. Flow-log files carry timestamps and addresses
 * on every line, so two different logs never share size, head and tail in practice.
 * (The same scheme as the history store's fileFingerprint, so the two can be one.)
 */
export function fileFingerprint(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const h = createHash('sha256');
    h.update(`flowsieve-file-v1\0${size}\0`);
    const head = Buffer.alloc(Math.min(size, SAMPLE_BYTES));
    h.update(head.subarray(0, readSync(fd, head, 0, head.length, 0)));
    if (size > SAMPLE_BYTES) {
      const tailStart = Math.max(SAMPLE_BYTES, size - SAMPLE_BYTES);
      const tail = Buffer.alloc(size - tailStart);
      h.update(tail.subarray(0, readSync(fd, tail, 0, tail.length, tailStart)));
    }
    return h.digest('hex');
  } finally {
    closeSync(fd);
  }
}
