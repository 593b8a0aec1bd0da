#!/usr/bin/env node
// What a WebAssembly module's TurboFan code costs to compile: each module compiled eagerly with
// TurboFan in this thread (the flags below), ROUNDS times alternated, CPU ms of the process
// (min and median). A custom section with a fresh name is appended to each copy, so that V8's
// native-module cache (one compile a process for the same bytes) never answers. A run's
// dynamic tier-up compiles only the functions that got hot, on V8's helper threads; this says
// what a variant of a module's code (smaller functions, calls kept out of line) changes.
// --trace-wasm-compilation-times on the same command gives the ms a function (1 ms steps).
//   node --no-wasm-lazy-compilation --no-liftoff --single-threaded bench/probes/wasm-compile-cpu.cjs [--rounds 15] A.wasm B.wasm ...
/* global WebAssembly */
const { readFileSync } = require('node:fs');

const args = process.argv.slice(2);
const at = args.indexOf('--rounds');
const rounds = at >= 0 ? Number(args.splice(at, 2)[1]) : 15;
if (args.length === 0) {
  console.error('usage: node --no-wasm-lazy-compilation --no-liftoff --single-threaded bench/probes/wasm-compile-cpu.cjs [--rounds 15] A.wasm B.wasm ...');
  process.exit(2);
}
const bytes = args.map((f) => readFileSync(f));
const times = args.map(() => []);
for (let r = 0; r < rounds; r++) {
  bytes.forEach((b, k) => {
    const name = Buffer.from(`compile-${r}-${k}-${process.hrtime.bigint()}`);
    const section = Buffer.concat([Buffer.from([0, name.length + 1, name.length]), name]); // id 0, size, name
    const copy = Buffer.concat([b, section]);
    const t0 = process.cpuUsage();
    new WebAssembly.Module(copy);
    const d = process.cpuUsage(t0);
    times[k].push((d.user + d.system) / 1000);
  });
}
args.forEach((f, k) => {
  const t = times[k].sort((x, y) => x - y);
  console.log(`${f}: min ${t[0].toFixed(1)} ms, median ${t[t.length >> 1].toFixed(1)} ms of CPU (${rounds} compiles)`);
});
