/**
 * A byte-level JSON scanner for the JSON flow-log readers (Azure, GCP, AWS wrapped).
 *
 * Why not JSON.parse: a reader needs a dozen fields out of objects of 0.5-1 KB, and
 * JSON.parse must first decode the bytes into a string and then build every object,
 * array and string of the document, only for the reader to throw most of them away.
 * This scanner walks the bytes once, checks the full JSON grammar (RFC 8259) as it goes,
 * and hands the reader the byte span of each string it asks for: no string, no object
 * per value. bench/probes/json-parse.ts measures it against JSON.parse and simdjson.
 *
 * Errors: a syntax error throws a JsonError (a plain object, no stack trace: cheap) with
 * the byte position and a reason. The readers catch it per line (NDJSON) or per
 * top-level value (documents) and count a reject.
 *
 * UTF-8: JSON text must be UTF-8. The readers check a whole block with the native
 * `isUtf8` first; only when that fails does the scanner check each string's bytes, to
 * find which object holds the bad bytes (the others are still read).
 */
import { isUtf8 } from 'node:buffer';

export class JsonError {
  constructor(
    readonly pos: number,
    readonly reason: string,
  ) {}
}

const MAX_DEPTH = 512;
const EMPTY = new Uint8Array(0);

/** Character classes for the byte after a backslash. */
const SIMPLE_ESCAPE = new Int16Array(256).fill(-1);
SIMPLE_ESCAPE[0x22] = 0x22; // "
SIMPLE_ESCAPE[0x5c] = 0x5c; // \
SIMPLE_ESCAPE[0x2f] = 0x2f; // /
SIMPLE_ESCAPE[0x62] = 0x08; // b
SIMPLE_ESCAPE[0x66] = 0x0c; // f
SIMPLE_ESCAPE[0x6e] = 0x0a; // n
SIMPLE_ESCAPE[0x72] = 0x0d; // r
SIMPLE_ESCAPE[0x74] = 0x09; // t

/** Bytes that end the plain part of a string: '"', '\\' and control bytes. */
const STOP = new Uint8Array(256);
for (let c = 0; c < 32; c++) STOP[c] = 1;
STOP[34] = 1;
STOP[92] = 1;

