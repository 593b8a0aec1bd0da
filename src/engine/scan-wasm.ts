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
 * Memory, from the bottom: the buckets' first slots and their regions' slots (SHARD_BUCKETS
 * u32 each) and a part's bucket starts (65 i32); the sort scratch (held rows of 40 bytes, their hashes and the wide rows'
 * counts); then `d` (capacity × 16 bytes), `u` (capacity × 36), the index (slots × 4) and
 * the finalisation's room (scan-finalise-wasm.ts finaliseRoom: pages untouched until the
 * table is finalised). A layout moves arrays only upwards, highest first, so no array overwrites one not yet moved; one larger
 * than the memory moves the table to a new memory (and instance) of the size it needs,
 * since growing a memory would detach its buffer. Either way the views are made again, and
 * the table takes them anew (ScanCore.takeViews).
 *
 * The table of a held buffer at its largest in a shared memory (the batch ring's, or one of its
 * own) is laid out in that memory, in a region grown at its end, while still empty
 * (ScanArena.hostIn, from ScanTable.makeRoom): the held buffer's sort then writes each part
 * where addHeld reads it, and the copy of every held row into the table's scratch goes (~4 ns a
 * held record, bench/RESULTS.md, session 23 heldone). The fixed places above are then from the
 * region's first byte (`base`). A larger layout grows the region in place while it is still the
 * memory's last (a shared memory's views stay valid), else moves the table to a memory of its
 * own as above, with the part being added copied into its scratch (copyPart).
 *
 * FLOWSIEVE_ACCUMULATE=js (or a build without the module) keeps the table's arrays in
 * JavaScript and the add loop in JavaScript (scan-ingest.ts addSortedPart), for A/B runs.
 *
 * A thread's first memories (SHARED_BUDGET bytes of them, and its first table's, however large:
 * newArena) are shared memories, over the
 * module built to import one (scan-held-shared.wasm): V8 counts a plain memory as the
 * isolate's external memory, and the shard's first table and held buffer (~230 MB at once
 * on the bucket) set off two scavenges and two mark-compacts "for external memory pressure"
 * on a heap of a few MB that frees nothing; a shared one it does not count. Past the budget
 * memories are plain again, so a thread that keeps making them (growth, spills, serve's
 * windows) is collected as before, and those collections free the dead shared ones too.
 * FLOWSIEVE_SHARED_ARENA=off makes every memory plain (A/B runs).
 */
import { wasmModule } from '../data/files.js';
import { PopulateAhead } from './populate-ahead.js';
import { populateViewLater } from '../input/native.js';
import { SHARD_BUCKETS } from '../flow/hash.js';
import { COUNT_VALUES, ENTRY_WORDS, HELD_SORT_BITS, HELD_WORDS, heldSortBits, nextPow2 } from './scan-layout.js';
import type { FlowBatchData } from '../flow/batch.js';
import { BatchStage, stageRecordBytes } from './batch-stage.js';
import { finaliseIn, finaliseInModule, finaliseRoom, orderBytes, scratchEntries, type FinaliseExports, type FinaliseShare, type ModuleFinalise } from './scan-finalise-wasm.js';

interface HeldExports extends FinaliseExports {
  setTable(u: number, d: number, index: number, bucketBase: number, bucketSpan: number, cap: number, slots: number): void;
  addHeld(rows: number, hashes: number, wide: number, start: number, first: number, from: number, count: number): number;
  stopped(): number;
  takeFarProbes(): number;
  sortPart(rec: number, wide: number, base: number, m: number, bits: number, start: number, out: number, outWide: number, outHash: number, tmp: number, group: number): number;
  bucketRows(rec: number, fill: number, partCap: number, out: number): void;
  setHold(fill: number, rec: number, partCap: number, wide: number, wideFill: number, accounts: number, regions: number, mapCap: number, stage: number, stageCap: number, seconds: number, v6List: number, runPlaces: number): void;
  resetWindow(): void;
  windowOf(start: number): number;
  holdStaged(from: number, n: number): number;
  holdColumns(packets: number, bytes: number, src: number, dst: number, start: number, end: number, account: number, region: number, dport: number, feed: number, proto: number, cloud: number): void;
  holdStopped(): number;
  holdHeld(): number;
  holdV6(): number;
}

const PAGE = 65536;
/** bytes of a held row in the scratch (scan-layout.ts HELD_WORDS × 4), of its hash, and of a wide row's counts */
const ROW_BYTES = HELD_WORDS * 4;
const HASH_BYTES = 4;
const WIDE_BYTES = 16;
/** the module's own static data lies below this (it has none: a margin) */
const BUCKET_BASE_AT = 1024;
const BUCKET_SPAN_AT = BUCKET_BASE_AT + SHARD_BUCKETS * 4;
const START_AT = BUCKET_SPAN_AT + SHARD_BUCKETS * 4;
const SCRATCH_AT = START_AT + 512;
/** the scratch's rows at least (60 bytes each, of which the wide counts' 16 are touched only by wide rows) */
const MIN_SCRATCH_ROWS = 4096;
/** linear memory's largest size (wasm32): a table that would not fit goes back to JavaScript arrays */
const MAX_BYTES = 65536 * PAGE;
/**
 * Bytes of shared memory a thread makes at most (see the module comment): the first table
 * and held buffer of a 2 M-record shard (~225 MB on the bucket at one worker) fit; dead
 * shared memory a thread leaves before its next collection stays below it.
 */
