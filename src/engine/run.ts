/**
 * One detection run: plan the inputs, parse them on a piscina pool, route each shard's
 * batches to the one-thread pool that owns the shard, finalise every shard and merge
 * their verdicts. The main thread routes batches; it never looks inside a record.
 */
import { createRequire } from 'node:module';
import type { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { chunkRanges, planInputs, textRanges, type InputFile } from '../input/plan.js';
import { gzipPieces } from '../input/streams.js';
import { streamedPieces } from '../input/streamed.js';
import { planAll } from '../source/plan.js';
import { addCounters, newCounters, sinkLanes } from '../flow/sink.js';
import { mergeEndpointDays } from './merge.js';
import { DEFAULT_OUTBOUND } from './outbound-table.js';
import { EARLY_FLUSHES, earlyFlushesNamed, earlyFlushShares, flushesDue, tailSplitOn } from './tail.js';
import { finalizeShare } from './scan-finalise.js';
import { releaseLater } from '../input/native.js';
import type { FinalizeResult } from './verdict.js';
import { buildAlerts } from '../detect/outbound.js';
import { INFLIGHT, INFLIGHT_BYTES, LANE_FAILED, RUN_STOPPED, type BatchMessage, type FusedPart, type GroupFile, type InboundReply, type OutboundReply, type ParseResult, type ParseTask, type ShardStats, type ShardTask } from './tasks.js';
import { inlineShard, type ShardPool } from './inline-shard.js';
import { fusedApplies, fusedMayApply, partBuffers, runAffine, threadsByAffinity } from './fused.js';
import { lookedSmall } from './small-input.js';
import { shardHereFits, ShardToPlace } from './shard-place.js';
import { sortVerdicts } from './order.js';
import { FileRows, packedProgress } from './file-results.js';
import { readerFor } from '../formats/registry.js';
import { BATCH_BYTES_PER_RECORD, batchTransferList } from '../flow/batch.js';
import { BatchRing, createBatchRing, type BatchRingShared } from '../flow/batch-ring.js';
import { applyReplayOutcome, replayHintBytes, replayInputs, type ReplayOutcome } from '../replay/input.js';
import { defaultMaxMemory, defaultSpillDir, mergeMemoryReports, removeOrphanSpills, removeSpills } from './spill.js';
import { notAfterFor } from '../input/file-time.js';
import { forgetListings } from '../input/listing.js';
import { parsePoolOptions, parsePoolShape } from './pool.js';
import { newPool, newShardThread } from './threads.js';
import { dropEarlyParsePool, takeEarlyParsePool } from './early-pool.js';
import { dropLoneShard, takeLoneShard } from './lone-shard.js';
import { PARSE_HERE_RANGE_BYTES, ParseHere, parseHereMayApply, parsesHereFits, shardThreads, withHereBatches } from './parse-here.js';
import {
  DEFAULT_MAX_FUTURE_SECONDS,
  SPLIT_GZIP_BYTES,
  type DetectOptions,
  type DetectResult,
  type FileReport,
  type FinalizeOutput,
  type InboundVerdicts,
  type IngestOptions,
  type IngestResult,
  type Progress,
  type ResolvedReject,
} from './types.js';

// the engine's types live in types.ts and the stdin/gzip streams in input/streams.ts;
// re-exported here for callers that import them with the Engine
export * from './types.js';
export { gzipPieces, stdinChunks } from '../input/streams.js';

/**
 * A shard thread that fails the run if it stops before the engine closes: its accumulators
 * live in that thread, so a thread gone (an error between tasks, `worker.terminate()`, an exit
 * in its code) means records lost. piscina reports neither to a caller with no task running
 * there (an exit without error is reported nowhere): it starts a fresh thread, and the run would
 * go on with an empty shard and give verdicts with that shard's records missing. The thread
 * started early for a lone shard (lone-shard.ts) where there is one, else a new one.
 */
function watchedShardThread(lost: (err: Error) => void, closing: () => boolean): Piscina {
  const pool = takeLoneShard() ?? newShardThread();
  pool.on('error', (err: Error) => lost(shardStopped(err.message)));
  // after the task's own error, where one was running there (piscina rejects it just after this event)
  pool.on('workerDestroy', () => setImmediate(() => closing() || lost(shardStopped('its thread exited'))));
  return pool;
}

const shardStopped = (why: string) => new Error(`a shard thread stopped before the run's end (${why}): the records it held are lost, so the run stops`);

/** Each file's parse results by chunk (files read in chunks or alone); undefined: none, or packed in FileRows. */
type ChunkResults = Array<ParseResult[] | undefined>;

interface Job {
  file: number;
  chunk: number;
  task: Omit<ParseTask, 'port' | 'lanes' | 'inflight' | 'inflightLimit'>;
}

/**
 * A detection engine that stays up: the parse pool and the shard pools (with their
 * accumulators) live until close(). `detect` uses it for one batch run; the sidecar keeps
 * one open, ingests files as they land, finalises windows as the watermark passes them,
 * and checkpoints the shards' state between batches.
 */
export class Engine {
  readonly shards: number;
  private codeCachesWritten: Promise<void> | null = null;
  /** A lone shard of the sharded pipeline, placed when the first ingest is planned (shard-place.ts); null: placed at once. */
  private readonly shardToPlace: ShardToPlace | null;
  /** Whether a shard runs in this thread (inline-shard.ts): a small input read fused, or placed here (shard-place.ts). */
  private shardHere: boolean;
  /** The sharded pipeline's parse threads at most (DetectOptions.parseThreads). */
  readonly parseThreads: number;
  /** The sharded pipeline's parse threads: started with the engine, or when an ingest first needs them (fusedWanted). */
  private parsePoolStarted: Piscina | null = null;
  /** The parse threads stopping or stopped (closeParsing). */
  private parsingClosed: Promise<void> = Promise.resolve();
  private readonly minParse: number;
  /** --pipeline asks for the fused pipeline where it applies: no parse threads until an ingest is read sharded. */
  private readonly fusedWanted: boolean;
  /** How the last ingest was read (tests, the bench). */
  lastPipeline: 'fused' | 'sharded' | undefined;
  /** Parse tasks the shard parsed in the last ingest (parsesInShard, shardHereParses; tests). */
  lastShardParsed = 0;
  /** Parse tasks whose batches went to the shards by lanes in the last ingest (laneJob; tests). */
  lastLaneJobs = 0;
  /** Whether this thread parsed the last ingest (parse-here.ts; tests). */
  get lastParsedHere(): boolean {
    return this.parseHere !== null || this.shardParsesAll;
  }
  private readonly shardPools: ShardPool[];
  /** ParseTask.inflight: [INFLIGHT] batches in flight, [LANE_FAILED], [RUN_STOPPED] (tasks.ts) */
  private readonly inflightBuf = new SharedArrayBuffer(INFLIGHT_BYTES);
  private readonly inflight = new Int32Array(this.inflightBuf);
  private readonly inflightLimit: number;
  private shardWork: Promise<unknown>[] = [];
  private shardError: Error | null = null;
  private closing = false;
  /** Entries to size each shard's table for, from the first ingest's input size (tableHints). */
  private capacityHint: number | undefined;
  /** The same for each shard's outbound table, which starts at an eighth of it (workers/shard.ts outboundCapacity). */
  private outboundHint: number | undefined;
  /** keys and entries a replay file's shards counted instead of adding (IngestOptions.wholeRun): the next finalisation's */
  private smallKeys = { keys: 0, entries: 0 };
  private readonly memoryConfigured: Promise<void>;
  /** Batch slots the parse threads fill and the shards free (src/flow/batch-ring.ts). */
  private ring: BatchRingShared | undefined;
  /** whether the shards were given the ring's memory (giveRingMemory) */
  private ringGiven = false;
  /** The last ingest's parse in this thread (parse-here.ts); null: its parse threads parse. */
  private parseHere: ParseHere | null = null;
  /** Whether the shard placed in this thread parsed every task of the last ingest (shardHereParses). */
  private shardParsesAll = false;

  /** This engine's part of its spill files' names (removed on close). */
  private readonly owner = `e${(++engines).toString(36)}`;

  /** `inline`: one shard, run in this thread if no other engine runs one (inline-shard.ts); for a small input read fused. */
  private readonly opts: DetectOptions;

  constructor(asked: DetectOptions, inline = false) {
    const opts = (this.opts = withHereBatches(asked));
    const N = shardThreads(opts);
    this.shards = N;
    // the parse pool's shape (pool.ts), as detect's early pool read it from the same options
    ({ threads: this.parseThreads, started: this.minParse } = parsePoolShape(opts));
    // batches in flight before a parse thread waits: a few per shard, plus what the parse
    // threads make while a shard adds the records it held back (a million over all shards,
    // scan-table.ts addBatch), so that parsing goes on meanwhile
    this.inflightLimit = 4 * N + 4 + Math.ceil((1 << 19) / Math.max(64, opts.batchSize));
    // auto: fused for a small input only (detect: one shard in this thread). On larger
    // inputs the fused threads cost about the CPU of the sharded pipeline's parse and shard
    // threads, and at one worker lose its overlap of parsing and adding (bench/RESULTS.md,
    // "a fused pipeline")
    this.fusedWanted = fusedMayApply(opts) && (opts.pipeline === 'fused' || inline);
    // one large plain file may be parsed in this thread (parse-here.ts): the parse threads wait for planning
    if (!this.fusedWanted && !parseHereMayApply(opts)) void this.parsePool;
    else dropEarlyParsePool(); // read in this thread or by the fused threads: no parse thread for now
    const here = inline && N === 1 && this.fusedWanted ? inlineShard() : null;
    this.shardHere = here !== null;
    // one shard of the sharded pipeline: its thread or this one, once planning says what the input is
    this.shardToPlace = !here && N === 1 && !this.fusedWanted && opts.shardOp !== 'convertAdd' ? new ShardToPlace() : null;
    if (here) dropLoneShard(); // the one shard runs in this thread: no thread for it (lone-shard.ts)
    this.shardPools = here ? [here] : this.shardToPlace ? [this.shardToPlace] : Array.from({ length: N }, () => this.shardThread());
    removeOrphanSpills(opts.spillDir ?? defaultSpillDir()); // of processes that are gone (killed before they could)
    openEngines.add(this);
    this.memoryConfigured = configureMemory(this.shardPools, opts, this.owner);
    this.memoryConfigured.catch(() => {}); // awaited by ingest
    this.giveRingMemory(); // a ring made above (the parse pool's, started at once)
    // the memory limits wait for the placement; a first task other than a planned ingest's places the shard in its thread
    this.shardToPlace?.placeOnNextTask(() => this.shardThread());
  }

  /** Whether the shards run in threads of their own (not in this one). */
  get shardsInThreads(): boolean {
    return !this.shardHere;
  }

  /** The lone shard's place, from the first ingest's planned files (shard-place.ts); once. */
  private placeShard(files: InputFile[], wholeRun: boolean): void {
    const pending = this.shardToPlace;
    if (!pending || pending.placed) return;
    const here = shardHereFits(files, wholeRun) ? inlineShard() : null;
    this.shardHere = here !== null;
    // a thread boots at once; this thread loads the shard's code (~6-12 ms) as the first batch
    // comes, not between planning and the first parse task, which may be waiting for it
    if (here) {
      dropLoneShard(); // started for a lone shard in a thread (lone-shard.ts); it is placed here
      pending.placeOnNextTask(() => here);
    } else pending.place(this.shardThread());
  }

  /** The parse threads (and the batch ring between them and the shards), started on first use. */
  private get parsePool(): Piscina {
    if (this.parsePoolStarted) return this.parsePoolStarted;
    const P = this.parseThreads;
    // the pool detect started as soon as it had read its options, where it has this shape (early-pool.ts)
    this.parsePoolStarted = takeEarlyParsePool(P, this.minParse) ?? newPool(parsePoolOptions(P, this.minParse));
    this.ring = this.minParse > 0 ? batchRingFor(this.shards, P, this.inflightLimit, this.opts) : undefined;
    this.giveRingMemory();
    return this.parsePoolStarted;
  }

  /**
   * The batch ring's memory given to each shard (once, before its first batch where the ring
   * is made before the shards are: the constructor gives it then): a shard's held buffer is
   * placed in it, and reads the ring's batches where they lie (scan-wasm.ts useRingMemory).
   * Not where the ring is a plain SharedArrayBuffer, or the shards are not made yet.
   */
  private giveRingMemory(): void {
    const ring = this.ring;
    // (the field is undefined while the constructor has not set it)
    if (ring === undefined || ring.memory === null || this.ringGiven || (this.shardPools as ShardPool[] | undefined) === undefined) return;
    this.ringGiven = true;
    const task: ShardTask = { op: 'ringMemory', memory: ring.memory, id: ring.id, bytes: ring.data.byteLength };
    // (a lone shard not placed yet is not placed by it: ShardToPlace.runWhenPlaced; not waited
    // for by the drain: a shard never placed never runs it, and a shard that fails says so to its other tasks)
    for (const pool of this.shardPools) (pool instanceof ShardToPlace ? pool.runWhenPlaced(task) : pool.run(task)).catch(() => {});
  }

  /** Read, parse and accumulate the given paths (files, folders, '-'). */
  async ingest(inputs: string[], onProgress?: (p: Progress) => void, options: IngestOptions = {}): Promise<IngestResult> {
    const t0 = msNow();
    const opts = this.opts;
    const files = await planAll(inputs, {
      format: opts.format, account: opts.account, region: opts.region, awsFields: opts.awsFields, range: opts.timeRange, source: opts.source,
      quickHeadBelow: opts.gzipSplitBytes ?? SPLIT_GZIP_BYTES, // the gzip files a parse thread reads whole
      sniffInThread: true, // *.gz files up to that size: planned by the parse thread that reads them (handed back if not AWS text)
      // JSON blobs whose path names their format, read whole, up to a GCP task's bytes (16 MiB): planned
      // by their parse thread too; larger ones are planned here from their head. At the chunk's size, GCP
      // exports of 8-16 MiB had their heads read and sniffed here before any task (16 of the bench's 48: ~4 ms)
      jsonByNameBelow: taskBytes('gcp', opts),
    });
    // a file's results by chunk, for files read in chunks or alone; those of 'files' tasks stay packed in fileRows
    const chunkResults: ChunkResults = new Array<ParseResult[] | undefined>(files.length);
    const fileRows = new FileRows(files.length);
    const bytesTotal = files.reduce((s, f) => s + (f.error ? 0 : Math.max(0, f.size)), 0);
    if (this.capacityHint === undefined) {
      const hints = tableHints(files, this.shards);
      this.capacityHint = hints.inbound;
      this.outboundHint = hints.outbound;
    }
    let bytesDone = 0;
    let records = 0;
    let filesDone = files.filter((f) => f.error).length;
    const fileBytes = new Float64Array(files.length);
    this.placeShard(files, options.wholeRun === true);
    const fused = this.fusedWanted && fusedApplies(files, opts, this.capacityHint * this.shards) && this.plannedHere(files, opts);
    this.lastPipeline = fused ? 'fused' : 'sharded';
    this.lastShardParsed = 0;
    this.lastLaneJobs = 0;
    const handedBack = new Set<number>();
    // the shards add what they hold while the last files are parsed (tail.ts)
    const shares = options.wholeRun === true && !fused && this.shardsInThreads && opts.shardOp !== 'convertAdd' ? earlyFlushShares() : [];
    let flushes = 0;
    const flushAlways = shares.length > 0 && earlyFlushesNamed();
    const runJob = async (job: Job, thread = -1): Promise<void> => {
      const result = thread >= 0 ? await this.fusedJob(job, thread) : thread === IN_SHARD || this.shardParsesAll ? await this.fusedJob(job, 0, 'fusedParseHere') : this.parseHere ? await this.parseHereJob(job, this.parseHere) : await this.parseJob(job);
      if (result.packedFiles) fileRows.add(result.packedFiles, (i) => handedBack.add(i));
      else {
        for (const r of result.files ?? [result]) if (r.replan) handedBack.add(r.fileIndex);
        if (result.files) for (const r of result.files) chunkResults[r.fileIndex] = [r];
        else (chunkResults[job.file] ??= [])[job.chunk] = result;
      }
      if (result.packedFiles) {
        // a 'files' task's own bytesIn and counters are 0: its files' rows say what it read
        const done = packedProgress(result.packedFiles);
        bytesDone += done.bytes;
        records += done.records;
        filesDone += done.files;
      } else {
        bytesDone += result.bytesIn;
        records += result.counters.records;
        fileBytes[job.file]! += result.bytesIn;
        if (fileBytes[job.file]! >= files[job.file]!.size && fileBytes[job.file]! - result.bytesIn < files[job.file]!.size) filesDone++;
      }
      const passed = flushesDue(bytesDone, bytesTotal, shares);
      if (passed > flushes) {
        flushes = passed;
        // one flush for shares passed together, none once all is parsed (the finalisation's own comes next)
        if (bytesDone < bytesTotal) this.flushHeld(flushAlways);
      }
      onProgress?.({ bytesDone, bytesTotal, records, elapsed: (msNow() - t0) / 1000, filesDone, filesTotal: files.length });
    };
    // a shard in a thread takes its tasks in order, its memory limits first: every batch and
    // replay file reaches it behind them, so the parse threads need not wait for its start
    // (it boots in 35-80 ms, often after planning ends: bench/RESULTS.md, "the parse threads' start")
    // (a shard placed here takes its tasks in order too)
    if (fused || (!this.shardsInThreads && !this.shardToPlace)) await this.memoryConfigured;
    if (fused) {
      const plan = fusedPlan(files, opts, this.shards, options.lateBefore ?? 0);
      // a few tasks in flight per thread: the next file is read while one is parsed
      await runAffine(plan.queues, plan.rest(), 2, runJob);
      await this.exchange();
      return collectReports(files, chunkResults, fileRows, opts.maxRejects, new Map());
    }
    this.parseHere = this.parsesHere(files, options.wholeRun === true);
    this.shardParsesAll = !this.parseHere && this.shardHereParses(files, options.wholeRun === true);
    if (!this.parseHere && !this.shardParsesAll) void this.parsePool; // an ingest read sharded after all (fusedWanted, parseHereMayApply): the parse threads now
    // replay files go straight to the shard workers, alongside the parse jobs of the others
    const replayed = replayInputs(files, this.shardPools, {
      shards: this.shards, windowSeconds: opts.windowSeconds, partition: opts.partition, lateBefore: options.lateBefore, range: opts.timeRange,
      capacityHint: this.capacityHint,
      into: opts.shardOp === 'convertAdd' ? 'spool' : 'table',
      smallKeysBelow: this.countsSmallKeys(options) ? Math.max(1, opts.thresholds.minEndpoints) : undefined,
    });
    replayed.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    const inShard = this.parsesInShard(files);
    // where the shard thread parses too, two threads take the tasks, and the last ones are made smaller (taperedBudget);
    // parsed here: in ranges of up to PARSE_HERE_RANGE_BYTES, none cut at the early flushes' shares, and
    // this thread alone parses (unless the shard's parses too): no more ranges for the parse threads' count
    const here = this.parseHere !== null;
    const parsers = inShard ? this.parseThreads + 1 : here ? 1 : this.parseThreads;
    const jobs = planJobs(
      files, opts, this.shards, parsers, options.lateBefore ?? 0, false, here ? [] : shares, inShard, here ? PARSE_HERE_RANGE_BYTES : undefined,
    )();
    const parsed = this.shardParsesAll
      ? // the shard in this thread parses every task, one at a time (runJob)
        runWithConcurrency(jobs, 1, (job) => this.inShard(job, runJob))
      : inShard
      ? // the large tasks taken in turn by the parse thread and the shard's, each as it ends one (runShared)
        runShared(jobs, [{ lanes: this.parseHere ? 1 : 2, run: runJob }, { lanes: 1, run: (job) => this.inShard(job, runJob) }])
      : // several tasks in flight per thread: small files are latency-bound, not CPU-bound
        runWithConcurrency(jobs, 4 * this.parseThreads + 2, runJob);
    await Promise.all([this.memoryConfigured, parsed]); // the limits' failure fails the run, as before
    const replayedToo = await this.replanHandedBack(files, handedBack, chunkResults, fileRows, runJob, options.lateBefore ?? 0);
    await this.drain();
    const outcomes = await replayed;
    for (const [i, outcome] of replayedToo) outcomes.set(i, outcome);
    for (const o of outcomes.values()) {
      for (const r of o.replies) {
        this.smallKeys.keys += r.smallKeys ?? 0;
        this.smallKeys.entries += r.smallEntries ?? 0;
      }
    }
    return collectReports(files, chunkResults, fileRows, opts.maxRejects, outcomes);
  }

  /**
   * Whether a replay file's shards may count its small keys instead of adding them
   * (ReplayDispatch.smallKeysBelow): not where a full table drops partitions (--no-spill),
   * since a table with fewer entries would drop other ones. FLOWSIEVE_SMALL_KEYS=off: never.
   */
  private countsSmallKeys(options: IngestOptions): boolean {
    return options.wholeRun === true && !options.lateBefore && this.opts.spill !== false && process.env.FLOWSIEVE_SMALL_KEYS !== 'off';
  }

  /**
   * The parse of this ingest in this thread (parse-here.ts), or null: a whole run of plain AWS
   * text files alone that parseHereMayApply, its shards in threads, no parse thread started.
   */
  private parsesHere(files: InputFile[], wholeRun: boolean): ParseHere | null {
    const opts = this.opts;
    if (!wholeRun || this.parsePoolStarted || !this.shardsInThreads || !parseHereMayApply(opts) || !parsesHereFits(files, this.parseThreads === 1)) return null;
    this.ring ??= batchRingFor(this.shards, 1, this.inflightLimit, opts);
    this.giveRingMemory();
    return new ParseHere(this.ring, fewestRingSlots(this.shards, 1, opts), this.inflight, this.inflightLimit, (shard, batch) => this.route({ shard, batch }));
  }

  /**
   * Whether the lone shard, placed in this thread (shard-place.ts: Azure blobs alone), parses
   * every task of this ingest itself ('fusedParseHere', as the shard thread parses GCP tasks:
   * parsesInShard): where parse-here.ts applies, in place of a parse thread whose every batch
   * this thread would add. One thread and one isolate then read, parse and add: no parse
   * thread's boot, no second compile of the reader's code, no batch handed over
   * (bench/RESULTS.md, session 18 jsonhere).
   */
  private shardHereParses(files: InputFile[], wholeRun: boolean): boolean {
    return wholeRun && !this.parsePoolStarted && !this.shardsInThreads && parseHereMayApply(this.opts) && parsesHereFits(files, this.parseThreads === 1);
  }

  /** A file planned from its name (InputFile.sniffInThread) planned from its head, as every file was before. */
  private plannedFromHead(f: InputFile): InputFile {
    const opts = this.opts;
    const plan = { format: opts.format, account: opts.account, region: opts.region, awsFields: opts.awsFields, quickHeadBelow: opts.gzipSplitBytes ?? SPLIT_GZIP_BYTES };
    return { ...planInputs([f.path], plan)[0]!, display: f.display };
  }

  /**
   * For the fused pipeline, whose threads take whole files from queues planned ahead with
   * no way to hand one back: the files planned from their names planned from their heads
   * here, as before. True when the pipeline still applies to them.
   */
  private plannedHere(files: InputFile[], opts: DetectOptions): boolean {
    for (let i = 0; i < files.length; i++) if (files[i]!.sniffInThread) files[i] = this.plannedFromHead(files[i]!);
    return fusedApplies(files, opts, this.capacityHint! * this.shards);
  }

  /**
   * The files a parse thread handed back unread (planned from their names, not small gzip
   * AWS text files: InputFile.sniffInThread): planned here from their heads, as every file
   * was before, then read as such (replay files by the shards). Returns the replay files' outcomes.
   */
  private async replanHandedBack(
    files: InputFile[],
    handedBack: Set<number>,
    chunkResults: ChunkResults,
    fileRows: FileRows,
    runJob: (job: Job) => Promise<void>,
    lateBefore: number,
  ): Promise<Map<number, ReplayOutcome>> {
    if (handedBack.size === 0) return new Map();
    const opts = this.opts;
    for (const i of handedBack) {
      files[i] = this.plannedFromHead(files[i]!);
      chunkResults[i] = undefined;
      fileRows.clear(i);
    }
    // the other files are done: left out of this round as failed files are
    const again = files.map((f, i) => (handedBack.has(i) ? f : { ...f, error: f.error ?? 'read' }));
    const replayed = replayInputs(again, this.shardPools, {
      shards: this.shards, windowSeconds: opts.windowSeconds, partition: opts.partition, lateBefore, range: opts.timeRange,
      capacityHint: this.capacityHint,
      into: opts.shardOp === 'convertAdd' ? 'spool' : 'table',
    });
    replayed.catch(() => {}); // awaited below; a failure must not go unhandled meanwhile
    await runWithConcurrency(planJobs(again, opts, this.shards, this.parseThreads, lateBefore)(), 4 * this.parseThreads + 2, runJob);
    return replayed;
  }

  /** Batch-ring slots taken now: 0 between ingests (every batch was added and its slot freed). */
  ringSlotsTaken(): number {
    return this.ring ? new BatchRing(this.ring).taken() : 0;
  }

  /** Run one task on every shard (after the routed batches), e.g. the conversion's steps. */
  async onShards<T>(task: (shard: number) => ShardTask): Promise<T[]> {
    await this.drain();
    return (await Promise.all(this.shardPools.map((p, shard) => p.run(task(shard))))) as T[];
  }

  /**
   * Whether the shard thread parses tasks too, beside the parse thread: a run of one shard in
   * a thread, one parse thread, on large JSON files (GCP NDJSON) alone. There the parse
   * thread is the run's critical path and the shard's adds take ~a third of its time, so the
   * other core idles; parsed in the shard thread, its records go straight to the shard's
   * tables (no batch crosses threads) and its tasks cost no thread's start-up, as a second
   * parse thread's would (bench/RESULTS.md, session 14 gcpjson). FLOWSIEVE_SHARD_PARSES=off:
   * never; =always: whatever the input's size (tests).
   */
  private parsesInShard(files: InputFile[]): boolean {
    const opts = this.opts;
    if (this.shards !== 1 || !this.shardsInThreads || this.parseThreads !== 1 || opts.shardOp === 'convertAdd') return false;
    const setting = process.env.FLOWSIEVE_SHARD_PARSES;
    if (setting === 'off') return false;
    let bytes = 0;
    for (const f of files) {
      if (f.error) continue;
      if (f.open || !f.format || !IN_SHARD_FORMATS.has(f.format)) return false;
      bytes += f.size;
    }
    return setting === 'always' || bytes >= IN_SHARD_MIN_BYTES;
  }

  /** One task parsed in the shard thread (parsesInShard), counted. */
  private inShard(job: Job, runJob: (job: Job, thread: number) => Promise<void>): Promise<void> {
    this.lastShardParsed++;
    return runJob(job, IN_SHARD);
  }

  /**
   * One parse task run by a shard thread, which adds the records itself: into its tables of
   * every shard (the fused pipeline), or into the one shard's own ('fusedParseHere').
   */
  private async fusedJob(job: Job, thread: number, op: 'fusedParse' | 'fusedParseHere' = 'fusedParse'): Promise<ParseResult> {
    const task: ShardTask = { op, windowSeconds: this.opts.windowSeconds, capacityHint: this.capacityHint, outboundHint: this.outboundHint, parse: job.task };
    try {
      return (await this.shardPools[thread]!.run(task, { transferList: job.task.bytes ? [job.task.bytes.buffer as ArrayBuffer] : [] })) as ParseResult;
    } catch (err) {
      return failedResult(job, err as Error);
    }
  }

  /**
   * The fused pipeline's end: each thread keeps its own shard's tables and exports the
   * others', and each thread merges the parts of its shard the others hand it.
   */
  private async exchange(): Promise<void> {
    const W = this.opts.windowSeconds;
    const exported = (await Promise.all(this.shardPools.map((p, shard) => p.run({ op: 'fusedExport', windowSeconds: W, shard } satisfies ShardTask)))) as Array<Array<FusedPart | null>>;
    if (this.shards === 1) return;
    await Promise.all(
      this.shardPools.map((p, shard) => {
        const parts = exported.map((e) => e[shard]).filter((x): x is FusedPart => x != null);
        return p.run({ op: 'fusedImport', windowSeconds: W, parts } satisfies ShardTask, { transferList: parts.flatMap(partBuffers) });
      }),
    );
  }

  /**
   * Whether the parse threads post their batches straight to the shard threads, each task by a
   * lane a shard (laneJob), not through this thread (parseJob's route): where the shards run in
   * threads, and not for a conversion, whose shards spool what this thread routes them.
   * FLOWSIEVE_LANES=off: always through this thread (A/B runs, tests; read at each task).
   */
  private lanesApply(): boolean {
    return this.shardsInThreads && this.opts.shardOp !== 'convertAdd' && process.env.FLOWSIEVE_LANES !== 'off';
  }

  /**
   * One parse task whose batches go straight to their shards: a channel a shard, one end to the
   * parse thread, the other to the shard thread ('lane', queued behind the shard's earlier
   * tasks, its memory limits first). The shards count the batches out of `inflight` as they add
   * them, so this thread has nothing to do a batch (drain waits for the count to fall to 0).
   */
  private async laneJob(job: Job): Promise<ParseResult> {
    this.lastLaneJobs++;
    const W = this.opts.windowSeconds;
    const lanes = this.shardPools.map((pool) => {
      const { port1, port2 } = newChannel();
      const lane: ShardTask = { op: 'lane', port: port2, inflight: this.inflightBuf, windowSeconds: W, capacityHint: this.capacityHint, outboundHint: this.outboundHint };
      this.shardWork.push(pool.run(lane, { transferList: [port2] }).catch((err: Error) => this.shardFailed(err)));
      return port1;
    });
    const ring = this.ring ? { ring: this.ring, batchSize: Math.min(job.task.batchSize, this.ring.slotRecords) } : {};
    const task: ParseTask = { ...job.task, lanes, inflight: this.inflightBuf, inflightLimit: this.inflightLimit, ...ring };
    try {
      return (await this.parsePool.run(task, { transferList: [...(lanes as never[]), ...(task.bytes ? [task.bytes.buffer as ArrayBuffer] : [])] })) as ParseResult;
    } catch (err) {
      return failedResult(job, err as Error);
    }
  }

  /** One parse task; its batches are routed to their shards as they arrive. */
  private async parseJob(job: Job): Promise<ParseResult> {
    if (this.lanesApply()) return this.laneJob(job);
    const { port1, port2 } = newChannel();
    let received = 0;
    let expected = -1;
    let done: () => void = () => {};
    const allReceived = new Promise<void>((resolve) => (done = resolve));
    port1.on('message', (m: BatchMessage) => {
      received++;
      this.route(m);
      if (received === expected) done();
    });
    // a batch fits in a slot of the ring (smaller slots at a small --max-memory: batchRingFor)
    const ring = this.ring ? { ring: this.ring, batchSize: Math.min(job.task.batchSize, this.ring.slotRecords) } : {};
    const task: ParseTask = { ...job.task, port: port2, inflight: this.inflightBuf, inflightLimit: this.inflightLimit, ...ring };
    let result: ParseResult;
    try {
      result = (await this.parsePool.run(task, {
        transferList: [port2 as never, ...(task.bytes ? [task.bytes.buffer as ArrayBuffer] : [])],
      })) as ParseResult;
    } catch (err) {
      result = failedResult(job, err as Error);
    }
    expected = result.batches;
    if (received < expected) await allReceived;
    port1.close();
    return result;
  }

  /** One parse task in this thread (parse-here.ts); a failure is the task's, as a parse thread's is (parseJob). */
  private async parseHereJob(job: Job, here: ParseHere): Promise<ParseResult> {
    try {
      return await here.run(job.task);
    } catch (err) {
      return failedResult(job, err as Error);
    }
  }

  private route(m: BatchMessage): void {
    const task: ShardTask =
      this.opts.shardOp === 'convertAdd'
        ? { op: 'convertAdd', batch: m.batch }
        : { op: 'add', windowSeconds: this.opts.windowSeconds, batch: m.batch, capacityHint: this.capacityHint, outboundHint: this.outboundHint };
    const p = this.shardPools[m.shard]!.run(task, { transferList: transferOf(m) })
      .catch((err: Error) => this.shardFailed(err))
      .finally(() => {
        Atomics.sub(this.inflight, INFLIGHT, 1);
        Atomics.notify(this.inflight, INFLIGHT);
        this.parseHere?.batchDone();
      });
    this.shardWork.push(p);
  }

  /** Every shard adds the records it holds back, behind the batches routed to it so far. */
  /** `always`: every shard adds what it holds, however few (else ScanTable.flushEarly decides). */
  private flushHeld(always: boolean): void {
    const task: ShardTask = { op: 'flushHeld', windowSeconds: this.opts.windowSeconds, always };
    for (const pool of this.shardPools) this.shardWork.push(pool.run(task).catch((err: Error) => this.shardFailed(err)));
  }

  /** A shard thread of this engine (watchedShardThread): a thread lost fails the run. */
  private shardThread(): Piscina {
    return watchedShardThread(
      (err) => this.shardFailed(err),
      () => this.closing,
    );
  }

  /**
   * The run fails with the first shard error; the parse threads waiting for room (their batches'
   * count may never fall now) and the drain are woken to stop.
   */
  private shardFailed(err: Error): void {
    this.shardError ??= err;
    Atomics.store(this.inflight, RUN_STOPPED, 1);
    Atomics.notify(this.inflight, INFLIGHT);
  }

  /** Wait until every routed batch is in its shard's accumulators. */
  private async drain(): Promise<void> {
    const work = this.shardWork;
    this.shardWork = [];
    await Promise.all(work);
    await this.lanesDrained();
    if (this.shardError) throw this.shardError;
  }

  /**
   * Wait until the shards have added every batch posted by a lane (laneJob): the batches in
   * flight down to 0 (at once where every batch was routed here: their tasks lowered it). A
   * batch that failed in its shard fails the run, as a routed batch's task does.
   */
  private async lanesDrained(): Promise<void> {
    const inflight = this.inflight;
    if (Atomics.load(inflight, INFLIGHT) !== 0) {
      const alive = setInterval(() => {}, 1 << 30); // a waitAsync keeps no process alive
      try {
        for (let now = Atomics.load(inflight, INFLIGHT); now !== 0 && Atomics.load(inflight, RUN_STOPPED) === 0; now = Atomics.load(inflight, INFLIGHT)) {
          const wait = waitAsync(inflight, INFLIGHT, now);
          if (wait.async) await wait.value;
        }
      } finally {
        clearInterval(alive);
      }
    }
    if (this.shardError) throw this.shardError;
    if (Atomics.exchange(inflight, LANE_FAILED, 0) === 0) return;
    await Promise.all(this.shardPools.map((p) => p.run({ op: 'laneError' } satisfies ShardTask).catch((err: Error) => this.shardFailed(err))));
  }

  /**
   * Verdicts of every window up to `uptoWindow` (all windows when undefined). With
   * `drop`, the finalised windows leave the accumulators (incremental finalisation).
   */
  /**
   * `meanwhile`: work for this thread once the shards have their finalise tasks (none with an inline shard).
   * `last`: the engine's last use before close() (detectThenClose): the memories no thread reads
   * again are given back to the kernel while this thread merges (releaseSpentMemory).
   */
  async finalize(options: { uptoWindow?: number; drop?: boolean; endpointSources?: boolean; last?: boolean } = {}, meanwhile?: () => void, onInbound?: (inbound: InboundVerdicts) => void): Promise<FinalizeOutput> {
    await this.drain();
    const opts = this.opts;
    const { last = false, ...windows } = options;
    const finalizeOpts = { thresholds: opts.thresholds, windowSeconds: opts.windowSeconds, nearMisses: opts.nearMisses, ...windows };
    const inboundTask: ShardTask = {
      op: 'finalizeInbound',
      windowSeconds: opts.windowSeconds,
      opts: finalizeOpts,
      outbound: opts.outbound ?? DEFAULT_OUTBOUND, // callers that predate outbound detection pass none
      split: this.tailSplit(options),
    };
    const outboundTask: ShardTask = { op: 'finalizeOutbound', windowSeconds: opts.windowSeconds };
    // both queued at once: a shard thread finalises its outbound table while this thread
    // merges the inbound verdicts it sent first (the merge needs none of the outbound part)
    const inbound = Promise.all(this.shardPools.map((p) => p.run(inboundTask))) as Promise<InboundReply[]>;
    const outbound = Promise.all(this.shardPools.map((p) => p.run(outboundTask))) as Promise<OutboundReply[]>;
    outbound.catch(() => {}); // awaited below; where the inbound part fails first, no one does
    if (meanwhile && this.shardsInThreads) {
      try {
        meanwhile();
      } catch (err) {
        inbound.catch(() => {}); // the threads are stopped: their tasks fail, no one waits for them
        throw err;
      }
    }
    const replies = await inbound;
    const small = this.smallKeys;
    this.smallKeys = { keys: 0, entries: 0 };
    // a shard that shared its inbound buckets (tail.ts) sends its own part with its outbound
    // reply: a part without verdicts where this thread took every chunk of its buckets
    const shares = replies.flatMap((r) => (r.share ? [finalizeShare(r.share, finalizeOpts)] : []));
    const parts: FinalizeResult[] = [...replies, ...shares];
    const whole = shares.every((r) => r.everyChunk);
    let outs = whole ? null : await outbound;
    if (outs) for (const o of outs) if (o.inboundPart) parts.push(o.inboundPart);
    if (last && outs) this.releaseSpentMemory(replies);
    const all = sortVerdicts(parts.flatMap((r) => r.verdicts));
    const scans = all.filter((v) => v.failed.length === 0);
    const nearMisses = all.filter((v) => v.failed.length > 0);
    const endpointDays = mergeEndpointDays(parts.map((r) => r.endpointDays));
    // the caller's work on the inbound verdicts (detect's analysis) while the shard threads finalise their outbound tables
    if (onInbound && this.shardsInThreads) onInbound({ scans, nearMisses, endpointDays });
    if (!outs) {
      outs = await outbound;
      for (const o of outs) if (o.inboundPart) parts.push(o.inboundPart); // the entries its table held (keys: none)
      if (last) this.releaseSpentMemory(replies);
    }
    const findings = outs.flatMap((o) => o.findings);
    const alerts = buildAlerts(findings, scans, endpointDays, opts.windowSeconds, opts);
    return {
      scans,
      nearMisses,
      endpointDays,
      findings,
      alerts: alerts.alerts,
      alertsSuppressed: alerts.suppressed,
      keys: parts.reduce((s, r) => s + r.keys, small.keys),
      entries: parts.reduce((s, r) => s + r.entries, small.entries),
      accumulatorBytes: replies.reduce((s, r, k) => s + r.tableBytes + outs[k]!.heldBytes, 0),
      accumulatorEntries: replies.reduce((s, r, k) => s + r.tableEntries + outs[k]!.entries, 0),
      // the outbound table's drops join its shard's report, as the shard's own table's do
      memory: mergeMemoryReports(replies.map((r, k) => ({ ...r.memory, outboundDroppedRecords: outs[k]!.droppedRecords, outboundDropped: outs[k]!.dropped }))),
    };
  }

  /**
   * After the engine's last finalise, once every shard has answered both parts: the batch ring's
   * memory (every batch added, the held rows flushed) and each table shared with this thread (the
   * tail split, both parts finalised) are read by no thread again, but this thread holds them
   * until the process ends, whose exit would then free their pages (~300 MB, ~20 ms of the
   * kernel's time after the last output on the 7 M-record bucket). Freed now on libuv's pool
   * instead, while this thread merges and writes (input/native.ts releaseLater). A shard's own
   * tables are freed by its thread as it stops.
   */
  private releaseSpentMemory(replies: InboundReply[]): void {
    // the memory's whole length: a shard grew it to place its held buffer past the slots (scan-wasm.ts)
    if (this.ring) releaseLater(this.ring.memory?.buffer ?? this.ring.data);
    for (const r of replies) if (r.share) releaseLater(r.share.memory.buffer);
  }

  /**
   * Whether a shard is asked to share its inbound finalisation with this thread (tail.ts):
   * only a lone shard in its own thread, at a whole run's finalisation. With two shards or
   * more both cores finalise already (a shard a core), and this thread helping one of them
   * would take the other's core.
   */
  private tailSplit(options: { uptoWindow?: number; drop?: boolean }): boolean {
    return this.shards === 1 && this.shardsInThreads && options.uptoWindow === undefined && !options.drop && tailSplitOn();
  }

  /**
   * Every shard's accumulators, serialised (msgpackr + lz4), one piece at a time: each
   * shard's tables, then the partitions it spilled past --max-memory, read back from disk
   * only when asked for. A checkpoint writes each piece before it asks for the next, so it
   * holds one in memory, however much was spilled. importState takes the pieces back.
   */
  async *exportPieces(): AsyncGenerator<Uint8Array> {
    await this.drain();
    const W = this.opts.windowSeconds;
    for (const pool of this.shardPools) {
      const pieces = (await pool.run({ op: 'exportPieceCount', windowSeconds: W } satisfies ShardTask)) as number;
      for (let piece = 0; piece < pieces; piece++) yield (await pool.run({ op: 'exportPiece', windowSeconds: W, piece } satisfies ShardTask)) as Uint8Array;
    }
  }

  /** exportPieces, all held at once (small states: tests, tools). */
  async exportState(): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for await (const piece of this.exportPieces()) out.push(piece);
    return out;
  }

  /**
   * Load checkpointed states (from any number of shards): each shard keeps the entries
   * whose source falls in its buckets, so a restart may use another worker count.
   */
  async importState(states: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
    await this.drain();
    for await (const state of states) {
      await Promise.all(
        this.shardPools.map((p, shard) =>
          p.run({ op: 'import', windowSeconds: this.opts.windowSeconds, state, shard, shards: this.shards } satisfies ShardTask),
        ),
      );
    }
  }

  /** The live accumulators: entries, bytes, and the windows still open (inbound). */
  async stats(): Promise<ShardStats> {
    await this.drain();
    const task: ShardTask = { op: 'stats', windowSeconds: this.opts.windowSeconds };
    const replies = (await Promise.all(this.shardPools.map((p) => p.run(task)))) as ShardStats[];
    const windows = [...new Set(replies.flatMap((r) => r.windows))].sort((a, b) => a - b);
    return { entries: replies.reduce((s, r) => s + r.entries, 0), bytes: replies.reduce((s, r) => s + r.bytes, 0), windows };
  }

  /**
   * Stop the parse threads once the engine's last ingest is read (detect): they stop while
   * the shards finalise, on a core the finalise leaves idle, not in close() after it. A
   * thread first writes the code cache of its bundle where it found none. A later ingest
   * would start them again.
   */
  closeParsing(): Promise<void> {
    const pool = this.parsePoolStarted;
    if (!pool) return this.parsingClosed;
    this.parsePoolStarted = null;
    const cache = pool.threads.length > 0 ? pool.run({ writeCodeCache: true }).catch(() => 0) : Promise.resolve();
    this.parsingClosed = cache.then(() => pool.destroy());
    return this.parsingClosed;
  }

  /** Stop the threads; `codeCache`: first have them write V8's code cache of their code where they found none. */
  async close(codeCache = true): Promise<void> {
    await this.parsingClosed.catch(() => {});
    if (codeCache) await this.writeCodeCaches();
    this.closing = true;
    await Promise.all([this.parsePoolStarted?.destroy(), ...this.shardPools.map((p) => p.destroy())]);
    this.removeSpills();
    openEngines.delete(this);
  }

  /**
   * One parse thread and one shard thread write the code cache of the bundles they loaded
   * without a fitting one (scripts/code-cache.cjs), with every function this run compiled:
   * the next run's threads start without compiling them. A thread with its cache loaded
   * answers at once. Asked once: detect asks while the shards finalise (the task waits for
   * the finalise on the thread), so that close() can stop the threads at once.
   */
  writeCodeCaches(): Promise<void> {
    this.codeCachesWritten ??= this.askForCodeCaches();
    return this.codeCachesWritten;
  }

  private async askForCodeCaches(): Promise<void> {
    const task = { writeCodeCache: true };
    // a parse pool with no thread (a run on replay files alone) is not made to start one for it
    const parse = this.parsePoolStarted !== null && this.parsePoolStarted.threads.length > 0 ? this.parsePoolStarted : null;
    await Promise.all([parse, this.shardPools[0]].map((p) => p?.run(task).catch(() => 0)));
  }

  /** The spill files of this engine (its shard threads are gone, or the process is stopping). */
  removeSpills(): void {
    removeSpills(this.opts.spillDir ?? defaultSpillDir(), this.owner);
  }
}

