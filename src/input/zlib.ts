/**
 * node:zlib, loaded at its first use. It loads node:stream, and the two cost ~1.4-2 ms of CPU
 * in every thread that loads them (bench/RESULTS.md, session 17, boot): a run whose gzip files
 * go to libdeflate (native.ts) and that reads no stream needs neither, on the main thread or
 * in a parse thread.
 */
export type Zlib = typeof import('node:zlib');

let zlib: Zlib | undefined;

export function zlibNow(): Zlib {
  zlib ??= process.getBuiltinModule('node:zlib');
  return zlib;
}
