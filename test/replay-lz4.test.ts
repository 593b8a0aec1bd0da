import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { rng } from '../dist/bench/records.js'; // xorshift32 in [0, 1)
import { lz4Wasm } from '../dist/src/replay/lz4-wasm.js';
import { crc32 } from 'node:zlib';
import { pack } from 'msgpackr';
import { CorruptBlockError, decodeBlock, encodeBlock, readBlockHeader } from '../dist/src/replay/block.js';

const lz4 = createRequire(import.meta.url)('lz4-napi') as typeof import('lz4-napi');

/** Bytes shaped as replay columns are: runs of one byte, short repeated patterns, small numbers, noise. */
function columnLike(n: number, seed: number): Uint8Array {
  const r = rng(seed);
  const out = new Uint8Array(n);
  let i = 0;
  while (i < n) {
    const len = Math.min(n - i, 1 + Math.floor(r() * (r() < 0.2 ? 300 : 40)));
    const kind = Math.floor(r() * 4);
    const period = 1 + Math.floor(r() * 9);
    const pattern = Array.from({ length: period }, () => Math.floor(r() * 256));
    for (let k = 0; k < len; k++) {
      out[i + k] = kind === 0 ? 0 : kind === 1 ? pattern[k % period]! : kind === 2 ? Math.floor(r() * 4) : Math.floor(r() * 256);
    }
    i += len;
  }
  return out;
}

describe('the WebAssembly lz4 decoder of replay blocks', () => {
  const wasm = lz4Wasm();

  it('is built', () => {
    expect(wasm).not.toBeNull();
  });

  it("decodes what lz4-napi encodes, byte for byte, every shape of run and offset", () => {
    for (let seed = 1; seed <= 300; seed++) {
      const size = seed % 10 === 0 ? 0 : Math.floor(rng(seed * 7)() * 70_000);
      const plain = columnLike(size, seed);
      const payload = lz4.compressSync(Buffer.from(plain));
      const got = wasm!.uncompress(payload, plain.length);
      expect(got, `seed ${seed}`).not.toBeNull();
      expect(Buffer.compare(Buffer.from(got!), Buffer.from(plain)), `seed ${seed}`).toBe(0);
    }
  });

  it('grows its memory for a block larger than it holds, and decodes into the grown memory', () => {
    const plain = columnLike(6 << 20, 9); // the module starts with 4 MiB
    const got = wasm!.uncompress(lz4.compressSync(Buffer.from(plain)), plain.length);
    expect(got).not.toBeNull();
    expect(Buffer.compare(Buffer.from(got!), Buffer.from(plain))).toBe(0);
    const small = columnLike(1000, 10);
    expect(Buffer.compare(Buffer.from(wasm!.uncompress(lz4.compressSync(Buffer.from(small)), 1000)!), Buffer.from(small))).toBe(0);
  });

  it('refuses a payload of another size, or cut short, or damaged, without throwing', () => {
    const plain = columnLike(20_000, 42);
    const payload = lz4.compressSync(Buffer.from(plain));
    expect(wasm!.uncompress(payload, plain.length + 1)).toBeNull();
    expect(wasm!.uncompress(payload, plain.length - 1)).toBeNull();
    expect(wasm!.uncompress(payload.subarray(0, payload.length - 1), plain.length)).toBeNull();
    expect(wasm!.uncompress(payload.subarray(0, 3), plain.length)).toBeNull();
    const r = rng(7);
    let refused = 0;
    for (let k = 0; k < 500; k++) {
      const bad = Buffer.from(payload);
      for (let j = 0; j < 1 + (k % 4); j++) bad[4 + Math.floor(r() * (bad.length - 4))] = Math.floor(r() * 256);
      const got = wasm!.uncompress(bad, plain.length);
      if (got === null) refused++;
      else expect(got.length).toBe(plain.length);
    }
    expect(refused).toBeGreaterThan(0);
  });

  it('gives decodeBlock the same columns as lz4-napi, and the same refusal of a damaged frame', () => {
    const a = new Uint32Array(Array.from({ length: 999 }, (_, i) => (i * 2654435761) >>> 0));
    const b = new Uint16Array(Array.from({ length: 999 }, (_, i) => i % 7));
    const frame = encodeBlock({ kind: 'rows', rows: 999, bucket: 3, minTime: 1, maxTime: 2, columns: [['a', a, 999], ['b', b, 999]] });
    const own = decodeBlock(frame, 'rows');
    const into = decodeBlock(frame, 'rows', wasm);
    for (const name of ['a', 'b']) expect([...into.columns.get(name)!]).toEqual([...own.columns.get(name)!]);
    // a header (checksums right) saying 8 more bytes than the payload holds: both refuse it as corrupt
    const header = readBlockHeader(frame);
    const h = pack({ ...header, raw: header.raw + 8, cols: header.cols });
    const payload = frame.subarray(frame.length - header.size);
    const lying = Buffer.alloc(12 + h.length + payload.length);
    lying.writeUInt32LE(frame.readUInt32LE(0), 0);
    lying.writeUInt32LE(h.length, 4);
    lying.writeUInt32LE(crc32(h), 8);
    h.copy(lying, 12);
    lying.set(payload, 12 + h.length);
    expect(() => decodeBlock(lying, 'rows')).toThrow(CorruptBlockError);
    expect(() => decodeBlock(lying, 'rows', wasm)).toThrow(/lz4: the payload does not decompress to the \d+ bytes its header says/);
  });
});
