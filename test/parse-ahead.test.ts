// A parse thread handed its next 'files' task while it runs one starts inflating that task's
// first gzip files during its own last ones (workers/parse.ts nextTaskFiles): each task still reads
// exactly its own files, and a file inflated ahead is taken only by the task it was inflated
// for, so a later task reading the same path reads what the file holds then.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { MessageChannel } from 'node:worker_threads';
import { writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';

const T0 = 1_700_000_000;

/** n default-v2 lines from sources of the first octet `octet`, varied enough that the gzip file is inflated ahead (32 KiB or more). */
function lines(octet: number, n: number): string {
  return Array.from({ length: n }, (_, k) => `2 123456789010 eni-${(k * 7919) % 100003} ${octet}.${k % 7}.${(k * 31) % 251}.${k % 200} 172.31.${(k * 13) % 256}.${k & 255} ${40000 + ((k * 7) % 20000)} 22 6 ${k % 97} ${(k * 977) % 100000} ${T0 + k} ${T0 + k + (k % 60)} REJECT OK`).join('\n') + '\n';
}

describe('a parse thread inflating the next task\'s first file ahead', () => {
  it('reads every task\'s own files, and never hands a file inflated ahead to a later task', async () => {
    const dir = tempDir();
    const { default: parseChunk } = await import('../dist/workers/parse.js');
    const { port1, port2 } = new MessageChannel();
    const firstOctets: number[] = [];
    port1.on('message', (m) => {
      for (let i = 0; i < m.batch.n; i++) firstOctets.push(m.batch.src[i * 4 + 3] >>> 24);
    });
    const write = (name: string, octet: number, n: number) => {
      const path = join(dir, name);
      const gz = gzipSync(lines(octet, n));
      writeFileSync(path, gz);
      return { path, size: gz.length };
    };
    const filesTask = (files: { path: string; size: number }[]) =>
      ({
        fileIndex: 0, chunkIndex: 0, mode: 'files', start: 0, end: 0, path: files[0]!.path, display: files[0]!.path, format: 'aws-text', gzip: true,
        account: '', region: '', notAfter: 0, shards: 1, batchSize: 512, maxRejects: 10, maxLineBytes: 1 << 20,
        maxDecompressedBytes: 1 << 30, lateBefore: 0, windowSeconds: 21600, port: port2, inflight: new SharedArrayBuffer(4), inflightLimit: 1000,
        files: files.map((f, k) => ({ fileIndex: k, path: f.path, display: f.path, format: 'aws-text', gzip: true, size: f.size, account: '', region: '', notAfter: 0 })),
      }) as any;
    const a1 = write('a1.log.gz', 41, 5000);
    const a2 = write('a2.log.gz', 42, 5000);
    const b1 = write('b1.log.gz', 43, 6000);
    const b2 = write('b2.log.gz', 44, 4000);
    expect(Math.min(a2.size, b1.size), 'large enough to be inflated ahead (read.ts AHEAD_MIN_BYTES)').toBeGreaterThanOrEqual(32 << 10);
    // handed at once, as the engine's one parse thread is: b1 inflates while a2 is parsed
    const [a, b] = await Promise.all([parseChunk(filesTask([a1, a2])), parseChunk(filesTask([b1, b2]))]);
    expect(a.batches + b.batches).toBeGreaterThan(0);
    // b1 rewritten: a task reading it now reads its new lines, not those inflated for the task before
    const again = write('b1.log.gz', 45, 3000);
    await parseChunk(filesTask([again]));
    await new Promise((r) => setTimeout(r, 50));
    port1.close();
    const runsOf = firstOctets.filter((o, i) => i === 0 || o !== firstOctets[i - 1]);
    expect(runsOf).toEqual([41, 42, 43, 44, 45]);
    const count = (o: number) => firstOctets.filter((x) => x === o).length;
    expect([41, 42, 43, 44, 45].map(count)).toEqual([5000, 5000, 6000, 4000, 3000]);
  });
});
