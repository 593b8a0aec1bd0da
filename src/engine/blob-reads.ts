/**
 * The JSON blobs of a 'files' task read and checked by the main thread before the task is
 * handed to its parse thread. Blobs planned from their names (an Azure `PT1H.json`: plan.ts
 * formatByName) were each opened, read and sniffed by the parse thread, ~55 µs a blob there
 * (a quarter of its ~160 ms on the 696 Azure blobs of json-10-1), while the main thread idled
 * through the parse phase: that thread was the run's critical path and one core was mostly
 * free (bench/RESULTS.md, session 15 azure). The main thread now reads a task's blobs into one
 * buffer, transferred with the task, and checks each head as the parse thread did
 * (workers/parse.ts planJsonBlob); a blob it cannot confirm (unreadable, another format,
 * another size than planned, over the document limit) is left as it was, to the parse thread,
 * which reads it and hands it back as before.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { planFromBytes, planFromHead } from '../input/plan.js';
import { readerFor } from '../formats/registry.js';
import type { GroupFile } from './tasks.js';

/** A 'files' task's blobs read ahead: the bytes of those confirmed, each file's place in them (GroupFile.at). */
export interface ReadBlobs {
  bytes: Uint8Array;
  files: GroupFile[];
}

/**
 * The blobs of `files` planned from their names, read and confirmed here (null when none
 * was, or when they hold more than `maxTotal` bytes: all are left to the parse thread): the
 * others are returned as they were. `maxBytes`: a blob over it is left to the parse thread
 * (its read refuses it, as a document over the limit).
 */
export function readBlobsAhead(files: readonly GroupFile[], maxBytes: number, maxTotal: number): ReadBlobs | null {
  let total = 0;
  for (const f of files) if (readsAhead(f, maxBytes)) total += f.size;
  if (total === 0 || total > maxTotal) return null;
  // + 1: each read asks one byte past the planned size, to see a blob that grew (the next blob's read overwrites it)
  const bytes = new Uint8Array(new ArrayBuffer(total + 1));
  let at = 0;
  let confirmed = 0;
  const out = files.map((f) => {
    if (!readsAhead(f, maxBytes) || !readExactly(f.path, bytes, at, f.size)) return f;
    const planned = planFromBytes(f.path, bytes.subarray(at, at + f.size), { awsFields: f.awsFields }) ?? planFromHead(f.path, { awsFields: f.awsFields });
    if (planned.error !== undefined || planned.format !== f.format || planned.gzip !== f.gzip || planned.size !== f.size) return f;
    const read: GroupFile = { ...f, sniffInThread: false, headerLine: planned.headerLine, awsFields: planned.awsFields, at };
    at += f.size;
    confirmed++;
    return read;
  });
  return confirmed === 0 ? null : { bytes: bytes.subarray(0, at), files: out };
}

/** A plain JSON blob planned from its name, of a size to read whole here. */
function readsAhead(f: GroupFile, maxBytes: number): boolean {
  return f.sniffInThread === true && !f.gzip && f.size > 0 && f.size <= maxBytes && readerFor(f.format)?.kind === 'document';
}

/**
 * The file read into bytes[at, at + size), true when it holds exactly `size` bytes (one byte
 * more, or fewer, or a failed read: false, the blob is left to the parse thread).
 */
function readExactly(path: string, bytes: Uint8Array, at: number, size: number): boolean {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    let got = 0;
    for (;;) {
      const n = readSync(fd, bytes, at + got, size + 1 - got, null);
      if (n === 0) return got === size;
      got += n;
      if (got > size) return false;
    }
  } catch {
    return false;
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}
