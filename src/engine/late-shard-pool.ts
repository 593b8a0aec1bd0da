/**
 * A shard pool whose thread boots late: on 2 cores the parse thread and the shard thread
 * booting together (each ~50 ms of CPU: Node's worker bootstrap and its bundle) delay the
 * parse thread's first task, which is the start's critical path on many small inputs
 * (bench/RESULTS.md, "Azure planning"). Tasks posted before the start wait here in order
 * (the memory limits first, as a started pool would take them).
 */
import type { ShardPool } from './inline-shard.js';

/** FLOWSIEVE_SHARD_START=late: the sharded pipeline's shard threads boot after the parse threads' first result. */
export function shardsLate(): boolean {
  return process.env.FLOWSIEVE_SHARD_START === 'late';
}

export class LateShardPool implements ShardPool {
  private pool: ShardPool | null = null;
  private waiting: Array<() => void> = [];
  private tasks = 0;

  constructor(private readonly make: () => ShardPool) {}

  /** Boot the thread now (once); the tasks that waited go to it in the order they came. */
  start(): void {
    if (this.pool) return;
    this.pool = this.make();
    for (const go of this.waiting) go();
    this.waiting = [];
  }

  get started(): boolean {
    return this.pool !== null;
  }

  /** A second task starts the thread: the first is the memory limits, any later one needs the shard. */
  run(task: unknown, options?: { transferList?: readonly unknown[] }): Promise<unknown> {
    if (++this.tasks > 1) this.start();
    if (this.pool) return this.pool.run(task, options);
    return new Promise((resolve, reject) => this.waiting.push(() => this.pool!.run(task, options).then(resolve, reject)));
  }

  destroy(): Promise<void> {
    this.start(); // tasks that waited are run, not dropped
    return this.pool!.destroy();
  }
}
