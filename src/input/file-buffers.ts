/**
 * Reused memory for whole small gzip files in a parse thread: the compressed bytes read and
 * the text inflated from them (read.ts smallGzip, inflateAhead). A bucket's run inflates
 * hundreds of files of ~0.1-2 MiB; a fresh buffer per file is a malloc and free of that size,
 * page faults as it is first written, and external memory that makes V8 scavenge
 * ("external memory pressure": ~10 of the parse thread's ~15 scavenges on the bucket).
 *
 * A buffer goes back (giveFileBuffer) only where its user is done with it: the parsers keep
 * no view of the bytes they are given (readLineRange's one read buffer relies on that too).
 * A buffer not given back is collected as any other.
 */

/**
 * At most this many free buffers are kept: a parse thread has up to four files in hand (the
 * one parsed, three inflating ahead: read.ts AHEAD_FILES), each two buffers.
 */
export const KEPT_FILE_BUFFERS = 8;
/** Buffers above this are neither pooled nor kept: a rare large file must not hold its memory for the rest of the run. */
const LARGEST = 16 << 20;
/** The smallest capacity made, so that files of a bucket's usual sizes share buffers. */
const SMALLEST = 64 << 10;

const free: ArrayBuffer[] = [];

/** A buffer of exactly `size` bytes (contents undefined), from the thread's free buffers where one is large enough. */
export function fileBuffer(size: number): Buffer {
  if (size > LARGEST) return Buffer.allocUnsafeSlow(size);
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const c = free[i]!.byteLength;
    if (c >= size && (best < 0 || c < free[best]!.byteLength)) best = i;
  }
  const memory = best >= 0 ? free.splice(best, 1)[0]! : new ArrayBuffer(capacityFor(size));
  return Buffer.from(memory, 0, size);
}

/** `buf` (from fileBuffer) is no longer used by anyone: its memory may back a later fileBuffer. */
export function giveFileBuffer(buf: Uint8Array): void {
  const memory = buf.buffer;
  if (!(memory instanceof ArrayBuffer) || memory.byteLength > LARGEST || memory.byteLength < SMALLEST || free.includes(memory)) return;
  if (free.length < KEPT_FILE_BUFFERS) {
    free.push(memory);
    return;
  }
  // full: keep the larger, which serves more sizes
  let smallest = 0;
  for (let i = 1; i < free.length; i++) if (free[i]!.byteLength < free[smallest]!.byteLength) smallest = i;
  if (free[smallest]!.byteLength < memory.byteLength) free[smallest] = memory;
}

/** Capacities are powers of two from SMALLEST, so that a buffer serves files up to twice its first user's size. */
function capacityFor(size: number): number {
  return Math.max(SMALLEST, 2 ** Math.ceil(Math.log2(size)));
}

/** The free buffers' capacities (tests). */
export function freeFileBuffers(): number[] {
  return free.map((m) => m.byteLength);
}
