/**
 * A block header's msgpack read without msgpackr (block.ts readBlockHeader): the header is a
 * small map of numbers, short ASCII strings and the column layout's arrays, read once a block
 * (4,096 blocks on the 20 M-record bench file). msgpackr's reader is one large function that
 * V8 compiles again in every shard thread, and the shard threads of a replay run need it for
 * nothing else; this reads the subset the writer produces (block.ts encodeBlock: msgpackr's
 * pack, maps as maps): maps and arrays, nil and booleans, integers of up to 32 bits, float64
 * and ASCII strings. Anything else (64-bit or 32-bit float numbers, non-ASCII strings, binary,
 * extensions, records, a value that runs past the end or stops short of it) gives undefined,
 * and the caller reads the header with msgpackr, which then decides as before: what this
 * returns is what msgpackr's unpack returns for the same bytes.
 */

/** Nesting this reader follows (a block header has two levels); deeper values go to msgpackr. */
const MAX_DEPTH = 8;

let bytes: Uint8Array = new Uint8Array(0);
let at = 0;
let end = 0;
let failed = false;

/** The value msgpack encodes in b (whole), or undefined where msgpackr must read it. */
export function unpackHeader(b: Uint8Array): unknown {
  bytes = b;
  at = 0;
  end = b.length;
  failed = false;
  const v = value(0);
  const ok = !failed && at === end;
  bytes = new Uint8Array(0); // not kept past the call (the frame's memory is reused)
  return ok ? v : undefined;
}

function fail(): undefined {
  failed = true;
  return undefined;
}

function value(depth: number): unknown {
  if (at >= end || depth > MAX_DEPTH) return fail();
  const t = bytes[at++]!;
  if (t < 0x80) return t; // positive fixint
  if (t >= 0xe0) return t - 0x100; // negative fixint
  if (t < 0x90) return map(t & 0x0f, depth);
  if (t < 0xa0) return array(t & 0x0f, depth);
  if (t < 0xc0) return ascii(t & 0x1f);
  switch (t) {
    case 0xc0:
      return null;
    case 0xc2:
      return false;
    case 0xc3:
      return true;
    case 0xcc:
      return uint(1);
    case 0xcd:
      return uint(2);
    case 0xce:
      return uint(4);
    case 0xd0:
      return signed(uint(1), 1);
    case 0xd1:
      return signed(uint(2), 2);
    case 0xd2:
      return signed(uint(4), 4);
    case 0xcb:
      return float64();
    case 0xd9:
      return ascii(uint(1));
    case 0xda:
      return ascii(uint(2));
    case 0xdc:
      return array(uint(2), depth);
    case 0xde:
      return map(uint(2), depth);
    default:
      return fail(); // 64-bit integers, float32, str32, bin, ext, array32, map32: msgpackr's
  }
}

/** A big-endian unsigned integer of n bytes (1, 2 or 4), 0 when it runs past the end (failed). */
function uint(n: number): number {
  if (end - at < n) {
    fail();
    return 0;
  }
  let v = 0;
  for (let k = 0; k < n; k++) v = v * 256 + bytes[at++]!;
  return v;
}

function signed(v: number, n: number): number {
  const half = 2 ** (8 * n - 1);
  return v >= half ? v - 2 * half : v;
}

function float64(): number | undefined {
  if (end - at < 8) return fail();
  const v = new DataView(bytes.buffer, bytes.byteOffset + at, 8).getFloat64(0);
  at += 8;
  return v;
}

/**
 * A string of n bytes, all ASCII (a header's names and kinds); other strings go to msgpackr.
 * The same few dozen strings come back in every header: each is made once and looked up by
 * its bytes (a string made anew each time was hashed again by every Map it keyed, columnViews').
 */
function ascii(n: number): string | undefined {
  if (failed || end - at < n) return fail();
  let h = n;
  for (let k = 0; k < n; k++) {
    const c = bytes[at + k]!;
    if (c >= 0x80) return fail();
    h = (Math.imul(h, 31) + c) | 0;
  }
  let s = strings.get(h);
  if (s === undefined || !sameBytes(s, n)) {
    s = String.fromCharCode(...bytes.subarray(at, at + n));
    if (strings.size < MAX_STRINGS) strings.set(h, s);
  }
  at += n;
  return s;
}

/** Strings read, by a hash of their bytes (ascii), up to MAX_STRINGS of them. */
const strings = new Map<number, string>();
const MAX_STRINGS = 1024;

/** Whether s is the n bytes at `at`. */
function sameBytes(s: string, n: number): boolean {
  if (s.length !== n) return false;
  for (let k = 0; k < n; k++) if (s.charCodeAt(k) !== bytes[at + k]) return false;
  return true;
}

function array(n: number, depth: number): unknown[] | undefined {
  if (failed) return undefined;
  const a: unknown[] = [];
  for (let k = 0; k < n && !failed; k++) a.push(value(depth + 1));
  return a;
}

/** A map with string keys as an object (msgpackr's default); any other key goes to msgpackr. */
function map(n: number, depth: number): Record<string, unknown> | undefined {
  if (failed) return undefined;
  const o: Record<string, unknown> = {};
  for (let k = 0; k < n && !failed; k++) {
    const key = value(depth + 1);
    if (typeof key !== 'string' || key === '__proto__') return fail();
    o[key] = value(depth + 1);
  }
  return o;
}
