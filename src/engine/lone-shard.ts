/**
 * The thread of a run's lone shard, started before the Engine asks for it. At one worker the
 * Engine places its one shard after planning (shard-place.ts): in the main thread for Azure
 * blobs, else in a thread of its own, which then boots (~35-45 ms to load its code) beside the
 * main thread's first parse, with both cores busy; on a GCP folder that thread parses too
 * (Engine.parsesInShard), so its boot and its load of the parse code were the run's idle core
 * (bench/RESULTS.md, session 19 gcpwall). Started here it boots while the main thread loads
 * detect's modules and plans:
 * - by the command line at its start (launchLoneShard), before detect's modules load, for a
 *   folder of GCP exports (its first file's path names the format);
 * - by detect's early start (early-pool.ts), once the options are read, where the main
 *   thread may parse (parse-here.ts) and the one shard will have a thread.
 * The Engine takes it for the first shard thread it makes (a shard thread holds nothing until
 * its first task); one that places its shard in the main thread, or makes none, drops it, and
 * so does detect's end. FLOWSIEVE_EARLY_SHARD=off: never started (A/B runs).
 */
import { statSync } from 'node:fs';
import type { Piscina } from 'piscina';
import type { FormatName } from '../formats/types.js';
import { startPrewalk } from '../input/listing.js';
import { namedJsonFolder } from '../input/named-formats.js';
import type { ShardTask } from './tasks.js';
import { newShardThread } from './threads.js';

let waiting: Piscina | null = null;

/** A pool no run took: its errors are nobody's (the run that takes it hears its own). */
const ignore = (): void => {};

/**
 * The formats whose tasks the lone shard's thread parses too (Engine.parsesInShard): a thread
 * started for one loads the parse code and the reader ('fusedLoad') while it waits for planning.
 */
const PARSED_IN_SHARD: ReadonlySet<FormatName> = new Set(['gcp']);

/** Starts the lone shard's thread (once), readying the parse of `format` where it parses that format. */
export function startLoneShard(format: FormatName | null): void {
  if (waiting || process.env.FLOWSIEVE_EARLY_SHARD === 'off') return;
  waiting = newShardThread();
  waiting.on('error', ignore);
  if (format && PARSED_IN_SHARD.has(format)) waiting.run({ op: 'fusedLoad', format } satisfies ShardTask).catch(ignore);
}

/**
 * The command line's start of detect (`args`: its arguments): a lone shard's thread where the
 * first argument is a folder of GCP exports, the usage's form (`detect DIR --out OUT`). Told
 * from the arguments alone, before detect's options are read: a guess. Where it is wrong (more
 * workers: the Engine takes it as one of its shard threads; the fused pipeline or a small
 * folder read in the main thread: dropped) it costs a thread's boot, never a result.
 */
export function launchLoneShard(args: readonly string[]): void {
  const first = args[0];
  if (first === undefined || first.startsWith('-') || args.includes('--help') || args.includes('-h') || args.includes('--list')) return;
  const named = namedJsonFolder(first);
  if (named === 'gcp') startLoneShard('gcp');
  // a folder of Azure blobs (parsed in the main thread at one worker), or any other but GCP's
  // (AWS objects, the common case; a folder of other files is listed for planning too): its tree
  // listed on libuv's pool while detect's modules load (planning's walk and the look read it:
  // input/listing.ts). On a bucket of small objects planning's statSync a file was the main
  // thread's largest cost a file (bench/RESULTS.md, session 22 perfile). Not GCP's: its
  // folders hold a few large exports
  else if (named === 'azure-nsg' || named === 'azure-vnet' || (named === null && isFolder(first))) startPrewalk(first);
}

/** Whether `path` names a folder (a link to one too); false where it cannot be stat'ed (planning reports it). */
function isFolder(path: string): boolean {
  try {
    return path !== '-' && statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The lone shard's thread started early, or null; once (the Engine watches it from then on). */
export function takeLoneShard(): Piscina | null {
  const taken = waiting;
  waiting = null;
  taken?.off('error', ignore);
  return taken;
}

/** Stops the lone shard's early thread if no run took it. */
export function dropLoneShard(): void {
  takeLoneShard()
    ?.destroy()
    .catch(ignore);
}

/** Whether a lone shard's thread started early waits to be taken (tests). */
export function loneShardWaiting(): boolean {
  return waiting !== null;
}
