/** Messages between the main thread and the workers. Only plain data and typed arrays. */
import type { MessagePort } from 'node:worker_threads';
import type { FlowBatchData } from '../flow/batch.js';
import type { BatchRingShared } from '../flow/batch-ring.js';
import type { Reject, SinkCounters } from '../flow/sink.js';
import type { FormatName } from '../formats/types.js';
import type { FinalizeOptions, FinalizeResult } from './verdict.js';
import type { ReplayShardTask } from '../replay/shard-ops.js';
import type { MemoryReport, MemoryTask } from './spill.js';
import type { OutboundDrop, OutboundFinding, OutboundState, OutboundThresholds } from './outbound-table.js';
import type { ScanTableState } from './scan-layout.js';
import type { TableShare } from './scan-finalise.js';

/** What planning says of a file, as a parse thread needs it to read the file (GroupFile, ParseTask). */
export interface FilePlan {
  path: string; // path to open ('' when a task's bytes are given)
  display: string; // path for messages
  format: FormatName;
  gzip: boolean;
  account: string;
  region: string;
  awsFields?: string[];
  headerLine?: string;
  /** planned from its first line alone (input/plan.ts headError): the head is checked if the file does not inflate whole */
  headUnchecked?: boolean;
  /**
   * planned from its name and size alone: the thread checks it is a gzip AWS text file (format
   * 'aws-text') or a blob of the JSON format its path names (input/named-formats.ts formatByName), else
   * hands it back (ParseResult.replan)
   */
  sniffInThread?: boolean;
  /** Records ending after this Unix second are rejected (stamped in the future); 0 = no bound. */
  notAfter: number;
}

/**
 * One file of a 'files' task: many small files parsed by one task into one sink, so that
 * a file costs no message of its own and its records fill whole batches with the others'.
 */
export interface GroupFile extends FilePlan {
  fileIndex: number;
  size: number;
}

export interface ParseTask extends FilePlan {
  fileIndex: number;
  chunkIndex: number;
  mode: 'range' | 'gzip' | 'document' | 'bytes' | 'files';
  /** 'files' mode: the files, each read whole (fileIndex, path... above are unused) */
  files?: GroupFile[];
  start: number;
  end: number;
  bytes?: Uint8Array;
  /** 'bytes' mode, a piece of a gzip file inflated by the main thread: compressed bytes it stands for */
  compressedBytes?: number;
  /** 'bytes' mode, the last piece of such a file: the stream broke (its last line is truncated), and why */
  streamError?: string;
  regionMap?: Record<string, string>;
  cloud?: string;
  shards: number;
  batchSize: number;
  partition?: { index: number; count: number };
  maxRejects: number;
  maxLineBytes: number;
  maxDecompressedBytes: number;
  /** Records starting before this Unix second are late (their window is finalised); 0 = none. */
  lateBefore: number;
  windowSeconds: number;
  /** --from/--to (Unix seconds): records starting outside are counted, not accumulated. */
  timeRange?: { from: number; to: number };
  /** --home-net CIDRs (detection.md §3): addresses inside count as not public. */
  homeNet?: readonly string[];
  /** Outbound records in batches of their own (flow/sink.ts SinkOptions.outboundApart). */
  outboundApart?: boolean;
  /** Batches that take the sink's dictionary ids (flow/sink.ts SinkOptions.dictionaryIds). */
  dictionaryIds?: boolean;
  /** Where the task's batches go, as BatchMessages to the engine's thread, which routes them (absent with lanes). */
  port?: MessagePort;
  /**
   * One port a shard, whose other end its shard thread holds ('lane' task): the task's batches
   * go straight there, each a FlowBatchData, then a null at the task's end (engine/run.ts parseJob).
   */
  lanes?: MessagePort[];
  /** Int32Array over a SharedArrayBuffer of INFLIGHT_BYTES: its words INFLIGHT, LANE_FAILED, RUN_STOPPED. */
  inflight: SharedArrayBuffer;
  inflightLimit: number;
  /** Batch slots shared with the shard workers (src/flow/batch-ring.ts); absent: batches are transferred. */
  ring?: BatchRingShared;
}

/** ParseTask.inflight's words: batches in flight, for backpressure. */
export const INFLIGHT = 0;
/** 1 once a shard failed to add a batch that came by a lane (the error waits in the shard: 'laneError'). */
export const LANE_FAILED = 1;
/**
 * 1 once the run failed in a shard (engine/run.ts shardFailed): a parse thread waiting for room
 * stops, since the batches' count may never fall again (a shard thread gone with batches in flight).
 */
export const RUN_STOPPED = 2;
export const INFLIGHT_BYTES = 12;

/** A parse task without the sharded pipeline's channel to the main thread (a fused thread's, workers/shard.ts). */
export type ParseInput = Omit<ParseTask, 'port' | 'lanes' | 'inflight' | 'inflightLimit' | 'ring'>;

/**
 * A parse task's lane to one shard (ParseTask.lanes): the shard adds each batch that comes on
 * `port` as it would an 'add' task with these fields, frees its ring slot and counts it out of
 * `inflight` [0], until a null comes, then closes the port. Its reply comes at once.
 */
export interface LaneTask {
  op: 'lane';
  port: MessagePort;
  inflight: SharedArrayBuffer;
  windowSeconds: number;
  capacityHint?: number;
  outboundHint?: number;
}

/** One thread's tables of one shard, exported at the fused pipeline's exchange. */
export interface FusedPart {
  inbound: ScanTableState;
  outbound: OutboundState;
}

