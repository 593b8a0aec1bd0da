/**
 * Parse worker (piscina). One task = one chunk of one input file: read, decompress,
 * parse into typed-array columns, classify and shard each record by its source address,
 * and post full batches to the main thread, which routes them to their shard worker.
 */
import { FlowSink, newCounters, type Reject, type SinkCounters, type SinkOptions } from '../src/flow/sink.js';
import { batchTransferList, packStrings, type FlowBatchData } from '../src/flow/batch.js';
import { allReaders, readerFor } from '../src/formats/registry.js';
import type { DocumentReader, FormatName, LineReader, ReaderContext } from '../src/formats/types.js';
import { Head } from '../src/formats/sniff.js';
import { dropBlobsAhead, headWordsOf, readBlobsAhead, takeBlobAhead, type PlannedBlob } from '../src/input/blobs-ahead.js';
import { adviseHugePages, AHEAD_FILES, dropInflatedAhead, endFileReads, giveInflated, inflateAhead, readGzipLines, readInflatedLines, readLineBytes, readLineRange, readLineRangePausing, readPlainReused, readWhole, smallGzip, takeInflatedAhead, HeadError, InputError, type GzipReadResult, type SmallGzip } from '../src/input/read.js';
import { headError, planFromBytes, planFromHead, planFromText, type InputFile } from '../src/input/plan.js';
import { INFLIGHT, RUN_STOPPED, type GroupFile, type ParseInput, type ParseResult, type ParseTask } from '../src/engine/tasks.js';
import { packFiles } from '../src/engine/file-results.js';
import { statSync } from 'node:fs';
import { gcpWasm } from '../src/formats/gcp-wasm.js';
import { BatchRing } from '../src/flow/batch-ring.js';

/**
 * A parse task, run when this thread's task before it has ended: piscina may hand a thread
 * its next task while one runs (src/engine/run.ts parsePool), so that the thread need not
 * wait for the main thread between tasks, but a thread parses one task at a time.
 */
export default function parseChunk(task: ParseTask): Promise<ParseResult> {
  waiting.push(task);
  const mine = turn.then(() => {
    waiting.splice(waiting.indexOf(task), 1);
    return parseTask(task);
  });
  turn = mine.catch(() => {}); // a failed task is reported by its own promise; the next runs
  return mine;
}

/**
 * The ring's slots backed by huge pages from their first touch on (read.ts adviseHugePages): the
 * parse threads touch its slots first, each batch's columns, and a run touches as many slots as
 * it keeps in flight (~7 k faults of 4 KiB on the bucket). Asked at every task (one system call;
 * a task brings the ring's SharedArrayBuffer as a new object, so a ring is not told from another).
 * Its slots only: the memory past them holds each shard's held buffer and inbound table
 * (engine/scan-wasm.ts), whose sparse pages huge ones would zero whole (a table in it on huge
 * pages: the shard 1.04x, libuv's pool 1.15x its CPU on the 7 M bucket, bench/RESULTS.md,
 * session 23 heldone).
 */
function adviseRing(ring: BatchRing, data: SharedArrayBuffer): void {
  const [at, bytes] = ring.firstSlots(ring.slots);
  adviseHugePages(new Uint8Array(data, 0, Math.min(data.byteLength, at + bytes)));
}

/**
 * `format`'s reader made ready in this thread ahead of its first task (a shard thread's
 * 'fusedLoad', workers/shard.ts): the GCP module compiled and instantiated (gcp-wasm.ts).
 */
export function loadReader(format: FormatName): undefined {
  if (format === 'gcp') gcpWasm();
  return undefined;
}

/** This thread's files inflated ahead, started and taken (tests: the bundle has its own copy of read.ts). */
export { inflatedAheadNow } from '../src/input/read.js';

/** The end of the last task handed to this thread (parseChunk). */
let turn: Promise<unknown> = Promise.resolve();

/**
 * Tasks handed to this thread that wait for their turn, in the order they run: the last
 * files of a task start inflating the next task's first ones (inflateNext).
 */
const waiting: ParseTask[] = [];

