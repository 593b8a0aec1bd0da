/**
 * lz4 decompression of a replay file's blocks alone, in one thread: lz4-napi's
 * `uncompressSync` (a fresh Buffer a block) against the shard's WebAssembly decoder
 * (src/replay/lz4-wasm.ts, into reused memory), alternated, CPU ns a row (process CPU time:
 * GC included). Checks first that both give the same bytes for every block.
 *
 *   node dist/bench/probes/lz4-decode.js FILE.fsr [--rounds 5]
 */
import { readFileSync } from 'node:fs';
import { readReplayHeader } from '../../src/replay/file.js';
import { readBlockHeader } from '../../src/replay/block.js';
import { lz4Codec } from '../../src/replay/codecs.js';
import { lz4Wasm } from '../../src/replay/lz4-wasm.js';

const path = process.argv[2];
if (!path) throw new Error('usage: lz4-decode.js FILE.fsr [--rounds N]');
const at = process.argv.indexOf('--rounds');
const rounds = at >= 0 ? Number(process.argv[at + 1]) : 5;
const opened = readReplayHeader(path);
const file = readFileSync(path);
const idx = opened.header.blocks;
const payloads: Array<{ payload: Uint8Array; raw: number }> = [];
let rows = 0;
for (let k = 0; k < idx.offset.length; k++) {
  const from = opened.dataStart + idx.offset[k]!;
  const frame = file.subarray(from, from + idx.length[k]!);
  const h = readBlockHeader(frame);
  payloads.push({ payload: frame.subarray(frame.length - h.size), raw: h.raw });
  rows += h.rows;
}
const napi = lz4Codec();
const wasm = lz4Wasm();
if (!wasm) throw new Error('dist/wasm/lz4-block.wasm is not built');
for (const { payload, raw } of payloads) {
  const a = napi.uncompressSync(payload);
  const b = wasm.uncompress(payload, raw);
  if (!b || Buffer.compare(a, Buffer.from(b.buffer, b.byteOffset, b.length)) !== 0) throw new Error('the decoders disagree');
}
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e3;
};
const ns = (ms: number) => ((ms * 1e6) / rows).toFixed(1);
console.log(`${payloads.length} blocks, ${rows.toLocaleString('en-US')} rows: same bytes from both decoders`);
for (let r = 0; r < rounds; r++) {
  let t = cpuMs();
  for (const { payload } of payloads) napi.uncompressSync(payload);
  const a = cpuMs() - t;
  t = cpuMs();
  for (const { payload, raw } of payloads) wasm.uncompress(payload, raw);
  const b = cpuMs() - t;
  console.log(`round ${r + 1}: lz4-napi ${ns(a)} ns a row, WebAssembly ${ns(b)} ns a row`);
}
