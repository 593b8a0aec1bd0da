/**
 * `detect`'s thread pools started as the command line starts (engine/pools.ts says why),
 * before its options are read and its modules loaded: the pools the engine will want,
 * told from the arguments alone, and only where that is certain enough: the default
 * workers (no --workers, --parse-threads, --pipeline, --partition, --partials, --list,
 * --help, in the arguments or the environment, and no --config file), local inputs only,
 * and an input the engine reads in threads (not a small one, which detect reads in this
 * thread: engine/fused.ts smallInput). A wrong guess costs the threads' start and nothing
 * else: the engine takes only pools of its own options, and the rest are destroyed.
 * FLOWSIEVE_PRESTART=off starts none (A/B runs).
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

/** Options that change which pools a run starts, or start none. */
const SHAPING = ['workers', 'parse-threads', 'pipeline', 'partition', 'partials', 'list', 'help'];

/** The inputs of detect's arguments (as app/args.ts parseArgs takes them); null where an option says the guess is off. */
function inputsOf(args: string[]): string[] | null {
  const inputs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return [...inputs, ...args.slice(i + 1)];
    if (a === '-h') return null;
    if (!a.startsWith('--') || a === '-') {
      inputs.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (SHAPING.includes(name)) return null;
    if (eq < 0 && !DETECT_FLAGS.has(name)) i++; // its value
  }
  return inputs;
}

/** The pools `detect` with these arguments will start, or none where that is not certain enough. */
export function detectPoolsAhead(args: string[], config: string | undefined, env: Record<string, string | undefined>): PoolOptions[] {
  if (config !== undefined || env.FLOWSIEVE_PRESTART === 'off') return [];
  if (SHAPING.some((name) => env[`FLOWSIEVE_${name.toUpperCase().replace(/-/g, '_')}`] !== undefined)) return [];
  const inputs = inputsOf(args);
  if (!inputs || inputs.length === 0 || !inputs.every(localPath) || smallInput(inputs)) return [];
  // as engine/run.ts Engine makes them: a parse pool (no thread at once for replay files alone) and a pool a shard
  const workers = defaultWorkers();
  return [parsePoolOptions(workers, allReplayFiles(inputs) ? 0 : workers), ...Array.from({ length: workers }, shardPoolOptions)];
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
