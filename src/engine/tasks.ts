/** Messages between the main thread and the workers. Only plain data and typed arrays. */
import type { MessagePort } from 'node:worker_threads';
import type { FlowBatchData } from '../flow/batch.js';
import type { Reject, SinkCounters } from '../flow/sink.js';
import type { FormatName } from '../formats/types.js';
import type { FinalizeOptions, FinalizeResult } from './scan-table.js';
import type { OutboundFinding, OutboundThresholds } from './outbound-table.js';

export interface ParseTask {
  fileIndex: number;
  chunkIndex: number;
  path: string; // path to open ('' when bytes are given)
  display: string; // path for messages
  format: FormatName;
  mode: 'range' | 'gzip' | 'document' | 'bytes';
  gzip: boolean;
  start: number;
  end: number;
  bytes?: Uint8Array;
  account: string;
  region: string;
  awsFields?: string[];
  headerLine?: string;
  regionMap?: Record<string, string>;
  cloud?: string;
  shards: number;
  batchSize: number;
  partition?: { index: number; count: number };
  maxRejects: number;
  maxLineBytes: number;
  maxDecompressedBytes: number;
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] = batches in flight, for backpressure. */
  inflight: SharedArrayBuffer;
  inflightLimit: number;
}

export interface ParseResult {
  fileIndex: number;
  chunkIndex: number;
  counters: SinkCounters;
  rejects: Reject[];
  lines: number; // lines consumed by this chunk
  bytesIn: number; // bytes read from the file
  bytesOut: number; // bytes after decompression
  batches: number; // batches posted on the port
  error?: { message: string; offset: number };
}

export interface BatchMessage {
  shard: number;
  batch: FlowBatchData;
}

export type ShardTask =
  | { op: 'add'; windowSeconds: number; batch: FlowBatchData }
  | { op: 'finalize'; windowSeconds: number; opts: FinalizeOptions; outbound: OutboundThresholds }
  | { op: 'export'; windowSeconds: number }
  | { op: 'import'; windowSeconds: number; state: Uint8Array; shard: number; shards: number }
  | { op: 'stats'; windowSeconds: number };

export type FinalizeReply = FinalizeResult & { outbound: OutboundFinding[]; tableBytes: number; tableEntries: number };
