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
 * returns is what msgpackr's unpack returns for the same bytes. A replay shard reads only the
 * first header of a structure here: the next ones that repeat it are read by the replay module
 * (block.ts repeatedHeader), so this reader stays out of TurboFan's work there.
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
  const v = value();
  const ok = !failed && at === end;
  bytes = new Uint8Array(0); // not kept past the call (the frame's memory is reused)
  return ok ? v : undefined;
}

function fail(): undefined {
  failed = true;
  return undefined;
}

/**
 * The value at `at`, containers filled in one loop with a stack of those open (no recursion):
 * value, array and map calling each other were each compiled by TurboFan with the others
 * inlined, in every shard thread, the largest compiles of a replay run (~21 % of its compile
 * work, bench/RESULTS.md session 15 deopts); this one function's compiles (its own, and inlined
 * into readBlockHeader) are a third of theirs. A key must be a string (not __proto__), and values
 * nest up to MAX_DEPTH, as before.
 */
function value(): unknown {
  const open: (unknown[] | Record<string, unknown>)[] = [];
  const left: number[] = [];
  let key: string | null = null; // the open map's key read, whose value comes next
  for (;;) {
    if (at >= end || open.length > MAX_DEPTH) return fail();
    const t = bytes[at++]!;
    let v: unknown;
    let n = -1; // a container's entries (v is the container), else -1
    if (t < 0x80) v = t; // positive fixint
    else if (t >= 0xe0) v = t - 0x100; // negative fixint
    else if (t < 0xc0 && t >= 0xa0) v = ascii(t & 0x1f);
    else if (t < 0xa0 || t === 0xdc || t === 0xde) {
      n = t < 0xa0 ? t & 0x0f : uint(2);
      v = t < 0x90 || t === 0xde ? {} : [];
    } else v = scalar(t);
    if (failed) return undefined;
    if (n > 0) {
      if (key === null && open.length > 0 && !Array.isArray(open[open.length - 1])) return fail(); // a container as a key
      open.push(v as unknown[] | Record<string, unknown>);
      left.push(n);
      continue;
    }
    // v is whole: into the open containers, closing those it fills
    for (;;) {
      if (open.length === 0) return v;
      const c = open[open.length - 1]!;
      if (Array.isArray(c)) c.push(v);
      else if (key === null) {
        if (typeof v !== 'string' || v === '__proto__') return fail();
        key = v;
        break;
      } else {
        c[key] = v;
        key = null;
      }
      if (--left[left.length - 1]! > 0) break;
      v = open.pop();
      left.pop();
    }
  }
}

/** A value of the other type bytes (nil, booleans, integers, float64, str8/16), undefined (failed) for anything msgpackr must read. */
function scalar(t: number): unknown {
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
