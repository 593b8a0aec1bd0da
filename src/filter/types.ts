/**
 * One interface for writing an input format back with its scan traffic removed (or
 * tagged). A format's filter gets blocks of whole lines, decides each record, and hands
 * the bytes to keep to the output; what it does not hand over is removed. Lines it cannot
 * parse are kept as they are: a filter only removes what it knows to be scan traffic.
 */
import type { FormatName } from '../formats/types.js';
import type { ScanKeySet } from './keys.js';

export type FilterMode = 'drop' | 'tag';

export interface FilterCounters {
  lines: number; // physical lines read
  records: number; // flow records parsed
  scan_records: number; // records that are scan traffic (removed, or tagged)
  scan_bytes: number; // bytes of those records' lines (decompressed, with their newline)
  kept_lines: number; // lines written out (headers, records, unparsed lines; tagged lines in tag mode)
  unparsed: number; // lines that were not a flow record (headers, NODATA, bad lines): kept
  mixed_lines: number; // lines carrying scan and other records: kept whole (a line is not split)
}

export function newFilterCounters(): FilterCounters {
  return { lines: 0, records: 0, scan_records: 0, scan_bytes: 0, kept_lines: 0, unparsed: 0, mixed_lines: 0 };
}

/** Where a filter writes what it keeps. Bytes are copied at once: buf may be reused. */
export interface FilterOutput {
  write(buf: Uint8Array, s: number, e: number): void;
}

export interface FilterContext {
  keys: ScanKeySet;
  windowSeconds: number;
  mode: FilterMode;
  /** Also count the endpoints' replies to scanners as scan traffic. */
  replies: boolean;
  /** AWS: field names for files without a header line. */
  awsFields?: string[];
  /** The file as the user named it, and the defaults a reader takes from the path or options. */
  file: string;
  account: string;
  region: string;
  cloud?: string;
  counters: FilterCounters;
}

export interface LineFilter {
  /** Decide the whole lines in buf[s, e) (e is past the last '\n', or the end of input). */
  filterLines(buf: Uint8Array, s: number, e: number, out: FilterOutput): void;
}

export interface FormatFilter {
  name: FormatName;
  /** Whether --mode tag is possible (JSON formats can carry an extra field; text formats cannot). */
  canTag: boolean;
  open(ctx: FilterContext): LineFilter;
}