const SHARED_BUDGET = 256 * 1024 * 1024;

let sharedLeft = SHARED_BUDGET;
/**
 * Whether a table's memory may still be shared past the budget: a thread's first table too
 * large for it (the 7 M-record bucket at one worker: 513 MiB), once. The tail split
 * shares a table's finalisation with another thread over its memory (tail.ts), which a plain
 * memory cannot be; a thread that goes on making memories makes them plain, as before.
 */
let tablePastBudget = true;

/** The module, compiled once a thread; null when not built or FLOWSIEVE_ACCUMULATE=js (read at each table). */
function heldModule(): WebAssembly.Module | null {
  return process.env.FLOWSIEVE_ACCUMULATE === 'js' ? null : wasmModule('scan-held.wasm');
}

/** The module importing a shared memory, compiled once a thread; null when not built or FLOWSIEVE_SHARED_ARENA=off (read at each memory). */
function sharedModule(): WebAssembly.Module | null {
  return process.env.FLOWSIEVE_SHARED_ARENA === 'off' ? null : wasmModule('scan-held-shared.wasm');
}

interface Arena {
  memory: WebAssembly.Memory;
  ex: HeldExports;
  /** the module of `ex` (the shared one over a shared memory) */
  module: WebAssembly.Module;
}

/**
 * A memory of `bytes` at least and the module's instance over it: shared while the thread's
 * SHARED_BUDGET lasts, else plain. Throws when no memory of that size can be had.
 */
function newArena(module: WebAssembly.Module, bytes: number, table = false): Arena {
  const pages = Math.ceil(bytes / PAGE);
  const past = pages * PAGE > sharedLeft;
  const shared = !past || (table && tablePastBudget) ? sharedArena(pages) : null;
  if (shared !== null && past) tablePastBudget = false;
  return shared ?? arenaOver(module, new WebAssembly.Memory({ initial: pages }));
}

/** The module's instance over `memory`. */
function arenaOver(module: WebAssembly.Module, memory: WebAssembly.Memory): Arena {
  return { memory, module, ex: new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as HeldExports };
}

/** A shared memory of `pages` over the shared module, counted in the budget; null without the module or the memory (a plain one is tried then). */
function sharedArena(pages: number): Arena | null {
  const module = sharedModule();
  if (module === null) return null;
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: pages, maximum: MAX_BYTES / PAGE, shared: true });
  } catch {
    return null;
  }
  sharedLeft = Math.max(0, sharedLeft - pages * PAGE);
  return arenaOver(module, memory);
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

/** A sorted part where HeldSorter.sort wrote it (byte addresses in its memory): its rows, their hashes, its wide rows' counts, its 65 bucket starts. */
interface HeldPart {
  rows: number;
  hashes: number;
  wide: number;
  start: number;
  m: number;
  wideRows: number;
}

/** Scratch rows for `rows`: a power of two, at least MIN_SCRATCH_ROWS (a larger scratch moves the whole table up). */
const scratchSize = (rows: number): number => Math.max(MIN_SCRATCH_ROWS, nextPow2(rows));

export class ScanArena {
  private ex: HeldExports;
  private memory: WebAssembly.Memory;
  /** the module of `ex` */
  private exModule: WebAssembly.Module;
  /** where another thread's finalise scratch lies (share), past the table's room; 0: not made yet */
  private shareAt = 0;
  u = new Uint32Array(0);
  d = new Float64Array(0);
  index = new Uint32Array(0);
  bucketBase = new Uint32Array(0);
  bucketSpan = new Uint32Array(0);
  /** a part's bucket starts (scan-ingest.ts groupStarts: 65 of them) */
  start = new Int32Array(0);
  /** the held rows of one part, sorted by bucket (u32 words), and the counts of its wide rows (two each) */
  rows = new Uint32Array(0);
  wide = new Float64Array(0);
  private scratchRows = 0;
  private cap = 0;
  private slots = 0;
  /**
   * where the table's fixed places start in its memory: 0 in a memory of its own, else the
   * region it took at the end of its held buffer's memory (hostIn)
   */
  private base = 0;
  /** the held buffer's memory the table lies in (hostIn): the end of the table's region in it; 0: a memory of its own */
  private hostEnd = 0;
  /** the sorted part the next addHeld reads where the held buffer's sort wrote it (readPart); null: the scratch's */
  private part: HeldPart | null = null;
  private dAt = SCRATCH_AT;
  private uAt = SCRATCH_AT;
  private indexAt = SCRATCH_AT;
  /** the finalisation's room (scan-finalise-wasm.ts finaliseRoom), after the index; 0: none (the memory would pass maxBytes) */
  private finaliseAt = 0;
  /** the last layout's index lies in a new memory, never written (ScanCore.touchIndex) */
  indexFresh = false;

