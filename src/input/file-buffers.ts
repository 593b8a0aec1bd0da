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
import { nativeModule } from './native.js';

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

/** A transparent huge page; buffers of at least this capacity are laid on them (hugeMemory). */
const HUGE_PAGE = 2 << 20;

/** Where a hugeMemory's usable bytes lie in it (memory not listed: all of it, from 0). */
const hugeParts = new WeakMap<ArrayBuffer, { start: number; capacity: number }>();

/** The bytes of `memory` a buffer may use (its capacity). */
function usable(memory: ArrayBuffer): number {
  return hugeParts.get(memory)?.capacity ?? memory.byteLength;
}

/** A buffer of exactly `size` bytes (contents undefined), from the thread's free buffers where one is large enough. */
export function fileBuffer(size: number): Buffer {
  if (size > LARGEST) return Buffer.allocUnsafeSlow(size);
  let best = -1;
  for (let i = 0; i < free.length; i++) {
    const c = usable(free[i]!);
    if (c >= size && (best < 0 || c < usable(free[best]!))) best = i;
  }
  const memory = best >= 0 ? free.splice(best, 1)[0]! : newMemory(capacityFor(size));
  return Buffer.from(memory, hugeParts.get(memory)?.start ?? 0, size);
}

/** A buffer's memory of `capacity` usable bytes, on huge pages where it is large enough (hugeMemory). */
function newMemory(capacity: number): ArrayBuffer {
  return (capacity >= HUGE_PAGE && hugeMemory(capacity)) || new ArrayBuffer(capacity);
}

/**
 * Memory whose `capacity` usable bytes (a multiple of 2 MiB) lie on transparent huge pages, or
 * null (no native module, the kernel refused, FLOWSIEVE_FILE_THP=off): made 2 MiB larger, the
 * usable part starting at its first whole 2 MiB page, advised before its first touch (a fresh
 * ArrayBuffer's pages are not touched until written). An object's inflated text (~1.5 MiB a
 * bucket object) is written by libdeflate on libuv's pool and read by the parse thread: on 4 KiB
 * pages each page of it costs a TLB miss (a nested page walk on a virtual machine); on huge pages
 * libdeflate's decode ran 3-5 % faster (bench/RESULTS.md, session 18, inflate). The 2 MiB before
 * the usable part is never touched: address space only.
 */
function hugeMemory(capacity: number): ArrayBuffer | null {
  const call = process.env.FLOWSIEVE_FILE_THP === 'off' ? undefined : nativeModule()?.hugePagesFrom;
  if (!call) return null;
  const memory = new ArrayBuffer(capacity + HUGE_PAGE);
  const start = call(new Uint8Array(memory));
  if (start < 0 || memory.byteLength - start < capacity) return null;
  hugeParts.set(memory, { start, capacity });
  return memory;
}

/** `buf` (from fileBuffer) is no longer used by anyone: its memory may back a later fileBuffer. */
export function giveFileBuffer(buf: Uint8Array): void {
  const memory = buf.buffer;
  if (!(memory instanceof ArrayBuffer) || usable(memory) > LARGEST || usable(memory) < SMALLEST || free.includes(memory)) return;
  if (free.length < KEPT_FILE_BUFFERS) {
    free.push(memory);
    return;
  }
  // full: keep the larger, which serves more sizes
  let smallest = 0;
  for (let i = 1; i < free.length; i++) if (usable(free[i]!) < usable(free[smallest]!)) smallest = i;
  if (usable(free[smallest]!) < usable(memory)) free[smallest] = memory;
}

/** Capacities are powers of two from SMALLEST, so that a buffer serves files up to twice its first user's size. */
function capacityFor(size: number): number {
  return Math.max(SMALLEST, 2 ** Math.ceil(Math.log2(size)));
}

/** The free buffers' capacities (tests). */
export function freeFileBuffers(): number[] {
  return free.map(usable);
}