let engines = 0;
const openEngines = new Set<Engine>();

/** On a signal that ends the process: remove every open engine's spill files (the threads' files are closed with the process). */
export function removeAllSpills(): void {
  for (const e of openEngines) e.removeSpills();
}

/** Stop every open engine's threads and remove their spill files (a signal ends the process). */
export async function closeAllEngines(): Promise<void> {
  await Promise.all([...openEngines].map((e) => e.close(false).catch(() => e.removeSpills())));
}

/**
 * The engine's batch ring: every batch between the threads lives in one of its slots, so
 * that batch memory is allocated once and bounded (bench/RESULTS.md, issue 16 item 5: fresh
 * batches moved by transfer were freed only when each thread's collector ran, and a flood
 * at --max-memory 32M held hundreds of MB of them). A slot for every batch that may be in
 * flight and for each parse thread's batch under construction per shard, within a
 * sixteenth of --max-memory; when that many slots of --batch-size records do not fit,
 * the slots hold fewer records (at least P * L + N + 2 slots for P parse threads, N
 * shards and L batches a parse thread fills at once, its sink's lanes: N, or 2N where
 * outbound records go apart; so that a parse thread waiting for a slot always has one in
 * flight to wait for: workers/parse.ts).
 */
function batchRingFor(N: number, P: number, inflightLimit: number, opts: DetectOptions): BatchRingShared {
  const budget = (opts.maxMemory ?? defaultMaxMemory()) / 16;
  const fewest = fewestRingSlots(N, P, opts);
  let slotRecords = Math.max(64, opts.batchSize);
  const fit = Math.floor(budget / (slotRecords * BATCH_BYTES_PER_RECORD));
  const slots = Math.max(fewest, Math.min(inflightLimit + fewest - 2, fit));
  if (slots * slotRecords * BATCH_BYTES_PER_RECORD > budget) slotRecords = Math.max(64, Math.floor(budget / slots / BATCH_BYTES_PER_RECORD / 64) * 64);
  return createBatchRing(slots, slotRecords);
}

