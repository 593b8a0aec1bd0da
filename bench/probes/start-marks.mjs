#!/usr/bin/env node
// When a `detect` run's start-up steps happen, in wall ms from the process's start, across
// threads: the CLI bundle starting, the parse pool created, planning's start and end, each
// pool thread's first module (piscina's worker: Node's thread boot done), the parse
// worker's module, its first task, the exit. Answers "does the parse thread wait for the
// main thread, or the main thread for the parse thread?" No hook lives in the product: a
// copy of dist/ is made under /tmp and a marker call put at each anchor below; an anchor
// that is not found (the code moved) is named and its mark left out.
//   node bench/probes/start-marks.mjs ROUNDS INPUT [detect options...]   (npm run build first)
// Set env vars for the detect run in the environment of this script (they are passed on).
// START_MARKS_ALT='VAR=VALUE': every second round runs with that variable too (an A/B of one
// build; each line then starts 'A:' or 'B:'). Under load, run it with bench/probes/rr-ab.py's
// scheduling (chrt -r 1, a short round-robin slice) for walls near a quiet machine's.
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const [roundsArg, input, ...rest] = process.argv.slice(2);
if (!input) {
  console.error('usage: node bench/probes/start-marks.mjs ROUNDS INPUT [detect options...]');
  process.exit(2);
}
const root = process.cwd();
const copy = mkdtempSync(join(tmpdir(), 'start-marks-'));
cpSync(join(root, 'dist'), join(copy, 'dist'), { recursive: true, filter: (p) => !p.endsWith('.v8cache') });
cpSync(join(root, 'package.json'), join(copy, 'package.json'));
symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
const log = join(copy, 'marks.log');

// every thread appends "name epoch-ms" (performance.timeOrigin is each thread's own start)
const mark = (name) => `require('node:fs').appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(name)} + ' ' + (performance.timeOrigin + performance.now()).toFixed(2) + '\\n');`;
/** [file (prefix under dist/), text the marker goes before, mark name, true: after]. */
const ANCHORS = [
  ['src/cli/main.bundle', 'Object.defineProperty(exports, Symbol.toStringTag', 'cli bundle'],
  ['src/bundle/detect-', 'async function run(args) {', 'detect command', true],
  ['src/bundle/run-', 'async function detectThenClose(opts) {', 'options read', true],
  ['src/bundle/run-', 'this.parsePoolStarted = newPool({', 'parse pool created'],
  ['src/bundle/run-', 'const files = await require_streamed.planAll(inputs, {', 'planning starts'],
  ['src/bundle/run-', 'const chunkResults = new Array(files.length);', 'planning ends'],
  ['src/bundle/run-', 'await this.memoryConfigured;', 'parse jobs may start', true], // after the shards' memory limits, or (sharded, since poolearly) without waiting for them
  ['workers/piscina-worker.cjs', "require('./code-cache.cjs')", 'a pool thread booted'],
  ['workers/parse.cjs', 'const { pathToFileURL }', 'parse module loads'],
  ['workers/parse.cjs', 'module.exports = async function parseWorker', 'parse bundle loaded'], // the bundle required: the thread is ready for its first task
  // the run's end: the last parse result in, the shards' finalisation, the outputs written
  ['src/bundle/run-', 'await Promise.all([this.memoryConfigured, parsed]);', 'parse jobs done', true],
  ['src/bundle/run-', 'const fin = await engine.finalize({}, () => {', 'finalize starts'],
  ['src/bundle/run-', 'await parsingClosed;', 'finalized'],
  ['src/bundle/detect-', 'code = await finishDetect(', 'writing results'],
  ['src/bundle/detect-', '\tawait run.closed;\n', 'outputs written'],
  ['src/bundle/detect-', '\tawait run.closed;\n', 'threads closed', true],
];
const files = [
  ...readdirSync(join(copy, 'dist/src/bundle')).map((f) => join(copy, 'dist/src/bundle', f)),
  join(copy, 'dist/src/cli/main.bundle.cjs'), join(copy, 'dist/workers/piscina-worker.cjs'), join(copy, 'dist/workers/parse.cjs'),
].filter((f) => f.endsWith('.cjs'));
for (const [prefix, anchor, name, after] of ANCHORS) {
  const file = files.find((f) => f.includes(`/dist/${prefix}`) && readFileSync(f, 'utf8').includes(anchor));
  if (!file) {
    console.error(`anchor not found (mark "${name}" left out): ${JSON.stringify(anchor)}`);
    continue;
  }
  const text = readFileSync(file, 'utf8');
  const at = text.indexOf(anchor) + (after ? anchor.length : 0);
  writeFileSync(file, `${text.slice(0, at)}${mark(name)} ${text.slice(at)}`);
}
// the parse worker's first task: its exported function's first statement
const parse = join(copy, 'dist/workers/parse.cjs');
const entry = 'module.exports = async function parseWorker(task) {';
const text = readFileSync(parse, 'utf8');
if (text.includes(entry)) writeFileSync(parse, text.replace(entry, `let firstTask = true; ${entry} if (firstTask) { firstTask = false; ${mark('first parse task')} }`));
else console.error(`anchor not found (mark "first parse task" left out): ${JSON.stringify(entry)}`);

const preload = join(copy, 'marks.cjs');
writeFileSync(preload, `${mark('process start').replace('(performance.timeOrigin + performance.now())', 'performance.timeOrigin')}
process.on('exit', () => { ${mark('exit')} });
`);
const cli = join(copy, 'dist/src/cli/main.js');
for (let r = 0; r < Number(roundsArg); r++) {
  rmSync(log, { force: true });
  const alt = process.env.START_MARKS_ALT?.split('=');
  const b = alt !== undefined && r % 2 === 1;
  const env = b ? { ...process.env, [alt[0]]: alt.slice(1).join('=') } : process.env;
  const run = spawnSync('node', ['-r', preload, cli, 'detect', input, '--out', join(copy, 'out'), '--quiet', ...rest], { encoding: 'utf8', env });
  if (run.status !== 0) {
    console.error(run.stderr);
    process.exit(1);
  }
  const rows = readFileSync(log, 'utf8').trim().split('\n').map((l) => { const i = l.lastIndexOf(' '); return [l.slice(0, i), Number(l.slice(i + 1))]; });
  const origin = rows.find(([n]) => n === 'process start')?.[1] ?? rows[0][1];
  rows.sort((a, b) => a[1] - b[1]);
  if (alt) process.stdout.write(b ? 'B: ' : 'A: ');
  console.log(rows.filter(([n]) => n !== 'process start').map(([n, t]) => `${n} +${(t - origin).toFixed(0)}`).join(', '));
}
rmSync(copy, { recursive: true, force: true });