  /** `maxBytes`: the most linear memory the table may take (less than wasm32's 4 GiB only in tests of leaving the arena). */
  constructor(
    private readonly module: WebAssembly.Module,
    private readonly maxBytes = MAX_BYTES,
  ) {
    ({ memory: this.memory, ex: this.ex, module: this.exModule } = newArena(module, PAGE));
  }

  /**
   * Lay the table out for `cap` entries (the first `count` kept), an index of `slots` (kept
   * when `keepIndex`, else zeroed) and a scratch of `scratchRows` rows; the views are made
   * again. A layout larger than the memory goes to a new memory (and instance), never
   * grown: memory.grow detaches a plain memory's buffer (scripts/wasm.mjs says what that
   * costs); only a table in its held buffer's shared memory grows its region there (growHost).
   * False when it would not fit in linear memory (nothing moved then).
   */
  place(cap: number, count: number, slots: number, keepIndex: boolean, scratchRows = this.scratchRows): boolean {
    const rows = Math.max(scratchRows, this.scratchRows);
    keepIndex &&= count > 0; // an empty table's index is zeros: written, not copied
    let { dAt, uAt, indexAt, finaliseAt, tableEnd, end } = this.layout(this.base, cap, slots, rows);
    if (tableEnd - this.base > this.maxBytes || dAt < this.dAt || uAt < this.uAt || indexAt < this.indexAt) return false;
    const old = new Uint8Array(this.memory.buffer);
    let to = old;
    let fresh = false; // a new memory: the index lies in pages never written
    if (end > old.length && this.growHost(end)) to = new Uint8Array(this.memory.buffer);
    else if (end > old.length) {
      let arena: Arena;
      try {
        arena = newArena(this.module, end - this.base, true);
      } catch {
        return false; // no memory of that size to be had: the table goes on in JavaScript arrays
      }
      this.memory = arena.memory;
      this.ex = arena.ex;
      this.exModule = arena.module;
      to = new Uint8Array(arena.memory.buffer);
      fresh = true;
      // the buckets' first slots and the scratch: a resize in the middle of a part goes on from its rows and hashes
      to.set(old.subarray(this.base, this.dAt));
      const base = this.base;
      this.base = 0;
      this.hostEnd = 0;
      if (base !== 0) {
        ({ dAt, uAt, indexAt, finaliseAt, tableEnd, end } = this.layout(0, cap, slots, rows));
        this.copyPart(old, to, rows);
      }
    }
    // in one memory: upwards, highest first (the module comment says why)
    if (keepIndex) to.set(old.subarray(this.indexAt, this.indexAt + slots * 4), indexAt);
    to.set(old.subarray(this.uAt, this.uAt + count * ENTRY_WORDS * 4), uAt);
    to.set(old.subarray(this.dAt, this.dAt + count * COUNT_VALUES * 8), dAt);
    if (!keepIndex && !fresh) to.fill(0, indexAt, tableEnd); // a new memory is zeroed
    this.indexFresh = !keepIndex && fresh;
    this.scratchRows = rows;
    this.cap = cap;
    this.slots = slots;
    this.dAt = dAt;
    this.uAt = uAt;
    this.indexAt = indexAt;
    this.finaliseAt = end > tableEnd ? finaliseAt : 0;
    this.shareAt = 0; // the layout may now lie over another thread's scratch: made again when asked for
    this.makeViews();
    this.ex.setTable(uAt, dAt, indexAt, this.base + BUCKET_BASE_AT, this.base + BUCKET_SPAN_AT, cap, slots);
    return true;
  }

  /** Where a layout from `base` puts each array, and its end with the finalisation's room (without it where that would pass maxBytes). */
  private layout(base: number, cap: number, slots: number, rows: number) {
    const dAt = align16(base + SCRATCH_AT + rows * (ROW_BYTES + HASH_BYTES + WIDE_BYTES));
    const uAt = dAt + cap * COUNT_VALUES * 8;
    const indexAt = uAt + cap * ENTRY_WORDS * 4;
    const tableEnd = indexAt + slots * 4;
    const finaliseAt = align16(tableEnd);
    const withRoom = finaliseAt + finaliseRoom(this.ex, cap);
    return { dAt, uAt, indexAt, finaliseAt, tableEnd, end: withRoom - base <= this.maxBytes ? withRoom : tableEnd };
  }

