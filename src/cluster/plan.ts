/**
 * A cluster run's plan: the input files (as `detect` would see them), cut into groups
 * that one convert job converts (or stages) each, the partition count and the detection options. The
 * plan is written to the store by `cluster submit`; jobs carry only the run id and their
 * group or partition, and read the plan from the store. The run id is a hash of the plan,
 * so submitting the same inputs and options again names the same run (and its steps,
 * being done, are not redone).
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { planAll, type SourcePlanOptions } from '../source/plan.js';
import type { FormatName } from '../formats/types.js';
import type { Store } from './store.js';

/**
 * Options that name files (one, or a list for --actors): the files travel with the plan,
 * through the store, so a worker on another machine reads what the submitter named.
 */
export const FILE_OPTIONS = ['allow', 'own-cidrs', 'region-map', 'geoip-db', 'asn-db', 'actors'] as const;

/** Detection options that are per machine, not per run. */
const MACHINE_OPTIONS = new Set(['workers', 'partition']);

export interface PlannedFile {
  display: string; // as detect names it (the path as given, or under the folder given)
  path: string; // absolute path on the submitting machine
  size: number;
  mtimeMs: number;
  format: FormatName | null;
  gzip: boolean;
  error?: string; // unreadable at submit: reported, never staged (as detect reports it)
}

/**
 * What a convert step makes of its input group: `replay`, one replay file (parsed once;
 * detect steps read replay blocks, not text), or `copy`, the files as they are (detect
 * steps parse them, and the merged summary lists the very files a single detect lists).
 */
export type Stage = 'replay' | 'copy';

export interface RunPlan {
  version: 1;
  run: string;
  inputs: string[]; // as given to submit
  partitions: number;
  stage: Stage;
  /** Detection option values as parsed (file options replaced by store keys). */
  options: Record<string, string | number | boolean | string[]>;
  files: PlannedFile[];
  /** File indexes per input group, in plan order. */
  groups: number[][];
  attempts: number;
  backoffMs: number;
}

export const runPrefix = (run: string) => `runs/${run}`;
export const planKey = (run: string) => `${runPrefix(run)}/plan.json`;
export const groupName = (g: number) => `g${String(g).padStart(4, '0')}`;
export const groupManifestKey = (run: string, g: number) => `${runPrefix(run)}/groups/${groupName(g)}.json`;
export const groupsPrefix = (run: string) => `${runPrefix(run)}/groups`;
/** Group g's replay file of partition p of P (as `convert --partitions` names its files). */
export const partitionReplayName = (g: number, p: number, count: number) => `${groupName(g)}.part-${p}-of-${count}.fsr`;
export const partitionReplayKey = (run: string, g: number, p: number, count: number) => `${groupsPrefix(run)}/${partitionReplayName(g, p, count)}`;
export const partialKey = (run: string, p: number, count: number) => `${runPrefix(run)}/partials/partial-${p}-of-${count}.fsp`;
export const outputPrefix = (run: string) => `${runPrefix(run)}/out`;
export const configKey = (run: string, option: string) => `${runPrefix(run)}/config/${option}`;

/** Where a file of group g is staged: its display path kept, so the AWS S3 layout (account, region) still reads from it. */
export function stagedKey(run: string, g: number, index: number, display: string): string {
  const safe = display
    .replace(/\\/g, '/')
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .map((p) => (p === '..' ? '_up_' : p))
    .join('/');
  return `${runPrefix(run)}/inputs/${groupName(g)}/${index}/${safe}`;
}

export interface PlanRequest {
  inputs: string[];
  partitions: number;
  stage: Stage;
  options: Record<string, string | number | boolean | string[] | undefined>;
  groupBytes: number;
  attempts: number;
  backoffMs: number;
  run?: string;
}