async function parseTask(task: ParseTask): Promise<ParseResult> {
  if (posting) throw new Error('a parse thread takes one task at a time'); // parseChunk lets them take turns
  const batchRing = task.ring ? new BatchRing(task.ring) : null; // the engine's batch slots, shared with the shards
  if (task.ring) adviseRing(batchRing!, task.ring.data);
  posting = { task, inflight: new Int32Array(task.inflight), ring: batchRing };
  try {
    // ring slots are reused memory: every batch of a task starts at full size, so a task posts
    // one message per shard per batchSize records, not three or more (1K, 4K, 16K, ...): each
    // message costs a wake-up of the main thread and a shard task (bench/RESULTS.md, session 7)
    const fromRing = batchRing ? { alloc: takeRingSlot, firstBatch: task.batchSize } : {};
    const sink = new FlowSink({ ...sinkOptions(task), ...fromRing }, postBatch);
    return await parseWithSink(task, sink);
  } finally {
    posting = null;
    // each shard closes its lane at this mark, behind the task's last batch
    if (task.lanes) for (const lane of task.lanes) lane.postMessage(null);
  }
}

/**
 * The task whose batches this thread posts now. The sink's callbacks (postBatch,
 * takeRingSlot) are the same two functions for every task and read the task from here: a
 * closure per task gave the sink's `append`, which inlines the call, a new call target at
 * every task, and V8 threw its optimised code away and compiled it again each time
 * (`node --trace-deopt`: "wrong call target").
 */
let posting: { task: ParseTask; inflight: Int32Array; ring: BatchRing | null } | null = null;

/**
 * A full batch to its shard, by the task's lane to it, else to the main thread, which routes
 * it; waits while too many are queued (backpressure).
 */
function postBatch(shard: number, batch: FlowBatchData): void {
  const { task, inflight } = posting!;
  for (;;) {
    const now = Atomics.load(inflight, INFLIGHT);
    if (now < task.inflightLimit) break;
    if (Atomics.load(inflight, RUN_STOPPED) !== 0) throw new Error('the run stopped: a shard thread failed (the engine reports why)');
    Atomics.wait(inflight, INFLIGHT, now, 100);
  }
  Atomics.add(inflight, INFLIGHT, 1);
  packStrings(batch); // the shard thread unpacks them (workers/shard.ts shardTask)
  if (task.lanes) task.lanes[shard]!.postMessage(batch, batchTransferList(batch));
  else task.port!.postMessage({ shard, batch }, batchTransferList(batch));
}

/**
 * A parse task run in the engine's thread instead of a parse thread (src/engine/parse-here.ts):
 * its full batches handed to `flush` (which routes them to their shard), taken from `alloc`
 * where it has one, and `pause()` awaited after each block of a range read, so that the
 * thread hands each batch on and hears back from the shards while it parses. One at a time.
 */
export async function parseHere(
  task: ParseInput,
  flush: (shard: number, batch: FlowBatchData) => void,
  alloc: ((capacity: number) => FlowBatchData | null) | null,
  pause: () => Promise<void>,
): Promise<ParseResult> {
  if (posting || pausing) throw new Error('a parse thread takes one task at a time');
  pausing = pause;
  try {
    const sink = new FlowSink({ ...sinkOptions(task), ...(alloc ? { alloc, firstBatch: task.batchSize } : {}) }, flush);
    return await parseWithSink(task, sink);
  } finally {
    pausing = null;
  }
}

/** parseHere's pause while it runs: a range is then read a block at a time (readLinesInto). */
let pausing: (() => Promise<void>) | null = null;

function takeRingSlot(capacity: number): FlowBatchData | null {
  return takeSlot(posting!.ring!, capacity, posting!.inflight);
}

/** The sink's options for a parse task (batches from elsewhere: the caller adds `alloc`). */
export function sinkOptions(task: ParseInput): SinkOptions {
  return {
    shards: task.shards,
    batchSize: task.batchSize,
    partition: task.partition,
    maxRejectsKept: task.maxRejects,
    lateBefore: task.lateBefore,
    notAfter: task.notAfter,
    windowSeconds: task.windowSeconds,
    timeRange: task.timeRange,
    homeNet: task.homeNet,
    outboundApart: task.outboundApart === true && APART_FORMATS.has(task.format),
    dictionaryIds: task.dictionaryIds === true,
  };
}

/**
 * The formats whose outbound records go in batches of their own where the run asks
 * (SinkOptions.outboundApart): AWS's, whose outbound records are few and spread among the
 * rest (7.5 % of the bucket's). The shard thread of the 7 M-record bucket 0.90x CPU, the 51 MB
 * text file 0.90-0.92x. Not Azure's (a third of its records are outbound, read a few hundred rows
 * a call: 1.05x CPU apart; but see APART_WHERE_KEPT), nor GCP's (1.02x); bench/RESULTS.md,
 * session 20 outdense.
 */