  /**
   * The table's region in its held buffer's memory grown to `end` where it is still that
   * memory's last (a shared memory grows in place: nothing moves, the views stay valid).
   * False when the table has a memory of its own, another thread's place lies after it (a
   * finalisation's scratch, another shard's held buffer), or the memory cannot grow.
   */
  private growHost(end: number): boolean {
    if (this.hostEnd === 0 || this.memory.buffer.byteLength !== this.hostEnd) return false;
    const pages = Math.ceil((end - this.hostEnd) / PAGE);
    try {
      // another thread may grow it meanwhile: then the pages grown are not after the table (address space only, left unused)
      if (this.memory.grow(pages) * PAGE !== this.hostEnd) return false;
    } catch {
      return false;
    }
    this.hostEnd += pages * PAGE;
    return true;
  }

  /**
   * Lay the empty table out in the memory of the held buffer `sorter` (a shared memory), in a
   * region grown at its end: the held buffer's sort then writes each part where addHeld reads
   * it (readPart), with no copy into the table's scratch. False (nothing changed) when the
   * table holds entries, the memory is not shared or cannot grow that far.
   */
  hostIn(sorter: HeldSorter, count: number): boolean {
    const host = sorter.arena;
    const at = host.memory.buffer.byteLength;
    if (count !== 0 || this.hostEnd !== 0 || !(host.memory.buffer instanceof SharedArrayBuffer)) return false;
    const { end } = this.layout(at, this.cap, this.slots, this.scratchRows);
    const pages = Math.ceil((end - at) / PAGE);
    try {
      if (host.memory.grow(pages) * PAGE !== at) return false; // another thread's place taken meanwhile (address space only)
    } catch {
      return false;
    }
    const old = new Uint8Array(this.memory.buffer, this.base, SCRATCH_AT);
    this.memory = host.memory;
    this.ex = arenaOver(host.module, host.memory).ex;
    this.exModule = host.module;
    this.base = at;
    this.hostEnd = at + pages * PAGE;
    // the buckets' regions as laid out (the first flush weighs them again); the rest is in pages never written
    new Uint8Array(this.memory.buffer).set(old, at);
    const l = this.layout(at, this.cap, this.slots, this.scratchRows);
    this.dAt = l.dAt;
    this.uAt = l.uAt;
    this.indexAt = l.indexAt;
    this.finaliseAt = l.end > l.tableEnd ? l.finaliseAt : 0;
    this.shareAt = 0;
    this.indexFresh = true;
    this.makeViews();
    this.ex.setTable(l.uAt, l.dAt, l.indexAt, at + BUCKET_BASE_AT, at + BUCKET_SPAN_AT, this.cap, this.slots);
    return true;
  }

  /**
   * The sorted part addHeld reads next: where `sorter` sorted it (m rows, `wide` of them wide)
   * when the table lies in its memory (true), else the caller copies it into the scratch.
   */
  readPart(sorter: HeldSorter | null, m: number, wide: number): boolean {
    this.part = sorter !== null && this.hostEnd !== 0 && sorter.arena.memory === this.memory ? sorter.partAt(m, wide) : null;
    return this.part !== null;
  }

  /** Whether the last readPart's rows are still where the sort wrote them (not in the scratch). */
  get partInHost(): boolean {
    return this.part !== null;
  }

  /**
   * The part readPart left in the held buffer's memory `from` copied into the scratch (of
   * `rows` rows) of the table's new memory `to`: the table left the held buffer's memory in a
   * resize in the middle of the part, and goes on from the same rows there.
   */
  private copyPart(from: Uint8Array, to: Uint8Array, rows: number): void {
    const part = this.part;
    if (part === null) return;
    this.part = null;
    to.set(from.subarray(part.start, part.start + 65 * 4), START_AT);
    to.set(from.subarray(part.rows, part.rows + part.m * ROW_BYTES), SCRATCH_AT);
    to.set(from.subarray(part.hashes, part.hashes + part.m * HASH_BYTES), SCRATCH_AT + rows * ROW_BYTES);
    to.set(from.subarray(part.wide, part.wide + part.wideRows * WIDE_BYTES), align16(SCRATCH_AT + rows * (ROW_BYTES + HASH_BYTES)));
  }

