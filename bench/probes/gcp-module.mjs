// The WebAssembly GCP reader's own pass (src/formats/gcp-wasm.ts read: a window of a block
// copied into its memory, each LogEntry's grammar checked and its fields picked out, the usual
// flow worked out; no sink, so nothing is routed), for one or more builds of
// dist/wasm/gcp-lines.wasm alternated in one process: CPU ns a byte of the GCP files, median
// and best of the rounds, and the entries taken (equal for equal modules).
//   node bench/probes/gcp-module.mjs DIST A.wasm [B.wasm ...] [--estate /tmp/json-data/json-10-1] [--files 12] [--rounds 36]
// DIST is the build whose gcp-wasm.js loads each module (the key table is its gcp-fast.ts's).
/* global WebAssembly */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? d : args[i + 1];
};
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));
const [dist, ...wasms] = positional;
if (!dist || wasms.length === 0) throw new Error('usage: gcp-module.mjs DIST A.wasm [B.wasm ...] [--estate DIR] [--files N] [--rounds N]');
const estate = opt('estate', '/tmp/json-data/json-10-1');
const rounds = Number(opt('rounds', '36'));
const { GcpWasm } = await import(pathToFileURL(resolve(dist, 'src/formats/gcp-wasm.js')).href);
const mods = wasms.map((p) => [p, new GcpWasm(new WebAssembly.Module(readFileSync(p)))]);
const walk = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)])).sort();
const bufs = walk(join(estate, 'gcp')).slice(0, Number(opt('files', '12'))).map((f) => readFileSync(f));
const bytes = bufs.reduce((n, b) => n + b.length, 0);
const WINDOW = 256 * 1024;

/** One pass of module w over every file: the entries it took. */
function pass(w) {
  let taken = 0;
  for (const b of bufs) {
    let i = 0;
    while (i < b.length) {
      const n = w.read(b, i, Math.min(b.length - i, WINDOW));
      if (n === 0) break; // a line longer than the window: not in these files
      for (let k = 0; k < n; k++) taken += w.flagsOf(k) & 1;
      i = w.i32[w.rowAt(n - 1) + 1] + 1; // past the last row's '\n'
    }
  }
  return taken;
}

const ns = mods.map(() => []);
const taken = [];
for (let r = 0; r < rounds; r++) {
  for (let j = 0; j < mods.length; j++) {
    const m = (r + j) % mods.length; // each module first in turn
    const t0 = process.cpuUsage();
    taken[m] = pass(mods[m][1]);
    const t = process.cpuUsage(t0);
    ns[m].push(((t.user + t.system) * 1000) / bytes);
  }
}
console.log(`${bufs.length} files, ${(bytes / 1e6).toFixed(1)} MB, ${rounds} rounds`);
for (const [m, [name]] of mods.entries()) {
  const v = ns[m].slice().sort((a, b) => a - b);
  console.log(`${name}: median ${v[v.length >> 1].toFixed(3)} ns/B, best ${v[0].toFixed(3)}, taken ${taken[m]}`);
}
