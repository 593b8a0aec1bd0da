/**
 * A parse thread inflates the next gzip files of its 'files' task on libuv's thread pool while
 * it parses one (input/read.ts inflateAhead, workers/parse.ts inflateNext): up to AHEAD_FILES
 * of them, within AHEAD_BYTES of inflated text (the first always), in the order they will be
 * parsed, and past its task's end the first files of the task the thread runs next, which
 * the task's end keeps (dropInflatedAhead). A file taken is its content whatever the order of
 * the takes; one that fails on the pool comes back as nothing and is read as any file; none
 * is left behind after the tasks.
 */
import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { gunzipSync, gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { AHEAD_BYTES, AHEAD_FILES, dropInflatedAhead, inflateAhead, inflatedAheadNow, takeInflatedAhead, wholeGzipInflater } from '../dist/src/input/read.js';

const dir = tempDir('flowsieve-inflate-ahead-');
const native = wholeGzipInflater() === 'libdeflate';
const T0 = 1_700_000_000;
const BOUND = 1 << 30;

/** n default-v2 lines from sources of the first octet `octet`, of varied fields (> 32 KiB gzipped from ~2,000 lines). */
function lines(octet: number, n: number): string {
  let x = octet * 2654435761 + 1;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8);
  return (
    Array.from({ length: n }, (_, k) => `2 123456789010 eni-${next() % 999} ${octet}.${next() % 256}.${next() % 256}.${k % 250} 172.31.${next() % 256}.${next() % 256} ${next() % 65536} ${next() % 1024} 6 ${1 + (next() % 99)} ${40 + (next() % 9999)} ${T0 + (k % 3000)} ${T0 + (k % 3000) + 5} REJECT OK`).join('\n') + '\n'
  );
}

function gzFile(name: string, bytes: Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return path;
}

