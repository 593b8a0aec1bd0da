/**
 * What a run takes of the machine by default. A leaf: the command line reads these before
 * the rest of detect's graph is loaded (cli/prestart.ts).
 */
import { availableParallelism, totalmem } from 'node:os';

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

/** Default --max-memory: half of the memory this process may use (its cgroup limit, else the machine's). */
export function defaultMaxMemory(): number {
  const constrained = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  const mem = constrained && constrained > 0 && constrained < totalmem() ? constrained : totalmem();
  return Math.floor(mem / 2);
}
