/**
 * Compact indexes of the bundled ASN range files (asn-csv.ts), written by `npm run build`
 * (scripts/asn-index.ts) into dist/data/: a run that enriches a few scanner addresses
 * reads a few MB of sorted integers and a line of the CSV per answer, instead of scanning
 * 21 MB of text (issue 19: enrichment costs nothing until used).
 *
 * The index holds the ranges in the order lookupV4/lookupV6 visit them (sorted by start,
 * ties in file order, lines whose start or end does not parse left out), with the running
 * maximum of their ends: the first range in that order that holds an address is the first
 * whose running maximum reaches it, if its start is not above the address. That is the
 * range the merge in asn-csv.ts answers from, so the answers are the same
 * (test/enrich.test.ts). An index that does not match its CSV (size, modification time)
 * is not used.
 *
 * Layout (little-endian u32): magic, version, family, count, CSV size, CSV mtime (ms,
 * low and high words), 0; then starts, ends, running maximum ends (one word a range for
 * IPv4, four for IPv6) and each range's line offset in the CSV.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { answerLine, rangeLines, type AsnAnswer } from './asn-csv.js';

const MAGIC = 0x58415346; // "FSAX"
const VERSION = 1;
const HEADER_WORDS = 8;

/** Where the build puts the index of a CSV file. */
export function indexPathFor(csv: string): string {
  return join(fileURLToPath(new URL('../../data/', import.meta.url)), `${basename(csv)}.idx`);
}

/** The index of one ASN CSV file (family 4: numeric IPv4 starts and ends; 6: IPv6 text); throws for a file it cannot stand for. */
export function buildAsnIndex(csv: string, family: 4 | 6): Uint8Array {
  const buf = readFileSync(csv);
  const st = statSync(csv);
  const ranges = rangeLines(buf, family); // in visiting order, unusable lines left out
  if (!ranges) throw new Error(`${csv}: a line the index cannot stand for (no index; the file is scanned)`);
  const w = family === 4 ? 1 : 4;
  const n = ranges.offsets.length;
  const out = new Uint32Array(HEADER_WORDS + n * (3 * w + 1));
  const mtime = Math.floor(st.mtimeMs);
  out.set([MAGIC, VERSION, family, n, st.size, mtime % 2 ** 32, Math.floor(mtime / 2 ** 32), 0]);
  const starts = out.subarray(HEADER_WORDS, HEADER_WORDS + n * w);
  const ends = out.subarray(HEADER_WORDS + n * w, HEADER_WORDS + 2 * n * w);
  const maxEnds = out.subarray(HEADER_WORDS + 2 * n * w, HEADER_WORDS + 3 * n * w);
  starts.set(ranges.starts.subarray(0, n * w));
  ends.set(ranges.ends.subarray(0, n * w));
  for (let k = 0; k < n; k++) {
    const prev = k === 0 || compareWords(ends, k * w, maxEnds, (k - 1) * w, w) > 0 ? k : -1;
    for (let j = 0; j < w; j++) maxEnds[k * w + j] = prev >= 0 ? ends[k * w + j]! : maxEnds[(k - 1) * w + j]!;
  }
  out.set(ranges.offsets, HEADER_WORDS + 3 * n * w);
  return new Uint8Array(out.buffer);
}

interface Index {
  n: number;
  w: number;
  starts: Uint32Array;
  maxEnds: Uint32Array;
  offsets: Uint32Array;
}

const loaded = new Map<string, Index | null>();

/** The index of a CSV file, when the build wrote one that matches it; else null. */
function indexOf(csv: string, family: 4 | 6, path: string): Index | null {
  const key = `${csv}\0${path}`;
  if (loaded.has(key)) return loaded.get(key)!;
  let idx: Index | null = null;
  try {
    if (existsSync(path)) {
      const bytes = readFileSync(path);
      const u = new Uint32Array(bytes.buffer, bytes.byteOffset, Math.floor(bytes.length / 4));
      const st = statSync(csv);
      const mtime = Math.floor(st.mtimeMs);
      const w = family === 4 ? 1 : 4;
      const n = u[3]!;
      const ok = u[0] === MAGIC && u[1] === VERSION && u[2] === family && u[4] === st.size % 2 ** 32 &&
        u[5] === mtime % 2 ** 32 && u[6] === Math.floor(mtime / 2 ** 32) && u.length === HEADER_WORDS + n * (3 * w + 1);
      if (ok) {
        idx = {
          n, w,
          starts: u.subarray(HEADER_WORDS, HEADER_WORDS + n * w),
          maxEnds: u.subarray(HEADER_WORDS + 2 * n * w, HEADER_WORDS + 3 * n * w),
          offsets: u.subarray(HEADER_WORDS + 3 * n * w),
        };
      }
    }
  } catch {
    idx = null; // no usable index: the CSV is scanned
  }
  loaded.set(key, idx);
  return idx;
}

/** Load the build's index of `csv` now (lookupIndexed finds it loaded). */
export function prepareIndex(csv: string, family: 4 | 6, indexPath = indexPathFor(csv)): void {
  indexOf(csv, family, indexPath);
}

/**
 * lookupV4 / lookupV6 (asn-csv.ts) through the build's index: the same answers, or null
 * when there is no index for this file (the caller then scans it).
 */
export function lookupIndexed(
  csv: string,
  family: 4 | 6,
  queries: readonly ArrayLike<number>[] | readonly number[],
  indexPath = indexPathFor(csv),
): (AsnAnswer | undefined)[] | null {
  const idx = indexOf(csv, family, indexPath);
  if (!idx) return null;
  const q = new Uint32Array(idx.w);
  const out: (AsnAnswer | undefined)[] = new Array<AsnAnswer | undefined>(queries.length).fill(undefined);
  const fd = openSync(csv, 'r');
  try {
    for (let i = 0; i < queries.length; i++) {
      const x = queries[i]!;
      if (typeof x === 'number') q[0] = x >>> 0;
      else for (let j = 0; j < 4; j++) q[j] = x[j]! >>> 0;
      // the first range whose running maximum end reaches the address
      let lo = 0;
      let hi = idx.n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareWords(idx.maxEnds, mid * idx.w, q, 0, idx.w) < 0) lo = mid + 1;
        else hi = mid;
      }
      if (lo < idx.n && compareWords(idx.starts, lo * idx.w, q, 0, idx.w) <= 0) out[i] = answerAt(fd, idx.offsets[lo]!);
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

/** The answer of the CSV line at `offset` (read on its own). */
function answerAt(fd: number, offset: number): AsnAnswer | undefined {
  for (let size = 1024; ; size *= 4) {
    const buf = Buffer.allocUnsafe(size);
    const got = readSync(fd, buf, 0, size, offset);
    const line = buf.subarray(0, got);
    if (line.indexOf(10) >= 0 || got < size) return answerLine(line, 0);
  }
}

function compareWords(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, w: number): number {
  for (let k = 0; k < w; k++) {
    const x = a[ao + k]! >>> 0;
    const y = b[bo + k]! >>> 0;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

