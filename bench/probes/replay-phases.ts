/**
 * Where a replay shard's time goes, per row, in one thread: the blocks of one shard of a
 * replay file read the way detect reads them (checks + lz4, rows read in place by the
 * inbound table, the outbound rows expanded for the outbound table), then finalisation.
 *
 *   node dist/bench/probes/replay-phases.js FILE.fsr [--shard 0] [--shards 2]
 *
 * Blocks are decompressed as the shard does (WebAssembly into reused memory), or with
 * lz4-napi under FLOWSIEVE_LZ4=napi.
 */
import { readFileSync } from 'node:fs';
import { readReplayHeader, ROWS_KIND } from '../../src/replay/file.js';
import { decodeBlock } from '../../src/replay/block.js';
import { lz4Wasm } from '../../src/replay/lz4-wasm.js';
import { blockRows, decodeRowsWhere, RowScratch } from '../../src/replay/row-codec.js';
import { ScanTable } from '../../src/engine/scan-table.js';
import { OutboundTable } from '../../src/engine/outbound-table.js';
import { DEFAULT_THRESHOLDS } from '../../src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../../src/engine/outbound-table.js';
import { Feed } from '../../src/flow/types.js';

const W = 21600;
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const path = process.argv[2];
if (!path) throw new Error('usage: replay-phases.js FILE.fsr [--shard S] [--shards N]');
const shard = arg('shard', 0);
const shards = arg('shards', 2);
const opened = readReplayHeader(path);
const file = readFileSync(path);
const idx = opened.header.blocks;
const dict = opened.header.dict;
let rowsTotal = 0;
for (let k = 0; k < idx.offset.length; k++) if (idx.bucket[k]! % shards === shard) rowsTotal += idx.rows[k]!;
const inbound = new ScanTable(W, Math.ceil(rowsTotal / 2), shards);
const outbound = new OutboundTable(W, Math.max(1024, Math.ceil(rowsTotal / 32)));
const scratch = new RowScratch();
const lz4 = lz4Wasm();
const ms = { decode: 0, inbound: 0, outbound: 0 };
let rows = 0;
for (let k = 0; k < idx.offset.length; k++) {
  if (idx.bucket[k]! % shards !== shard) continue;
  const at = opened.dataStart + idx.offset[k]!;
  const t0 = performance.now();
  const { header, columns } = decodeBlock(file.subarray(at, at + idx.length[k]!), ROWS_KIND, lz4);
  const block = blockRows(columns, header.rows, dict);
  const t1 = performance.now();
  inbound.addRows(block, idx.bucket[k]!);
  const t2 = performance.now();
  const out = decodeRowsWhere(columns, block, Feed.outbound, scratch);
  if (out.n > 0) outbound.addBatch(out);
  const t3 = performance.now();
  ms.decode += t1 - t0;
  ms.inbound += t2 - t1;
  ms.outbound += t3 - t2;
  rows += block.n;
}
const t4 = performance.now();
const entries = inbound.n;
const fin = inbound.finalize({ thresholds: { ...DEFAULT_THRESHOLDS }, windowSeconds: W, nearMisses: false });
const t5 = performance.now();
const alerts = outbound.finalize({ ...DEFAULT_OUTBOUND });
const t6 = performance.now();
const ns = (m: number) => ((m * 1e6) / rows).toFixed(1);
console.log(`replay phases, shard ${shard} of ${shards}: ${rows.toLocaleString('en-US')} rows, ${entries.toLocaleString('en-US')} inbound entries, ${fin.verdicts.length} scans, ${alerts.length} outbound findings, one thread`);
console.log('');
console.log('| phase | ns/row |');
console.log('|---|---:|');
console.log(`| read checks + lz4 + column checks (decodeBlock, blockRows) | ${ns(ms.decode)} |`);
console.log(`| inbound add, rows read in place (ScanTable.addRows) | ${ns(ms.inbound)} |`);
console.log(`| outbound rows expanded and added | ${ns(ms.outbound)} |`);
console.log(`| inbound finalise (${(((t5 - t4) * 1e6) / entries).toFixed(1)} ns per entry) | ${ns(t5 - t4)} |`);
console.log(`| outbound finalise | ${ns(t6 - t5)} |`);
console.log(`| all | ${ns(ms.decode + ms.inbound + ms.outbound + (t6 - t4))} |`);
