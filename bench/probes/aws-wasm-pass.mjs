// The WebAssembly AWS reader's own pass (src/formats/aws-wasm.ts read: the block copied into
// its memory, lines read into columns, rows routed into the shards' areas), without the
// JavaScript that takes its rows, for one or more builds alternated in one process: CPU ns a
// line, median (and least) of the rounds. The file is read as one layout (v2 unless --fields names another
// header's fields, space-separated); its first 32 MB by default. With --objects KiB, each build
// twice: the text cut into objects of that size, each written first into a buffer of its own
// (the window copied into the module: "copy") or into the module's text arena (read in place,
// src/formats/text-arena.ts: "arena"), as an inflate ahead writes a bucket's object.
//   node bench/probes/aws-wasm-pass.mjs FILE DIST [DIST2 ...] [--mb 32] [--rounds 7] [--fields "..."] [--objects 1024]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opt = (name, d) => {
  const i = args.indexOf(`--${name}`);
  if (i < 0) return d;
  const v = args[i + 1];
  args.splice(i, 2);
  return v;
};
const mb = Number(opt('mb', 32));
const rounds = Number(opt('rounds', 7));
const fields = opt('fields', undefined);
const objectBytes = Number(opt('objects', 0)) << 10;
const [file, ...dists] = args;
if (!file || dists.length === 0) throw new Error('usage: aws-wasm-pass.mjs FILE DIST [DIST2 ...] [--mb M] [--rounds R] [--fields "..."]');
const data = readFileSync(file).subarray(0, mb << 20);

const builds = [];
for (const d of dists) {
  const at = (p) => pathToFileURL(resolve(d, p)).href;
  const { setAwsReader, awsWasm, WASM_WINDOW } = await import(at('src/formats/aws-wasm.js'));
  const { rolesFor, AWS_V2_FIELDS } = await import(at('src/formats/aws.js'));
  const { FlowSink } = await import(at('src/flow/sink.js'));
  setAwsReader('wasm');
  const roles = rolesFor(fields ? fields.split(' ') : AWS_V2_FIELDS).roles;
  const sink = new FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 0 }, () => {});
  const w = awsWasm();
  if (!objectBytes) builds.push({ d, w, window: WASM_WINDOW, roles, sink, ns: [] });
  else for (const arena of [null, w.textArena()]) builds.push({ d: `${d} ${arena ? 'arena' : 'copy'}`, w, window: WASM_WINDOW, roles, sink, ns: [], arena });
}

/** The text cut into objects of objectBytes at line ends, each with a buffer of its own. */
const objects = [];
for (let s = 0; objectBytes && s < data.length; ) {
  let e = Math.min(data.length, s + objectBytes);
  if (e < data.length) e = data.lastIndexOf(10, e) + 1;
  objects.push({ text: data.subarray(s, e), own: Buffer.allocUnsafeSlow(e - s) });
  s = e;
}

/** Lines of `text` read window by window. */
function pass(b, text) {
  let i = 0;
  let lines = 0;
  while (i < text.length) {
    const rows = b.w.read(text, i, Math.min(text.length - i, b.window), b.roles, b.sink, false);
    if (rows === 0) break;
    lines += rows;
    i += b.w.i32[b.w.lineEnd + rows - 1] + 1;
  }
  return lines;
}

/** CPU ns a line of the objects, each written into its buffer (not timed) and then read. */
function objectsPass(b) {
  let us = 0;
  let lines = 0;
  for (const o of objects) {
    const text = b.arena ? b.arena.take(o.text.length) : o.own;
    text.set(o.text);
    const t0 = process.cpuUsage();
    lines += pass(b, text);
    const u = process.cpuUsage(t0);
    us += u.user + u.system;
    if (b.arena) b.arena.give(text);
  }
  return (us * 1e3) / lines;
}

for (let r = 0; r < rounds; r++) {
  for (const b of builds) {
    if (objectBytes) {
      b.ns.push(objectsPass(b));
      continue;
    }
    const t0 = process.cpuUsage();
    const lines = pass(b, data);
    const u = process.cpuUsage(t0);
    b.ns.push(((u.user + u.system) * 1e3) / lines);
  }
}
for (const b of builds) {
  const ns = b.ns.slice().sort((x, y) => x - y);
  process.stdout.write(`${b.d}: median ${ns[Math.floor(ns.length / 2)].toFixed(1)} min ${ns[0].toFixed(1)} ns a line (${b.ns.map((x) => x.toFixed(0)).join(' ')})\n`);
}
