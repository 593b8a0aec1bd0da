/**
 * Shard worker (a one-thread piscina pool per shard, so that the same thread, and the
 * same accumulators, receive every batch of the shard). It owns the scan keys of every
 * source address that hashes to its shard: the inbound table (detection.md §3) and the outbound
 * table (detection.md §4), both fed by the same pass over each batch.
 */
import { decodeState, encodeState } from '../src/engine/codec.js';
import { ScanTable } from '../src/engine/scan-table.js';
import type { ScanTableState } from '../src/engine/scan-layout.js';
import { OutboundTable, type OutboundState } from '../src/engine/outbound-table.js';
import { INFLIGHT, LANE_FAILED, type FusedPart, type InboundReply, type OutboundReply, type FusedTask, type LaneTask, type ParseResult, type ShardStats, type ShardTask } from '../src/engine/tasks.js';
import type { FinalizeResult } from '../src/engine/verdict.js';
import type { ReplayShardTask, ReplayTable } from '../src/replay/shard-ops.js';
import { isReplayOp } from '../src/replay/shard-op-names.js';
import { BoundedAccumulator, isMemoryTask } from '../src/engine/spill.js';
import { releaseBatch } from '../src/flow/batch-ring.js';
import { useRingMemory } from '../src/engine/scan-wasm.js';
import { allocBatch, unpackStrings, type FlowBatchData } from '../src/flow/batch.js';

interface ShardState {
  inbound: ScanTable;
  outbound: OutboundTable;
}

let state: ShardState | null = null;
/** worker count of the run (the memoryLimits task says it): how the inbound index is laid out */
let shards = 1;
/** --max-memory: spills or drops the inbound table before it passes its limit (src/engine/spill.ts) */
let bound = new BoundedAccumulator();

/**
 * The inbound table lives in its WebAssembly arena (scan-wasm.ts) in a replay run too, where
 * only finalisation runs in the module (replay rows are added in JavaScript, on its memory):
 * the 20 M-record replay files' shard thread 0.91-0.96x CPU (bench/RESULTS.md, replayarena section).
 */
function stateFor(windowSeconds: number, capacityHint?: number, outboundRows?: number, outboundHint = capacityHint): ShardState {
  // a table sized for the input up front is never rebuilt while it fills
  state ??= {
    inbound: new ScanTable(windowSeconds, tableCapacity(capacityHint), shards, pendingRows(capacityHint)),
    outbound: new OutboundTable(windowSeconds, Math.min(Math.max(outboundCapacity(outboundHint), replayOutbound(outboundRows)), bound.outboundEntryLimit())),
  };
  state.outbound.limitEntries = bound.outboundEntryLimit();
  if (state.inbound.windowSeconds !== windowSeconds) throw new Error('window changed under a live shard');
  return state;
}

/**
 * Records the inbound table holds back to add in bucket order (scan-table.ts addBatch):
 * about 512 a bucket (two million over the 4,096 buckets, 43 bytes each: scan-ingest.ts PENDING_ROW_BYTES), never more than
 * half the table's expected entries (small runs keep small buffers). Measured on a10m at 2
 * workers: 2^20 1.94 M/s, 2^21 2.03 M/s, 2^22 no faster than 2^21 (bench/RESULTS.md). Half,
 * not all: every row of the buffer is memory first touched (a page fault each 4 KiB, ~1.5 us
 * here), and on the bucket (1.5 M expected) the adds of a buffer half as large, added twice
 * as often, cost the same: the held path 0.88-0.95x CPU, v3 file 0.90x, 2 M-record v2 file
 * level (bench/probes/held-phases.ts; bench/RESULTS.md, heldgroup section).
 */
function pendingRows(hint: number | undefined): number {
  const rows = Math.min(Math.max(1 << 12, Math.min(Math.floor((1 << 21) / shards), Math.ceil((hint ?? 0) / 2))), bound.pendingRowLimit());
  return rows >= 256 ? rows : 0; // too few to gain anything: add at once
}

/**
 * The outbound table starts at an eighth of the inbound's expected entries, so it seldom
 * grows: outbound records are a few percent, nearly each a new entry (a scanning host's new
 * target). A sixteenth grew once on the bucket (7.5 % outbound): the copy, the index
 * rebuilt and addRecords and findOrInsert optimised again cost ~11 ms of the shard thread's
 * ~50 ms of outbound adds. Columns not yet written take no memory (the system backs pages
 * as first written); the index (4 bytes a slot) does as it fills.
 */