/**
 * The fused pipeline (engine/run.ts, Engine.ingest): a shard thread parses and adds the
 * records into tables of every shard ('fusedParse'); at the end each thread keeps its own
 * shard's tables and hands the others' out ('fusedExport': one part a shard, null for its
 * own), and each thread merges the parts of its shard ('fusedImport').
 */
export type FusedTask =
  | { op: 'fusedParse'; windowSeconds: number; capacityHint?: number; outboundHint?: number; parse: ParseInput }
  /**
   * A run of one shard whose shard thread has time to spare (engine/run.ts parsesInShard):
   * this task's input parsed here and every record added to the shard's own tables, as the
   * batches of a parse thread are ('add'), with no exchange after.
   */
  | { op: 'fusedParseHere'; windowSeconds: number; capacityHint?: number; outboundHint?: number; parse: ParseInput }
  /**
   * The parse code loaded, and `format`'s reader, ahead of a first 'fusedParseHere': the task
   * detect gives a lone shard's thread it started early (engine/lone-shard.ts), which would
   * otherwise load them at its first parse task, with both cores busy by then.
   */
  | { op: 'fusedLoad'; format: FormatName }
  | { op: 'fusedExport'; windowSeconds: number; shard: number }
  | { op: 'fusedImport'; windowSeconds: number; parts: FusedPart[] };

export interface ParseResult {
  fileIndex: number;
  chunkIndex: number;
  counters: SinkCounters;
  rejects: Reject[];
  lines: number; // lines consumed by this chunk
  bytesIn: number; // bytes read from the file
  bytesOut: number; // bytes after decompression
  batches: number; // batches posted on the port
  minStart: number; // earliest start of a valid record (Infinity when none)
  maxEnd: number; // latest end of a valid record (-Infinity when none)
  lateByWindow: Array<[window: number, records: number]>;
  /** line: where a split gzip stream stopped, counted within this piece (the message says '{line}') */
  error?: { message: string; offset: number; line?: number };
  /** the file was not read: the error planning gives a damaged head (headUnchecked files only) */
  planError?: string;
  /** a sniffInThread file that is not what its name or size said: nothing read, to be planned by the main thread */
  replan?: boolean;
  /** 'files' mode: each file's own result (batches: 0; the task's batches are counted above) */
  files?: ParseResult[];
  /** 'files' mode, as the parse thread sends them: packed (file-results.ts), unpacked by the engine into `files` */
  packedFiles?: { rows: Float64Array; extras: Array<{ row: number; rejects?: Reject[]; error?: ParseResult['error']; planError?: string; replan?: boolean; lateByWindow?: Array<[number, number]> }> };
}

export interface BatchMessage {
  shard: number;
  batch: FlowBatchData;
}

export type ShardTask =
  /** capacityHint, outboundHint: the entries the shard's inbound and outbound tables are sized for (engine/run.ts tableHints; outbound: capacityHint when absent) */
  | { op: 'add'; windowSeconds: number; batch: FlowBatchData; capacityHint?: number; outboundHint?: number; oneBucket?: boolean }
  /**
   * The finalisation in two tasks, queued together: the inbound verdicts first, which the
   * main thread merges while the shard finalises its outbound table (begun as soon as the
   * first reply is posted; the second task takes its reply).
   */
  /**
   * `split`: the engine's thread offers to finalise inbound buckets too (tail.ts); the reply
   * then may carry `share` instead of verdicts, and the reply to 'finalizeOutbound' the
   * buckets the shard finalised itself, after its outbound table (`inboundPart`).
   */
  | { op: 'finalizeInbound'; windowSeconds: number; opts: FinalizeOptions; outbound: OutboundThresholds; split?: boolean }
  | { op: 'finalizeOutbound'; windowSeconds: number }
  /** The state in pieces: 'exportPieceCount' says how many, 'exportPiece' encodes piece k (0: the tables, then the spilled partitions, a few a piece). */
  /** Add the held-back records now (near the end of the parse: tail.ts), not at the finalisation. */
  | { op: 'flushHeld'; windowSeconds: number; always: boolean }
  | LaneTask
  /** Throw the error a lane's batch met (LaneTask), once; nothing when there was none. */
  | { op: 'laneError' }
  | { op: 'exportPieceCount'; windowSeconds: number }
  | { op: 'exportPiece'; windowSeconds: number; piece: number }
  | { op: 'import'; windowSeconds: number; state: Uint8Array; shard: number; shards: number }
  | { op: 'stats'; windowSeconds: number }
  | FusedTask
  /** Forget the shard's state (a shard run in the main thread: engine/inline-shard.ts). */
  | { op: 'reset' }
  /** The engine's batch ring's shared memory, for the shard's held buffer (engine/scan-wasm.ts useRingMemory): its id and its slots' buffer's length. */
  | { op: 'ringMemory'; memory: WebAssembly.Memory; id: number; bytes: number }
  | ReplayShardTask // replay files and conversion (src/replay/shard-ops.ts)
  | MemoryTask; // --max-memory (src/engine/spill.ts)

/** Reply to 'stats': the shard's live accumulators. */
export interface ShardStats {
  entries: number;
  bytes: number;
  windows: number[]; // windows with inbound entries, ascending
}

/** Reply to 'finalizeInbound': the inbound table's verdicts, its size and memory report. */
export type InboundReply = FinalizeResult & { tableBytes: number; tableEntries: number; memory: MemoryReport; share?: TableShare };

/** Reply to 'finalizeOutbound': the outbound findings, and the outbound table's size and drops after them. */
export interface OutboundReply {
  findings: OutboundFinding[];
  heldBytes: number;
  entries: number;
  droppedRecords: number;
  dropped: OutboundDrop[];
  /** the inbound buckets a shard that shared its finalisation finalised itself (tail.ts) */
  inboundPart?: FinalizeResult;
}
