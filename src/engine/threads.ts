/**
 * piscina's pools and the workers' entries, in a module of their own: the command line starts
 * a lone shard's thread (lone-shard.ts) before detect's modules load, with nothing else loaded.
 */
import { fileURLToPath } from 'node:url';
import type { Piscina } from 'piscina';
import type * as PiscinaModule from 'piscina';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

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
