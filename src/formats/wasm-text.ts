/**
 * Texts put where a reader's WebAssembly module reads them in place: a region of the
 * module's memory from which a thread's inflated files take their buffers (the input
 * layer's textBuffer, src/input/file-buffers.ts), so that the module reads a file's lines
 * where the inflate wrote them rather than from a copy of each window in its own block.
 *
 * The region is grown into the memory once, when first asked for, to its whole size, past
 * the most the module's areas can take: the memory then never grows again, so these
 * Buffers, handed to libuv's pool for an inflate and read afterwards, are never detached.
 * Pages not written stay unbacked.
 */

/** Bytes past each text that stay its own: the module reads a 64-byte word past a block's end, and writes one byte there (restored). */
export const TEXT_SLACK = 64;

/** Where a thread's text buffers come from while a reader that reads them in place is loaded (one a thread: the last set). */
export interface TextPlace {
  /** A buffer of exactly `size` bytes in the reader's memory, or null: no room (the caller makes its own). */
  take(size: number): Buffer | null;
  /** True when `buf` was one of take's (its room is free again); false: not this place's. */
  give(buf: Uint8Array): boolean;
}

let current: TextPlace | null = null;

/** This thread's text place (null: none; texts go into the thread's own buffers). */
export function textPlace(): TextPlace | null {
  return current;
}

/** The text place of this thread from now on (a reader module, when it loads). */
export function setTextPlace(place: TextPlace | null): void {
  current = place;
}

/**
 * First fit over [at, at + bytes) of a memory, 64-byte aligned, TEXT_SLACK bytes past each
 * text. A thread holds a few texts at once (the one parsed, AHEAD_FILES inflating ahead),
 * so the list of those held is short; they are given back in about the order taken.
 */
export class TextArena implements TextPlace {
  /** The texts held: their offsets and ends (with slack), by offset. */
  private readonly held: { at: number; end: number }[] = [];

  /** `open()` makes the memory hold the region (grows it) before the first text; the memory must not grow after. */
  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly at: number,
    private readonly bytes: number,
    private readonly open: () => void,
  ) {}

  take(size: number): Buffer | null {
    const need = (size + TEXT_SLACK + 63) & ~63;
    let place = this.at;
    let k = 0;
    for (; k < this.held.length; k++) {
      if (this.held[k]!.at - place >= need) break;
      place = this.held[k]!.end;
    }
    if (place + need > this.at + this.bytes) return null;
    if (this.memory.buffer.byteLength < this.at + this.bytes) this.open();
    this.held.splice(k, 0, { at: place, end: place + need });
    return Buffer.from(this.memory.buffer, place, size);
  }

  give(buf: Uint8Array): boolean {
    if (buf.buffer !== this.memory.buffer) return false;
    const k = this.held.findIndex((h) => h.at === buf.byteOffset);
    if (k < 0) return false;
    this.held.splice(k, 1);
    return true;
  }

  /** Texts held now (tests). */
  get heldCount(): number {
    return this.held.length;
  }
}