const APART_FORMATS: ReadonlySet<string> = new Set(['aws-text', 'aws-json', 'aws-cloudwatch']);

/**
 * The formats whose outbound records go apart too in a sink that adds routed rows where they
 * lie (SinkOptions.addRouted: the one shard of a run that parses its own tasks): Azure's module
 * keeps its routed rows across reads there (formats/azure-wasm.ts AZURE_KEPT_READS) and hands
 * them over in runs of ~16 k rows. Mixed, a third of them outbound, some of a run's
 * 4096-row stages fell below the outbound table's share for its module (ADD_SHARE) and were
 * added by its JavaScript, which V8 then compiled: apart, each table gets its own rows only
 * (the main thread ~0.94x CPU, V8's helpers 0.96x, bench/RESULTS.md, session 22 azure).
 */
const APART_WHERE_KEPT: ReadonlySet<string> = new Set(['azure-nsg', 'azure-vnet']);

/** A sink for a task whose batches stay in this thread: taken from `alloc`, handed to `flush` when full. */
export function localSink(
  task: ParseInput,
  alloc: (capacity: number) => FlowBatchData,
  flush: (shard: number, batch: FlowBatchData) => void,
  addRouted?: (shard: number, rows: FlowBatchData) => void,
): FlowSink {
  const options = sinkOptions(task);
  if (addRouted !== undefined && task.outboundApart === true && APART_WHERE_KEPT.has(task.format)) options.outboundApart = true;
  return new FlowSink({ ...options, alloc, ...(addRouted ? { addRouted } : {}) }, flush);
}

/**
 * Parse a task's file, chunk or files into `sink`, whose flush callback takes the full
 * batches (posted to the main thread here; added where they are in a fused thread,
 * workers/shard.ts), and say what was read.
 */
export async function parseWithSink(task: ParseInput, sink: FlowSink): Promise<ParseResult> {
  try {
    if (task.mode === 'files') return await parseFiles(task, sink);
    const result = emptyResult(task.fileIndex, task.chunkIndex, sink.counters, sink.rejects);
    await parseInto(task, sink, result);
    sink.flushAll();
    result.batches = sink.batchesPosted;
    result.minStart = sink.minStart;
    result.maxEnd = sink.maxEnd;
    result.lateByWindow = [...sink.lateByWindow];
    return result;
  } finally {
    endFileReads(); // the folder the native read keeps open closed with its task (src/input/read.ts)
  }
}

/**
 * A batch in a slot of the engine's ring, waiting while every slot is taken: batches are
 * not allocated past the ring, so their memory stays within it (engine/run.ts
 * batchRingFor). The ring has more slots than all parse threads' batches under
 * construction, so while this thread waits another batch is in flight; its shard frees
 * the slot and lowers `inflight` (the main thread does, for a batch it routed) and wakes the waiters (the timeout
 * covers a slot freed by another parse thread's end of task). Null (the sink allocates a
 * batch of its own) only after SLOT_WAIT_MS with no slot: a shard stalled that long, or
 * slots lost with a task that failed, must not stop the run.
 */
function takeSlot(ring: BatchRing, capacity: number, inflight: Int32Array): FlowBatchData | null {
  const until = Date.now() + SLOT_WAIT_MS;
  for (;;) {
    const b = ring.take(capacity);
    if (b || capacity > ring.slotRecords || Date.now() > until) return b;
    Atomics.wait(inflight, 0, Atomics.load(inflight, 0), 20);
  }
}

/** How long a parse thread waits for a ring slot before it allocates a batch. */
const SLOT_WAIT_MS = 2000;

function emptyResult(fileIndex: number, chunkIndex: number, counters: SinkCounters, rejects: Reject[]): ParseResult {
  return {
    fileIndex, chunkIndex, counters, rejects, lines: 0, bytesIn: 0, bytesOut: 0, batches: 0,
    minStart: Infinity, maxEnd: -Infinity, lateByWindow: [],
  };
}

