#!/usr/bin/env node
// The kernel's copy alone: every file under DIR read with readSync in blocks (256 KiB by default)
// into a Buffer and into a WebAssembly memory's window (where the GCP reader reads), alternated,
// CPU and wall ms a pass. A `--cpu-prof` of a run charges `read` with the time its thread waited
// for a core too; this is what the reads cost (bench/RESULTS.md, session 15 gcp).
//   node bench/probes/read-sync-speed.mjs DIR [ROUNDS] [BLOCK_BYTES]
import { closeSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
/* global WebAssembly */

const [dir, roundsArg, blockArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: node bench/probes/read-sync-speed.mjs DIR [ROUNDS] [BLOCK_BYTES]');
  process.exit(2);
}
const rounds = Number(roundsArg ?? 4);
const W = Number(blockArg ?? 256 * 1024);
const files = [];
(function walk(d) {
  for (const name of readdirSync(d).sort()) {
    const p = join(d, name);
    if (statSync(p).isDirectory()) walk(p);
    else files.push(p);
  }
})(dir);
const mem = new WebAssembly.Memory({ initial: Math.ceil((176 * 1024 + W) / 65536) });
const targets = { buffer: Buffer.allocUnsafe(W), wasm: Buffer.from(mem.buffer, 176 * 1024, W) };
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
for (let r = 0; r < rounds; r++) {
  for (const [name, into] of Object.entries(targets)) {
    const c0 = cpu();
    const t0 = performance.now();
    let bytes = 0;
    for (const f of files) {
      const fd = openSync(f, 'r');
      for (let pos = 0; ; ) {
        const got = readSync(fd, into, 0, W, pos);
        if (!got) break;
        pos += got;
        bytes += got;
      }
      closeSync(fd);
    }
    console.log(`${name.padEnd(7)} ${(bytes / 1e6).toFixed(1)} MB  cpu ${(cpu() - c0).toFixed(1)} ms  wall ${(performance.now() - t0).toFixed(1)} ms`);
  }
}
