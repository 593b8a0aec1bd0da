/**
 * The engine's worker pools: how each is made, which a run starts, and the pools the
 * command line starts before the engine exists (startEarlyPools). A worker thread boots in
 * 35-80 ms (Node's start, its bundle, its WebAssembly), and a JSON or bucket run's first
 * parse job waits for it; the command line knows the thread counts from argv as soon as its
 * bundle runs, ~30 ms before the engine would make the pools (bench/RESULTS.md, "pools at
 * the CLI's start"). Small on purpose: the command line loads it before the engine's modules.
 */
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { Piscina } from 'piscina';
import type * as PiscinaModule from 'piscina';
import type { DetectOptions } from './types.js';
import { fusedMayApply, smallInput } from './fused.js';
import { allReplayFiles } from '../replay/input.js';

type PoolOptions = ConstructorParameters<typeof Piscina>[0];

/**
 * Workers by default: half the cores, at least one. A worker is two busy threads (one
 * parse thread, one shard thread), so this keeps the busy threads at the core count. On
 * the 2-core machine one worker did every input in the same or less wall time than two,
 * with 0.67-0.81x the CPU (bucket, tiny files, text, gzip, replay; JSON blobs 0.8x the CPU
 * at 1.15x the wall): every extra thread compiles the same hot code again and four
 * threads took turns on two cores (bench/RESULTS.md, "default workers").
 */
