/**
 * What each job of a cluster run does. Every step first looks for its output in the
 * store and returns at once when it is there: a step retried after a crash, or
 * resubmitted after Redis lost its jobs, costs nothing when its work was done.
 *
 * Until replay files land (`flowsieve convert --partitions P`), the convert step stages
 * its input group into the store as it is, and each detect step reads every staged file
 * with --partition p/P. With replay files, the convert step writes one replay file per
 * partition into the group's manifest and the detect step reads only its own: only
 * `convertGroup` and `inputsOfPartition` change.
 */
import { stat } from 'node:fs/promises';
import { detect, type DetectResult, type FileReport } from '../engine/run.js';
import { newCounters } from '../flow/sink.js';
import { detectOptionsFrom } from '../cli/common.js';
import { runSettings, writeResults } from '../cli/commands/detect.js';
import { analysisPlan, runAnalysis } from '../cli/analysis.js';
import { decodePartial, encodePartial, mergePartials, toPartial } from './partial.js';
import {
  FILE_OPTIONS, groupManifestKey, loadPlan, outputPrefix, partialKey, stagedKey, type PlannedFile, type RunPlan,
} from './plan.js';
import { ensureDetectFlow, type StepData, type StepName } from './queue.js';
import type { Store } from './store.js';
import type { ConnectionOptions } from 'bullmq';

export interface StepContext {
  store: Store;
  connection: ConnectionOptions;
  queueName: string;
  workers: number; // threads of a detect step
}

/** A group's staged files, written last by its convert step. */
export interface GroupManifest {
  group: number;
  files: Array<{ index: number; key: string; size: number }>;
}

export async function runStep(ctx: StepContext, name: StepName, data: StepData): Promise<Record<string, unknown>> {
  const plan = await loadPlan(ctx.store, data.run);
  switch (name) {
    case 'convert':
      return convertGroup(ctx, plan, data.group!);
    case 'partitions':
      return { detectFlowAdded: await startPartitions(ctx, plan) };
    case 'detect':
      return detectPartition(ctx, plan, data.partition!);
    case 'merge':
      return mergeRun(ctx, plan);
  }
  throw new Error(`unknown step '${name as string}'`);
}

/** Stage the group's files into the store, checking they are still what the plan saw. */
async function convertGroup(ctx: StepContext, plan: RunPlan, g: number): Promise<Record<string, unknown>> {
  const manifestKey = groupManifestKey(plan.run, g);
  if ((await ctx.store.size(manifestKey)) !== undefined) return { cached: true };
  const files: GroupManifest['files'] = [];
  for (const i of plan.groups[g] ?? []) {
    const f = plan.files[i]!;
    await checkUnchanged(f);
    const key = stagedKey(plan.run, g, i, f.display);
    const size = await ctx.store.putFile(key, f.path);
    if (size !== f.size) throw new Error(`${f.display} changed while it was copied (${f.size} bytes planned, ${size} copied)`);
    files.push({ index: i, key, size });
  }
  await ctx.store.put(manifestKey, JSON.stringify({ group: g, files } satisfies GroupManifest));
  return { files: files.length, bytes: files.reduce((s, f) => s + f.size, 0) };
}

async function checkUnchanged(f: PlannedFile): Promise<void> {
  let st;
  try {
    st = await stat(f.path);
  } catch (err) {
    throw new Error(`${f.display}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message} (it was there when the run was submitted)`);
  }
  // within a millisecond: what every file system keeps, and what a restore with utimes can set
  if (st.size !== f.size || Math.abs(st.mtimeMs - f.mtimeMs) >= 1) {
    const what = st.size !== f.size ? `${f.size} bytes then, ${st.size} now` : `modified ${new Date(st.mtimeMs).toISOString()}`;
    throw new Error(`${f.display} changed since the run was submitted (${what}): restore it, or submit again to plan a new run`);
  }
}

/** All groups are staged: add the detect steps and the merge. */
async function startPartitions(ctx: StepContext, plan: RunPlan): Promise<boolean> {
  for (let g = 0; g < plan.groups.length; g++) {
    if ((await ctx.store.size(groupManifestKey(plan.run, g))) === undefined) throw new Error(`group ${g} has no manifest in the store`);
  }
  return ensureDetectFlow(ctx.connection, ctx.queueName, plan);
}

/** The staged keys of every readable file, in plan order, for partition p. */
async function inputsOfPartition(store: Store, plan: RunPlan): Promise<Map<number, string>> {
  const keys = new Map<number, string>();
  for (let g = 0; g < plan.groups.length; g++) {
    const m = JSON.parse((await store.get(groupManifestKey(plan.run, g))).toString('utf8')) as GroupManifest;
    for (const f of m.files) keys.set(f.index, f.key);
  }
  return keys;
}

