/**
 * The fused pipeline's planning (engine/run.ts, Engine.ingest, workers/shard.ts): each shard
 * thread parses whole files and adds their records into its own tables of every shard, and
 * the tables are exchanged by shard at the end. No batch crosses a thread and the main
 * thread routes nothing. Entries merge exactly (counts and sums of integers, min and max),
 * so where a record is added does not change a verdict.
 *
 * Which thread reads a file: the files of one (account, region) go to one thread, as
 * both are part of every key, so that the threads' tables hold different keys and the
 * exchange moves each entry once, not a copy of it per thread.
 */
import type { InputFile } from '../input/plan.js';
import { ENTRY_BYTES } from './scan-layout.js';
import { defaultMaxMemory } from './spill.js';
import type { FusedPart } from './tasks.js';
import type { DetectOptions } from './types.js';

/** Whether --pipeline lets this run be fused, before its inputs are planned (no parse threads are started then). */
export function fusedMayApply(opts: DetectOptions): boolean {
  const p = opts.pipeline ?? 'sharded';
  if (p === 'sharded' || opts.shardOp === 'convertAdd') return false; // convert spools what the shards receive
  if (p === 'fused') return true;
  // auto: local paths only (stdin and buckets are streamed by the main thread), no partition (cluster)
  return !opts.partition && opts.inputs.length > 0 && opts.inputs.every((i) => i !== '-' && !/^[a-z][a-z0-9]*:\/\//.test(i));
}

/**
 * Whether the planned inputs can be read fused: no streamed input (stdin, bucket objects)
 * and no replay file (their blocks go to the shard that owns them), and, unless forced,
 * the tables fit --max-memory: a thread holds its share of the `entries` expected in
 * tables of every shard, and at the exchange a copy of what it hands out.
 */
export function fusedApplies(files: InputFile[], opts: DetectOptions, entries: number): boolean {
  if (files.some((f) => !f.error && (f.open !== undefined || f.format === 'replay'))) return false;
  if (opts.pipeline === 'fused') return true;
  const budget = (opts.maxMemory ?? defaultMaxMemory()) / 2; // the other half: held records, outbound, batches, the runtime
  return 2 * entries * (ENTRY_BYTES + 12) <= budget;
}

/**
 * Threads for items with an affinity key and a weight: whole keys to threads, heaviest
 * first to the least loaded (ties: the lower thread), so that the loads come out even.
 */
export function threadsByAffinity(items: Array<{ key: string; weight: number }>, threads: number): number[] {
  const byKey = new Map<string, number>();
  for (const it of items) byKey.set(it.key, (byKey.get(it.key) ?? 0) + it.weight);
  const keys = [...byKey].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const load = new Float64Array(threads);
  const threadOf = new Map<string, number>();
  for (const [key, w] of keys) {
    let t = 0;
    for (let u = 1; u < threads; u++) if (load[u]! < load[t]!) t = u;
    threadOf.set(key, t);
    load[t]! += w;
  }
  return items.map((it) => threadOf.get(it.key)!);
}

/**
 * Run jobs on threads, `perThread` at a time each: a thread takes its own queue's jobs
 * first, then steals from the back of the longest other queue (keeping that queue's front
 * with its owner), then takes the shared `rest` (chunks of large files, any thread).
 */
export async function runAffine<J>(queues: J[][], rest: AsyncIterator<J>, perThread: number, run: (job: J, thread: number) => Promise<void>): Promise<void> {
  let restDone = false;
  const next = async (t: number): Promise<J | undefined> => {
    const own = queues[t]!;
    if (own.length > 0) return own.shift();
    let v = -1;
    for (let u = 0; u < queues.length; u++) if (queues[u]!.length > (v < 0 ? 0 : queues[v]!.length)) v = u;
    if (v >= 0) return queues[v]!.pop();
    if (restDone) return undefined;
    const r = await rest.next();
    if (r.done) restDone = true;
    return r.done ? undefined : r.value;
  };
  const lane = async (t: number): Promise<void> => {
    for (let job = await next(t); job !== undefined; job = await next(t)) await run(job, t);
  };
  await Promise.all(Array.from({ length: queues.length * perThread }, (_, k) => lane(k % queues.length)));
}

/** The buffers of an exported part, moved (not copied) to the thread that merges it. */
export function partBuffers(p: FusedPart): ArrayBuffer[] {
  const { inbound: i, outbound: o } = p;
  const arrays = [i.words, i.counts, i.v6, o.srcA, o.ep, o.pp, o.win, o.dstA, o.flags, o.f, o.p, o.b, o.first, o.last, o.iface, o.instance, o.region, o.sports, o.v6];
  return [...new Set(arrays.map((a) => a.buffer as ArrayBuffer))];
}