/**
 * The batch ring's least slots (batchRingFor): P × L batches being filled (L: a parse sink's
 * lanes), one in flight a shard, and two more. Those a run at one parse thread reuses, so the
 * ones parse-here.ts backs ahead of its first writes.
 */
function fewestRingSlots(N: number, P: number, opts: DetectOptions): number {
  return P * sinkLanes(N, outboundApart(opts)) + N + 2;
}

/** Each shard's share of --max-memory, and what to do past it (src/engine/spill.ts). */
async function configureMemory(shardPools: ShardPool[], opts: DetectOptions, owner: string): Promise<void> {
  const maxBytes = Math.floor((opts.maxMemory ?? defaultMaxMemory()) / shardPools.length);
  const spill = opts.spill ?? true;
  const dir = opts.spillDir ?? defaultSpillDir();
  await Promise.all(shardPools.map((p, shard) => p.run({ op: 'memoryLimits', limits: { maxBytes, spill, dir, shard, shards: shardPools.length, owner } } satisfies ShardTask)));
}

/** One batch run over the inputs: ingest everything, finalise every window. */
export async function detect(opts: DetectOptions): Promise<DetectResult> {
  const run = await detectThenClose(opts);
  await run.closed;
  return run.result;
}

/**
 * detect, answering as soon as the results are in: the engine's threads write their code
 * caches and stop (`closed`) while the caller writes the outputs, not before (~30 ms of a
 * run's serial end, issue 19). The caller must await `closed` before it ends.
 */
