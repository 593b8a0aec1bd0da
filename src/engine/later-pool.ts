/**
 * A shard's one-thread pool whose thread is started later than the engine: when the first
 * parse thread is up or planning has ended, whichever comes first (engine/run.ts
 * laterShards), not beside the parse thread. At a run's start the cores are full (the main
 * thread's modules and planning, V8's compiler threads, and each worker's own boot of ~25 ms
 * of CPU), and the shard thread is the one with nothing to do until the first batch, which
 * can only come after both: booted meanwhile, it slows the parse thread's boot and the
 * planning that the first parse task waits for. Started at the parse thread's boot alone,
 * it came too late on one large text file, whose planning is instant and whose shard is
 * half the work (bench/RESULTS.md, session 15 startup).
 */
import type { ShardPool } from './inline-shard.js';

type RunOptions = Parameters<ShardPool['run']>[1];

export class LaterPool implements ShardPool {
  private pool: ShardPool | null = null;
  /** Tasks asked for before the start, in order: they go to the pool in that order. */
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly make: () => ShardPool) {}

  /** Start the thread now (again: nothing). */
  start(): void {
    if (this.pool) return;
    this.pool = this.make();
    for (const go of this.waiting.splice(0)) go();
  }

  /** A task that cannot wait for the start (a batch, a replay file, the finalisation): the thread starts now if it has not. */
  run(task: unknown, options?: RunOptions): Promise<unknown> {
    this.start();
    return this.pool!.run(task, options);
  }

  /** A task queued until the start (the memory limits sent at the engine's creation), in order with the others. */
  runWhenStarted(task: unknown, options?: RunOptions): Promise<unknown> {
    if (this.pool) return this.pool.run(task, options);
    return new Promise((resolve, reject) => this.waiting.push(() => this.pool!.run(task, options).then(resolve, reject)));
  }

  destroy(): Promise<void> {
    if (!this.pool && this.waiting.length > 0) this.start(); // its waiting tasks are answered by the pool, as before
    return this.pool ? this.pool.destroy() : Promise.resolve();
  }
}
