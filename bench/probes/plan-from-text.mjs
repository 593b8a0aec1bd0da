// What planFromText (src/input/plan.ts: a 'files' task's object planned from its inflated text)
// costs a file on a bucket's objects, inflated first: CPU µs a file, best of 15 passes over
// them all, or over those whose first line is a header (hdr) or a record (rec).
//   node bench/probes/plan-from-text.mjs BUCKET_DIR [DIST=dist] [all|hdr|rec]   (alternate two DISTs)
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dir = process.argv[2];
if (!dir) throw new Error('usage: plan-from-text.mjs BUCKET_DIR [DIST] [all|hdr|rec]');
const dist = pathToFileURL(resolve(process.argv[3] ?? 'dist')).href;
const which = process.argv[4] ?? 'all';
const { planFromText } = await import(`${dist}/src/input/plan.js`);
const { gunzipWhole } = await import(`${dist}/src/input/read.js`);
const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
const isRecord = (t) => t[0] >= 48 && t[0] <= 57;
const texts = files(dir)
  .map((p) => [p, gunzipWhole(readFileSync(p), 256 << 20)])
  .filter(([, t]) => which === 'all' || (which === 'rec') === isRecord(t));
let best = Infinity;
for (let pass = 0; pass < 15; pass++) {
  const t = process.cpuUsage();
  for (const [p, text] of texts) planFromText(text, p, {});
  const d = process.cpuUsage(t);
  best = Math.min(best, (d.user + d.system) / texts.length);
}
console.log(`${texts.length} files (${which}): planFromText ${best.toFixed(2)} us a file (CPU, best of 15)`);
