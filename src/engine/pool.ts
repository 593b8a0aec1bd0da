/**
 * The parse pool's shape and options: what the Engine (run.ts) and detect's early parse pool
 * (early-pool.ts) share. The pools themselves, their options and the workers' entries: threads.ts.
 */
import { statSync } from 'node:fs';
import { allReplayFiles } from '../replay/input.js';
import type { DetectOptions } from './types.js';

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
