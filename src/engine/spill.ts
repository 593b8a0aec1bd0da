/**
 * Bounded accumulator memory (--max-memory). A flood of spoofed random sources makes one
 * scan-table entry per record; without a bound the process would grow until it dies.
 *
 * Each shard gets maxBytes / workers and turns it into an entry limit (the largest table
 * capacity, counted in the table's own bytes per entry, that fits). When the next batch
 * could pass the limit:
 *
 * - spill (default): the table is written to a spill file partitioned by source address
 *   (SPILL_PARTITIONS partitions from the address hash's bits above the shard bucket, so a
 *   key is always in exactly one partition), and the shard starts a fresh table. At the
 *   end the partitions are merged back a group at a time (each group sized to the limit)
 *   and finalised: every entry adds exactly, so the verdicts are those an unbounded run
 *   gives. The spill blocks are the replay format's lz4 column blocks (kind 'entries').
 * - drop (--no-spill): partitions are dropped in a fixed order, the highest index first
 *   (BoundedAccumulator.keepBelow: the same ones whatever the order records arrive in),
 *   until the rest fit: their entries leave the table and every later inbound record of a
 *   source in them is counted and skipped. So exactly the keys of the sources in the dropped partitions are
 *   missing, and the report names the partitions, their evicted keys and entries and the
 *   records skipped.
 */
import { closeSync, mkdirSync, openSync, readdirSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import type { FlowBatchData } from '../flow/batch.js';
import { Feed } from '../flow/types.js';
import { hashAddress } from '../flow/hash.js';
import { ScanTable } from './scan-table.js';
import { COUNT_VALUES, DST, ENTRY_BYTES, ENTRY_WORDS, EP, F_DST6, F_SRC6, indexSlots, MAX_TABLE_ENTRIES, RF, SRC, type ScanTableState } from './scan-layout.js';
import { PENDING_ROW_BYTES } from './scan-ingest.js';
import type { FinalizeOptions, FinalizeResult } from './verdict.js';
import type { SplitFinalise } from './scan-finalise.js';
import { tailSplitFits } from './tail.js';
import { decodeBlock, encodeBlock } from '../replay/block.js';
import { OUTBOUND_BYTES_BOUND, type OutboundDrop } from './outbound-table.js';
import type { BlockRows } from '../replay/row-codec.js';

export const SPILL_PARTITIONS = 256;
const ENTRIES_KIND = 'entries';
const MIN_ENTRIES = 1024;
/** The outbound table's entries at least, whatever the limit (tests use tiny limits). */
const MIN_OUTBOUND_ENTRIES = 4096;

export interface MemoryLimits {
  /** accumulator bytes for this shard */
  maxBytes: number;
  spill: boolean;
  dir: string;
  shard: number;
  /** worker count: the tables lay their index out for this shard's buckets (scan-table.ts) */
  shards?: number;
  /** The engine's part of its spill files' names (spillPrefix), so that it removes its own on close. */
  owner?: string;
}

/**
 * Where spill files go without --spill-dir: a folder of their own in the temporary folder
 * (made at the first spill). Every run looks there for the files of killed runs
 * (removeOrphanSpills); in the temporary folder itself that look read all of it at every
 * start, 5 ms of CPU with the ~9,000 entries of a shared machine's /tmp (bench/RESULTS.md,
 * "V8's share and the fixed cost of a run").
 */
export function defaultSpillDir(): string {
  return join(tmpdir(), 'flowsieve-spill');
}

/** The start of the names of the spill files of one engine of this process. */
export function spillPrefix(owner: string): string {
  return `.flowsieve-spill-${process.pid}-${owner}-`;
}

/** Remove the spill files of one engine (closed, or the process stopping on a signal). */
export function removeSpills(dir: string, owner: string): void {
  const prefix = spillPrefix(owner);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) if (name.startsWith(prefix)) rmSync(join(dir, name), { force: true });
}

export type MemoryTask = { op: 'memoryLimits'; limits: MemoryLimits };

/** Default --max-memory: half of the memory this process may use (its cgroup limit, else the machine's). */
export function defaultMaxMemory(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const mem = constrained && constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  return Math.floor(mem / 2);
}

