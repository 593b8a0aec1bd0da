/**
 * ASN lookups in the range CSV files of @ip-location-db/asn
 * (`start,end,asn,"organisation"`, inclusive ranges, sorted by start):
 * asn-ipv4-num.csv (numeric IPv4) and asn-ipv6.csv (IPv6 text).
 *
 * Lookups come in batches of unique addresses, so instead of loading 500,000 ranges into
 * a table, one pass over the file's bytes is merged with the sorted queries: the numbers
 * of every line are parsed, the organisation only for lines that answer a query. Ranges
 * that overlap (the data has a few) are resolved to the first range that contains the
 * address. A file whose starts are out of order is sorted first.
 */
import { readFileSync } from 'node:fs';
import { parseIPv6Bytes } from '../net/address.js';

export interface AsnAnswer {
  asn: number;
  org: string;
}

const COMMA = 44;
const NL = 10;
const QUOTE = 34;
const decoder = new TextDecoder();

/** One line's fields: [start, end) byte spans. */
interface LineSpans {
  s0: number; e0: number; // range start
  s1: number; e1: number; // range end
  s2: number; e2: number; // asn
  s3: number; e3: number; // organisation (maybe quoted)
  next: number; // start of the next line
}

function scanLine(buf: Uint8Array, i: number, out: LineSpans): boolean {
  const n = buf.length;
  let j = i;
  while (j < n && buf[j] !== COMMA && buf[j] !== NL) j++;
  if (j >= n || buf[j] !== COMMA) return false;
  out.s0 = i;
  out.e0 = j;
  let k = j + 1;
  while (k < n && buf[k] !== COMMA && buf[k] !== NL) k++;
  if (k >= n || buf[k] !== COMMA) return false;
  out.s1 = j + 1;
  out.e1 = k;
  let m = k + 1;
  while (m < n && buf[m] !== COMMA && buf[m] !== NL) m++;
  out.s2 = k + 1;
  out.e2 = m;
  // organisation: to the end of the line; a quoted field may hold commas and "" escapes
  let q = m + 1;
  if (m < n && buf[m] === COMMA && buf[q] === QUOTE) {
    q++;
    while (q < n && !(buf[q] === QUOTE && buf[q + 1] !== QUOTE)) q += buf[q] === QUOTE ? 2 : 1;
    q++;
    while (q < n && buf[q] !== NL) q++;
  } else {
    while (q < n && buf[q] !== NL) q++;
  }
  out.s3 = m < n && buf[m] === COMMA ? m + 1 : m;
  out.e3 = Math.min(q, n);
  if (out.e3 > out.s3 && buf[out.e3 - 1] === 13) out.e3--; // CRLF
  out.next = q + 1;
  return true;
}

