/**
 * Folder listings and file sizes read once a run: detect's small-input look (engine/small-input.ts
 * smallInput) reads them before the run's engine starts, and planning (plan.ts) takes them
 * instead of reading the same folders and sizes again (the look cost 4.2 ms of the main
 * thread's CPU on the Azure blobs, 3.3 on 10,080 tiny files, on the way to the first parse
 * task: bench/RESULTS.md, "Session 15: startup"). Each is taken once; forgetListings drops
 * what no planning took, so that a later run reads afresh.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';

const listings = new Map<string, Dirent[]>();
const sizes = new Map<string, number>();

/** A folder's entries (readdirSync), kept for planning. */
export function listKept(dir: string): Dirent[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  listings.set(dir, entries);
  return entries;
}

/** A file's size (statSync), kept for planning. */
export function sizeKept(path: string): number {
  const size = statSync(path).size;
  sizes.set(path, size);
  return size;
}

/** The listing kept for this folder, once. */
export function takeListing(dir: string): Dirent[] | undefined {
  const entries = listings.get(dir);
  if (entries) listings.delete(dir);
  return entries;
}

/** The size kept for this file, once. */
export function takeSize(path: string): number | undefined {
  const size = sizes.get(path);
  if (size !== undefined) sizes.delete(path);
  return size;
}

/** Drops what was kept and not taken. */
export function forgetListings(): void {
  listings.clear();
  sizes.clear();
}