/** The shards' memory reports as one (for the run's summary). */
export interface RunMemoryReport {
  limit_bytes: number;
  limit_entries_per_shard: number;
  peak_table_bytes: number;
  spills: number;
  spilled_entries: number;
  spill_bytes: number;
  merge_groups: number;
  /** --no-spill: dropped (shard, partition)s. A source is in one when its address hash h has (h & 4095) % workers = shard and (h >>> 12) & 255 = partition. */
  dropped: Array<DroppedPartition & { shard: number }>;
  dropped_keys: number;
  dropped_entries: number;
  dropped_records: number;
  /** the outbound table's limit (an eighth of a shard's bytes); past it, records of new entries are counted here, not added */
  outbound_limit_entries_per_shard: number;
  outbound_dropped_records: number;
  /** the hosts whose outbound records were dropped (the first 100 of each shard) */
  outbound_dropped: Array<OutboundDrop & { shard: number }>;
}

export function mergeMemoryReports(reports: Array<MemoryReport | undefined>): RunMemoryReport {
  const rs = reports.map((r, shard) => ({ shard, r })).filter((x): x is { shard: number; r: MemoryReport } => x.r !== undefined);
  const dropped = rs.flatMap(({ shard, r }) => r.dropped.map((d) => ({ shard, ...d })));
  const sum = (f: (r: MemoryReport) => number) => rs.reduce((s, x) => s + f(x.r), 0);
  return {
    limit_bytes: sum((r) => r.limitBytes),
    limit_entries_per_shard: rs[0]?.r.limitEntries ?? 0,
    peak_table_bytes: sum((r) => r.peakTableBytes),
    spills: sum((r) => r.spills),
    spilled_entries: sum((r) => r.spilledEntries),
    spill_bytes: sum((r) => r.spillBytes),
    merge_groups: sum((r) => r.mergeGroups),
    dropped,
    dropped_keys: dropped.reduce((s, d) => s + d.keys, 0),
    dropped_entries: dropped.reduce((s, d) => s + d.entries, 0),
    dropped_records: dropped.reduce((s, d) => s + d.records, 0),
    outbound_limit_entries_per_shard: rs[0]?.r.outboundLimitEntries ?? 0,
    outbound_dropped_records: sum((r) => r.outboundDroppedRecords),
    outbound_dropped: rs.flatMap(({ shard, r }) => r.outboundDropped.map((d) => ({ shard, ...d }))),
  };
}

export function isMemoryTask(task: { op: string }): task is MemoryTask {
  return task.op === 'memoryLimits';
}

export interface DroppedPartition {
  partition: number;
  keys: number; // distinct keys evicted from memory
  entries: number; // (key, endpoint, region) entries evicted
  records: number; // inbound records of the partition's sources that were not counted (evicted and later ones)
}

export interface MemoryReport {
  limitBytes: number;
  limitEntries: number;
  peakTableBytes: number;
  spills: number;
  spilledEntries: number;
  spillBytes: number;
  mergeGroups: number;
  dropped: DroppedPartition[];
  /** the outbound table's: set by the shard worker, which owns that table */
  outboundLimitEntries: number;
  outboundDroppedRecords: number;
  outboundDropped: OutboundDrop[];
}

/** The partition of a source address (words) among SPILL_PARTITIONS: hash bits above the bucket. */
export function spillPartitionOf(words: ArrayLike<number>, o: number): number {
  return (hashAddress(words, o) >>> 12) & (SPILL_PARTITIONS - 1);
}

/** Table bytes at capacity c (ScanTable: ENTRY_BYTES an entry, an index of one u32 per slot at load <= INDEX_LOAD). */
function tableBytesAt(c: number): number {
  return c * ENTRY_BYTES + indexSlots(c) * 4;
}

/** Largest doubling of the initial capacity (16384) whose table fits in maxBytes. */
export function entryLimit(maxBytes: number): number {
  let c = 1 << 14;
  while (tableBytesAt(c * 2) <= maxBytes) c *= 2;
  if (tableBytesAt(c) > maxBytes) {
    // below the default initial capacity: the largest capacity that fits (tests use tiny limits)
    c = MIN_ENTRIES;
    while (tableBytesAt(c + 1024) <= maxBytes) c += 1024;
  }
  return Math.min(c, MAX_TABLE_ENTRIES);
}

interface SpillFile {
  fd: number;
  path: string;
  bytes: number;
}

interface RunPart {
  offset: number;
  length: number;
  entries: number;
}

