/**
 * A string dictionary keyed by bytes. Readers intern account ids, regions and interface
 * ids straight from the input buffer: the hash and comparison run over bytes, and a JS
 * string is made only the first time a value is seen. Id 0 is always "" (unknown).
 */
const NO_BYTES = new Uint8Array(0);
const NO_SLOTS = new Int32Array(0);

export class ByteDict {
  // arena and slots are replaced as the dictionary grows: they are set again in the
  // constructor so that V8 tracks them as mutable fields from the start. Set once, a field is
  // tracked as constant, and its first replacement (a rehash, a larger arena, mid-run)
  // deoptimised every function compiled against it (idOfBytes, sameBytes, the sink's copyIds
  // and copySmallRun: "code dependencies", 2-3 compiles each a run on the tiny files).
  private arena: Uint8Array = NO_BYTES;
  private arenaUsed = 0;
  private offsets: number[] = [0];
  private lengths: number[] = [0];
  private hashes: number[] = [0];
  readonly strings: string[] = [''];
  private slots: Int32Array = NO_SLOTS;
  private readonly decoder = new TextDecoder();
  private readonly encoder = new TextEncoder();
  private scratch = new Uint8Array(256);

  constructor() {
    // both grown here through the paths that grow them later (room, rehash): those paths then
    // have type feedback when V8 inlines them into idOfBytes (one never taken deoptimised it)
    this.room(4096);
    this.slots = new Int32Array(32).fill(-1);
    this.rehash();
  }

  get size(): number {
    return this.strings.length;
  }

  /** Id of buf[s, e). */
  idOfBytes(buf: Uint8Array, s: number, e: number): number {
    const len = e - s;
    if (len <= 0) return 0;
    let h = 0x811c9dc5;
    for (let i = s; i < e; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    // kept as a signed 32-bit value: `hashes` then holds small integers only (unsigned
    // hashes above 2^31 turned it into an array of doubles, and V8 deoptimised its readers)
    const mask = this.slots.length - 1;
    let slot = h & mask;
    for (;;) {
      const id = this.slots[slot]!;
      if (id < 0) break;
      if (this.hashes[id] === h && this.lengths[id] === len && this.sameBytes(id, buf, s, len)) return id;
      slot = (slot + 1) & mask;
    }
    return this.insert(buf, s, e, h, slot);
  }

  /** Id of a string (for readers that already hold strings, e.g. from JSON). */
  idOf(text: string): number {
    if (text.length === 0) return 0;
    // encoded into a plain Uint8Array, as the readers' buffers are: a Buffer here gave
    // idOfBytes, insert and sameBytes a second map, and V8 deoptimised them ("wrong map")
    if (this.scratch.length < text.length * 3) this.scratch = new Uint8Array(text.length * 3);
    const n = this.encoder.encodeInto(text, this.scratch).written;
    return this.idOfBytes(this.scratch, 0, n);
  }

  private sameBytes(id: number, buf: Uint8Array, s: number, len: number): boolean {
    const o = this.offsets[id]!;
    const a = this.arena;
    for (let k = 0; k < len; k++) if (a[o + k] !== buf[s + k]) return false;
    return true;
  }

  private insert(buf: Uint8Array, s: number, e: number, h: number, slot: number): number {
    const len = e - s;
    this.room(len);
    // copied a byte at a time and decoded from the arena: `buf.subarray` had two call targets
    // (readers pass Buffers and Uint8Arrays) and deoptimised idOfBytes ("wrong call target")
    const a = this.arena;
    const o = this.arenaUsed;
    for (let k = 0; k < len; k++) a[o + k] = buf[s + k]!;
    const id = this.strings.length;
    this.offsets.push(o);
    this.lengths.push(len);
    this.hashes.push(h);
    this.strings.push(this.decoder.decode(a.subarray(o, o + len)));
    this.arenaUsed += len;
    this.slots[slot] = id;
    if (this.strings.length * 2 > this.slots.length) this.rehash();
    return id;
  }

  /** The arena grown, when needed, to hold `len` more bytes. */
  private room(len: number): void {
    if (this.arenaUsed + len <= this.arena.length) return;
    const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaUsed + len));
    next.set(this.arena.subarray(0, this.arenaUsed));
    this.arena = next;
  }

  private rehash(): void {
    const slots = new Int32Array(this.slots.length * 2).fill(-1);
    const mask = slots.length - 1;
    for (let id = 1; id < this.strings.length; id++) {
      let slot = this.hashes[id]! & mask;
      while (slots[slot]! >= 0) slot = (slot + 1) & mask;
      slots[slot] = id;
    }
    this.slots = slots;
  }
}

/** A plain string dictionary for places that only see strings (the accumulators). */
export class StringDict {
  readonly strings: string[] = [''];
  private readonly ids = new Map<string, number>([['', 0]]);
  idOf(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.strings.length;
      this.strings.push(s);
      this.ids.set(s, id);
    }
    return id;
  }
  get size(): number {
    return this.strings.length;
  }
}
