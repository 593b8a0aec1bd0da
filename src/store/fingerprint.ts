/**
 * Fingerprints of a run's input, so that recording the same input twice does not count it
 * twice. A file's fingerprint is SHA-256 of its size, its first 64 KiB and its last 64 KiB:
 * it depends on the content only (not on the path or the modification time, so a copied or
 * re-downloaded log is recognised) and costs two reads whatever the file's size. Flow-log
 * files are written once and carry timestamps and addresses in every line, so two different
 * logs of the same size with the same head and tail do not happen in practice; a file
 * edited only in its middle would be taken for the original (documented trade-off against
 * reading every input twice).
 * A run's fingerprint is SHA-256 of its files' sorted fingerprints (the input set).
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export const SAMPLE_BYTES = 64 * 1024;

export function fileFingerprint(path: string): { fingerprint: string; bytes: number } {
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
    return { fingerprint: h.digest('hex'), bytes: size };
  } finally {
    closeSync(fd);
  }
}

/** The fingerprint of an input set: order and repetition of the files do not matter. */
export function setFingerprint(fileFingerprints: Iterable<string>): string {
  const h = createHash('sha256');
  h.update('flowsieve-inputs-v1\0');
  for (const f of [...new Set(fileFingerprints)].sort()) h.update(f + '\n');
  return h.digest('hex');
}

/** Fingerprint of data that cannot be read twice (stdin): a digest of what the run found in it. */
export function contentFingerprint(label: string, parts: Iterable<string>): string {
  const h = createHash('sha256');
  h.update(`flowsieve-${label}-v1\0`);
  for (const p of parts) h.update(p + '\n');
  return h.digest('hex');
}