function outboundCapacity(hint: number | undefined): number {
  return Math.max(1 << 10, Math.min(Math.floor((hint ?? 0) / 8), 1 << 22));
}

/**
 * A replay run's outbound rows for this shard (ReplayBlocksTask.outboundRows): each at most one
 * entry, so a table that large is never rebuilt as it fills. The eighth of the inbound hint
 * (outboundCapacity) fell short on the bucket's shape at 20 M records (1.42 M outbound entries
 * against 1.27 M): the table doubled once, its index rebuilt (~5 % of the shard thread,
 * bench/RESULTS.md, replay section of session 9). Bounded as outboundCapacity is.
 */
function replayOutbound(rows: number | undefined): number {
  return Math.min(rows ?? 0, 1 << 22);
}

function tableCapacity(hint: number | undefined): number {
  return Math.max(1 << 14, Math.min(hint ?? 0, bound.entryLimit(), 1 << 24));
}

/**
 * Replayed blocks: rows the sink would have left out come as batches; the others as whole
 * blocks, whose inbound rows the table reads in place and whose outbound rows (a few
 * percent) the outbound table reads in place too where they are fresh (addBlockRows), else
 * expanded into a batch for it.
 */
const replayTable: ReplayTable = {
  batch: (batch, windowSeconds, capacityHint) => {
    return shardTask({ op: 'add', windowSeconds, batch, capacityHint, oneBucket: true });
  },
  block: (rows, bucket, expand, outbound, windowSeconds, capacityHint, outboundRows) => {
    const s = stateFor(windowSeconds, capacityHint, outboundRows);
    s.inbound = bound.addRows(s.inbound, rows, bucket, expand);
    // a twin holding its whole bucket (only those have smallBelow set) adds keys no other block has
    const fresh = rows.smallBelow > 0;
    const out = outbound((m, c) => s.outbound.addBlockRows(rows, c, m, fresh));
    if (out.n > 0) s.outbound.addBatch(out, fresh);
  },
};

const isReplay = (task: ShardTask): task is ReplayShardTask => isReplayOp(task.op);

/** src/replay/shard-ops.ts, loaded by the first replay task (a run on logs never needs it). */
let replayOps: typeof import('../src/replay/shard-ops.js') | undefined;

export default function shardTask(task: ShardTask): unknown {
  if ('batch' in task) unpackStrings(task.batch); // a parse thread's batch travels with its strings packed (workers/parse.ts postBatch)
  if (task.op === 'lane') return openLane(task);
  if (task.op === 'laneError') return throwLaneError();
  if (isReplay(task) && !replayOps) return firstReplayTask(task);
  if (isFused(task)) return fusedTask(task);
  try {
    return runTask(task);
  } finally {
    // a batch in a slot of the engine's ring: the slot is free for the parse threads again
    if ('batch' in task) releaseBatch(task.batch);
  }
}

/**
 * A parse task's lane (ParseTask.lanes): its batches come here from the parse thread, with no
 * 'add' task relayed by the engine's thread (which cost that thread a message in, a piscina
 * task out and its reply a batch: bench/RESULTS.md, session 17 mainthread). Each is added as
 * an 'add' task is, then counted out of the engine's batches in flight, which wakes the parse
 * threads waiting for room and the engine's drain; an error waits for 'laneError'.
 */
function openLane(lane: LaneTask): undefined {
  const inflight = new Int32Array(lane.inflight);
  const { port, windowSeconds, capacityHint, outboundHint } = lane;
  port.on('message', (batch: FlowBatchData | null) => {
    if (batch === null) return port.close(); // the task's end: every batch before it is added
    try {
      shardTask({ op: 'add', windowSeconds, batch, capacityHint, outboundHint });
    } catch (err) {
      laneError ??= err as Error;
      Atomics.store(inflight, LANE_FAILED, 1);
    } finally {
      Atomics.sub(inflight, INFLIGHT, 1);
      Atomics.notify(inflight, INFLIGHT);
    }
  });
  return undefined;
}

/** The first error a lane's batch met, until 'laneError' throws it. */
let laneError: Error | null = null;

function throwLaneError(): undefined {
  const err = laneError;
  laneError = null;
  if (err) throw err;
  return undefined;
}

