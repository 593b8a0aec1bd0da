// The WebAssembly AWS reader's own pass (src/formats/aws-wasm.ts read: the block copied into
// its memory, lines read into columns, rows routed into the shards' areas), without the
// JavaScript that takes its rows, for one or more builds alternated in one process: CPU ns a
// line, median (and least) of the rounds. A file is read as one layout (v2 unless --fields names another
// header's fields, space-separated); its first 32 MB by default. A folder is a bucket: its gzip
// objects inflated once first (all, or the first --files of them sorted by path), each read
// by its own layout (its header line's fields, else v2), into a sink of two shards.
//   node bench/probes/aws-wasm-pass.mjs FILE DIST [DIST2 ...] [--mb 32] [--rounds 7] [--fields "..."]
//   node bench/probes/aws-wasm-pass.mjs BUCKET_DIR DIST [DIST2 ...] [--rounds 7] [--files 0]
// A DIST may be DIST:from>to,... (fields renamed to a name no role has: that column not read,
// e.g. dist:region>x,tcp-flags>y), and may be named twice: two instances of one build differ
// by a few % at load (the first loaded is not always faster), the figure to set a try against.
// Each later build's round ratio against the first (rounds after the first) is printed too.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
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
const most = Number(opt('files', 0));
const [file, ...dists] = args;
if (!file || dists.length === 0) throw new Error('usage: aws-wasm-pass.mjs FILE|BUCKET_DIR DIST [DIST2 ...] [--mb M] [--rounds R] [--fields "..."] [--files N]');
const bucket = statSync(file).isDirectory();
const gzips = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? gzips(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
// the texts and the fields each is read by (null: from its header line, else v2)
const texts = bucket
  ? gzips(file).slice(0, most > 0 ? most : undefined).map((p) => ({ t: gunzipSync(readFileSync(p)), fields: null }))
  : [{ t: readFileSync(file).subarray(0, mb << 20), fields: fields ? fields.split(' ') : undefined }];

const builds = [];
for (const spec of dists) {
  // DIST:from>to,...: the fields named `from` renamed (a name no role has: the column not read), to size what reading a column costs
  const [d, renames = ''] = spec.split(':');
  const renamed = (names) => renames.split(',').filter(Boolean).reduce((f, r) => f.map((x) => (x === r.split('>')[0] ? r.split('>')[1] : x)), names);
  const at = (p) => pathToFileURL(resolve(d, p)).href;
  const { setAwsReader, awsWasm, WASM_WINDOW } = await import(at('src/formats/aws-wasm.js'));
  const { rolesFor, AWS_V2_FIELDS } = await import(at('src/formats/aws.js'));
  const { FlowSink } = await import(at('src/flow/sink.js'));
  setAwsReader('wasm');
  const objects = texts.map(({ t, fields: f }) => {
    if (f !== null) return { t, from: 0, roles: rolesFor(renamed(f ?? AWS_V2_FIELDS)).roles };
    const header = t[0] >= 97 && t[0] <= 122;
    const nl = t.indexOf(10);
    return { t, from: header ? nl + 1 : 0, roles: rolesFor(renamed(header ? t.subarray(0, nl).toString('latin1').trim().split(' ') : AWS_V2_FIELDS)).roles };
  });
  const sink = new FlowSink({ shards: bucket ? 2 : 1, batchSize: 16384, maxRejectsKept: 0 }, () => {});
  builds.push({ d: spec, w: awsWasm(), window: WASM_WINDOW, objects, sink, ns: [] });
}

for (let r = 0; r < rounds; r++) {
  // the builds' order reversed every other round: neither always runs first
  for (const b of r % 2 === 0 ? builds : builds.slice().reverse()) {
    const t0 = process.cpuUsage();
    let lines = 0;
    for (const o of b.objects) {
      let i = o.from;
      while (i < o.t.length) {
        const rows = b.w.read(o.t, i, Math.min(o.t.length - i, b.window), o.roles, b.sink, 1, 0);
        if (rows === 0) break;
        lines += rows;
        i += b.w.i32[b.w.lineEnd + rows - 1] + 1;
      }
    }
    const u = process.cpuUsage(t0);
    b.ns.push(((u.user + u.system) * 1e3) / lines);
  }
}
for (const b of builds) {
  const ns = b.ns.slice().sort((x, y) => x - y);
  // against the first build, round by round (the first round, warm-up, left out): the load moves less within a round
  const ratios = b.ns.slice(1).map((x, r) => x / builds[0].ns[r + 1]).sort((x, y) => x - y);
  const ratio = builds.length > 1 && b !== builds[0] ? `, round ratio median ${ratios[Math.floor(ratios.length / 2)].toFixed(3)}` : '';
  process.stdout.write(`${b.d}: median ${ns[Math.floor(ns.length / 2)].toFixed(1)} min ${ns[0].toFixed(1)} ns a line${ratio} (${b.ns.map((x) => x.toFixed(0)).join(' ')})\n`);
}
