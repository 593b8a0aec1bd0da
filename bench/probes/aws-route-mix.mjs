// What the AWS module makes of a bucket's rows (session 21, parsecpu): each object read by its own layout
// (its header line's fields, else v2) through one build's module into a sink of two shards, and its rows
// counted by what became of them: not plain (the JavaScript loop reads them), counted only (ROUTE_DONE),
// handed to emit, routed inbound / outbound / both (the routed rows' Feed bits), with the layouts met and
// the bytes a line. Sizes the module's per-row pieces: a routed row writes its area row and ids, an
// outbound one looks its interface and instance up (idOfToken).
//   node bench/probes/aws-route-mix.mjs BUCKET_DIR DIST [--files N]
import { readFileSync, readdirSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const fi = args.indexOf('--files');
const most = fi >= 0 ? Number(args.splice(fi, 2)[1]) : 0;
const [dir, d] = args;
if (!dir || !d) throw new Error('usage: aws-route-mix.mjs BUCKET_DIR DIST [--files N]');
const at = (p) => pathToFileURL(resolve(d, p)).href;
const { setAwsReader, awsWasm, WASM_WINDOW } = await import(at('src/formats/aws-wasm.js'));
const { rolesFor, AWS_V2_FIELDS } = await import(at('src/formats/aws.js'));
const { FlowSink } = await import(at('src/flow/sink.js'));
setAwsReader('wasm');
const gzips = (x) => readdirSync(x, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? gzips(join(x, e.name)) : e.name.endsWith('.gz') ? [join(x, e.name)] : [])).sort();
const w = awsWasm();
const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 0 }, () => {});
const c = { objects: 0, lines: 0, notPlain: 0, noData: 0, done: 0, emit: 0, inbound: 0, outbound: 0, both: 0, bytes: 0, layouts: {} };
const files = gzips(dir);
for (const p of most > 0 ? files.filter((_, i) => i % Math.max(1, Math.floor(files.length / most)) === 0).slice(0, most) : files) {
  const t = gunzipSync(readFileSync(p));
  const header = t[0] >= 97 && t[0] <= 122;
  const nl = t.indexOf(10);
  const fields = header ? t.subarray(0, nl).toString('latin1').trim().split(' ') : AWS_V2_FIELDS;
  const name = `${fields.length} columns${header ? '' : ', no header'}`;
  c.layouts[name] = (c.layouts[name] ?? 0) + 1;
  c.objects++;
  const roles = rolesFor(fields).roles;
  let i = header ? nl + 1 : 0;
  c.bytes += t.length - i;
  while (i < t.length) {
    const rows = w.read(t, i, Math.min(t.length - i, WASM_WINDOW), roles, sink, 1, 0);
    if (rows === 0) break;
    for (let r = 0; r < rows; r++) {
      c.lines++;
      const flags = w.u32[w.flags + r];
      if ((flags & 1) === 0) c.notPlain++; // RowFlag.plain (a const enum: not in the build)
      else if (flags & 64) c.noData++; // RowFlag.noData
      else {
        const route = w.i32[w.route + r];
        if (route === -1) c.done++;
        else if (route === -2) c.emit++;
        else {
          const feed = w.u32[w.feed + r] & 3;
          if (feed === 1) c.inbound++;
          else if (feed === 2) c.outbound++;
          else c.both++;
        }
      }
    }
    i += w.i32[w.lineEnd + rows - 1] + 1;
  }
}
const share = (k) => `${k} ${c[k]} (${((100 * c[k]) / c.lines).toFixed(1)} %)`;
process.stdout.write(`${c.objects} objects, ${c.lines} lines, ${(c.bytes / c.lines).toFixed(1)} bytes a line; layouts ${JSON.stringify(c.layouts)}\n`);
process.stdout.write(['notPlain', 'noData', 'done', 'emit', 'inbound', 'outbound', 'both'].map(share).join(', ') + '\n');
