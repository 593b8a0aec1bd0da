/**
 * detect's parse pool, started as soon as the command has read its options
 * (src/cli/commands/detect.ts), before it opens its databases, looks at all of its input and
 * plans: the parse thread's own boot (~30 ms of CPU) then runs beside that work, where it
 * was the gate of the first parse task (bench/RESULTS.md, "Session 15: prestart" and
 * "Session 16: prestart2"). Its shape comes from the run's options as the Engine reads them
 * (pool.ts parsePoolShape); the Engine takes it (takeEarlyParsePool), and detect drops it
 * where no Engine did: a command that failed before its run. Where the main thread may parse
 * instead (parse-here.ts) and the run's one shard will have a thread, that thread is started
 * here (lone-shard.ts).
 */
import type { Piscina } from 'piscina';
import { parsePoolOptions, parsePoolShape, type ParsePoolShape } from './pool.js';
import { newPool } from './threads.js';
import { forgetEarlyLook, smallInputKept } from './small-input.js';
import { fusedMayApply } from './fused.js';
import { parseHereInput, shardThreads } from './parse-here.js';
import { formatByName } from '../input/named-formats.js';
import type { DetectOptions } from './types.js';
import type { FormatName } from '../formats/types.js';
import { dropLoneShard, startLoneShard } from './lone-shard.js';

let early: { pool: Piscina; shape: ParsePoolShape } | null = null;

/** A pool no run took: its errors are nobody's (the run that takes it hears its own). */
const ignore = (): void => {};

/**
 * The parse pool these options will start at once, or null where they start none at once:
 * the fused pipeline, replay files alone, and a small input that detect reads in the main
 * thread (a pool started for it cost a small object's run 1.17x the CPU, a small folder's
 * 1.09x: bench/RESULTS.md, "Session 15: prestart"), and one large plain file that the main
 * thread may parse itself (parse-here.ts). The small-input look stops after
 * EARLY_LOOK_STEPS folders and files (small-input.ts): an input it cannot tell starts the
 * pool, and detect looks again; its answer and listings are kept for detect and planning.
 */
export function earlyParsePoolShape(opts: DetectOptions): ParsePoolShape | null {
  const start = earlyStart(opts);
  return start === null || 'shardOf' in start ? null : start;
}

/**
 * What detect starts at once: the parse pool's shape (earlyParsePoolShape), the lone shard's
 * thread where the run may parse in the main thread (parse-here.ts) and its one shard will
 * have a thread of its own (loneShardThread), or null.
 */
function earlyStart(opts: DetectOptions): ParsePoolShape | LoneShard | null {
  if (fusedMayApply(opts) && (opts.pipeline === 'fused' || (opts.pipeline !== 'sharded' && smallInputKept(opts.inputs) === true))) return null;
  const here = parseHereInput(opts); // one large plain file or a named JSON folder: parsed in the main thread if planning agrees
  if (here !== null) return loneShardThread(opts, here);
  const shape = parsePoolShape(opts);
  return shape.started > 0 ? shape : null;
}

/** A lone shard's thread to start early, and the format its path names (null: not known before planning). */
interface LoneShard {
  shardOf: FormatName | null;
}

/**
 * The lone shard's thread (lone-shard.ts) where the Engine will place its lone shard in a
 * thread of its own (shard-place.ts): one shard thread (parse-here.ts shardThreads), and an input that is not Azure blobs (whose
 * shard runs in the main thread). Started here, its boot runs beside the main thread's
 * databases, the engine's start and planning, on the core they leave idle.
 */
function loneShardThread(opts: DetectOptions, here: 'file' | FormatName): LoneShard | null {
  if (shardThreads(opts) !== 1) return null;
  const format = here === 'file' ? formatByName(opts.inputs[0]!) : here;
  return format === 'azure-nsg' || format === 'azure-vnet' ? null : { shardOf: format };
}

/** Starts the parse pool, or the lone shard's thread, the Engine will ask for with these options (earlyStart). */
export function startEarlyParsePool(opts: DetectOptions): void {
  const start = early ? null : earlyStart(opts);
  if (start === null) return;
  if ('shardOf' in start) return startLoneShard(start.shardOf); // none if the command line started it
  const pool = newPool(parsePoolOptions(start.threads, start.started));
  pool.on('error', ignore);
  early = { pool, shape: start };
}

/** The early pool where it has this shape; dropped otherwise. */
export function takeEarlyParsePool(threads: number, started: number): Piscina | null {
  const taken = early;
  if (!taken || taken.shape.threads !== threads || taken.shape.started !== started) {
    dropEarlyParsePool();
    return null;
  }
  early = null;
  taken.pool.off('error', ignore);
  return taken.pool;
}

/** Stops the early pool's threads if no run took it: none is left running, nothing keeps the process up. */
export function dropEarlyParsePool(): void {
  const dropped = early?.pool;
  early = null;
  dropped?.destroy().catch(ignore);
}

/**
 * The end of detect's command: the pool and the look's answer and listings that no run took
 * (a command that failed after the start) are dropped, so that a later run in this process
 * (tests, a library caller) neither keeps threads nor reads a stale look.
 */
export function endEarlyStart(): void {
  dropEarlyParsePool();
  dropLoneShard();
  forgetEarlyLook();
}

/** Whether a pool started early waits to be taken (tests). */
export function earlyParsePoolWaiting(): boolean {
  return early !== null;
}

