#!/usr/bin/env node
// The main thread's time inside the native readFilesAsync call (blobs-ahead.ts queueGroup) of groups of 16 blobs,
// each group awaited before the next: wall in the call summed, over REPS passes of the blobs under DIR. With
// `perf record -g` beside it, the thread's own samples in read_files_async tell work from time off its core (the woken
// pool thread taking it on a busy host: session 22 azure).
//   node bench/probes/read-files-call.mjs /abs/path/to/dist DIR [REPS=20]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
const [dist, dir, reps = '20'] = process.argv.slice(2);
const read = dist && dir ? (await import(join(dist, 'src/input/native.js'))).nativeModule()?.readFilesAsync : undefined;
if (!dist || !dir) throw new Error('usage: node bench/probes/read-files-call.mjs /abs/path/to/dist DIR [REPS]');
if (!read) throw new Error('no native readFilesAsync in this build');
const paths = [];
const walk = (d) => { for (const n of readdirSync(d).sort()) { const p = join(d, n); if (statSync(p).isDirectory()) walk(p); else paths.push(p); } };
walk(dir);
const buffers = [Buffer.allocUnsafeSlow(2 << 20), Buffer.allocUnsafeSlow(2 << 20)];
let inCall = 0n, calls = 0;
for (let r = 0; r < Number(reps); r++) {
  for (let g = 0; g + 16 <= paths.length; g += 16) {
    const group = paths.slice(g, g + 16);
    const spans = new Float64Array(32);
    let off = 0, n = 0;
    for (; n < 16; n++) {
      const room = statSync(group[n]).size + 1;
      if (off + room > 2 << 20) break;
      spans[2 * n] = off;
      spans[2 * n + 1] = room;
      off += room;
    }
    let done;
    const landed = new Promise((resolve) => (done = resolve));
    const t = process.hrtime.bigint();
    read(`${group.slice(0, n).join('\0')}\0`, buffers[calls % 2], spans.subarray(0, 2 * n), () => done());
    inCall += process.hrtime.bigint() - t;
    calls++;
    await landed;
  }
}
console.log(`${calls} calls, ${(Number(inCall) / 1e6).toFixed(1)} ms in the call (${(Number(inCall) / 1e3 / calls).toFixed(1)} us a call)`);
