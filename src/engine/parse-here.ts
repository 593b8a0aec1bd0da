/**
 * A large plain AWS text file, or a folder of plain JSON blobs whose paths name their format
 * (GCP exports, Azure PT1H.json), parsed in the engine's thread, its batches routed to the
 * shard threads as they fill: no parse thread (at one parse thread, or for the text file on a
 * machine of two cores: parseHereMayApply). Azure blobs alone, whose one shard is placed in
 * the engine's thread (shard-place.ts), are parsed by that shard itself
 * (Engine.shardHereParses). On such a run the engine's thread only relays batches once it has
 * planned, while a parse thread boots (Node's worker bootstrap 16-20 ms and its bundle ~8 ms
 * of CPU) on the cores the shard threads' boots need too: the first record was parsed ~100 ms
 * into the run, ~30 ms after planning (bench/RESULTS.md, session 16 firstread). Parsed here,
 * the first block is read right after planning, beside the shard threads' boots, and each
 * batch reaches its shard with one message instead of two (bench/RESULTS.md, session 17
 * textwall). On the JSON blobs the parse thread's boot and its isolate's second compile of the
 * readers' code are saved: GCP 0.965x CPU at one worker, Azure 0.85x (bench/RESULTS.md,
 * session 18 jsonhere). FLOWSIEVE_PARSE_HERE=off keeps the parse threads (A/B runs); =always
 * parses here one plain file of any size at any worker count (tests; JSON at one parse thread).
 */