/**
 * Many small files in one task ('files' mode): one sink for all of them, so their records
 * fill whole batches together, and each file's outcome (counters, rejects, time span,
 * error) is cut from the sink's state at the file's end: the same per-file results as a
 * task per file, for one message. While one file is parsed, the next gzip file inflates on
 * libuv's thread pool (inflateNext); one inflated ahead and not taken (a task that failed)
 * is dropped at the task's end.
 */
async function parseFiles(task: ParseInput, sink: FlowSink): Promise<ParseResult> {
  try {
    return await parseEachFile(task, sink);
  } finally {
    dropInflatedAhead(nextTaskAhead());
    dropBlobsAhead();
  }
}

/** The files of the task this thread runs next that may be inflating ahead already (inflateNext): kept at a task's end. */
function nextTaskAhead(): Set<string> | undefined {
  const next = waiting[0]?.files;
  return next && new Set(next.slice(0, AHEAD_FILES).map((f) => f.path));
}

async function parseEachFile(task: ParseInput, sink: FlowSink): Promise<ParseResult> {
  const results = await fileResults(task, sink);
  sink.flushAll();
  const all = emptyResult(task.fileIndex, 0, newCounters(), []);
  all.batches = sink.batchesPosted;
  all.packedFiles = packFiles(results);
  return all;
}

/**
 * Each file of a 'files' task parsed, its own result. Apart from parseEachFile's once-a-task
 * end: V8 optimised the loop before any task had ended, and the code after it, with no type
 * feedback yet, deoptimised it at the first task's end (then compiled again; the tiny files).
 * The loop's body is in fileStart and fileEnd: with it inline, the loop made this function
 * hot once per few hundred files, and V8 compiled the whole of it, spreads and all (the parse
 * thread's largest compile, ~20 ms), for work done once a file.
 */
async function fileResults(task: ParseInput, sink: FlowSink): Promise<ParseResult[]> {
  const results: ParseResult[] = [];
  const files = task.files!;
  for (let i = 0; i < files.length; i++) {
    const one = fileStart(task, files, i, sink);
    const r = emptyResult(one.fileIndex, 0, sink.counters, []);
    if (smallAwsGzip(one)) {
      // most of a bucket's objects: one await a file, the rest synchronous (parseSmallInflated)
      const early = takeInflatedAhead(one.path, one.maxDecompressedBytes);
      parseSmallInflated(one, (early && (await early)) || smallGzip(one.path, one.maxDecompressedBytes, one.end), sink, r);
    } else await parseInto(one, sink, r);
    results.push(fileEnd(sink, r));
    if (pausing) await pausing(); // parsed in the engine's thread: its event loop turns between files
  }
  return results;
}

/** The task of file i of a 'files' task, the sink reset for it, and the next file inflating meanwhile. */
function fileStart(task: ParseInput, files: GroupFile[], i: number, sink: FlowSink): ParseInput {
  const f = files[i]!;
  inflateNext(files, i + 1, task.maxDecompressedBytes);
  readBlobsAhead(files, i + 1, task.maxDecompressedBytes, blobAhead); // this one is read now if it is not ahead: its turn has come
  sink.minStart = Infinity;
  sink.maxEnd = -Infinity;
  sink.lateByWindow.clear();
  sink.formatChange = null;
  sink.lazy = null; // the next file's parser sets its own
  sink.formatProbe = null; // set by a line reader; a document file after it must not probe with the last file's format
  sink.notAfter = f.notAfter || Infinity; // each file its own bound (its name may carry its time)
  const lines = readerFor(f.format)?.kind === 'lines';
  return { ...task, ...f, files: undefined, chunkIndex: 0, mode: !lines ? 'document' : f.gzip ? 'gzip' : 'range', start: 0, end: f.size };
}

/** A file's result `r` completed from the sink's state at the file's end. */
function fileEnd(sink: FlowSink, r: ParseResult): ParseResult {
  r.counters = sink.takeCounters(); // the file's counts, and the sink counts the next from zero
  r.rejects = sink.rejects.splice(0);
  r.minStart = sink.minStart;
  r.maxEnd = sink.maxEnd;
  r.lateByWindow = [...sink.lateByWindow];
  return r;
}

/**
 * The task's next gzip files (from files[from] on, up to AHEAD_FILES; past the task's end, the
 * first files of the task this thread runs next) start inflating on libuv's thread pool while
 * this thread parses the current one (read.ts inflateAhead; its reader takes each when its
 * turn comes). In the order they will be parsed: a file is not started before the one ahead
 * of it, so that the first to be needed is the first to inflate.
 */