/** The first replay task: load its module, then run it as shardTask would (one task at a time a thread). */
async function firstReplayTask(task: ReplayShardTask): Promise<unknown> {
  try {
    replayOps ??= await import('../src/replay/shard-ops.js');
  } catch (err) {
    if ('batch' in task) releaseBatch(task.batch);
    throw err;
  }
  return shardTask(task);
}

function runTask(task: Exclude<ShardTask, { op: 'lane' | 'laneError' } | FusedTask>): unknown {
  // replay blocks (and conversion's blocks to write): src/replay/shard-ops.ts
  if (isReplay(task)) return replayOps!.replayShardOp(task, replayTable);
  if (isMemoryTask(task)) {
    shards = task.limits.shards ?? 1;
    bound.configure(task.limits);
    if (state) state.outbound.limitEntries = bound.outboundEntryLimit();
    return undefined;
  }
  if (task.op === 'reset') return reset();
  if (task.op === 'ringMemory') return useRingMemory(task.memory, task.id, task.bytes);
  if (task.op === 'flushHeld') return state?.inbound.flushEarly(task.always); // a shard with no table yet has nothing held (and takes its size from the first batch)
  const s = task.op === 'add' ? stateFor(task.windowSeconds, task.capacityHint, undefined, task.outboundHint) : stateFor(task.windowSeconds);
  switch (task.op) {
    case 'add':
      addBatchTo(s, task.batch, task.oneBucket === true);
      return task.batch.n;
    case 'finalizeInbound': {
      const split = task.split === true ? bound.finalizeSplit(s.inbound, task.opts, s.outbound.n) : null;
      if (split !== null) {
        // the engine's thread finalises buckets of the share at once; this thread its outbound
        // table first, after the reply, then the buckets left (an immediate each, in that order)
        outboundAhead = new Ahead(() => finalizeOutbound(s, task));
        inboundAhead = new Ahead(split.split.own);
        const { split: { share }, ...rest } = split;
        return { verdicts: [], endpointDays: [], keys: 0, entries: 0, ...rest, share } satisfies InboundReply;
      }
      const r = bound.finalize(s.inbound, task.opts);
      outboundAhead = new Ahead(() => finalizeOutbound(s, task));
      return r satisfies InboundReply;
    }
    case 'finalizeOutbound': {
      const reply = takeOutbound();
      return inboundAhead ? { ...reply, inboundPart: takeInboundPart() } : reply;
    }
    case 'exportPieceCount':
      return 1 + bound.spilledPieces().length;
    case 'exportPiece':
      // entries spilled past --max-memory are part of the state: read back a few partitions
      // a piece, so that an export never holds more than one piece in memory
      if (task.piece === 0) return encodeState({ inbound: s.inbound.exportState(), outbound: s.outbound.exportState() });
      return encodeState({ spilled: bound.spilledPiece(task.piece - 1) });
    case 'import': {
      // one piece of a state (exportPiece): the tables, or spilled partitions
      const st = decodeState<{ inbound?: ScanTableState; outbound?: OutboundState; spilled?: ScanTableState[] }>(task.state);
      const mine = { shard: task.shard, shards: task.shards };
      // merged under --max-memory as records are added: spilling again if they do not fit
      if (st.inbound) s.inbound = bound.merge(s.inbound, st.inbound, mine);
      for (const part of st.spilled ?? []) s.inbound = bound.merge(s.inbound, part, mine);
      if (st.outbound) s.outbound.mergeState(st.outbound, mine);
      return s.inbound.n + s.outbound.n;
    }
    case 'stats': {
      const windows = [...new Set([...s.inbound.windows(), ...bound.spilledWindows()])].sort((x, y) => x - y);
      const stats: ShardStats = { entries: s.inbound.n + s.outbound.n, bytes: s.inbound.bytes + s.outbound.bytes, windows };
      return stats;
    }
  }
}

/**
 * Work begun in an immediate, which runs once the reply of the task that began it is posted,
 * and taken by a later task: done there instead where the immediate has not run yet; the
 * same work either way (an error it threw is thrown by the task that takes it).
 */
class Ahead<T> {
  private immediate: NodeJS.Immediate | undefined;
  private result: T | undefined;
  private error: unknown;

