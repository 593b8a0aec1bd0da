/**
 * The engine's types and run defaults: what a detection run is asked (DetectOptions),
 * what it reads (FileReport, IngestResult) and what it finds (DetectResult,
 * FinalizeOutput). A leaf module: the command line, the sidecar, the cluster, replay and
 * the writers take these without pulling in the Engine and its worker pools (run.ts).
 */
import type { Reject, SinkCounters } from '../flow/sink.js';
import type { FormatName } from '../formats/types.js';
import type { Thresholds } from '../detect/rules.js';
import type { EndpointDay, KeyVerdict } from './verdict.js';
import type { OutboundFinding, OutboundThresholds } from './outbound-table.js';
import type { AllowList, OutboundAlert } from '../detect/outbound.js';
import type { Cidr } from '../net/cidr.js';
import type { ReplayReport } from '../replay/types.js';
import type { RunMemoryReport } from './spill.js';
import type { TimeRange } from '../source/dates.js';
import type { SourceOptions } from '../source/types.js';

export type Pipeline = 'auto' | 'fused' | 'sharded';

export interface DetectOptions {
  inputs: string[];
  workers: number;
  windowSeconds: number;
  thresholds: Thresholds;
  nearMisses: boolean;
  outbound: OutboundThresholds;
  allow?: AllowList;
  ownCidrs?: Cidr[];
  format?: FormatName;
  account?: string;
  region?: string;
  awsFields?: string[];
  regionMap?: Record<string, string>;
  cloud?: string;
  batchSize: number;
  chunkBytes: number;
  /**
   * True (the command line without --chunk-size): a plain AWS text file is read in as many ranges
   * as the parse threads, or a multiple, of at most TEXT_RANGE_BYTES and at least chunkBytes
   * (input/plan.ts textRanges); otherwise in ranges of chunkBytes.
   */
  textRanges?: boolean;
  maxRejects: number;
  maxLineBytes: number;
  maxDecompressedBytes: number;
  partition?: { index: number; count: number };
  onProgress?: (p: Progress) => void;
  /**
   * Work for this thread while the shard threads finalise, when they are threads (detect
   * opens the enrichment's databases and writes what the ingest decided there): that time is otherwise a wait on the run's
   * serial end. Not called when this thread finalises the shard itself (nothing would overlap).
   */
  whileFinalising?: (ingest: IngestResult) => void;
  /**
   * The whole run's inbound verdicts, merged, as soon as they are (detect starts its analysis,
   * which needs no outbound finding): while the shard threads still finalise their outbound
   * tables, the longer part of a GCP run's serial end (Engine.finalize). Called only where the
   * shards are threads; the result's verdicts are these, whether it was called or not.
   */
  onInboundVerdicts?: (inbound: InboundVerdicts) => void;
  /** stdin, when an input is '-' (tests pass a buffer). */
  stdin?: () => AsyncIterable<Uint8Array>;
  /** Bytes for all the shards' inbound accumulators together (default: defaultMaxMemory()). */
  maxMemory?: number;
  /** Past maxMemory: spill to disk (true, default) or drop source partitions (false). */
  spill?: boolean;
  /** Folder for spill files (default: the system's temporary folder). */
  spillDir?: string;
  /** What the shard workers do with records: accumulate them ('add', detection) or write replay blocks ('convertAdd'). */
  shardOp?: 'add' | 'convertAdd';
  /**
   * How records reach the accumulators (--pipeline): 'sharded' (parse threads post batches
   * that the main thread routes to the shard threads), 'fused' (each shard thread parses
   * files and adds their records into tables of every shard, exchanged at the end), 'auto'
   * (fused for a small input, files and small folders of up to 16 MB of text, read in the main thread:
   * engine/inline-shard.ts; local
   * files without replay files, no --partition, and the tables fit --max-memory).
   * Default (an Engine): 'sharded'.
   */
  pipeline?: Pipeline;
  /** Parse threads of the sharded pipeline (--parse-threads). Default: `workers`. */
  parseThreads?: number;
  /**
   * A gzip line file larger than this is inflated by the main thread and parsed in
   * pieces by every parse thread (see gzipPieces); a smaller one is read whole by one
   * parse thread. Default SPLIT_GZIP_BYTES.
   */
  gzipSplitBytes?: number;
  /** --from/--to: date folders outside are not listed, records starting outside are not counted (src/source/dates.ts). */
  timeRange?: TimeRange;
  /** Object-store inputs (s3://, az://, gs://): endpoints, read-ahead, retries. */
  source?: SourceOptions;
  /**
   * Records ending more than this many seconds past the wall clock (or more than a day
   * past their file's own time, src/input/file-time.ts) are rejected as bad lines.
   * Default DEFAULT_MAX_FUTURE_SECONDS; negative: no bound.
   */
  maxFutureSeconds?: number;
  /** The wall clock in Unix seconds (tests pin it). */
  nowSeconds?: () => number;
}

