/**
 * The shard's fresh index is backed in one system call where the kernel can (input/native.ts
 * populate, the native module's madvise MADV_POPULATE_WRITE; scan-core.ts writeIndexOnce):
 * only the whole pages inside a view are populated, its contents never change, and without the
 * module, the kernel's support or with FLOWSIEVE_POPULATE=off the call says false and nothing changes.
 * Memory backed ahead of its writer on libuv's pool (populateLater, the module's populateAsync;
 * engine/populate-ahead.ts): each range's whole pages, contents never changed even while the
 * thread writes them; nothing queued with FLOWSIEVE_POPULATE=off or now; PopulateAhead asks for
 * a window past the writer, every column at once, never past the capacity.
 * Memory given back on libuv's pool (releaseLater, the module's releaseAsync: a run's spent batch
 * ring and shared table, engine/run.ts): its whole pages read zero afterwards, nothing else
 * changes, and nothing is queued with FLOWSIEVE_RELEASE=off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { release } from 'node:os';
import { populate, populateLater, releaseLater } from '../dist/src/input/native.js';
import { PopulateAhead } from '../dist/src/engine/populate-ahead.js';
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

/** populateLater, awaited: what it answered, once its pool thread is done (at once where nothing was queued). */
function populated(bytes: Uint8Array, ranges: number[]): Promise<boolean> {
  return new Promise((resolve) => {
    const queued = populateLater(bytes, new Float64Array(ranges), () => resolve(true));
    if (!queued) resolve(false);
  });
}

describe('populateLater', () => {
  afterEach(() => {
    delete process.env.FLOWSIEVE_POPULATE;
  });

  it.runIf(canPopulate)('backs ranges of fresh memory, shared or not, on the pool', async () => {
    expect(await populated(new Uint8Array(new SharedArrayBuffer(4 * MIB)), [0, 4 * MIB])).toBe(true);
    expect(await populated(new Uint8Array(new WebAssembly.Memory({ initial: 64 }).buffer), [4096, MIB, 2 * MIB, 12345])).toBe(true);
    expect(await populated(new Uint8Array(new WebAssembly.Memory({ initial: 64, maximum: 128, shared: true }).buffer), [0, 64 * 65536])).toBe(true);
  });

  it('queues nothing without a whole page in its ranges, for ranges outside the view, or with FLOWSIEVE_POPULATE=off or now', async () => {
    const bytes = new Uint8Array(new ArrayBuffer(4 * MIB));
    expect(await populated(bytes, [1, 4096])).toBe(false); // no whole page inside
    expect(await populated(bytes, [4 * MIB - 4096, 8192])).toBe(false); // past the view's end
    expect(await populated(bytes, [])).toBe(false);
    for (const setting of ['off', 'now']) {
      process.env.FLOWSIEVE_POPULATE = setting;
      expect(await populated(bytes, [0, 4 * MIB])).toBe(false);
    }
  });

  it('never changes contents, even of pages this thread writes while the pool backs them', async () => {
    const buffer = new SharedArrayBuffer(8 * MIB + 777);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < bytes.length; i += 3 * 4096 + 5) bytes[i] = (i * 7) & 255;
    const pending = populated(bytes, [0, bytes.length]);
    // written while the pool thread may be at them
    for (let i = 1; i < bytes.length; i += 4096 + 13) bytes[i] = (i * 5) & 255;
    const expected = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i += 3 * 4096 + 5) expected[i] = (i * 7) & 255;
    for (let i = 1; i < bytes.length; i += 4096 + 13) expected[i] = (i * 5) & 255;
    await pending;
    expect(digest(bytes)).toBe(digest(expected));
  });
});

/** releaseLater, awaited: what it answered, once its pool thread is done (at once where nothing was queued). */
function released(buffer: ArrayBufferLike): Promise<boolean> {
  return new Promise((resolve) => {
    if (!releaseLater(buffer, () => resolve(true))) resolve(false);
  });
}

describe('releaseLater', () => {
  afterEach(() => {
    delete process.env.FLOWSIEVE_RELEASE;
  });

  it.runIf(process.platform === 'linux' && wholeGzipInflater() === 'libdeflate')('gives the whole pages back: they read zero, the bytes of partial pages stay, the memory takes writes again', async () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 128, shared: true });
    const bytes = new Uint8Array(memory.buffer);
    bytes.fill(7);
    expect(await released(memory.buffer)).toBe(true);
    expect(bytes.every((b) => b === 0)).toBe(true); // a WebAssembly memory is whole pages
    bytes[5] = 3;
    expect(bytes[5]).toBe(3);
    const buffer = new SharedArrayBuffer(3 * MIB + 777);
    const view = new Uint8Array(buffer);
    view.fill(9);
    expect(await released(buffer)).toBe(true);
    expect(view.every((b) => b === 0 || b === 9)).toBe(true);
    const zeros = view.reduce((n, b) => n + (b === 0 ? 1 : 0), 0);
    expect(zeros).toBeGreaterThanOrEqual(3 * MIB - 4096);
    expect(zeros).toBeLessThan(view.length); // the last partial page is kept
  });

  it('queues nothing for an empty buffer, or with FLOWSIEVE_RELEASE=off', async () => {
    expect(await released(new ArrayBuffer(0))).toBe(false);
    process.env.FLOWSIEVE_RELEASE = 'off';
    const buffer = new SharedArrayBuffer(MIB);
    new Uint8Array(buffer).fill(1);
    expect(await released(buffer)).toBe(false);
    expect(new Uint8Array(buffer).every((b) => b === 1)).toBe(true);
  });
});

describe('PopulateAhead', () => {
  /** The (byte offset, length) pairs each ask was given. */
  function watched(columns: [number, number][], cap: number, written = 0) {
    const asks: number[][] = [];
    const ahead = new PopulateAhead(new Uint8Array(1 << 16), columns, cap, written, (_bytes, ranges) => {
      asks.push([...ranges]);
      return true;
    });
    return { ahead, asks };
  }

  it('asks for a window of two leads past the writer, every column at once, only when less than a lead is left', () => {
    const { ahead, asks } = watched([[1000, 16], [9000, 36]], 10_000);
    ahead.ensure(0, 100);
    expect(asks).toEqual([[1000, 200 * 16, 9000, 200 * 36]]);
    ahead.ensure(100, 100); // 100 + 100 <= 200: enough ahead
    expect(asks).toHaveLength(1);
    ahead.ensure(150, 100); // from where the last window ended to 150 + 200
    expect(asks[1]).toEqual([1000 + 200 * 16, 150 * 16, 9000 + 200 * 36, 150 * 36]);
  });

  it('never asks past the capacity, nor for units written already', () => {
    const { ahead, asks } = watched([[0, 40]], 500, 120);
    ahead.ensure(130, 100);
    expect(asks).toEqual([[120 * 40, (330 - 120) * 40]]);
    ahead.ensure(400, 100);
    expect(asks[1]).toEqual([330 * 40, (500 - 330) * 40]);
    ahead.ensure(499, 100);
    ahead.ensure(10_000, 100);
    expect(asks).toHaveLength(2);
    const full = watched([[0, 8]], 50, 50);
    full.ahead.ensure(0, 10);
    expect(full.asks).toHaveLength(0);
  });
});