export class BoundedAccumulator {
  private limits: MemoryLimits | null = null;
  private limitEntries = Infinity;
  private pendingLimit = Infinity;
  private outboundLimit = Infinity;
  private file: SpillFile = { fd: -1, path: '', bytes: 0 };
  private files = 0;
  private spilledBytes = 0; // written over the run, in all spill files
  /** windows with entries in the spill file (what is left of them after a finalisation) */
  private windowsOnDisk = new Set<number>();
  private readonly runs: RunPart[][] = [];
  private dropped: Uint8Array | null = null;
  private readonly droppedInfo = new Map<number, DroppedPartition>();
  private readonly words = new Uint32Array(4);
  /** buffers a spill works in, kept from one spill to the next (fresh ones were garbage the collector freed late) */
  private readonly scratch = new SpillScratch();
  private spilledEntries = 0;
  private peakBytes = 0;

  configure(limits: MemoryLimits): void {
    this.limits = limits;
    // an eighth of the limit for the records the table holds back (scan-table.ts addBatch),
    // an eighth for the outbound table, the rest for inbound entries
    const eighth = Math.floor(limits.maxBytes / 8);
    this.pendingLimit = Math.floor(eighth / PENDING_ROW_BYTES);
    this.outboundLimit = Math.max(MIN_OUTBOUND_ENTRIES, Math.floor(eighth / OUTBOUND_BYTES_BOUND));
    this.limitEntries = entryLimit(limits.maxBytes - this.pendingLimit * PENDING_ROW_BYTES - eighth);
  }

  /** Add a batch to `t`, first spilling or dropping when it could pass the limit. Returns the table to use from now on. */
  add(t: ScanTable, batch: FlowBatchData, oneBucket = false): ScanTable {
    // a parse sink's outbound batch (flow/sink.ts lanes): no room to make for it
    if ((batch.feeds & Feed.inbound) === 0) return t;
    if (!this.limits) {
      t.addBatch(batch, oneBucket);
      return t;
    }
    if (this.oversized(t)) t = this.freshTable(t);
    if (!this.limits.spill) return this.addKept(t, this.dropped ? this.maskDropped(batch) : batch, oneBucket);
    const b = batch;
    const slack = Math.max(1, Math.floor(this.limitEntries / 16));
    let from = 0;
    while (from < b.n) {
      // records the table holds back count as new entries until it adds them
      const room = this.limitEntries - t.entriesBound;
      const left = b.n - from;
      if (room < Math.min(left, slack)) {
        if (t.entriesBound > t.n) continue; // (reading n added them: room is now exact)
        t = this.relieve(t);
        continue;
      }
      const take = Math.min(room, left);
      t.addBatch(take === b.n ? b : slice(b, from, take), oneBucket);
      from += take;
    }
    this.peakBytes = Math.max(this.peakBytes, t.bytes);
    return t;
  }

  /**
   * Add a replay block's inbound rows read in place (ScanTable.addRows). When they might
   * not fit, or partitions were dropped, the block is expanded and takes add()'s way.
   */
  addRows(t: ScanTable, rows: BlockRows, bucket: number, expand: () => FlowBatchData): ScanTable {
    if (this.limits && (this.dropped || rows.n > this.limitEntries - t.entriesBound || this.oversized(t))) return this.add(t, expand(), true);
    t.addRows(rows, bucket);
    this.peakBytes = Math.max(this.peakBytes, t.bytes);
    return t;
  }

  /** An empty table larger than the limit (a limit below the default capacity): to be replaced by one of the limit's size. */
  private oversized(t: ScanTable): boolean {
    if (t.entriesBound !== 0) return false;
    // below the default capacity, the default table's index alone runs past the share the limit gives it
    return t.bytes > this.limits!.maxBytes || (this.limitEntries < 1 << 14 && t.bytes > indexSlots(this.limitEntries) * 4);
  }

  /**
   * finalize shared with another thread (ScanTable.finalizeSplit), with the table's size and memory report;
   * null where this shard spilled (its partitions are finalised a group at a time: finalize),
   * the tables are small (tail.ts tailSplitFits, `outboundEntries` the shard's outbound table's) or it cannot be split.
   */
  finalizeSplit(t: ScanTable, opts: FinalizeOptions, outboundEntries = 0): { split: SplitFinalise; tableBytes: number; tableEntries: number; memory: MemoryReport } | null {
    if (this.runs.length > 0 || !tailSplitFits(t.n, outboundEntries)) return null;
    this.peakBytes = Math.max(this.peakBytes, t.bytes);
    if (this.limits && !this.limits.spill) this.shed(t); // as finalize does
    const split = t.finalizeSplit(opts);
    return split && { split, tableBytes: t.heldBytes, tableEntries: t.n, memory: this.report(0) };
  }

