/**
 * The files of a 'files' task, packed for the trip to the parse thread: a row of numbers a
 * file in one Float64Array, every path in one string, and each distinct format, account,
 * region, header line and field list once. Cloning 512 file objects of 13 fields each
 * (structured clone writes every key of every object, and every string again) cost the
 * main thread ~2 µs a file to post and the parse thread about as much to read.
 */
import type { GroupFile } from './tasks.js';

const ROW = 10; // fileIndex, size, notAfter, flags, format, account, region, headerLine, awsFields, display (-1: none)

/** gzip, headUnchecked and sniffInThread as they were: true, false or undefined (two bits each). */
const TRI = { gzip: 0, headUnchecked: 2, sniffInThread: 4 } as const;
const triBits = (v: boolean | undefined): number => (v === undefined ? 0 : v ? 1 : 2);
const triOf = (bits: number): boolean | undefined => (bits === 0 ? undefined : bits === 1);

export interface PackedGroup {
  rows: Float64Array;
  /** every file's path, joined by NUL (no path holds one) */
  paths: string;
  strings: string[];
  fieldLists: string[][];
}

export function packGroup(files: readonly GroupFile[]): PackedGroup {
  const rows = new Float64Array(files.length * ROW);
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const fieldLists: string[][] = [];
  const listIds = new Map<string[], number>();
  const idOf = (s: string | undefined): number => {
    if (s === undefined) return -1;
    let id = stringIds.get(s);
    if (id === undefined) stringIds.set(s, (id = strings.push(s) - 1));
    return id;
  };
  const paths: string[] = new Array<string>(files.length);
  for (let k = 0; k < files.length; k++) {
    const f = files[k]!;
    const o = k * ROW;
    paths[k] = f.path;
    rows[o] = f.fileIndex;
    rows[o + 1] = f.size;
    rows[o + 2] = f.notAfter;
    rows[o + 3] = (triBits(f.gzip) << TRI.gzip) | (triBits(f.headUnchecked) << TRI.headUnchecked) | (triBits(f.sniffInThread) << TRI.sniffInThread);
    rows[o + 4] = idOf(f.format);
    rows[o + 5] = idOf(f.account);
    rows[o + 6] = idOf(f.region);
    rows[o + 7] = idOf(f.headerLine);
    let list = -1;
    if (f.awsFields) {
      list = listIds.get(f.awsFields) ?? -1;
      if (list < 0) listIds.set(f.awsFields, (list = fieldLists.push(f.awsFields) - 1));
    }
    rows[o + 8] = list;
    rows[o + 9] = f.display === f.path ? -1 : idOf(f.display);
  }
  return { rows, paths: paths.join('\0'), strings, fieldLists };
}

/** The files as they went in: every field present (undefined where it was), in one shape. */
export function unpackGroup(p: PackedGroup): GroupFile[] {
  const n = p.rows.length / ROW;
  const paths = n > 0 ? p.paths.split('\0') : [];
  const out: GroupFile[] = new Array<GroupFile>(n);
  const str = (id: number): string | undefined => (id < 0 ? undefined : p.strings[id]);
  for (let k = 0; k < n; k++) {
    const o = k * ROW;
    const rows = p.rows;
    const flags = rows[o + 3]!;
    const path = paths[k]!;
    out[k] = {
      fileIndex: rows[o]!,
      path,
      display: rows[o + 9]! < 0 ? path : str(rows[o + 9]!)!,
      format: str(rows[o + 4]!) as GroupFile['format'],
      gzip: triOf((flags >> TRI.gzip) & 3) as boolean,
      size: rows[o + 1]!,
      account: str(rows[o + 5]!)!,
      region: str(rows[o + 6]!)!,
      awsFields: rows[o + 8]! < 0 ? undefined : p.fieldLists[rows[o + 8]!],
      headerLine: str(rows[o + 7]!),
      headUnchecked: triOf((flags >> TRI.headUnchecked) & 3),
      sniffInThread: triOf((flags >> TRI.sniffInThread) & 3),
      notAfter: rows[o + 2]!,
    };
  }
  return out;
}
