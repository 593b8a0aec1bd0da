import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { BatchRing, createBatchRing, releaseBatch } from '../dist/src/flow/batch-ring.js';
import { BATCH_BYTES_PER_RECORD, allocBatch, packStrings, unpackStrings } from '../dist/src/flow/batch.js';
import { FlowSink } from '../dist/src/flow/sink.js';
import { awsText } from '../dist/src/formats/aws.js';
import { Engine, DEFAULT_RUN } from '../dist/src/engine/run.js';
import { DEFAULT_THRESHOLDS } from '../dist/src/detect/rules.js';
import { DEFAULT_OUTBOUND } from '../dist/src/engine/outbound-table.js';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { writeTwoIngests } from './helpers/aws.js';

const T0 = 1700006400;

/** A ring made with FLOWSIEVE_RING_MEMORY set so ('off': a plain SharedArrayBuffer). */
function withRingMemory<T>(value: string, make: () => T): T {
  const before = process.env.FLOWSIEVE_RING_MEMORY;
  process.env.FLOWSIEVE_RING_MEMORY = value;
  try {
    return make();
  } finally {
    if (before === undefined) delete process.env.FLOWSIEVE_RING_MEMORY;
    else process.env.FLOWSIEVE_RING_MEMORY = before;
  }
}

function line(src: string, k: number): string {
  return `2 123456789010 eni-1 ${src} 172.31.0.${k & 255} ${40000 + k} 22 6 2 80 ${T0 + k} ${T0 + k + 5} REJECT OK`;
}

