/**
 * A region of a reader module's memory that whole inflated files are written into (read.ts
 * inflateAhead: libdeflate on libuv's pool writes the text there), so that the module reads
 * each window of the text where it lies (AwsWasm.read in place) instead of a copy of it in its
 * block: the copy of every 256 KiB window was ~5 % of the parse thread on a bucket
 * (bench/RESULTS.md, branch parsecopy).
 *
 * A file's text takes a span of the region, first fit, until its reader is done with it
 * (giveFileBuffer gives it back here); a thread holds a few at once (the file parsed and those
 * inflating ahead), so a list of the spans taken is all the bookkeeping. A file that does not
 * fit gets a buffer of its own, as before. The region's memory must never move or detach while
 * spans are in use (an inflate on the pool writes through the address it was given): the AWS
 * module's memory is a shared one, which grows in place and detaches nothing.
 */

/**
 * Bytes past each span's text that belong to the span: the module reads a window's bitmap up
 * to 64 bytes past the window's end and writes the byte just past it (assembly/aws-lines.ts
 * readLines), which at a file's end must not be another file's text (its inflate may be
 * writing it on another thread).
 */
export const ARENA_SLACK = 128;

/** The arenas made in this thread, by the memory they lie in (one a reader module). */
const arenas = new Map<ArrayBufferLike, TextArena>();

export class TextArena {
  /** The spans taken, [start, end) in bytes of `memory`, ascending by start. */
  private readonly spans: number[] = [];

  /** The region [at, at + bytes) of `memory` (a shared module memory's buffer, or any buffer), which the arena's spans are views of. */
  constructor(
    private readonly memory: ArrayBufferLike,
    private readonly at: number,
    private readonly bytes: number,
  ) {
    arenas.set(memory, this);
  }

  /** A Buffer of exactly `size` bytes in the region (contents undefined), or null: no room. */
  take(size: number): Buffer | null {
    const need = Math.ceil((size + ARENA_SLACK) / 64) * 64;
    const spans = this.spans;
    let from = this.at;
    let i = 0;
    for (; i < spans.length; i += 2) {
      if (spans[i]! - from >= need) break;
      from = spans[i + 1]!;
    }
    if (i === spans.length && this.at + this.bytes - from < need) return null;
    spans.splice(i, 0, from, from + need);
    return Buffer.from(this.memory, from, size);
  }

  /** `buf`'s span is free again, when it is one of this arena's (false: it is not). */
  give(buf: Uint8Array): boolean {
    if (buf.buffer !== this.memory) return false;
    const spans = this.spans;
    for (let i = 0; i < spans.length; i += 2) {
      if (spans[i] === buf.byteOffset) {
        spans.splice(i, 2);
        return true;
      }
    }
    return false;
  }

  /** Spans taken now (tests). */
  get taken(): number {
    return this.spans.length / 2;
  }
}

/** `buf` given back to the arena it lies in: true, or false where it lies in none (an ordinary buffer). */
export function giveToArena(buf: Uint8Array): boolean {
  if (arenas.size === 0) return false;
  const arena = arenas.get(buf.buffer);
  return arena !== undefined && arena.give(buf);
}
