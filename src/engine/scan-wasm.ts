/**
 * The inbound table's storage in WebAssembly memory (assembly/scan-held.ts, built into
 * dist/wasm/ by scripts/wasm.mjs), for the held-back records' add loop: one module instance
 * per table, its linear memory holding the table's entries (`u`, `d`), its index, the
 * buckets' first index slots and a sort scratch for the held records of one part. The
 * JavaScript layers (finalise, state export and merge, IPv6 interning, resizes, the index's
 * rebuild) read and write the same memory through typed-array views, as they read the
 * table's own arrays on the JavaScript path.
 *
 * An instance per table rather than tables as regions of one memory a thread: a table
 * grows and moves its arrays as it likes, and a table dropped (a spill) frees its memory
 * with it, with no allocator inside the module.
 *
 * Memory, from the bottom: the buckets' first slots (SHARD_BUCKETS u32) and a part's bucket
 * starts (65 i32); the sort scratch (held rows of 48 bytes and their hashes); then `d`
 * (capacity × 16 bytes), `u` (capacity × 36) and the index (slots × 4). A layout moves
 * arrays only upwards, highest first, so no array overwrites one not yet moved; one larger
 * than the memory moves the table to a new memory (and instance) of the size it needs,
 * since growing a memory would detach its buffer. Either way the views are made again, and
 * the table takes them anew (ScanCore.takeViews).
 *
 * FLOWSIEVE_ACCUMULATE=js (or a build without the module) keeps the table's arrays in
 * JavaScript and the add loop in JavaScript (scan-ingest.ts addSortedPart), for A/B runs.
 */
import { readFileSync } from 'node:fs';
import { wasmFile } from '../data/files.js';
import { SHARD_BUCKETS } from '../flow/hash.js';
import { COUNT_VALUES, ENTRY_WORDS, nextPow2 } from './scan-layout.js';

interface HeldExports {
  setTable(u: number, d: number, index: number, bucketBase: number, cap: number, slots: number, span: number): void;
  addHeld(rows: number, hashes: number, start: number, first: number, from: number, count: number): number;
  stopped(): number;
  takeFarProbes(): number;
  sortPart(bucket: number, rec: number, base: number, m: number, start: number, out: number): void;
}

const PAGE = 65536;
/** bytes of a held row in the scratch (scan-ingest.ts PENDING_WORDS × 4) and of its hash */
const ROW_BYTES = 48;
const HASH_BYTES = 4;
/** the module's own static data lies below this (it has none: a margin) */
const BUCKET_BASE_AT = 1024;
const START_AT = BUCKET_BASE_AT + SHARD_BUCKETS * 4;
const SCRATCH_AT = START_AT + 512;
/** the scratch's rows at least (52 bytes each) */
const MIN_SCRATCH_ROWS = 4096;
/** linear memory's largest size (wasm32): a table that would not fit goes back to JavaScript arrays */
const MAX_BYTES = 65536 * PAGE;

let compiled: WebAssembly.Module | null | undefined;

/** The module, compiled once a thread; null when not built or FLOWSIEVE_ACCUMULATE=js. */
function heldModule(): WebAssembly.Module | null {
  if (compiled === undefined) {
    const path = process.env.FLOWSIEVE_ACCUMULATE === 'js' ? null : wasmFile('scan-held.wasm');
    compiled = path === null ? null : new WebAssembly.Module(readFileSync(path));
  }
  return compiled;
}

/** A table's storage in a fresh instance, or null where the JavaScript path runs (see the module comment). */
export function scanArena(maxBytes = MAX_BYTES): ScanArena | null {
  const m = heldModule();
  if (m === null) return null;
  try {
    return new ScanArena(m, maxBytes);
  } catch {
    // no memory to be had (each reserves address space: a process limited in it, or very many tables alive at once)
    return null;
  }
}

const align16 = (x: number): number => (x + 15) & ~15;

/** Scratch rows for `rows`: a power of two, at least MIN_SCRATCH_ROWS (a larger scratch moves the whole table up). */
const scratchSize = (rows: number): number => Math.max(MIN_SCRATCH_ROWS, nextPow2(rows));

