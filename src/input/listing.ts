/**
 * Folder listings and file sizes read once a run: detect's small-input look (engine/small-input.ts
 * smallInput) reads them before the run's engine starts, and planning (plan.ts) takes them
 * instead of reading the same folders and sizes again (the look cost 4.2 ms of the main
 * thread's CPU on the Azure blobs, 3.3 on 10,080 tiny files, on the way to the first parse
 * task: bench/RESULTS.md, "Session 15: startup"). Each is taken once; forgetListings drops
 * what no planning took, so that a later run reads afresh.
 *
 * Both may read a prewalk instead (startPrewalk): a folder's whole tree listed on libuv's pool
 * by the native module (native/files.c treeWalkStart) from the command line's start, while the
 * main thread loads detect's modules; a folder it did not list is read here as before.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { nativeModule } from './native.js';

/**
 * What the look and planning read of a folder's entry (a Dirent, or a prewalk's entry, which
 * carries a regular file's size too: planning's walk takes it from there, not by its path).
 */
export type ListedEntry = Pick<Dirent, 'name' | 'isFile' | 'isDirectory' | 'isSymbolicLink'> & { readonly size?: number };

const listings = new Map<string, ListedEntry[]>();
const sizes = new Map<string, number>();

/** A folder's entries (readdirSync, or the prewalk's), kept for planning. */
export function listKept(dir: string): ListedEntry[] {
  const entries = walkedListing(dir) ?? readdirSync(dir, { withFileTypes: true });
  listings.set(dir, entries);
  return entries;
}

/** A file's size (statSync, or the prewalk's), kept for planning. */
export function sizeKept(path: string): number {
  const size = walkedSize(path) ?? statSync(path).size;
  sizes.set(path, size);
  return size;
}

/** The listing kept for this folder (or the prewalk's), once. */
export function takeListing(dir: string): ListedEntry[] | undefined {
  const entries = listings.get(dir);
  if (entries) listings.delete(dir);
  return entries ?? walkedListing(dir);
}

/** The size kept for this file (or the prewalk's), once. */
export function takeSize(path: string): number | undefined {
  const size = sizes.get(path);
  if (size !== undefined) sizes.delete(path);
  return size ?? walkedSize(path);
}

/** Drops what was kept and not taken, and the prewalk too unless `keepPrewalk` (the look's own start). */
export function forgetListings(keepPrewalk = false): void {
  listings.clear();
  sizes.clear();
  if (keepPrewalk) return;
  prewalk = null;
  walked.clear();
  walkedFiles.clear();
}

/** The most entries a prewalk lists (a larger tree: the folders past it are read by planning). */
const PREWALK_ENTRIES = 100_000;

/** The prewalk asked for and not yet read: its root and the native walk. */
let prewalk: { root: string; walk: object } | null = null;
/** The prewalk's listings, by the path planning names each folder with, each given out once. */
const walked = new Map<string, ListedEntry[]>();
/**
 * The prewalk's files by the prefix planning names a folder's files with (the folder's path and
 * a '/'), for walkedSize: made into a map of sizes by name only for a folder asked about (the
 * look's few), as a map of every file by its whole path cost planning ~1.5 us a file (hashing
 * the joined path twice) where the walk hands each listed file's size over in its entry.
 */
const walkedFiles = new Map<string, WalkedEntry[] | Map<string, number>>();

/**
 * Start listing the tree under folder `root` on libuv's pool (the command line's start of a
 * detect run on a folder, but one of GCP exports: engine/lone-shard.ts). Nothing without the native
 * module's treeWalkStart, or with FLOWSIEVE_PREWALK=off.
 */
export function startPrewalk(root: string): void {
  const start = nativeModule()?.treeWalkStart;
  if (!start || process.env.FLOWSIEVE_PREWALK === 'off') return;
  forgetListings();
  prewalk = { root, walk: start(root, PREWALK_ENTRIES) };
}

/** The prewalk's listing of `dir`, once (undefined: none, read it). */
function walkedListing(dir: string): ListedEntry[] | undefined {
  if (prewalk !== null && dir.startsWith(prewalk.root)) readPrewalk();
  if (walked.size === 0) return undefined;
  const entries = walked.get(dir);
  if (entries) walked.delete(dir);
  return entries;
}

/** The prewalk's size of the file at `path`, once (undefined: none, stat it). */
function walkedSize(path: string): number | undefined {
  if (prewalk !== null && path.startsWith(prewalk.root)) readPrewalk();
  if (walkedFiles.size === 0) return undefined;
  const cut = path.lastIndexOf('/') + 1;
  const at = path.slice(0, cut);
  let files = walkedFiles.get(at);
  if (files === undefined) return undefined;
  if (Array.isArray(files)) walkedFiles.set(at, (files = sizesByName(files)));
  const name = path.slice(cut);
  const size = files.get(name);
  if (size !== undefined) files.delete(name);
  return size;
}

/** The sizes of a folder's files the walk could stat, by name. */
function sizesByName(entries: readonly WalkedEntry[]): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const e of entries) if (e.size >= 0) sizes.set(e.name, e.size);
  return sizes;
}

/**
 * The prewalk's records (native/files.c treeWalkTake: waits for the walk where it has not
 * ended) into `walked` and `walkedFiles`, under the paths plan.ts walk gives them: the root as
 * it was named, a folder or file below it as the root's joined prefix and the names between.
 */
function readPrewalk(): void {
  const { root, walk } = prewalk!;
  prewalk = null;
  const records = nativeModule()!.treeWalkTake!(walk);
  if (records === null) return;
  const prefix = join(root, '_').slice(0, -1);
  let entries: WalkedEntry[] = [];
  // the prefix of the files of the folder whose entries follow; null: a folder not listed here
  // (its entries skipped). Not '': the prefix of a root of '.', './' or 'a/..' is ''
  let filesAt: string | null = null;
  for (const r of records.split('\0')) {
    const kind = r.charCodeAt(0);
    if (kind === D || kind === X) {
      const rel = r.slice(1);
      entries = [];
      filesAt = kind === X ? null : rel === '' ? prefix : `${prefix}${rel}/`;
      if (filesAt !== null) {
        walked.set(rel === '' ? root : prefix + rel, entries);
        walkedFiles.set(filesAt, entries);
      }
      continue;
    }
    if (r.length === 0 || filesAt === null) continue;
    if (kind !== F) {
      entries.push(new WalkedEntry(r.slice(1), kind));
      continue;
    }
    const slash = r.indexOf('/');
    entries.push(new WalkedEntry(r.slice(slash + 1), kind, Number(r.slice(1, slash))));
  }
}

const D = 'D'.charCodeAt(0);
const X = 'X'.charCodeAt(0);
const F = 'f'.charCodeAt(0);
const DIR = 'd'.charCodeAt(0);
const LINK = 'l'.charCodeAt(0);

/** A prewalk's entry: its name, its kind as the listing gave it (native/files.c's letters), and a regular file's size (-1: none, or its stat failed: planning stats it). */
class WalkedEntry implements ListedEntry {
  constructor(
    readonly name: string,
    private readonly kind: number,
    readonly size = -1,
  ) {}
  isFile(): boolean {
    return this.kind === F;
  }
  isDirectory(): boolean {
    return this.kind === DIR;
  }
  isSymbolicLink(): boolean {
    return this.kind === LINK;
  }
}
