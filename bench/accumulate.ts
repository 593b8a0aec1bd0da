/**
 * The inbound accumulator at a size where memory layout decides the speed: a few
 * million records over ~1/3 as many (key, endpoint) tuples, most keys with one endpoint,
 * records in arrival order (as parsed text reaches a shard). Side by side, in one
 * process (tinybench):
 *   - records added one by one in arrival order (ScanTable pendingRows = 0, the old path);
 *   - records held back and added in bucket order (pendingRows = 2^20, what detect does);
 *   - one replay block per bucket, rows sorted by entry, as batches (addBatch oneBucket);
 *   - the same blocks read in their own columns (ScanTable.addRows): what detect does on replay.
 * Each iteration fills a fresh table and finalises it.
 *
 *   node dist/bench/accumulate.js [--rows 3000000] [--time 3000] [--capacity ROWS/2] [--shape real]
 * (--shape real: the records of bench/records.ts makeRealBatches, keys of up to 1,000 endpoints.)
 */
import { Bench } from 'tinybench';
import { availableParallelism, cpus } from 'node:os';
import type { FlowBatchData } from '../src/flow/batch.js';
import { ScanTable } from '../src/engine/scan-table.js';
import type { BlockRows } from '../src/replay/row-codec.js';
import { DEFAULT_THRESHOLDS } from '../src/detect/rules.js';

import { blockForms, makeBatches, makeRealBatches, replayBlocks, W } from './records.js';
import { numArg as arg } from './args.js';

function fillRows(blocks: Array<{ rows: BlockRows; bucket: number }>, capacity: number): number {
  const t = new ScanTable(W, capacity, 1, 0);
  for (const b of blocks) t.addRows(b.rows, b.bucket);
  return t.finalize({ thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: false }).entries;
}

function fill(batches: FlowBatchData[], pendingRows: number, oneBucket: boolean, capacity: number): number {
  const t = new ScanTable(W, capacity, 1, pendingRows);
  for (const b of batches) t.addBatch(b, oneBucket);
  const r = t.finalize({ thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: false });
  return r.entries;
}

async function main(): Promise<void> {
  const rows = arg('rows', 3_000_000);
  const time = arg('time', 3000);
  // --shape real: keys with many endpoints as real logs have them (bench/records.ts makeRealBatches)
  const real = process.argv.includes('--shape') && process.argv[process.argv.indexOf('--shape') + 1] === 'real';
  const batches = real ? makeRealBatches(rows).batches : makeBatches(rows);
  const blocks = replayBlocks(batches);
  // sized up front, as detect sizes it from the input; --capacity 16384 starts small and grows
  const capacity = arg('capacity', Math.ceil(rows / 2));
  const entries = fill(batches, 0, false, capacity);
  const forms = blockForms(blocks);
  const same = fill(batches, 1 << 20, false, capacity) === entries && fill(blocks, 0, true, capacity) === entries && fillRows(forms, capacity) === entries;

  const bench = new Bench({ time, iterations: 3, warmup: false });
  bench.add('arrival order, one by one (baseline)', () => fill(batches, 0, false, capacity));
  bench.add('held back, added in bucket order (detect on text)', () => fill(batches, 1 << 20, false, capacity));
  bench.add('one block per bucket, sorted, as batches', () => fill(blocks, 0, true, capacity));
  bench.add('the same blocks read in place (detect on replay)', () => fillRows(forms, capacity));
  process.stderr.write(`${rows} records, ${entries} tuples; running...\n`);
  const keys = countKeys(batches);
  await bench.run();

  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(`accumulate + finalise, ${rows.toLocaleString('en-US')} records over ${entries.toLocaleString('en-US')} (key, endpoint) tuples and ${keys.toLocaleString('en-US')} scan keys (${(entries / keys).toFixed(2)} tuples a key${real ? ', real shape' : ''}), one thread; ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${availableParallelism()} cores (${cpu})`);
  console.log('');
  console.log('| path | ns/record | records/s | vs baseline |');
  console.log('|---|---:|---:|---:|');
  const meanMs = (task: (typeof bench.tasks)[number]): number => {
    const res = task.result;
    if (res.state !== 'completed') throw new Error(`${task.name}: ${res.state}`);
    return res.latency.mean;
  };
  const base = meanMs(bench.tasks[0]!);
  for (const task of bench.tasks) {
    const ms = meanMs(task);
    console.log(`| ${task.name} | ${((ms * 1e6) / rows).toFixed(0)} | ${((rows / ms) * 1e3 / 1e6).toFixed(2)} M | ${(base / ms).toFixed(2)}× |`);
  }
  console.log('');
  console.log(`Same entries on every path: ${same ? 'yes' : 'NO'}.`);
}

/** Distinct scan keys (src, protocol, port, window) of the records. */
function countKeys(batches: FlowBatchData[]): number {
  const seen = new Set<string>();
  for (const b of batches) {
    for (let i = 0; i < b.n; i++) seen.add(`${b.src[i * 4 + 3]}|${b.src[i * 4]}|${b.proto[i]}|${b.dport[i]}|${Math.floor(b.start[i]! / W)}`);
  }
  return seen.size;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
