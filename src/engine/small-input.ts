/**
 * detect's small-input look: whether the inputs are small enough for the main thread to read
 * them (engine/inline-shard.ts, the fused pipeline), before the engine starts any thread.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { forgetListings, listKept, sizeKept } from '../input/listing.js';

/**
 * Text bytes (a gzip file counts five times its size) up to which detect reads its input in
 * the main thread (engine/inline-shard.ts). One thread costs less CPU than the sharded
 * pipeline's four at any size, but loses their overlap; measured under load, a 16 MB AWS
 * text file took 0.59x the CPU and less wall time read this way (bench/RESULTS.md, "a fused
 * pipeline"), and on a quiet machine the two threads' overlap should be worth about their
 * start-up there.
 */
export const INLINE_TEXT_BYTES = 16 << 20;

/** The most files a folder given to detect may hold to be a small input (the look stays cheap). */
const INLINE_FOLDER_FILES = 512;

/**
 * True when the inputs (files, and folders of at most INLINE_FOLDER_FILES files) hold at
 * most INLINE_TEXT_BYTES of text in all: a file given by name counts five times its size
 * when it starts as gzip does, a file in a folder when its name ends in .gz.
 */
export function smallInput(inputs: string[]): boolean {
  return look(inputs, Infinity) === true;
}

/**
 * The most folders and files the command line's early look (smallInputKept) reads before it
 * answers "not known": the look runs before the early parse pool starts, and a folder of
 * hundreds of small files (the Azure blobs: 696 files, one folder each, ~280 looked at to
 * reach 16 MB) held the pool's start back long enough to lose its gain (bench/RESULTS.md,
 * "Session 15: prestart", v5).
 */
export const EARLY_LOOK_STEPS = 64;

/** What is left of a look: text bytes, files, and folders plus files read (steps). */
type Left = { bytes: number; files: number; steps: number };

/** smallInput's answer, or undefined where it took more than `steps` folders and files to tell. */
function look(inputs: string[], steps: number): boolean | undefined {
  forgetListings(true); // a listing kept is this run's (input/listing.ts: planning takes it), as is the command line's prewalk
  const left: Left = { bytes: INLINE_TEXT_BYTES, files: INLINE_FOLDER_FILES, steps };
  const head = new Uint8Array(2);
  for (const p of inputs) {
    if (p === '-') return false;
    try {
      const st = statSync(p);
      if (st.isDirectory()) {
        const small = smallFolder(p, left);
        if (small !== true) return small;
        continue;
      }
      if (!st.isFile()) return false;
      const fd = openSync(p, 'r');
      try {
        const gzip = readSync(fd, head, 0, 2, 0) === 2 && head[0] === 0x1f && head[1] === 0x8b;
        left.bytes -= st.size * (gzip ? 5 : 1);
      } finally {
        closeSync(fd);
      }
    } catch {
      return false; // planning reports it
    }
    if (left.bytes < 0) return false;
  }
  return true;
}

/**
 * Walks a folder while it stays within what is left of the small input's bytes and files
 * (undefined: out of steps).
 * `prefix`: the folder's normal form and a separator (join once, then a folder's name and a
 * separator appended: a join an entry made path.join hot, and V8 compiled it and
 * normalizeString while the run starts, on the cores its threads boot on).
 */
function smallFolder(dir: string, left: Left, prefix = join(dir, '_').slice(0, -1)): boolean | undefined {
  if (--left.steps < 0) return undefined;
  for (const e of listKept(dir)) {
    const full = prefix + e.name;
    if (e.isDirectory()) {
      const small = smallFolder(full, left, full + sep);
      if (small !== true) return small;
      continue;
    }
    if (--left.files < 0) return false;
    if (--left.steps < 0) return undefined;
    left.bytes -= sizeKept(full) * (e.name.endsWith('.gz') ? 5 : 1);
    if (left.bytes < 0) return false;
  }
  return true;
}

/** The early parse pool's look (early-pool.ts) for detect's to take: the same inputs are not looked at twice. */
let early: { inputs: string; small: boolean } | null = null;

/**
 * smallInput within EARLY_LOOK_STEPS, its answer kept for the run's own look (lookedSmall);
 * undefined where it could not tell in that many steps (the run's look then reads them all).
 */
export function smallInputKept(inputs: string[]): boolean | undefined {
  const small = look(inputs, EARLY_LOOK_STEPS);
  early = small === undefined ? null : { inputs: inputs.join('\0'), small };
  return small;
}

/** Forgets the early look's answer and listings where no run took them (a command that failed first). */
export function forgetEarlyLook(): void {
  early = null;
  forgetListings();
}

/** smallInput, or the answer kept for these inputs by the command line's early look, once. */
export function lookedSmall(inputs: string[]): boolean {
  const kept = early;
  early = null;
  return kept !== null && kept.inputs === inputs.join('\0') ? kept.small : smallInput(inputs);
}
