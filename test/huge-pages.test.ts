/**
 * The engine's batch ring is backed by transparent huge pages from its first touch where the
 * kernel allows it (input/read.ts adviseHugePages, the native module's madvise; workers/parse.ts
 * asks at each task): only the whole 2 MiB pages inside the bytes are advised, the memory reads
 * and writes as before, and without the module or the kernel's consent nothing changes.
 */
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { adviseHugePages, wholeGzipInflater } from '../dist/src/input/read.js';

const MIB = 1 << 20;
const THP = '/sys/kernel/mm/transparent_hugepage/enabled';
/** Linux with transparent huge pages compiled in (madvise then accepts the advice, whatever the mode) and the module built. */
const canAdvise = process.platform === 'linux' && existsSync(THP) && wholeGzipInflater() === 'libdeflate';

describe('adviseHugePages', () => {
  it.runIf(canAdvise)('advises the whole 2 MiB pages of a shared buffer, and none of a smaller one', () => {
    expect(adviseHugePages(new Uint8Array(new SharedArrayBuffer(8 * MIB)))).toBe(true);
    expect(adviseHugePages(new Uint8Array(new SharedArrayBuffer(64 * 1024)))).toBe(false);
  });

  it('leaves the memory as it was: written and read back, zero where not written', () => {
    const bytes = new Uint8Array(new SharedArrayBuffer(6 * MIB + 12345));
    expect(typeof adviseHugePages(bytes)).toBe('boolean');
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = (i >> 12) & 255;
    let sum = 0;
    for (let i = 0; i < bytes.length; i++) sum += bytes[i]!;
    let expected = 0;
    for (let i = 0; i < bytes.length; i += 4096) expected += (i >> 12) & 255;
    expect(sum).toBe(expected);
  });
});
