import { describe, expect, it } from 'vitest';
import { LaterPool } from '../src/engine/later-pool.js';
import type { ShardPool } from '../src/engine/inline-shard.js';

/** A pool that records the tasks it is given, in order, and answers each with its name. */
function recordingPool(log: string[]): ShardPool & { destroyed: boolean } {
  return {
    destroyed: false,
    run(task: unknown) {
      log.push(String(task));
      return Promise.resolve(`done ${String(task)}`);
    },
    destroy() {
      this.destroyed = true;
      return Promise.resolve();
    },
  };
}

describe('LaterPool: a shard pool started later than the engine', () => {
  it('makes no pool until started; the tasks that wait reach it in order, before the ones that come after', async () => {
    const log: string[] = [];
    let made = 0;
    const pool = new LaterPool(() => (made++, recordingPool(log)));
    const a = pool.runWhenStarted('limits');
    const b = pool.runWhenStarted('second');
    expect(made).toBe(0);
    pool.start();
    const c = pool.run('batch');
    pool.start(); // again: nothing
    expect(made).toBe(1);
    expect(await Promise.all([a, b, c])).toEqual(['done limits', 'done second', 'done batch']);
    expect(log).toEqual(['limits', 'second', 'batch']);
  });

  it('starts at a task that cannot wait, behind the waiting ones', async () => {
    const log: string[] = [];
    let made = 0;
    const pool = new LaterPool(() => (made++, recordingPool(log)));
    const a = pool.runWhenStarted('limits');
    const b = pool.run('batch');
    expect(made).toBe(1);
    await Promise.all([a, b]);
    expect(log).toEqual(['limits', 'batch']);
  });

  it('destroyed before its start: its waiting tasks are still answered, and a pool with none is never made', async () => {
    const log: string[] = [];
    const pool = new LaterPool(() => recordingPool(log));
    const a = pool.runWhenStarted('limits');
    await pool.destroy();
    expect(await a).toBe('done limits');
    let made = 0;
    const idle = new LaterPool(() => (made++, recordingPool([])));
    await idle.destroy();
    expect(made).toBe(0);
  });
});
