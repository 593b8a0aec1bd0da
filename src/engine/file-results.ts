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
  results.forEach((r, k) => {
    const o = k * ROW;
    rows[o] = r.fileIndex;
    rows[o + 1] = r.lines;
    rows[o + 2] = r.bytesIn;
    rows[o + 3] = r.bytesOut;
    rows[o + 4] = r.minStart;
    rows[o + 5] = r.maxEnd;
    for (let c = 0; c < COUNTERS.length; c++) rows[o + FIXED + c] = r.counters[COUNTERS[c]!];
    if (r.rejects.length > 0 || r.error || r.planError !== undefined || r.replan || r.lateByWindow.length > 0) {
      extras.push({
        row: k,
        ...(r.rejects.length > 0 ? { rejects: r.rejects } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...(r.planError !== undefined ? { planError: r.planError } : {}),
        ...(r.replan ? { replan: true } : {}),
        ...(r.lateByWindow.length > 0 ? { lateByWindow: r.lateByWindow } : {}),
      });
    }
  });
  return { rows, extras };
}

export function unpackFiles(p: PackedFiles): ParseResult[] {
  const n = p.rows.length / ROW;
  const out: ParseResult[] = [];
  for (let k = 0; k < n; k++) {
    const o = k * ROW;
    const counters = newCounters();
    for (let c = 0; c < COUNTERS.length; c++) counters[COUNTERS[c]!] = p.rows[o + FIXED + c]!;
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
