/**
 * The sidecar's append-only outputs in the state folder (scans.ndjson, outbound.ndjson).
 * Each append starts at the size recorded in the state database with the last applied
 * outbox: a tail written by a batch that crashed before its database commit is cut off
 * and written again, so a line never appears twice. A file found shorter than recorded
 * was rotated away by the user; appending then continues from its real end.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';

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
