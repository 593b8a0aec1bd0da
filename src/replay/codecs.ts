/**
 * msgpackr and lz4-napi, loaded on first use. Most runs (one text or gzip input, no replay,
 * no spill, no partial) never encode a block, and loading both as ES modules cost ~40 ms of
 * CPU in each thread that imported them (the main thread and every worker); their CommonJS
 * builds, required on demand, cost ~10 ms once and write the same bytes.
 */
import { createRequire } from 'node:module';

type Msgpack = typeof import('msgpackr');
type Lz4 = typeof import('lz4-napi');

const require = createRequire(import.meta.url);
let msgpackr: Msgpack | undefined;
let lz4: Lz4 | undefined;

export function msgpack(): Msgpack {
  return (msgpackr ??= require('msgpackr') as Msgpack);
}

export function lz4Codec(): Lz4 {
  return (lz4 ??= require('lz4-napi') as Lz4);
}