/** A view over `b` for plainEnd, made once per buffer. */
export function viewOf(b: Uint8Array): DataView<ArrayBufferLike> {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

/**
 * The first '"', '\\' or control byte at or after q in b[q, e), or e: where a string's
 * plain bytes stop (bytes >= 0x80 pass: the caller knows the block is valid UTF-8). Four
 * bytes at a time while it can (dv views b): a word holds such a byte exactly when one of
 * the three has-a-byte tests (zero after xor with '"' or '\\', less than 0x20; Hacker's
 * Delight 6-1) is non-zero; the byte loop then finds which byte it is.
 */
export function plainEnd(dv: DataView<ArrayBufferLike>, b: Uint8Array, q: number, e: number): number {
  while (q + 4 <= e) {
    const x = dv.getInt32(q, true);
    const quote = x ^ 0x22222222;
    const slash = x ^ 0x5c5c5c5c;
    if ((((quote - 0x01010101) & ~quote) | ((slash - 0x01010101) & ~slash) | ((x - 0x20202020) & ~x)) & 0x80808080) break;
    q += 4;
  }
  while (q < e && STOP[b[q]!] === 0) q++;
  return q;
}

function hex(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

export class JsonScanner {
  buf: Uint8Array = EMPTY;
  pos = 0;
  end = 0;
  /** Check UTF-8 inside strings (set when the block failed the native check). */
  checkUtf8 = false;
  /** The last string read: bytes strBuf[strS, strE), in the input or (when it had escapes) in the arena. */
  strBuf: Uint8Array = EMPTY;
  strS = 0;
  strE = 0;
  /** True when the last string is in the arena (it had escapes). */
  strInArena = false;
  /** Unescaped strings. The reader resets it per top-level object; spans into it stay valid until then. */
  arena = new Uint8Array(1024);
  arenaLen = 0;
  /** A view of buf for plainEnd (remade when buf changes). */
  dv: DataView<ArrayBufferLike> = viewOf(EMPTY);

  /** The bytes last given to reset (buf is them as a plain Uint8Array). */
  private given: Uint8Array = EMPTY;

  /**
   * Scan buf[s, e). `buf` is kept as a plain Uint8Array over the same bytes (a view made
   * once per buffer): the readers hand the dictionary spans of it, and a Buffer from one
   * reader beside another's Uint8Arrays gave idOfBytes, sameBytes and plainEnd a second map
   * (a "wrong map" deopt in runs that mix GCP or Azure with other inputs).
   */
  reset(buf: Uint8Array, s: number, e: number, checkUtf8: boolean): void {
    if (buf !== this.given) {
      this.given = buf;
      this.buf = buf.constructor === Uint8Array ? buf : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
      this.dv = viewOf(buf);
    }
    this.pos = s;
    this.end = e;
    this.checkUtf8 = checkUtf8;
    this.arenaLen = 0;
  }

  fail(reason: string, pos = this.pos): never {
    throw new JsonError(pos, reason);
  }

  /** The next non-whitespace byte, not consumed; -1 at the end of the input. */
  peek(): number {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    while (p < end) {
      const c = b[p]!;
      if (c === 32 || c === 10 || c === 13 || c === 9) p++;
      else {
        this.pos = p;
        return c;
      }
    }
    this.pos = p;
    return -1;
  }

  /** Nothing but whitespace may follow (a line of NDJSON holds one value). */
  expectEnd(): void {
    if (this.peek() >= 0) this.fail('unexpected data after the object');
  }

  /** At '{': consume it. True when a member follows (read it with key()), false for '{}'. */
  openObject(): boolean {
    if (this.peek() !== 123) this.fail('expected an object');
    this.pos++;
    const c = this.peek();
    if (c === 125) {
      this.pos++;
      return false;
    }
    if (c !== 34) this.fail(c < 0 ? 'input ends inside an object' : 'expected a key');
    return true;
  }

  /** Read a member's key (into strBuf/strS/strE) and its ':'. */
  key(): void {
    this.str();
    if (this.peek() !== 58) this.fail(this.pos >= this.end ? 'input ends inside an object' : "expected ':' after a key");
    this.pos++;
  }

  /** After a member's value: true when another member follows, false at '}'. */
  nextMember(): boolean {
    const c = this.peek();
    if (c === 44) {
      this.pos++;
      if (this.peek() !== 34) this.fail(this.pos >= this.end ? 'input ends inside an object' : 'expected a key after \',\'');
      return true;
    }
    if (c === 125) {
      this.pos++;
      return false;
    }
    return this.fail(c < 0 ? 'input ends inside an object' : "expected ',' or '}'");
  }

  /** At '[': consume it. True when an element follows, false for '[]'. */
  openArray(): boolean {
    if (this.peek() !== 91) this.fail('expected an array');
    this.pos++;
    const c = this.peek();
    if (c === 93) {
      this.pos++;
      return false;
    }
    if (c < 0) this.fail('input ends inside an array');
    return true;
  }

  /** After an element: true when another element follows, false at ']'. */
  nextElement(): boolean {
    const c = this.peek();
    if (c === 44) {
      this.pos++;
      return true;
    }
    if (c === 93) {
      this.pos++;
      return false;
    }
    return this.fail(c < 0 ? 'input ends inside an array' : "expected ',' or ']'");
  }

  /** Read a string value; its bytes are strBuf[strS, strE). */
  str(): void {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    if (b[p] !== 34 || p >= end) this.fail('expected a string');
    p++;
    const s = p;
    if (!this.checkUtf8) p = plainEnd(this.dv, b, p, end);
    for (;;) {
      if (p >= end) this.fail('input ends inside a string', s - 1);
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92) {
        this.strEscaped(s, p);
        return;
      }
      if (c < 32) this.controlChar(p);
      p = c >= 128 && this.checkUtf8 ? this.utf8(p) : p + 1;
    }
    this.strBuf = b;
    this.strS = s;
    this.strE = p;
    this.strInArena = false;
    this.pos = p + 1;
  }

  /** A string with escapes: unescape it into the arena. */
  private strEscaped(s: number, p: number): void {
    const b = this.buf;
    const end = this.end;
    const start = this.arenaLen;
    this.arenaPut(b, s, p);
    for (;;) {
      if (p >= end) this.fail('input ends inside a string', s - 1);
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92) {
        const e = b[p + 1] ?? -1;
        if (e === 117) {
          let cp = this.hex4(p + 2);
          p += 6;
          if (cp >= 0xd800 && cp <= 0xdbff && b[p] === 92 && b[p + 1] === 117) {
            const lo = this.hex4(p + 2);
            if (lo >= 0xdc00 && lo <= 0xdfff) {
              cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              p += 6;
            }
          }
          // a lone surrogate is not a character: U+FFFD, as a decoder would
          if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
          this.arenaCodePoint(cp);
          continue;
        }
        const r = e >= 0 ? SIMPLE_ESCAPE[e]! : -1;
        if (r < 0) this.fail('bad escape in a string', p);
        this.arenaByte(r);
        p += 2;
        continue;
      }
      if (c < 32) this.controlChar(p);
      const q = c >= 128 && this.checkUtf8 ? this.utf8(p) : p + 1;
      this.arenaPut(b, p, q);
      p = q;
    }
    this.strBuf = this.arena;
    this.strS = start;
    this.strE = this.arenaLen;
    this.strInArena = true;
    this.pos = p + 1;
  }

  private controlChar(p: number): never {
    // a line break inside a string is how a cut-off line or document usually shows
    return this.fail(this.buf[p] === 10 ? 'line break inside a string (input cut off?)' : 'control character in a string', p);
  }

  private hex4(p: number): number {
    const b = this.buf;
    if (p + 4 > this.end) this.fail('input ends inside a \\u escape', p);
    let v = 0;
    for (let k = 0; k < 4; k++) {
      const h = hex(b[p + k]!);
      if (h < 0) this.fail('bad \\u escape in a string', p);
      v = (v << 4) | h;
    }
    return v;
  }

  private arenaReserve(n: number): void {
    if (this.arenaLen + n <= this.arena.length) return;
    const next = new Uint8Array(Math.max(this.arena.length * 2, this.arenaLen + n));
    next.set(this.arena.subarray(0, this.arenaLen));
    this.arena = next;
  }

  private arenaPut(b: Uint8Array, s: number, e: number): void {
    this.arenaReserve(e - s);
    this.arena.set(b.subarray(s, e), this.arenaLen);
    this.arenaLen += e - s;
  }

  private arenaByte(v: number): void {
    this.arenaReserve(1);
    this.arena[this.arenaLen++] = v;
  }

  private arenaCodePoint(cp: number): void {
    this.arenaReserve(4);
    const a = this.arena;
    let n = this.arenaLen;
    if (cp < 0x80) a[n++] = cp;
    else if (cp < 0x800) {
      a[n++] = 0xc0 | (cp >> 6);
      a[n++] = 0x80 | (cp & 63);
    } else if (cp < 0x10000) {
      a[n++] = 0xe0 | (cp >> 12);
      a[n++] = 0x80 | ((cp >> 6) & 63);
      a[n++] = 0x80 | (cp & 63);
    } else {
      a[n++] = 0xf0 | (cp >> 18);
      a[n++] = 0x80 | ((cp >> 12) & 63);
      a[n++] = 0x80 | ((cp >> 6) & 63);
      a[n++] = 0x80 | (cp & 63);
    }
    this.arenaLen = n;
  }

  /** Check one UTF-8 sequence starting at p (a byte >= 0x80); returns the index after it. */
  private utf8(p: number): number {
    const b = this.buf;
    const c = b[p]!;
    let n: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      min = 0x10000;
    } else {
      return this.fail('invalid UTF-8', p);
    }
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const d = p + k < this.end ? b[p + k]! : 0;
      if ((d & 0xc0) !== 0x80) this.fail('invalid UTF-8', p);
      cp = (cp << 6) | (d & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail('invalid UTF-8', p);
    return p + n + 1;
  }

  /**
   * A JSON number. Integers are exact up to 2^53; a number with a fraction or an
   * exponent is converted by the engine (rare in flow logs).
   */
  num(): number {
    const b = this.buf;
    const end = this.end;
    const s = this.pos;
    let p = s;
    let neg = false;
    if (b[p] === 45) {
      neg = true;
      p++;
    }
    let c = p < end ? b[p]! : -1;
    if (c < 48 || c > 57) this.fail('expected a number', s);
    let v = 0;
    if (c === 48) p++;
    else {
      while (p < end && (c = b[p]!) >= 48 && c <= 57) {
        v = v * 10 + (c - 48);
        p++;
      }
    }
    let simple = true;
    if (p < end && b[p] === 46) {
      simple = false;
      p++;
      const f = p;
      while (p < end && (c = b[p]!) >= 48 && c <= 57) p++;
      if (p === f) this.fail('bad number', s);
    }
    if (p < end && (b[p] === 101 || b[p] === 69)) {
      simple = false;
      p++;
      if (b[p] === 43 || b[p] === 45) p++;
      const f = p;
      while (p < end && (c = b[p]!) >= 48 && c <= 57) p++;
      if (p === f) this.fail('bad number', s);
    }
    this.pos = p;
    if (simple && p - s <= 15) return neg ? -v : v; // exact: fewer than 2^53
    return Number(latin1(b, s, p));
  }

  /** Skip any value, checking its grammar. */
  skip(depth = 0): void {
    const c = this.peek();
    const b = this.buf;
    switch (c) {
      case 34:
        this.skipString();
        return;
      case 123: {
        if (depth >= MAX_DEPTH) this.fail('nesting too deep');
        if (!this.openObject()) return;
        do {
          this.skipString();
          if (this.peek() !== 58) this.fail(this.pos >= this.end ? 'input ends inside an object' : "expected ':' after a key");
          this.pos++;
          this.skip(depth + 1);
        } while (this.nextMember());
        return;
      }
      case 91: {
        if (depth >= MAX_DEPTH) this.fail('nesting too deep');
        if (!this.openArray()) return;
        do this.skip(depth + 1);
        while (this.nextElement());
        return;
      }
      case 116: // true
        if (b[this.pos + 1] === 114 && b[this.pos + 2] === 117 && b[this.pos + 3] === 101 && this.pos + 4 <= this.end) {
          this.pos += 4;
          return;
        }
        break;
      case 102: // false
        if (b[this.pos + 1] === 97 && b[this.pos + 2] === 108 && b[this.pos + 3] === 115 && b[this.pos + 4] === 101 && this.pos + 5 <= this.end) {
          this.pos += 5;
          return;
        }
        break;
      case 110: // null
        if (this.isNull()) {
          this.pos += 4;
          return;
        }
        break;
      case -1:
        this.fail('input ends where a value was expected');
      // eslint-disable-next-line no-fallthrough
      default:
        if (c === 45 || (c >= 48 && c <= 57)) {
          this.num();
          return;
        }
    }
    this.fail('unexpected character');
  }

  /** At 'null' (after peek()). */
  isNull(): boolean {
    const b = this.buf;
    const p = this.pos;
    return b[p] === 110 && b[p + 1] === 117 && b[p + 2] === 108 && b[p + 3] === 108 && p + 4 <= this.end;
  }

  /** Skip null (true) or leave the input alone (false). */
  skipNull(): boolean {
    if (this.peek() === 110 && this.isNull()) {
      this.pos += 4;
      return true;
    }
    return false;
  }

  /** Skip a string without keeping it (no unescaping). */
  private skipString(): void {
    const b = this.buf;
    const end = this.end;
    let p = this.pos;
    if (b[p] !== 34 || p >= end) this.fail('expected a string');
    const s = p;
    p++;
    if (!this.checkUtf8) p = plainEnd(this.dv, b, p, end);
    for (;;) {
      if (p >= end) this.fail('input ends inside a string', s);
      const c = b[p]!;
      if (c === 34) break;
      if (c === 92) {
        const e = b[p + 1] ?? -1;
        if (e === 117) {
          this.hex4(p + 2);
          p += 6;
        } else if (e >= 0 && SIMPLE_ESCAPE[e]! >= 0) p += 2;
        else this.fail('bad escape in a string', p);
        continue;
      }
      if (c < 32) this.controlChar(p);
      p = c >= 128 && this.checkUtf8 ? this.utf8(p) : p + 1;
    }
    this.pos = p + 1;
  }

  /** True when the last string equals the ASCII literal `lit`. */
  is(lit: Uint8Array): boolean {
    const n = lit.length;
    if (this.strE - this.strS !== n) return false;
    const b = this.strBuf;
    const s = this.strS;
    for (let k = 0; k < n; k++) if (b[s + k] !== lit[k]) return false;
    return true;
  }

  /** The same, ignoring ASCII case (`lit` in lower case). */
  isCI(lit: Uint8Array): boolean {
    const n = lit.length;
    if (this.strE - this.strS !== n) return false;
    const b = this.strBuf;
    const s = this.strS;
    for (let k = 0; k < n; k++) {
      const c = b[s + k]!;
      if ((c >= 65 && c <= 90 ? c | 32 : c) !== lit[k]) return false;
    }
    return true;
  }
}