export async function detectThenClose(opts: DetectOptions): Promise<{ result: DetectResult; closed: Promise<void> }> {
  const t0 = msNow();
  // a small input (files and small folders, up to INLINE_TEXT_BYTES): this thread parses and accumulates
  // it (fused, inline-shard.ts), where the sharded pipeline would start a parse thread and a
  // shard thread a worker, each loading and compiling its code for a fraction of a second of
  // work (the verdicts do not depend on the worker count)
  const oneThread = opts.pipeline !== 'sharded' && fusedMayApply(opts) && lookedSmall(opts.inputs);
  const engine = oneThread ? new Engine({ ...opts, workers: 1 }, true) : new Engine(opts);
  let result: DetectResult;
  try {
    result = await runToResults(engine, opts, t0);
  } catch (err) {
    await engine.close();
    throw err;
  } finally {
    forgetListings(); // the look's, where planning took none
  }
  return { result, closed: engine.close() };
}

async function runToResults(engine: Engine, opts: DetectOptions, t0: number): Promise<DetectResult> {
  const ingest = await engine.ingest(opts.inputs, opts.onProgress, { wholeRun: true });
  const parsingClosed = engine.closeParsing(); // while the shards finalise
  // the code cache task queues behind the finalise on the shard thread: it is done when the
  // results are, and close() stops the threads at once, while the caller writes the outputs
  const fin = await engine.finalize(
    { last: true },
    () => {
      void engine.writeCodeCaches();
      opts.whileFinalising?.(ingest);
    },
    opts.onInboundVerdicts,
  );
  await parsingClosed;
  return {
    scans: fin.scans,
    alerts: fin.alerts,
    alertsSuppressed: fin.alertsSuppressed,
    endpointDays: fin.endpointDays,
    nearMisses: fin.nearMisses,
    findings: fin.findings,
    files: ingest.files,
    totals: ingest.totals,
    bytesIn: ingest.bytesIn,
    keys: fin.keys,
    entries: fin.entries,
    rejects: ingest.rejects,
    wallSeconds: (msNow() - t0) / 1000,
    // keys left out to stay within --max-memory (--no-spill), or outbound records past the
    // outbound table's share of it, make the run partial
    partial: ingest.partial || fin.memory.dropped.length > 0 || fin.memory.outbound_dropped_records > 0,
    workers: engine.shards,
    accumulatorBytes: fin.accumulatorBytes,
    accumulatorEntries: fin.accumulatorEntries,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    memory: fin.memory,
    pipeline: engine.lastPipeline,
    shardParsed: engine.lastShardParsed,
    parsedHere: engine.lastParsedHere,
  };
}