  /** Finalise everything this shard holds: the table, and the spilled partitions a group at a time. */
  finalize(t: ScanTable, opts: FinalizeOptions): FinalizeResult & { tableBytes: number; tableEntries: number; memory: MemoryReport } {
    this.peakBytes = Math.max(this.peakBytes, t.bytes);
    if (this.limits && !this.limits.spill) this.shed(t); // the last check of keepBelow (see there): a fused part may have become the table unchecked
    if (this.runs.length === 0) {
      const r = t.finalize(opts);
      return { ...r, tableBytes: t.heldBytes, tableEntries: t.n, memory: this.report(0) };
    }
    // the live entries join the spilled ones; then each group of partitions is merged,
    // finalised, and (incremental finalisation: windows up to uptoWindow) what is left of it
    // is written to a new spill file, which replaces the old one: one compacted run
    const incremental = opts.uptoWindow !== undefined;
    this.spill(t);
    const out: FinalizeResult = { verdicts: [], endpointDays: [], keys: 0, entries: 0 };
    const next = incremental ? this.newSpillFile() : null;
    this.windowsOnDisk = new Set(); // written again for what is left
    const compacted: RunPart[] = [];
    let groups = 0;
    let maxBytes = 0;
    let maxEntries = 0;
    // the groups are merged in the shard's own table, emptied for each (its entries are on
    // disk now): a second table beside it held up to twice the limit (issue 16 item 5)
    const g = t;
    for (const group of this.mergeGroups()) {
      g.clear();
      for (const p of group) for (const run of this.runs) if (run[p]) g.mergeState(this.readPart(run[p]!));
      const r = g.finalize(opts);
      out.verdicts.push(...r.verdicts);
      out.endpointDays.push(...r.endpointDays); // sources (so keys) of different groups are disjoint
      out.keys += r.keys;
      out.entries += r.entries;
      maxBytes = Math.max(maxBytes, g.heldBytes);
      this.peakBytes = Math.max(this.peakBytes, g.bytes);
      maxEntries = Math.max(maxEntries, g.n);
      groups++;
      if (next) this.writeRun(g, next).forEach((part, p) => (compacted[p] = part));
    }
    t.clear(); // what is left is on disk (incremental), or the run is over
    const memory = this.report(groups);
    const windowsLeft = this.windowsOnDisk;
    this.close();
    if (next) {
      this.file = next;
      this.windowsOnDisk = windowsLeft;
      if (compacted.length > 0) this.runs.push(compacted);
      else this.close(); // nothing left on disk
    }
    return { ...out, tableBytes: maxBytes, tableEntries: maxEntries, memory };
  }

  /** Windows with spilled entries (the shard's 'stats' lists them with the table's). */
  spilledWindows(): number[] {
    return [...this.windowsOnDisk];
  }

  /**
   * The spilled partitions grouped into export pieces: consecutive partitions until a piece
   * holds a quarter of the table's entry limit (at least 4,096 entries), so that a piece
   * stays a fraction of --max-memory and an export is not thousands of round trips. A
   * function of what is on disk, so the same between one export's calls.
   */
  spilledPieces(): RunPart[][] {
    const budget = Math.max(1 << 12, Number.isFinite(this.limitEntries) ? Math.floor(this.limitEntries / 4) : 1 << 20);
    const pieces: RunPart[][] = [];
    let cur: RunPart[] = [];
    let entries = 0;
    for (const part of this.spilledParts()) {
      if (cur.length > 0 && entries + part.entries > budget) {
        pieces.push(cur);
        cur = [];
        entries = 0;
      }
      cur.push(part);
      entries += part.entries;
    }
    if (cur.length > 0) pieces.push(cur);
    return pieces;
  }

  /**
   * The i-th piece's partitions, read back from disk: self-contained states (entries of one
   * key in several of them add up when merged).
   */
  spilledPiece(i: number): ScanTableState[] {
    const pieces = this.spilledPieces();
    const piece = pieces[i];
    if (!piece) throw new Error(`no spilled piece ${i} (${pieces.length} on disk)`);
    return piece.map((part) => this.readPart(part));
  }