/** ASCII bytes of a key or literal. */
export function lit(s: string): Uint8Array {
  return Uint8Array.from(s, (ch) => ch.charCodeAt(0));
}

function latin1(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
  return out;
}

/** True when buf[s, e) is not valid UTF-8 (so the scanner must check string bytes itself). */
export function needsUtf8Check(buf: Uint8Array, s: number, e: number): boolean {
  return !isUtf8(buf.subarray(s, e));
}

/**
 * Line numbers from byte offsets in a document, counted forward from the last answer
 * (the readers ask in increasing order, so a document's newlines are counted once).
 */
export class LineCounter {
  private at = 0; // start of the current line
  /**
   * The newline that ends it (or the end of the buffer); -1 until a line is first asked for:
   * an Azure blob is one line of ~60 KB whose lines are asked for only when a record is
   * refused, and the search for its first newline went over the whole blob (~2 ms of the
   * parse thread for 40 MB).
   */
  private next = -1;
  private line = 1;
  constructor(private readonly buf: Uint8Array) {}

  private newlineFrom(p: number): number {
    const nl = this.buf.indexOf(10, p);
    return nl < 0 ? this.buf.length : nl;
  }

  lineAt(offset: number): number {
    if (offset < this.at || this.next < 0) {
      this.at = 0;
      this.line = 1;
      this.next = this.newlineFrom(0);
    }
    while (offset > this.next && this.next < this.buf.length) {
      this.line++;
      this.at = this.next + 1;
      this.next = this.newlineFrom(this.at);
    }
    return this.line;
  }

