#!/usr/bin/env node
// The main thread's CPU of one `detect` run, by phase, to the microsecond (the thread's own
// counter, /proc/self/task/<pid>/schedstat, read at each phase's end; /proc's stat ticks are
// 10 ms and V8's --cpu-prof counts wall time, so a thread waiting for a core in a 2-core
// run shows there as busy). No hook lives in the product: a copy of dist/ is made under
// /tmp and a marker call is put after each anchor below; an anchor that is not found (the
// code moved) is named and its phase left out.
//   node bench/probes/main-phases.mjs INPUT [detect options...]   (run `npm run build` first)
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [input, ...rest] = process.argv.slice(2);
if (!input) {
  console.error('usage: node bench/probes/main-phases.mjs INPUT [detect options...]');
  process.exit(2);
}
const root = process.cwd();
const copy = mkdtempSync(join(tmpdir(), 'main-phases-'));
cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.v8cache') });
cpSync(join(root, 'package.json'), join(copy, 'package.json'));
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));

/** [bundle file prefix, text the marker goes right after, phase name]. */
const ANCHORS = [
  ['src/cli/main.bundle', 'async function main(argv) {', 'bootstrap and preload'],
  ['src/cli/main.bundle', 'let cmd = await entry.load();', "the command's modules"],
  ['src/cli/main.bundle', 'checkOptions(cmd.spec, parsed);', 'option rules and config, the arguments'],
  ['src/bundle/detect-', 'require_run.startEarlyParsePool(opts);', "detect's options, the output folder"],
  ['src/bundle/detect-', 'const plan = require_analysis.analysisPlan(v);', "detect's early start (pools, threads)"],
  ['src/bundle/run-', ['async function detectThenClose(opts) {', 'async function detect(opts) {'], 'options, modules'],
  ['src/bundle/run-', '}, true) : new Engine(opts);', 'engine (pools, workers spawned)'],
  ['src/bundle/run-', ['jsonByNameBelow: opts.chunkBytes\n\t\t});', 'sniffInThread: true\n\t\t});'], 'planning'], // the first found: builds before and after jsonplan
  ['src/bundle/run-', ['const fin = await engine.finalize({ last: true }, () => {', 'const fin = await engine.finalize({}, () => {', 'const fin = await engine.finalize();'], 'parse jobs, routing, per-file results'],
  ['src/bundle/run-', ['await parsingClosed;', 'await engine.close();'], 'finalize (merging the shards\' verdicts)'],
  ['src/bundle/detect-', ['const analysis = await (begun ?? require_analysis.runAnalysis(', 'const analysis = await require_analysis.runAnalysis('], 'engine close'],
  ['src/bundle/detect-', 'require_results.writeResults(', 'analysis'],
];
const files = [join(copy, 'dist/src/cli/main.bundle.cjs'), ...readdirSync(join(copy, 'dist/src/bundle')).filter((f) => f.endsWith('.cjs')).map((f) => join(copy, 'dist/src/bundle', f))];
for (const [prefix, anchors, phase] of ANCHORS) {
  const anchor = [anchors].flat().find((a) => files.some((f) => f.includes(prefix) && readFileSync(f, 'utf8').includes(a))) ?? anchors;
  const file = files.find((f) => f.includes(prefix) && readFileSync(f, 'utf8').includes(anchor));
  if (!file) {
    console.error(`anchor not found (phase "${phase}" left out): ${JSON.stringify(anchor)}`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  // a statement's anchor takes its marker before it ('const ', 'await ', 'require_'), else after it
  const at = anchor.startsWith('const ') || anchor.startsWith('await ') || anchor.startsWith('require_') ? text.indexOf(anchor) : text.indexOf(anchor) + anchor.length;
  writeFileSync(file, `${text.slice(0, at)} globalThis.__phase?.(${JSON.stringify(phase)}); ${text.slice(at)}`);
}
const preload = join(copy, 'phases.cjs');
writeFileSync(
  preload,
  `const fs = require('fs');
const log = []; let last = 0;
const now = () => Number(fs.readFileSync('/proc/self/task/' + process.pid + '/schedstat', 'latin1').split(' ')[0]);
globalThis.__phase = (name) => { const t = now(); log.push([name, t - last, performance.now()]); last = t; };
process.on('exit', () => { globalThis.__phase('outputs and exit'); fs.writeSync(2, 'PHASES ' + JSON.stringify(log) + '\\n'); });
`,
);
const out = join(copy, 'out');
const cli = join(copy, 'dist/src/cli/main.js');
const run = () => spawnSync('node', ['-r', preload, cli, 'detect', input, '--out', out, '--quiet', ...rest], { encoding: 'utf8' });
run(); // writes the copy's code caches, as a first run after a build does
const res = run();
const line = res.stderr.split('\n').find((l) => l.startsWith('PHASES '));
if (!line) {
  console.error(res.stderr);
  process.exit(1);
}
let total = 0;
for (const [name, ns, at] of JSON.parse(line.slice(7))) {
  total += ns;
  console.log(`${(ns / 1e6).toFixed(1).padStart(7)} ms  ${name.padEnd(42)} (ends at ${at.toFixed(1)} ms of wall)`);
}
console.log(`${(total / 1e6).toFixed(1).padStart(7)} ms  the main thread in all`);
if (existsSync(copy)) rmSync(copy, { recursive: true, force: true });
