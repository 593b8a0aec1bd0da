/**
 * flowsieve cluster submit | worker | status: one run over many machines, through
 * Redis (BullMQ) and a shared store. See src/cluster/ and README "Scaling out".
 */
import { SHARD_BUCKETS } from '../../flow/hash.js';
import { Queue } from 'bullmq';
import type { CommandSpec, OptionSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { DETECTION_OPTIONS, defaultWorkers, detectOptionsFrom, sourceOptionsFrom } from '../../app/settings.js';
import { isSourceUrl } from '../../source/url.js';
import { ANALYSIS_OPTIONS, analysisPlan } from '../../app/analysis.js';
import { checkRunName, loadPlan, makePlan, planKey, type RunPlan } from '../../cluster/plan.js';
import { checkRedis, connectionFrom, DEFAULT_QUEUE } from '../../cluster/queue.js';
import type { Store } from '../../cluster/store.js';
import { openStore } from '../../cluster/open-store.js';
import { describeStatus, enqueueRun, runStatus, storedRuns, type RunStatus } from '../../cluster/status.js';
import { startWorker } from '../../cluster/worker.js';
import { removeAllSpills } from '../../engine/run.js';

const CONNECT: OptionSpec[] = [
  { name: 'redis', type: 'string', help: 'Redis URL (BullMQ queue)', default: 'redis://127.0.0.1:6379', value: 'URL' },
  { name: 'store', type: 'string', help: 'shared folder every machine mounts, or s3://bucket/prefix (plans, staged inputs, partials, outputs)', value: 'DIR|S3URL' },
  { name: 's3-endpoint', type: 'string', help: 'endpoint of an S3-compatible store (MinIO, Ceph, ...); AWS S3 when absent (also FLOWSIEVE_S3_ENDPOINT)', value: 'URL' },
  { name: 'queue', type: 'string', help: 'queue name (one queue serves many runs)', default: DEFAULT_QUEUE, value: 'NAME' },
];

const submitSpec: CommandSpec = {
  name: 'cluster submit',
  summary: 'plan a run over many machines and queue its steps (convert, detect per partition, merge)',
  usage: 'flowsieve cluster submit <file|dir>... --partitions P --redis URL --store DIR [--wait] [detect options]\n' +
    '       flowsieve cluster submit --run ID --redis URL --store DIR   (resubmit failed or lost steps)',
  options: [
    ...CONNECT,
    { name: 'partitions', type: 'number', help: 'partitions of the scan keys (source-address hash): detect steps', default: 8 },
    { name: 'run', type: 'string', help: 'run name (default: a hash of the inputs and options, so a resubmission names the same run)', value: 'ID' },
    { name: 'group-bytes', type: 'size', help: 'input bytes per convert step', default: 1 << 30 },
    {
      name: 'stage',
      type: 'string',
      help: "convert steps write a replay file per group ('replay'), or copy the files as they are ('copy': the summary then lists them as a single detect does)",
      default: 'replay',
      value: 'replay|copy',
    },
    { name: 'attempts', type: 'number', help: 'tries of a step before the run is reported failed', default: 3 },
    { name: 'backoff-ms', type: 'number', help: 'wait before the first retry (doubles each time)', default: 5000 },
    { name: 'wait', type: 'boolean', help: 'wait for the run to finish; exit 0 done, 2 done but partial input, 4 failed or lost' },
    { name: 'near-misses', type: 'boolean', help: 'also write keys with enough endpoints that failed a condition' },
    ...DETECTION_OPTIONS.filter((o) => o.name !== 'workers' && o.name !== 'partition'),
    ...ANALYSIS_OPTIONS,
  ],
};

const workerSpec: CommandSpec = {
  name: 'cluster worker',
  summary: 'take steps of queued runs until stopped (SIGTERM/SIGINT finish the steps in hand)',
  usage: 'flowsieve cluster worker --redis URL --store DIR [--concurrency N] [--workers N]',
  options: [
    ...CONNECT,
    { name: 'concurrency', type: 'number', help: 'steps this process runs at once', default: 1 },
    { name: 'workers', type: 'number', help: 'workers of one detect step', default: defaultWorkers(), defaultText: 'half the cores, at least 1' },
    { name: 'lock-ms', type: 'number', help: "a step whose worker is silent this long is given to another worker", default: 30000 },
    { name: 'stalled-ms', type: 'number', help: 'how often to look for such steps', default: 30000 },
    { name: 'max-stalled', type: 'number', help: 'times a step may lose its worker before it fails', default: 2 },
  ],
};

const statusSpec: CommandSpec = {
  name: 'cluster status',
  summary: "show runs' progress, failed steps and what to resubmit",
  usage: 'flowsieve cluster status --redis URL --store DIR [--run ID] [--json]',
  options: [
    ...CONNECT,
    { name: 'run', type: 'string', help: 'only this run', value: 'ID' },
    { name: 'wait', type: 'boolean', help: 'with --run: wait for the run to finish (exit codes as submit --wait)' },
    { name: 'json', type: 'boolean', help: 'machine-readable output' },
  ],
};

export const spec: CommandSpec = {
  name: 'cluster',
  summary: 'run detection over many machines: submit, worker, status',
  usage: 'flowsieve cluster <submit|worker|status> [options]',
  options: [],
};

export const subcommands = [
  { spec: submitSpec, run: submit },
  { spec: workerSpec, run: worker },
  { spec: statusSpec, run: status },
];

export async function run(): Promise<number> {
  throw new UsageError('cluster needs a subcommand: submit, worker or status');
}

/** Stop with a clear message when Redis is not there (submit and status; workers wait for it). */
async function reachable(v: Parsed['values']): Promise<void> {
  try {
    await checkRedis(String(v.redis));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function connect(v: Parsed['values']): { store: Store; connection: ReturnType<typeof connectionFrom>; queueName: string } {
  if (!v.store) throw new UsageError('needs --store DIR (a folder every machine of the cluster mounts) or --store s3://bucket/prefix');
  const queueName = String(v.queue);
  if (queueName.includes(':')) throw new UsageError('--queue: no colons');
  try {
    return { store: openStore(String(v.store), v['s3-endpoint'] ? { endpoint: String(v['s3-endpoint']) } : {}), connection: connectionFrom(String(v.redis)), queueName };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function resubmitLine(v: Parsed['values'], run: string): string {
  return `flowsieve cluster submit --run ${run} --redis ${v.redis} --store ${v.store}` + (v.queue !== DEFAULT_QUEUE ? ` --queue ${v.queue}` : '');
}

async function submit(args: Parsed): Promise<number> {
  const v = args.values;
  const { store, connection, queueName } = connect(v);
  await reachable(v);
  let plan: RunPlan;
  if (args.positionals.length === 0) {
    if (!v.run) throw new UsageError('submit needs input paths (or --run ID to resubmit a planned run)');
    plan = await loadPlan(store, checkRunName(String(v.run))).catch((err: Error) => {
      throw new UsageError(err.message);
    });
  } else {
    const partitions = Number(v.partitions);
    if (!(Number.isInteger(partitions) && partitions >= 1 && partitions <= SHARD_BUCKETS)) throw new UsageError(`--partitions must be 1..${SHARD_BUCKETS} (partitions are ranges of the source buckets)`);
    const attempts = Number(v.attempts);
    if (!(Number.isInteger(attempts) && attempts >= 1)) throw new UsageError('--attempts must be at least 1');
    if (args.positionals.includes('-')) throw new UsageError('cluster submit reads files, not stdin');
    if (String(v.stage) === 'copy' && args.positionals.some(isSourceUrl)) throw new UsageError('--stage copy stages local files; bucket URLs need --stage replay');
    const stage = String(v.stage);
    if (stage !== 'replay' && stage !== 'copy') throw new UsageError("--stage must be 'replay' or 'copy'");
    detectOptionsFrom({ ...v, workers: 1 }, args.positionals); // usage errors now, not in a worker
    analysisPlan(v);
    const options: Record<string, string | number | boolean | string[] | undefined> = {};
    for (const o of [...DETECTION_OPTIONS, ...ANALYSIS_OPTIONS, { name: 'near-misses' }]) options[o.name] = v[o.name];
    options['s3-endpoint'] = v['s3-endpoint']; // the workers read s3:// inputs where the submitter listed them
    let made;
    try {
      const { timeRange, source } = sourceOptionsFrom(v);
      made = await makePlan(
        {
          inputs: args.positionals, partitions, stage, options, groupBytes: Math.max(1, Number(v['group-bytes'])),
          attempts, backoffMs: Math.max(0, Number(v['backoff-ms'])), run: v.run ? checkRunName(String(v.run)) : undefined,
        },
        { range: timeRange, source },
      );
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    plan = made.plan;
    for (const c of made.configFiles) await store.put(c.key, c.data);
    if ((await store.size(planKey(plan.run))) === undefined) await store.put(planKey(plan.run), JSON.stringify(plan, null, 1));
    else {
      // the same run again: keep its plan (retry settings included); another plan under the same name is an error
      const old = JSON.parse((await store.get(planKey(plan.run))).toString('utf8')) as RunPlan;
      const same = JSON.stringify({ ...plan, attempts: old.attempts, backoffMs: old.backoffMs }) === JSON.stringify(old);
      if (!same) throw new UsageError(`run ${plan.run} exists with other inputs or options: choose another --run name`);
      plan = old;
    }
  }
  const what = await enqueueRun(connection, queueName, store, plan);
  const files = plan.files.filter((f) => !f.error).length;
  process.stderr.write(
    `flowsieve cluster: run ${plan.run} (${files} file(s) in ${plan.groups.length} group(s), ${plan.partitions} partitions): ${what}\n`,
  );
  process.stdout.write(plan.run + '\n');
  if (!v.wait) return 0;
  return finish(await waitFor(connection, queueName, store, plan), v);
}

/** Report a finished run; exit 0 done, 2 done over partly unreadable input, 4 failed or lost. */
function finish(final: RunStatus, v: Parsed['values']): number {
  process.stderr.write(describeStatus(final, resubmitLine(v, final.run)) + '\n');
  if (final.state !== 'done') return 4;
  return final.result?.partial ? 2 : 0;
}

/** Poll until the run is done, has failed for good, or lost steps. Progress on a TTY. */
async function waitFor(connection: ReturnType<typeof connectionFrom>, queueName: string, store: Store, plan: RunPlan): Promise<RunStatus> {
  const queue = new Queue(queueName, { connection });
  try {
    let last = '';
    let lostSince = 0;
    for (;;) {
      const s = await runStatus(queue, store, plan);
      if (s.state === 'done') return s;
      if (s.state === 'failed') {
        // steps are read one by one and a parent fails just after its child: a read between the
        // two names the parent alone; failed is final, so a second read names every failed step
        const again = await runStatus(queue, store, plan);
        return again.state === 'failed' ? again : s;
      }
      // a lost step can be a moment's view of a flow being added: believe it after a while
      if (s.state === 'lost') {
        lostSince ||= Date.now();
        if (Date.now() - lostSince > 5000) return s;
      } else lostSince = 0;
      const line = `convert ${s.converts.done}/${s.converts.total}, detect ${s.detects.done}/${s.detects.total}, merge ${s.merge.state}`;
      if (line !== last && process.stderr.isTTY) process.stderr.write(`\r\x1b[K${line}`);
      last = line;
      await new Promise((r) => setTimeout(r, 500));
    }
  } finally {
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    await queue.close();
  }
}

async function worker(args: Parsed): Promise<number> {
  const v = args.values;
  const { store, connection, queueName } = connect(v);
  const num = (name: string, min: number) => {
    const n = Number(v[name]);
    if (!(Number.isInteger(n) && n >= min)) throw new UsageError(`--${name} must be an integer >= ${min}`);
    return n;
  };
  const log = (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const w = startWorker({
    connection, queueName, store, log,
    concurrency: num('concurrency', 1), workers: num('workers', 1),
    lockMs: num('lock-ms', 1000), stalledMs: num('stalled-ms', 500), maxStalled: num('max-stalled', 0),
  });
  // the handlers before the line that says the worker runs (serve's reason: a signal sent on
  // reading it must find them)
  let stopped: () => void = () => {};
  const closed = new Promise<void>((resolve) => (stopped = resolve));
  let stopping = false;
  const stop = (sig: NodeJS.Signals) => {
    if (stopping) {
      // at once, as serve: the steps in hand go back to the queue when their locks lapse;
      // their engines' spill files are removed here, not left for the next start
      log(`${sig} again: exiting now`);
      removeAllSpills();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    stopping = true;
    log(`${sig}: finishing the steps in hand`);
    w.close().then(stopped, stopped);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log(`worker ${process.pid} on queue ${queueName}, store ${store.where}`);
  await closed;
  log('worker stopped');
  return 0;
}

async function status(args: Parsed): Promise<number> {
  const v = args.values;
  const { store, connection, queueName } = connect(v);
  await reachable(v);
  if (v.wait && !v.run) throw new UsageError('--wait needs --run ID');
  if (v.wait) {
    const plan = await loadPlan(store, checkRunName(String(v.run))).catch((err: Error) => {
      throw new UsageError(err.message);
    });
    return finish(await waitFor(connection, queueName, store, plan), v);
  }
  const runs = v.run ? [checkRunName(String(v.run))] : await storedRuns(store);
  const queue = new Queue(queueName, { connection });
  try {
    const all: RunStatus[] = [];
    for (const run of runs) {
      const plan = await loadPlan(store, run).catch((err: Error) => {
        throw new UsageError(err.message);
      });
      all.push(await runStatus(queue, store, plan));
    }
    if (v.json) process.stdout.write(JSON.stringify(all, null, 2) + '\n');
    else if (all.length === 0) process.stdout.write(`no runs in ${store.where}\n`);
    else for (const s of all) process.stdout.write(describeStatus(s, resubmitLine(v, s.run)) + '\n');
    return all.some((s) => s.state === 'failed' || s.state === 'lost') ? 4 : 0;
  } finally {
    await queue.close();
  }
}