  private makeViews(): void {
    const b = this.memory.buffer;
    this.bucketBase = new Uint32Array(b, this.base + BUCKET_BASE_AT, SHARD_BUCKETS);
    this.bucketSpan = new Uint32Array(b, this.base + BUCKET_SPAN_AT, SHARD_BUCKETS);
    this.start = new Int32Array(b, this.base + START_AT, 65);
    this.rows = new Uint32Array(b, this.base + SCRATCH_AT, (this.scratchRows * ROW_BYTES) / 4);
    this.wide = new Float64Array(b, this.wideAt(), this.scratchRows * 2);
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
  reserveScratch(rows: number, count: number): boolean {
    if (rows <= this.scratchRows) return true;
    return this.place(this.cap, count, this.slots, true, scratchSize(rows));
  }

  /**
   * Add the scratch's rows (sorted by bucket, `start` set) of the part whose first bucket is
   * `first`, from row `from`, to a table of `count` entries: the entries after. stopped():
   * the row the table filled at (-1: none; the caller resizes and goes on from there).
   */
  addHeld(first: number, from: number, count: number): number {
    const p = this.part;
    if (p !== null) return this.ex.addHeld(p.rows, p.hashes, p.wide, p.start, first, from, count);
    return this.ex.addHeld(this.base + SCRATCH_AT, this.hashesAt(), this.wideAt(), this.base + START_AT, first, from, count);
  }

  stopped(): number {
    return this.ex.stopped();
  }

  /** The hashes the last addHeld wrote of the scratch's rows (for the JavaScript loop that goes on after the table left the arena). */
  get hashes(): Uint32Array {
    return new Uint32Array(this.memory.buffer, this.hashesAt(), this.scratchRows);
  }

  private hashesAt(): number {
    return this.base + SCRATCH_AT + this.scratchRows * ROW_BYTES;
  }

  private wideAt(): number {
    return align16(this.hashesAt() + this.scratchRows * HASH_BYTES);
  }

  takeFarProbes(): number {
    return this.ex.takeFarProbes();
  }

  /**
   * The table's finalisation in this memory, in the room after the index (no copy: the
   * views stay valid); its `count` entries of windows <= uptoWindow sorted by bucket (without
   * `sortNow`: later, ModuleFinalise.sortAll). Null without a room or with FLOWSIEVE_FINALISE=js.
   */
  finalise(count: number, uptoWindow: number, minTuples: number, minEndpoints: number, sortNow = true): ModuleFinalise | null {
    if (this.finaliseAt === 0 || !finaliseInModule()) return null;
    return finaliseIn(this.ex, this.memory.buffer, this.finaliseAt, this.uAt, this.dAt, count, this.cap, uptoWindow, minTuples, minEndpoints, sortNow);
  }

  /**
   * The finalisation's first writes for up to `count` entries (its sort by bucket: the starts
   * and the order, 4 bytes an entry) backed on libuv's pool now, ahead of finalise: asked
   * for near the parse's end (ScanTable.flushEarly), so that the serial tail does not take
   * their faults (~2,200 pages at 7 M records).
   */
  roomAhead(count: number): void {
    if (this.finaliseAt === 0) return;
    const buffer = this.memory.buffer;
    populateViewLater(new Uint8Array(buffer, this.finaliseAt, Math.min(orderBytes(Math.min(count, this.cap)), buffer.byteLength - this.finaliseAt)));
  }

  /** Whether another thread can finalise some of this table's buckets (share): its memory is shared. */
  get shareable(): boolean {
    return this.finaliseAt !== 0 && this.memory.buffer instanceof SharedArrayBuffer;
  }

  /**
   * The finalisation `mod` (made by finalise), for another thread to finalise buckets of
   * over this shared memory with a scratch of its own: the memory grown once for it
   * (a shared memory grows in place; the table's views stay valid). Null when the memory is
   * not shared or cannot grow (the caller finalises them itself then).
   */
  share(mod: ModuleFinalise, minTuples: number, minEndpoints: number): FinaliseShare | null {
    if (!this.shareable) return null;
    if (this.shareAt === 0 || this.shareAt + this.ex.scratchBytes(mod.scratch) > this.memory.buffer.byteLength) {
      try {
        this.shareAt = this.memory.grow(Math.ceil(this.ex.scratchBytes(mod.scratch) / PAGE)) * PAGE;
      } catch {
        return null;
      }
    }
    return {
      module: this.exModule, memory: this.memory, uAt: this.uAt, dAt: this.dAt, startAt: mod.startAt, orderAt: mod.orderAt, entries: mod.entries,
      scratch: mod.scratch, at: this.shareAt, minTuples, minEndpoints,
    };
  }

  /** Entries a bucket may have to be finalised here (0: no room; larger buckets are finalised in JavaScript). */
  get finaliseScratch(): number {
    return this.finaliseAt === 0 ? 0 : scratchEntries(this.cap);
  }
}

// the held buffer's memory (HeldSorter): the bucket starts and fill (65 + 64 i32), each part's
// fill (64 i32), the wide rows' number, a u16 a row (the rows' buckets until they went into each
// row's region word; now a part's rows' sort groups, sortPart, in the first of it: PENDING_ROW_BYTES
// counts it as before), the rows, a part's sorted rows, the
// wide rows' counts and a part's, a part's sorted hashes, the sort's group counts and hashes,
// each bucket's held rows, the hold step's maps and stage
const SORT_START_AT = 1024;
const PART_FILL_AT = 1600;
const WIDE_FILL_AT = PART_FILL_AT + 64 * 4;
const SORT_GROUP_AT = 2048;
/** batch-local string ids the hold step's maps cover (a batch of more strings is held in JavaScript) */
export const HOLD_MAP_CAP = 4096;
/** groups of a part's sort at most (assembly/scan-held.ts sortPart) */
const SORT_GROUPS = 64 << HELD_SORT_BITS;
/** records of a batch staged at a time */
const STAGE_CAP = 4096;
/** the stage's columns, in the order assembly/scan-held.ts setHold lays them out */
const HOLD_STAGE = ['packets', 'bytes', 'src', 'dst', 'start', 'end', 'account', 'region', 'dport', 'feed', 'proto', 'cloud'] as const;
const STAGE_RECORD_BYTES = stageRecordBytes(HOLD_STAGE);
/** why holdStaged stopped (assembly/scan-held.ts) */
export const HOLD_DONE = 0;
export const HOLD_RECORD = 1;
export const HOLD_FULL = 2;

/**
 * The held buffer (scan-ingest.ts PendingRows) in a memory of its own, with a second
 * instance of the module to sort a part of it by bucket and key hash (assembly/scan-held.ts
 * sortPart: 16-byte copies, where the JavaScript loop copies a word at a time) and to hold a batch's
 * records (holdStaged: the batch's columns staged here, one copy a column, then keyed and
 * written as held rows in the module). Not in the table's memory: that moves as the table
 * grows, and the held buffer (up to ~100 MB) would move with it; the table comes to this
 * memory instead, where it can (ScanArena.hostIn). Sized once (a larger buffer
 * is a new PendingRows), so its views never change.
 */
export class HeldSorter {
  readonly rec: Uint32Array;
  /** part's rows sorted by bucket (sort), and each bucket's first (65 i32) */
  readonly sorted: Uint32Array;
  /** the wide rows' counts (two f64 each, wideFill[0] of them, written by the hold step too), and the sorted part's (sort) */
  readonly wide: Float64Array;
  readonly wideFill: Uint32Array;
  readonly sortedWide: Float64Array;
  /** the key hash of each row of `sorted` (sort) */
  readonly sortedHash: Uint32Array;
  readonly start: Int32Array;
  /** rows held in each part (PendingRows.fill), written by the hold step too */
  readonly fill: Int32Array;
  /** the IPv6 records of the last holdStaged: each one's staged record and held row (holdV6 of them) */
  readonly v6List: Uint32Array;
  /** the table's id of each batch-local account and region id of `mappedStrings`' batch (UNMAPPED until mapped) */
  readonly accounts: Uint32Array;
  readonly regions: Uint32Array;
  mappedStrings: string[] | null = null;
  /** the buffer's memory and its module (a table may lie in it too: ScanArena.hostIn) */
  readonly arena: Arena;
  private readonly ex: HeldExports;
  private readonly recAt: number;
  /** a part's rows' sort groups (sortPart), a u16 each */
  private readonly groupAt: number;
  private readonly sortedAt: number;
  private readonly wideAt: number;
  private readonly sortedWideAt: number;
  private readonly sortedHashAt: number;
  private readonly sortTmpAt: number;
  private readonly bucketRowsAt: number;
  private readonly partCap: number;
  /** the held rows of each bucket (bucketRows) */
  readonly rowsOfBucket: Int32Array;
  private readonly stage: BatchStage<(typeof HOLD_STAGE)[number]>;
  /** the ring whose batches lie in this memory (ringHeldArena), 0: none; and whether the module reads the stage (else a batch in place) */
  private readonly ringId: number;
  /** the byte length of the ring's slots' buffer (RingHeld.bytes): a batch's buffer is at least as long */
  private readonly ringBytes: number;
  private readsStage = true;
  /** the fixed places of the layout (SORT_START_AT ...), from the buffer's first byte in its memory */
  private readonly startAt: number;
  private readonly fillAt: number;
  private readonly wideFillAt: number;
  /** each part's rows backed on libuv's pool ahead of the hold (rowsAhead) */
  private readonly ahead: PopulateAhead;

