// The WebAssembly AWS reader's pass over text inflated into a buffer of its own (the window
// copied into the module's block: AwsWasm.read as before) against text in the module's text
// arena (read in place, src/formats/text-arena.ts), alternated in one process. Each "object"
// of --object KiB is first written into its buffer (as the inflate on the pool writes it), then
// read window by window: CPU ns a line, median (and least) of the rounds.
//   node bench/probes/aws-inplace-pass.mjs FILE DIST [--mb 32] [--object 1024] [--rounds 9]
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
const object = Number(opt('object', 1024)) << 10;
const rounds = Number(opt('rounds', 9));
const [file, dist] = args;
const data = readFileSync(file).subarray(0, mb << 20);
const at = (p) => pathToFileURL(resolve(dist, p)).href;
const { setAwsReader, awsWasm, WASM_WINDOW } = await import(at('src/formats/aws-wasm.js'));
const { rolesFor, AWS_V2_FIELDS } = await import(at('src/formats/aws.js'));
const { FlowSink } = await import(at('src/flow/sink.js'));
setAwsReader('wasm');
const w = awsWasm();
const arena = w.textArena();
const roles = rolesFor(AWS_V2_FIELDS).roles;
const sink = new FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 0 }, () => {});
// objects cut at line ends
const objects = [];
for (let s = 0; s < data.length; ) {
  let e = Math.min(data.length, s + object);
  if (e < data.length) e = data.lastIndexOf(10, e) + 1;
  objects.push(data.subarray(s, e));
  s = e;
}
const own = objects.map((o) => Buffer.allocUnsafeSlow(o.length));
const kinds = { copy: [], inPlace: [] };
for (let r = 0; r < rounds; r++) {
  for (const kind of Object.keys(kinds)) {
    let ns = 0;
    let lines = 0;
    for (let k = 0; k < objects.length; k++) {
      const o = objects[k];
      const text = kind === 'copy' ? own[k] : arena.take(o.length);
      text.set(o); // the inflate's write, not timed
      const t0 = process.cpuUsage();
      let i = 0;
      while (i < text.length) {
        const rows = w.read(text, i, Math.min(text.length - i, WASM_WINDOW), roles, sink, 0, 0);
        if (rows === 0) break;
        lines += rows;
        i += w.i32[w.lineEnd + rows - 1] + 1;
      }
      const u = process.cpuUsage(t0);
      ns += (u.user + u.system) * 1e3;
      if (kind === 'inPlace') arena.give(text);
    }
    kinds[kind].push(ns / lines);
  }
}
for (const [kind, v] of Object.entries(kinds)) {
  const s = v.slice().sort((x, y) => x - y);
  process.stdout.write(`${kind}: median ${s[Math.floor(s.length / 2)].toFixed(1)} min ${s[0].toFixed(1)} ns a line (${v.map((x) => x.toFixed(0)).join(' ')})\n`);
}