import { fileURLToPath } from 'node:url';
import { statSync, openSync, readSync, closeSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { packStrings, type FlowBatchData } from '../flow/batch.js';
import { populateLater } from '../input/native.js';
import { BatchRing, type BatchRingShared } from '../flow/batch-ring.js';
import type { InputFile } from '../input/plan.js';
import { namedJsonFolder } from '../input/named-formats.js';
import type { FormatName } from '../formats/types.js';
import { FILE_MAGIC, isReplayHead } from '../formats/replay.js';
import { workerModule } from './inline-shard.js';
import { INLINE_TEXT_BYTES } from './small-input.js';
import { parsePoolShape } from './pool.js';
import type { ParseInput, ParseResult } from './tasks.js';
import { DEFAULT_RUN, type DetectOptions } from './types.js';

/** workers/parse.ts parseHere, as this thread loads it. */
type ParseHereFn = (
  task: ParseInput,
  flush: (shard: number, batch: FlowBatchData) => void,
  alloc: ((capacity: number) => FlowBatchData | null) | null,
  pause: () => Promise<void>,
) => Promise<ParseResult>;

/**
 * Whether these options may parse here (the engine then starts no parse thread until planning
 * says otherwise, and detect none early): one input, and either
 * - a plain (not gzip) file above the small input's size (smaller ones are read fused in this
 *   thread, small-input.ts), at one parse thread asked for (one worker, or --parse-threads 1)
 *   or, at the default parse threads, on no more than FEW_CORES cores: there a second parse
 *   thread had no core of its own, and the shards' adds take about the parse's CPU, so that
 *   one parser keeps the cores as busy (the 224 MB file at 2 workers: 0.90x wall, 0.88x CPU;
 *   bench/RESULTS.md, session 17 textwall); or
 * - at one parse thread, a folder whose first file is a plain JSON blob its path names
 *   (namedJsonFolder; JSON_HERE_FORMATS says why not at more).
 * Planning decides (parsesHereFits). `cores`: the machine's (tests).
 */
export function parseHereMayApply(opts: ParseHereOptions, cores = availableParallelism()): boolean {
  return parseHereInput(opts, cores) !== null;
}

type ParseHereOptions = Pick<DetectOptions, 'workers' | 'parseThreads' | 'inputs' | 'chunkBytes' | 'pipeline' | 'shardOp' | 'spill' | 'maxMemory'>;

/**
 * What parseHereMayApply found: 'file' (one large plain file, its format not known before
 * planning), the format its path names of a JSON folder's first file, or null (no parse here).
 */
export function parseHereInput(opts: ParseHereOptions, cores = availableParallelism()): 'file' | FormatName | null {
  const setting = process.env.FLOWSIEVE_PARSE_HERE;
  if (setting === 'off' || opts.pipeline === 'fused' || opts.shardOp === 'convertAdd' || opts.inputs.length !== 1) return null;
  const input = opts.inputs[0]!;
  const oneThread = parsePoolShape(opts).threads === 1;
  const oneParser = oneThread || (opts.parseThreads === undefined && cores <= FEW_CORES);
  if (setting === 'always') return plainFileAbove(input, 0) ? 'file' : null;
  if (oneParser && plainFileAbove(input, INLINE_TEXT_BYTES)) return 'file';
  return oneThread ? namedJsonFolder(input) : null;
}

/** The most cores on which a run at the default parse threads parses here at any worker count (parseHereMayApply). */
export const FEW_CORES = 2;

/**
 * The shard threads of a run: `--workers`, but one where this thread may parse one large plain
 * file at the default parse threads on FEW_CORES cores or fewer (parseHereInput's 'file', not
 * FLOWSIEVE_PARSE_HERE=always): this thread's parse is the run's critical path on one core, and
 * one shard's adds leave the other core about as busy as the parse (bench/RESULTS.md, session 21
 * bigtext), so a second shard thread had no core of its own. It cost its isolate's boot and a
 * second compile of the shard's code on V8's helpers, and four lanes' part-filled batches: the
 * 224 MB v2 file at two workers took 1.07x the CPU of one (bench/RESULTS.md, session 23 text).
 * The verdicts do not depend on the shards' count (the summary still names the workers asked
 * for); what a run past --max-memory drops does (each shard has its share of the limit:
 * docs/replay.md): the partitions of a run without spilling, and the outbound records past each
 * shard's outbound table (summary.json memory.outbound_dropped_records, spilling or not), so a
 * run with --max-memory or without spilling keeps the shards asked for.
 */
export function shardThreads(opts: ParseHereOptions, cores = availableParallelism()): number {
  const asked = Math.max(1, Math.floor(opts.workers));
  if (asked === 1 || opts.parseThreads !== undefined || opts.spill === false || opts.maxMemory !== undefined || cores > FEW_CORES || process.env.FLOWSIEVE_PARSE_HERE === 'always') return asked;
  return hereTextFile(opts, cores) ? 1 : asked;
}

/**
 * Whether this thread may parse the run's one large plain file (parseHereInput's 'file') and that
 * file is not a replay file: a replay file's shards read its blocks themselves, one on each core,
 * so its run keeps the shards asked for (two shards: 0.96x the wall of one, 1.19x the CPU;
 * bench/RESULTS.md, session 23 integrator).
 */
function hereTextFile(opts: ParseHereOptions, cores: number): boolean {
  return parseHereInput(opts, cores) === 'file' && plainFileKind(opts.inputs[0]!, 0) === 'text';
}

/**
 * The most bytes of a range of a file parsed here (input/plan.ts textRanges, where a parse
 * thread's ranges are TEXT_RANGE_BYTES), and its ranges are not cut at the shards' early held
 * flushes (engine/tail.ts): each task here costs ~5-6 ms of CPU of its own (its sink and
 * reader, its last part-filled batch a lane, their adds and compiles: ~3 ms of this thread's,
 * ~1.4 of the shard's, ~1 of V8's helpers), and the early flushes bought nothing on such a run
 * (FLOWSIEVE_TAIL=serial: 0.998x wall). The 224 MB v2 file in one range instead of six took
 * 0.974x the wall and 0.968x the CPU at one worker (0.988x, 0.951x at two), the 98 MB v3 file
 * in one instead of three 0.974x, 0.938x (quiet pairs; bench/RESULTS.md, session 21 bigtext).
 * A range is still a progress step: 256 MiB is about a second of parse here.
 */
export const PARSE_HERE_RANGE_BYTES = 256 << 20;

/**
 * The records of a batch where this thread may parse one plain file of HERE_BATCH_MIN_BYTES or
 * more (parseHereInput's 'file') and --batch-size is left at its default: four times it. Fewer
 * batches, fewer of each batch's fixed costs (when it was measured each batch of a lane also
 * started from an empty string table, which FlowSink's dictionary ids have since removed: a
 * lane's strings are no longer interned again batch after batch): on the 224 MB v2 file
 * batches of 131,072 records took 0.94-0.97x the CPU of 32,768 at one worker, the main
 * thread and the shard 0.93-0.96x each, for ~40 MB more of the batch ring at the peak
 * (bench/RESULTS.md, session 23 text). A --batch-size given otherwise is kept.
 */
export const HERE_BATCH_RECORDS = 4 * DEFAULT_RUN.batchSize;

/**
 * The least file for HERE_BATCH_RECORDS: on the 51 MB and 98 MB files the larger batches saved
 * the main thread and the shard 4-5 % too, but the ring's first slots, backed ahead on libuv's
 * pool (ParseHere.backRingAhead), are four times larger, and the runs came out level.
 */
export const HERE_BATCH_MIN_BYTES = 128 << 20;

/** `opts` with HERE_BATCH_RECORDS where it applies (the Engine's options). */
export function withHereBatches(opts: DetectOptions, cores = availableParallelism()): DetectOptions {
  if (opts.batchSize !== DEFAULT_RUN.batchSize || !hereTextFile(opts, cores) || !plainFileAbove(opts.inputs[0]!, HERE_BATCH_MIN_BYTES - 1)) return opts;
  return { ...opts, batchSize: HERE_BATCH_RECORDS };
}

/** Whether `path` is a regular file of more than `bytes` bytes that does not start as gzip does (a replay file is one). */
function plainFileAbove(path: string, bytes: number): boolean {
  return plainFileKind(path, bytes) !== null;
}

/**
 * What a regular file of more than `bytes` bytes starts as: 'replay' (a replay file's magic),
 * 'text' (anything else but gzip); null where it starts as gzip does, or is no such file.
 */
function plainFileKind(path: string, bytes: number): 'text' | 'replay' | null {
  if (path === '-') return null;
  try {
    const st = statSync(path);
    if (!st.isFile() || st.size <= bytes) return null;
    const head = new Uint8Array(FILE_MAGIC.length);
    const fd = openSync(path, 'r');
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return null;
    return n === head.length && isReplayHead(head) ? 'replay' : 'text';
  } catch {
    return null; // planning reports it
  }
}

/**
 * The JSON formats read here, at one parse thread only (`oneThread`): their parse is most of a
 * run's CPU (the adds are light), so a lone parser in this thread is the run's critical path
 * where two parse threads would share it (at two workers on two cores this thread ran 0.6x
 * of the GCP run's CPU: bench/RESULTS.md, session 18 jsonhere).
 */
const JSON_HERE_FORMATS: ReadonlySet<string> = new Set(['gcp', 'azure-nsg', 'azure-vnet']);

/**
 * Whether the planned files are read here: plain AWS text files alone, or at one parse thread
 * (`oneThread`) plain AWS text files and JSON blobs of JSON_HERE_FORMATS (files in error aside).
 */
export function parsesHereFits(files: readonly InputFile[], oneThread: boolean): boolean {
  let any = false;
  for (const f of files) {
    if (f.error) continue;
    if (f.open || f.gzip || !f.format || (f.format !== 'aws-text' && !(oneThread && JSON_HERE_FORMATS.has(f.format)))) return false;
    any = true;
  }
  return any;
}

/**
 * The parse tasks of an ingest run in this thread, one at a time in the order given, as one
 * parse thread runs them. Each full batch counts in the engine's in-flight count and goes to
 * `route` at once; between blocks of a range the parse lets this thread's event loop run (the
 * shard pool's replies, the next batch's dispatch) and waits while the in-flight count is at
 * its limit, as a parse thread does.
 */
export class ParseHere {
  private parse: Promise<ParseHereFn> | null = null;
  private turn: Promise<unknown> = Promise.resolve();
  private freed: (() => void) | null = null;
  private readonly ring: BatchRing;

  constructor(
    ring: BatchRingShared,
    firstSlots: number,
    private readonly inflight: Int32Array,
    private readonly limit: number,
    private readonly route: (shard: number, batch: FlowBatchData) => void,
  ) {
    this.ring = new BatchRing(ring);
    this.backRingAhead(ring, firstSlots);
  }

  /**
   * The slots this thread fills first backed on libuv's pool now, while the parse module loads
   * and the shard threads boot: each batch's first write into a fresh slot otherwise took a
   * page fault a 4 KiB page in this thread, the run's parser (3-4 k fewer of its faults on the
   * 51 MB text file, whose batches take slots 0-4 of 2.7 MB; bench/RESULTS.md, session 19
   * textwall). `count`: the ring's least (run.ts fewestRingSlots: one a batch in flight per
   * shard, one each of its sink's lanes being filled, and two more), those a run at one parse
   * thread reuses. FLOWSIEVE_POPULATE=off: none.
   */
  private backRingAhead(shared: BatchRingShared, count: number): void {
    const [at, bytes] = this.ring.firstSlots(count);
    populateLater(new Uint8Array(shared.data), new Float64Array([at, bytes]));
  }

  run(task: ParseInput): Promise<ParseResult> {
    const mine = this.turn.then(async () => (await (this.parse ??= loadParse()))(task, this.flush, this.alloc, this.pause));
    this.turn = mine.catch(() => {});
    return mine;
  }

  /** A routed batch was added (the engine lowered the in-flight count): a parse waiting for room goes on. */
  batchDone(): void {
    const freed = this.freed;
    this.freed = null;
    freed?.();
  }

  private readonly flush = (shard: number, batch: FlowBatchData): void => {
    Atomics.add(this.inflight, 0, 1);
    packStrings(batch); // the shard thread unpacks them (workers/shard.ts shardTask)
    this.route(shard, batch);
  };

  /** A free slot of the ring, or null (the sink allocates a batch): this thread must not wait for one. */
  private readonly alloc = (capacity: number): FlowBatchData | null => this.ring.take(capacity);

  private readonly pause = async (): Promise<void> => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (Atomics.load(this.inflight, 0) >= this.limit) await new Promise<void>((resolve) => (this.freed = resolve));
  };
}

function loadParse(): Promise<ParseHereFn> {
  const file = fileURLToPath(new URL('../../workers/parse.js', import.meta.url));
  return workerModule<{ parseHere: ParseHereFn }>(file).then((m) => m.parseHere);
}
