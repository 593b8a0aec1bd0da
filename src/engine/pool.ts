/**
 * The engine's piscina pools, the parse pool's shape and the workers' entries: what the
 * Engine (run.ts) and detect's early parse pool (early-pool.ts) share.
 */
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import type * as PiscinaModule from 'piscina';
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { allReplayFiles } from '../replay/input.js';
import type { DetectOptions } from './types.js';

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

/**
 * A shard's own thread. 'async' atomics: the thread's event loop turns between tasks, and only
 * there do native buffers' finalisers run (lz4-napi's spill frames: with piscina's default
 * wait loop they were never freed, and a flood's RSS grew with every spill).
 */
export const newShardThread = (): Piscina =>
  newPool({ filename: workerFile('shard'), minThreads: 1, maxThreads: 1, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1, atomics: 'async' });

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

/** The parse pool a run's options ask for: `threads` at most, `started` of them at once. */
export interface ParsePoolShape {
  threads: number;
  started: number;
}

/**
 * As many parse threads as shards by default: a second one for one shard on 2 cores cost
 * 6-20 % more CPU (each parse thread compiles and warms up its own code) for a wall gain of
 * ~3 % in quiet moments (bench/RESULTS.md, "wall: the timeline"). A run on replay files alone
 * parses nothing: its parse threads start only if needed; a run on one small file or a few
 * needs one parse task: one thread is started at once (more only if tasks wait), not N that
 * would each load their code for nothing.
 */
export function parsePoolShape(opts: Pick<DetectOptions, 'workers' | 'parseThreads' | 'inputs' | 'chunkBytes'>): ParsePoolShape {
  const threads = Math.max(1, Math.floor(opts.parseThreads ?? Math.max(1, Math.floor(opts.workers))));
  const started = allReplayFiles(opts.inputs) ? 0 : fewSmallFiles(opts.inputs, opts.chunkBytes) ? 1 : threads;
  return { threads, started };
}

/** True when the inputs are regular files (no folder, no stdin) of less than one chunk in all. */
function fewSmallFiles(inputs: string[], chunkBytes: number): boolean {
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
