/**
 * Where a run stands, from Redis (the jobs) and the store (the plan and the outputs),
 * and what the user must do when a step failed for good or Redis lost jobs. Also the
 * resubmission: failed and lost steps are enqueued again, done ones are kept.
 */
import { FlowProducer, Queue, type ConnectionOptions, type Job } from 'bullmq';
import { loadPlan, outputPrefix, planKey, type RunPlan } from './plan.js';
import { convertFlow, ensureDetectFlow, jobId } from './queue.js';
import type { Store } from './store.js';

export type StepState = 'completed' | 'failed' | 'active' | 'waiting' | 'waiting-children' | 'delayed' | 'prioritized' | 'missing' | 'unknown';

export interface StepView {
  id: string;
  state: StepState;
  attemptsMade: number;
  attempts: number;
  failedReason?: string;
}

export interface RunStatus {
  run: string;
  state: 'done' | 'failed' | 'lost' | 'running';
  converts: { done: number; total: number };
  detects: { done: number; total: number };
  partitions: StepView;
  merge: StepView;
  failed: StepView[];
  missing: string[];
  output?: string; // where the merged outputs are (done)
  result?: Record<string, unknown>; // the merge step's return value
}

async function view(queue: Queue, id: string): Promise<{ view: StepView; job?: Job }> {
  let job = (await queue.getJob(id)) as Job | undefined;
  if (!job) return { view: { id, state: 'missing', attemptsMade: 0, attempts: 0 } };
  const state = (await job.getState()) as StepState;
  // the job was read before its state: one that failed in between would show no reason and no attempts
  if (state === 'failed') job = ((await queue.getJob(id)) as Job | undefined) ?? job;
  return {
    job,
    view: {
      id,
      state,
      attemptsMade: job.attemptsMade,
      attempts: job.opts.attempts ?? 1,
      ...(state === 'failed' && job.failedReason ? { failedReason: job.failedReason } : {}),
    },
  };
}

export async function runStatus(queue: Queue, store: Store, plan: RunPlan): Promise<RunStatus> {
  const run = plan.run;
  const converts = await Promise.all(plan.groups.map((_, g) => view(queue, jobId.convert(run, g))));
  const detects = await Promise.all(Array.from({ length: plan.partitions }, (_, p) => view(queue, jobId.detect(run, p))));
  const partitions = await view(queue, jobId.partitions(run));
  const merge = await view(queue, jobId.merge(run));
  const all = [...converts, partitions, ...detects, merge].map((x) => x.view);
  const done = (await store.size(`${outputPrefix(run)}/summary.json`)) !== undefined;
  const flow2Due = partitions.view.state === 'completed';
  // a step is lost when Redis should hold it and does not (its flow was added)
  const missing = [
    ...(partitions.view.state === 'missing' ? [partitions.view.id] : []),
    ...(flow2Due || partitions.view.state === 'missing' ? [] : converts.filter((c) => c.view.state === 'missing').map((c) => c.view.id)),
    ...(flow2Due ? [merge, ...detects].filter((d) => d.view.state === 'missing').map((d) => d.view.id) : []),
  ];
  const failed = all.filter((v) => v.state === 'failed');
  const count = (xs: typeof converts) => ({ done: xs.filter((x) => x.view.state === 'completed').length, total: xs.length });
  const status: RunStatus = {
    run,
    state: done ? 'done' : failed.length ? 'failed' : missing.length ? 'lost' : 'running',
    converts: count(converts),
    detects: count(detects),
    partitions: partitions.view,
    merge: merge.view,
    failed,
    missing,
  };
  if (done) {
    // from the outputs, not the merge job: Redis may have forgotten a run the store still holds
    status.output = `${store.where}/${outputPrefix(run)}`;
    const summary = JSON.parse((await store.get(`${outputPrefix(run)}/summary.json`)).toString('utf8'));
    status.result = { records: summary.totals?.records, scans: summary.scan_keys, alerts: summary.outbound?.alerts, partial: summary.partial };
  }
  return status;
}

