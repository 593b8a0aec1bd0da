/**
 * Whether an input is one large plain (not gzip) file, told from its size and first two bytes:
 * detect's parse in the main thread (engine/parse-here.ts) and, before any option is read, the
 * command line's start of the lone shard's thread (engine/lone-shard.ts), which must not load
 * the engine's modules to ask. A leaf module: node:fs only.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';

/**
 * Text bytes (a gzip file counts five times its size) up to which detect reads its input in
 * the main thread (engine/inline-shard.ts). One thread costs less CPU than the sharded
 * pipeline's four at any size, but loses their overlap; measured under load, a 16 MB AWS
 * text file took 0.59x the CPU and less wall time read this way (bench/RESULTS.md, "a fused
 * pipeline"), and on a quiet machine the two threads' overlap should be worth about their
 * start-up there.
 */
export const INLINE_TEXT_BYTES = 16 << 20;

/** Whether `path` is a regular file of more than `bytes` bytes that does not start as gzip does. */
export function plainFileAbove(path: string, bytes: number): boolean {
  if (path === '-') return false;
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size <= bytes) return false;
    const head = new Uint8Array(2);
    const fd = openSync(path, 'r');
    try {
      return !(readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b);
    } finally {
      closeSync(fd);
    }
  } catch {
    return false; // planning reports it
  }
}
