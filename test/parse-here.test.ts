/**
 * One large plain AWS text file at one worker: the main thread parses it (src/engine/parse-here.ts)
 * and routes its batches to the shard threads, with no parse thread. Its results must be those
 * of the parse thread (FLOWSIEVE_PARSE_HERE=off) and of more workers, whatever the batch size
 * (small batches fill the in-flight limit, where the parse waits for the shard) and the ranges.
 */
import { describe, expect, it } from 'vitest';
import { restoreEnvAfterEach } from './helpers/env.js';
import { closeSync, ftruncateSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { seeded } from './helpers/damage.js';
import { scanner, shuffled, v2Line, V2_HEADER, type Flow } from './helpers/aws.js';
import { HERE_BATCH_MIN_BYTES, HERE_BATCH_RECORDS, parseHereMayApply, parsesHereFits, shardThreads, withHereBatches } from '../dist/src/engine/parse-here.js';
import { DEFAULT_RUN } from '../dist/src/engine/types.js';

/** Scanners (one reaching more endpoints than the next), benign clients, a few damaged lines. */
function text(): string {
  const rnd = seeded(1717);
  const flows: Flow[] = [];
  for (let k = 0; k < 30; k++) flows.push(...scanner(`45.9.${k}.7`, 4 + k, { start: 1709280000 + k * 60, dport: [22, 445, 3389][k % 3]! }));
  for (let i = 0; i < 3000; i++) flows.push({ src: `80.${rnd(200)}.${rnd(250)}.${1 + rnd(250)}`, dst: `10.0.0.${1 + rnd(20)}`, dport: 443, start: 1709280000 + rnd(20000), action: 'ACCEPT' });
  const lines = shuffled(flows.map(v2Line), 17);
  for (let i = 0; i < 4; i++) lines.splice(100 + i * 700, 0, '2 123456789012 eni-x ' + 'y'.repeat(i + 1));
  return [V2_HEADER, ...lines].join('\n') + '\n';
}

/** What a run writes, less what depends on the machine (time, memory). */
function canon(r: any): string {
  return JSON.stringify({
    scans: r.scans, near: r.nearMisses, days: r.endpointDays, alerts: r.alerts, findings: r.findings,
    files: r.files, totals: r.totals, rejects: r.rejects, keys: r.keys, entries: r.entries, partial: r.partial, bytesIn: r.bytesIn,
  });
}

describe('the main thread parses one large plain AWS text file', () => {
  restoreEnvAfterEach('FLOWSIEVE_PARSE_HERE');

  it('gives the results of the parse thread, at one worker and more', async () => {
    const file = join(tempDir(), 'flows.log');
    writeFileSync(file, text());
    const common = { pipeline: 'sharded', chunkBytes: 32768 }; // sharded: this small file is not read fused; several ranges
    process.env.FLOWSIEVE_PARSE_HERE = 'off';
    const thread = await runDetect([file], { ...common, workers: 1 });
    expect(thread.parsedHere).toBe(false);
    expect(thread.scans.length).toBeGreaterThan(10);
    expect(thread.rejects.length).toBeGreaterThan(0);
    expect(canon(await runDetect([file], { ...common, workers: 2 }))).toBe(canon(thread));
    process.env.FLOWSIEVE_PARSE_HERE = 'always';
    for (const batchSize of [32768, 64]) {
      const here = await runDetect([file], { ...common, workers: 1, batchSize });
      expect(here.parsedHere, `batch ${batchSize}`).toBe(true);
      expect(canon(here), `batch ${batchSize}`).toBe(canon(thread));
    }
    for (const workers of [2, 3]) {
      const here = await runDetect([file], { ...common, workers, batchSize: 256 });
      expect(here.parsedHere, `${workers} workers`).toBe(true);
      expect(canon(here), `${workers} workers`).toBe(canon(thread));
    }
    // at the default size threshold this file is too small
    delete process.env.FLOWSIEVE_PARSE_HERE;
    expect((await runDetect([file], { ...common, workers: 1 })).parsedHere).toBe(false);
  });

  it('reads the file in one range where a parse thread takes two (not cut at the early flushes, PARSE_HERE_RANGE_BYTES), with the same results', async () => {
    const file = join(tempDir(), 'flows.log');
    writeFileSync(file, text());
    // the ranges chosen for the parse threads (no --chunk-size), of 32 KiB at least: a parse thread's first ends at 90 %
    // (the piece after 97 % is under 32 KiB: it stays with the one before)
    const common = { pipeline: 'sharded', textRanges: true, chunkBytes: 32768, workers: 1 };
    const tasks = async () => {
      let n = 0;
      const r = await runDetect([file], { ...common, onProgress: () => n++ });
      return { r, n };
    };
    process.env.FLOWSIEVE_PARSE_HERE = 'off';
    const thread = await tasks();
    expect(thread.n).toBe(2);
    process.env.FLOWSIEVE_PARSE_HERE = 'always';
    const here = await tasks();
    expect(here.r.parsedHere).toBe(true);
    expect(here.n).toBe(1);
    expect(canon(here.r)).toBe(canon(thread.r));
  });

  it('applies to one large plain file, at one parser or on two cores, planned as AWS text alone', () => {
    const dir = tempDir();
    const plain = join(dir, 'a.log');
    writeFileSync(plain, 'x\n');
    const gz = join(dir, 'b.log.gz');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 8, 0]));
    const big = join(dir, 'big.log');
    writeFileSync(big, Buffer.alloc((16 << 20) + 1, 10)); // past the small input's size
    const opts = { workers: 1, inputs: [big], chunkBytes: 1 << 20, pipeline: undefined, shardOp: undefined };
    expect(parseHereMayApply(opts as never, 16)).toBe(true);
    // more workers: on two cores (one parser keeps them busy), not on more, nor with parse threads asked for
    expect(parseHereMayApply({ ...opts, workers: 2 } as never, 2)).toBe(true);
    expect(parseHereMayApply({ ...opts, workers: 2 } as never, 16)).toBe(false);
    expect(parseHereMayApply({ ...opts, workers: 2, parseThreads: 2 } as never, 2)).toBe(false);
    expect(parseHereMayApply({ ...opts, workers: 2, parseThreads: 1 } as never, 16)).toBe(true);
    expect(parseHereMayApply({ ...opts, inputs: [plain] } as never, 16)).toBe(false); // a small input
    process.env.FLOWSIEVE_PARSE_HERE = 'always';
    opts.inputs = [plain];
    expect(parseHereMayApply(opts as never)).toBe(true);
    expect(parseHereMayApply({ ...opts, workers: 4 } as never, 16)).toBe(true);
    expect(parseHereMayApply({ ...opts, inputs: [gz] } as never)).toBe(false);
    expect(parseHereMayApply({ ...opts, inputs: [dir] } as never)).toBe(false);
    expect(parseHereMayApply({ ...opts, inputs: [plain, plain] } as never)).toBe(false);
    expect(parseHereMayApply({ ...opts, pipeline: 'fused' } as never)).toBe(false);
    process.env.FLOWSIEVE_PARSE_HERE = 'off';
    expect(parseHereMayApply({ ...opts, inputs: [big] } as never)).toBe(false);
    const aws = { path: plain, format: 'aws-text', gzip: false } as never;
    expect(parsesHereFits([aws], false)).toBe(true);
    expect(parsesHereFits([{ path: plain, format: 'netflow-v5', gzip: false } as never], true)).toBe(false);
    expect(parsesHereFits([{ path: gz, format: 'aws-text', gzip: true } as never], true)).toBe(false);
    expect(parsesHereFits([aws, { path: 'x', error: 'missing' } as never], false)).toBe(true);
    expect(parsesHereFits([], true)).toBe(false);
  });

  it('keeps one shard thread where it parses one large file on two cores at more workers, the workers asked for elsewhere', () => {
    const dir = tempDir();
    const big = join(dir, 'big.log');
    writeFileSync(big, Buffer.alloc((16 << 20) + 1, 10)); // past the small input's size
    const plain = join(dir, 'a.log');
    writeFileSync(plain, 'x\n');
    const opts = { workers: 2, inputs: [big], chunkBytes: 1 << 20, pipeline: undefined, shardOp: undefined };
    expect(shardThreads(opts as never, 2)).toBe(1);
    expect(shardThreads({ ...opts, workers: 3 } as never, 1)).toBe(1);
    expect(shardThreads({ ...opts, workers: 1 } as never, 2)).toBe(1);
    // more cores, parse threads asked for, a small file, two inputs, the fused pipeline: the workers asked for
    expect(shardThreads(opts as never, 4)).toBe(2);
    expect(shardThreads({ ...opts, parseThreads: 1 } as never, 2)).toBe(2);
    expect(shardThreads({ ...opts, inputs: [plain] } as never, 2)).toBe(2);
    expect(shardThreads({ ...opts, inputs: [big, big] } as never, 2)).toBe(2);
    expect(shardThreads({ ...opts, pipeline: 'fused' } as never, 2)).toBe(2);
    expect(shardThreads({ ...opts, spill: false } as never, 2)).toBe(2); // what it drops depends on the shards
    // past --max-memory each shard's outbound table drops past its share of the limit, spilling or not
    expect(shardThreads({ ...opts, maxMemory: 4 << 20 } as never, 2)).toBe(2);
    expect(shardThreads({ ...opts, maxMemory: 4 << 20, spill: true } as never, 2)).toBe(2);
    // a replay file: its shards read their own blocks, one on each core
    const replay = join(dir, 'big.fsr');
    writeFileSync(replay, Buffer.concat([Buffer.from('FSREPLAY', 'latin1'), Buffer.alloc(16 << 20, 10)]));
    expect(shardThreads({ ...opts, inputs: [replay] } as never, 2)).toBe(2);
    // the switches of the A/B runs and the tests: off parses in threads; always keeps every shard of a run parsed here
    process.env.FLOWSIEVE_PARSE_HERE = 'off';
    expect(shardThreads(opts as never, 2)).toBe(2);
    process.env.FLOWSIEVE_PARSE_HERE = 'always';
    expect(shardThreads(opts as never, 2)).toBe(2);
  });

  it('fills larger batches where it parses a file of HERE_BATCH_MIN_BYTES or more at the default batch size', () => {
    const dir = tempDir();
    const huge = join(dir, 'huge.log');
    const fd = openSync(huge, 'w');
    ftruncateSync(fd, HERE_BATCH_MIN_BYTES); // sparse: no bytes written
    closeSync(fd);
    const big = join(dir, 'big.log');
    writeFileSync(big, Buffer.alloc((16 << 20) + 1, 10)); // parsed here, below the least
    const opts = { workers: 1, inputs: [huge], chunkBytes: 1 << 20, batchSize: DEFAULT_RUN.batchSize, pipeline: undefined, shardOp: undefined };
    expect(withHereBatches(opts as never, 2).batchSize).toBe(HERE_BATCH_RECORDS);
    expect(withHereBatches({ ...opts, workers: 2 } as never, 2).batchSize).toBe(HERE_BATCH_RECORDS);
    expect(withHereBatches({ ...opts, batchSize: 64 } as never, 2).batchSize).toBe(64); // a size given is kept
    expect(withHereBatches({ ...opts, inputs: [big] } as never, 2).batchSize).toBe(DEFAULT_RUN.batchSize);
    expect(withHereBatches({ ...opts, workers: 2 } as never, 16).batchSize).toBe(DEFAULT_RUN.batchSize); // parse threads there
    process.env.FLOWSIEVE_PARSE_HERE = 'off';
    expect(withHereBatches(opts as never, 2).batchSize).toBe(DEFAULT_RUN.batchSize);
  });
});
