/**
 * The inbound accumulator of one shard (detection.md §3), put together from its layers, as
 * DuckDB's hash aggregate is:
 *   - scan-layout.ts: the entry layout and the exported state's types;
 *   - scan-core.ts: the table core (storage, probe, resize, accumulate);
 *   - scan-ingest.ts: records to keys (one key builder), records held back and added in
 *     bucket order;
 *   - scan-finalise.ts: verdicts and endpoint-days;
 *   - scan-state.ts: export and merge;
 *   - verdict.ts: what finalisation hands out (a leaf, for the many readers).
 * Every reader of the table adds the held records first.
 */
import type { FlowBatchData } from '../flow/batch.js';
import { Feed } from '../flow/types.js';
import type { BlockRows } from '../replay/row-codec.js';
import { ScanCore } from './scan-core.js';
import { type ScanArena, scanArena } from './scan-wasm.js';
import { addBlockRows, addPending, addRecords, HELD_PARTS, HOLD_RUN, holdRange, holdRecord, internHeldV6, KeyBuilder, LastKey, PendingRows, startHeldBatch } from './scan-ingest.js';
import { HOLD_DONE, HOLD_MAP_CAP, HOLD_RECORD } from './scan-wasm.js';
import { finalizeTable, finalizeTableSplit, type SplitFinalise } from './scan-finalise.js';
import { exportState, mergeState, viewState } from './scan-state.js';
import { ENTRY_BYTES, type ScanTableState, type ShardFilter } from './scan-layout.js';
import type { FinalizeOptions, FinalizeResult } from './verdict.js';

export class ScanTable extends ScanCore {
  /** records taken but not yet added: see addBatch */
  private pending: PendingRows | null = null;
  private readonly keys: KeyBuilder;
  private readonly lastKey = new LastKey();

  /**
   * `shards`: which buckets the table holds (ScanCore). `pendingRows`: the most records
   * addBatch holds back to add in bucket order (0: add each batch at once). `arena`: where
   * the table lives and the held records are added (scan-wasm.ts): by default WebAssembly
   * memory for a table that holds records back (unless FLOWSIEVE_ACCUMULATE=js), null for
   * JavaScript arrays.
   */
  constructor(
    windowSeconds: number,
    initialCapacity = 1 << 14,
    shards = 1,
    readonly pendingRows = 0,
    arena: ScanArena | null = pendingRows > 0 ? scanArena() : null,
  ) {
    // the scratch for a part of the largest held buffer laid out with the table: later, a larger one moves the table
    super(windowSeconds, initialCapacity, shards, arena?.withScratch(Math.ceil(pendingRows / HELD_PARTS)) ?? null);
    this.keys = new KeyBuilder(this);
  }

  /** Bytes allocated by the table (entries at capacity, index, IPv6 interning, pending records). */
  get bytes(): number {
    return this.u.byteLength + this.d.byteLength + this.index.byteLength + this.v6.bytes + (this.pending?.bytes ?? 0);
  }

  /**
   * Bytes the table holds in memory: the entries in use (capacity not yet written is
   * address space the system has not backed with memory), the index, IPv6 interning and
   * the rows of the pending records' buffer written so far (the same reason).
   */
  get heldBytes(): number {
    return this.count * ENTRY_BYTES + this.index.byteLength + this.v6.bytes + (this.pending?.heldBytes ?? 0);
  }

  /** Entries held (adds the pending records first). */
  get n(): number {
    this.flush();
    return this.count;
  }

  /** Forget every entry (they were written elsewhere: a spill); dictionaries are kept. */
  clear(): void {
    this.pending?.clear();
    this.count = 0;
    this.index.fill(0);
  }

  /** At most this many entries once the pending records are added (does not add them). */
  get entriesBound(): number {
    return this.count + (this.pending?.n ?? 0);
  }