function inflateNext(files: GroupFile[], from: number, maxDecompressedBytes: number): void {
  let list = files;
  let bound = maxDecompressedBytes;
  let i = from;
  for (let k = 0; k < AHEAD_FILES; k++, i++) {
    if (i >= list.length) {
      const next = list === files ? waiting[0] : undefined;
      if (!next?.files) return;
      list = next.files;
      bound = next.maxDecompressedBytes;
      i = 0;
      if (list.length === 0) return;
    }
    const f = list[i]!;
    if (inflatable(f) && !inflateAhead(f.path, bound, f.size)) return;
  }
}

/** A plain JSON blob planned from its name (planJsonBlob reads it whole): read ahead with others on libuv's pool. */
function blobAhead(f: PlannedBlob): boolean {
  const g = f as GroupFile;
  return g.sniffInThread === true && !g.gzip && g.format !== 'aws-text' && readerFor(g.format)?.kind === 'document';
}

/** A gzip file of a line format, or one to be sniffed as AWS text: read whole, worth inflating ahead. */
function inflatable(f: GroupFile): boolean {
  return (f.sniffInThread && f.format === 'aws-text') || (f.gzip && readerFor(f.format)?.kind === 'lines');
}

/**
 * Read and parse one file or chunk into the sink; what it read, and any error, into `result`.
 * Each way a file is planned is a function of its own, and this one only picks: a function
 * run once a file was compiled by TurboFan whole, with planFromText and the read inlined, about
 * halfway through a bucket run (720 objects), for a few hundred files left (bench/RESULTS.md,
 * branch v8c); smaller ones run fewer bytecodes a file, and stay in the interpreter longer.
 */
function parseInto(task: ParseInput, sink: FlowSink, result: ParseResult): Promise<void> {
  if (!task.sniffInThread) return readIntoResult(task, sink, result);
  // a JSON blob planned from its name (input/named-formats.ts formatByName): kept when its head says the same
  return task.format !== 'aws-text' ? parsePlannedBlob(task, sink, result) : parseSmallGzip(task, sink, result);
}

/** A JSON blob planned from its name, parsed when its head says the same (else handed back to be planned). */
async function parsePlannedBlob(task: ParseInput, sink: FlowSink, result: ParseResult): Promise<void> {
  const planned = await planJsonBlob(task);
  if (!planned) {
    result.replan = true; // not what its name said (or damaged): the main thread plans it as any file
    return;
  }
  return readIntoResult({ ...task, ...planned }, sink, result);
}

/**
 * A small gzip file planned from its name and size as AWS text (describe's quick path), read
 * whole: fileResults reads it by parseSmallInflated, and parseInto by parseSmallGzip.
 */
function smallAwsGzip(task: ParseInput): boolean {
  return task.sniffInThread === true && task.format === 'aws-text' && task.mode === 'gzip';
}

/**
 * parseInto of a small gzip file (smallAwsGzip) inflated whole (null: it was not): planned from
 * what it holds and read into the sink, synchronously. The chain of async functions each file
 * of a 'files' task went through (parseInto, parseSmallGzip, readIntoResult, readInto,
 * readLinesInto) cost a promise and an await each, and V8's compile threads compiled each of
 * them, and again inlined into the next, on a bucket of many small objects (bench/RESULTS.md,
 * session 22 perfile2).
 */
function parseSmallInflated(task: ParseInput, inflated: SmallGzip | null, sink: FlowSink, result: ParseResult): void {
  try {
    const planned = inflated && planFromText(inflated.text, task.path, { awsFields: task.awsFields });
    if (!planned) {
      result.replan = true; // no small gzip AWS text file: the main thread plans it as any file
      return;
    }
    const planTask = { ...task, ...planned };
    try {
      const reader = readerFor(planTask.format) as LineReader;
      const ctx = readerContext(planTask, sink);
      gzipLinesInto(readInflatedLines(inflated, openLines(planTask, reader, ctx), planTask.maxLineBytes), result);
    } catch (err) {
      failedInto(err, result);
    }
    changedFormatInto(planTask, sink, result);
  } finally {
    if (inflated) giveInflated(inflated); // read and parsed: its buffers serve the next file
  }
}

