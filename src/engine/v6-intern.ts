/**
 * Interning of IPv6 addresses inside one shard. Keys hold an address as one 32-bit
 * word plus a family bit: the IPv4 address itself, or the id of an IPv6 address here.
 * Most traffic is IPv4, so this keeps every table entry small.
 */
import { fmix32, mix } from '../flow/hash.js';

export class V6Intern {
  words = new Uint32Array(64 * 4);
  n = 0; // ids are 0..n-1
  private index = new Int32Array(128).fill(-1);

  /** Set by wordOf: whether the last address was IPv6 (its word is then an intern id). */
  wasV6 = false;

  /** The one-word form of the address at w[o..o+3]: the IPv4 value, or the id of an IPv6 address. */
  wordOf(w: ArrayLike<number>, o: number): number {
    if (w[o] === 0 && w[o + 1] === 0 && w[o + 2] === 0xffff) {
      this.wasV6 = false;
      return w[o + 3]!;
    }
    this.wasV6 = true;
    return this.intern(w, o);
  }

  intern(w: ArrayLike<number>, o: number): number {
    const slot = this.slotOf(w, o);
    const found = this.index[slot]!;
    if (found >= 0) return found;
    const id = this.n++;
    if (id * 4 + 4 > this.words.length) {
      const next = new Uint32Array(this.words.length * 2);
      next.set(this.words);
      this.words = next;
    }
    // four stores: `set` from an array literal made an array a new address (nearly every
    // IPv6 address of a run is new: 20,525 of 40,152 interns on the 2 M replay file)
    const words = this.words;
    const b = id * 4;
    words[b] = w[o]!;
    words[b + 1] = w[o + 1]!;
    words[b + 2] = w[o + 2]!;
    words[b + 3] = w[o + 3]!;
    this.index[slot] = id;
    if (this.n * 2 > this.index.length) this.rehash();
    return id;
  }

  /** The id of an IPv6 address interned already, or -1 (interns nothing). */
  find(w: ArrayLike<number>, o: number): number {
    return this.index[this.slotOf(w, o)]!;
  }

  /** The index slot holding the address's id, or the empty slot where it would go. */
  private slotOf(w: ArrayLike<number>, o: number): number {
    const h = fmix32(mix(mix(mix(mix(0x6a09e667, w[o]!), w[o + 1]!), w[o + 2]!), w[o + 3]!));
    const mask = this.index.length - 1;
    let slot = h & mask;
    for (;;) {
      const id = this.index[slot]!;
      if (id < 0) return slot;
      const b = id * 4;
      if (this.words[b] === w[o] && this.words[b + 1] === w[o + 1] && this.words[b + 2] === w[o + 2] && this.words[b + 3] === w[o + 3]) {
        return slot;
      }
      slot = (slot + 1) & mask;
    }
  }

  private rehash(): void {
    const index = new Int32Array(this.index.length * 2).fill(-1);
    const mask = index.length - 1;
    for (let id = 0; id < this.n; id++) {
      const b = id * 4;
      const h = fmix32(mix(mix(mix(mix(0x6a09e667, this.words[b]!), this.words[b + 1]!), this.words[b + 2]!), this.words[b + 3]!));
      let slot = h & mask;
      while (index[slot]! >= 0) slot = (slot + 1) & mask;
      index[slot] = id;
    }
    this.index = index;
  }

  /** Four words of an address held as (word, isV6). */
  wordsOf(a: number, v6: boolean, out: Uint32Array, o = 0): void {
    if (v6) {
      out.set(this.words.subarray(a * 4, a * 4 + 4), o);
    } else {
      out[o] = 0;
      out[o + 1] = 0;
      out[o + 2] = 0xffff;
      out[o + 3] = a;
    }
  }

  get bytes(): number {
    return this.words.byteLength + this.index.byteLength;
  }
}
