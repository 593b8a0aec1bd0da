/**
 * The 'files' tasks' sizes (src/engine/run.ts groupBudget): large tasks over the input's first
 * part, each a fixed cost in every thread, and short ones over its last part, where the shards'
 * early flushes must come soon after their share of the input and the threads end together.
 */
import { describe, expect, it } from 'vitest';
import { TaskEnds, groupBudgetOf } from '../dist/src/engine/run.js';
import { taskBytes } from './helpers/task-ends.js';
import { EARLY_FLUSHES, flushesDue } from '../dist/src/engine/tail.js';

const MiB = 1 << 20;

/** The groups' text bytes of files of `weights`, as planJobs makes them (its file count bound aside). */
function groups(weights: number[], threads: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  return taskBytes(weights, new TaskEnds(groupBudgetOf(total, threads), total, threads, false));
}

/** The bucket: 720 gzip objects of 76-789 KB (~367 KB on average), text ~5 times that. */
const bucket = Array.from({ length: 720 }, (_, i) => 5 * (76_000 + ((i * 7919) % 713_000)));

describe("'files' task sizes", () => {
  it('the 7 M bucket: large tasks first, at most 32 MiB (and a file) over its last 15 %', () => {
    const g = groups(bucket, 1);
    const total = bucket.reduce((a, b) => a + b, 0);
    expect(g.length).toBeLessThan(total / (32 * MiB) / 2); // 32 MiB tasks throughout: ~46 here (~40 on the real bucket)
    expect(Math.max(...g)).toBeGreaterThan(64 * MiB);
    let done = 0;
    const largestFile = Math.max(...bucket);
    for (const size of g) {
      const start = done;
      done += size;
      if (start >= 0.85 * total) expect(size).toBeLessThan(32 * MiB + largestFile);
    }
  });

  it('every early flush comes within 3 % of the input after its share', () => {
    const total = bucket.reduce((a, b) => a + b, 0);
    let done = 0;
    let flushes = 0;
    for (const size of groups(bucket, 1)) {
      done += size;
      const due = flushesDue(done, total, EARLY_FLUSHES);
      for (; flushes < due; flushes++) expect(done / total).toBeLessThan(EARLY_FLUSHES[flushes]! + 0.03);
    }
    expect(flushes).toBe(EARLY_FLUSHES.length);
  });

  it('a smaller input keeps about eight tasks a parse thread, as before', () => {
    const small = bucket.slice(0, 200).map((w) => w / 4);
    const total = small.reduce((a, b) => a + b, 0);
    const b = groupBudgetOf(total, 2);
    expect(b.head).toBe(b.tail);
    expect(b.tail).toBe(Math.max(256 << 10, Math.ceil(total / 16)));
    expect(groups(small, 2).length).toBeGreaterThanOrEqual(15);
  });
});
