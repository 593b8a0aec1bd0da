/**
 * The parse pool's shape and options: what the Engine (run.ts) and detect's early parse pool
 * (early-pool.ts) share. The pools themselves and the workers' entries: threads.ts.
 */
import type { Piscina } from 'piscina';
import { statSync } from 'node:fs';
import { allReplayFiles } from '../replay/input.js';
import { workerFile } from './threads.js';
import type { DetectOptions } from './types.js';

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
