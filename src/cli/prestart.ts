/**
 * `detect`'s thread pools started as the command line starts (engine/pools.ts says why),
 * before its options are read and its modules loaded: the pools the engine will want,
 * told from the arguments alone, and only where that is certain enough: --workers and
 * --parse-threads as whole numbers (flag, else FLOWSIEVE_* variable, else the default),
 * no --pipeline, --partition, --partials, --list or --help (nor their variables) and no
 * --config file, local inputs only, and an input the engine reads in threads (not a small
 * one, which detect reads in this thread: engine/fused.ts smallInput). A wrong guess costs
 * the threads' start and nothing else: the engine takes only pools of its own options, and
 * the rest are destroyed. FLOWSIEVE_PRESTART=off starts none (A/B runs).
 *
 * This module and what it imports are loaded before the rest of detect's graph: keep it light.
 */
import { statSync } from 'node:fs';
import { defaultWorkers } from '../engine/machine.js';
import { parsePoolOptions, shardPoolOptions, startPoolsAhead, type PoolOptions } from '../engine/pools.js';

export { dropPoolsAhead } from '../engine/pools.js';
import { smallInput } from '../engine/fused.js';
import { allReplayFiles } from '../formats/replay.js';

/** detect's options that take no value, to tell its inputs from the options' values (test/prestart.test.ts holds it to the command's spec). */
export const DETECT_FLAGS: ReadonlySet<string> = new Set(['list', 'near-misses', 'no-builtin-actors', 'no-enrich', 'no-spill', 'quiet', 'rdns']);

/** Options that change which pools a run starts, or start none, other than the thread counts read below. */
const SHAPING = ['pipeline', 'partition', 'partials', 'list', 'help'];

/** The thread counts the pools' shapes follow. */
const COUNTS = ['workers', 'parse-threads'];

const envName = (option: string): string => `FLOWSIEVE_${option.toUpperCase().replace(/-/g, '_')}`;

/** detect's inputs and its thread counts' flags (as app/args.ts parseArgs reads them); null where an option says the guess is off. */
function argsOf(args: string[]): { inputs: string[]; counts: Map<string, string> } | null {
  const inputs: string[] = [];
  const counts = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      inputs.push(...args.slice(i + 1));
      break;
    }
    if (a === '-h') return null;
    if (!a.startsWith('--') || a === '-') {
      inputs.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (SHAPING.includes(name)) return null;
    if (eq < 0 && DETECT_FLAGS.has(name)) continue;
    const value = eq < 0 ? args[++i] : a.slice(eq + 1);
    if (COUNTS.includes(name)) {
      if (counts.has(name) || value === undefined) return null; // as parseArgs takes it, the last one; not worth the guess
      counts.set(name, value);
    }
  }
  return { inputs, counts };
}

/** A thread count from its flag, else its variable, else `fallback`; null where it is not a whole number from 1 to 256 (the run fails on it). */
function countOf(option: string, counts: Map<string, string>, env: Record<string, string | undefined>, fallback: number): number | null {
  const raw = counts.get(option) ?? (env[envName(option)] || undefined);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 256 ? n : null;
}

/** The pools `detect` with these arguments will start, or none where that is not certain enough. */
export function detectPoolsAhead(args: string[], config: string | undefined, env: Record<string, string | undefined>): PoolOptions[] {
  if (config !== undefined || env.FLOWSIEVE_PRESTART === 'off') return [];
  if (SHAPING.some((name) => env[envName(name)] !== undefined)) return [];
  const parsed = argsOf(args);
  if (!parsed) return [];
  const workers = countOf('workers', parsed.counts, env, defaultWorkers());
  const parseThreads = workers === null ? null : countOf('parse-threads', parsed.counts, env, workers);
  const { inputs } = parsed;
  if (workers === null || parseThreads === null || inputs.length === 0 || !inputs.every(localPath) || smallInput(inputs)) return [];
  // as engine/run.ts Engine makes them: a parse pool (no thread at once for replay files alone) and a pool a shard
  return [parsePoolOptions(parseThreads, allReplayFiles(inputs) ? 0 : parseThreads), ...Array.from({ length: workers }, shardPoolOptions)];
}

/** A file or folder here (not stdin, not an object store's URL). */
function localPath(p: string): boolean {
  if (p === '-' || /^[a-z][a-z0-9]*:\/\//.test(p)) return false;
  try {
    const st = statSync(p);
    return st.isFile() || st.isDirectory();
  } catch {
    return false;
  }
}

/** Start the pools `detect` with these arguments will want (detectPoolsAhead); true when it started any. */
export function startDetectPoolsAhead(args: string[], config: string | undefined, env: Record<string, string | undefined>): boolean {
  const pools = detectPoolsAhead(args, config, env);
  startPoolsAhead(pools);
  return pools.length > 0;
}
