// How planning might walk a folder tree (issue 19 target 4: Azure blobs, a folder a blob):
// the files under DIR, sorted by name within each folder, each with its size, walked one of
// four ways. Prints the walk's own wall and CPU; run each mode in its own process, alternated:
//   python3 bench/probes/ab-cpu.py 11 'sync=node bench/probes/walk-ab.mjs sync DIR' 'async=node bench/probes/walk-ab.mjs async DIR'
// sync: readdirSync + statSync, depth first (what src/input/plan.ts walk does);
// async: every folder of a level listed and every file stat'ed at once on libuv's pool
// (fs/promises; UV_THREADPOOL_SIZE sets the pool); recursive: one readdirSync(recursive)
// then a statSync a file; nostat: the sync walk without the sizes.
import { readdirSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';

const [mode, root] = process.argv.slice(2);
if (!root || !['sync', 'async', 'recursive', 'nostat'].includes(mode)) {
  console.error('usage: node bench/probes/walk-ab.mjs sync|async|recursive|nostat DIR');
  process.exit(2);
}
const byName = (a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

function syncWalk(dir, out, sizes) {
  const entries = readdirSync(dir, { withFileTypes: true }).sort(byName);
  for (const e of entries) {
    const full = `${dir}/${e.name}`;
    if (e.isFile()) out.push([full, sizes ? statSync(full).size : -1]);
    else if (e.isDirectory()) syncWalk(full, out, sizes);
  }
}

async function asyncWalk(dir) {
  const entries = (await readdir(dir, { withFileTypes: true })).sort(byName);
  const parts = await Promise.all(
    entries.map(async (e) => {
      const full = `${dir}/${e.name}`;
      if (e.isFile()) return [[full, (await stat(full)).size]];
      return e.isDirectory() ? asyncWalk(full) : [];
    }),
  );
  return parts.flat();
}

function recursiveWalk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const full = `${e.parentPath ?? e.path}/${e.name}`;
    out.push([full, statSync(full).size]);
  }
  return out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const t0 = performance.now();
const c0 = process.cpuUsage();
let files = [];
if (mode === 'sync' || mode === 'nostat') syncWalk(root, files, mode === 'sync');
else if (mode === 'async') files = await asyncWalk(root);
else files = recursiveWalk(root);
const cpu = process.cpuUsage(c0);
console.log(`${mode}: ${files.length} files, ${(performance.now() - t0).toFixed(1)} ms wall, ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU`);
