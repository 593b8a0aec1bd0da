/**
 * The per-file results of a 'files' task (many small files in one parse task), packed for
 * the trip back to the main thread: one row of numbers a file in one Float64Array (what
 * every file has: lines, bytes, time span, counters), and objects only for the few files
 * that have more to say (rejects, an error, late records). Cloning 512 result objects per
 * task cost the parse thread more than parsing a small file.
 */
import { newCounters, type SinkCounters } from '../flow/sink.js';
import type { ParseResult } from './tasks.js';

const COUNTERS = Object.keys(newCounters()) as (keyof SinkCounters)[];
const FIXED = 6; // fileIndex, lines, bytesIn, bytesOut, minStart, maxEnd
export const ROW = FIXED + COUNTERS.length;

/** What does not fit a row: a file's rejects, error, head error, hand-back (replan), late records. */
export interface FileExtra {
  row: number;
  rejects?: ParseResult['rejects'];
  error?: ParseResult['error'];
  planError?: string;
  replan?: boolean;
  lateByWindow?: ParseResult['lateByWindow'];
}

export interface PackedFiles {
  rows: Float64Array;
  extras: FileExtra[];
}

export function packFiles(results: ParseResult[]): PackedFiles {
  const rows = new Float64Array(results.length * ROW);
  const extras: FileExtra[] = [];
  for (let k = 0; k < results.length; k++) {
    const r = results[k]!;
    const o = k * ROW;
    rows[o] = r.fileIndex;
    rows[o + 1] = r.lines;
    rows[o + 2] = r.bytesIn;
    rows[o + 3] = r.bytesOut;
    rows[o + 4] = r.minStart;
    rows[o + 5] = r.maxEnd;
    for (let c = 0; c < COUNTERS.length; c++) rows[o + FIXED + c] = r.counters[COUNTERS[c]!];
    if (r.rejects.length > 0 || r.error || r.planError !== undefined || r.replan || r.lateByWindow.length > 0) extras.push(extraOf(r, k));
  }
  return { rows, extras };
}

/**
 * What result `r` (row k) has to say beyond its row. Apart from packFiles' loop: inline, its
 * spreads, with no type feedback until a task's first such file (a file handed back, rejects),
 * deoptimised the compiled loop there, which was then compiled again (twice a run on the tiny
 * bucket; bench/RESULTS.md, session 22 perfile2).
 */
function extraOf(r: ParseResult, k: number): FileExtra {
  return {
    row: k,
    ...(r.rejects.length > 0 ? { rejects: r.rejects } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.planError !== undefined ? { planError: r.planError } : {}),
    ...(r.replan ? { replan: true } : {}),
    ...(r.lateByWindow.length > 0 ? { lateByWindow: r.lateByWindow } : {}),
  };
}

/**
 * A count read from a row, as a small integer when it is one: a double from the Float64Array
 * stored into a counters object turned its fields (0 at first: newCounters) into doubles, a
 * new map once a run that threw away the code using the old one.
 */
function wholeCount(v: number): number {
  return v <= 0x7fffffff ? v | 0 : v;
}

const RECORDS = FIXED + COUNTERS.indexOf('records');

/**
 * What a 'files' task did, for the run's progress (its task's own bytesIn and counters are
 * 0): the files it read to their end, their bytes and records. A file handed back (replan) is
 * left out: it is read again, and counted then.
 */
export function packedProgress(p: PackedFiles): { files: number; bytes: number; records: number } {
  let files = 0;
  let bytes = 0;
  let records = 0;
  for (let o = 0; o < p.rows.length; o += ROW) {
    files++;
    bytes += p.rows[o + 2]!;
    records += p.rows[o + RECORDS]!;
  }
  for (const e of p.extras) {
    if (!e.replan) continue;
    const o = e.row * ROW;
    files--;
    bytes -= p.rows[o + 2]!;
    records -= p.rows[o + RECORDS]!;
  }
  return { files, bytes, records };
}

