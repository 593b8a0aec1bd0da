#!/usr/bin/env node
// A replay shard's outbound table alone, in this thread: one shard's blocks of a replay file
// read as a detect run reads them (src/replay/shard-ops.ts, as bench/probes/replay-read.mjs),
// their outbound rows added as workers/shard.ts adds them (the direct adds of a whole twin:
// OutboundTable.addBlockRows, else a batch), into a table sized as the shard sizes it (the
// shard's outbound rows), then finalised; ROUNDS times, a fresh table a round. Prints the
// process's CPU a round (read + adds, finalise; libuv's pool, which backs the table's pages
// ahead, included), its minor page faults, and, with MODE=read, the reader alone to subtract.
// Builds alternated (a build loaded first measured up to ~5 % slower: run both orders):
//   node bench/probes/replay-outbound.mjs FILE.fsr ROUNDS DIST [DIST2]   (e.g. /work/base16/dist dist)
import { cpuMs as cpu, loadBuild, median as med, probeArgs, shardTasks } from './replay-shard-tasks.mjs';

const { file, rounds, dists, shard: SHARD } = probeArgs('node bench/probes/replay-outbound.mjs FILE.fsr ROUNDS DIST [DIST2]');
const SHARDS = 2;
const READ_ONLY = process.env.MODE === 'read';
const W = 21600;
const builds = [];
for (const d of dists) {
  const b = { d, ...(await loadBuild(d, ['src/replay/shard-ops.js', 'src/replay/file.js', 'src/engine/outbound-table.js'])) };
  builds.push(Object.assign(b, shardTasks(b.readReplayHeader, file, SHARD, SHARDS, true, W)));
}
const res = builds.map(() => ({ add: [], fin: [], addFaults: [], finFaults: [] }));
const faults = () => process.resourceUsage().minorPageFault;
let findings = 0;
let entries = 0;
for (let r = 0; r < rounds; r++) {
  builds.forEach((b, i) => {
    const table = new b.OutboundTable(W, Math.min(b.outbound, 1 << 22));
    const consumer = {
      batch: () => {},
      block: (rows, _bucket, _expand, outbound) => {
        if (READ_ONLY) return;
        const fresh = rows.smallBelow > 0;
        const out = outbound((m, c) => table.addBlockRows(rows, c, m, fresh));
        if (out.n > 0) table.addBatch(out, fresh);
      },
    };
    const f0 = faults();
    const c0 = cpu();
    for (const t of b.tasks) b.replayShardOp(t, consumer);
    const c1 = cpu();
    const f1 = faults();
    findings += READ_ONLY ? 0 : table.finalize({ ...b.DEFAULT_OUTBOUND }).length;
    const c2 = cpu();
    res[i].addFaults.push(f1 - f0);
    res[i].finFaults.push(faults() - f1);
    entries = table.n;
    res[i].add.push(c1 - c0);
    res[i].fin.push(c2 - c1);
  });
}
console.log(`shard ${SHARD} of ${SHARDS}: ${entries} outbound entries, ${findings} findings in all${READ_ONLY ? ' (MODE=read: nothing added)' : ''}`);
builds.forEach((b, i) => {
  const add = med(res[i].add.slice(1));
  const fin = med(res[i].fin.slice(1));
  console.log(`${b.d}: page faults a round (medians; the process's, libuv's pool included) read+adds ${med(res[i].addFaults.slice(1))}, finalise ${med(res[i].finFaults.slice(1))}`);
  console.log(`${b.d}: read+adds ${add.toFixed(1)} ms, finalise ${fin.toFixed(1)} ms CPU a round (medians, first round left out; ratio to the first build ${(add / med(res[0].add.slice(1))).toFixed(3)}, ${(fin / med(res[0].fin.slice(1))).toFixed(3)})  adds ${res[i].add.map((x) => x.toFixed(0)).join(' ')}  fin ${res[i].fin.map((x) => x.toFixed(0)).join(' ')}`);
});
