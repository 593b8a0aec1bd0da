import { describe, expect, it } from 'vitest';
import { rng } from '../dist/bench/records.js'; // xorshift32 in [0, 1)
import { pack, unpack } from 'msgpackr';
import { unpackHeader } from '../dist/src/replay/header-unpack.js';
import { CorruptBlockError, decodeBlock, encodeBlock, readBlockHeader } from '../dist/src/replay/block.js';
import { nativeModule } from '../dist/src/input/native.js';
import { lz4Wasm, Lz4Wasm } from '../dist/src/replay/lz4-wasm.js';
import { readFileSync } from 'node:fs';
import { wasmFile } from '../dist/src/data/files.js';
import { crc32 } from 'node:zlib';

/** Numbers at the edges of every msgpack integer width, both signs, and a few doubles. */
const NUMBERS = [
  0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 40, 2 ** 53 - 1,
  -1, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, -(2 ** 40), 1.5, -0.25, 1e300, Number.MIN_VALUE, NaN, Infinity, -Infinity,
];
const STRINGS = ['', 'a', 'rows', 'entry-rows', 'u32', 'x'.repeat(31), 'y'.repeat(32), 'z'.repeat(255), 'w'.repeat(256), 'w'.repeat(70000), 'é', 'Zürich', '日本'];

/** A value of the kinds a header holds, and some it does not (binary, nested deep, non-ASCII). */
function valueOf(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (k) {
    case 0:
    case 1:
      return NUMBERS[Math.floor(r() * NUMBERS.length)];
    case 2:
      return STRINGS[Math.floor(r() * STRINGS.length)];
    case 3:
      return [null, true, false][Math.floor(r() * 3)];
    case 4:
      return Math.floor(r() * 2 ** 32) - 2 ** 31;
    case 5:
      return Array.from({ length: Math.floor(r() * (r() < 0.1 ? 40 : 6)) }, () => valueOf(r, depth + 1));
    case 6:
      return r() < 0.05 ? new Uint8Array([1, 2, 3]) : Object.fromEntries(Array.from({ length: Math.floor(r() * 20) }, (_, i) => [`k${i}${STRINGS[i % 5]}`, valueOf(r, depth + 1)]));
    default:
      return { kind: 'rows', rows: Math.floor(r() * 70000), cols: [['src', 'u32', 1988, 3984], ['flags', 'u8', 1988, 0]] };
  }
}

describe("a block header's msgpack read without msgpackr", () => {
  it('gives what msgpackr gives, or leaves the bytes to it (undefined), over every kind of value', () => {
    let read = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const v = valueOf(rng(seed), 0);
      const bytes = pack(v);
      const got = unpackHeader(bytes);
      if (got === undefined) continue;
      read++;
      expect(got, `seed ${seed}`).toStrictEqual(unpack(bytes));
    }
    expect(read).toBeGreaterThan(1000); // most values are of the subset it reads
  });

  it('reads a header as encodeBlock writes it, field for field', () => {
    const a = new Uint32Array(1988);
    const b = new Uint16Array(1988);
    const frame = encodeBlock({ kind: 'entry-rows', rows: 1988, bucket: 4095, minTime: 1717200047, maxTime: 4294967295, columns: [['src', a, 1988], ['dport', b, 1988]] });
    const hlen = frame.readUInt32LE(4);
    const bytes = frame.subarray(12, 12 + hlen);
    expect(unpackHeader(bytes)).toStrictEqual(unpack(bytes));
    expect(unpackHeader(bytes)).toStrictEqual(readBlockHeader(frame));
  });

  it('leaves to msgpackr what it does not read: 64-bit and float32 numbers, non-ASCII strings, binary, trailing or missing bytes', () => {
    expect(unpackHeader(Buffer.from([0xcf, 0, 0, 0, 1, 0, 0, 0, 0]))).toBeUndefined(); // uint64
    expect(unpackHeader(Buffer.from([0xd3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]))).toBeUndefined(); // int64
    expect(unpackHeader(Buffer.from([0xca, 0x3f, 0x99, 0x99, 0x9a]))).toBeUndefined();
    expect(unpackHeader(pack('Zürich'))).toBeUndefined();
    expect(unpackHeader(pack(new Uint8Array([1, 2])))).toBeUndefined();
    expect(unpackHeader(Buffer.concat([pack({ a: 1 }), pack(2)]))).toBeUndefined();
    const whole = pack({ kind: 'rows', cols: [['a', 'u8', 1, 0]] });
    for (let cut = 0; cut < whole.length; cut++) expect(unpackHeader(whole.subarray(0, cut)), `cut at ${cut}`).toBeUndefined();
    expect(unpackHeader(whole)).toStrictEqual(unpack(whole));
    // a string of the same bytes' hash as one read before is still read as its own bytes
    expect(unpackHeader(pack(['ab', 'bC', 'ab']))).toStrictEqual(['ab', 'bC', 'ab']);
  });
});