export class ScanArena {
  private ex: HeldExports;
  private memory: WebAssembly.Memory;
  u = new Uint32Array(0);
  d = new Float64Array(0);
  index = new Uint32Array(0);
  bucketBase = new Uint32Array(0);
  /** a part's bucket starts (scan-ingest.ts bucketStarts: 65 of them) */
  start = new Int32Array(0);
  /** the held rows of one part, sorted by bucket (u32 words; f64 view beside) */
  rows = new Uint32Array(0);
  private scratchRows = 0;
  private cap = 0;
  private slots = 0;
  private dAt = SCRATCH_AT;
  private uAt = SCRATCH_AT;
  private indexAt = SCRATCH_AT;

  /** `maxBytes`: the most linear memory the table may take (less than wasm32's 4 GiB only in tests of leaving the arena). */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly maxBytes = MAX_BYTES,
  ) {
    this.memory = new WebAssembly.Memory({ initial: 1 });
    this.ex = this.instance(this.memory);
  }

  private instance(memory: WebAssembly.Memory): HeldExports {
    return new WebAssembly.Instance(this.module, { env: { memory } }).exports as unknown as HeldExports;
  }

  /**
   * Lay the table out for `cap` entries (the first `count` kept), an index of `slots` (kept
   * when `keepIndex`, else zeroed) and a scratch of `scratchRows` rows; the views are made
   * again. A layout larger than the memory goes to a new memory (and instance), never
   * grown: memory.grow detaches the buffer (scripts/wasm.mjs says what that costs). False
   * when it would not fit in linear memory (nothing moved then).
   */
  place(cap: number, count: number, slots: number, span: number, keepIndex: boolean, scratchRows = this.scratchRows): boolean {
    const rows = Math.max(scratchRows, this.scratchRows);
    keepIndex &&= count > 0; // an empty table's index is zeros: written, not copied
    const dAt = align16(SCRATCH_AT + rows * (ROW_BYTES + HASH_BYTES));
    const uAt = dAt + cap * COUNT_VALUES * 8;
    const indexAt = uAt + cap * ENTRY_WORDS * 4;
    const end = indexAt + slots * 4;
    if (end > this.maxBytes || dAt < this.dAt || uAt < this.uAt || indexAt < this.indexAt) return false;
    const old = new Uint8Array(this.memory.buffer);
    let to = old;
    if (end > old.length) {
      let memory: WebAssembly.Memory;
      let ex: HeldExports;
      try {
        memory = new WebAssembly.Memory({ initial: Math.ceil(end / PAGE) });
        ex = this.instance(memory);
      } catch {
        return false; // no memory of that size to be had: the table goes on in JavaScript arrays
      }
      this.memory = memory;
      this.ex = ex;
      to = new Uint8Array(memory.buffer);
      // the buckets' first slots and the scratch: a resize in the middle of a part goes on from its rows and hashes
      to.set(old.subarray(0, this.dAt));
    }
    // in one memory: upwards, highest first (the module comment says why)
    if (keepIndex) to.set(old.subarray(this.indexAt, this.indexAt + slots * 4), indexAt);
    to.set(old.subarray(this.uAt, this.uAt + count * ENTRY_WORDS * 4), uAt);
    to.set(old.subarray(this.dAt, this.dAt + count * COUNT_VALUES * 8), dAt);
    if (!keepIndex && to === old) to.fill(0, indexAt, end); // a new memory is zeroed
    this.scratchRows = rows;
    this.cap = cap;
    this.slots = slots;
    this.dAt = dAt;
    this.uAt = uAt;
    this.indexAt = indexAt;
    this.makeViews();
    this.ex.setTable(uAt, dAt, indexAt, BUCKET_BASE_AT, cap, slots, span);
    return true;
  }

  private makeViews(): void {
    const b = this.memory.buffer;
    this.bucketBase = new Uint32Array(b, BUCKET_BASE_AT, SHARD_BUCKETS);
    this.start = new Int32Array(b, START_AT, 65);
    this.rows = new Uint32Array(b, SCRATCH_AT, (this.scratchRows * ROW_BYTES) / 4);
    this.d = new Float64Array(b, this.dAt, this.cap * COUNT_VALUES);
    this.u = new Uint32Array(b, this.uAt, this.cap * ENTRY_WORDS);
    this.index = new Uint32Array(b, this.indexAt, this.slots);
  }

  /** A scratch of `rows` held rows from the first layout on (before the table's first place). */
  withScratch(rows: number): this {
    if (this.cap === 0) this.scratchRows = scratchSize(rows);
    return this;
  }

  /** Room in the scratch for a part of `rows` held rows (the table moves up when it grows). */
  reserveScratch(rows: number, count: number, span: number): boolean {
    if (rows <= this.scratchRows) return true;
    return this.place(this.cap, count, this.slots, span, true, scratchSize(rows));
  }

  /**
   * Add the scratch's rows (sorted by bucket, `start` set) of the part whose first bucket is
   * `first`, from row `from`, to a table of `count` entries: the entries after. stopped():
   * the row the table filled at (-1: none; the caller resizes and goes on from there).
   */
  addHeld(first: number, from: number, count: number): number {
    return this.ex.addHeld(SCRATCH_AT, this.hashesAt(), START_AT, first, from, count);
  }

  stopped(): number {
    return this.ex.stopped();
  }

  /** The hashes the last addHeld wrote of the scratch's rows (for the JavaScript loop that goes on after the table left the arena). */
  get hashes(): Uint32Array {
    return new Uint32Array(this.memory.buffer, this.hashesAt(), this.scratchRows);
  }

  private hashesAt(): number {
    return SCRATCH_AT + this.scratchRows * ROW_BYTES;
  }

  takeFarProbes(): number {
    return this.ex.takeFarProbes();
  }
}