  private spilledParts(): RunPart[] {
    return this.runs.flatMap((run) => run.filter((part): part is RunPart => part !== undefined));
  }

  /**
   * Merge a state into the table the way add() adds records: first spilling (or dropping)
   * when it could pass the limit. Returns the table to use from now on.
   */
  merge(t: ScanTable, st: ScanTableState, only?: { shard: number; shards: number }): ScanTable {
    if (this.limits && !this.limits.spill) {
      t.mergeState(st, only);
      this.shed(t); // the state may hold entries of dropped partitions, or fill the table
      this.peakBytes = Math.max(this.peakBytes, t.bytes);
      return t;
    }
    if (this.limits && st.n > this.limitEntries - t.entriesBound) {
      t.flush();
      if (st.n > this.limitEntries - t.n) t = this.relieve(t);
    }
    t.mergeState(st, only);
    this.peakBytes = Math.max(this.peakBytes, t.bytes);
    return t;
  }

  /** Remove the spill file (end of the run, or a failure). */
  close(): void {
    const f = this.file;
    if (f.fd >= 0) closeSync(f.fd);
    if (f.path) rmSync(f.path, { force: true });
    this.file = { fd: -1, path: '', bytes: 0 };
    this.runs.length = 0;
    this.windowsOnDisk = new Set();
  }

  private newSpillFile(): SpillFile {
    const l = this.limits!;
    if (this.files === 0) {
      mkdirSync(l.dir, { recursive: true }); // the default folder (defaultSpillDir) is made by the first spill
      removeOrphanSpills(l.dir);
    }
    const path = join(l.dir, `${spillPrefix(l.owner ?? 'x')}${l.shard}-${Date.now().toString(36)}-${++this.files}`);
    return { fd: openSync(path, 'w+'), path, bytes: 0 };
  }

  private report(groups: number): MemoryReport {
    return {
      limitBytes: this.limits?.maxBytes ?? 0,
      limitEntries: Number.isFinite(this.limitEntries) ? this.limitEntries : 0,
      peakTableBytes: this.peakBytes,
      spills: this.runs.length,
      spilledEntries: this.spilledEntries,
      spillBytes: this.spilledBytes,
      mergeGroups: groups,
      // partitions past the cut-off that never had a record are left out
      dropped: [...this.droppedInfo.values()].filter((d) => d.records > 0).sort((a, b) => a.partition - b.partition),
      outboundLimitEntries: this.limits ? this.outboundLimit : 0,
      outboundDroppedRecords: 0,
      outboundDropped: [],
    };
  }

  private relieve(t: ScanTable): ScanTable {
    this.spill(t);
    t.clear();
    return t;
  }

  /** The most records the inbound table may hold back (no limit configured: unbounded). */
  pendingRowLimit(): number {
    return this.pendingLimit;
  }

  /** The most entries the outbound table may hold (no limit configured: unbounded). */
  outboundEntryLimit(): number {
    return this.limits ? this.outboundLimit : Infinity;
  }

  /** The most entries the inbound table may hold in memory (no limit configured: unbounded). */
  entryLimit(): number {
    return this.limits ? this.limitEntries : Infinity;
  }

  private freshTable(like: ScanTable): ScanTable {
    // in WebAssembly memory or JavaScript arrays as `like` (null: arrays; undefined: the default)
    return new ScanTable(like.windowSeconds, Math.min(this.limitEntries, 1 << 24), like.shards, like.pendingRows, like.arena === null ? null : undefined);
  }

  /** Each entry's spill partition, and the entries of each partition (counting sort). */
  private partitions(t: ScanTable): { start: Int32Array; order: Int32Array } {
    const n = t.n;
    const part = this.scratch.partOf(n);
    const start = new Int32Array(SPILL_PARTITIONS + 1);
    for (let e = 0; e < n; e++) {
      t.v6.wordsOf(t.srcA(e), (t.flags(e) & F_SRC6) !== 0, this.words);
      part[e] = spillPartitionOf(this.words, 0);
      start[part[e]! + 1]!++;
    }
    for (let p = 0; p < SPILL_PARTITIONS; p++) start[p + 1]! += start[p]!;
    const fill = start.slice(0, SPILL_PARTITIONS);
    const order = this.scratch.orderOf(n);
    for (let e = 0; e < n; e++) order[fill[part[e]!]!++] = e;
    return { start, order };
  }

