// The WebAssembly AWS reader's own pass (as aws-wasm-pass.mjs) over a bucket's gzip objects,
// each read by its own layout (its header line's fields, else v2), for one or more builds
// alternated in one process: CPU ns a line, median (and least) of the rounds. The objects are
// inflated once first (the first --files of them, sorted by path; 0: all).
//   node bench/probes/aws-wasm-bucket.mjs BUCKET_DIR DIST [DIST2 ...] [--rounds 7] [--files 240]
import { readFileSync, readdirSync } from 'node:fs';
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
const rounds = Number(opt('rounds', 7));
const most = Number(opt('files', 240));
const [dir, ...dists] = args;
if (!dir || dists.length === 0) throw new Error('usage: aws-wasm-bucket.mjs BUCKET_DIR DIST [DIST2 ...] [--rounds R] [--files N]');
const files = (d) => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
const paths = files(dir);
const texts = (most > 0 ? paths.slice(0, most) : paths).map((p) => gunzipSync(readFileSync(p)));

const builds = [];
for (const d of dists) {
  const at = (p) => pathToFileURL(resolve(d, p)).href;
  const { setAwsReader, awsWasm, WASM_WINDOW } = await import(at('src/formats/aws-wasm.js'));
  const { rolesFor, AWS_V2_FIELDS } = await import(at('src/formats/aws.js'));
  const { FlowSink } = await import(at('src/flow/sink.js'));
  setAwsReader('wasm');
  // each object: its layout's roles and where its records start (past a header line)
  const objects = texts.map((t) => {
    const header = t[0] >= 97 && t[0] <= 122;
    const nl = t.indexOf(10);
    const fields = header ? t.subarray(0, nl).toString('latin1').trim().split(' ') : AWS_V2_FIELDS;
    return { t, from: header ? nl + 1 : 0, roles: rolesFor(fields).roles };
  });
  const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 0 }, () => {});
  builds.push({ d, w: awsWasm(), window: WASM_WINDOW, objects, sink, ns: [] });
}

for (let r = 0; r < rounds; r++) {
  for (const b of builds) {
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
  process.stdout.write(`${b.d}: median ${ns[Math.floor(ns.length / 2)].toFixed(1)} min ${ns[0].toFixed(1)} ns a line (${b.ns.map((x) => x.toFixed(0)).join(' ')})\n`);
}