// the held buffer's memory (HeldSorter): the bucket starts and fill (65 + 64 i32), the rows' buckets, the rows, a part's sorted rows
const SORT_START_AT = 1024;
const SORT_BUCKET_AT = 2048;

/**
 * The held buffer (scan-ingest.ts PendingRows) in a memory of its own, with a second
 * instance of the module to sort a part of it by bucket (assembly/scan-held.ts sortPart:
 * 16-byte copies, where the JavaScript loop copies a word at a time). Not in the table's
 * memory: that moves as the table grows, and the held buffer (up to ~100 MB) would move with
 * it. Sized once (a larger buffer is a new PendingRows), so its views never change.
 */
export class HeldSorter {
  readonly bucket: Uint16Array;
  readonly rec: Uint32Array;
  /** part's rows sorted by bucket (sort), and each bucket's first (65 i32) */
  readonly sorted: Uint32Array;
  readonly start: Int32Array;
  private readonly ex: HeldExports;
  private readonly recAt: number;
  private readonly sortedAt: number;

  constructor(module: WebAssembly.Module, rows: number, partCap: number) {
    this.recAt = align16(SORT_BUCKET_AT + rows * 2);
    this.sortedAt = this.recAt + rows * ROW_BYTES;
    const end = this.sortedAt + partCap * ROW_BYTES;
    if (end > MAX_BYTES) throw new RangeError('held buffer larger than a memory');
    const memory = new WebAssembly.Memory({ initial: Math.ceil(end / PAGE) });
    this.ex = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HeldExports;
    const b = memory.buffer;
    this.bucket = new Uint16Array(b, SORT_BUCKET_AT, rows);
    this.rec = new Uint32Array(b, this.recAt, (rows * ROW_BYTES) / 4);
    this.sorted = new Uint32Array(b, this.sortedAt, (partCap * ROW_BYTES) / 4);
    this.start = new Int32Array(b, SORT_START_AT, 65);
  }

  /** Rows base .. base + m sorted by bucket into `sorted`, `start` set. */
  sort(base: number, m: number): void {
    this.ex.sortPart(SORT_BUCKET_AT, this.recAt, base, m, SORT_START_AT, this.sortedAt);
  }
}

/** A held buffer of `rows` (parts of `partCap`) in WebAssembly memory; null where the JavaScript path runs or no memory can be had. */
export function heldSorter(rows: number, partCap: number): HeldSorter | null {
  const m = heldModule();
  if (m === null) return null;
  try {
    return new HeldSorter(m, rows, partCap);
  } catch {
    return null;
  }
}