type OptionValues = Record<string, string | number | boolean | string[] | undefined>;

/**
 * The plan's option values with every file option (--allow, --actors, ...) pointing at a
 * local copy of the file the submitter named, while `use` runs.
 */
function withOptionFiles<T>(store: Store, plan: RunPlan, extraKeys: string[], use: (values: OptionValues, extra: string[]) => Promise<T>): Promise<T> {
  const present = FILE_OPTIONS.filter((o) => plan.options[o] !== undefined);
  const keysOf = (o: string) => ([] as string[]).concat(plan.options[o] as string | string[]);
  const optionKeys = present.flatMap(keysOf);
  return store.withLocalFiles([...extraKeys, ...optionKeys], (paths) => {
    const values: OptionValues = { ...plan.options };
    let k = extraKeys.length;
    for (const o of present) {
      const n = keysOf(o).length;
      const local = paths.slice(k, k + n);
      values[o] = Array.isArray(plan.options[o]) ? local : local[0];
      k += n;
    }
    return use(values, paths.slice(0, extraKeys.length));
  });
}

/** Detect one partition over the staged input; write its partial result. */
async function detectPartition(ctx: StepContext, plan: RunPlan, p: number): Promise<Record<string, unknown>> {
  const key = partialKey(plan.run, p, plan.partitions);
  if ((await ctx.store.size(key)) !== undefined) return { cached: true };
  const staged = await inputsOfPartition(ctx.store, plan);
  const order = [...staged.keys()].sort((a, b) => a - b);
  const partial = await withOptionFiles(ctx.store, plan, order.map((i) => staged.get(i)!), async (values, inputs) => {
    const opts = detectOptionsFrom({ ...values, workers: ctx.workers, partition: `${p}/${plan.partitions}` }, inputs);
    const result = asSubmitted(await detect(opts), plan, new Map(inputs.map((path, k) => [path, order[k]!])));
    return toPartial(result, opts, plan.inputs, runSettings(opts, plan.inputs));
  });
  await ctx.store.put(key, encodePartial(partial));
  return { scans: partial.scans.length, records: partial.totals.records, inbound: partial.totals.inbound };
}

/**
 * The result as a detect over the submitted paths reports it: staged paths named as the
 * user gave them, and the files unreadable at submit listed in their place.
 */
function asSubmitted(r: DetectResult, plan: RunPlan, indexOf: Map<string, number>): DetectResult {
  const read = new Map<number, FileReport>();
  for (const f of r.files) {
    const i = indexOf.get(f.path);
    if (i === undefined) throw new Error(`detect reported an unplanned file ${f.path}`);
    read.set(i, { ...f, path: plan.files[i]!.display });
  }
  const files = plan.files.map((f, i) => read.get(i) ?? unreadable(f));
  const rejects = r.rejects.map((x) => ({ ...x, file: plan.files[indexOf.get(x.file) ?? -1]?.display ?? x.file }));
  return { ...r, files, rejects, partial: r.partial || plan.files.some((f) => f.error) };
}

/** The report detect gives a file it could not read (src/engine/run.ts collectReports). */
function unreadable(f: PlannedFile): FileReport {
  return {
    path: f.display, format: f.format, gzip: f.gzip, bytes: 0, decompressedBytes: 0, counters: newCounters(),
    minStart: Infinity, maxEnd: -Infinity, lateByWindow: [], error: f.error,
  };
}

/** Merge the partitions' partials into the run's outputs. */
async function mergeRun(ctx: StepContext, plan: RunPlan): Promise<Record<string, unknown>> {
  const out = outputPrefix(plan.run);
  if ((await ctx.store.size(`${out}/summary.json`)) !== undefined) return { cached: true };
  const parts = await Promise.all(
    Array.from({ length: plan.partitions }, async (_, p) => {
      const key = partialKey(plan.run, p, plan.partitions);
      return decodePartial(await ctx.store.get(key), key);
    }),
  );
  const merged = mergePartials(parts);
  // statistics and enrichment over the whole run, with the options the run was submitted with
  await withOptionFiles(ctx.store, plan, [], async (values) => {
    const analysisPlanned = analysisPlan(values);
    const analysis = await runAnalysis(merged.result, merged.windowSeconds, analysisPlanned);
    const settings = { ...merged.settings, analysis: analysisPlanned.settings };
    // summary.json is written last: its presence means the outputs are complete
    await ctx.store.writeFolder(out, (dir) => writeResults(dir, merged.result, merged.windowSeconds, settings, merged.nearMisses, analysis));
  });
  const r = merged.result;
  return { scans: r.scans.length, alerts: r.alerts.length, records: r.totals.records, partial: r.partial };
}