  /**
   * Add every inbound record of a batch. Records of many buckets (parsed text) are held
   * back and added later in bucket order, a few hundred thousand at a time: a bucket's
   * index region and its newest entries are then in cache for its next hundred records,
   * where records in arrival order each miss cache and TLB twice in a table of hundreds
   * of megabytes. `oneBucket` (a replay block) adds at once: such a batch is local
   * already. The result is the same either way; every reader of the table adds the
   * pending records first.
   */
  addBatch(batch: FlowBatchData, oneBucket = false): void {
    if ((batch.feeds & Feed.inbound) === 0) return; // a parse sink's outbound batch (flow/sink.ts lanes)
    if (oneBucket || this.pendingRows === 0) addRecords(this, this.keys, this.lastKey, batch);
    else this.hold(batch);
  }

  /** Add the inbound rows of one replay block of `bucket`, read in the block's own columns. */
  addRows(r: BlockRows, bucket: number): void {
    addBlockRows(this, this.keys, this.lastKey, r, bucket);
  }

  /** Add the records addBatch held back, in bucket order. */
  flush(): void {
    const p = this.pending;
    if (!p || p.n === 0) return;
    addPending(this, this.lastKey, p);
  }

  /**
   * An early flush (tail.ts): the held records added now if the table holds entries already
   * (its held buffer filled before: the records held since are a pass of their own anyway), or
   * `always`. Into an empty table it would split the one pass of the finalisation in two, and
   * the second pass's lookups meet entries gone cold: GCP's blobs (144 k inbound records, the
   * buffer never full) ran 1.04-1.09× the CPU with both flushes, and 1.08× with one at 50 %
   * (bench/RESULTS.md, session 12, "GCP and the early held flush"). The result is the same
   * either way.
   */
  flushEarly(always: boolean): void {
    if (always || this.count > 0) this.flush();
    // the finalisation comes next: its sort's room backed ahead, for the entries of the rest too (an eighth more)
    this.arena?.roomAhead(this.count + (this.count >> 3));
  }

  /** Keep the batch's inbound records, keyed as the table keys them, to add in bucket order. */
  private hold(batch: FlowBatchData): void {
    const first = Math.min(this.pendingRows, 1 << 14);
    const p = (this.pending ??= this.largest(new PendingRows(first, this.arena !== null ? this.windowSeconds : null, first === this.pendingRows)));
    // (windows of whole seconds: the module's window cache is then exact division, whenever it starts again)
    const inModule = p.sorter !== null && batch.strings.length <= HOLD_MAP_CAP && Number.isInteger(this.windowSeconds);
    const from = inModule ? this.holdInModule(batch) : 0;
    if (from < batch.n) this.holdInJs(batch, from);
    this.pending!.rowsAhead();
    // the first flush's index backed ahead once half the buffer is held (it flushes nearly full)
    if (this.count === 0 && this.pending!.n * 2 >= this.pendingRows) this.indexAhead(this.pending!.n * 2);
  }

  /**
   * Hold the batch's records in WebAssembly (assembly/scan-held.ts holdStaged), read where
   * the batch lies when that is the held buffer's memory (a slot of the batch ring:
   * HeldSorter.readsInPlace), else a stage of its columns at a time; the IPv6 addresses of
   * its rows interned here after each call; the records it stops at (a string not mapped
   * yet) here, one by one. Returns where it left off: batch.n, or the record from which the
   * buffer, grown, is no longer in WebAssembly memory.
   */
  private holdInModule(batch: FlowBatchData): number {
    let p = this.pending!;
    let sorter = p.sorter!;
    startHeldBatch(sorter, batch.strings);
    for (let from = 0; from < batch.n; ) {
      // the module's records are the batch's from `base`: all of it in place, else the stage's
      const inPlace = sorter.readsInPlace(batch);
      const base = inPlace ? 0 : from;
      const n = inPlace ? batch.n : sorter.stageRecords(batch, from);
      let i = from - base;
      for (;;) {
        i = sorter.holdStaged(i, n);
        internHeldV6(this, batch, base, p);
        p.n += sorter.holdHeld();
        const why = sorter.holdStopped();
        if (why === HOLD_DONE) break;
        if (why === HOLD_RECORD && holdRecord(this, this.keys, batch, base + i, p)) {
          i++;
          continue;
        }
        p = this.makeRoom(p); // a part is full
        if (p.sorter === sorter) continue;
        // a larger buffer in a new memory: read or staged again from record i there (or in JavaScript)
        if (p.sorter === null) return base + i;
        sorter = p.sorter;
        startHeldBatch(sorter, batch.strings);
        break;
      }
      from = base + i;
    }
    return batch.n;
  }