export function unpackFiles(p: PackedFiles): ParseResult[] {
  const n = p.rows.length / ROW;
  const out: ParseResult[] = [];
  for (let k = 0; k < n; k++) {
    const o = k * ROW;
    const counters = newCounters();
    for (let c = 0; c < COUNTERS.length; c++) counters[COUNTERS[c]!] = wholeCount(p.rows[o + FIXED + c]!);
    out.push({
      fileIndex: p.rows[o]!, chunkIndex: 0, counters, rejects: [], lines: p.rows[o + 1]!, bytesIn: p.rows[o + 2]!,
      bytesOut: p.rows[o + 3]!, batches: 0, minStart: p.rows[o + 4]!, maxEnd: p.rows[o + 5]!, lateByWindow: [],
    });
  }
  for (const x of p.extras) {
    const r = out[x.row]!;
    if (x.rejects) r.rejects = x.rejects;
    if (x.error) r.error = x.error;
    if (x.planError !== undefined) r.planError = x.planError;
    if (x.replan) r.replan = true;
    if (x.lateByWindow) r.lateByWindow = x.lateByWindow;
  }
  return out;
}

/**
 * The packed rows of a run's 'files' tasks, kept by file index as they arrive: a small
 * file's outcome becomes its report (engine/run.ts collectReports) with no result object
 * in between. On 10,080 tiny files the unpacked results (an object, a counters object and
 * three arrays a file) were a fifth of the main thread's per-file work with their GC.
 */
export class FileRows {
  private readonly rows: Float64Array;
  private readonly filled: Uint8Array;
  private readonly extras = new Map<number, FileExtra>();
  /** The counters of the rows filled into reports, summed (addTotals). */
  private readonly sums = new Float64Array(COUNTERS.length);

  constructor(files: number) {
    this.rows = new Float64Array(files * ROW);
    this.filled = new Uint8Array(files);
  }

  /** A task's packed results; `handedBack` hears of each file the task did not read (ParseResult.replan). */
  add(p: PackedFiles, handedBack: (file: number) => void): void {
    const n = p.rows.length / ROW;
    const file = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = (file[k] = p.rows[k * ROW]!);
      this.rows.set(p.rows.subarray(k * ROW, (k + 1) * ROW), i * ROW);
      this.filled[i] = 1;
    }
    for (const x of p.extras) {
      const i = file[x.row]!;
      this.extras.set(i, x);
      if (x.replan) handedBack(i);
    }
  }

  has(file: number): boolean {
    return this.filled[file] === 1;
  }

  /** Forget a file's row (a file handed back, read again by another task). */
  clear(file: number): void {
    this.filled[file] = 0;
    this.extras.delete(file);
  }

  /** True when the file has more to say than its row (rejects, an error, late records...): read it as a result. */
  hasExtra(file: number): boolean {
    return this.extras.has(file);
  }

  /** What the file's row says, into a report's fields (its counters start at zero: newCounters); its counters summed for addTotals. */
  fill(file: number, rep: { bytes: number; decompressedBytes: number; counters: SinkCounters; minStart: number; maxEnd: number }): void {
    const o = file * ROW;
    const rows = this.rows;
    rep.bytes = wholeCount(rows[o + 2]!);
    rep.decompressedBytes = wholeCount(rows[o + 3]!);
    rep.minStart = rows[o + 4]!;
    rep.maxEnd = rows[o + 5]!;
    const counters = rep.counters;
    const sums = this.sums;
    for (let c = 0; c < COUNTERS.length; c++) {
      const v = rows[o + FIXED + c]!;
      counters[COUNTERS[c]!] = wholeCount(v);
      sums[c] += v;
    }
  }

  /** The counters of every row filled so far, added into `totals` (whole counts: the sum's order does not matter). */
  addTotals(totals: SinkCounters): void {
    for (let c = 0; c < COUNTERS.length; c++) totals[COUNTERS[c]!] = wholeCount(totals[COUNTERS[c]!] + this.sums[c]!);
    this.sums.fill(0);
  }

  /** The file's result as the object unpackFiles gives (files with extras). */
  result(file: number): ParseResult {
    const o = file * ROW;
    const one = unpackFiles({ rows: this.rows.subarray(o, o + ROW), extras: [] })[0]!;
    const x = this.extras.get(file);
    if (x) {
      if (x.rejects) one.rejects = x.rejects;
      if (x.error) one.error = x.error;
      if (x.planError !== undefined) one.planError = x.planError;
      if (x.replan) one.replan = true;
      if (x.lateByWindow) one.lateByWindow = x.lateByWindow;
    }
    return one;
  }
}
