/**
 * node:zlib, loaded at its first use: ~0.4 ms of CPU in each thread that loads it, on top of
 * node:stream (~1 ms, which worker_threads loads anyway; bench/RESULTS.md, session 17, boot). A
 * run whose gzip files go to libdeflate (native.ts), that inflates no head to plan and streams
 * nothing never needs it: the main thread of an Azure, GCP or text-file run, its parse threads.
 */
export type Zlib = typeof import('node:zlib');

let zlib: Zlib | undefined;

export function zlibNow(): Zlib {
  zlib ??= process.getBuiltinModule('node:zlib');
  return zlib;
}