  constructor(private readonly work: () => T) {
    this.immediate = setImmediate(() => {
      this.immediate = undefined;
      try {
        this.result = work();
      } catch (err) {
        this.error = err;
      }
    });
  }

  take(): T {
    if (this.immediate) {
      this.cancel();
      return this.work();
    }
    if (this.error !== undefined) throw this.error;
    return this.result!;
  }

  cancel(): void {
    if (this.immediate) clearImmediate(this.immediate);
    this.immediate = undefined;
  }
}

/**
 * The outbound finalisation, begun once the inbound reply is posted, not when its own task
 * comes: that waits for the main thread to receive the reply (~6 ms on the bucket).
 * 'finalizeOutbound', queued behind, takes its reply.
 */
let outboundAhead: Ahead<OutboundReply> | null = null;

/**
 * The shard's own part of a shared inbound finalisation (tail.ts): the buckets left after
 * its outbound finalisation (an immediate after that one's); 'finalizeOutbound' takes it
 * with its reply: one message fewer than a task of its own, which waited behind that one.
 */
let inboundAhead: Ahead<FinalizeResult> | null = null;

type FinalizeInboundTask = Extract<ShardTask, { op: 'finalizeInbound' }>;

function takeOutbound(): OutboundReply {
  const ahead = outboundAhead;
  if (!ahead) throw new Error("'finalizeOutbound' without a 'finalizeInbound' before it");
  outboundAhead = null;
  return ahead.take();
}

function takeInboundPart(): FinalizeResult {
  const ahead = inboundAhead;
  if (!ahead) throw new Error('no shared inbound finalisation to take');
  inboundAhead = null;
  return ahead.take();
}

function finalizeOutbound(s: ShardState, task: FinalizeInboundTask): OutboundReply {
  const findings = s.outbound.finalize(task.outbound, task.opts.uptoWindow);
  if (task.opts.drop) s.outbound.dropWindowsUpTo(task.opts.uptoWindow ?? 0xffffffff);
  const o = s.outbound;
  return { findings, heldBytes: o.heldBytes, entries: o.n, droppedRecords: o.droppedRecords, dropped: o.droppedHosts() };
}

// ---- the fused pipeline (engine/run.ts, Engine.ingest): this thread parses and adds ----

const isFused = (task: ShardTask): task is FusedTask => task.op.startsWith('fused');

/** This thread's tables of every shard, filled by 'fusedParse' until the exchange ('fusedExport'). */
let fusedParts: Array<ShardState | undefined> = [];

/** workers/parse.ts, loaded by the first fused parse (a sharded run's shard threads never parse). */
let parser: typeof import('./parse.js') | undefined;

async function fusedTask(task: FusedTask): Promise<unknown> {
  switch (task.op) {
    case 'fusedParse':
      parser ??= await import('./parse.js');
      return fusedParse(task, parser);
    case 'fusedParseHere':
      if (shards !== 1) throw new Error("'fusedParseHere' in a run of more than one shard");
      parser ??= await import('./parse.js');
      partWindow = task.windowSeconds;
      partHint = task.capacityHint;
      partOutboundHint = task.outboundHint;
      return parser.parseWithSink(task.parse, parser.localSink(task.parse, takeBatch, addHere, addRoutedHere));
    case 'fusedLoad':
      parser ??= await import('./parse.js');
      return parser.loadReader(task.format);
    case 'fusedExport':
      return fusedExport(task.windowSeconds, task.shard);
    case 'fusedImport': {
      const s = stateFor(task.windowSeconds);
      for (const part of task.parts) {
        s.inbound = bound.merge(s.inbound, part.inbound);
        s.outbound.mergeState(part.outbound);
      }
      return s.inbound.n + s.outbound.n;
    }
  }
}

/**
 * Parse one task's input and add every record here, into the tables of its shard: the
 * sink's full batches are added at once and their memory taken again for the next.
 */
async function fusedParse(task: Extract<FusedTask, { op: 'fusedParse' }>, p: typeof import('./parse.js')): Promise<ParseResult> {
  partWindow = task.windowSeconds;
  partHint = task.capacityHint;
  partOutboundHint = task.outboundHint;
  return p.parseWithSink(task.parse, p.localSink(task.parse, takeBatch, addToPart));
}

/** The window and size hints of the parts newly made by addToPart (the run's: every task says the same). */
let partWindow = 0;
let partHint: number | undefined;
let partOutboundHint: number | undefined;