/** A small gzip file planned from its name and size: read whole here, then planned from what it holds and parsed (parseSmallInflated). */
async function parseSmallGzip(task: ParseInput, sink: FlowSink, result: ParseResult): Promise<void> {
  const early = takeInflatedAhead(task.path, task.maxDecompressedBytes);
  parseSmallInflated(task, (early && (await early)) || smallGzip(task.path, task.maxDecompressedBytes, task.end), sink, result);
}

/** A planned file read into the sink, what went wrong into `result`. */
async function readIntoResult(task: ParseInput, sink: FlowSink, result: ParseResult): Promise<void> {
  try {
    await readInto(task, sink, result);
  } catch (err) {
    failedInto(err, result);
  }
  changedFormatInto(task, sink, result);
}

/** What a read that threw says, into the file's result. */
function failedInto(err: unknown, result: ParseResult): void {
  const e = err as Error;
  if (err instanceof HeadError) result.planError = e.message;
  else result.error = { message: e.message, offset: err instanceof InputError ? err.offset : -1 };
}

/**
 * Part of the file is in another format: those lines were rejected one by one, and the file is
 * also reported as not read in full (detection.md §6: a wrong format makes the run partial).
 */
function changedFormatInto(task: ParseInput, sink: FlowSink, result: ParseResult): void {
  const change = sink.formatChange;
  if (change && !result.error) {
    result.error = {
      message: `the content changes format: from this point lines look like ${change.looksLike}, not ${task.format} (rejected)`,
      offset: change.offset,
    };
  }
}

/** What a reader of the task's file is told. */
function readerContext(task: ParseInput, sink: FlowSink): ReaderContext {
  return {
    sink,
    file: task.display,
    account: task.account,
    region: task.region,
    awsFields: task.awsFields,
    regionMap: task.regionMap,
    cloud: task.cloud,
    headerLine: task.headerLine,
  };
}

/**
 * readIntoResult's read of a planned file by its reader's kind. Apart from it, and each kind
 * apart: one function holding them all ran a few hundred bytecodes a file, and V8 compiled it,
 * with an Azure blob's whole read inlined, at 10-30 ms of a helper thread's CPU in a run of
 * 696 blobs (bench/RESULTS.md, branch azurestart).
 */
async function readInto(task: ParseInput, sink: FlowSink, result: ParseResult): Promise<void> {
  const reader = readerFor(task.format);
  if (!reader) throw new InputError(`format '${task.format}' is not supported`, 0);
  const ctx = readerContext(task, sink);
  if (reader.kind === 'lines') return readLinesInto(task, reader, ctx, result);
  if (reader.kind === 'document') return readDocumentInto(task, reader, ctx, result);
  throw new InputError(`'${task.format}' files are read by the shard workers, not parsed`, 0);
}

async function readLinesInto(task: ParseInput, reader: LineReader, ctx: ReaderContext, result: ParseResult): Promise<void> {
  const parser = openLines(task, reader, ctx);
  if (task.mode === 'range') {
    result.lines = pausing
      ? await readLineRangePausing(task.path, task.start, task.end, parser, task.maxLineBytes, pausing)
      : readLineRange(task.path, task.start, task.end, parser, task.maxLineBytes);
    result.bytesIn = result.bytesOut = task.end - task.start;
  } else if (task.mode === 'bytes') {
    // stdin, or a piece of a large gzip file the main thread inflated (run.ts gzipPieces)
    result.lines = readLineBytes(task.bytes!, parser, task.maxLineBytes, task.start, task.streamError !== undefined);
    result.bytesOut = task.end - task.start; // with the dropped rest of a line too long
    result.bytesIn = task.compressedBytes ?? result.bytesOut;
    if (task.streamError !== undefined) {
      // the stream stopped in the unterminated last line (then counted, as a truncated line), or just after the last line
      const partial = task.bytes!.length > 0 && task.bytes![task.bytes!.length - 1] !== 10;
      result.error = { message: task.streamError, offset: -1, line: partial ? result.lines : result.lines + 1 };
    }
  } else {
    const checkHead = () => {
      const planError = headError(task.path);
      if (planError) throw new HeadError(planError);
    };
    // end: the planned size (a small file inflated whole here is read by parseSmallInflated)
    gzipLinesInto(await readGzipLines(task.path, parser, task.maxLineBytes, task.maxDecompressedBytes, task.end, task.headUnchecked ? checkHead : undefined), result);
  }
}

