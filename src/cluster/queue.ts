/**
 * The run as BullMQ jobs. Two flows, because a BullMQ job has one parent and every
 * partition needs every input group:
 *
 *   flow 1:  partitions  <- convert g0000, convert g0001, ...      (one per input group)
 *   flow 2:  merge       <- detect 0, detect 1, ... detect P-1     (added by `partitions`)
 *
 * BullMQ runs a parent only when its children are done, retries each job with
 * exponential backoff, fails the parent when a child has failed for good
 * (failParentOnFailure) and moves the jobs of a worker that died back to wait (stalled
 * recovery). Job ids are derived from the run, so adding a step twice adds it once.
 */
import { FlowProducer, Queue, type ConnectionOptions, type FlowJob, type JobsOptions } from 'bullmq';
import { Redis } from 'ioredis';
import type { RunPlan } from './plan.js';

export const DEFAULT_QUEUE = 'flowsieve';

export type StepName = 'convert' | 'partitions' | 'detect' | 'merge';

export interface StepData {
  run: string;
  group?: number;
  partition?: number;
}

export const jobId = {
  convert: (run: string, g: number) => `${run}.convert.${g}`,
  partitions: (run: string) => `${run}.partitions`,
  detect: (run: string, p: number) => `${run}.detect.${p}`,
  merge: (run: string) => `${run}.merge`,
};

export function connectionFrom(url: string): ConnectionOptions {
  if (!/^rediss?:\/\//.test(url)) throw new Error(`--redis needs a redis:// URL, got '${url}'`);
  // null: commands wait for a reconnect instead of failing while Redis restarts
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 2000) };
}

/**
 * Fail fast when Redis cannot be reached: the queue clients themselves wait for Redis
 * forever (so that a run survives a Redis restart), which is right for a worker and for
 * a wait, not for a command the user just typed.
 */
export async function checkRedis(url: string, timeoutMs = 5000): Promise<void> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs });
  probe.on('error', () => {}); // reported by the rejected connect below
  try {
    await probe.connect();
    await probe.ping();
  } catch (err) {
    throw new Error(`cannot reach Redis at ${url}: ${(err as Error).message}`);
  } finally {
    probe.disconnect();
  }
}

function stepOptions(plan: RunPlan, id: string, child: boolean): JobsOptions {
  return {
    jobId: id,
    attempts: plan.attempts,
    backoff: { type: 'exponential', delay: plan.backoffMs },
    removeOnComplete: { age: 14 * 86400 },
    removeOnFail: { age: 14 * 86400 },
    ...(child ? { failParentOnFailure: true } : {}),
  };
}

export function convertFlow(plan: RunPlan, queueName: string): FlowJob {
  return {
    name: 'partitions',
    queueName,
    data: { run: plan.run } satisfies StepData,
    opts: stepOptions(plan, jobId.partitions(plan.run), false),
    children: plan.groups.map((_, g) => ({
      name: 'convert',
      queueName,
      data: { run: plan.run, group: g } satisfies StepData,
      opts: stepOptions(plan, jobId.convert(plan.run, g), true),
    })),
  };
}

export function detectFlow(plan: RunPlan, queueName: string): FlowJob {
  return {
    name: 'merge',
    queueName,
    data: { run: plan.run } satisfies StepData,
    opts: stepOptions(plan, jobId.merge(plan.run), false),
    children: Array.from({ length: plan.partitions }, (_, p) => ({
      name: 'detect',
      queueName,
      data: { run: plan.run, partition: p } satisfies StepData,
      opts: stepOptions(plan, jobId.detect(plan.run, p), true),
    })),
  };
}

/** Add the detect-and-merge flow unless it is there (the `partitions` step, or a resubmission). */
export async function ensureDetectFlow(connection: ConnectionOptions, queueName: string, plan: RunPlan): Promise<boolean> {
  const queue = new Queue(queueName, { connection });
  const flows = new FlowProducer({ connection });
  try {
    if (await queue.getJob(jobId.merge(plan.run))) return false;
    await flows.add(detectFlow(plan, queueName));
    return true;
  } finally {
    await Promise.all([flows.close(), queue.close()]);
  }
}