/** Clock skew a record may have before it counts as stamped in the future (--max-future). */
export const DEFAULT_MAX_FUTURE_SECONDS = 3600;

/** Compressed size above which one gzip file is parsed by all parse threads (8 MB: larger than an AWS 5-minute object). */
export const SPLIT_GZIP_BYTES = 8 << 20;

export const DEFAULT_RUN = {
  /**
   * Records a batch between threads holds. Each batch costs a fixed ~0.2-0.6 ms of CPU over the
   * threads (the parse thread's post, the main thread's routing and its shard task, the shard's
   * task): 32,768 made the 7 M-record bucket 0.97-0.99x CPU against 16,384, the 2 M bucket
   * and the tiny files 0.97-0.98x, the other inputs level (bench/RESULTS.md, session 15
   * shardbatch). The ring holds as many records in flight either way (engine/run.ts inflightLimit).
   */
  batchSize: 32768,
  chunkBytes: 8 << 20,
  maxRejects: 1000,
  maxLineBytes: 1 << 20,
  maxDecompressedBytes: 8 * 1024 ** 3,
};

export interface Progress {
  bytesDone: number;
  bytesTotal: number;
  records: number;
  elapsed: number;
  /** Files read to their end, of filesTotal (replay files count once the run ends). */
  filesDone?: number;
  filesTotal?: number;
}

export interface FileReport {
  path: string;
  format: FormatName | null;
  gzip: boolean;
  bytes: number; // bytes read from disk
  decompressedBytes: number;
  counters: SinkCounters;
  minStart: number; // earliest start of a valid record (Infinity when none)
  maxEnd: number; // latest end of a valid record (-Infinity when none)
  lateByWindow: Array<[window: number, records: number]>; // late records (serve), ascending
  error?: string;
  replay?: ReplayReport; // replay files only (src/replay/input.ts)
}

export interface ResolvedReject extends Reject {
  file: string;
}

/** What a run found and read: a whole run's (DetectResult) and one partition's (src/app/partial.ts). */
export interface RunFindings {
  scans: KeyVerdict[];
  nearMisses: KeyVerdict[];
  endpointDays: EndpointDay[];
  /** Raw outbound findings before the allow list and the worm signature (a partition's merge rebuilds the alerts). */
  findings: OutboundFinding[];
  files: FileReport[];
  totals: SinkCounters;
  bytesIn: number;
  keys: number;
  entries: number;
  rejects: ResolvedReject[];
  partial: boolean;
}

export interface DetectResult extends RunFindings {
  alerts: OutboundAlert[];
  alertsSuppressed: number;
  wallSeconds: number;
  workers: number;
  accumulatorBytes: number;
  /** inbound and outbound entries the accumulators held at the end (accumulatorBytes over them: bytes per tuple) */
  accumulatorEntries: number;
  peakRssBytes: number;
  memory: RunMemoryReport;
  /** How the records reached the accumulators (--pipeline; not written to the results). */
  pipeline?: 'fused' | 'sharded';
  /** Parse tasks the shard thread of a one-shard sharded run parsed itself (Engine.parsesInShard; not written to the results). */
  shardParsed?: number;
  /** Whether the main thread parsed the run's input itself (parse-here.ts; not written to the results). */
  parsedHere?: boolean;
}

/** What one ingest (one call to Engine.ingest) read. */
export interface IngestResult {
  files: FileReport[];
  totals: SinkCounters;
  bytesIn: number;
  rejects: ResolvedReject[];
  partial: boolean;
  minStart: number; // over every file (Infinity when no record)
  maxEnd: number; // the newest flow time seen: the sidecar's watermark (-Infinity when no record)
}

export interface IngestOptions {
  /**
   * Records starting before this Unix second fall in windows already finalised and
   * dropped (incremental finalisation): they are counted as late (per file and window)
   * and not accumulated, so a finalised verdict never changes under the caller.
   */
  lateBefore?: number;
  /**
   * This ingest is all the engine reads, and it is finalised whole, once, after it (a detect
   * run): a replay file alone may then count its small keys instead of adding them
   * (ReplayDispatch.smallKeysBelow).
   */
  wholeRun?: boolean;
}

/**
 * The inbound verdicts of a finalisation, merged (FinalizeOutput's): what DetectOptions
 * onInboundVerdicts gets before the outbound findings are in.
 */
export type InboundVerdicts = Pick<FinalizeOutput, 'scans' | 'nearMisses' | 'endpointDays'>;

/** Verdicts of the windows finalised by one Engine.finalize. */
export interface FinalizeOutput {
  scans: KeyVerdict[];
  nearMisses: KeyVerdict[];
  endpointDays: EndpointDay[];
  findings: OutboundFinding[];
  alerts: OutboundAlert[];
  alertsSuppressed: number;
  keys: number;
  entries: number;
  accumulatorBytes: number;
  /** inbound and outbound entries the accumulators held at the end (accumulatorBytes over them: bytes per tuple) */
  accumulatorEntries: number;
  memory: RunMemoryReport;
}