/** Per-file reports from the chunks' results and the packed rows; reject line numbers made absolute. */
function collectReports(files: InputFile[], chunkResults: ChunkResults, fileRows: FileRows, maxRejects: number, replayed: Map<number, ReplayOutcome>): IngestResult {
  const reports: FileReport[] = [];
  const totals = newCounters();
  let bytesIn = 0;
  let partial = false;
  const rejects: ResolvedReject[] = [];
  let minStart = Infinity;
  let maxEnd = -Infinity;
  files.forEach((f, i) => {
    const rep: FileReport = {
      path: f.display, format: f.format, gzip: f.gzip, bytes: 0, decompressedBytes: 0, counters: newCounters(),
      minStart: Infinity, maxEnd: -Infinity, lateByWindow: [], error: f.error,
    };
    const replay = replayed.get(i);
    // a small file of a 'files' task with nothing to say but its row: its report straight from the row
    // (its counters are added to the totals below: addTotals); any other from its results (reportFromResults)
    if (fileRows.has(i) && !replay && !fileRows.hasExtra(i)) fileRows.fill(i, rep);
    else {
      reportFromResults(rep, f, chunkResults[i] ?? (fileRows.has(i) ? [fileRows.result(i)] : []), replay, rejects, maxRejects);
      addCounters(totals, rep.counters);
    }
    minStart = Math.min(minStart, rep.minStart);
    maxEnd = Math.max(maxEnd, rep.maxEnd);
    bytesIn += rep.bytes;
    if (rep.error) partial = true;
    reports.push(rep);
  });
  fileRows.addTotals(totals);
  return { files: reports, totals, bytesIn, rejects, partial, minStart, maxEnd };
}