  /** Hold records from `start` on in JavaScript (KeyBuilder, holdRange). */
  private holdInJs(batch: FlowBatchData, start: number): void {
    this.keys.ofBatch(batch);
    // in runs of records every part has room for, so that the per-record loop has no rare
    // branch: a branch first taken after the loop is optimised (a part filling up) throws
    // the optimised code away and has it compiled again, a dozen times a run. The buffer
    // grows (or is added) only once a part is full, as it would record by record.
    for (let from = start; from < batch.n; ) {
      let p = this.pending!;
      let free = p.minFree();
      if (free === 0) {
        p = this.makeRoom(p);
        free = p.minFree();
      }
      const to = Math.min(batch.n, from + Math.min(HOLD_RUN, free));
      holdRange(this.keys, batch, from, to, p);
      from = to;
    }
  }

  /**
   * A part of the pending buffer is full: a larger buffer, or (at its largest) its records
   * added. The buffer starts small (a small input keeps a small one) and then grows to its
   * largest at once: growing four times over copied every held record about once more
   * (12 ns a record on the bucket). Rows not yet written cost no memory (the system backs
   * pages as they are first written).
   */
  private makeRoom(p: PendingRows): PendingRows {
    if (p.cap < this.pendingRows) return (this.pending = this.largest(p.grown(this.pendingRows, true)));
    this.flush();
    return p;
  }

  /**
   * The held buffer `p`; at its largest (which it stays), the empty table is laid out in its
   * memory (ScanCore.hostIn): each flush's sorted parts are then added where they were
   * sorted, not copied into the table's memory first (~4 ns a held record).
   */
  private largest(p: PendingRows): PendingRows {
    if (p.cap === this.pendingRows && p.sorter !== null) this.hostIn(p.sorter);
    return p;
  }

  /** Windows present in the table (for incremental finalisation). */
  windows(): number[] {
    this.flush();
    const seen = new Set<number>();
    for (let e = 0; e < this.count; e++) seen.add(this.win(e));
    return [...seen].sort((a, b) => a - b);
  }

  /** Compute every key's features and verdict (detection.md §3): scan-finalise.ts. */
  finalize(opts: FinalizeOptions): FinalizeResult {
    this.flush();
    const r = finalizeTable(this, opts);
    if (opts.drop) this.dropWindowsUpTo(opts.uptoWindow ?? 0xffffffff);
    return r;
  }

  /** The finalisation shared with another thread (scan-finalise.ts finalizeTableSplit); null: finalize whole. */
  finalizeSplit(opts: FinalizeOptions): SplitFinalise | null {
    this.flush();
    return finalizeTableSplit(this, opts);
  }

  /** Remove every entry of windows <= upto (after they were finalised). */
  dropWindowsUpTo(upto: number): void {
    this.flush();
    this.removeWindowsUpTo(upto);
  }

  /** Keep only the entries e with keep[e] !== 0 (--no-spill: spill.ts sheds partitions). */
  retain(keep: Uint8Array): void {
    this.flush();
    this.retainEntries(keep);
  }

  /** The table's contents, for a checkpoint or a merge elsewhere. */
  exportState(): ScanTableState {
    this.flush();
    return exportState(this);
  }

  /** The table's contents in place (no copy), valid until the table next changes: a spill's. */
  viewState(): ScanTableState {
    this.flush();
    return viewState(this);
  }

  /** Add another table's contents to this one: counts add, first/last take min/max. */
  mergeState(s: ScanTableState, only?: ShardFilter): void {
    this.flush();
    mergeState(this, s, only);
  }
}
