/**
 * A parse thread reuses the memory of a gzip file it has read (compressed bytes and inflated
 * text) for its next files (input/file-buffers.ts). Reused too early, a file's text would be
 * overwritten by the next file's while it is parsed: the records of a bucket of gzip files of
 * many sizes (some inflated ahead on libuv's pool, read.ts inflateAhead) must be those of the
 * same text read as plain files.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { detectOpts } from './helpers/detect-opts.js';
import { scanner, v2Line, V2_HEADER, type Flow } from './helpers/aws.js';
import { detect } from '../dist/src/engine/run.js';
import { fileBuffer, freeFileBuffers, giveFileBuffer, KEPT_FILE_BUFFERS } from '../dist/src/input/file-buffers.js';
import { wholeGzipInflater } from '../dist/src/input/read.js';

const MIB = 1 << 20;
/** Linux with transparent huge pages compiled in and the module built: buffers of 2 MiB and more are laid on huge pages. */
const huge = process.platform === 'linux' && existsSync('/sys/kernel/mm/transparent_hugepage/enabled') && wholeGzipInflater() === 'libdeflate';

const T0 = 1718000000;
const dir = tempDir('flowsieve-file-buffers-');

/** `n` flows of varied fields (so that gzip cannot shrink them much), from a seed. */
function noise(n: number, seed: number): Flow[] {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0);
  return Array.from({ length: n }, () => ({
    src: `${(next() % 200) + 20}.${next() % 256}.${next() % 256}.${next() % 256}`,
    dst: `10.${next() % 4}.${next() % 256}.${next() % 256}`,
    sport: 1024 + (next() % 60000),
    dport: next() % 1024,
    packets: 1 + (next() % 90),
    bytes: 40 + (next() % 90000),
    start: T0 + (next() % 7200),
    action: next() % 2 ? 'ACCEPT' : 'REJECT',
  }));
}

/** Each file's text: its own scanner and noise, of sizes from a few lines to ~0.5 MB, and one of ~3 MB (its text on huge pages where the module can). */
const SIZES = [40, 6000, 300, 2500, 4000, 10, 1500, 5000, 700, 3000, 30000];
const texts = SIZES.map((n, i) =>
  [V2_HEADER, ...scanner(`45.9.${i}.1`, 12 + i, { start: T0 + i * 60, dport: 22 + i }), ...noise(n, i + 1)].map((f) => (typeof f === 'string' ? f : v2Line(f))).join('\n') + '\n',
);

let gz: Awaited<ReturnType<typeof detect>>;
let plain: Awaited<ReturnType<typeof detect>>;

beforeAll(async () => {
  mkdirSync(join(dir, 'gz'));
  mkdirSync(join(dir, 'plain'));
  texts.forEach((t, i) => {
    writeFileSync(join(dir, 'gz', `f${i}.log.gz`), gzipSync(t));
    writeFileSync(join(dir, 'plain', `f${i}.log`), t);
  });
  gz = await detect(detectOpts([join(dir, 'gz')]));
  plain = await detect(detectOpts([join(dir, 'plain')]));
}, 60_000);

describe('reused file buffers', () => {
  it('some files are large enough to be inflated ahead (32 KiB compressed and more)', () => {
    expect(texts.filter((t) => gzipSync(t).length >= 32 << 10).length).toBeGreaterThan(3);
  });

  it('give every gzip file the records and verdicts of its plain text', () => {
    expect(gz.totals.records).toBe(SIZES.reduce((a, n, i) => a + n + 12 + i, 0));
    expect(gz.totals).toEqual(plain.totals);
    const counters = (r: typeof gz) => Object.fromEntries(r.files.map((f) => [basename(f.path).replace(/\.gz$/, ''), f.counters]));
    expect(counters(gz)).toEqual(counters(plain));
    for (const f of gz.files) expect(f.decompressedBytes).toBe(Buffer.byteLength(texts[Number(/f(\d+)\.log\.gz$/.exec(f.path)![1])]!));
    expect(gz.scans.length).toBeGreaterThanOrEqual(SIZES.length);
    expect(gz.scans).toEqual(plain.scans);
  });

  it('hand a buffer given back to the next file that fits, and keep a bounded few', () => {
    const a = fileBuffer(100_000);
    expect(a.length).toBe(100_000);
    giveFileBuffer(a);
    const b = fileBuffer(90_000);
    expect(b.length).toBe(90_000);
    expect(b.buffer).toBe(a.buffer);
    const big = fileBuffer(32 << 20); // past the largest kept
    giveFileBuffer(big);
    expect(freeFileBuffers()).not.toContain(32 << 20);
    const held = Array.from({ length: KEPT_FILE_BUFFERS + 4 }, (_, i) => fileBuffer(200_000 + i * 70_000)); // all in hand at once: distinct buffers
    for (const h of held) giveFileBuffer(h);
    giveFileBuffer(b);
    giveFileBuffer(b); // twice: still one entry
    expect(freeFileBuffers().length).toBeLessThanOrEqual(KEPT_FILE_BUFFERS);
    expect(freeFileBuffers().filter((c) => c === b.buffer.byteLength).length).toBeLessThanOrEqual(1);
  });

  it('lay buffers of 2 MiB and more on huge pages where they can: the capacity asked usable, reused by what fits, not by what does not', () => {
    const a = fileBuffer(3 * MIB);
    expect(a.length).toBe(3 * MIB);
    if (huge) expect(a.buffer.byteLength).toBe(6 * MIB); // 4 MiB usable from a 2 MiB boundary, the 2 MiB before it never touched
    a.fill(7);
    giveFileBuffer(a);
    expect(freeFileBuffers()).toContain(4 * MIB);
    expect(freeFileBuffers()).not.toContain(6 * MIB);
    const b = fileBuffer(5 * MIB); // past a's capacity, whatever its memory's length
    expect(b.buffer).not.toBe(a.buffer);
    expect(b.length).toBe(5 * MIB);
    const c = fileBuffer(4 * MIB);
    expect(c.buffer).toBe(a.buffer);
    expect(c.byteOffset).toBe(a.byteOffset);
    expect(c[0]).toBe(7);
    expect(c[4 * MIB - 1]).toBe(0); // past a's 3 MiB: never written
    giveFileBuffer(b);
    giveFileBuffer(c);
  });

  it('make plain buffers with FLOWSIEVE_FILE_THP=off', () => {
    process.env.FLOWSIEVE_FILE_THP = 'off';
    try {
      const d = fileBuffer(9 * MIB); // larger than any kept: fresh
      expect(d.byteOffset).toBe(0);
      expect(d.buffer.byteLength).toBe(16 * MIB);
    } finally {
      delete process.env.FLOWSIEVE_FILE_THP;
    }
  });
});

