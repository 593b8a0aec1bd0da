/**
 * What each job of a cluster run does. Every step first looks for its output in the
 * store and returns at once when it is there: a step retried after a crash, or
 * resubmitted after Redis lost its jobs, costs nothing when its work was done.
 *
 * The convert step of an input group parses the group's files once and writes one replay
 * file per partition (stage `replay`, as `convert --partitions P` does: the manifest lists
 * them in `byPartition`), or copies the files as they are (stage `copy`). The detect step
 * of partition p reads every group's file of partition p (with --partition p/P), so on an
 * object store it fetches 1/P of the converted data, not all of it. Manifests of runs
 * converted before there were per-partition files name one file per group (`replay`),
 * which every detect step reads, skipping the other partitions' blocks by the index.
 */
import { stat } from 'node:fs/promises';
import { detect } from '../engine/run.js';
import type { DetectResult, FileReport } from '../engine/types.js';
import { newCounters } from '../flow/sink.js';
import { join } from 'node:path';
import { convertPartitioned } from '../replay/convert.js';
import { detectOptionsFrom } from '../app/settings.js';
import { isSourceUrl } from '../source/url.js';
import { runSettings, writeResults } from '../app/results.js';
import { analysisPlan, runAnalysis } from '../app/analysis.js';
import { decodePartial, encodePartial, mergePartials, toPartial } from '../app/partial.js';
import {
  FILE_OPTIONS, groupManifestKey, groupName, groupsPrefix, loadPlan, outputPrefix, partialKey, partitionReplayKey, partitionReplayName,
  stagedKey, type PlannedFile, type RunPlan,
} from './plan.js';
import { ensureDetectFlow, type StepData, type StepName } from './queue.js';
import type { Store } from './store.js';
import type { ConnectionOptions } from 'bullmq';

export interface StepContext {
  store: Store;
  connection: ConnectionOptions;
  queueName: string;
  workers: number; // threads of a convert or detect step
}