  private spill(t: ScanTable): void {
    if (t.n === 0) return;
    if (this.file.fd < 0) this.file = this.newSpillFile();
    this.runs.push(this.writeRun(t, this.file));
    this.spilledEntries += t.n;
  }

  /** The table's entries into `file`, one block per spill partition. */
  private writeRun(t: ScanTable, file: SpillFile): RunPart[] {
    for (const w of t.windows()) this.windowsOnDisk.add(w);
    const { start, order } = this.partitions(t);
    const state = t.viewState(); // read before the table changes again
    const run: RunPart[] = [];
    for (let p = 0; p < SPILL_PARTITIONS; p++) {
      const ids = order.subarray(start[p]!, start[p + 1]!);
      if (ids.length === 0) continue;
      const frame = encodeEntries(state, ids, p, this.scratch);
      writeSync(file.fd, frame, 0, frame.length, file.bytes);
      run[p] = { offset: file.bytes, length: frame.length, entries: ids.length };
      file.bytes += frame.length;
      this.spilledBytes += frame.length;
    }
    return run;
  }

  private readPart(r: RunPart): ScanTableState {
    const frame = Buffer.allocUnsafe(r.length);
    if (readSync(this.file.fd, frame, 0, r.length, r.offset) !== r.length) throw new Error(`spill file ${this.file.path} is shorter than written`);
    return decodeEntries(frame);
  }

  /** Consecutive partitions whose spilled entries (an upper bound of their distinct entries) fit the limit. */
  private mergeGroups(): number[][] {
    const groups: number[][] = [];
    let cur: number[] = [];
    let size = 0;
    for (let p = 0; p < SPILL_PARTITIONS; p++) {
      const n = this.runs.reduce((s, run) => s + (run[p]?.entries ?? 0), 0);
      if (n === 0) continue;
      if (cur.length > 0 && size + n > this.limitEntries) {
        groups.push(cur);
        cur = [];
        size = 0;
      }
      cur.push(p);
      size += n;
    }
    if (cur.length) groups.push(cur);
    return groups;
  }

  /**
   * --no-spill: add a batch (its rows of dropped partitions already masked) in steps that
   * keep the table within the limit, shedding partitions when it reaches the drop threshold.
   */
  private addKept(t: ScanTable, b: FlowBatchData, oneBucket: boolean): ScanTable {
    let from = 0;
    while (from < b.n) {
      // entriesBound >= n: read n (which adds the held-back records) only near the threshold
      if (t.entriesBound >= this.dropThreshold()) this.shed(t);
      const take = Math.min(this.limitEntries - t.entriesBound, b.n - from); // >= 1: after shed, n < threshold < limit
      t.addBatch(take === b.n ? b : slice(b, from, take), oneBucket);
      from += take;
    }
    this.peakBytes = Math.max(this.peakBytes, t.bytes);
    return t;
  }

  /** --no-spill: the table sheds partitions once it holds this many entries (a sixteenth below the limit: room for the next step). */
  private dropThreshold(): number {
    return this.limitEntries - Math.max(1, Math.floor(this.limitEntries / 16));
  }

  /**
   * --no-spill: partitions are kept below a cut-off, `keepBelow`, and dropped from it up
   * (a fixed order: the partition's index, never its size or arrival). When the table holds
   * `dropThreshold()` (T) entries or more, or entries of partitions at or past the cut-off
   * (a merged state's), the cut-off falls to the largest c <= keepBelow for which the entries
   * of partitions below c number fewer than T; the entries from c up leave (counted) and
   * later inbound records of those partitions are counted and skipped (maskDropped).
   *
   * Why the final cut-off does not depend on order, batch size or timing: let E(c) be the
   * distinct entries of partitions below c in this shard's whole input (no entry leaves the
   * table before the end in detect), and c* the largest c with E(c) < T.
   * - keepBelow >= c* always: the table holds at most E(c*) < T entries below c*, so a
   *   fall stops at c* or above.
   * - at the end (finalize sheds last) keepBelow <= c*: partitions below the final cut-off
   *   were never dropped, so the table holds all E(keepBelow) of their entries, and after
   *   the shed those are fewer than T.
   * So the final cut-off is c*, the kept sources' entries are complete (their verdicts those
   * of an unbounded run) and the dropped ones absent. Each inbound record of a dropped
   * partition is counted once (in an evicted entry or masked), so `records` is fixed too;
   * `keys` and `entries` (evicted from memory, summed over the evictions) follow timing.
   * E depends on the shard (--workers splits the limit and the sources), so the dropped set
   * does too; the sidecar's incremental finalisation (entries leave before the end) is not
   * covered by this argument.
   */
  private keepBelow = SPILL_PARTITIONS;

