/**
 * Raw ceilings for the end-to-end comparison: how fast the bytes of an input can be
 * read and decoded at all, with no parsing or detection.
 *
 *   node dist/bench/ceiling.js read FILE            plain read (cat-equivalent), one thread
 *   node dist/bench/ceiling.js gunzip FILE.gz       zlib inflate only, one stream
 *   node dist/bench/ceiling.js lz4 FILE.fsr N       lz4-decode every block, N threads (blocks split as detect splits them)
 *
 * Prints one JSON line: { seconds, bytes } (bytes: read from disk; lz4: decompressed).
 */
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { uncompressSync } from 'lz4-napi';
import { readReplayHeader } from '../src/replay/file.js';
import { FRAME_PREFIX } from '../src/replay/block.js';

function readAll(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  let total = 0;
  try {
    for (;;) {
      const got = readSync(fd, buf, 0, buf.length, total);
      if (got === 0) return total;
      total += got;
    }
  } finally {
    closeSync(fd);
  }
}

async function gunzipAll(path: string): Promise<number> {
  let total = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }).pipe(createGunzip({ chunkSize: 1 << 20 }))) {
    total += (chunk as Buffer).length;
  }
  return total;
}

/** Decode the blocks of `shard` (bucket % shards): read, skip the header, lz4. */
function lz4Shard(path: string, opened: ReturnType<typeof readReplayHeader>, shard: number, shards: number): number {
  const { header, dataStart } = opened;
  const b = header.blocks;
  const fd = openSync(path, 'r');
  let buf = Buffer.allocUnsafe(1 << 20);
  let total = 0;
  try {
    for (let k = 0; k < b.offset.length; k++) {
      if (b.bucket[k]! % shards !== shard) continue;
      if (buf.length < b.length[k]!) buf = Buffer.allocUnsafe(b.length[k]! * 2);
      readSync(fd, buf, 0, b.length[k]!, dataStart + b.offset[k]!);
      const hlen = buf.readUInt32LE(4);
      total += uncompressSync(buf.subarray(FRAME_PREFIX + hlen, b.length[k]!)).length;
    }
  } finally {
    closeSync(fd);
  }
  return total;
}

async function lz4All(path: string, threads: number): Promise<{ seconds: number; bytes: number }> {
  const workers = Array.from({ length: threads }, (_, shard) => new Worker(new URL(import.meta.url), { workerData: { path, shard, shards: threads } }));
  await Promise.all(workers.map((w) => new Promise((r) => w.once('message', r)))); // ready
  const t0 = performance.now();
  workers.forEach((w) => w.postMessage('go'));
  const bytes = await Promise.all(workers.map((w) => new Promise<number>((r) => w.once('message', r))));
  const seconds = (performance.now() - t0) / 1000;
  await Promise.all(workers.map((w) => w.terminate()));
  return { seconds, bytes: bytes.reduce((s, x) => s + x, 0) };
}

async function main(): Promise<void> {
  const [mode, path, n] = process.argv.slice(2);
  if (!mode || !path) {
    process.stderr.write('usage: node dist/bench/ceiling.js read|gunzip|lz4 FILE [threads]\n');
    process.exit(1);
  }
  let r: { seconds: number; bytes: number };
  const t0 = performance.now();
  if (mode === 'read') r = { bytes: readAll(path), seconds: 0 };
  else if (mode === 'gunzip') r = { bytes: await gunzipAll(path), seconds: 0 };
  else if (mode === 'lz4') r = await lz4All(path, Math.max(1, Number(n ?? 1)));
  else throw new Error(`unknown mode ${mode}`);
  if (r.seconds === 0) r.seconds = (performance.now() - t0) / 1000;
  process.stdout.write(JSON.stringify(r) + '\n');
}

if (isMainThread) {
  await main();
} else {
  const { path, shard, shards } = workerData as { path: string; shard: number; shards: number };
  const opened = readReplayHeader(path);
  parentPort!.once('message', () => parentPort!.postMessage(lz4Shard(path, opened, shard, shards)));
  parentPort!.postMessage('ready');
}