/** What a group's convert step wrote (the manifest is written last: it says the step is done). */
export interface GroupManifest {
  group: number;
  files: Array<{ index: number; size: number; key?: string }>; // key: the staged copy (stage copy)
  replay?: string; // the group's one replay file (stage replay, runs converted before byPartition)
  byPartition?: string[]; // the group's replay file of each partition (stage replay)
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

/** Convert (or stage) the group's files into the store, checking they are still what the plan saw. */
async function convertGroup(ctx: StepContext, plan: RunPlan, g: number): Promise<Record<string, unknown>> {
  const manifestKey = groupManifestKey(plan.run, g);
  if ((await ctx.store.size(manifestKey)) !== undefined) return { cached: true };
  const files = (plan.groups[g] ?? []).map((i) => ({ index: i, file: plan.files[i]! }));
  for (const { file } of files) await checkUnchanged(file);
  const manifest: GroupManifest = { group: g, files: [] };
  if (plan.stage === 'replay') {
    // one pass over the group's files, one replay file per partition (each written whole or not at all)
    const P = plan.partitions;
    let records = 0;
    await withOptionFiles(ctx.store, plan, [], async (values) =>
      ctx.store.writeFolder(groupsPrefix(plan.run), async (dir) => {
        const opts = detectOptionsFrom({ ...values, workers: ctx.workers }, files.map((f) => f.file.path));
        const rs = await convertPartitioned({ ...opts, out: join(dir, `${groupName(g)}.fsr`) }, P, (p) => join(dir, partitionReplayName(g, p, P)));
        records = rs[0]?.totals.records ?? 0;
      }),
    );
    manifest.files = files.map(({ index, file }) => ({ index, size: file.size }));
    manifest.byPartition = Array.from({ length: P }, (_, p) => partitionReplayKey(plan.run, g, p, P));
    let replayBytes = 0;
    for (const key of manifest.byPartition) {
      const size = await ctx.store.size(key);
      if (size === undefined) throw new Error(`${key} is not in the store after the conversion wrote it`);
      replayBytes += size;
    }
    await ctx.store.put(manifestKey, JSON.stringify(manifest));
    return { files: files.length, records, replayBytes };
  }
  for (const { index, file } of files) {
    const key = stagedKey(plan.run, g, index, file.display);
    const size = await ctx.store.putFile(key, file.path);
    if (size !== file.size) throw new Error(`${file.display} changed while it was copied (${file.size} bytes planned, ${size} copied)`);
    manifest.files.push({ index, key, size });
  }
  await ctx.store.put(manifestKey, JSON.stringify(manifest));
  return { files: files.length, bytes: manifest.files.reduce((sum, f) => sum + f.size, 0) };
}

async function checkUnchanged(f: PlannedFile): Promise<void> {
  if (isSourceUrl(f.path)) return; // an object in a bucket: listed at submit, read by its URL (a rewritten object is read as it is now)
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

/** All groups are converted: add the detect steps and the merge. */
async function startPartitions(ctx: StepContext, plan: RunPlan): Promise<boolean> {
  for (let g = 0; g < plan.groups.length; g++) {
    if ((await ctx.store.size(groupManifestKey(plan.run, g))) === undefined) throw new Error(`group ${g} has no manifest in the store`);
  }
  return ensureDetectFlow(ctx.connection, ctx.queueName, plan);
}

/**
 * A detect step's inputs, in the order its summary lists them: a store object read
 * under the name the summary gives it, or a file unreadable at submit (listed, not read).
 */
type Slot = { key: string; display: string } | { unreadable: PlannedFile };

async function partitionSlots(store: Store, plan: RunPlan, p: number): Promise<Slot[]> {
  const manifests: GroupManifest[] = [];
  for (let g = 0; g < plan.groups.length; g++) {
    manifests.push(JSON.parse((await store.get(groupManifestKey(plan.run, g))).toString('utf8')) as GroupManifest);
  }
  const unreadable = plan.files.filter((f) => f.error).map((f) => ({ unreadable: f }));
  if (plan.stage === 'replay') {
    // the groups' replay files, named by their place in the store, then the files that could not be read
    const replays = manifests.map((m) =>
      m.byPartition
        ? { key: m.byPartition[p]!, display: partitionReplayName(m.group, p, m.byPartition.length) }
        : { key: m.replay!, display: `${groupName(m.group)}.fsr` },
    );
    return [...replays, ...unreadable];
  }
  // every file where a single detect lists it, under the name it gives it
  const staged = new Map<number, string>();
  for (const m of manifests) for (const f of m.files) staged.set(f.index, f.key!);
  return plan.files.map((f, i) => (f.error ? { unreadable: f } : { key: staged.get(i)!, display: f.display }));
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

/** Detect one partition over the converted input; write its partial result. */
async function detectPartition(ctx: StepContext, plan: RunPlan, p: number): Promise<Record<string, unknown>> {
  const key = partialKey(plan.run, p, plan.partitions);
  if ((await ctx.store.size(key)) !== undefined) return { cached: true };
  const slots = await partitionSlots(ctx.store, plan, p);
  const read = slots.filter((s): s is { key: string; display: string } => 'key' in s);
  const partial = await withOptionFiles(ctx.store, plan, read.map((s) => s.key), async (values, inputs) => {
    const opts = detectOptionsFrom({ ...values, workers: ctx.workers, partition: `${p}/${plan.partitions}` }, inputs);
    const names = new Map(inputs.map((path, k) => [path, read[k]!.display]));
    for (const f of plan.files) names.set(f.path, f.display); // sources named in replay files and their rejects
    const result = asSubmitted(await detect(opts), slots, names);
    return toPartial(result, opts, plan.inputs, runSettings(opts, plan.inputs));
  });
  await ctx.store.put(key, encodePartial(partial));
  return { scans: partial.scans.length, records: partial.totals.records, inbound: partial.totals.inbound };
}

/**
 * The result as the summary should list it: store objects under the names the user knows,
 * and the files unreadable at submit in their place.
 */
function asSubmitted(r: DetectResult, slots: Slot[], names: Map<string, string>): DetectResult {
  const name = (path: string) => names.get(path) ?? path;
  let k = 0; // detect reports one file per input path, in order
  const files = slots.map((s): FileReport => {
    if ('unreadable' in s) return unreadable(s.unreadable);
    const f = r.files[k++]!;
    return { ...f, path: s.display, ...(f.replay ? { replay: { ...f.replay, sources: f.replay.sources.map(name) } } : {}) };
  });
  if (k !== r.files.length) throw new Error(`detect reported ${r.files.length} files for ${k} inputs`);
  const rejects = r.rejects.map((x) => ({ ...x, file: name(x.file) }));
  return { ...r, files, rejects, partial: r.partial || slots.some((s) => 'unreadable' in s) };
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