  /** `ring`: a place for the buffer in a ring's memory (ringHeldArena), else a memory of its own. */
  constructor(module: WebAssembly.Module, rows: number, partCap: number, windowSeconds: number, ring: RingHeld | null = null) {
    const base = ring?.at ?? 0;
    this.startAt = base + SORT_START_AT;
    this.fillAt = base + PART_FILL_AT;
    this.wideFillAt = base + WIDE_FILL_AT;
    this.groupAt = base + SORT_GROUP_AT;
    this.recAt = align16(this.groupAt + rows * 2);
    this.sortedAt = this.recAt + rows * ROW_BYTES;
    this.wideAt = align16(this.sortedAt + partCap * ROW_BYTES);
    this.sortedWideAt = this.wideAt + rows * WIDE_BYTES;
    this.sortedHashAt = this.sortedWideAt + partCap * WIDE_BYTES;
    this.sortTmpAt = this.sortedHashAt + partCap * HASH_BYTES;
    this.bucketRowsAt = this.sortTmpAt + SORT_GROUPS * 4 + partCap * HASH_BYTES;
    const mapsAt = this.bucketRowsAt + SHARD_BUCKETS * 4;
    const stageAt = mapsAt + HOLD_MAP_CAP * 8;
    const v6At = align16(stageAt + STAGE_CAP * STAGE_RECORD_BYTES);
    const end = v6At + STAGE_CAP * 8;
    if (end > MAX_BYTES) throw new RangeError('held buffer larger than a memory');
    this.arena = ring?.arena(end - base) ?? newArena(module, end);
    const { memory, ex } = this.arena;
    this.ex = ex;
    this.ringId = ring === null ? 0 : ring.id;
    this.ringBytes = ring === null ? 0 : ring.bytes;
    const b = memory.buffer;
    this.rec = new Uint32Array(b, this.recAt, (rows * ROW_BYTES) / 4);
    this.sorted = new Uint32Array(b, this.sortedAt, (partCap * ROW_BYTES) / 4);
    this.wide = new Float64Array(b, this.wideAt, rows * 2);
    this.wideFill = new Uint32Array(b, this.wideFillAt, 1);
    this.sortedWide = new Float64Array(b, this.sortedWideAt, partCap * 2);
    this.sortedHash = new Uint32Array(b, this.sortedHashAt, partCap);
    this.rowsOfBucket = new Int32Array(b, this.bucketRowsAt, SHARD_BUCKETS);
    this.partCap = partCap;
    this.start = new Int32Array(b, this.startAt, 65);
    this.fill = new Int32Array(b, this.fillAt, 64);
    this.accounts = new Uint32Array(b, mapsAt, HOLD_MAP_CAP);
    this.regions = new Uint32Array(b, mapsAt + HOLD_MAP_CAP * 4, HOLD_MAP_CAP);
    this.v6List = new Uint32Array(b, v6At, STAGE_CAP * 2);
    this.stage = new BatchStage(b, stageAt, STAGE_CAP, HOLD_STAGE);
    const parts = Array.from({ length: rows / partCap }, (_, p) => p * partCap);
    const columns = parts.map((row) => [this.recAt + row * ROW_BYTES, ROW_BYTES] as const);
    this.ahead = new PopulateAhead(new Uint8Array(b), columns, partCap);
    // the hold step's run of row places (holdStaged: 256 pairs of u32) in the sort's scratch, idle while holding
    this.ex.setHold(this.fillAt, this.recAt, partCap, this.wideAt, this.wideFillAt, mapsAt, mapsAt + HOLD_MAP_CAP * 4, HOLD_MAP_CAP, stageAt, STAGE_CAP, windowSeconds, v6At, this.sortTmpAt);
  }

