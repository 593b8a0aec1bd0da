/**
 * The engine's thread pools (piscina), their shapes, and pools started ahead of the engine.
 *
 * Why ahead: a worker thread takes 35-60 ms from its pool's creation to its first task
 * (Node's bootstrap of the thread's isolate, piscina's worker, the bundle), and `detect`
 * made its pools only once its options were read and its modules loaded, ~20 ms after
 * the command line's bundle started, with the second core idle all that while. The command
 * line may start the pools a run will want as soon as it starts (cli/prestart.ts), and the
 * engine then takes them (newPool) instead of making its own: the threads boot while this
 * thread loads the command's modules. A pool started ahead that the engine does not want
 * (its options differ) is destroyed (dropPoolsAhead); the run is the same either way.
 *
 * A light module on purpose: the command line loads it before the rest of detect's graph.
 */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import type { Piscina } from 'piscina';
import type * as PiscinaModule from 'piscina';

/** A pool's options, as piscina takes them. */
export type PoolOptions = NonNullable<ConstructorParameters<typeof Piscina>[0]>;

/** A worker's CommonJS entry (scripts/worker-shims.mjs says why it is not the .js file itself). */
export const workerFile = (name: string) => fileURLToPath(new URL(`../../workers/${name}.cjs`, import.meta.url));

/**
 * The parse threads' pool: `threads` at most, `minThreads` started at once. One parse thread
 * is handed its next task while it parses one (it runs them in turn, workers/parse.ts
 * parseChunk): it no longer waits, a task's end, for its result to reach the engine's thread
 * and the next task to come back (0.5-4.5 ms each, ~10 ms of an Azure run's ~110 ms of
 * parsing; bench/RESULTS.md, branch azure2). Not with more threads: a task queued behind
 * another on one thread cannot go to a thread that has run out of work.
 */
export function parsePoolOptions(threads: number, minThreads: number): PoolOptions {
  return { filename: workerFile('parse'), minThreads, maxThreads: threads, idleTimeout: 60_000, concurrentTasksPerWorker: threads === 1 ? 2 : 1 };
}

/**
 * One shard's pool: one thread, one task at a time, in order. 'async' atomics: the thread's
 * event loop turns between tasks, and only there do native buffers' finalisers run
 * (lz4-napi's spill frames: with piscina's default wait loop they were never freed, and a
 * flood's RSS grew with every spill).
 */
export function shardPoolOptions(): PoolOptions {
  return { filename: workerFile('shard'), minThreads: 1, maxThreads: 1, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1, atomics: 'async' };
}

/** The pools started ahead and not yet taken, by their options' key. */
const ahead: Array<{ key: string; pool: Piscina }> = [];

const keyOf = (options: PoolOptions): string => JSON.stringify(options);

/** A pool of these options: one started ahead with the same options, else a new one. */
export function newPool(options: PoolOptions): Piscina {
  const key = keyOf(options);
  const i = ahead.findIndex((a) => a.key === key);
  if (i >= 0) return ahead.splice(i, 1)[0]!.pool;
  piscina ??= loadPiscina();
  return new piscina.Piscina(options);
}

/** Start these pools now, for an engine made later to take (newPool). */
export function startPoolsAhead(list: PoolOptions[]): void {
  if (list.length === 0) return;
  piscina ??= loadPiscina();
  for (const options of list) ahead.push({ key: keyOf(options), pool: new piscina.Piscina(options) });
}

/** Pools started ahead and not taken (tests). */
export function poolsAhead(): number {
  return ahead.length;
}

/** Destroy the pools started ahead that no engine took. */
export async function dropPoolsAhead(): Promise<void> {
  const left = ahead.splice(0);
  await Promise.all(left.map((a) => a.pool.destroy()));
}

/**
 * piscina as the build bundled it (scripts/bundle.mjs), through the loader with V8's code
 * cache: its 14 modules from node_modules cost ~5 ms of CPU to resolve and compile at every
 * run (bench/RESULTS.md, "piscache"); the package itself where there is no bundle. Loaded
 * with the first pool: an input read in the engine's thread (the fused pipeline's inline
 * shard) starts no pool, and loading piscina cost ~20 ms of the start-up's CPU
 * (bench/RESULTS.md, start-up).
 */
function loadPiscina(): typeof PiscinaModule {
  const require = createRequire(import.meta.url);
  const bundle = fileURLToPath(new URL('../../workers/piscina.bundle.cjs', import.meta.url));
  if (!existsSync(bundle)) return require('piscina') as typeof PiscinaModule;
  const loader = require('../../workers/code-cache.cjs') as { requireCached(file: string): unknown };
  return loader.requireCached(bundle) as typeof PiscinaModule;
}
let piscina: typeof PiscinaModule | undefined;

/** True when the inputs are regular files (no folder, no stdin) of less than one chunk in all: one parse task, one parse thread to start. */
export function fewSmallFiles(inputs: string[], chunkBytes: number): boolean {
  let total = 0;
  for (const p of inputs) {
    if (p === '-') return false;
    try {
      const st = statSync(p);
      if (!st.isFile()) return false;
      total += st.size;
    } catch {
      return false; // planning reports it
    }
  }
  return total < Math.min(chunkBytes, 1 << 20);
}
