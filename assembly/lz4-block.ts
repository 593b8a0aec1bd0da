// AssemblyScript (compiled by scripts/wasm.mjs into dist/wasm/lz4-block.wasm; not part of
// tsc's build). One lz4 block decoded into linear memory, for replay blocks
// (src/replay/lz4-wasm.ts): lz4-napi returns a fresh Buffer a block (an allocation of the
// block's raw size and a native call), where this writes into memory the thread reuses.
//
// Input at `src` (`srcLen` bytes): lz4-napi's payload, the decompressed size as a u32
// little-endian, then one lz4 block (the standard block format: sequences of a token,
// literals, a 2-byte offset and a match length). Output at `dst`, `cap` bytes at most.
// Returns the decompressed size, or -1 when the block is damaged: a length running past the
// input or past `cap`, an offset of 0 or reaching before the output, trailing bytes, or a
// size other than the one stated. The caller leaves WILD (32) bytes of room after the input
// and after `dst + cap`: short copies move 16 bytes at a time and may write past a
// sequence's end (what they write there is overwritten by the next sequence, or lies past
// the output).

const WILD: u32 = 16;

export function decode(src: u32, srcLen: u32, dst: u32, cap: u32): i32 {
  if (srcLen < 4) return -1;
  const n = load<u32>(src);
  if (n > cap) return -1;
  let s = src + 4;
  const end = src + srcLen;
  let d = dst;
  const dEnd = dst + n;
  while (s < end) {
    const token = <u32>load<u8>(s++);
    let lit = token >> 4;
    if (lit == 15) {
      let b: u32;
      do {
        if (s >= end) return -1;
        b = <u32>load<u8>(s++);
        lit += b;
      } while (b == 255);
    }
    if (lit != 0) {
      if (lit > end - s || lit > dEnd - d) return -1;
      copyForward(d, s, lit);
      s += lit;
      d += lit;
      if (s == end) break; // the last sequence: literals only
    }
    if (end - s < 2) {
      if (s == end) break; // the last sequence without literals (an empty block's one token)
      return -1;
    }
    const off = <u32>load<u16>(s);
    s += 2;
    let ml = token & 15;
    if (ml == 15) {
      let b: u32;
      do {
        if (s >= end) return -1;
        b = <u32>load<u8>(s++);
        ml += b;
      } while (b == 255);
    }
    ml += 4;
    if (off == 0 || off > d - dst || ml > dEnd - d) return -1;
    copyMatch(d, d - off, ml, off);
    d += ml;
  }
  return d == dEnd ? <i32>n : -1;
}

/** `len` bytes from `from` to `to` (to ≤ from or no overlap), 16 at a time past the end. */
function copyForward(to: u32, from: u32, len: u32): void {
  if (len <= WILD) {
    v128.store(to, v128.load(from));
    return;
  }
  memory.copy(to, from, len);
}

/**
 * A match: `len` bytes from `off` bytes back, the copy overlapping itself when off < len.
 * Columns give many short offsets (runs of zero bytes, repeated 2- and 4-byte values): a
 * short pattern is written byte by byte once, then copied 8 bytes at a time from a whole
 * number of periods back.
 */
function copyMatch(to: u32, from: u32, len: u32, off: u32): void {
  if (off >= WILD) {
    if (len > 64 && off >= len) {
      memory.copy(to, from, len);
      return;
    }
    for (let i: u32 = 0; i < len; i += WILD) v128.store(to + i, v128.load(from + i));
    return;
  }
  if (off >= 8) {
    for (let i: u32 = 0; i < len; i += 8) store<u64>(to + i, load<u64>(from + i));
    return;
  }
  // runs of one repeated byte, 2-byte or 4-byte value (u16 and u32 columns): the pattern splatted
  if (off == 4 || off == 2 || off == 1) {
    const run = off == 4 ? i32x4.splat(load<i32>(from)) : off == 2 ? i16x8.splat(load<i16>(from)) : i8x16.splat(load<i8>(from));
    for (let i: u32 = 0; i < len; i += WILD) v128.store(to + i, run);
    return;
  }
  const head = len < 8 ? len : 8;
  for (let i: u32 = 0; i < head; i++) store<u8>(to + i, load<u8>(from + i));
  const period = off * ((8 + off - 1) / off); // a multiple of off, 8 to 14
  for (let i: u32 = 8; i < len; i += 8) store<u64>(to + i, load<u64>(to + i - period));
}
