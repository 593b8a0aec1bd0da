// The WebAssembly AWS reader's own pass (src/formats/aws-wasm.ts read: the block copied into
// its memory, lines read into columns, rows routed into the shards' areas), without the
// JavaScript that takes its rows, for one or more builds alternated in one process: CPU ns a
// line, median (and least) of the rounds. The file is read as one layout (v2 unless --fields names another
// header's fields, space-separated); its first 32 MB by default.
//   node bench/probes/aws-wasm-pass.mjs FILE DIST [DIST2 ...] [--mb 32] [--rounds 7] [--fields "..."]
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
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
const [file, ...dists] = args;
if (!file || dists.length === 0) throw new Error('usage: aws-wasm-pass.mjs FILE DIST [DIST2 ...] [--mb M] [--rounds R] [--fields "..."]');
const data = readFileSync(file).subarray(0, mb << 20);

const builds = [];
for (const d of dists) {
  const at = (p) => pathToFileURL(resolve(d, p)).href;
  const { setAwsReader, awsWasm, WASM_WINDOW } = await import(at('src/formats/aws-wasm.js'));
  const { rolesFor, AWS_V2_FIELDS } = await import(at('src/formats/aws.js'));
  const { FlowSink } = await import(at('src/flow/sink.js'));
  setAwsReader('wasm');
  const roles = rolesFor(fields ? fields.split(' ') : AWS_V2_FIELDS).roles;
  const sink = new FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 0 }, () => {});
  builds.push({ d, w: awsWasm(), window: WASM_WINDOW, roles, sink, ns: [] });
}

for (let r = 0; r < rounds; r++) {
  for (const b of builds) {
    const t0 = process.cpuUsage();
    let i = 0;
    let lines = 0;
    while (i < data.length) {
      const rows = b.w.read(data, i, Math.min(data.length - i, b.window), b.roles, b.sink, false);
      if (rows === 0) break;
      lines += rows;
      i += b.w.i32[b.w.lineEnd + rows - 1] + 1;
    }
    const u = process.cpuUsage(t0);
    b.ns.push(((u.user + u.system) * 1e3) / lines);
  }
}
for (const b of builds) {
  const ns = b.ns.slice().sort((x, y) => x - y);
  process.stdout.write(`${b.d}: median ${ns[Math.floor(ns.length / 2)].toFixed(1)} min ${ns[0].toFixed(1)} ns a line (${b.ns.map((x) => x.toFixed(0)).join(' ')})\n`);
}
