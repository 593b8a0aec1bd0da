#!/usr/bin/env node
// What a JSON blob costs before its reader sees it, per pass over every file under DIR, in a
// fresh process with the build at DIST: the reads (open, read, close) into one reused buffer
// (as a parse thread reads a blob planned from its name: input/read.ts readPlainReused), into
// a fresh buffer a group of 87 blobs (what a task's bytes read by another thread would cost:
// new memory, its page faults), and the head check a blob planned from its name gets
// (input/plan.ts planFromBytes: the sniffers over its 64 KiB head). Process CPU (user + sys)
// per pass: the first pass (cold code) and the median of the others.
//   node bench/probes/blob-pass.mjs /abs/path/to/dist /work/data/json-10-1/azure [PASSES=8]
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [dist, dir, passes = '8'] = process.argv.slice(2);
if (!dist || !dir) {
  console.error('usage: node bench/probes/blob-pass.mjs /abs/path/to/dist DIR [PASSES]');
  process.exit(2);
}
const { planFromBytes } = await import(join(dist, 'src/input/plan.js'));
const files = [];
const walk = (d) => {
  for (const n of readdirSync(d).sort()) {
    const p = join(d, n);
    const st = statSync(p);
    if (st.isDirectory()) walk(p);
    else files.push({ path: p, size: st.size });
  }
};
walk(dir);
const total = files.reduce((s, f) => s + f.size, 0);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const readInto = (path, buf, at, size) => {
  const fd = openSync(path, 'r');
  try {
    let got = 0;
    for (let n; got <= size && (n = readSync(fd, buf, at + got, size + 1 - got, null)) > 0; ) got += n;
    return got;
  } finally {
    closeSync(fd);
  }
};
const reused = Buffer.allocUnsafeSlow(Math.max(...files.map((f) => f.size)) + 1);
const held = files.map((f) => readFileSync(f.path));
const ways = {
  'read, one reused buffer': () => {
    for (const f of files) readInto(f.path, reused, 0, f.size);
  },
  'read, a fresh buffer a group of 87': () => {
    for (let i = 0; i < files.length; i += 87) {
      const group = files.slice(i, i + 87);
      const buf = new Uint8Array(new ArrayBuffer(group.reduce((s, f) => s + f.size, 0) + 1));
      let at = 0;
      for (const f of group) at += readInto(f.path, buf, at, f.size);
    }
  },
  'head check (planFromBytes)': () => {
    for (let i = 0; i < files.length; i++) planFromBytes(files[i].path, held[i], {});
  },
};
console.log(`${files.length} files, ${(total / 1e6).toFixed(1)} MB`);
for (const [name, pass] of Object.entries(ways)) {
  const ms = [];
  for (let p = 0; p < Number(passes); p++) {
    const c0 = cpu();
    pass();
    ms.push(cpu() - c0);
  }
  const rest = ms.slice(1).sort((a, b) => a - b);
  console.log(`${name.padEnd(36)} first ${ms[0].toFixed(1)} ms, then median ${rest[rest.length >> 1].toFixed(1)} ms a pass`);
}
