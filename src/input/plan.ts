/**
 * Turning the user's paths into work: walk directories, sniff each file's format from
 * its content, take account and region from the S3 key layout, and cut plain-text files
 * into byte ranges that workers read in parallel. Files that cannot be read are listed
 * with the reason; they never stop the run.
 */
import { openSync, readSync, closeSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync, constants as zc } from 'node:zlib';
import { isGzip, sniffFormat, awsHeaderOf } from '../formats/sniff.js';
import { awsPathInfo } from '../formats/aws.js';
import { readerFor } from '../formats/registry.js';
import type { FormatName } from '../formats/types.js';

export interface InputFile {
  path: string; // '-' for stdin
  display: string;
  size: number;
  gzip: boolean;
  format: FormatName | null;
  account: string;
  region: string;
  awsFields?: string[];
  error?: string; // the file cannot be read: why
}

export interface PlanOptions {
  format?: FormatName; // forced
  account?: string;
  region?: string;
  awsFields?: string[];
}

const HEAD_BYTES = 1 << 16;

/** Every file under the given paths, sorted, each with its format and defaults. */
export function planInputs(paths: string[], opts: PlanOptions): InputFile[] {
  const files: InputFile[] = [];
  for (const p of paths) {
    if (p === '-') {
      files.push({ path: '-', display: '<stdin>', size: -1, gzip: false, format: opts.format ?? 'aws-text', account: opts.account ?? '', region: opts.region ?? '', awsFields: opts.awsFields });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      files.push(broken(p, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`));
      continue;
    }
    if (st.isDirectory()) {
      for (const f of walk(p)) files.push(describe(f, opts));
    } else {
      files.push(describe(p, opts));
    }
  }
  return files;
}

function broken(path: string, error: string): InputFile {
  return { path, display: path, size: 0, gzip: false, format: null, account: '', region: '', error };
}

function walk(dir: string): string[] {
  const out: string[] = [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    const full = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(full));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/** The first bytes of a file, gunzipped when it is gzip (partial inflate, never the whole file). */
export function readHead(path: string): { head: Uint8Array; gzip: boolean; size: number } {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    const buf = Buffer.alloc(Math.min(size, HEAD_BYTES));
    const got = readSync(fd, buf, 0, buf.length, 0);
    const raw = buf.subarray(0, got);
    if (!isGzip(raw)) return { head: raw, gzip: false, size };
    try {
      const head = gunzipSync(raw, { finishFlush: zc.Z_SYNC_FLUSH, maxOutputLength: HEAD_BYTES * 64 });
      return { head: head.subarray(0, HEAD_BYTES), gzip: true, size };
    } catch {
      return { head: new Uint8Array(0), gzip: true, size };
    }
  } finally {
    closeSync(fd);
  }
}

function describe(path: string, opts: PlanOptions): InputFile {
  const fromPath = awsPathInfo(path);
  const base: InputFile = {
    path,
    display: path,
    size: 0,
    gzip: false,
    format: null,
    account: fromPath.account ?? opts.account ?? '',
    region: fromPath.region ?? opts.region ?? '',
    awsFields: opts.awsFields,
  };
  let head: Uint8Array;
  try {
    const h = readHead(path);
    head = h.head;
    base.size = h.size;
    base.gzip = h.gzip;
  } catch (err) {
    return { ...base, error: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` };
  }
  if (base.size === 0) return { ...base, error: 'empty file' };
  const format = opts.format ?? sniffFormat(head, path);
  if (!format) {
    return { ...base, error: base.gzip && head.length === 0 ? 'gzip header is damaged' : 'unrecognised format (not a known flow-log layout)' };
  }
  if (!readerFor(format)) return { ...base, format, error: `format '${format}' is not supported yet` };
  base.format = format;
  if (format === 'aws-text') base.awsFields = awsHeaderOf(head) ?? opts.awsFields;
  return base;
}

/** Byte ranges of a plain line-oriented file for parallel parsing. */
export function chunkRanges(size: number, chunkBytes: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let s = 0; s < size; s += chunkBytes) ranges.push([s, Math.min(size, s + chunkBytes)]);
  if (ranges.length === 0) ranges.push([0, 0]);
  return ranges;
}

export function displayPath(path: string, root: string): string {
  const r = relative(root, path);
  return r.startsWith('..') ? path : r;
}
