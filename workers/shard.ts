/**
 * Shard worker (a one-thread piscina pool per shard, so that the same thread, and the
 * same accumulators, receive every batch of the shard). It owns the scan keys of every
 * source address that hashes to its shard.
 */
import { pack, unpack } from 'msgpackr';
import { compressSync, uncompressSync } from 'lz4-napi';
import { ScanTable, type ScanTableState } from '../src/engine/scan-table.js';
import type { FinalizeReply, ShardTask } from '../src/engine/tasks.js';
import { isReplayTask, replayShardOp } from '../src/replay/shard-ops.js';
import { BoundedAccumulator, isMemoryTask } from '../src/engine/spill.js';

let table: ScanTable | null = null;
/** --max-memory: spills or drops before the table passes its limit (src/engine/spill.ts) */
const bound = new BoundedAccumulator();

function tableFor(windowSeconds: number): ScanTable {
  if (!table) table = new ScanTable(windowSeconds);
  if (table.windowSeconds !== windowSeconds) throw new Error('window changed under a live shard');
  return table;
}

export default function shardTask(task: ShardTask): unknown {
  // replay blocks feed the shard exactly as parsed batches do ('add')
  if (isReplayTask(task)) return replayShardOp(task, (batch, windowSeconds) => shardTask({ op: 'add', windowSeconds, batch }));
  if (isMemoryTask(task)) return bound.configure(task.limits);
  const t = tableFor(task.windowSeconds);
  switch (task.op) {
    case 'add':
      table = bound.add(t, task.batch);
      return task.batch.n;
    case 'finalize': {
      const reply: FinalizeReply = bound.finalize(t, task.opts);
      return reply;
    }
    case 'export':
      return compressSync(pack(t.exportState()));
    case 'import':
      t.mergeState(unpack(uncompressSync(Buffer.from(task.state))) as ScanTableState);
      return t.n;
    case 'stats':
      return { entries: t.n, bytes: t.bytes };
  }
}
