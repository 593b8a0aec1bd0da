/**
 * A first look at `detect`'s arguments, made before the command's modules load, that starts
 * the run's worker pools (engine/pools.ts startEarlyPools): the threads then boot while this
 * thread loads and checks everything else, ~30 ms sooner. Only the options that decide the
 * threads are read (the inputs, --workers, --parse-threads, --pipeline, --partition,
 * --chunk-size and their FLOWSIEVE_* variables); where anything is not plain (a --config
 * file, --help, --list, a value the command would refuse), nothing is started and the
 * engine makes its pools as before. The engine takes the pools only if they are the ones it
 * would make; a pool no engine takes is idle and does not keep the process alive.
 */
import { DEFAULT_RUN } from '../engine/types.js';
import { defaultWorkers, startEarlyPools, type PoolOptionsOf } from '../engine/pools.js';
import { parseSize } from '../app/size.js';
import { envName } from '../app/args.js';

/** detect's options that take no value (test/early-pools.test.ts checks this against its spec). */
export const DETECT_FLAGS = ['near-misses', 'quiet', 'list', 'no-spill', 'no-builtin-actors', 'rdns', 'no-enrich'];

/** The options read here; every other option takes a value and is passed over. */
const READ = ['workers', 'parse-threads', 'pipeline', 'partition', 'chunk-size'] as const;

/** What argv and the variables say of detect's threads; undefined when the look is not plain. */
export function detectThreadOptions(args: string[], env: Record<string, string | undefined>): PoolOptionsOf | undefined {
  const given: Record<string, string> = {};
  for (const o of [...READ, 'list']) {
    const v = env[envName(o)];
    if (v !== undefined && v !== '') given[o] = v;
  }
  const inputs: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      inputs.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--') || a === '-') {
      if (a === '-h') return undefined;
      inputs.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (name === 'help') return undefined;
    if (DETECT_FLAGS.includes(name)) {
      if (name === 'list') given.list = eq < 0 ? 'true' : a.slice(eq + 1);
      continue;
    }
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined) return undefined;
    if ((READ as readonly string[]).includes(name)) given[name] = value;
  }
  if (inputs.length === 0 || (given.list !== undefined && !/^(false|0|no|off)$/i.test(given.list))) return undefined;
  return threadOptions(inputs, given);
}

/** The values as the command will read them (app/settings.ts detectOptionsFrom); undefined for one it refuses. */
function threadOptions(inputs: string[], given: Record<string, string>): PoolOptionsOf | undefined {
  const workers = given.workers === undefined ? defaultWorkers() : Number(given.workers);
  if (!(workers >= 1 && workers <= 256)) return undefined;
  const parseThreads = given['parse-threads'] === undefined ? undefined : Number(given['parse-threads']);
  if (parseThreads !== undefined && !(Number.isInteger(parseThreads) && parseThreads >= 1 && parseThreads <= 256)) return undefined;
  const pipeline = given.pipeline ?? 'auto';
  if (pipeline !== 'auto' && pipeline !== 'fused' && pipeline !== 'sharded') return undefined;
  let chunkBytes = DEFAULT_RUN.chunkBytes;
  if (given['chunk-size'] !== undefined) {
    try {
      chunkBytes = Math.max(1 << 16, parseSize(given['chunk-size']));
    } catch {
      return undefined;
    }
  }
  // only whether there is a partition decides the threads (engine/fused.ts fusedMayApply)
  const partition = given.partition === undefined ? undefined : { index: 0, count: 1 };
  return { inputs, workers, parseThreads, pipeline, partition, chunkBytes };
}

/** Starts detect's pools if its arguments are plain (no --config file: it may set the threads). */
export function startDetectPools(args: string[], config: string | undefined, env: Record<string, string | undefined>): void {
  if (config !== undefined) return;
  const opts = detectThreadOptions(args, env);
  if (opts) startEarlyPools(opts);
}