  /** --no-spill: lower keepBelow if the table calls for it (see there), evicting the entries from it up, in place. */
  private shed(t: ScanTable): void {
    const T = this.dropThreshold();
    if (this.keepBelow === SPILL_PARTITIONS && t.n < T) return;
    const { start, order } = this.partitions(t);
    let cut = this.keepBelow;
    while (start[cut]! >= T) cut--;
    if (cut === this.keepBelow && start[cut] === t.n) return; // nothing at or past the cut-off
    this.dropped ??= new Uint8Array(SPILL_PARTITIONS);
    for (let p = cut; p < SPILL_PARTITIONS; p++) {
      this.dropped[p] = 1;
      if (start[p + 1] === start[p]) {
        if (!this.droppedInfo.has(p)) this.droppedInfo.set(p, { partition: p, keys: 0, entries: 0, records: 0 }); // for maskDropped's counts
        continue;
      }
      const c = evictedCounts(t, order.subarray(start[p]!, start[p + 1]!));
      const d = this.droppedInfo.get(p);
      if (d) {
        d.keys += c.keys;
        d.entries += c.entries;
        d.records += c.records;
      } else this.droppedInfo.set(p, { partition: p, ...c });
    }
    this.keepBelow = cut;
    // the entries from the cut-off up leave in place (a copy into a fresh table cost 3x the CPU of the run)
    const keep = new Uint8Array(t.n).fill(1);
    for (let k = start[cut]!; k < t.n; k++) keep[order[k]!] = 0;
    t.retain(keep);
  }

  /** The batch with the inbound bit cleared on rows of dropped partitions (counted); the batch itself is left as it was. */
  private maskDropped(b: FlowBatchData): FlowBatchData {
    const feed = b.feed.slice(0, b.n);
    for (let i = 0; i < b.n; i++) {
      if ((feed[i]! & Feed.inbound) === 0) continue;
      const p = spillPartitionOf(b.src, i * 4);
      if (this.dropped![p]) {
        feed[i]! &= ~Feed.inbound;
        this.droppedInfo.get(p)!.records++;
      }
    }
    return { ...b, feed };
  }
}

/** Rows [from, from+count) of a batch as a batch (views, no copy). */
function slice(b: FlowBatchData, from: number, count: number): FlowBatchData {
  const to = from + count;
  return {
    ...b,
    n: count,
    feed: b.feed.subarray(from, to),
    src: b.src.subarray(from * 4, to * 4),
    dst: b.dst.subarray(from * 4, to * 4),
    proto: b.proto.subarray(from, to),
    sport: b.sport.subarray(from, to),
    dport: b.dport.subarray(from, to),
    tcpFlags: b.tcpFlags.subarray(from, to),
    packets: b.packets.subarray(from, to),
    bytes: b.bytes.subarray(from, to),
    start: b.start.subarray(from, to),
    end: b.end.subarray(from, to),
    cloud: b.cloud.subarray(from, to),
    action: b.action.subarray(from, to),
    direction: b.direction.subarray(from, to),
    account: b.account.subarray(from, to),
    region: b.region.subarray(from, to),
    iface: b.iface.subarray(from, to),
    instance: b.instance.subarray(from, to),
  };
}

function evictedCounts(t: ScanTable, ids: Int32Array): Omit<DroppedPartition, 'partition'> {
  const keys = new Set<string>();
  let records = 0;
  for (const e of ids) {
    keys.add(`${t.srcA(e)}/${t.flags(e) & F_SRC6}/${t.pp(e)}/${t.win(e)}`);
    records += t.f(e);
  }
  return { keys: keys.size, entries: ids.length, records };
}

/**
 * The entries `ids` of a table's state as one self-contained block: account, region and
 * IPv6 ids are rewritten to the block's own small dictionaries, carried with it.
 */