/**
 * collectReports' report of a file from its parse results (its chunks', or its row's with what
 * the row cannot hold) and its replay outcome: apart from the per-file loop, which TurboFan
 * compiles on a bucket of many small files (each reported from its row), so that this path,
 * which such a run never takes, is not compiled into it (bench/RESULTS.md, session 22 perfile2).
 */
function reportFromResults(rep: FileReport, f: InputFile, results: readonly (ParseResult | undefined)[], replay: ReplayOutcome | undefined, rejects: ResolvedReject[], maxRejects: number): void {
  if (replay) applyReplayOutcome(rep, replay, rejects, maxRejects);
  const late = new Map<number, number>(rep.lateByWindow);
  let lineBase = 0;
  for (const r of results) {
    if (!r) continue;
    if (r.planError) {
      // planned from its first line, its head is damaged: reported as planning reports it
      rep.error = r.planError;
      rep.format = null;
      continue;
    }
    addCounters(rep.counters, r.counters);
    rep.minStart = Math.min(rep.minStart, r.minStart);
    rep.maxEnd = Math.max(rep.maxEnd, r.maxEnd);
    for (const [w, n] of r.lateByWindow) late.set(w, (late.get(w) ?? 0) + n);
    rep.bytes += r.bytesIn;
    rep.decompressedBytes += r.bytesOut;
    if (r.error && !rep.error) {
      // a piece of a split gzip file knows its line within the piece: {line} is the file's line
      const message = r.error.line === undefined ? r.error.message : r.error.message.replace('{line}', String(lineBase + r.error.line));
      rep.error = r.error.offset >= 0 ? `${message} (at byte ${r.error.offset})` : message;
    }
    for (const rj of r.rejects) {
      if (rejects.length < maxRejects) rejects.push({ ...rj, line: rj.line > 0 ? rj.line + lineBase : 0, file: f.display });
    }
    lineBase += r.lines;
  }
  rep.lateByWindow = [...late].sort((a, b) => a[0] - b[0]);
}

/** What a parse task that failed as a whole reports (a 'files' task: every file of it failed so). */
function failedResult(job: Job, err: Error): ParseResult {
  const result: ParseResult = {
    fileIndex: job.file,
    chunkIndex: job.chunk,
    counters: newCounters(),
    rejects: [],
    lines: 0,
    bytesIn: 0,
    bytesOut: 0,
    batches: 0,
    minStart: Infinity,
    maxEnd: -Infinity,
    lateByWindow: [],
    error: { message: `worker failed: ${err.message}`, offset: -1 },
  };
  if (job.task.files) result.files = job.task.files.map((f) => ({ ...result, fileIndex: f.fileIndex, chunkIndex: 0 }));
  return result;
}

/** Atomics.waitAsync (Node 16 on; typed from ES2024, past this build's target). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, index: number, value: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync;

function transferOf(m: BatchMessage): ArrayBuffer[] {
  return batchTransferList(m.batch);
}

/** Those of the input's `cuts` (shares of `total` bytes) that fall inside a file of `size` bytes after `offset`, as shares of the file. */
function cutsWithin(cuts: readonly number[], total: number, offset: number, size: number): number[] {
  return cuts.map((c) => c * total - offset).filter((at) => at > 0 && at < size).map((at) => at / size);
}

/**
 * The parse jobs of every readable file, in file order (stdin read as it comes), for `threads` parse
 * threads. `cuts`: shares of the input at which the shards flush what they hold (tail.ts): a large
 * text file's ranges end there too (textRanges).
 */
