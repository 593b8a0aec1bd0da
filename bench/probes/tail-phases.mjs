#!/usr/bin/env node
// The serial end of one `detect` run, phase by phase and thread by thread: each mark gives the
// wall time (ms from the main thread's start, one clock for every thread) and the thread's own
// CPU since its previous mark (/proc/thread-self/schedstat) and its minor page faults (/proc/thread-self/stat). The shard's early held flushes,
// its inbound finalise (the held rows' last flush, the sort by bucket, the module's calls a
// bucket against the JavaScript that makes the verdicts, the endpoint-days), the outbound
// finalise, and the main thread's wait, merge and outputs. No hook lives in the product: a
// copy of dist/ is made under /tmp and a marker call put at each anchor below (main-phases.mjs
// does the same for the main thread alone); an anchor not found is named and left out.
//   node bench/probes/tail-phases.mjs INPUT [detect options...]   (run `npm run build` first)
//   TAIL_RUNS=3 runs it three times after the priming run; TAIL_DIST=DIR probes another build's dist
//   TAIL_NODE_FLAGS='--no-liftoff' runs node with those flags (space-separated); TAIL_GC=1 marks the main
//   thread's garbage collections too ('main: gc KIND', at its end, CPU and faults not its own: perf_hooks' entries)
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [input, ...rest] = process.argv.slice(2);
if (!input) {
  console.error('usage: node bench/probes/tail-phases.mjs INPUT [detect options...]');
  process.exit(2);
}
const root = process.cwd();
const copy = mkdtempSync(join(tmpdir(), 'tail-phases-'));
cpSync(process.env.TAIL_DIST ?? join(root, 'dist'), join(copy, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.v8cache') });
cpSync(join(root, 'package.json'), join(copy, 'package.json'));
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
const marks = join(copy, 'marks.log');

// every thread appends its marks to one file, a line each: thread, name, wall ms, CPU ns since its last mark
const MARKER = `;(() => { if (globalThis.__mark) return; const fs = require('fs'); let last = 0; const tid = require('worker_threads').threadId;
const cpu = () => Number(fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ')[0]);
const faults = () => { const t = fs.readFileSync('/proc/thread-self/stat', 'latin1'); return Number(t.slice(t.lastIndexOf(')') + 2).split(' ')[7]); };
let lastF = 0;
globalThis.__modT = 0; globalThis.__jsT = 0;
globalThis.__mark = (name) => { const c = cpu(); const f = faults(); fs.appendFileSync(${JSON.stringify(marks)}, tid + '\\t' + name + '\\t' + (performance.timeOrigin + performance.now()).toFixed(2) + '\\t' + (c - last) + '\\t' + (f - lastF) + '\\n'); last = c; lastF = f; };
})();\n`;

/** [bundle file prefix, anchor, text put before (true) or after it, marker code]. */
const mark = (name) => `globalThis.__mark?.(${JSON.stringify(name)});`;
const ANCHORS = [
  ['workers/shard.bundle', 'if (task.op === "flushHeld") return state?.inbound.flushEarly(task.always);', false, `if (task.op === "flushHeld") { ${mark('flushHeld start')} state?.inbound.flushEarly(task.always); ${mark('flushHeld end')} return; }`, true],
  ['workers/shard.bundle', 'arena = newArena(this.module, end, true);', false, "globalThis.__mark?.('table arena moved to a new memory of ' + (end / 2 ** 20).toFixed(0) + ' MiB for ' + cap + ' entries (' + (arena.memory.buffer instanceof SharedArrayBuffer ? 'shared' : 'plain') + ')');"],
  ['workers/shard.bundle', 'case "finalizeInbound": {', false, `${mark('finalizeInbound start')} { const m = s.inbound.arena?.memory; globalThis.__mark?.('  table memory: ' + (m ? (m.buffer instanceof SharedArrayBuffer ? 'shared ' : 'plain ') + (m.buffer.byteLength / 2 ** 20).toFixed(0) + ' MiB' : 'JavaScript arrays') + ', ' + s.inbound.count + ' entries'); }`],
  ['workers/shard.bundle', '\t\tthis.flush();\n\t\tconst r = finalizeTable(this, opts);', true, mark('  (idle/other before)')],
  ['workers/shard.bundle', '\t\tconst r = finalizeTable(this, opts);\n\t\tif (opts.drop)', true, mark('  last held flush')],
  ['workers/shard.bundle', 'if (mod !== null) return finalizeInModule(t, opts, mod);', true, mark('  module sort by bucket')],
  ['workers/shard.bundle', 'const k = mod.bucket(b);', true, 'const __t0 = performance.now();'],
  ['workers/shard.bundle', 'const k = mod.bucket(b);', false, 'globalThis.__modT += performance.now() - __t0;'],
  ['workers/shard.bundle', 'return run.result(keys, mod.entries);', true, `${mark('  bucket loop (module + verdicts)')} globalThis.__mark?.('    of which module bucket() ' + globalThis.__modT.toFixed(1) + ' ms');`],
  // the same mark in a build where finalizeInModule folds the loop into finaliseBuckets (branch tailsplit)
  ['workers/shard.bundle', 'return run.result(finaliseBuckets(run, mod, 0, SHARD_BUCKETS), mod.entries);', false, `const __keys = finaliseBuckets(run, mod, 0, SHARD_BUCKETS); ${mark('  bucket loop (module + verdicts)')} globalThis.__mark?.('    of which module bucket() ' + globalThis.__modT.toFixed(1) + ' ms'); return run.result(__keys, mod.entries);`, true],
  ['workers/shard.bundle', 'outboundAhead = new Ahead(() => finalizeOutbound(s, task));', true, mark('  endpoint-days result, memory report')],
  // the split path (tail.ts): the last held flush, the sort by bucket, the share made (branch tailsort)
  ['workers/shard.bundle', '\t\tthis.flush();\n\t\treturn finalizeTableSplit(this, opts);', true, mark('  (split) before the last held flush')],
  ['workers/shard.bundle', '\t\treturn finalizeTableSplit(this, opts);', true, mark('  (split) last held flush')],
  ['workers/shard.bundle', '\tif (mod === null) return null;\n\tconst share = arena.share(', true, mark('  (split) module sort by bucket (tailsort: the layout only)')],
  ['workers/shard.bundle', '\tconst next = new Int32Array(new SharedArrayBuffer(4));\n\treturn {\n\t\tshare: {', true, mark('  (split) share made (memory grown)')],
  // the sort by bucket left to either thread (branch tailsort: scan-finalise.ts sortedOnce)
  ['workers/shard.bundle', 'mod.sortAll();', true, mark('  (split) shard: before its sort by bucket')],
  ['workers/shard.bundle', 'mod.sortAll();', false, mark('  (split) shard: sorted by bucket')],
  ['src/bundle/run-', 'mod.sortAll();', true, mark('main: before its sort by bucket')],
  ['src/bundle/run-', 'mod.sortAll();', false, mark('main: sorted by bucket')],
  ['workers/shard.bundle', 'function finalizeOutbound(s, task) {', false, mark('finalizeOutbound start')],
  ['workers/shard.bundle', '\tconst o = s.outbound;\n\treturn {\n\t\tfindings,', true, mark('finalizeOutbound end')],
  // work begun ahead (workers/shard.ts Ahead): the outbound finalise, then (split) the shard's part
  ['workers/shard.bundle', 'this.result = work();', true, mark('ahead: work start (outbound, then the shard part when split)')],
  ['workers/shard.bundle', 'this.result = work();', false, mark('ahead: work end')],
  ['src/bundle/run-', 'const shared = replies.some((r) => r.share !== void 0);', false, mark('main: inbound reply read (split offer or verdicts)')],
  ['workers/shard.bundle', 'return run.result(keys, entries);', true, "globalThis.__mark?.('  chunks: ' + keys + ' keys');"],
  ['src/bundle/run-', 'let outs = shared ? await outbound : null;', true, mark('main: its part finalised (split)')],
  ['src/bundle/run-', 'let outs = shared ? await outbound : null;', false, mark('main: outbound reply in (with the shard part when split)')],
  // builds where the inbound verdicts merge before the outbound reply when this thread took every chunk (branch gcpwall)
  ['src/bundle/run-', 'let outs = shares.every((r) => r.everyChunk) ? null : await outbound;', true, mark('main: its part finalised (split)')],
  ['src/bundle/run-', 'if (onInbound && this.shardsInThreads) onInbound({', true, mark('main: merged inbound')],
  ['src/bundle/run-', '\t\tif (!outs) {\n\t\t\touts = await outbound;', true, mark('main: analysis begun (onInboundVerdicts)')],
  ['src/bundle/run-', '\t\t\touts = await outbound;\n', false, mark('main: outbound reply in (with the shard part when split)')],
  ['src/bundle/run-', 'const ingest = await engine.ingest(opts.inputs, opts.onProgress, { wholeRun: true });', false, mark('main: ingest returned')],
  ['src/bundle/run-', 'async finalize(options = {}, meanwhile) {\n\t\tawait this.drain();', false, mark('main: drained, finalize tasks sent')],
  ['src/bundle/run-', 'async finalize(options = {}, meanwhile, onInbound) {\n\t\tawait this.drain();', false, mark('main: drained, finalize tasks sent')],
  ['src/bundle/run-', 'const replies = await inbound;', false, mark('main: inbound replies in')],
  ['src/bundle/run-', 'const outs = await outbound;', true, mark('main: merged inbound')],
  ['src/bundle/run-', 'const outs = await outbound;', false, mark('main: outbound replies in')],
  ['src/bundle/run-', 'outs ??= await outbound;', true, mark('main: merged inbound')],
  ['src/bundle/run-', 'outs ??= await outbound;', false, mark('main: outbound replies in')],
  // the main thread's serial end (session 20, tailmain): alerts, detect's analysis and outputs, the threads' close
  ['src/bundle/run-', 'const alerts = require_outbound.buildAlerts(findings, scans, endpointDays, opts.windowSeconds, opts);', false, mark('main: alerts built')],
  ['src/bundle/run-', 'let outs = shares.every((r) => r.everyChunk) ? null : await outbound;', false, mark('main:   outbound reply read (the shard part\'s verdicts and endpoint-days decoded)')],
  ['src/bundle/run-', 'const endpointDays = require_input.mergeEndpointDays(parts.map((r) => r.endpointDays));', true, mark('main:   verdicts sorted')],
  ['src/bundle/detect-', 'const now = require_analysis.analysisNow(inbound, opts.windowSeconds, plan);', false, mark('main:   analysis (analysisNow)')],
  ['src/bundle/detect-', 'if (now && staged) staged.inbound = require_results.stageInboundOutputs(String(v.out), inbound, opts.windowSeconds, opts.nearMisses, now);', false, mark('main:   inbound outputs staged')],
  ['src/bundle/detect-', 'await new Promise((resolve) => setImmediate(resolve));', true, mark('main: detect has the result')],
  ['src/bundle/detect-', 'await new Promise((resolve) => setImmediate(resolve));', false, mark('main: after setImmediate (close under way)')],
  ['src/bundle/detect-', 'await run.closed;\n\tif (signalled)', true, mark('main: outputs written')],
  ['src/bundle/detect-', 'await run.closed;\n\tif (signalled)', false, mark('main: threads closed')],
  ['src/bundle/run-', '\t\tthis.closing = true;\n', false, mark('main: close: code caches answered')],
  ['src/bundle/run-', '\t\tthis.removeSpills();\n\t\topenEngines.delete(this);', true, mark('main: close: pools destroyed')],
];
const files = [
  join(copy, 'dist/workers/shard.bundle.cjs'),
  join(copy, 'dist/src/cli/main.bundle.cjs'),
  ...readdirSync(join(copy, 'dist/src/bundle')).filter((f) => f.endsWith('.cjs')).map((f) => join(copy, 'dist/src/bundle', f)),
];
const touched = new Set();
for (const [prefix, anchor, before, code, replace] of ANCHORS) {
  const file = files.find((f) => f.includes(prefix) && readFileSync(f, 'utf8').includes(anchor));
  if (!file) {
    console.error(`anchor not found (left out): ${JSON.stringify(anchor)}`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(anchor);
  const out = replace ? text.slice(0, at) + code + text.slice(at + anchor.length) : before ? text.slice(0, at) + code + text.slice(at) : text.slice(0, at + anchor.length) + code + text.slice(at + anchor.length);
  writeFileSync(file, out);
  touched.add(file);
}
for (const f of touched) {
  const text = readFileSync(f, 'utf8');
  // after a leading 'use strict' (it must stay first), else at the top
  const m = /^(#![^\n]*\n)?(["']use strict["'];?\n)?/.exec(text);
  writeFileSync(f, text.slice(0, m[0].length) + MARKER + text.slice(m[0].length));
}
const preload = join(copy, 'exit-mark.cjs');
// TAIL_GC: each GC of the main thread as a mark at its end (perf_hooks delivers its entries later: kept, written at exit)
const GC_MARKS = `const gcs = []; new (require('node:perf_hooks').PerformanceObserver)((l) => { for (const e of l.getEntries()) gcs.push([e.detail.kind, e.duration, performance.timeOrigin + e.startTime + e.duration]); }).observe({ entryTypes: ['gc'] });
process.on('exit', () => { for (const [kind, ms, end] of gcs) fs.appendFileSync(${JSON.stringify(marks)}, ['gc', 'main: gc ' + ({ 1: 'scavenge', 2: 'minor mark-compact', 4: 'mark-compact', 8: 'incremental marking', 16: 'weak callbacks' }[kind] ?? kind) + ' ' + ms.toFixed(1) + ' ms', end, 0, 0].join('\\t') + '\\n'); });`;
writeFileSync(preload, `${MARKER}\nprocess.on('exit', () => globalThis.__mark('main: exit'));\n${process.env.TAIL_GC === '1' ? `const fs = require('fs');\n${GC_MARKS}\n` : ''}`);
const out = join(copy, 'out');
const cli = join(copy, 'dist/src/cli/main.js');
const nodeFlags = (process.env.TAIL_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
const run = () => spawnSync('node', [...nodeFlags, '-r', preload, cli, 'detect', input, '--out', out, '--quiet', '--no-enrich', ...rest], { encoding: 'utf8' });
run(); // writes the copy's code caches, as a first run after a build does
const runs = Number(process.env.TAIL_RUNS ?? 1);
for (let r = 0; r < runs; r++) {
  rmSync(marks, { force: true });
  const t0 = performance.timeOrigin + performance.now();
  const res = run();
  const ended = performance.timeOrigin + performance.now();
  if (res.status !== 0 || !existsSync(marks)) {
    console.error(res.stderr);
    process.exit(1);
  }
  const lines = readFileSync(marks, 'utf8').trim().split('\n').map((l) => l.split('\t'));
  lines.sort((a, b) => Number(a[2]) - Number(b[2])); // the GC marks, written at exit, in their places
  const base = Number(lines.find((l) => l[1] === 'main: ingest returned')?.[2] ?? t0);
  console.log(`run ${r + 1}: ms of wall from the ingest's end (main thread); CPU ms and minor page faults of the thread since its previous mark`);
  for (const [tid, name, wall, cpu, flt] of lines) {
    console.log(`  ${(Number(wall) - base).toFixed(1).padStart(8)}  t${tid}  ${(Number(cpu) / 1e6).toFixed(1).padStart(7)}  ${String(flt).padStart(6)}  ${name}`);
  }
  console.log(`  ${(ended - base).toFixed(1).padStart(8)}  parent's spawnSync returned (the process and its threads gone)`);
}
if (existsSync(copy)) rmSync(copy, { recursive: true, force: true });
