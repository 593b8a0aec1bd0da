// Shared by the replay probes (replay-read.mjs, replay-outbound.mjs): a build's modules loaded
// from its dist, and one shard's blocks of a replay file as the addReplay tasks a detect run
// sends that shard (src/replay/input.ts: tasks of up to 2^18 rows, the twins with them).
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** A probe's command line (FILE.fsr ROUNDS DIST [DIST2 ...]) and SHARD (environment, 0 by default); exits with `usage` when short. */
export function probeArgs(usage) {
  const [file, rounds, ...dists] = process.argv.slice(2);
  if (!file || !dists.length) {
    console.error(`usage: ${usage}`);
    process.exit(2);
  }
  return { file, rounds: Number(rounds), dists, shard: Number(process.env.SHARD ?? 0) };
}

/** The modules (paths under DIST, e.g. 'src/replay/shard-ops.js') of a build, imported. */
export async function loadBuild(dist, paths) {
  const out = {};
  for (const p of paths) Object.assign(out, await import(pathToFileURL(resolve(dist, p)).href));
  return out;
}

/**
 * Shard `shard` of `shards`' tasks of `file` (readReplayHeader: the build's), windows of
 * `windowSeconds`; `whole`: whether each twin holds its whole bucket (the plan's
 * twins.whole). Also the shard's outbound rows (the plan's outboundRows).
 */
export function shardTasks(readReplayHeader, file, shard, shards, whole, windowSeconds = 21600) {
  const o = readReplayHeader(file);
  const b = o.header.blocks;
  const tasks = [];
  let t = null;
  let rows = 0;
  let outbound = 0;
  for (let k = 0; k < b.offset.length; k++) {
    if (b.bucket[k] % shards !== shard) continue;
    if (!t || rows + b.rows[k] > 1 << 18) {
      t = { op: 'addReplay', windowSeconds, path: file, headerCrc: o.headerCrc, dict: o.header.dict, shard, shards,
        offset: [], length: [], bucket: [], rows: [], lateBefore: 0, into: 'table',
        twins: { offset: [], length: [], inbound: [], outbound: [], whole: [] }, smallBelow: 3 };
      tasks.push(t);
      rows = 0;
    }
    t.offset.push(o.dataStart + b.offset[k]); t.length.push(b.length[k]); t.bucket.push(b.bucket[k]); t.rows.push(b.rows[k]);
    t.twins.offset.push(o.dataStart + b.entryOffset[k]); t.twins.length.push(b.entryLength[k]);
    t.twins.inbound.push(b.inbound[k]); t.twins.outbound.push(b.outbound[k]); t.twins.whole.push(whole);
    rows += b.rows[k];
    outbound += b.outbound[k];
  }
  return { tasks, outbound };
}

/** The process's CPU (user + system) in ms. */
export const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** The median of `a`. */
export const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