function planJobs(
  files: InputFile[],
  opts: DetectOptions,
  shards: number,
  threads: number,
  lateBefore: number,
  skipWhole = false,
  cuts: readonly number[] = [],
  /** the 'files' tasks made smaller towards the end (taperedBudget) */
  taper = false,
  rangeBytes?: number, // a plain AWS text file's ranges at most (textRanges; its default TEXT_RANGE_BYTES)
): () => AsyncGenerator<Job> {
  const common = commonTask(opts, shards, lateBefore);
  const now = opts.nowSeconds?.() ?? Date.now() / 1000;
  const maxFuture = opts.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS;
  const whole = readWhole(opts);
  const budget = groupBudget(files, threads, whole);
  // where the input's cuts fall, as bytes parsed before and within each file (the engine counts the same sizes)
  const total = files.reduce((sum, f) => sum + (f.error ? 0 : Math.max(0, f.size)), 0);
  return async function* () {
    const walk = new PlanWalk(files, whole, new TaskEnds(budget, wholeBytes(files, whole), threads, taper), skipWhole, now, maxFuture);
    for (;;) {
      const full = walk.run();
      if (full) {
        yield groupJob(full, common);
        continue;
      }
      const i = walk.at;
      if (i >= files.length) break;
      const f = files[i]!;
      const offset = walk.before;
      walk.pass(f);
      const notAfter = notAfterFor(f.path, now, maxFuture);
      if (f.open) {
        // stdin or an object in a bucket: sniffed as it arrives (input/streamed.ts)
        const streamBase = { ...common, notAfter, fileIndex: i, path: f.path, display: f.display, account: f.account, region: f.region };
        const source = () => (f.path === '-' && opts.stdin ? opts.stdin() : f.open!());
        for await (const p of streamedPieces(f, source, opts)) yield { file: i, chunk: p.chunkIndex, task: { ...streamBase, ...p } };
        continue;
      }
      const base = {
        ...common,
        notAfter,
        fileIndex: i,
        path: f.path,
        display: f.display,
        gzip: f.gzip,
        account: f.account,
        region: f.region,
        awsFields: f.awsFields,
        headerLine: f.headerLine,
        headUnchecked: f.headUnchecked,
      };
      const format = f.format!;
      const lineFormat = readerFor(format)?.kind === 'lines';
      if (lineFormat && f.gzip) {
        for await (const p of gzipPieces(f.path, f.size, opts)) {
          yield { file: i, chunk: p.index, task: { ...base, format, ...p.task, chunkIndex: p.index, mode: 'bytes' } };
        }
        continue;
      }
      const ranges = opts.textRanges === true && format === 'aws-text' ? textRanges(f.size, threads, opts.chunkBytes, cutsWithin(cuts, total, offset, f.size), rangeBytes) : chunkRanges(f.size, taskBytes(format, opts));
      for (let c = 0; c < ranges.length; c++) {
        const [start, end] = ranges[c]!;
        yield { file: i, chunk: c, task: { ...base, format, chunkIndex: c, mode: 'range', start, end } };
      }
    }
    const rest = walk.rest();
    if (rest) yield groupJob(rest, common);
  };
}

/**
 * planJobs' pass over the files in order: the files it skips and those read whole (grouped into
 * 'files' tasks) taken in `run`, a small synchronous loop, so that the async generator, a large
 * function, steps once a task or a file planned otherwise rather than once a file. As one loop in
 * the generator, TurboFan compiled the whole generator for the tiny-object bucket's 10,080 steps
 * (~36 ms of a compile thread, the run's largest; bench/RESULTS.md, session 22 perfile2).
 */
class PlanWalk {
  /** the next file to look at */
  at = 0;
  /** bytes of the readable files before `at` (the engine counts the same sizes) */
  before = 0;
  private group: GroupFile[] = [];

  constructor(
    private readonly files: readonly InputFile[],
    private readonly whole: (f: InputFile) => boolean,
    private readonly ends: TaskEnds,
    private readonly skipWhole: boolean, // the fused pipeline's queues hold them (fusedPlan)
    private readonly now: number,
    private readonly maxFuture: number,
  ) {}

  /** On from `at` over the files skipped or read whole: a group that is now full, or null at a file planned otherwise (at `at`) or the end. */
  run(): GroupFile[] | null {
    const files = this.files;
    while (this.at < files.length) {
      const i = this.at;
      const f = files[i]!;
      if (!f.error && f.format !== 'replay' && (f.format || f.open) && (f.open || !this.whole(f))) return null;
      this.pass(f);
      if (f.error || (!f.format && !f.open) || f.format === 'replay' || this.skipWhole) continue; // replay files: src/replay/input.ts
      // a file read whole by one thread: with others, in one 'files' task
      const group = this.group;
      group.push(groupFile(f, i, notAfterFor(f.path, this.now, this.maxFuture)));
      if (this.ends.add(weight(f)) || group.length >= MAX_GROUP_FILES) {
        this.ends.end();
        this.group = [];
        return group;
      }
    }
    return null;
  }

  /** The file at `at` is planned: on past it. */
  pass(f: InputFile): void {
    if (!f.error) this.before += Math.max(0, f.size);
    this.at++;
  }

  /** The last group, part-filled (null if none). */
  rest(): GroupFile[] | null {
    return this.group.length > 0 ? this.group : null;
  }
}

/**
 * The fused pipeline's jobs: the files read whole in a queue a thread (fused.ts
 * threadsByAffinity), grouped into 'files' tasks in file order; the chunks of large files
 * (and the pieces of large gzip files) shared, as planJobs makes them.
 */
function fusedPlan(files: InputFile[], opts: DetectOptions, shards: number, lateBefore: number): { queues: Job[][]; rest: () => AsyncGenerator<Job> } {
  const common = commonTask(opts, shards, lateBefore);
  const now = opts.nowSeconds?.() ?? Date.now() / 1000;
  const maxFuture = opts.maxFutureSeconds ?? DEFAULT_MAX_FUTURE_SECONDS;
  const whole = readWhole(opts);
  const budget = groupBudget(files, shards, whole).tail; // the fused pipeline's queues: no early flushes
  const wholeFiles: number[] = [];
  files.forEach((f, i) => {
    if (!f.error && f.format && !f.open && f.format !== 'replay' && whole(f)) wholeFiles.push(i);
  });
  const threadOf = threadsByAffinity(wholeFiles.map((i) => ({ key: `${files[i]!.account}\0${files[i]!.region}`, weight: weight(files[i]!) })), shards);
  const queues: Job[][] = Array.from({ length: shards }, () => []);
  for (let t = 0; t < shards; t++) {
    let group: GroupFile[] = [];
    let groupBytes = 0;
    wholeFiles.forEach((i, k) => {
      if (threadOf[k] !== t) return;
      const f = files[i]!;
      group.push(groupFile(f, i, notAfterFor(f.path, now, maxFuture)));
      groupBytes += weight(f);
      if (groupBytes >= budget || group.length >= MAX_GROUP_FILES) {
        queues[t]!.push(groupJob(group, common));
        group = [];
        groupBytes = 0;
      }
    });
    if (group.length > 0) queues[t]!.push(groupJob(group, common));
  }
  return { queues, rest: planJobs(files, opts, shards, shards, lateBefore, true) };
}

/** What every parse task of a run shares. */
function commonTask(opts: DetectOptions, shards: number, lateBefore: number): CommonTask {
  return {
    shards,
    lateBefore,
    windowSeconds: opts.windowSeconds,
    batchSize: opts.batchSize,
    partition: opts.partition,
    maxRejects: opts.maxRejects,
    maxLineBytes: opts.maxLineBytes,
    maxDecompressedBytes: opts.maxDecompressedBytes,
    regionMap: opts.regionMap,
    cloud: opts.cloud,
    timeRange: opts.timeRange,
    homeNet: opts.outbound?.homeNet,
    outboundApart: outboundApart(opts),
    // a conversion's shards write the strings its batches carry into the replay file
    dictionaryIds: opts.shardOp !== 'convertAdd',
  };
}

/**
 * Whether a run's parse sinks put outbound records in batches of their own (flow/sink.ts
 * SinkOptions.outboundApart): not where the shards write the records out in the order they
 * come (convert), nor with FLOWSIEVE_OUTBOUND_APART=off (A/B runs).
 */
function outboundApart(opts: DetectOptions): boolean {
  return opts.shardOp !== 'convertAdd' && process.env.FLOWSIEVE_OUTBOUND_APART !== 'off';
}

/** A file read whole by one thread (not cut into chunks or inflated in pieces by the main thread). */
function readWhole(opts: DetectOptions): (f: InputFile) => boolean {
  return (f) => {
    const lineFormat = readerFor(f.format!)?.kind === 'lines';
    return lineFormat ? (f.gzip ? f.size <= (opts.gzipSplitBytes ?? SPLIT_GZIP_BYTES) : f.size <= taskBytes(f.format!, opts)) : true;
  };
}

/**
 * Bytes of a plain file of lines a parse task reads (--chunk-size): twice that for GCP NDJSON,
 * whose LogEntries (~1 KB) are ten times an AWS line. A task's fixed costs (its sink, the
 * reader's set-up, a part-filled batch a shard at its end: a message, a shard task, an add of
 * few rows) are paid per task; on the 397 MB of GCP blobs 16 MiB tasks took 0.94x the CPU of
 * 8 MiB ones (bench/RESULTS.md, session 14 gcpjson).
 */
function taskBytes(format: string, opts: DetectOptions): number {
  return format === 'gcp' ? 2 * opts.chunkBytes : opts.chunkBytes;
}

function groupFile(f: InputFile, i: number, notAfter: number): GroupFile {
  return { fileIndex: i, path: f.path, display: f.display, format: f.format!, gzip: f.gzip, size: f.size, account: f.account, region: f.region, awsFields: f.awsFields, headerLine: f.headerLine, headUnchecked: f.headUnchecked, sniffInThread: f.sniffInThread, notAfter };
}

