/**
 * Interning of IPv6 addresses inside one shard. Keys hold an address as one 32-bit
 * word plus a family bit: the IPv4 address itself, or the id of an IPv6 address here.
 * Most traffic is IPv4, so this keeps every table entry small.
 */
import { fmix32, mix } from '../flow/hash.js';

/** Ids up to this many carry a tag of their address's hash in their index slot (the slot's bits 24-30). */
export const V6_TAGGED_IDS = 1 << 24;
const TAG_MASK = 0x7f000000;

export class V6Intern {
  words = new Uint32Array(64 * 4);
  n = 0; // ids are 0..n-1
  /**
   * Open addressing, linear probes: -1 for an empty slot, else the id, and while ids fit in
   * 24 bits (V6_TAGGED_IDS) seven bits of the address's hash above it, so that a probe past
   * a taken slot compares the address's words (a load from `words`, cold in a shard's run:
   * nearly every IPv6 source is new) only when the tags agree. The slots and ids are those
   * of a plain index: the tag only skips compares that would fail.
   */
  private index = new Int32Array(128).fill(-1);
  /** internAll's hashes of a list (grown to the longest) */
  private hashes = new Int32Array(0);
  /** what internAll's loads of the home slots read (kept in a field, so that the compiler keeps the loads) */
  seen = 0;
  private tagMask = TAG_MASK;
  private idMask = V6_TAGGED_IDS - 1;
  private tagged = true;
  /** the limit of tagged ids (V6_TAGGED_IDS; smaller in tests) */
  constructor(private readonly taggedIds = V6_TAGGED_IDS) {}

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
    const h = V6Intern.hashOf(w, o);
    const slot = this.slotOf(h, w, o);
    const found = this.index[slot]!;
    if (found >= 0) return found & this.idMask;
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
    this.index[slot] = id | (h & this.tagMask);
    if (this.n === this.taggedIds && this.tagged) {
      // ids past 24 bits: the slots hold plain ids from now on (the same slots)
      this.tagged = false;
      this.tagMask = 0;
      this.idMask = 0x7fffffff;
      this.rehash(this.index.length);
    }
    if (this.n * 2 > this.index.length) this.rehash(this.index.length * 2);
    return id;
  }

  /**
   * intern() of the `m` addresses at w[0 .. 4m), in order, their ids into ids[0 .. m): one
   * loop with the index and words in locals, for the held path's lists (scan-ingest.ts
   * internHeldV6: nearly every address new, its slot a cache miss). One call an address cost
   * ~2x the loop's time, cache-cold, in bench/RESULTS.md session 22 shardv6's probe. An
   * insert that grows the words or the index, or ends the tagged ids, goes through intern()
   * (the same ids, and the arrays grow at the same ids as one by one). The hashes are made in
   * a loop of their own first, each address's home slot loaded there: ~0.87x the CPU of the
   * probe loop making them (bench/RESULTS.md session 24 shardadd, v6-intern-all.mjs).
   */
  internAll(w: Uint32Array, m: number, ids: Uint32Array): void {
    // every address's hash first, and its home slot loaded: the slots' cache misses (the
    // index is cold between two lists) overlap there, where the probe loop took them one by one
    if (this.hashes.length < m) this.hashes = new Int32Array(m * 2);
    const hashes = this.hashes;
    const home = this.index;
    const homeMask = home.length - 1;
    let seen = 0;
    for (let j = 0; j < m; j++) {
      const o = j * 4;
      const h = fmix32(mix(mix(mix(mix(0x6a09e667, w[o]!), w[o + 1]!), w[o + 2]!), w[o + 3]!));
      hashes[j] = h;
      seen |= home[h & homeMask]!;
    }
    this.seen = seen;
    let index = this.index;
    let words = this.words;
    let tagMask = this.tagMask;
    let idMask = this.idMask;
    for (let j = 0; j < m; j++) {
      const o = j * 4;
      const w0 = w[o]!;
      const w1 = w[o + 1]!;
      const w2 = w[o + 2]!;
      const w3 = w[o + 3]!;
      const h = hashes[j]!;
      const tag = h & tagMask;
      const mask = index.length - 1;
      let slot = h & mask;
      let id = -1;
      for (;;) {
        const e = index[slot]!;
        if (e < 0) break;
        if ((e & tagMask) === tag) {
          const b = (e & idMask) * 4;
          if (words[b] === w0 && words[b + 1] === w1 && words[b + 2] === w2 && words[b + 3] === w3) {
            id = e & idMask;
            break;
          }
        }
        slot = (slot + 1) & mask;
      }
      if (id < 0) {
        id = this.n;
        if (id * 4 + 4 > words.length || id + 1 === this.taggedIds || (id + 1) * 2 > index.length) {
          // an insert that grows something (rare): intern's, then the arrays again
          this.intern(w, o);
          index = this.index;
          words = this.words;
          tagMask = this.tagMask;
          idMask = this.idMask;
        } else {
          this.n = id + 1;
          const b = id * 4;
          words[b] = w0;
          words[b + 1] = w1;
          words[b + 2] = w2;
          words[b + 3] = w3;
          index[slot] = id | tag;
        }
      }
      ids[j] = id;
    }
  }

  /** The id of an IPv6 address interned already, or -1 (interns nothing). */
  find(w: ArrayLike<number>, o: number): number {
    const e = this.index[this.slotOf(V6Intern.hashOf(w, o), w, o)]!;
    return e < 0 ? -1 : e & this.idMask;
  }

  private static hashOf(w: ArrayLike<number>, o: number): number {
    return fmix32(mix(mix(mix(mix(0x6a09e667, w[o]!), w[o + 1]!), w[o + 2]!), w[o + 3]!));
  }

  /** The index slot holding the address's id (its hash h), or the empty slot where it would go. */
  private slotOf(h: number, w: ArrayLike<number>, o: number): number {
    const mask = this.index.length - 1;
    const tag = h & this.tagMask;
    let slot = h & mask;
    for (;;) {
      const e = this.index[slot]!;
      if (e < 0) return slot;
      if ((e & this.tagMask) === tag) {
        const b = (e & this.idMask) * 4;
        if (this.words[b] === w[o] && this.words[b + 1] === w[o + 1] && this.words[b + 2] === w[o + 2] && this.words[b + 3] === w[o + 3]) {
          return slot;
        }
      }
      slot = (slot + 1) & mask;
    }
  }

  /** The index built again with `slots` slots (ids in order: the slots a plain index gives them). */
  private rehash(slots: number): void {
    const index = new Int32Array(slots).fill(-1);
    const mask = index.length - 1;
    for (let id = 0; id < this.n; id++) {
      const h = V6Intern.hashOf(this.words, id * 4);
      let slot = h & mask;
      while (index[slot]! >= 0) slot = (slot + 1) & mask;
      index[slot] = id | (h & this.tagMask);
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
