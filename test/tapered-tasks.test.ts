/**
 * The 'files' tasks of a run whose shard thread parses too (Engine.parsesInShard): the budget
 * while much is left, then smaller towards the end (run.ts taperedBudget), so that the two
 * threads taking them in turn end together.
 */
import { describe, expect, it } from 'vitest';
import { TaskEnds, taperedBudget } from '../dist/src/engine/run.js';
import { taskBytes } from './helpers/task-ends.js';

const MB = 1 << 20;

/** The tasks' bytes for files of `sizes`, grouped as planJobs groups them with the tapered budget (`budget`: the short tasks'). */
function groups(sizes: number[], budget: number, threads: number): number[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  return taskBytes(sizes, new TaskEnds({ head: budget, tail: budget, fineFrom: 0 }, total, threads, true));
}

describe('tapered files tasks', () => {
  it('keep the budget while much is left, then shrink to a file or two', () => {
    expect(taperedBudget(25 * MB, 400 * MB, 2)).toBe(25 * MB);
    expect(taperedBudget(25 * MB, 40 * MB, 2)).toBe(5 * MB);
    expect(taperedBudget(25 * MB, 1000, 2)).toBe(256 << 10); // never below 256 KiB
    const sizes = Array.from({ length: 48 }, (_, i) => (4 + (i % 7)) * MB);
    const tasks = groups(sizes, 25 * MB, 2);
    expect(tasks.reduce((a, b) => a + b, 0)).toBe(sizes.reduce((a, b) => a + b, 0));
    expect(Math.max(...tasks.slice(0, 4))).toBeGreaterThanOrEqual(25 * MB);
    expect(Math.max(...tasks.slice(-3))).toBeLessThanOrEqual(12 * MB); // the last tasks a file or two
  });
});
