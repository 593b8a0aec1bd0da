/**
 * detect's parse pool, started as the command line starts (src/cli/main.ts), before the
 * command's modules are loaded, its options read and its input looked at: Node's bootstrap
 * leaves the second core idle to ~+80 ms, and the parse thread's own boot (~30 ms of CPU)
 * was the gate of the first parse task (bench/RESULTS.md, "Session 15: startup"). Its
 * shape comes from the arguments alone (--workers, --parse-threads, --pipeline, or their
 * FLOWSIEVE_* variables); the Engine takes it where the run's options ask for the same pool
 * (takeEarlyParsePool) and the command line drops it otherwise: a small input read in the
 * main thread, a shape the options changed, a command that failed or asked for no run.
 */
import type { Piscina } from 'piscina';
import { defaultWorkers, newPool, parsePoolOptions } from './pool.js';
import { smallInputKept } from './small-input.js';

let early: { pool: Piscina; threads: number } | null = null;

/** A pool no run took: its errors are nobody's (the run that takes it hears its own). */
const ignore = (): void => {};

/**
 * The parse threads detect's arguments ask for, or null where the arguments alone cannot
 * tell or the run would start none at once (help, --list, --pipeline fused, a replay file
 * named as convert names them: replay files alone start no parse thread, a small input read
 * in the main thread). Inputs are the arguments that are neither an option nor the token
 * after one given without '=' (a boolean flag before an input hides it: a guess lost, never
 * a wrong pool, which the Engine would not take).
 */
export function earlyParseThreads(args: string[], env: Record<string, string | undefined>): number | null {
  const flags = new Map<string, string>();
  const inputs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === '-h' || a === '--help' || a === '--list' || a.endsWith('.fsr')) return null;
    const m = /^--(workers|parse-threads|pipeline)(?:=(.*))?$/.exec(a);
    if (m) flags.set(m[1]!, m[2] ?? args[++i] ?? ''); // the last one wins, as parseArgs reads them
    else if (!a.startsWith('-')) inputs.push(a);
    else if (a.startsWith('--') && !a.includes('=')) i++; // its value, or (a flag) an input missed: only a guess lost
  }
  const value = (name: string): string | undefined => flags.get(name) ?? (env[`FLOWSIEVE_${name.toUpperCase().replace('-', '_')}`] || undefined);
  const pipeline = value('pipeline');
  if (pipeline === 'fused' || (pipeline !== 'sharded' && smallFiles(inputs))) return null;
  const workers = Number(value('workers') ?? defaultWorkers());
  const threads = Number(value('parse-threads') ?? Math.floor(workers));
  // the Engine's own reading of them (engine/run.ts); a value detect refuses starts nothing
  return workers >= 1 && workers <= 256 && Number.isInteger(threads) && threads >= 1 && threads <= 256 ? threads : null;
}

/**
 * Inputs detect will read in the main thread (smallInput), looked at before the pool: a pool
 * started for them cost a small object's run 1.17x the CPU, 1.08x the wall, a small folder's
 * 1.09x the CPU (bench/RESULTS.md, "Session 15: prestart"). The look stops after
 * EARLY_LOOK_STEPS folders and files (a pool is started then, and detect looks again); its
 * listings and answer are kept for detect and planning (smallInputKept, input/listing.ts).
 */
function smallFiles(inputs: string[]): boolean {
  return inputs.length > 0 && smallInputKept(inputs) === true;
}

/** Starts detect's parse pool for these arguments, where they say its shape (earlyParseThreads). */
export function startEarlyParsePool(args: string[], env: Record<string, string | undefined>): void {
  const threads = earlyParseThreads(args, env);
  if (early || threads === null) return;
  const pool = newPool(parsePoolOptions(threads, threads));
  pool.on('error', ignore);
  early = { pool, threads };
}

/** The early pool where it has this shape (`threads` at most, `started` at once); dropped otherwise. */
export function takeEarlyParsePool(threads: number, started: number): Piscina | null {
  const taken = early;
  if (!taken || taken.threads !== threads || started !== threads) {
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

/** Whether a pool started early waits to be taken (tests). */
export function earlyParsePoolWaiting(): boolean {
  return early !== null;
}