function encodeEntries(st: ScanTableState, ids: Int32Array, partition: number, scratch?: SpillScratch): Buffer {
  const n = ids.length;
  const words = scratch ? scratch.wordsOf(n) : new Uint32Array(n * ENTRY_WORDS);
  const counts = scratch ? scratch.countsOf(n) : new Float64Array(n * COUNT_VALUES);
  const accounts = new LocalIds();
  const regions = new LocalIds();
  const v6 = new LocalIds();
  for (let k = 0; k < n; k++) {
    const from = ids[k]! * ENTRY_WORDS;
    const w = k * ENTRY_WORDS;
    words.set(st.words.subarray(from, from + ENTRY_WORDS), w);
    counts.set(st.counts.subarray(ids[k]! * COUNT_VALUES, (ids[k]! + 1) * COUNT_VALUES), k * COUNT_VALUES);
    const rf = words[w + RF]!;
    const fl = rf >>> 16;
    if (fl & F_SRC6) words[w + SRC] = v6.of(words[w + SRC]!);
    if (fl & F_DST6) words[w + DST] = v6.of(words[w + DST]!);
    const ep = words[w + EP]!;
    words[w + EP] = (((ep >>> 30) << 30) | accounts.of(ep & 0x3fffffff)) >>> 0;
    words[w + RF] = ((rf & 0xffff0000) | regions.of(rf & 0xffff)) >>> 0;
  }
  const v6words = new Uint32Array(v6.ids.length * 4);
  v6.ids.forEach((id, j) => v6words.set(st.v6.subarray(id * 4, id * 4 + 4), j * 4));
  return encodeBlock({
    kind: ENTRIES_KIND,
    rows: n,
    bucket: partition,
    minTime: 0,
    maxTime: 0,
    columns: [['words', words, words.length], ['counts', counts, counts.length], ['v6', v6words, v6words.length]],
    meta: { accounts: accounts.ids.map((id) => st.accounts[id]!), regions: regions.ids.map((id) => st.regions[id]!) },
  });
}

/**
 * A spill's working buffers, grown as needed and reused: a spill is the shard's largest
 * burst of allocation, and buffers it dropped were freed only when the shard's collector
 * next ran, which a thread that allocates little seldom does (issue 16 item 5).
 */
class SpillScratch {
  private part = new Uint16Array(0);
  private order = new Int32Array(0);
  private words = new Uint32Array(0);
  private counts = new Float64Array(0);

  partOf(n: number): Uint16Array {
    if (this.part.length < n) this.part = new Uint16Array(grownTo(n));
    return this.part.subarray(0, n);
  }

  orderOf(n: number): Int32Array {
    if (this.order.length < n) this.order = new Int32Array(grownTo(n));
    return this.order.subarray(0, n);
  }

  /** ENTRY_WORDS words for each of n entries */
  wordsOf(n: number): Uint32Array {
    if (this.words.length < n * ENTRY_WORDS) this.words = new Uint32Array(grownTo(n) * ENTRY_WORDS);
    return this.words.subarray(0, n * ENTRY_WORDS);
  }

  /** COUNT_VALUES values for each of n entries */
  countsOf(n: number): Float64Array {
    if (this.counts.length < n * COUNT_VALUES) this.counts = new Float64Array(grownTo(n) * COUNT_VALUES);
    return this.counts.subarray(0, n * COUNT_VALUES);
  }
}

/** Room for n, rounded up to a power of two (few regrowths). */
function grownTo(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1024, n)));
}

function decodeEntries(frame: Uint8Array): ScanTableState {
  const { header, columns } = decodeBlock(frame, ENTRIES_KIND);
  const meta = header.meta as { accounts: string[]; regions: string[] };
  return {
    n: header.rows,
    words: columns.get('words') as Uint32Array,
    counts: columns.get('counts') as Float64Array,
    v6: columns.get('v6') as Uint32Array,
    accounts: meta.accounts,
    regions: meta.regions,
  };
}

/**
 * Spill files of processes that no longer run (killed before they could remove theirs:
 * a sidecar restarted by its supervisor): removed when this process first spills there.
 */
export function removeOrphanSpills(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^\.flowsieve-spill-(\d+)-/.exec(name);
    if (!m || Number(m[1]) === process.pid || processAlive(Number(m[1]))) continue;
    rmSync(join(dir, name), { force: true });
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

/** Dense local ids for the values of one block. */
class LocalIds {
  readonly ids: number[] = [];
  private readonly map = new Map<number, number>();
  of(id: number): number {
    let l = this.map.get(id);
    if (l === undefined) {
      l = this.ids.length;
      this.ids.push(id);
      this.map.set(id, l);
    }
    return l;
  }
}