/** v with its numbers replaced, in the order msgpack holds them, by numbers[0..]: what a header that repeats v's structure reads as. */
function withNumbers(v: unknown, numbers: Float64Array, at = { k: 0 }): unknown {
  if (typeof v === 'number') return numbers[at.k++];
  if (Array.isArray(v)) return v.map((x) => withNumbers(x, numbers, at));
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, withNumbers(x, numbers, at)]));
  return v;
}

/** v with each number changed, with probability p, to another of NUMBERS or a random 32-bit one (other msgpack widths). */
function renumbered(v: unknown, r: () => number, p: number): unknown {
  if (typeof v === 'number') return r() >= p ? v : r() < 0.5 ? NUMBERS[Math.floor(r() * NUMBERS.length)] : Math.floor(r() * 2 ** 32) - 2 ** 31;
  if (Array.isArray(v)) return v.map((x) => renumbered(x, r, p));
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, renumbered(x, r, p)]));
  return v;
}

describe("a block header that repeats the last one's structure, read by the replay module (assembly/lz4-block.ts repeatHeader)", () => {
  const decoder = () => new Lz4Wasm(new WebAssembly.Module(readFileSync(wasmFile('lz4-block.wasm')!)));

  it('reads the numbers of a value of the same containers and strings, whatever their widths, and refuses any other', () => {
    const dec = decoder();
    let repeated = 0;
    let refused = 0;
    for (let seed = 1; seed <= 1500; seed++) {
      const r = rng(seed);
      const known = valueOf(r, 0);
      const kb = pack(known);
      if (unpackHeader(kb) === undefined) continue;
      dec.rememberHeader(kb, known);
      // mostly the same structure with other numbers; now and then another value altogether
      const next = r() < 0.8 ? renumbered(known, r, 0.7) : valueOf(r, 0);
      const nb = pack(next);
      const count = dec.repeatHeader(nb);
      if (count < 0) {
        refused++;
        continue;
      }
      repeated++;
      const at = { k: 0 };
      expect(withNumbers(known, dec.headerNumbers(), at), `seed ${seed}`).toStrictEqual(unpack(nb));
      expect(at.k, `seed ${seed}: numbers`).toBe(count);
    }
    expect(repeated).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(100);
  });

  it('refuses a header of other strings, another length, cut short, or with bytes after it', () => {
    const dec = decoder();
    const known = { kind: 'rows', rows: 5, cols: [['src', 'u32', 5, 0]] };
    const kb = pack(known);
    expect(dec.repeatHeader(kb)).toBe(-1); // nothing known yet
    dec.rememberHeader(kb, known);
    expect(dec.repeatHeader(pack({ kind: 'rows', rows: 70000, cols: [['src', 'u32', 1e9, 2 ** 31 - 1]] }))).toBe(3);
    expect(dec.repeatHeader(pack({ kind: 'rowz', rows: 5, cols: [['src', 'u32', 5, 0]] }))).toBe(-1);
    expect(dec.repeatHeader(pack({ kind: 'rows', rows: 5, cols: [['src', 'u16', 5, 0]] }))).toBe(-1);
    expect(dec.repeatHeader(pack({ kind: 'rows', rows: '5', cols: [['src', 'u32', 5, 0]] }))).toBe(-1);
    expect(dec.repeatHeader(pack({ kind: 'rows', rows: 5, cols: [['src', 'u32', 5, 0], ['dst', 'u32', 5, 24]] }))).toBe(-1);
    expect(dec.repeatHeader(pack({ kind: 'rows', rows: 2n ** 40n, cols: [['src', 'u32', 5, 0]] }))).toBe(-1); // 64-bit: msgpackr's
    for (let cut = 0; cut < kb.length; cut++) expect(dec.repeatHeader(kb.subarray(0, cut)), `cut at ${cut}`).toBe(-1);
    expect(dec.repeatHeader(Buffer.concat([kb, pack(1)]))).toBe(-1);
  });

  it("gives readBlockHeader's header for every block, its structure repeated or not", () => {
    const dec = lz4Wasm();
    expect(dec).not.toBeNull();
    const r = rng(7);
    let viaModule = 0;
    for (let k = 0; k < 400; k++) {
      const n = Math.floor(r() * (k % 3 === 0 ? 300 : 70000));
      const columns: Array<[string, Uint32Array | Uint16Array, number]> = [['src', new Uint32Array(n), n], ['dport', new Uint16Array(n), n]];
      if (k % 17 === 0) columns.push(['flows', new Uint32Array(n), n]); // another structure now and then
      const frame = encodeBlock({
        kind: k % 29 === 0 ? 'rows' : 'entry-rows', rows: n, bucket: Math.floor(r() * 4096), minTime: Math.floor(r() * 2 ** 32), maxTime: k % 5 === 0 ? 1.5 : 2 ** 32 - 1,
        columns, ...(k % 31 === 0 ? { meta: { dict: ['a'] } } : {}),
      });
      const bytes = frame.subarray(12, 12 + frame.readUInt32LE(4));
      if (dec!.repeatHeader(bytes) >= 0) viaModule++;
      expect(readBlockHeader(frame, dec), `block ${k}`).toStrictEqual(readBlockHeader(frame));
    }
    expect(viaModule).toBeGreaterThan(250);
  });
});