function parseUint(buf: Uint8Array, s: number, e: number): number {
  if (e <= s) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

function orgText(buf: Uint8Array, s: number, e: number): string {
  if (e - s >= 2 && buf[s] === QUOTE && buf[e - 1] === QUOTE) return decoder.decode(buf.subarray(s + 1, e - 1)).replace(/""/g, '"');
  return decoder.decode(buf.subarray(s, e));
}

/**
 * IPv4: `queries` are unsigned 32-bit addresses sorted ascending, without duplicates.
 * Returns the answer for each query (undefined where no range holds it).
 */
export function lookupV4(path: string, queries: readonly number[]): (AsnAnswer | undefined)[] {
  const buf = readFileSync(path);
  const ln: LineSpans = { s0: 0, e0: 0, s1: 0, e1: 0, s2: 0, e2: 0, s3: 0, e3: 0, next: 0 };
  let lines: number[] = [];
  const starts: number[] = [];
  let sorted = true;
  // first pass: only each line's start (the rest of the line is skipped by a native search)
  for (let i = 0; i < buf.length; ) {
    let j = i;
    let s = 0;
    for (; j < buf.length; j++) {
      const c = buf[j]! - 48;
      if (c < 0 || c > 9) break;
      s = s * 10 + c;
    }
    if (j > i && buf[j] === COMMA) {
      if (starts.length && s < starts[starts.length - 1]!) sorted = false;
      starts.push(s);
      lines.push(i);
    } // else a header or a bad line
    const nl = buf.indexOf(NL, j);
    if (nl < 0) break;
    i = nl + 1;
  }
  if (!sorted) {
    const order = lines.map((_, k) => k).sort((a, b) => starts[a]! - starts[b]! || a - b);
    lines = order.map((k) => lines[k]!);
  }
  const out: (AsnAnswer | undefined)[] = new Array<AsnAnswer | undefined>(queries.length).fill(undefined);
  let qi = 0;
  for (const off of lines) {
    if (qi >= queries.length) break;
    scanLine(buf, off, ln);
    const s = parseUint(buf, ln.s0, ln.e0);
    const e = parseUint(buf, ln.s1, ln.e1);
    if (e < s) continue;
    while (qi < queries.length && queries[qi]! < s) qi++;
    let j = qi;
    let a: AsnAnswer | undefined | null = null; // decoded once per line that answers
    while (j < queries.length && queries[j]! <= e) {
      if (out[j] === undefined) out[j] = a === null ? (a = answer(buf, ln)) : a;
      j++;
    }
    // with overlapping ranges the next one may start below e: what lies there is answered already
    qi = j;
  }
  return out;
}

function answer(buf: Uint8Array, ln: LineSpans): AsnAnswer | undefined {
  const asn = parseUint(buf, ln.s2, ln.e2);
  if (asn < 0) return undefined;
  return { asn, org: orgText(buf, ln.s3, ln.e3) };
}

/** IPv6: `queries` are four-word addresses sorted by compareAddress, without duplicates. */
export function lookupV6(path: string, queries: readonly ArrayLike<number>[]): (AsnAnswer | undefined)[] {
  const buf = readFileSync(path);
  const ln: LineSpans = { s0: 0, e0: 0, s1: 0, e1: 0, s2: 0, e2: 0, s3: 0, e3: 0, next: 0 };
  let starts = new Uint32Array(4 * 65536); // range starts, four words each
  const lines: number[] = [];
  let sorted = true;
  // first pass: only each line's start (the rest of the line is skipped by a native search)
  for (let i = 0; i < buf.length; ) {
    const comma = buf.indexOf(COMMA, i);
    const nl = buf.indexOf(NL, i);
    const n = lines.length;
    if (4 * n + 4 > starts.length) {
      const next = new Uint32Array(starts.length * 2);
      next.set(starts);
      starts = next;
    }
    // a header or a bad line is skipped
    if (comma >= 0 && (nl < 0 || comma < nl) && parseIPv6Bytes(buf, i, comma, starts, 4 * n)) {
      if (n > 0 && compareWords(starts, 4 * n, starts, 4 * n - 4) < 0) sorted = false;
      lines.push(i);
    }
    if (nl < 0) break;
    i = nl + 1;
  }
  let order = lines.map((_, k) => k);
  if (!sorted) order = order.sort((a, b) => compareWords(starts, 4 * a, starts, 4 * b) || a - b);
  const end = new Uint32Array(4);
  const out: (AsnAnswer | undefined)[] = new Array<AsnAnswer | undefined>(queries.length).fill(undefined);
  let qi = 0;
  for (const k of order) {
    if (qi >= queries.length) break;
    scanLine(buf, lines[k]!, ln);
    if (!parseIPv6Bytes(buf, ln.s1, ln.e1, end, 0)) continue;
    while (qi < queries.length && compareWords(queries[qi]!, 0, starts, 4 * k) < 0) qi++;
    let j = qi;
    let a: AsnAnswer | undefined | null = null;
    while (j < queries.length && compareWords(queries[j]!, 0, end, 0) <= 0) {
      if (out[j] === undefined) out[j] = a === null ? (a = answer(buf, ln)) : a;
      j++;
    }
    qi = j;
  }
  return out;
}

/** Plain numeric order of four words (IPv6 ranges never mix with the IPv4 family here). */
function compareWords(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number): number {
  for (let k = 0; k < 4; k++) {
    const x = a[ao + k]! >>> 0;
    const y = b[bo + k]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}


/**
 * The ranges lookupV4 / lookupV6 visit, in their order (sorted by start, ties in file
 * order), without the lines they skip (an end that does not parse, or below the start):
 * starts and ends (1 word a range for IPv4, 4 for IPv6) and line offsets, for the build's
 * index (asn-index.ts). Null when a line is not one the index can stand for (a line the
 * merge reads with spans of another, or whose quoted organisation runs past its end).
 */
export function rangeLines(buf: Uint8Array, family: 4 | 6): { starts: Uint32Array; ends: Uint32Array; offsets: Uint32Array } | null {
  const w = family === 4 ? 1 : 4;
  const lines: number[] = [];
  const first: number[] = []; // IPv4 starts from the first pass
  let startWords = new Uint32Array(4 * 1024);
  for (let i = 0; i < buf.length; ) {
    const comma = buf.indexOf(COMMA, i);
    const nl = buf.indexOf(NL, i);
    if (family === 4) {
      let j = i;
      let v = 0;
      for (; j < buf.length; j++) {
        const c = buf[j]! - 48;
        if (c < 0 || c > 9) break;
        v = v * 10 + c;
      }
      if (j > i && buf[j] === COMMA) {
        first.push(v);
        lines.push(i);
      }
    } else {
      const n = lines.length;
      if (4 * n + 4 > startWords.length) {
        const next = new Uint32Array(startWords.length * 2);
        next.set(startWords);
        startWords = next;
      }
      if (comma >= 0 && (nl < 0 || comma < nl) && parseIPv6Bytes(buf, i, comma, startWords, 4 * n)) lines.push(i);
    }
    if (nl < 0) break;
    i = nl + 1;
  }
  const order = lines.map((_, k) => k);
  order.sort(family === 4 ? (a, b) => first[a]! - first[b]! || a - b : (a, b) => compareWords(startWords, 4 * a, startWords, 4 * b) || a - b);
  const starts = new Uint32Array(order.length * w);
  const ends = new Uint32Array(order.length * w);
  const offsets = new Uint32Array(order.length);
  const ln: LineSpans = { s0: 0, e0: 0, s1: 0, e1: 0, s2: 0, e2: 0, s3: 0, e3: 0, next: 0 };
  const end = new Uint32Array(4);
  let n = 0;
  for (const k of order) {
    const off = lines[k]!;
    if (!scanLine(buf, off, ln)) return null;
    const nl = buf.indexOf(NL, off);
    if (ln.next !== (nl < 0 ? buf.length + 1 : nl + 1)) return null;
    if (family === 4) {
      const s = parseUint(buf, ln.s0, ln.e0);
      const e = parseUint(buf, ln.s1, ln.e1);
      if (e < s) continue;
      starts[n] = s;
      ends[n] = e;
    } else {
      if (!parseIPv6Bytes(buf, ln.s1, ln.e1, end, 0)) continue;
      starts.set(startWords.subarray(4 * k, 4 * k + 4), 4 * n);
      ends.set(end, 4 * n);
    }
    offsets[n++] = off;
  }
  return { starts: starts.subarray(0, n * w), ends: ends.subarray(0, n * w), offsets: offsets.subarray(0, n) };
}

/** The answer of the line starting at `off` (asn-index.ts reads one line of the file). */
export function answerLine(buf: Uint8Array, off: number): AsnAnswer | undefined {
  const ln: LineSpans = { s0: 0, e0: 0, s1: 0, e1: 0, s2: 0, e2: 0, s3: 0, e3: 0, next: 0 };
  if (!scanLine(buf, off, ln)) return undefined;
  return answer(buf, ln);
}
