#!/usr/bin/env node
// The replay reader alone, in this thread: one shard's blocks of a replay file read as a detect
// run reads them (src/replay/shard-ops.ts: the spans, the checks, lz4, blockRows, the entry
// counts), handed to a table that adds nothing, ROUNDS times; prints the thread's CPU per round.
// Two builds alternated, to compare the reader's own cost where a whole run's CPU is too noisy:
//   node bench/probes/replay-read.mjs FILE.fsr ROUNDS DIST [DIST2]   (e.g. /work/base15/dist dist)
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, roundsArg, ...dists] = process.argv.slice(2);
if (!file || !dists.length) {
  console.error('usage: node bench/probes/replay-read.mjs FILE.fsr ROUNDS DIST [DIST2]');
  process.exit(2);
}
const rounds = Number(roundsArg);
const SHARDS = 2;
const SHARD = Number(process.env.SHARD ?? 0);
const load = async (d) => {
  const url = (p) => pathToFileURL(resolve(d, p)).href;
  const ops = await import(url('src/replay/shard-ops.js'));
  const { readReplayHeader } = await import(url('src/replay/file.js'));
  return { ops, readReplayHeader };
};
const builds = [];
for (const d of dists) builds.push({ d, ...(await load(d)) });

function tasksOf(readReplayHeader) {
  const o = readReplayHeader(file);
  const b = o.header.blocks;
  const tasks = [];
  let t = null;
  let rows = 0;
  for (let k = 0; k < b.offset.length; k++) {
    if (b.bucket[k] % SHARDS !== SHARD) continue;
    if (!t || rows + b.rows[k] > 1 << 18) {
      t = { op: 'addReplay', windowSeconds: 21600, path: file, headerCrc: o.headerCrc, dict: o.header.dict, shard: SHARD, shards: SHARDS,
        offset: [], length: [], bucket: [], rows: [], lateBefore: 0, into: 'table',
        twins: { offset: [], length: [], inbound: [], outbound: [], whole: [] }, smallBelow: 3 };
      tasks.push(t);
      rows = 0;
    }
    t.offset.push(o.dataStart + b.offset[k]); t.length.push(b.length[k]); t.bucket.push(b.bucket[k]); t.rows.push(b.rows[k]);
    t.twins.offset.push(o.dataStart + b.entryOffset[k]); t.twins.length.push(b.entryLength[k]);
    t.twins.inbound.push(b.inbound[k]); t.twins.outbound.push(b.outbound[k]); t.twins.whole.push(false);
    rows += b.rows[k];
  }
  return tasks;
}
/** A table that adds nothing: the rows it was handed, counted (read at the end, so the reads are not dropped). */
let handed = 0;
const table = { batch: (x) => { handed += x.n; }, block: (r) => { handed += r.n; } };
for (const b of builds) b.tasks = tasksOf(b.readReplayHeader);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const res = builds.map(() => []);
for (let r = 0; r < rounds; r++) {
  builds.forEach((b, i) => {
    const c0 = cpu();
    let rows = 0;
    for (const t of b.tasks) rows += b.ops.replayShardOp(t, table).rows;
    res[i].push(cpu() - c0);
    if (r === 0) console.log(`${b.d}: ${rows} rows a round`);
  });
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`rows handed to the table in all: ${handed}`);
builds.forEach((b, i) => console.log(`${b.d}: median ${med(res[i].slice(1)).toFixed(1)} ms CPU a round (first round left out)  all ${res[i].map((x) => x.toFixed(0)).join(' ')}  ratio ${(med(res[i].slice(1)) / med(res[0].slice(1))).toFixed(3)}`));
