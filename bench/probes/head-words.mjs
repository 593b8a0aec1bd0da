#!/usr/bin/env node
// What the head check of a JSON blob read ahead costs, and where (session 23 azure2): every blob
// under DIR read in groups of 16 by the native readFilesAsync (as input/blobs-ahead.ts queues
// them), with and without the pool thread's search of each head (`heads`: native/files.c
// head_words), the process's CPU a pass (the main thread waits: this is the pool's); then the
// parsing thread's head check of each blob (input/plan.ts planFromBytes: the sniffers) with the
// pool's words and without them (the aws-json sniffer's own search of the 64 KiB), its CPU a
// pass, right after the group's read (the bytes as the parse finds them). Medians of PASSES.
//   node bench/probes/head-words.mjs /abs/path/to/dist DIR [PASSES=9]
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [dist, dir, passes = '9'] = process.argv.slice(2);
if (!dist || !dir) {
  console.error('usage: node bench/probes/head-words.mjs /abs/path/to/dist DIR [PASSES]');
  process.exit(2);
}
const read = (await import(join(dist, 'src/input/native.js'))).nativeModule()?.readFilesAsync;
const { planFromBytes } = await import(join(dist, 'src/input/plan.js'));
if (!read) throw new Error('no native readFilesAsync in this build');
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    const st = statSync(p);
    if (st.isDirectory()) walk(p);
    else if (st.size > 0 && st.size < 2 << 20) files.push({ path: p, size: st.size });
  }
};
walk(dir);
const buffer = Buffer.allocUnsafeSlow(4 << 20);
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** One pass: the pool's CPU reading every group (heads searched or not), and the head checks' CPU (with the words or searching). */
async function pass(searched, withWords) {
  let pool = 0;
  let check = 0;
  for (let i = 0; i < files.length; i += 16) {
    const group = files.slice(i, i + 16);
    const spans = new Float64Array(2 * group.length);
    let offset = 0;
    group.forEach((f, k) => {
      spans[2 * k] = offset;
      spans[2 * k + 1] = f.size + 1;
      offset += f.size + 1;
    });
    if (offset > buffer.length) continue;
    const heads = searched ? new Uint8Array(group.length).fill(0xff) : undefined;
    const t0 = cpu();
    await new Promise((done) => read(`${group.map((f) => f.path).join('\0')}\0`, buffer, spans, done, heads));
    const t1 = cpu();
    for (let k = 0; k < group.length; k++) {
      const bytes = buffer.subarray(spans[2 * k], spans[2 * k] + spans[2 * k + 1]);
      planFromBytes(group[k].path, bytes, {}, withWords && heads[k] !== 0xff ? heads[k] : undefined);
    }
    pool += t1 - t0;
    check += cpu() - t1;
  }
  return { pool, check };
}

const runs = { plain: [], searched: [], words: [] };
for (let p = 0; p < Number(passes); p++) {
  runs.plain.push(await pass(false, false));
  runs.searched.push(await pass(true, false));
  runs.words.push(await pass(true, true));
}
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
console.log(`${files.length} files, ${(files.reduce((s, f) => s + f.size, 0) / 1e6).toFixed(1)} MB, ${passes} passes (medians, ms of CPU a pass)`);
for (const [name, label] of [['plain', 'read, no heads; head check searches'], ['searched', 'read, heads searched; head check searches'], ['words', "read, heads searched; head check takes the pool's words"]]) {
  const r = runs[name];
  console.log(`${label.padEnd(56)} read ${median(r.map((x) => x.pool)).toFixed(1).padStart(6)}   head check ${median(r.map((x) => x.check)).toFixed(1).padStart(6)}`);
}