/** At most this many files in one 'files' task (its result lists each). */
const MAX_GROUP_FILES = 512;

/** Bytes of text a file stands for (gzip inflates about 5 times), to size 'files' tasks. */
const weight = (f: InputFile): number => Math.max(1, f.size) * (f.gzip ? 5 : 1);

/**
 * Text bytes per 'files' task: about eight tasks per parse thread over the files read whole
 * (so that the threads finish together), each within 256 KiB - 32 MiB (`tail`) over the last
 * part of those files (from `fineFrom` bytes of them on), and up to 128 MiB (`head`) before it.
 * A task costs every thread a fixed amount (its message and result, a lane a shard and its
 * close, the last part-filled batch of each lane, the shard's task): on the 7 M-record
 * bucket 32 MiB tasks made ~40 of them; with 15 the process took 0.965x the CPU by thread, 0.98-0.99x
 * by wait4 (bench/RESULTS.md, session 21 mainhelp). The last part keeps short tasks: the shards'
 * early flushes (tail.ts EARLY_FLUSHES) fall where a task ends past their share of the input,
 * and the threads' last tasks end together.
 */
function groupBudget(files: InputFile[], threads: number, whole: (f: InputFile) => boolean): GroupBudget {
  return groupBudgetOf(wholeBytes(files, whole), threads);
}

/** Text bytes of the files read whole (weight). */
function wholeBytes(files: InputFile[], whole: (f: InputFile) => boolean): number {
  let total = 0;
  for (const f of files) if (!f.error && f.format && f.format !== 'replay' && !f.open && whole(f)) total += weight(f);
  return total;
}

/** groupBudget of whole-read files of `total` text bytes in all (exported for tests). */
export function groupBudgetOf(total: number, threads: number): GroupBudget {
  const even = Math.max(256 << 10, Math.ceil(total / (8 * threads)));
  return { head: Math.min(HEAD_TASK_BYTES, even), tail: Math.min(TAIL_TASK_BYTES, even), fineFrom: FINE_TASKS_FROM * total };
}

/** Whether a group of `groupBytes` ends here, `grouped` bytes of the whole-read files placed with it. */
export function groupFull(budget: GroupBudget, groupBytes: number, grouped: number): boolean {
  return groupBytes >= (grouped < budget.fineFrom ? budget.head : budget.tail);
}

export interface GroupBudget {
  /** the most text bytes a task of the input's first part holds */
  head: number;
  /** the same from `fineFrom` bytes of the whole-read files on */
  tail: number;
  fineFrom: number;
}

const HEAD_TASK_BYTES = 128 << 20;
const TAIL_TASK_BYTES = 32 << 20;

/** Where the short tasks begin, as a share of the whole-read files' text: a little before the first early flush. */
const FINE_TASKS_FROM = Math.max(0, Math.min(...EARLY_FLUSHES) - 0.05);

/**
 * A 'files' task's bytes where the threads take the tasks in turn as each ends one (the shard
 * thread parsing too: Engine.parsesInShard): the budget, but no more than a quarter of each
 * thread's share of the bytes not yet in a task (`left`), so that the last tasks are small (a
 * file or two) and the threads end together: with tasks of the budget to the end, the thread
 * that took the last one parsed alone for up to a task's time (~30 MB of GCP, ~40 ms) while
 * the other core idled.
 */
export function taperedBudget(budget: number, left: number, threads: number): number {
  return Math.min(budget, Math.max(MIN_TAPERED_GROUP, left / (4 * threads)));
}

/** The least bytes of a tapered 'files' task (taperedBudget). */
const MIN_TAPERED_GROUP = 256 << 10;

/**
 * Where planJobs ends its 'files' tasks, a file at a time: at the budget of the input's part
 * (groupFull), or, where the shard thread parses too (`taper`), at the tapered budget within the
 * short tasks' (taperedBudget). Exported for tests, which group sizes with it as planJobs does.
 */
export class TaskEnds {
  private bytes = 0; // the open task's
  private grouped = 0; // the whole-read files' bytes placed so far
  private left: number; // the whole-read files' bytes not yet in an ended task

  constructor(
    private readonly budget: GroupBudget,
    total: number,
    private readonly threads: number,
    private readonly taper: boolean,
  ) {
    this.left = total;
  }

  /** A file of `weight` joins the open task: whether that task is now full. */
  add(weight: number): boolean {
    this.bytes += weight;
    this.grouped += weight;
    return this.taper ? this.bytes >= taperedBudget(this.budget.tail, this.left, this.threads) : groupFull(this.budget, this.bytes, this.grouped);
  }

  /** The open task ends (full, or at the file count's bound). */
  end(): void {
    this.left -= this.bytes;
    this.bytes = 0;
  }
}

type CommonTask = Omit<ParseTask, 'port' | 'lanes' | 'inflight' | 'inflightLimit' | 'fileIndex' | 'chunkIndex' | 'path' | 'display' | 'format' | 'mode' | 'gzip' | 'start' | 'end' | 'account' | 'region' | 'notAfter'>;

/** One task for the files of a group; a group of one is that file's own task. */
function groupJob(group: GroupFile[], common: CommonTask): Job {
  const f = group[0]!;
  if (group.length === 1) {
    const lineFormat = readerFor(f.format)?.kind === 'lines';
    const mode = !lineFormat ? 'document' : f.gzip ? 'gzip' : 'range';
    return { file: f.fileIndex, chunk: 0, task: { ...common, ...f, chunkIndex: 0, mode, start: 0, end: f.size } };
  }
  return { file: f.fileIndex, chunk: 0, task: { ...common, ...f, chunkIndex: 0, mode: 'files', start: 0, end: 0, files: group } };
}

/**
 * A monotonic clock in milliseconds. Not `performance.now()`: the global's first use loads
 * perf_hooks and eight of its modules, which a run of one thread needs for nothing else (with
 * worker_threads, newChannel: ~17 M instructions, ~2 ms of the main thread; bench/RESULTS.md,
 * session 24 azure3).
 */
const msNow = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * A port pair for a parse task's batches (parseJob, laneJob). worker_threads is loaded here,
 * not with this module: a run with no parse thread (Azure blobs at one worker) then never loads
 * it and the 25 stream modules it brings (as for msNow).
 */
function newChannel(): MessageChannel {
  const { MessageChannel: Channel } = createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads');
  return new Channel();
}

/** runJob's thread for a task parsed in the shard thread of a run of one shard (Engine.parsesInShard). */
const IN_SHARD = -2;

/**
 * A GCP NDJSON file's bytes counted as text bytes for the inbound table's size hint: a LogEntry
 * line is ~1 KB for one record where an AWS line is ~112 bytes. Counted as AWS text, 397 MB of
 * GCP sized the inbound table for 1.59 M entries (145 MiB, its index 2.27 M slots) where the
 * run makes 96 k, and its held buffer for ~0.8 M rows: it never filled, so every inbound record
 * was added in the finalisation's one flush, on the run's serial tail (~20 ms; an early flush
 * into that empty, oversized table cost more than it saved: c9a4c56). Sized per record, the
 * held buffer fills and flushes while the files are parsed. The outbound table keeps the size
 * the bytes give it: GCP's outbound share is large (109 k of 381 k records in the bench's
 * blobs), and a table an eighth of the smaller hint grew twice during the run (1.04x CPU).
 * bench/RESULTS.md, session 15 gcp.
 */
const GCP_LINE_SHARE = 0.11;

/**
 * Entries to size each shard's inbound and outbound tables for: about one distinct (key,
 * endpoint) entry per 250 bytes of text (gzip counts ~5x, replay ~7x: 16 bytes a row against
 * 112 a line; GCP NDJSON GCP_LINE_SHARE for the inbound table).
 */
export function tableHints(files: InputFile[], shards: number): { inbound: number; outbound: number } {
  let inbound = 0;
  let outbound = 0;
  for (const f of files) {
    if (f.error) continue;
    const size = f.format === 'replay' && !f.gzip ? replayHintBytes(f.path, f.size) : Math.max(0, f.size);
    const text = size * (f.gzip || (f.open && f.path.endsWith('.gz')) ? 5 : f.format === 'replay' ? 7 : 1);
    inbound += f.format === 'gcp' ? text * GCP_LINE_SHARE : text;
    outbound += text;
  }
  return { inbound: Math.ceil(inbound / 250 / shards), outbound: Math.ceil(outbound / 250 / shards) };
}

/** The formats whose files the shard thread parses too (Engine.parsesInShard). */
const IN_SHARD_FORMATS: ReadonlySet<string> = new Set(['gcp']);

/** Bytes of input under which the shard thread parses nothing: its own load of the parse code, ~10-15 ms of CPU, would not pay. */
const IN_SHARD_MIN_BYTES = 64 << 20;

/**
 * The items run by every consumer's lanes, each lane taking the next item as it ends one:
 * the consumers share the items by how fast each gets through them.
 */
async function runShared<T>(items: AsyncIterator<T>, consumers: Array<{ lanes: number; run: (item: T) => Promise<void> }>): Promise<void> {
  const lane = async (run: (item: T) => Promise<void>): Promise<void> => {
    for (let r = await items.next(); !r.done; r = await items.next()) await run(r.value);
  };
  await Promise.all(consumers.flatMap(({ lanes, run }) => Array.from({ length: lanes }, () => lane(run))));
}

async function runWithConcurrency<T>(items: AsyncIterable<T>, limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  const running = new Set<Promise<void>>();
  for await (const item of items) {
    const p: Promise<void> = fn(item).finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
}