  /** Rows base .. base + m sorted by bucket and key hash into `sorted` (scan-ingest.ts sortHeldPart), their hashes into `sortedHash`, `start` set, the wide rows' counts into `sortedWide`: how many wide rows. */
  sort(base: number, m: number): number {
    return this.ex.sortPart(this.recAt, this.wideAt, base, m, heldSortBits(m), this.startAt, this.sortedAt, this.sortedWideAt, this.sortedHashAt, this.sortTmpAt, this.groupAt);
  }

  /** Where the last sort wrote its part of m rows, `wide` of them wide (ScanArena.readPart). */
  partAt(m: number, wide: number): HeldPart {
    return { rows: this.sortedAt, hashes: this.sortedHashAt, wide: this.sortedWideAt, start: this.startAt, m, wideRows: wide };
  }

  /**
   * Rows up to `fill` of every part are about to be held: their memory backed on libuv's pool
   * ahead of the hold step, a sixteenth of a part at a time (PopulateAhead). Rows past the
   * fullest part's by more than an eighth of a part are not asked for: a buffer sized above
   * its input stays unbacked where it is never written.
   */
  rowsAhead(fill: number): void {
    this.ahead.ensure(fill, Math.max(256, this.partCap >> 4));
  }

  /** The held rows of each bucket (assembly/scan-held.ts bucketRows), in rowsOfBucket. */
  bucketRows(): Int32Array {
    this.ex.bucketRows(this.recAt, this.fillAt, this.partCap, this.bucketRowsAt);
    return this.rowsOfBucket;
  }

  /** Copy records from .. from + stageable(n - from) of a batch into the stage (one copy a column): the records staged. */
  stageRecords(batch: FlowBatchData, from: number): number {
    const n = Math.min(batch.n - from, STAGE_CAP);
    this.stage.copy(batch, from, n);
    if (!this.readsStage) {
      const v = this.stage.views;
      this.holdColumnsOf([v.packets, v.bytes, v.src, v.dst, v.start, v.end, v.account, v.region, v.dport, v.feed, v.proto, v.cloud]);
      this.readsStage = true;
    }
    return n;
  }

