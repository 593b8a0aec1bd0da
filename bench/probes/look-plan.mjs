#!/usr/bin/env node
// The main thread's cost, cold (a fresh process), of detect's small-input look (engine/small-input.ts
// smallInput, run before the engine picks a pipeline) and of planning the same inputs right
// after (source/plan.ts planAll, with the options detect's ingest passes): both walk the same
// folders, so the look's share is what a reuse of its listing could save.
//   node bench/probes/look-plan.mjs INPUT   (run `npm run build` first; under load, with rr-ab.py's scheduling)
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const input = process.argv[2];
if (!input) {
  console.error('usage: node bench/probes/look-plan.mjs INPUT');
  process.exit(2);
}
const dist = (p) => pathToFileURL(join(process.cwd(), 'dist', p)).href;
const { smallInput } = await import(dist('src/engine/small-input.js'));
const { planAll } = await import(dist('src/source/plan.js'));
const { SPLIT_GZIP_BYTES } = await import(dist('src/engine/types.js'));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const t0 = performance.now();
const c0 = cpu();
const small = smallInput([input]);
const t1 = performance.now();
const c1 = cpu();
const files = await planAll([input], { quickHeadBelow: SPLIT_GZIP_BYTES, sniffInThread: true, jsonByNameBelow: 8 << 20 });
const t2 = performance.now();
const c2 = cpu();
console.log(`look (small: ${small}) ${(t1 - t0).toFixed(1)} ms wall, ${(c1 - c0).toFixed(1)} ms CPU; planning (${files.length} files) ${(t2 - t1).toFixed(1)} ms wall, ${(c2 - c1).toFixed(1)} ms CPU (the process's, every thread)`);