export function defaultWorkers(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

/**
 * A piscina pool; piscina itself is loaded with the first: an input read in this thread
 * (the fused pipeline's inline shard) starts no pool, and loading piscina cost ~20 ms of
 * the start-up's CPU (bench/RESULTS.md, start-up).
 */
export function newPool(options: PoolOptions): Piscina {
  piscina ??= loadPiscina();
  return new piscina.Piscina(options);
}
let piscina: typeof PiscinaModule | undefined;

/**
 * piscina as the build bundled it (scripts/bundle.mjs), through the loader with V8's code
 * cache: its 14 modules from node_modules cost ~5 ms of CPU to resolve and compile at every
 * run (bench/RESULTS.md, "piscache"); the package itself where there is no bundle.
 */
function loadPiscina(): typeof PiscinaModule {
  const require = createRequire(import.meta.url);
  const bundle = fileURLToPath(new URL('../../workers/piscina.bundle.cjs', import.meta.url));
  if (!existsSync(bundle)) return require('piscina') as typeof PiscinaModule;
  const loader = require('../../workers/code-cache.cjs') as { requireCached(file: string): unknown };
  return loader.requireCached(bundle) as typeof PiscinaModule;
}

/** A worker's CommonJS entry (scripts/worker-shims.mjs says why it is not the .js file itself). */
export const workerFile = (name: string) => fileURLToPath(new URL(`../../workers/${name}.cjs`, import.meta.url));

/**
 * A shard's pool: one thread. 'async' atomics: the thread's event loop turns between tasks,
 * and only there do native buffers' finalisers run (lz4-napi's spill frames: with piscina's
 * default wait loop they were never freed, and a flood's RSS grew with every spill).
 */
export const shardPoolOptions = (): PoolOptions => ({
  filename: workerFile('shard'), minThreads: 1, maxThreads: 1, idleTimeout: 2 ** 31 - 1, concurrentTasksPerWorker: 1, atomics: 'async',
});

/** The parse pool: `minThreads` started at once, up to `maxThreads`. */
export const parsePoolOptions = (minThreads: number, maxThreads: number): PoolOptions => ({
  filename: workerFile('parse'), minThreads, maxThreads, idleTimeout: 60_000,
});

/** True when the inputs are regular files (no folder, no stdin) of less than one chunk in all. */
function fewSmallFiles(inputs: string[], chunkBytes: number): boolean {
  let total = 0;
  for (const p of inputs) {
    if (p === '-') return false;
    try {
      const st = statSync(p);
      if (!st.isFile()) return false;
      total += st.size;
    } catch {
      return false; // planning reports it
    }
  }
  return total < Math.min(chunkBytes, 1 << 20);
}

/** What a run's options decide about its threads; the engine and the early start read the same. */
export type PoolOptionsOf = Pick<DetectOptions, 'inputs' | 'workers' | 'parseThreads' | 'pipeline' | 'partition' | 'shardOp' | 'chunkBytes'>;

/**
 * A detect run reads a small input (files and small folders, up to INLINE_TEXT_BYTES) in
 * this thread, fused (inline-shard.ts), where the sharded pipeline would start a parse
 * thread and a shard thread, each loading and compiling its code for a fraction of a second
 * of work (the verdicts do not depend on the worker count).
 */
export function detectRunsInline(opts: PoolOptionsOf): boolean {
  // the early start's answer, once (a folder's walk, up to 512 files, not made twice in a row)
  const looked = earlyLook;
  earlyLook = undefined;
  if (looked?.key === inlineKey(opts)) return looked.inline;
  return opts.pipeline !== 'sharded' && fusedMayApply(opts as DetectOptions) && smallInput(opts.inputs);
}
const inlineKey = (opts: PoolOptionsOf) => JSON.stringify([opts.inputs, opts.pipeline ?? 'sharded', Boolean(opts.partition), opts.shardOp ?? 'add']);
/** What startEarlyPools found, for the run's own look just after. */
let earlyLook: { key: string; inline: boolean } | undefined;

/** The pools an engine starts when it is made: its shard threads and parse threads. */
export interface PoolPlan {
  shards: number;
  parseThreads: number;
  /** Parse threads started at once; 0 for a run on replay files alone, which parses nothing. */
  minParse: number;
  /** Whether the parse pool starts with the engine (not with the first ingest read sharded: --pipeline fused). */
  parseAtStart: boolean;
}

/** `fusedWanted`: the engine reads its ingests fused where that applies (Engine's constructor). */
export function poolPlan(opts: PoolOptionsOf, fusedWanted: boolean): PoolPlan {
  const shards = Math.max(1, Math.floor(opts.workers));
  // as many parse threads as shards by default: a second one for one shard on 2 cores
  // cost 6-20 % more CPU (each parse thread compiles and warms up its own code) for a
  // wall gain of ~3 % in quiet moments (bench/RESULTS.md, "wall: the timeline")
  const parseThreads = Math.max(1, Math.floor(opts.parseThreads ?? shards));
  // a run on replay files alone parses nothing: its parse threads start only if needed;
  // a run on one small file or a few needs one parse task: one thread is started at once
  // (more only if tasks wait), not N that would each load their code for nothing
  const minParse = allReplayFiles(opts.inputs) ? 0 : fewSmallFiles(opts.inputs, opts.chunkBytes) ? 1 : parseThreads;
  return { shards, parseThreads, minParse, parseAtStart: !fusedWanted };
}

/** Pools started before the engine (startEarlyPools), until an engine takes them or they are dropped. */
let early: { plan: PoolPlan; parse: Piscina | null; shards: Piscina[] } | undefined;

/**
 * Starts the pools a detect run with these options will make, now: its engine takes them
 * (takeEarlyParsePool, takeEarlyShardPools). None for a run read in this thread. An idle
 * piscina thread does not keep the process alive, so pools no engine takes (a usage error
 * found later) end with it.
 */
export function startEarlyPools(opts: PoolOptionsOf): void {
  if (early) return;
  const inline = detectRunsInline(opts);
  earlyLook = { key: inlineKey(opts), inline };
  if (inline) return;
  const plan = poolPlan(opts, fusedMayApply(opts as DetectOptions) && opts.pipeline === 'fused');
  // the parse pool first, as the engine makes them (the timeline probes tell threads apart by their order)
  const parse = plan.parseAtStart ? newPool(parsePoolOptions(plan.minParse, plan.parseThreads)) : null;
  early = { plan, parse, shards: Array.from({ length: plan.shards }, () => newPool(shardPoolOptions())) };
}

const samePlan = (a: PoolPlan, b: PoolPlan) => a.shards === b.shards && a.parseThreads === b.parseThreads && a.minParse === b.minParse;

/** The early parse pool if it is the one `plan` makes (it is then the caller's), else null. */
export function takeEarlyParsePool(plan: PoolPlan): Piscina | null {
  if (!early?.parse || !samePlan(early.plan, plan)) return null;
  const pool = early.parse;
  early.parse = null;
  return pool;
}

/** The early shard pools if they are the ones `plan` makes (they are then the caller's), else null. */
export function takeEarlyShardPools(plan: PoolPlan): Piscina[] | null {
  if (!early || early.shards.length === 0 || !samePlan(early.plan, plan)) return null;
  const pools = early.shards;
  early.shards = [];
  return pools;
}

/** Stops the early pools no engine took (the run was planned otherwise than argv said). */
export function dropEarlyPools(): void {
  if (!early) return;
  const { parse, shards } = early;
  early = { ...early, parse: null, shards: [] };
  for (const p of [parse, ...shards]) void p?.destroy().catch(() => {});
}