describe('batch ring', () => {
  it('gives ring and private batches the same fields in the same order, as a clone keeps them', () => {
    // the order is the shape other threads build from a posted batch (structured clone adds the
    // fields in this order): batch.ts FlowBatch assigns them as the object literal it replaced did
    const fields = ['n', 'feed', 'src', 'dst', 'proto', 'sport', 'dport', 'tcpFlags', 'packets', 'bytes', 'start', 'end', 'cloud', 'action', 'direction', 'account', 'region', 'iface', 'instance', 'feeds', 'strings', 'packedStrings', 'ring'];
    const ring = new BatchRing(createBatchRing(1, 64));
    const own = allocBatch(64);
    const slot = ring.take(64)!;
    expect(Object.keys(own)).toEqual(fields);
    expect(Object.keys(slot)).toEqual(fields);
    expect(Object.keys(structuredClone(own))).toEqual(fields);
    expect(own.src.length).toBe(256);
    expect([own.n, own.feeds, own.strings, own.ring]).toEqual([0, 3, [''], undefined]);
  });

  it('names the bytes of its first slots, the ones a run takes first (backed ahead by parse-here.ts), never past its end', () => {
    for (const memory of ['on', 'off']) {
      const shared = withRingMemory(memory, () => createBatchRing(3, 100));
      const ring = new BatchRing(shared);
      const stride = Math.ceil((100 * BATCH_BYTES_PER_RECORD) / 8) * 8;
      // the slots start at `at` (past a page of a ring's WebAssembly memory, 0 in a plain buffer)
      expect(shared.at).toBe(memory === 'on' ? 65536 : 0);
      expect(ring.firstSlots(2)).toEqual([shared.at, 2 * stride]);
      expect(ring.firstSlots(9)).toEqual([shared.at, 3 * stride]);
      expect(shared.at + 3 * stride).toBeLessThanOrEqual(shared.data.byteLength);
      // the lowest free slot is taken: the first two batches lie in the bytes named for two slots
      const a = ring.take(100)!;
      const b = ring.take(100)!;
      for (const batch of [a, b]) {
        expect(batch.feed.byteOffset).toBeGreaterThanOrEqual(shared.at);
        expect(batch.feed.byteOffset + batch.feed.byteLength).toBeLessThanOrEqual(shared.at + 2 * stride);
      }
      releaseBatch(a);
      expect(ring.take(100)!.feed.byteOffset).toBe(a.feed.byteOffset);
    }
  });

  it('packs a batch\'s strings into one for a message and unpacks them as they were: long, empty-looking, non-Latin-1', () => {
    const strings = ['', 'eni-0a1b2c3d4e5f60718', '123456789012', 'x', 'üñí €', 'a'.repeat(300), '\u0000\n', 'b'.repeat(70000)];
    const table = strings.slice(0, 7).concat(Array.from({ length: 60 }, (_, i) => `eni-${i}`));
    const b = allocBatch(8);
    b.strings = table.slice();
    packStrings(b);
    expect(b.strings).toEqual(['']);
    expect(typeof b.packedStrings).toBe('string');
    const clone = structuredClone(b);
    unpackStrings(clone);
    expect(clone.strings).toEqual(table);
    expect(clone.packedStrings).toBe('');
    unpackStrings(clone); // not packed now: nothing to do
    expect(clone.strings).toEqual(table);
    // a string longer than a code unit counts: the table stays an array
    const long = allocBatch(8);
    long.strings = table.concat(strings.slice(7));
    packStrings(long);
    expect([long.strings, long.packedStrings]).toEqual([table.concat(strings.slice(7)), '']);
    // a small table (an Azure or GCP batch's) travels as an array
    const few = allocBatch(8);
    few.strings = strings.slice(0, 7);
    packStrings(few);
    expect([few.strings, few.packedStrings]).toEqual([strings.slice(0, 7), '']);
  });

  it('hands out the lowest free slot, none when all are taken, and takes a slot back', () => {
    const ring = new BatchRing(createBatchRing(3, 100));
    const a = ring.take(100)!;
    const b = ring.take(10)!;
    const c = ring.take(50)!;
    expect([a.ring!.slot, b.ring!.slot, c.ring!.slot]).toEqual([0, 1, 2]);
    expect(ring.take(1)).toBeNull();
    expect(ring.taken()).toBe(3);
    releaseBatch(b);
    expect(b.ring).toBeUndefined();
    releaseBatch(b); // twice: nothing more
    expect(ring.taken()).toBe(2);
    expect(ring.take(20)!.ring!.slot).toBe(1);
    expect(ring.take(101)).toBeNull(); // larger than a slot
  });

  it("keeps each slot's columns apart (writing one batch does not touch its neighbours)", () => {
    const ring = new BatchRing(createBatchRing(2, 64));
    const a = ring.take(64)!;
    const b = ring.take(64)!;
    b.packets.fill(7);
    b.instance.fill(9);
    a.packets.fill(1);
    a.instance.fill(2);
    a.direction.fill(3);
    expect([...b.packets].every((x) => x === 7)).toBe(true);
    expect([...b.instance].every((x) => x === 9)).toBe(true);
    expect(b.direction.every((x) => x === 0)).toBe(true);
  });

  it('a sink on a ring posts batches in slots, falls back to private batches when the ring is full, and frees unused slots at the end', () => {
    const shared = createBatchRing(3, 64);
    const ring = new BatchRing(shared);
    const posted: any[] = [];
    const sink = new FlowSink({ shards: 2, batchSize: 64, maxRejectsKept: 10, alloc: (c: number) => ring.take(c) }, (_s: number, b: any) => posted.push(b));
    expect(ring.taken()).toBe(2); // one batch under construction per shard
    const parser = awsText.open({ sink, file: 't', account: '', region: '' } as any);
    const text = Array.from({ length: 500 }, (_, k) => line(`45.${k % 7}.3.${k % 200}`, k)).join('\n') + '\n';
    const buf = Buffer.from(text);
    parser.parseLines(buf, 0, buf.length, 1, 0);
    sink.flushAll();
    const records = posted.reduce((n, b) => n + b.n, 0);
    expect(records).toBe(sink.counters.inbound);
    expect(records).toBe(500);
    // the ring had 3 slots for many more batches: most batches were private
    expect(posted.filter((b) => b.ring).length).toBeGreaterThan(0);
    expect(posted.filter((b) => !b.ring).length).toBeGreaterThan(0);
    // every slot still taken belongs to a posted batch (no empty batch keeps one)
    expect(ring.taken()).toBe(posted.filter((b) => b.ring).length);
    for (const b of posted) releaseBatch(b);
    expect(ring.taken()).toBe(0);
  });

  it('a sink starts at firstBatch records (full size from a ring), else at 1024 growing fourfold', () => {
    const text = Array.from({ length: 6000 }, (_, k) => line(`45.${k % 7}.3.${k % 200}`, k)).join('\n') + '\n';
    const sizes = (extra: object) => {
      const posted: number[] = [];
      const sink = new FlowSink({ shards: 1, batchSize: 16384, maxRejectsKept: 10, ...extra }, (_s: number, b: any) => posted.push(b.n));
      const buf = Buffer.from(text);
      awsText.open({ sink, file: 't', account: '', region: '' } as any).parseLines(buf, 0, buf.length, 1, 0);
      sink.flushAll();
      return posted;
    };
    expect(sizes({})).toEqual([1024, 4096, 880]);
    const ring = new BatchRing(createBatchRing(4, 16384));
    expect(sizes({ alloc: (c: number) => ring.take(c), firstBatch: 16384 })).toEqual([6000]);
  });

  it('a parse task on a ring posts one message per shard per batchSize records', async () => {
    const dir = tempDir();
    const path = join(dir, 'a.log');
    // 100 accounts: each batch's string table is large enough to travel packed (PACK_STRINGS_FROM)
    const text = Array.from({ length: 3000 }, (_, k) => line(`45.${k % 7}.3.${k % 200}`, k).replace('123456789010', `1234567${String(k % 100).padStart(5, '0')}`)).join('\n') + '\n';
    writeFileSync(path, text);
    const { default: parseChunk } = await import('../dist/workers/parse.js');
    const { port1, port2 } = new MessageChannel();
    const messages: any[] = [];
    port1.on('message', (m) => messages.push(m));
    const shared = createBatchRing(8, 16384);
    const result = await parseChunk({
      fileIndex: 0, chunkIndex: 0, mode: 'range', start: 0, end: text.length, path, display: path, format: 'aws-text', gzip: false,
      account: '', region: '', notAfter: 0, shards: 2, batchSize: 16384, maxRejects: 10, maxLineBytes: 1 << 20,
      maxDecompressedBytes: 1 << 30, lateBefore: 0, windowSeconds: 21600, port: port2, inflight: new SharedArrayBuffer(4), inflightLimit: 100, ring: shared,
    } as any);
    await new Promise((r) => setTimeout(r, 50));
    port1.close();
    expect(result.counters.inbound).toBe(3000);
    expect(result.batches).toBe(2); // one a shard; without the ring's full-size start: 1024, 4096 and the rest, per shard
    expect(messages.length).toBe(2);
    expect(messages.reduce((n, m) => n + m.batch.n, 0)).toBe(3000);
    expect(messages.every((m) => m.batch.ring)).toBe(true);
    // the strings travel packed (the shard thread unpacks them): the accounts among them
    expect(messages.every((m) => m.batch.strings.length === 1 && m.batch.packedStrings !== '')).toBe(true);
    for (const m of messages) unpackStrings(m.batch);
    expect(messages.every((m) => m.batch.strings.length === 101 && m.batch.strings.includes('123456700042'))).toBe(true);
  });

  it('a slot freed in another thread is free here (the state words are shared)', async () => {
    const shared = createBatchRing(2, 16);
    const ring = new BatchRing(shared);
    const b = ring.take(16)!;
    b.start[3] = 12345;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const b = workerData;
      parentPort.postMessage(b.start[3]);
      Atomics.store(b.ring.state, b.ring.slot, 0);
      parentPort.postMessage('freed');
    `;
    const w = new Worker(code, { eval: true, workerData: b });
    const msgs: unknown[] = await new Promise((resolve, reject) => {
      const got: unknown[] = [];
      w.on('message', (m) => {
        got.push(m);
        if (m === 'freed') resolve(got);
      });
      w.on('error', reject);
    });
    await w.terminate();
    expect(msgs[0]).toBe(12345); // the worker read the slot's memory, not a copy made before
    expect(ring.taken()).toBe(0);
  });

  it('an engine frees every slot it used: ingest after ingest, verdicts as with large batches', async () => {
    const dir = tempDir();
    writeTwoIngests(dir, T0);
    const whole = await runDetect([dir]);
    expect(whole.scans.some((v: { accounts: number }) => v.accounts > 2)).toBe(true);
    const e = new Engine({
      inputs: [], workers: 2, windowSeconds: 21600, thresholds: { ...DEFAULT_THRESHOLDS }, nearMisses: true, outbound: { ...DEFAULT_OUTBOUND },
      ...DEFAULT_RUN, batchSize: 64,
    } as any);
    try {
      await e.ingest([join(dir, 'a.log')]);
      expect(e.ringSlotsTaken()).toBe(0);
      await e.ingest([join(dir, 'b.log')]);
      expect(e.ringSlotsTaken()).toBe(0);
      const fin = await e.finalize();
      expect(fin.scans.length).toBeGreaterThan(10);
      expect(JSON.stringify(fin.scans)).toBe(JSON.stringify(whole.scans));
      expect(JSON.stringify(fin.endpointDays)).toBe(JSON.stringify(whole.endpointDays));
    } finally {
      await e.close();
    }
  });
});