export async function makePlan(req: PlanRequest, source: Pick<SourcePlanOptions, 'range' | 'source'> = {}): Promise<{ plan: RunPlan; configFiles: Array<{ key: string; data: Buffer }> }> {
  // bucket URLs are listed here, once: each object is one planned file, read by its URL
  const found = await planAll(req.inputs, {
    format: req.options.format as FormatName | undefined,
    account: req.options.account as string | undefined,
    region: req.options.region as string | undefined,
    ...source,
  });
  const files: PlannedFile[] = found.map((f) => {
    let mtimeMs = f.modified ?? 0;
    try {
      if (!f.open) mtimeMs = statSync(f.path).mtimeMs;
    } catch {
      // unreadable: f.error says why
    }
    return {
      display: f.display, path: f.open ? f.path : resolve(f.path), size: f.size, mtimeMs, format: f.format, gzip: f.gzip,
      ...(f.error ? { error: f.error } : {}),
    };
  });
  const options: RunPlan['options'] = {};
  const configs: Array<{ option: string; name: string; data: Buffer }> = [];
  const fileOptions: Array<{ option: string; names: string[]; list: boolean }> = [];
  for (const [name, value] of Object.entries(req.options)) {
    if (value === undefined || MACHINE_OPTIONS.has(name)) continue;
    if ((FILE_OPTIONS as readonly string[]).includes(name)) {
      const paths = Array.isArray(value) ? value : [String(value)];
      const names = paths.map((path, i) => (Array.isArray(value) ? `${name}.${i}` : name));
      paths.forEach((path, i) => configs.push({ option: name, name: names[i]!, data: readFileSync(path) }));
      fileOptions.push({ option: name, names, list: Array.isArray(value) });
      continue;
    }
    options[name] = value;
  }
  const groups = groupFiles(files, req.groupBytes);
  const identity = JSON.stringify({
    inputs: req.inputs,
    files: files.map((f) => [f.display, f.size, f.mtimeMs, f.error ?? '']),
    options,
    configs: configs.map((c) => [c.name, createHash('sha256').update(c.data).digest('hex')]),
    partitions: req.partitions,
    stage: req.stage,
    groups,
  });
  const run = req.run ?? `run-${createHash('sha256').update(identity).digest('hex').slice(0, 16)}`;
  for (const f of fileOptions) {
    const keys = f.names.map((n) => configKey(run, n));
    options[f.option] = f.list ? keys : keys[0]!;
  }
  return {
    plan: {
      version: 1, run, inputs: req.inputs, partitions: req.partitions, stage: req.stage, options, files, groups,
      attempts: req.attempts, backoffMs: req.backoffMs,
    },
    configFiles: configs.map((c) => ({ key: configKey(run, c.name), data: c.data })),
  };
}

/** Consecutive readable files, up to groupBytes a group (a larger file is a group of its own). */
function groupFiles(files: PlannedFile[], groupBytes: number): number[][] {
  const groups: number[][] = [];
  let cur: number[] = [];
  let bytes = 0;
  files.forEach((f, i) => {
    if (f.error) return;
    if (cur.length && bytes + f.size > groupBytes) {
      groups.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(i);
    bytes += f.size;
  });
  if (cur.length) groups.push(cur);
  return groups;
}

const plans = new Map<string, RunPlan>();

/** The plan of a run, from the store (kept in memory: a plan never changes once written). */
export async function loadPlan(store: Store, run: string): Promise<RunPlan> {
  const cached = plans.get(run);
  if (cached) return cached;
  let text: Buffer;
  try {
    text = await store.get(planKey(run));
  } catch (err) {
    throw new Error(`run ${run}: no plan in the store ${store.where} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  const plan = JSON.parse(text.toString('utf8')) as RunPlan;
  plans.set(run, plan);
  return plan;
}

export function checkRunName(run: string): string {
  if (!/^[A-Za-z][A-Za-z0-9_-]{0,63}$/.test(run)) throw new Error(`run name '${run}': letters, digits, - and _ only, starting with a letter`);
  return run;
}
