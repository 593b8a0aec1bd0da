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
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [file, roundsArg, ...dists] = process.argv.slice(2);
if (!file || !dists.length) {
  console.error('usage: node bench/probes/replay-outbound.mjs FILE.fsr ROUNDS DIST [DIST2]');
  process.exit(2);
}
const rounds = Number(roundsArg);
const SHARDS = 2;
const SHARD = Number(process.env.SHARD ?? 0);
const READ_ONLY = process.env.MODE === 'read';
const W = 21600;
const load = async (d) => {
  const url = (p) => pathToFileURL(resolve(d, p)).href;
  const ops = await import(url('src/replay/shard-ops.js'));
  const { readReplayHeader } = await import(url('src/replay/file.js'));
  const { OutboundTable, DEFAULT_OUTBOUND } = await import(url('src/engine/outbound-table.js'));
  return { ops, readReplayHeader, OutboundTable, DEFAULT_OUTBOUND };
};
const builds = [];
for (const d of dists) builds.push({ d, ...(await load(d)) });

function tasksOf(readReplayHeader) {
  const o = readReplayHeader(file);
  const b = o.header.blocks;
  const tasks = [];
  let t = null;
  let rows = 0;
  let outbound = 0;
  for (let k = 0; k < b.offset.length; k++) {
    if (b.bucket[k] % SHARDS !== SHARD) continue;
    if (!t || rows + b.rows[k] > 1 << 18) {
      t = { op: 'addReplay', windowSeconds: W, path: file, headerCrc: o.headerCrc, dict: o.header.dict, shard: SHARD, shards: SHARDS,
        offset: [], length: [], bucket: [], rows: [], lateBefore: 0, into: 'table',
        twins: { offset: [], length: [], inbound: [], outbound: [], whole: [] }, smallBelow: 3 };
      tasks.push(t);
      rows = 0;
    }
    t.offset.push(o.dataStart + b.offset[k]); t.length.push(b.length[k]); t.bucket.push(b.bucket[k]); t.rows.push(b.rows[k]);
    t.twins.offset.push(o.dataStart + b.entryOffset[k]); t.twins.length.push(b.entryLength[k]);
    t.twins.inbound.push(b.inbound[k]); t.twins.outbound.push(b.outbound[k]); t.twins.whole.push(true);
    rows += b.rows[k];
    outbound += b.outbound[k];
  }
  return { tasks, outbound };
}
for (const b of builds) Object.assign(b, tasksOf(b.readReplayHeader));
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
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
    for (const t of b.tasks) b.ops.replayShardOp(t, consumer);
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
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`shard ${SHARD} of ${SHARDS}: ${entries} outbound entries, ${findings} findings in all${READ_ONLY ? ' (MODE=read: nothing added)' : ''}`);
builds.forEach((b, i) => {
  const add = med(res[i].add.slice(1));
  const fin = med(res[i].fin.slice(1));
  console.log(`${b.d}: page faults a round (medians; the process's, libuv's pool included) read+adds ${med(res[i].addFaults.slice(1))}, finalise ${med(res[i].finFaults.slice(1))}`);
  console.log(`${b.d}: read+adds ${add.toFixed(1)} ms, finalise ${fin.toFixed(1)} ms CPU a round (medians, first round left out; ratio to the first build ${(add / med(res[0].add.slice(1))).toFixed(3)}, ${(fin / med(res[0].fin.slice(1))).toFixed(3)})  adds ${res[i].add.map((x) => x.toFixed(0)).join(' ')}  fin ${res[i].fin.map((x) => x.toFixed(0)).join(' ')}`);
});
