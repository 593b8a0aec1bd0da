// Which callers make node:path hot in a run, by thread: wraps join, resolve, normalize, relative,
// dirname and basename and prints, at exit, the call sites called more than 20 times (3 frames).
//   node -r ./bench/probes/path-calls.cjs dist/src/cli/main.js detect INPUT --out DIR --quiet --no-enrich
// (a -r flag keys its own code cache: the first run compiles from source)
const path = require('path');
const { threadId } = require('node:worker_threads');
const counts = new Map();
for (const fn of ['join', 'resolve', 'normalize', 'relative', 'dirname', 'basename']) {
  const orig = path[fn];
  path[fn] = function (...a) {
    const s = new Error().stack.split('\n').slice(2, 5).map(l => l.trim()).join(' < ');
    const k = fn + ' ' + s; counts.set(k, (counts.get(k) || 0) + 1);
    return orig.apply(this, a);
  };
}
process.on('exit', () => { const arr = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 8); for (const [k, v] of arr) if (v > 20) process.stderr.write(`T${threadId} ${v} ${k}\n`); });
