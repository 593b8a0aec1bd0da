/**
 * The thread's native module, dist/native/inflate.node (native/inflate.c): libdeflate's
 * whole-buffer gunzip (read.ts) and two memory calls, a leaf that the shard's tables take
 * too without the reader's imports. Absent (not built, another platform, FLOWSIEVE_INFLATE=zlib):
 * the gunzip falls back to Node's zlib and the memory calls do nothing.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface NativeInflate {
  /** bytes of `gz` its first member took, or < 0: an error; `out` must be the member's size exactly */
  gunzip(gz: Uint8Array, out: Uint8Array): number;
  /** the same on libuv's thread pool, `done` getting what gunzip would return; false: not started, `limit` inflates of the process are there already */
  gunzipAsync(gz: Uint8Array, out: Uint8Array, limit: number, done: (result: number) => void): boolean;
  /**
   * gunzipAsync of the gzip file open at `fd`, read into `gz` (its exact size) on the pool thread
   * too; the fd stays the caller's to close (absent on Windows and in a module built before it)
   */
  gunzipFileAsync?(fd: number, gz: Uint8Array, out: Uint8Array, limit: number, done: (result: number) => void): boolean;
  /** madvise(MADV_HUGEPAGE) over the whole 2 MiB pages of `bytes` (absent in a module built before it) */
  adviseHugePages?(bytes: Uint8Array): boolean;
  /** adviseHugePages, answering the offset in `bytes` of the first whole 2 MiB page advised, or -1: none (absent in a module built before it) */
  hugePagesFrom?(bytes: Uint8Array): number;
  /** madvise(MADV_POPULATE_WRITE) over the whole 4 KiB pages of `bytes` (absent in a module built before it) */
  populate?(bytes: Uint8Array): boolean;
  /** populate over (byte offset, length) pairs of `bytes` on libuv's pool, `bytes` held until then (absent in a module built before it) */
  populateAsync?(bytes: Uint8Array, ranges: Float64Array, done?: () => void): boolean;
  /** madvise(MADV_DONTNEED) over the (byte offset, length) pairs' whole 4 KiB pages of `bytes` on libuv's pool, `bytes` held until then (absent in a module built before it) */
  releaseAsync?(bytes: Uint8Array, ranges: Float64Array, done?: () => void): boolean;
  /**
   * each file of `paths` (each ended by a NUL) read whole on one of libuv's pool threads into `into`
   * at its span's (offset, room) pair of `spans`, the room then replaced by the bytes read,
   * -1 - errno, or -1 where the path is no regular file (not read); with `heads` (a byte a file),
   * each file read has there the HeadWord bits (formats/types.ts) its first 64 KiB hold; done()
   * when all are in; false: not queued, done() never called (POSIX; absent in a module built
   * before it; `heads` ignored by one built before it)
   */
  readFilesAsync?(paths: string, into: Uint8Array, spans: Float64Array, done: () => void, heads?: Uint8Array): boolean;
  /**
   * the whole file at `path` read into `into` now, opened relative to its folder, which stays open
   * for the thread's next file in it: the bytes read, or -1 where it did not read the whole file
   * (not opened or read, no bytes, or `into` filled) (POSIX; absent in a module built before it)
   */
  readFileIn?(path: string, into: Uint8Array): number;
  /** the folder readFileIn keeps open closed (a task's end: a folder renamed or replaced since is opened anew) */
  readFileInDone?(): void;
  /** the tree under folder `root` listed on one of libuv's pool threads, up to `maxEntries` entries (POSIX; absent in a module built before it) */
  treeWalkStart?(root: string, maxEntries: number): object;
  /** a treeWalkStart's records, once (null after), waiting for the walk where it has not ended (native/files.c) */
  treeWalkTake?(walk: object): string | null;
  /** the CRC-32 of `bytes` (zlib's), by libdeflate (absent in a module built before it) */
  crc32?(bytes: Uint8Array): number;
}

/** The thread's native module (undefined: not looked for yet; null: none, or FLOWSIEVE_INFLATE=zlib). */
let nativeInflate: NativeInflate | null | undefined;