  /** 1-based column of an offset (for messages). */
  columnAt(offset: number): number {
    this.lineAt(offset); // leaves `at` at the start of that line
    return offset - this.at + 1;
  }
}

/** A UTF-8 byte order mark at buf[s]: its length (3) or 0. */
export function bomAt(buf: Uint8Array, s: number): number {
  return buf[s] === 0xef && buf[s + 1] === 0xbb && buf[s + 2] === 0xbf ? 3 : 0;
}

/**
 * After an error in a document, where to read on: the next line that starts with '{'
 * (in NDJSON-like or concatenated-with-newline documents that is the next object; in a
 * pretty-printed document nested lines are indented, so there is none). -1: stop.
 */
export function resyncPoint(buf: Uint8Array, from: number, end: number): number {
  let p = from;
  for (;;) {
    const nl = buf.indexOf(10, p);
    if (nl < 0 || nl + 1 >= end) return -1;
    if (buf[nl + 1] === 123) return nl + 1;
    p = nl + 1;
  }
}

/**
 * Where the object or array that starts at buf[start] ends, from its brackets alone
 * (strings are stepped over, nothing is checked), or -1 when it does not end. Used to
 * step over one value that failed to parse (bad UTF-8, a bad escape, a type error)
 * and read on with the next; a value cut short by the end of the input has no end.
 */
export function lenientEnd(buf: Uint8Array, start: number, end: number): number {
  const open = lenientStack;
  let depth = 0;
  let p = start;
  while (p < end) {
    const c = buf[p]!;
    if (c === 34) {
      p++;
      while (p < end && buf[p] !== 34) p += buf[p] === 92 ? 2 : 1;
      if (p >= end) return -1;
    } else if (c === 123 || c === 91) {
      if (depth === open.length) return -1;
      open[depth++] = c;
    } else if (c === 125 || c === 93) {
      // '}' closes '{' (123 + 2), ']' closes '[' (91 + 2)
      if (depth === 0 || open[--depth] !== c - 2) return -1;
      if (depth === 0) return p + 1;
    }
    p++;
  }
  return -1;
}

const lenientStack = new Uint8Array(MAX_DEPTH);

/** A short, printable description of where a document broke. */
export function describeBreak(e: JsonError, lines: LineCounter): string {
  const line = lines.lineAt(e.pos);
  const col = lines.columnAt(e.pos);
  return `${e.reason} at line ${line}, column ${col} (byte ${e.pos})`;
}