/**
 * A full batch of the sink, added to this thread's tables of its shard. One function for
 * every task (not a closure per task): the sink's optimised code calls the same target.
 */
function addToPart(shard: number, batch: FlowBatchData): void {
  const s = (fusedParts[shard] ??= newPart(partWindow, partHint, partOutboundHint));
  s.inbound.addBatch(batch);
  s.outbound.addBatch(batch);
  spareBatches.push(batch);
}

/**
 * A full batch of a task parsed in this thread of the run's one shard ('fusedParseHere'),
 * added as a parse thread's batch is ('add'), to the same tables.
 */
function addHere(_shard: number, batch: FlowBatchData): void {
  addBatchTo(stateFor(partWindow, partHint, undefined, partOutboundHint), batch, false);
  spareBatches.push(batch);
}

/**
 * A run of routed rows of a task parsed here, added where the reader left them (FlowSink
 * addRouted): the tables copy what they keep, so the rows need no batch of their own.
 */
function addRoutedHere(_shard: number, rows: FlowBatchData): void {
  addBatchTo(stateFor(partWindow, partHint, undefined, partOutboundHint), rows, false);
}

/** A batch's records added to the shard's tables: 'add', and addHere for the batches parsed here. */
function addBatchTo(s: ShardState, batch: FlowBatchData, oneBucket: boolean): void {
  s.inbound = bound.add(s.inbound, batch, oneBucket); // may spill the inbound table and start a fresh one
  s.outbound.addBatch(batch);
}

/**
 * One shard's tables in this thread: a thread sees about 1/N of the records, and each of
 * its N parts 1/N of those, so a part starts at 1/N of a shard's expected entries and holds
 * back 1/N of a shard's records (the N parts together hold as many as one shard would).
 */
function newPart(windowSeconds: number, capacityHint: number | undefined, outboundHint = capacityHint): ShardState {
  const hint = capacityHint === undefined ? undefined : Math.ceil(capacityHint / shards);
  const held = Math.floor(pendingRows(capacityHint) / shards);
  const inbound = new ScanTable(windowSeconds, tableCapacity(hint), shards, held >= 256 ? held : 0);
  const outbound = new OutboundTable(windowSeconds, Math.min(outboundCapacity(outboundHint === undefined ? undefined : Math.ceil(outboundHint / shards)), bound.outboundEntryLimit()));
  outbound.limitEntries = bound.outboundEntryLimit();
  return { inbound, outbound };
}

/** Batches the tables took in (they keep no reference to them): the sink fills them again. */
const spareBatches: FlowBatchData[] = [];

function takeBatch(capacity: number): FlowBatchData {
  for (let k = spareBatches.length - 1; k >= 0; k--) {
    const b = spareBatches[k]!;
    if (b.feed.length !== capacity) continue;
    spareBatches.splice(k, 1);
    b.n = 0;
    b.strings = ['']; // a new dictionary: the tables know a batch's dictionary by identity
    return b;
  }
  return allocBatch(capacity);
}

/**
 * The exchange: this thread's own shard's part becomes (or joins) its state, and every
 * other shard's part is exported for the thread that owns it.
 */
function fusedExport(windowSeconds: number, own: number): Array<FusedPart | null> {
  const parts = fusedParts;
  fusedParts = [];
  spareBatches.length = 0;
  const mine = parts[own];
  if (mine) {
    if (state === null) {
      mine.outbound.limitEntries = bound.outboundEntryLimit();
      state = mine;
    } else {
      const s = stateFor(windowSeconds);
      s.inbound = bound.merge(s.inbound, mine.inbound.exportState());
      s.outbound.mergeState(mine.outbound.exportState());
    }
  }
  const out: Array<FusedPart | null> = [];
  for (let j = 0; j < shards; j++) {
    const p = parts[j];
    out.push(j === own || !p ? null : { inbound: p.inbound.exportState(), outbound: p.outbound.exportState() });
  }
  return out;
}

/** Forget everything (this module run in the main thread for a small input: engine/inline-shard.ts). */
function reset(): void {
  bound.close();
  bound = new BoundedAccumulator();
  state = null;
  outboundAhead?.cancel();
  outboundAhead = null;
  inboundAhead?.cancel();
  inboundAhead = null;
  shards = 1;
  fusedParts = [];
  spareBatches.length = 0;
}
