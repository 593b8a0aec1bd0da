/**
 * The shard's fresh index is backed in one system call where the kernel can (input/native.ts
 * populate, the native module's madvise MADV_POPULATE_WRITE; scan-core.ts writeIndexOnce):
 * only the whole pages inside a view are populated, its contents never change, and without the
 * module, the kernel's support or with FLOWSIEVE_POPULATE=off the call says false and nothing changes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { release } from 'node:os';
import { populate } from '../dist/src/input/native.js';
import { wholeGzipInflater } from '../dist/src/input/read.js';

const MIB = 1 << 20;
/** Linux 5.14 or later (MADV_POPULATE_WRITE) with the module built. */
const [major = 0, minor = 0] = release().split('.').map(Number);
const canPopulate = process.platform === 'linux' && (major > 5 || (major === 5 && minor >= 14)) && wholeGzipInflater() === 'libdeflate';

/** A sum of every byte, weighted by place (a changed, moved or lost byte changes it). */
function digest(bytes: Uint8Array): number {
  let h = 0;
  for (let i = 0; i < bytes.length; i++) h = (Math.imul(h, 31) + bytes[i]! * (i + 1)) | 0;
  return h;
}

describe('populate', () => {
  afterEach(() => {
    delete process.env.FLOWSIEVE_POPULATE;
  });

  it.runIf(canPopulate)('populates the whole pages of fresh and written memory, shared or not', () => {
    expect(populate(new Uint8Array(new SharedArrayBuffer(4 * MIB)))).toBe(true);
    expect(populate(new Uint32Array(new ArrayBuffer(4 * MIB), 12, MIB / 2))).toBe(true);
    expect(populate(new Uint8Array(new WebAssembly.Memory({ initial: 64 }).buffer))).toBe(true);
    expect(populate(new Uint8Array(new WebAssembly.Memory({ initial: 64, maximum: 128, shared: true }).buffer))).toBe(true);
  });

  it('says false where there is no whole page, or with FLOWSIEVE_POPULATE=off', () => {
    expect(populate(new Uint8Array(0))).toBe(false);
    expect(populate(new Uint8Array(new ArrayBuffer(8192), 1, 4096))).toBe(false); // no whole page inside
    process.env.FLOWSIEVE_POPULATE = 'off';
    expect(populate(new Uint8Array(new SharedArrayBuffer(4 * MIB)))).toBe(false);
  });

  it('never changes contents: written bytes stay, fresh bytes read zero, at any offset', () => {
    const buffer = new ArrayBuffer(3 * MIB + 777);
    const bytes = new Uint8Array(buffer);
    // written pages, and pages never touched between them
    for (let i = 0; i < bytes.length; i += 3 * 4096 + 5) bytes[i] = (i * 7) & 255;
    const before = digest(bytes);
    const written = bytes.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0);
    expect(typeof populate(new Float64Array(buffer, 4096 + 8, 65536))).toBe('boolean');
    expect(typeof populate(new Uint16Array(buffer, 2, (bytes.length - 4) >> 1))).toBe('boolean');
    expect(digest(bytes)).toBe(before);
    expect(bytes.reduce((n, b) => n + (b !== 0 ? 1 : 0), 0)).toBe(written);
    // a fresh memory populated reads all zeros, and takes writes as before
    const fresh = new Uint32Array(new WebAssembly.Memory({ initial: 48 }).buffer);
    populate(fresh);
    expect(fresh.every((w) => w === 0)).toBe(true);
    fresh[fresh.length - 1] = 0xdeadbeef;
    expect(fresh[fresh.length - 1]).toBe(0xdeadbeef);
  });
});
