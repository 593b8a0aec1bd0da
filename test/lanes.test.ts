import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { FlowSink } from '../dist/src/flow/sink.js';
import { awsText } from '../dist/src/formats/aws.js';
import { createBatchRing } from '../dist/src/flow/batch-ring.js';
import { Engine, DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';
import { INFLIGHT, INFLIGHT_BYTES, RUN_STOPPED } from '../dist/src/engine/tasks.js';
import { tempDir } from './helpers/tmp.js';
import { writeTwoIngests } from './helpers/aws.js';

// A parse task's batches go straight to their shard threads by lanes (engine/run.ts laneJob,
// workers/parse.ts postBatch, workers/shard.ts openLane), not through the engine's thread.

const T0 = 1700006400;

function line(src: string, k: number): string {
  return `2 123456789010 eni-1 ${src} 172.31.0.${k & 255} ${40000 + k} 22 6 2 80 ${T0 + k} ${T0 + k + 5} REJECT OK`;
}

function batchesOf(lines: number, batchSize: number): any[] {
  const posted: any[] = [];
  const sink = new FlowSink({ shards: 1, batchSize, maxRejectsKept: 10 }, (_s: number, b: any) => posted.push(b));
  const text = Array.from({ length: lines }, (_, k) => line(`45.${k % 7}.3.${k % 200}`, k)).join('\n') + '\n';
  const buf = Buffer.from(text);
  awsText.open({ sink, file: 't', account: '', region: '' } as any).parseLines(buf, 0, buf.length, 1, 0);
  sink.flushAll();
  return posted;
}

async function until(done: () => boolean): Promise<void> {
  for (let k = 0; k < 200 && !done(); k++) await new Promise((r) => setTimeout(r, 5));
}

function engine(workers: number) {
  return new Engine({
    inputs: [], workers, windowSeconds: 21600, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: true, outbound: { ...DEFAULT_OUTBOUND },
    ...DEFAULT_RUN, batchSize: 64,
  } as any);
}

/** A file of `lines` lines to parse, and the parse thread's task function. */
async function textFile(lines: number) {
  const path = join(tempDir(), 'a.log');
  const text = Array.from({ length: lines }, (_, k) => line(`45.${k % 7}.3.${k % 200}`, k)).join('\n') + '\n';
  writeFileSync(path, text);
  const { default: parseChunk } = await import('../dist/workers/parse.js');
  return { path, text, parseChunk };
}

describe('lanes', () => {
  it('a parse task posts each batch on its shard\'s lane, then a null on every lane', async () => {
    const { path, text, parseChunk } = await textFile(3000);
    const got: any[][] = [[], []];
    const lanes = got.map((into) => {
      const { port1, port2 } = new MessageChannel();
      port1.on('message', (m) => into.push(m));
      return { port1, port2 };
    });
    const inflight = new SharedArrayBuffer(8);
    const result = await parseChunk({
      fileIndex: 0, chunkIndex: 0, mode: 'range', start: 0, end: text.length, path, display: path, format: 'aws-text', gzip: false,
      account: '', region: '', notAfter: 0, shards: 2, batchSize: 1024, maxRejects: 10, maxLineBytes: 1 << 20,
      maxDecompressedBytes: 1 << 30, lateBefore: 0, windowSeconds: 21600, lanes: lanes.map((l) => l.port2), inflight, inflightLimit: 100, ring: createBatchRing(8, 1024),
    } as any);
    await until(() => got.every((m) => m.at(-1) === null));
    for (const l of lanes) l.port1.close();
    expect(got.every((m) => m.at(-1) === null && m.indexOf(null) === m.length - 1)).toBe(true);
    const batches = got.flatMap((m) => m.slice(0, -1));
    expect(batches.length).toBe(result.batches);
    expect(batches.length).toBeGreaterThan(2);
    expect(batches.reduce((n, b) => n + b.n, 0)).toBe(3000);
    expect(Atomics.load(new Int32Array(inflight), 0)).toBe(result.batches); // lowered by the shards, not here
  });

  it('a shard adds what comes on a lane, counts each batch out of inflight, and keeps an error for laneError', async () => {
    const { default: shardTask } = await import('../dist/workers/shard.js');
    const inflight = new Int32Array(new SharedArrayBuffer(8));
    const { port1, port2 } = new MessageChannel();
    expect(shardTask({ op: 'lane', port: port2, inflight: inflight.buffer, windowSeconds: 21600 })).toBeUndefined();
    const batches = batchesOf(700, 256);
    expect(batches.length).toBe(3);
    Atomics.store(inflight, 0, batches.length);
    for (const b of batches) port1.postMessage(b);
    port1.postMessage(null);
    await until(() => Atomics.load(inflight, 0) === 0);
    expect(Atomics.load(inflight, 0)).toBe(0);
    expect(Atomics.load(inflight, 1)).toBe(0);
    const stats = shardTask({ op: 'stats', windowSeconds: 21600 }) as { entries: number };
    expect(stats.entries).toBeGreaterThan(0);
    expect(shardTask({ op: 'laneError' })).toBeUndefined();
    // a batch the shard cannot add (another window than its table's): counted out all the same, its error kept
    const other = new MessageChannel();
    shardTask({ op: 'lane', port: other.port2, inflight: inflight.buffer, windowSeconds: 3600 });
    Atomics.store(inflight, 0, 1);
    other.port1.postMessage(batchesOf(10, 64)[0]);
    await until(() => Atomics.load(inflight, 0) === 0);
    expect(Atomics.load(inflight, 1)).toBe(1);
    expect(() => shardTask({ op: 'laneError' })).toThrow(/window changed/);
    expect(shardTask({ op: 'laneError' })).toBeUndefined(); // once
    other.port1.close();
    port1.close();
  });

  it('an engine with lanes gives the verdicts of one whose batches it routes, ingest after ingest, every slot freed', async () => {
    const dir = tempDir();
    writeTwoIngests(dir, T0);
    const was = process.env.FLOWSIEVE_LANES;
    const run = async (workers: number, lanes: boolean) => {
      if (lanes) delete process.env.FLOWSIEVE_LANES;
      else process.env.FLOWSIEVE_LANES = 'off';
      const e = engine(workers);
      try {
        const laneJobs: number[] = [];
        for (const f of ['a.log', 'b.log']) {
          await e.ingest([join(dir, f)]);
          laneJobs.push(e.lastLaneJobs);
          expect(e.ringSlotsTaken()).toBe(0);
        }
        const fin = await e.finalize();
        return { laneJobs, json: JSON.stringify([fin.scans, fin.nearMisses, fin.endpointDays, fin.findings, fin.keys, fin.entries]), scans: fin.scans.length };
      } finally {
        await e.close();
        if (was === undefined) delete process.env.FLOWSIEVE_LANES;
        else process.env.FLOWSIEVE_LANES = was;
      }
    };
    for (const workers of [1, 2]) {
      const routed = await run(workers, false);
      const laned = await run(workers, true);
      expect(routed.laneJobs).toEqual([0, 0]);
      expect(laned.laneJobs.every((n) => n > 0)).toBe(true);
      expect(laned.scans).toBeGreaterThan(10);
      expect(laned.json).toBe(routed.json);
    }
  });

  it('a parse thread waiting for room stops once the run stopped, rather than wait for batches no shard will count', async () => {
    const { path, text, parseChunk } = await textFile(3000);
    const { port1, port2 } = new MessageChannel();
    port1.on('message', () => {});
    const inflight = new Int32Array(new SharedArrayBuffer(INFLIGHT_BYTES));
    Atomics.store(inflight, INFLIGHT, 5); // at the limit: no shard will lower it
    Atomics.store(inflight, RUN_STOPPED, 1);
    const task = {
      fileIndex: 0, chunkIndex: 0, mode: 'range', start: 0, end: text.length, path, display: path, format: 'aws-text', gzip: false,
      account: '', region: '', notAfter: 0, shards: 1, batchSize: 256, maxRejects: 10, maxLineBytes: 1 << 20,
      maxDecompressedBytes: 1 << 30, lateBefore: 0, windowSeconds: 21600, lanes: [port2], inflight: inflight.buffer, inflightLimit: 5,
    } as any;
    const outcome = await Promise.resolve()
      .then(() => parseChunk(task))
      .then((r: any) => r.error?.message ?? 'finished', (err: Error) => err.message);
    port1.close();
    expect(outcome).toMatch(/the run stopped/);
  });

  it('a shard thread that stops between ingests fails the run instead of finalising without its records', async () => {
    const dir = tempDir();
    writeTwoIngests(dir, T0);
    const e = engine(2);
    try {
      await e.ingest([join(dir, 'a.log')]);
      const pool = (e as any).shardPools[1];
      const [thread] = pool.threads;
      const exited = new Promise((resolve) => thread.once('exit', resolve));
      await thread.terminate(); // no error, no task running: piscina only starts a fresh thread
      await exited;
      await new Promise((r) => setImmediate(r));
      await expect(e.ingest([join(dir, 'b.log')])).rejects.toThrow(/a shard thread stopped before the run's end/);
      await expect(e.finalize()).rejects.toThrow(/a shard thread stopped/);
    } finally {
      await e.close();
    }
  });
});