describe.skipIf(!native)('files inflated ahead', () => {
  it('start in order up to AHEAD_FILES, and each is its file whatever the order it is taken in', async () => {
    dropInflatedAhead();
    const texts = Array.from({ length: AHEAD_FILES + 1 }, (_, i) => Buffer.from(lines(40 + i, 3000)));
    const paths = texts.map((t, i) => gzFile(`order-${i}.log.gz`, gzipSync(t)));
    const started = paths.map((p, i) => inflateAhead(p, BOUND, gzipSync(texts[i]!).length));
    expect(started).toEqual([...Array(AHEAD_FILES).fill(true), false]); // no room for one more
    expect(inflatedAheadNow().files).toBe(AHEAD_FILES);
    // taken out of the order they started in: the last first
    const order = [AHEAD_FILES - 1, ...Array.from({ length: AHEAD_FILES - 1 }, (_, i) => i)];
    for (const i of order) {
      const got = await takeInflatedAhead(paths[i]!, BOUND);
      expect(got?.text.equals(texts[i]!), `file ${i}`).toBe(true);
    }
    expect(inflatedAheadNow()).toMatchObject({ files: 0, bytes: 0 });
    expect(inflateAhead(paths[AHEAD_FILES]!, BOUND, gzipSync(texts[AHEAD_FILES]!).length), 'room again').toBe(true);
    expect((await takeInflatedAhead(paths[AHEAD_FILES]!, BOUND))?.text.equals(texts[AHEAD_FILES]!)).toBe(true);
  });

  it('hold at most AHEAD_BYTES of text ahead, and one file more', async () => {
    dropInflatedAhead();
    // ~13 MiB of text each from ~60 KiB of gzip: two pass AHEAD_BYTES (24 MiB)
    const big = (i: number) => Buffer.concat([Buffer.from(lines(50 + i, 2500)), Buffer.alloc(13 << 20, 0x20 + i)]);
    const texts = [0, 1, 2].map(big);
    const gz = texts.map((t) => gzipSync(t));
    const paths = gz.map((g, i) => gzFile(`large-${i}.log.gz`, g));
    expect(paths.map((p, i) => inflateAhead(p, BOUND, gz[i]!.length))).toEqual([true, true, false]);
    const now = inflatedAheadNow();
    expect(now.files).toBe(2);
    expect(now.bytes).toBe(texts[0]!.length + texts[1]!.length);
    expect(now.bytes).toBeLessThan(AHEAD_BYTES + texts[1]!.length);
    expect((await takeInflatedAhead(paths[0]!, BOUND))?.text.equals(texts[0]!)).toBe(true);
    expect(inflatedAheadNow().bytes).toBe(texts[1]!.length);
    dropInflatedAhead();
    expect(inflatedAheadNow()).toMatchObject({ files: 0, bytes: 0 });
  });

  it("a task's end drops the files ahead but those of the next task", async () => {
    dropInflatedAhead();
    const texts = [Buffer.from(lines(60, 3000)), Buffer.from(lines(61, 3000))];
    const paths = texts.map((t, i) => gzFile(`keep-${i}.log.gz`, gzipSync(t)));
    paths.forEach((p, i) => expect(inflateAhead(p, BOUND, gzipSync(texts[i]!).length)).toBe(true));
    dropInflatedAhead(new Set([paths[1]!]));
    expect(takeInflatedAhead(paths[0]!, BOUND), 'dropped').toBeUndefined();
    expect((await takeInflatedAhead(paths[1]!, BOUND))?.text.equals(texts[1]!), 'kept for the next task').toBe(true);
  });

  it('a file truncated or damaged comes back as nothing; the next files are still theirs', async () => {
    dropInflatedAhead();
    const texts = [0, 1, 2].map((i) => Buffer.from(lines(70 + i, 3000)));
    const gz = texts.map((t) => gzipSync(t));
    const damaged = Buffer.from(gz[1]!);
    damaged.fill(0xff, 4000, 4010);
    const bad = [gz[0]!.subarray(0, gz[0]!.length - 50), damaged];
    const paths = [gzFile('bad-0.log.gz', bad[0]!), gzFile('bad-1.log.gz', bad[1]!), gzFile('bad-2.log.gz', gz[2]!)];
    const sizes = [bad[0]!.length, bad[1]!.length, gz[2]!.length];
    paths.forEach((p, i) => inflateAhead(p, BOUND, sizes[i]!));
    expect(await takeInflatedAhead(paths[0]!, BOUND) ?? null, 'truncated').toBeNull();
    expect(await takeInflatedAhead(paths[1]!, BOUND) ?? null, 'damaged').toBeNull();
    expect((await takeInflatedAhead(paths[2]!, BOUND))?.text.equals(texts[2]!)).toBe(true);
    expect(() => gunzipSync(bad[1]!)).toThrow(); // the reader reports it as zlib does
  });

  it("a thread's task inflates the first files of its next task, which parses them as its own", async () => {
    dropInflatedAhead();
    // the worker's bundle holds its own read.ts: its counts are asked of it
    const { default: parseChunk, inflatedAheadNow: threadAhead } = await import('../dist/workers/parse.js');
    const { port1, port2 } = new MessageChannel();
    const octets: number[] = [];
    port1.on('message', (m) => {
      for (let i = 0; i < m.batch.n; i++) octets.push(m.batch.src[i * 4 + 3] >>> 24);
    });
    const n = [2500, 2600, 2700, 2800, 2900];
    const texts = n.map((k, i) => lines(80 + i, k));
    const gz = texts.map((t) => gzipSync(t));
    // the third file (the second task's first) is damaged, its trailer whole: inflated ahead it fails, and its reader reports it
    gz[2] = Buffer.from(gz[2]!);
    gz[2].fill(0xff, 3000, 3010);
    const files = gz.map((g, i) => ({
      fileIndex: i, path: gzFile(`task-${i}.log.gz`, g), display: `task-${i}.log.gz`, format: 'aws-text', gzip: true, size: g.length,
      account: '', region: '', notAfter: 0, sniffInThread: true,
    }));
    const task = (list: typeof files) =>
      ({
        fileIndex: list[0]!.fileIndex, chunkIndex: 0, mode: 'files', files: list, start: 0, end: 0, path: '', display: '', format: 'aws-text', gzip: true,
        account: '', region: '', notAfter: 0, shards: 1, batchSize: 512, maxRejects: 10, maxLineBytes: 1 << 20,
        maxDecompressedBytes: BOUND, lateBefore: 0, windowSeconds: 21600, port: port2, inflight: new SharedArrayBuffer(4), inflightLimit: 1000,
      }) as any;
    const before = threadAhead();
    const results = await Promise.all([parseChunk(task(files.slice(0, 2))), parseChunk(task(files.slice(2)))]);
    await new Promise((r) => setTimeout(r, 50));
    port1.close();
    const after = threadAhead();
    // started ahead: the first task's second file, and the second task's three (its first by the first task)
    expect(after.started - before.started).toBe(4);
    expect(after.taken - before.taken).toBe(4);
    expect(after).toMatchObject({ files: 0, bytes: 0 });
    const { unpackFiles } = await import('../dist/src/engine/file-results.js');
    const reports = results.flatMap((r) => unpackFiles(r.packedFiles!));
    expect(reports.map((r) => r.fileIndex)).toEqual([0, 1, 2, 3, 4]);
    expect(reports.map((r) => r.counters.inbound)).toEqual([n[0], n[1], reports[2]!.counters.inbound, n[3], n[4]]);
    expect(reports[2]!.error?.message ?? reports[2]!.replan, 'the damaged file is reported').toBeTruthy();
    // each file's records in file order, whole
    const runs = octets.filter((o, i) => i === 0 || o !== octets[i - 1]);
    expect(runs).toEqual([80, 81, ...(reports[2]!.counters.inbound > 0 ? [82] : []), 83, 84]);
  });
});
