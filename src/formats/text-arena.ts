/**
 * Texts placed where a reader's WebAssembly module reads them: a region of the module's memory
 * from which a parse thread takes the buffer a gzip object inflates into (input/read.ts
 * textBuffer, the inflate ahead on libuv's pool included), so that the module reads the object's
 * windows where libdeflate wrote them, not from a copy of each window into its own block (the
 * copy was ~7 % of the AWS parse thread on the 7 M bucket: bench/RESULTS.md, session 21
 * parsecpu §1, and session 22 parsecopy).
 *
 * The region lies past everything the memory may grow for (the module's owner grows the memory
 * to its end once, when it is made), so that no growth detaches a text's view while it is read or
 * inflated into; a memory that grew anyway hands out no more texts. A text's extent keeps
 * TEXT_SLACK bytes free on both sides: the module reads up to 64 bytes past the bytes it is given
 * (and stores one there, put back after).
 */

/** Free bytes on each side of a text (the module's reads and its one store past a block's end). */
export const TEXT_SLACK = 64;

/** Extents handed out, first fit, a few at a time (a parse thread holds one file parsed and a few inflating ahead). */
export class TextArena {
  /** Live extents (their first byte, slack included, and their end), by start. */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];
  private readonly buffer: ArrayBuffer;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly from: number,
    private readonly to: number,
  ) {
    this.buffer = memory.buffer as ArrayBuffer;
  }

  /** A buffer of `size` bytes in the region, or null: no room (or the memory grew since): the caller takes other memory. */
  take(size: number): Buffer | null {
    if (this.memory.buffer !== this.buffer) return null;
    const need = (size + 2 * TEXT_SLACK + 63) & ~63;
    const { starts, ends } = this;
    let at = this.from;
    let k = 0;
    while (k < starts.length && starts[k]! - at < need) at = ends[k++]!;
    if (this.to - at < need) return null;
    starts.splice(k, 0, at);
    ends.splice(k, 0, at + need);
    return Buffer.from(this.buffer, at + TEXT_SLACK, size);
  }

  /** `buf` (from take) is no longer used: its extent is free. False: not one of this region's texts. */
  give(buf: Uint8Array): boolean {
    if (buf.buffer !== this.buffer) return false;
    const k = this.starts.indexOf(buf.byteOffset - TEXT_SLACK);
    if (k < 0) return false;
    this.starts.splice(k, 1);
    this.ends.splice(k, 1);
    return true;
  }

  /** The whole region (for the huge-page advice before its first touch: input/read.ts textBuffer). */
  region(): Uint8Array {
    return new Uint8Array(this.buffer, this.from, this.to - this.from);
  }

  /** Extents handed out and not given back (tests). */
  get held(): number {
    return this.starts.length;
  }
}
