/**
 * The engine's piscina pools and its workers' entries: a leaf that the Engine (run.ts) and
 * detect's early parse pool (early-pool.ts) share, light enough for the command line's
 * first module to load.
 */
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import type * as PiscinaModule from 'piscina';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * Workers by default: half the cores, at least one. A worker is two busy threads (one
 * parse thread, one shard thread), so this keeps the busy threads at the core count. On
 * the 2-core machine one worker did every input in the same or less wall time than two,
 * with 0.67-0.81x the CPU (bucket, tiny files, text, gzip, replay; JSON blobs 0.8x the CPU
 * at 1.15x the wall): every extra thread compiles the same hot code again and four
 * threads took turns on two cores (bench/RESULTS.md, "default workers").
 */
export function defaultWorkers(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

/**
 * A piscina pool; piscina itself is loaded with the first: an input read in this thread
 * (the fused pipeline's inline shard) starts no pool, and loading piscina cost ~20 ms of
 * the start-up's CPU (bench/RESULTS.md, start-up).
 */
export function newPool(options: ConstructorParameters<typeof Piscina>[0]): Piscina {
  piscina ??= loadPiscina();
  return new piscina.Piscina(options);
}
let piscina: typeof PiscinaModule | undefined;

/**
 * piscina as the build bundled it (scripts/bundle.mjs), through the loader with V8's code
 * cache: its 14 modules from node_modules cost ~5 ms of CPU to resolve and compile at every
 * run (bench/RESULTS.md, "piscache"); the package itself where there is no bundle.
 */
function loadPiscina(): typeof PiscinaModule {
  const require = createRequire(import.meta.url);
  const bundle = fileURLToPath(new URL('../../workers/piscina.bundle.cjs', import.meta.url));
  if (!existsSync(bundle)) return require('piscina') as typeof PiscinaModule;
  const loader = require('../../workers/code-cache.cjs') as { requireCached(file: string): unknown };
  return loader.requireCached(bundle) as typeof PiscinaModule;
}

/** A worker's CommonJS entry (scripts/worker-shims.mjs says why it is not the .js file itself). */
export const workerFile = (name: string) => fileURLToPath(new URL(`../../workers/${name}.cjs`, import.meta.url));

/**
 * The sharded pipeline's parse pool: `threads` at most, `started` of them at once. One parse
 * thread is handed its next task while it parses one (it runs them in turn, workers/parse.ts
 * parseChunk): it no longer waits, a task's end, for its result to reach this thread and the
 * next task to come back (0.5-4.5 ms each, ~10 ms of an Azure run's ~110 ms of parsing;
 * bench/RESULTS.md, branch azure2). Not with more threads: a task queued behind another on
 * one thread cannot go to a thread that has run out of work.
 */
export function parsePoolOptions(threads: number, started: number): ConstructorParameters<typeof Piscina>[0] {
  return { filename: workerFile('parse'), minThreads: started, maxThreads: threads, idleTimeout: 60_000, concurrentTasksPerWorker: threads === 1 ? 2 : 1 };
}
