/**
 * A parse thread beside the main thread's parse of Azure blobs, started before the Engine
 * plans. At one worker a run of Azure blobs alone is one thread: its lone shard is placed in
 * the main thread (shard-place.ts), which parses every task itself (Engine.shardHereParses,
 * bench/RESULTS.md session 18 jsonhere), and the second core idles but for V8's helpers. A
 * parse thread started after planning cost its boot and its isolate's compiles of the reader
 * on the run's critical path (session 18 jsonhere §3); started here it boots, loads the parse
 * code and the Azure module ('loadReader') while the main thread loads detect's modules and
 * plans, on the core that idles then, and takes tasks in turn with the main thread's shard
 * (Engine.ingest, runShared), its batches added by that shard as a parse thread's are:
 * - by the command line at its start (lone-shard.ts launchEarlyThread), for a folder of Azure
 *   blobs (its first file's path names the format) at one worker;
 * - by detect's early start (early-pool.ts), once the options are read, where the command
 *   line did not.
 * The Engine takes it where its shard in the main thread would parse every task; else it is
 * dropped at detect's end, a thread's boot spent, never a result. **Off unless
 * FLOWSIEVE_SIDE_PARSE=on**: on session 20's loaded host it cost 1.25x the run's CPU, and its wall
 * followed (1.33x), while its wall on a quiet host, where the second core idles, could not be
 * measured (bench/RESULTS.md, session 20 azpar): a quiet A/B decides whether it becomes the default.
 */
import type { Piscina } from 'piscina';
import type { FormatName } from '../formats/types.js';
import type { ReaderLoad } from './tasks.js';
import { newPool, parsePoolOptions } from './threads.js';

/** The side parse thread's pool, and its 'loadReader' task's end: the thread is ready for tasks. */
export interface SideParse {
  pool: Piscina;
  ready: Promise<unknown>;
}

let waiting: SideParse | null = null;

/** A pool no run took: its errors are nobody's (the run that takes it hears its own). */
const ignore = (): void => {};

/** Starts the side parse thread (once), its reader of `format` loaded first. */
export function startSideParse(format: FormatName): void {
  if (waiting || process.env.FLOWSIEVE_SIDE_PARSE !== 'on' || process.env.FLOWSIEVE_PARSE_HERE === 'off') return;
  const pool = newPool(parsePoolOptions(1, 1));
  pool.on('error', ignore);
  const ready = pool.run({ op: 'loadReader', format } satisfies ReaderLoad).catch(ignore);
  waiting = { pool, ready };
}

/** The side parse thread started early, or null; once (the Engine closes it with its parse pool). */
export function takeSideParse(): SideParse | null {
  const taken = waiting;
  waiting = null;
  taken?.pool.off('error', ignore);
  return taken;
}

/** Stops the side parse thread if no run took it. */
export function dropSideParse(): void {
  takeSideParse()
    ?.pool.destroy()
    .catch(ignore);
}

/** When the side parse thread waiting to be taken is ready for tasks (null: none waits; tests). */
export function sideParseReady(): Promise<unknown> | null {
  return waiting?.ready ?? null;
}

/** Whether a side parse thread waits to be taken (tests). */
export function sideParseWaiting(): boolean {
  return waiting !== null;
}
