#!/usr/bin/env node
// The replay reader alone, in this thread: one shard's blocks of a replay file read as a detect
// run reads them (src/replay/shard-ops.ts: the spans, the checks, lz4, blockRows, the entry
// counts), handed to a table that adds nothing, ROUNDS times; prints the thread's CPU per round.
// Two builds alternated, to compare the reader's own cost where a whole run's CPU is too noisy:
//   node bench/probes/replay-read.mjs FILE.fsr ROUNDS DIST [DIST2]   (e.g. /work/base15/dist dist)
import { cpuMs as cpu, loadBuild, median as med, probeArgs, shardTasks } from './replay-shard-tasks.mjs';

const { file, rounds, dists, shard: SHARD } = probeArgs('node bench/probes/replay-read.mjs FILE.fsr ROUNDS DIST [DIST2]');
const SHARDS = 2;
const builds = [];
for (const d of dists) builds.push({ d, ...(await loadBuild(d, ['src/replay/shard-ops.js', 'src/replay/file.js'])) });
/** A table that adds nothing: the rows it was handed, counted (read at the end, so the reads are not dropped). */
let handed = 0;
const table = { batch: (x) => { handed += x.n; }, block: (r) => { handed += r.n; } };
for (const b of builds) b.tasks = shardTasks(b.readReplayHeader, file, SHARD, SHARDS, false).tasks;
const res = builds.map(() => []);
for (let r = 0; r < rounds; r++) {
  builds.forEach((b, i) => {
    const c0 = cpu();
    let rows = 0;
    for (const t of b.tasks) rows += b.replayShardOp(t, table).rows;
    res[i].push(cpu() - c0);
    if (r === 0) console.log(`${b.d}: ${rows} rows a round`);
  });
}
console.log(`rows handed to the table in all: ${handed}`);
builds.forEach((b, i) => console.log(`${b.d}: median ${med(res[i].slice(1)).toFixed(1)} ms CPU a round (first round left out)  all ${res[i].map((x) => x.toFixed(0)).join(' ')}  ratio ${(med(res[i].slice(1)) / med(res[0].slice(1))).toFixed(3)}`));
