// A parse thread handed several tasks at once (the engine's one parse thread gets its next
// task while it parses one: src/engine/run.ts parsePool) parses them in turn, each whole
// before the next begins, and a task that fails does not stop the ones after it.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';

const T0 = 1_700_000_000;

/** n default-v2 lines from sources of the first octet `octet`. */
function lines(octet: number, n: number): string {
  return Array.from({ length: n }, (_, k) => `2 123456789010 eni-1 ${octet}.${k % 7}.3.${k % 200} 172.31.0.${k & 255} ${40000 + k} 22 6 2 80 ${T0 + k} ${T0 + k + 5} REJECT OK`).join('\n') + '\n';
}

describe('parse tasks of one thread', () => {
  it('run in turn when handed at once, a failed task reported by its own promise only', async () => {
    const dir = tempDir();
    const { default: parseChunk } = await import('../dist/workers/parse.js');
    const { port1, port2 } = new MessageChannel();
    const firstOctets: number[] = [];
    // batches arrive in the order they were posted; each task's sources have their own first octet
    port1.on('message', (m) => {
      for (let i = 0; i < m.batch.n; i++) firstOctets.push(m.batch.src[i * 4 + 3] >>> 24);
    });
    const task = (octet: number, n: number, extra: object = {}) => {
      const path = join(dir, `${octet}.log`);
      const text = lines(octet, n);
      writeFileSync(path, text);
      return {
        fileIndex: 0, chunkIndex: 0, mode: 'range', start: 0, end: text.length, path, display: path, format: 'aws-text', gzip: false,
        account: '', region: '', notAfter: 0, shards: 1, batchSize: 512, maxRejects: 10, maxLineBytes: 1 << 20,
        maxDecompressedBytes: 1 << 30, lateBefore: 0, windowSeconds: 21600, port: port2, inflight: new SharedArrayBuffer(4), inflightLimit: 1000,
        ...extra,
      } as any;
    };
    const runs = [
      parseChunk(task(45, 3000)),
      parseChunk(task(46, 700, { mode: 'files', files: null })), // a 'files' task without its list: it fails
      parseChunk(task(47, 1500)),
      parseChunk(task(48, 2000)),
    ];
    const settled = await Promise.allSettled(runs);
    await new Promise((r) => setTimeout(r, 50));
    port1.close();
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    const inbound = settled.map((s) => (s.status === 'fulfilled' ? s.value.counters.inbound : -1));
    expect(inbound).toEqual([3000, -1, 1500, 2000]);
    // every record of a task posted before any of the next: no two tasks ran interleaved
    const runsOf = firstOctets.filter((o, i) => i === 0 || o !== firstOctets[i - 1]);
    expect(runsOf).toEqual([45, 47, 48]);
    expect(firstOctets.length).toBe(6500);
  });
});