  /**
   * Whether the batch lies in this memory (a slot of the ring the buffer was placed with:
   * ringHeldArena), and if so the module set to read its columns where they are, with no
   * copy: holdStaged's records are then the batch's own (from 0). Every column must be a view
   * of the ring's buffer: a batch made from a ring's batch keeps its ring (a spill's slice
   * of it does lie there; --no-spill's masked feed, spill.ts maskDropped, is a copy elsewhere).
   */
  readsInPlace(batch: FlowBatchData): boolean {
    if (this.ringId === 0 || batch.ring === undefined || batch.ring.id !== this.ringId) return false;
    const b = batch;
    const columns = [b.packets, b.bytes, b.src, b.dst, b.start, b.end, b.account, b.region, b.dport, b.feed, b.proto, b.cloud];
    // (a batch's buffer is as long as the memory was when the batch came: it grows with the held buffers)
    const buf = b.src.buffer;
    if (!(buf instanceof SharedArrayBuffer) || buf.byteLength < this.ringBytes) return false;
    for (const c of columns) if (c.buffer !== buf) return false;
    this.holdColumnsOf(columns);
    this.readsStage = false;
    return true;
  }

  private holdColumnsOf(columns: readonly ArrayBufferView[]): void {
    const at = columns.map((c) => c.byteOffset);
    this.ex.holdColumns(at[0]!, at[1]!, at[2]!, at[3]!, at[4]!, at[5]!, at[6]!, at[7]!, at[8]!, at[9]!, at[10]!, at[11]!);
  }

  /** Hold staged records from .. n (assembly/scan-held.ts holdStaged): the record it stopped at; holdStopped, holdHeld say why and how many. */
  holdStaged(from: number, n: number): number {
    return this.ex.holdStaged(from, n);
  }

  holdStopped(): number {
    return this.ex.holdStopped();
  }

  holdHeld(): number {
    return this.ex.holdHeld();
  }

  /** Rows of the last holdStaged whose IPv6 address words are still to be written (v6List). */
  holdV6(): number {
    return this.ex.holdV6();
  }

  /** A new batch: the window cache starts again (KeyBuilder.ofBatch's windowOf.reset). */
  resetWindow(): void {
    this.ex.resetWindow();
  }

  /** The window of a start, from the cache the module keys its records with. */
  windowOf(start: number): number {
    return this.ex.windowOf(start);
  }
}

/**
 * A held buffer of `rows` (parts of `partCap`) in WebAssembly memory; null where the JavaScript
 * path runs or no memory can be had. `inRing`: the buffer may take the thread's place in the
 * batch ring's memory (ringHeldArena), so that it reads the ring's batches in place.
 */
export function heldSorter(rows: number, partCap: number, windowSeconds: number, inRing = false): HeldSorter | null {
  const m = heldModule();
  if (m === null) return null;
  const ring = inRing ? ringHeldArena() : null;
  try {
    return new HeldSorter(m, rows, partCap, windowSeconds, ring);
  } catch {
    if (ring === null) return null;
    try {
      return new HeldSorter(m, rows, partCap, windowSeconds);
    } catch {
      return null;
    }
  }
}

/** A held buffer's place in a ring's memory: where it starts, and the module over that memory with room for `bytes` past it. */
interface RingHeld {
  id: number;
  /** the ring's slots' buffer's length (its batches' buffers are at least as long) */
  bytes: number;
  at: number;
  arena(bytes: number): Arena;
}

/** The engine's batch ring's memory, as the shard thread was given it (useRingMemory); lent to one held buffer. */
let ringGiven: { memory: WebAssembly.Memory; id: number; bytes: number } | null = null;

/**
 * The batch ring's shared memory (flow/batch-ring.ts), given to this shard thread: the first
 * held buffer of full size that asks for it (ringHeldArena) is placed there, past the ring's
 * slots, and reads the ring's batches where the parse threads wrote them (HeldSorter.readsInPlace)
 * instead of copying each stage of their columns (~6 % of the shard thread on the 7 M bucket:
 * bench/RESULTS.md, session 19 stagecopy).
 */
export function useRingMemory(memory: WebAssembly.Memory, id: number, bytes: number): void {
  ringGiven = { memory, id, bytes };
}

/**
 * The ring's memory for one held buffer of the thread, once: its place is added at the
 * memory's end (memory.grow: a shared memory's buffer is not detached, and each thread's
 * growth is its own place), and stays the buffer's while the memory lives, so a later
 * buffer (a table after a spill) takes a memory of its own, as before. null: none given,
 * lent already, without the shared module, or no room.
 */
function ringHeldArena(): RingHeld | null {
  const given = ringGiven;
  const module = given === null ? null : sharedModule();
  if (given === null || module === null) return null;
  ringGiven = null;
  const { memory, id, bytes } = given;
  const at = memory.buffer.byteLength;
  return {
    id,
    bytes,
    at,
    arena(bytes: number): Arena {
      // another thread's place taken at the same moment: this one goes to a memory of its own (the pages grown are address space only)
      if (memory.grow(Math.ceil(bytes / PAGE)) * PAGE !== at) throw new RangeError('the ring memory grew meanwhile');
      return arenaOver(module, memory);
    },
  };
}