/** The module's place from dist/src/<folder>/ (this file, the CLI's bundle chunks) and from dist/workers/ (the worker bundles). */
const NATIVE_PLACES = ['../../native/inflate.node', '../native/inflate.node'];

function loadNativeInflate(): NativeInflate | null {
  if (process.env.FLOWSIEVE_INFLATE === 'zlib') return null;
  for (const place of NATIVE_PLACES) {
    const path = fileURLToPath(new URL(place, import.meta.url));
    if (!existsSync(path)) continue;
    try {
      // process.dlopen, not require: ~0.2 against ~1 ms of CPU a thread (no module resolution)
      const module = { exports: {} as Partial<NativeInflate> };
      process.dlopen(module, path);
      const m = module.exports;
      if (typeof m.gunzip === 'function' && typeof m.gunzipAsync === 'function') return m as NativeInflate;
    } catch {
      // built for another platform, or this Node cannot load it: zlib does the work
    }
  }
  return null;
}

/** The thread's native module, loaded at the first call; null: none. */
export function nativeModule(): NativeInflate | null {
  nativeInflate ??= loadNativeInflate();
  return nativeInflate;
}

/**
 * Back the whole pages of `view` with writable memory now, in one system call, where the
 * kernel can (madvise MADV_POPULATE_WRITE, Linux 5.14): for fresh memory about to be filled
 * whole, whose first touch would otherwise take a fault a 4 KiB page. Contents never change.
 * False without the module, the kernel's support, or with FLOWSIEVE_POPULATE=off (A/B runs):
 * the pages then fault as they always did.
 */
export function populate(view: ArrayBufferView): boolean {
  if (view.byteLength === 0 || process.env.FLOWSIEVE_POPULATE === 'off') return false;
  const call = nativeModule()?.populate;
  return call ? call(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)) : false;
}

/**
 * populate on libuv's thread pool, over the (byte offset, length) pairs of `ranges` in `bytes`
 * (the pairs are read now; `bytes` is held until the pool thread is done): memory this thread
 * is about to write for the first time backed by another thread while this one works, so
 * that its first touch takes no fault (~1.4 us a 4 KiB page here, paid by whichever thread
 * backs it: bench/RESULTS.md, session 14, shardmem); done() once the pool thread is done, if
 * given. False where nothing was queued (no module, not Linux, no whole page in the ranges,
 * FLOWSIEVE_POPULATE=off or now): the pages fault as they always did. A kernel without the
 * advice (before 5.14) queues it and the pool thread's madvise fails: nothing changes either.
 */
export function populateLater(bytes: Uint8Array, ranges: Float64Array, done?: () => void): boolean {
  const setting = process.env.FLOWSIEVE_POPULATE;
  if (setting === 'off' || setting === 'now') return false;
  const call = nativeModule()?.populateAsync;
  return call ? call(bytes, ranges, done) : false;
}

/** populateLater over the whole of `view` (as populate, on libuv's pool). */
export function populateViewLater(view: ArrayBufferView): boolean {
  return populateLater(new Uint8Array(view.buffer, view.byteOffset, view.byteLength), new Float64Array([0, view.byteLength]));
}

/**
 * Give the whole pages of `buffer` back to the kernel on libuv's thread pool (the native module's
 * releaseAsync, madvise MADV_DONTNEED): they read as zeros afterwards. Only for memory that no
 * thread reads again and that stays referenced until the process ends (the engine's batch ring and
 * a table shared with this thread, after a run's last finalise: engine/run.ts), so that its pages
 * are freed on a pool thread while this one writes the outputs instead of in the process's exit
 * (~20 ms of the kernel's time after the last output on the 7 M-record bucket: bench/RESULTS.md,
 * session 20 tailmain). done() once the pool thread is done, if given. False where nothing was
 * queued (no module, not Linux, no whole page, FLOWSIEVE_RELEASE=off): the exit frees them as before.
 */
export function releaseLater(buffer: ArrayBufferLike, done?: () => void): boolean {
  if (process.env.FLOWSIEVE_RELEASE === 'off' || buffer.byteLength === 0) return false;
  const call = nativeModule()?.releaseAsync;
  return call ? call(new Uint8Array(buffer), new Float64Array([0, buffer.byteLength]), done) : false;
}
