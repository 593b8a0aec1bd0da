/**
 * The sidecar's append-only outputs in the state folder (scans.ndjson, outbound.ndjson).
 * Each append starts at the size recorded in the state database with the last applied
 * outbox: a tail written by a batch that crashed before its database commit is cut off
 * and written again, so a line never appears twice. A file found shorter than recorded
 * was rotated away by the user; appending then continues from its real end.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';

/** Append lines at `recorded` (see above); returns the new size. */
export function appendAt(path: string, recorded: number, lines: string[]): number {
  const fd = openSync(path, 'a+');
  try {
    const size = fstatSync(fd).size;
    let at = size;
    if (size > recorded) {
      ftruncateSync(fd, recorded);
      at = recorded;
    }
    if (lines.length) {
      const data = Buffer.from(lines.join('\n') + '\n');
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off);
      at += data.length;
    }
    fsyncSync(fd);
    return at;
  } finally {
    closeSync(fd);
  }
}

/** What repairTornTail did to a file that ended inside a line. */
export interface TailRepair {
  cutBytes: number; // the torn line's bytes removed
  restoredLines: number; // lines written again from the last committed batch
}

/**
 * A file that ends inside a line (cut short by a copy, a restore, a full disk) would have
 * the next batch's lines appended after the torn one. Cut the torn line off; when it is
 * the start of one of `lastLines` (the last committed batch's lines, from the checkpoint),
 * write that line and the ones after it again. Null when the file is whole.
 */
export function repairTornTail(path: string, lastLines: string[]): TailRepair | null {
  let fd: number;
  try {
    fd = openSync(path, 'r+');
  } catch {
    return null; // no file yet (or rotated away): nothing to repair
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0 || lastByte(fd, size) === 0x0a) return null;
    const keep = lastNewline(fd, size) + 1;
    const fragment = Buffer.alloc(size - keep);
    readSync(fd, fragment, 0, fragment.length, keep);
    ftruncateSync(fd, keep);
    const text = fragment.toString('utf8');
    const k = lastLines.findIndex((l) => l.startsWith(text));
    let restored = 0;
    if (k >= 0) {
      const data = Buffer.from(lastLines.slice(k).join('\n') + '\n');
      let off = 0;
      while (off < data.length) off += writeSync(fd, data, off, data.length - off, keep + off);
      restored = lastLines.length - k;
    }
    fsyncSync(fd);
    return { cutBytes: fragment.length, restoredLines: restored };
  } finally {
    closeSync(fd);
  }
}

function lastByte(fd: number, size: number): number {
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, size - 1);
  return b[0]!;
}

/** Offset of the last '\n' before `size` (-1: none), read backwards in 64 KiB steps. */
function lastNewline(fd: number, size: number): number {
  const step = 1 << 16;
  const buf = Buffer.alloc(step);
  for (let end = size; end > 0; end -= step) {
    const start = Math.max(0, end - step);
    readSync(fd, buf, 0, end - start, start);
    const i = buf.subarray(0, end - start).lastIndexOf(0x0a);
    if (i >= 0) return start + i;
  }
  return -1;
}