describe("the native module's CRC-32, which checks replay blocks", () => {
  // an install without a C compiler has no module (test/gunzip-native.test.ts checks that the build made it)
  it.runIf(nativeModule() !== null)('gives what zlib.crc32 gives at every length and offset', () => {
    const native = nativeModule()?.crc32;
    expect(native).toBeTypeOf('function');
    const r = rng(5);
    const bytes = Uint8Array.from({ length: 70_000 }, () => Math.floor(r() * 256));
    for (let k = 0; k < 400; k++) {
      const from = Math.floor(r() * 64);
      const len = k < 100 ? k : Math.floor(r() * (bytes.length - from));
      const view = bytes.subarray(from, from + len);
      expect(native!(view), `${from}+${len}`).toBe(crc32(view));
    }
  });

  it('refuses a block whose payload or header changed by one bit', () => {
    const frame = encodeBlock({ kind: 'rows', rows: 3, bucket: 1, minTime: 0, maxTime: 1, columns: [['a', new Uint32Array([1, 2, 3]), 3]] });
    expect(decodeBlock(frame, 'rows').header.rows).toBe(3);
    const payload = Buffer.from(frame);
    payload[payload.length - 1]! ^= 1;
    expect(() => decodeBlock(payload, 'rows')).toThrow(/payload checksum mismatch/);
    const header = Buffer.from(frame);
    header[14]! ^= 1;
    expect(() => decodeBlock(header, 'rows')).toThrow(CorruptBlockError);
    expect(() => decodeBlock(header, 'rows')).toThrow(/header checksum mismatch/);
  });
});
