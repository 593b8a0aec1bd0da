// A bucket's AWS objects inflated and joined per layout (objects grouped by their header line,
// the header dropped; objects without one are v2-plain), for the module probe
// (bench/probes/aws-wasm-pass.mjs FILE DIST --fields "$(cat OUT/L-NAME.fields)"): OUT/L-NAME.log
// (its first --mb MB) and OUT/L-NAME.fields for each layout. Prints each layout's bytes a line and
// the histogram of separators (bytes up to ' ') a 64-byte word: what listSeparators
// (assembly/aws-lines.ts) writes a word, 12 entries without a test.
//   node bench/probes/layout-texts.mjs BUCKET_DIR OUT_DIR [--mb 40]
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';

const args = process.argv.slice(2);
const at = args.indexOf('--mb');
const mb = at >= 0 ? Number(args.splice(at, 2)[1]) : 40;
const [bucket, out] = args;
if (!bucket || !out) throw new Error('usage: layout-texts.mjs BUCKET_DIR OUT_DIR [--mb 40]');
const V2 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const gzips = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? gzips(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();

const groups = new Map();
for (const f of gzips(bucket)) {
  const t = gunzipSync(readFileSync(f));
  const header = t[0] >= 97 && t[0] <= 122;
  const nl = t.indexOf(10);
  const key = header ? t.subarray(0, nl).toString('latin1').trim() : '';
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(header ? t.subarray(nl + 1) : t);
}
mkdirSync(out, { recursive: true });
const names = new Set();
for (const [key, parts] of groups) {
  const fields = key || V2;
  // v2-plain, else the layout's column count (14cols: v2 with its header, 21cols: v3 reordered, 29cols: v5 appended), made unique
  let name = key === '' ? 'v2-plain' : `${fields.split(' ').length}cols`;
  while (names.has(name)) name += '+';
  names.add(name);
  const text = Buffer.concat(parts).subarray(0, mb << 20);
  writeFileSync(join(out, `L-${name}.log`), text);
  writeFileSync(join(out, `L-${name}.fields`), fields);
  const words = new Array(65).fill(0);
  for (let w = 0; w + 64 <= text.length; w += 64) {
    let n = 0;
    for (let i = w; i < w + 64; i++) n += text[i] <= 32 ? 1 : 0;
    words[n]++;
  }
  const all = words.reduce((a, b) => a + b, 0);
  const share = (from) => ((100 * words.slice(from).reduce((a, b) => a + b, 0)) / all).toFixed(1);
  const lines = text.reduce((n, c) => n + (c === 10 ? 1 : 0), 0);
  const hist = words.map((c, n) => (c ? `${n}:${((100 * c) / all).toFixed(1)}` : '')).filter(Boolean).join(' ');
  process.stdout.write(`${name}: ${fields.split(' ').length} columns, ${(text.length / lines).toFixed(0)} bytes a line; separators a word (% of words) ${hist}; over 8: ${share(9)} %, over 12: ${share(13)} %\n`);
}
