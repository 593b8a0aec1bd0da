/**
 * `flowsieve cluster worker`: a BullMQ worker that runs the steps of any run. Locks,
 * lock renewal, stalled-job recovery and retries are BullMQ's; this file only says
 * what a step is and logs what happens, one line per event.
 */
import { hostname } from 'node:os';
import { Worker, type ConnectionOptions, type Job } from 'bullmq';
import { runStep, type StepContext } from './steps.js';
import type { StepData, StepName } from './queue.js';
import type { Store } from './store.js';

export interface WorkerOptions {
  connection: ConnectionOptions;
  queueName: string;
  store: Store;
  concurrency: number;
  workers: number;
  lockMs: number;
  stalledMs: number;
  maxStalled: number;
  log: (line: string) => void;
}

export function startWorker(o: WorkerOptions): Worker<StepData, Record<string, unknown>, StepName> {
  const ctx: StepContext = { store: o.store, connection: o.connection, queueName: o.queueName, workers: o.workers };
  const name = `${hostname()}:${process.pid}`;
  const processor = async (job: Job<StepData, Record<string, unknown>, StepName>) => {
    const attempt = `attempt ${job.attemptsMade + 1}/${job.opts.attempts ?? 1}`;
    o.log(`start ${job.id} (${attempt})`);
    const t0 = performance.now();
    const result = await runStep(ctx, job.name, job.data);
    o.log(`done ${job.id} in ${((performance.now() - t0) / 1000).toFixed(2)} s ${JSON.stringify(result)}`);
    return result;
  };
  const worker = new Worker<StepData, Record<string, unknown>, StepName>(o.queueName, processor, {
    connection: o.connection,
    name,
    concurrency: o.concurrency,
    lockDuration: o.lockMs,
    stalledInterval: o.stalledMs,
    maxStalledCount: o.maxStalled,
  });
  worker.on('failed', (job, err) => {
    if (!job) return;
    // a retried job is delayed (backoff) or waiting again; a failed one is final
    void job.getState().then(
      (state) => o.log(`failed ${job.id} (attempt ${job.attemptsMade}/${job.opts.attempts ?? 1}, ${state === 'failed' ? 'giving up' : 'will retry'}): ${err.message}`),
      () => o.log(`failed ${job.id} (attempt ${job.attemptsMade}/${job.opts.attempts ?? 1}): ${err.message}`),
    );
  });
  worker.on('stalled', (id) => o.log(`stalled ${id}: its worker stopped answering; back to the queue`));
  // connection errors while Redis restarts: BullMQ reconnects; say so instead of crashing
  worker.on('error', (err) => o.log(`error: ${err.message}`));
  return worker;
}