export function describeStatus(s: RunStatus, resubmit: string): string {
  const lines = [
    `run ${s.run}: ${s.state.toUpperCase()}  convert ${s.converts.done}/${s.converts.total}, ` +
      `detect ${s.detects.done}/${s.detects.total}, merge ${s.merge.state}`,
  ];
  if (s.output) lines.push(`  results in ${s.output}/`);
  if (s.result) {
    const r = s.result;
    lines.push(`  ${r.records} records, ${r.scans} scan keys, ${r.alerts} outbound alerts` + (r.partial ? '; PARTIAL: some input could not be read (summary.json names it)' : ''));
  }
  for (const f of s.failed) {
    lines.push(`  ${f.id} failed after ${f.attemptsMade} of ${f.attempts} attempts: ${f.failedReason ?? 'no reason given'}`);
  }
  if (s.missing.length) lines.push(`  Redis holds no record of ${s.missing.join(', ')} (Redis lost them: restarted without persistence?)`);
  if (s.state === 'failed' || s.state === 'lost') {
    lines.push(`  to finish the run, fix the cause and resubmit (done steps are kept): ${resubmit}`);
  }
  return lines.join('\n');
}

/** Every run planned in the store, newest plan last. */
export async function storedRuns(store: Store): Promise<string[]> {
  const keys = await store.list('runs');
  return keys.filter((k) => /^runs\/[^/]+\/plan\.json$/.test(k)).map((k) => k.split('/')[1]!);
}

export { planKey, loadPlan };

/**
 * Put a run's steps in the queue: a new run, or the failed and lost steps of an old one.
 * Returns what was done, for the user.
 */
export async function enqueueRun(connection: ConnectionOptions, queueName: string, store: Store, plan: RunPlan): Promise<string> {
  const queue = new Queue(queueName, { connection });
  const flows = new FlowProducer({ connection });
  try {
    if ((await store.size(`${outputPrefix(plan.run)}/summary.json`)) !== undefined) return 'already done';
    const converts = plan.groups.map((_, g) => jobId.convert(plan.run, g));
    const detects = Array.from({ length: plan.partitions }, (_, p) => jobId.detect(plan.run, p));
    const first = await restartable(queue, jobId.partitions(plan.run), converts);
    if (first === 'add') {
      await flows.add(convertFlow(plan, queueName));
      return 'queued';
    }
    if (first !== 'completed') return 'already queued';
    const second = await restartable(queue, jobId.merge(plan.run), detects);
    if (second === 'add') {
      await ensureDetectFlow(connection, queueName, plan);
      return 'queued the detect steps again';
    }
    return second === 'completed' ? 'already done' : 'already queued';
  } finally {
    await Promise.all([flows.close(), queue.close()]);
  }
}

/**
 * A flow's parent: 'completed', 'running' (leave it), or 'add' after removing what
 * blocks re-adding it: the failed parent and its failed children (completed children
 * stay and count as done when the flow is added again).
 */
async function restartable(queue: Queue, parentId: string, childIds: string[]): Promise<'completed' | 'running' | 'add'> {
  const parent = (await queue.getJob(parentId)) as Job | undefined;
  const parentState = parent ? await parent.getState() : 'missing';
  if (parentState === 'completed') return 'completed';
  const children = await Promise.all(childIds.map(async (id) => ((await queue.getJob(id)) as Job | undefined) ?? null));
  const childStates = await Promise.all(children.map((j) => (j ? j.getState() : Promise.resolve('missing'))));
  const broken = parentState === 'missing' || parentState === 'failed' || childStates.some((s) => s === 'failed' || s === 'missing');
  if (!broken) return 'running';
  for (let i = 0; i < children.length; i++) if (childStates[i] === 'failed') await children[i]!.remove({ removeChildren: false });
  if (parent) await parent.remove({ removeChildren: false });
  return 'add';
}