/** A line reader's parser of the task's file, the sink told what its lines should look like. */
function openLines(task: ParseInput, reader: LineReader, ctx: ReaderContext): ReturnType<LineReader['open']> {
  ctx.sink.formatProbe = formatProbe(task.format, task.headerLine);
  return reader.open(ctx);
}

/** What reading a gzip file's lines gave, into its result. */
function gzipLinesInto(r: GzipReadResult, result: ParseResult): void {
  result.lines = r.lines;
  result.bytesIn = r.compressedBytes;
  result.bytesOut = r.decompressedBytes;
  if (r.error) result.error = { message: r.error.message, offset: r.error.offset };
}

async function readDocumentInto(task: ParseInput, reader: DocumentReader, ctx: ReaderContext, result: ParseResult): Promise<void> {
  const buf = task.bytes ?? (await readWhole(task.path, task.gzip, task.maxDecompressedBytes));
  result.bytesIn = task.bytes ? (task.compressedBytes ?? task.bytes.length) : statSync(task.path).size;
  result.bytesOut = buf.length;
  await reader.parseDocument(buf, ctx);
  result.lines = ctx.sink.counters.lines;
  // a streamed document whose stream broke (src/input/stream.ts): what arrived was parsed, the input is partial
  if (task.streamError !== undefined) result.error = { message: task.streamError, offset: -1 };
}

/**
 * What the head of a JSON blob planned from its name adds to its task (its header line, and
 * the blob's bytes when it was read whole to plan it: a plain document, read once), or null
 * when the head does not give the plan its name gave (another format, damaged, changed
 * since it was listed): the blob is then handed back, unread.
 */
async function planJsonBlob(task: ParseInput): Promise<Partial<ParseInput> | null> {
  const opts = { awsFields: task.awsFields };
  let bytes: Buffer | undefined;
  let planned: InputFile | null = null;
  if (!task.gzip && readerFor(task.format)?.kind === 'document') {
    try {
      // read ahead on libuv's pool with the blobs around it (fileStart), else now into this
      // thread's reused buffer: the blob is parsed before the next is read (one task at a time,
      // one file at a time), and its reader keeps none of its bytes
      const early = takeBlobAhead(task.path);
      bytes = (early && (await early)) ?? readPlainReused(task.path, task.maxDecompressedBytes, task.end);
    } catch {
      return null; // the main thread's planning and reading report why
    }
    planned = planFromBytes(task.path, bytes, opts, headWordsOf(bytes));
  }
  planned ??= planFromHead(task.path, opts);
  if (planned.error !== undefined || planned.format !== task.format || planned.gzip !== task.gzip || planned.size !== task.end) return null;
  return { headerLine: planned.headerLine, awsFields: planned.awsFields, ...(bytes && planned.size === bytes.length ? { bytes } : {}) };
}

/**
 * For rejected lines: the format a line looks like when it is not `format` (another
 * reader's sniffer recognises it, or it is JSON in a text format), else null.
 */
function formatProbe(format: FormatName, headerLine: string | undefined): FormatProbe {
  const jsonFile = headerLine !== undefined && /^[[{]/.test(headerLine);
  const key = jsonFile ? `${format} json` : format;
  let probe = formatProbes.get(key);
  if (probe === undefined) formatProbes.set(key, (probe = newFormatProbe(format, jsonFile)));
  return probe;
}

type FormatProbe = (buf: Uint8Array, s: number, e: number) => string | null;

/**
 * The probes made so far in this thread, by format and whether the file is JSON: a task of
 * many small files took a new closure and TextDecoder per file (the probe keeps no state).
 */
const formatProbes = new Map<string, FormatProbe>();

function newFormatProbe(format: FormatName, jsonFile: boolean): FormatProbe {
  const decoder = new TextDecoder();
  const own = readerFor(format);
  return (buf, s, e) => {
    const bytes = buf.subarray(s, Math.min(e, s + 65536));
    const text = decoder.decode(bytes);
    const line = text.trim();
    if (line.length === 0) return null;
    const head = new Head(bytes, text, line);
    if (own?.sniff(head)) return null;
    for (const r of allReaders()) if (r.name !== format && r.sniff(head)) return r.name;
    if (!jsonFile && /^\{\s*"/.test(line)) return 'JSON';
    return null;
  };
}
