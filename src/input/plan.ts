/**
 * Turning the user's paths into work: walk directories, sniff each file's format from
 * its content, take account and region from the S3 key layout, and cut plain-text files
 * into byte ranges that workers read in parallel. Files that cannot be read are listed
 * with the reason; they never stop the run.
 */
import { openSync, readSync, closeSync, readdirSync, statSync, fstatSync } from 'node:fs';
import { takeListing, takeSize, type ListedEntry } from './listing.js';
import { join, relative, sep } from 'node:path';
import { zlibNow } from './zlib.js';
import { isGzip, awsHeaderOf, Head, sniffHead } from '../formats/sniff.js';
import { awsText } from '../formats/aws.js';
import { keyInfo } from './key-info.js';
import { readerFor } from '../formats/registry.js';
import type { FormatName } from '../formats/types.js';
import { formatByName } from './named-formats.js';

export interface InputFile {
  path: string; // '-' for stdin
  display: string;
  size: number;
  gzip: boolean;
  format: FormatName | null;
  account: string;
  region: string;
  awsFields?: string[];
  /** The first non-blank line (line formats): a reader of a later chunk learns the file's layout from it. */
  headerLine?: string;
  error?: string; // the file cannot be read: why
  /**
   * A streamed input (stdin, an object in a bucket): its bytes come from here, and its
   * gzip, format and header are sniffed when it is read (src/input/stream.ts), not planned.
   */
  open?: () => Promise<AsyncIterable<Uint8Array>>;
  /** A streamed object's last-modified time (Unix ms), from its listing. */
  modified?: number;
  /** Planned from its first line alone (PlanOptions.quickHeadBelow): see headError. */
  headUnchecked?: boolean;
  /**
   * Planned from its name and size alone (PlanOptions.sniffInThread): taken for a gzip AWS
   * text file, which the parse thread checks on the bytes it reads anyway (planFromText);
   * any other content is handed back and planned here, as every file was before.
   */
  sniffInThread?: boolean;
}

export interface PlanOptions {
  format?: FormatName; // forced
  account?: string;
  region?: string;
  awsFields?: string[];
  /**
   * Gzip files up to this size (those a parse thread reads whole) may be planned from their
   * first line alone when it is an AWS line (awsFirstLine): the parse thread then checks
   * the rest of the head only if the file does not inflate whole (headUnchecked). Default 0:
   * every head inflated here.
   */
  quickHeadBelow?: number;
  /**
   * With quickHeadBelow: a file named *.gz up to that size is not read here at all
   * (InputFile.sniffInThread). Opening, reading and inflating the start of every small file
   * on the main thread cost it ~25 µs a file, before the parse thread opened it again.
   */
  sniffInThread?: boolean;
  /**
   * With sniffInThread: a JSON blob up to this size whose path names its format
   * (formatByName: an Azure PT1H.json under its category's folder, a GCP vpc_flows export)
   * is not read here either: taken for that format, which the parse thread checks on the
   * head it plans it from (planFromHead); a file of any other content is handed back. The
   * main thread's planning of 696 Azure blobs (its head read and sniffed each) was ~35 ms
   * during which no parse thread worked. Default 0: every JSON blob planned here.
   */
  jsonByNameBelow?: number;
}

const HEAD_BYTES = 1 << 16;
/** What planning reads and inflates of a gzip AWS file that its first line describes (awsFirstLine). */
const QUICK_BYTES = 2048;

/** "ENOENT (no such file or directory)" from a Node fs error. */
export function ioReason(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e.code) return e.message ?? String(err);
  const m = /^[A-Z]+: ([^,]+)/.exec(e.message ?? '');
  return m ? `${e.code} (${m[1]})` : e.code;
}

const NOT_REGULAR = 'not a regular file (a pipe, socket or device): not read; use - to read standard input';

/** Every file under the given paths, sorted, each with its format and defaults. */
export function planInputs(paths: string[], opts: PlanOptions): InputFile[] {
  const files: InputFile[] = [];
  for (const p of paths) {
    if (p === '-') {
      // sniffed as it arrives, like a file (gzip, then format): src/input/stream.ts
      files.push({ path: '-', display: '<stdin>', size: -1, gzip: false, format: opts.format ?? null, account: opts.account ?? '', region: opts.region ?? '', awsFields: opts.awsFields, open: stdinSource });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      files.push(broken(p, `cannot read: ${ioReason(err)}`));
      continue;
    }
    if (st.isDirectory()) walk(p, opts, files, [{ path: p, id: dirId(st) }]);
    else if (st.isFile()) files.push(describe(p, opts));
    else files.push(broken(p, NOT_REGULAR)); // opening a FIFO would block the run
  }
  return files;
}

async function stdinSource(): Promise<AsyncIterable<Uint8Array>> {
  return process.stdin as AsyncIterable<Uint8Array>;
}

function broken(path: string, error: string): InputFile {
  return { path, display: path, size: 0, gzip: false, format: null, account: '', region: '', error };
}

/** A directory on the way down from a path given (walk), and its device:inode once stat'ed. */
interface WayDir {
  path: string;
  id?: string;
}

function dirId(st: { dev: number; ino: number }): string {
  return `${st.dev}:${st.ino}`;
}

/**
 * The files under a directory, in name order. Nothing is dropped silently: an entry that
 * cannot be listed or read (no permission, a dangling or looping symbolic link, a FIFO)
 * is listed with the reason. Symbolic links are followed; the device:inode of the
 * directories on the way (`way`) stops link cycles. A directory the listing says is one
 * (not a link) is entered without a stat: a tree of Azure blobs has a folder a blob (~7 µs
 * a stat of 879 folders a run); the way's identities are stat'ed only when a link to a
 * directory is met.
 */
function walk(dir: string, opts: PlanOptions, out: InputFile[], way: WayDir[], normal = false): void {
  let entries: ListedEntry[];
  try {
    entries = takeListing(dir) ?? readdirSync(dir, { withFileTypes: true }); // detect's look may have listed it (listing.ts)
  } catch (err) {
    out.push(broken(dir, `cannot list directory: ${ioReason(err)}`));
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // what join and keyInfo make of every file of the folder, once: join only appends a name
  // (no '/', never '.' or '..') to the folder's normal form, and every pattern keyInfo
  // looks for ends with a '/', so within the folder's part of the path (a name with a
  // backslash, read as a '/' there, is looked at whole)
  // (`normal`: dir is such a path already, a folder's prefix and a name, so the prefix is
  // dir and a separator: no join a folder, which made path.join hot enough for V8 to compile
  // it and normalizeString while the run's threads boot)
  const prefix = normal ? dir + sep : join(dir, '_').slice(0, -1);
  const folderInfo = keyInfo(prefix);
  for (const e of entries) {
    if (e.isFile()) out.push(describe(prefix + e.name, opts, e.name.includes('\\') ? undefined : folderInfo, e.size));
    else walkEntry(e, prefix + e.name, opts, out, way);
  }
}

/**
 * walk's step for an entry that is no plain file (a folder, a link, anything else). Apart from
 * walk's loop, which runs once a file and which TurboFan compiles on a bucket of many small
 * objects: these paths, which such a bucket takes once a folder or never, stay out of that
 * compile (bench/RESULTS.md, session 22 perfile2).
 */
function walkEntry(e: ListedEntry, full: string, opts: PlanOptions, out: InputFile[], way: WayDir[]): void {
  if (e.isDirectory()) {
    enter(full, opts, out, way, undefined);
    return;
  }
  let st;
  try {
    st = statSync(full); // follows links
  } catch (err) {
    out.push(broken(full, `cannot read: ${ioReason(err)}${e.isSymbolicLink() ? ' (symbolic link)' : ''}`));
    return;
  }
  if (st.isDirectory()) {
    const id = dirId(st);
    if (onTheWay(way, id)) {
      out.push(broken(full, 'symbolic link back to a directory already being read: not followed'));
      return;
    }
    enter(full, opts, out, way, id);
  } else if (st.isFile()) {
    out.push(describe(full, opts));
  } else {
    out.push(broken(full, NOT_REGULAR));
  }
}

/** walk of a directory below `way`, which it is on while its files are planned. */
function enter(path: string, opts: PlanOptions, out: InputFile[], way: WayDir[], id: string | undefined): void {
  way.push({ path, id });
  walk(path, opts, out, way, true);
  way.pop();
}

/**
 * Whether a directory (device:inode) is one of those on the way: their identities are
 * stat'ed here the first time a link asks (one that cannot be stat'ed now, removed while
 * being read, is no link's target).
 */
function onTheWay(way: WayDir[], id: string): boolean {
  for (const d of way) {
    if (d.id === undefined) {
      try {
        d.id = dirId(statSync(d.path));
      } catch {
        d.id = '';
      }
    }
    if (d.id === id) return true;
  }
  return false;
}

/** The read buffer of readHead (the main thread plans one file after another). */
let headBuffer: Buffer | null = null;

/**
 * The first bytes of a file, gunzipped when it is gzip (partial inflate, never the whole
 * file). `gzipError` says why a gzip file gave no bytes (damaged, or empty inside). A
 * plain file's head is a view of a buffer the next call reuses: read it before then.
 */
export function readHead(path: string, quickBelow = 0): { head: Uint8Array; gzip: boolean; size: number; gzipError?: string; awsLine?: boolean } {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = (headBuffer ??= Buffer.allocUnsafeSlow(HEAD_BYTES));
    let got = 0;
    if (size <= quickBelow) {
      // a gzip AWS file is planned from its first 2 KiB: read no more than that first
      got = readSync(fd, buf, 0, Math.min(size, QUICK_BYTES), 0);
      const start = buf.subarray(0, got);
      const line = isGzip(start) ? awsFirstLine(start) : null;
      if (line) return { head: line, gzip: true, size, awsLine: true };
      // any other file (a JSON blob, most often) is read on from there, not again from its
      // start (inflating the start above only read those bytes)
      if (got < Math.min(size, QUICK_BYTES)) got = 0;
    }
    const want = Math.min(size, HEAD_BYTES);
    if (got < want) got += readSync(fd, buf, got, want - got, got);
    const raw = buf.subarray(0, got);
    if (!isGzip(raw)) return { head: raw, gzip: false, size };
    return { ...gunzipHead(raw), gzip: true, size };
  } finally {
    closeSync(fd);
  }
}

/**
 * The first line of a gzip AWS text file (readHead with quickBelow), from its first 2 KiB
 * inflated: the AWS reader sniffs the first line alone, and comes first in the sniffing
 * order after replay files (whose magic is not text), so when this line is an AWS header
 * or record the whole 64 KiB head would give the same format, header and first line. Any
 * other start (a line longer than what came out, bytes other than printable ASCII before
 * it, no AWS line, damaged data) returns null, and the whole head is inflated as for any
 * file. Damage further into the head is found by the parse thread (headError).
 */
function awsFirstLine(raw: Uint8Array): Uint8Array | null {
  let out: Buffer;
  try {
    out = zlibNow().gunzipSync(raw.subarray(0, Math.min(raw.length, QUICK_BYTES)), { finishFlush: zlibNow().constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_BYTES * 64 });
  } catch {
    return null;
  }
  return awsLineOf(out);
}

/** The first non-blank line of inflated bytes with its newline when it is an AWS line, else null (see awsFirstLine). */
function awsLineOf(out: Uint8Array): Uint8Array | null {
  const nl0 = out.indexOf(10);
  if (nl0 < 0) return null; // the first non-blank line may go on: the whole head decides
  // decoded up to the first newline, then line by line: a small file is read whole here
  let text = Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('latin1', 0, nl0 + 1);
  let s = 0;
  for (;;) {
    let nl = text.indexOf('\n', s);
    if (nl < 0) {
      const next = out.indexOf(10, text.length);
      if (next < 0) return null; // the first non-blank line may go on: the whole head decides
      text = Buffer.from(out.buffer, out.byteOffset, out.byteLength).toString('latin1', 0, next + 1);
      nl = next;
    }
    const line = text.slice(s, nl).trim();
    // ASCII up to here: the UTF-8 text of the whole head starts with these same characters
    if (line.length > 0) return /^[\x20-\x7e\t\r\n]*$/.test(text.slice(0, nl)) && awsText.sniff(new Head(out, line, line)) ? out.subarray(0, nl + 1) : null;
    s = nl + 1;
  }
}

/**
 * For a file planned from its first line (headUnchecked) that does not inflate whole: the
 * error planning would have given it had it inflated the whole head (damaged data in its
 * first 64 KiB), or undefined. Checked before any of the file is parsed, so such a file is
 * reported, and not read, exactly as when its head was inflated at planning.
 */
export function headError(path: string): string | undefined {
  try {
    const h = readHead(path);
    return h.gzipError;
  } catch (err) {
    return `cannot read: ${ioReason(err)}`;
  }
}

/**
 * Inflate the start of a gzip file, at most HEAD_BYTES * 64 of output. Data that inflates
 * past that (a gzip bomb, or very repetitive logs) made gunzipSync throw, and the file was
 * then reported as a damaged gzip; now less input is inflated until the output fits, and
 * the whole-file read later applies --max-decompressed-bytes.
 */
function gunzipHead(raw: Uint8Array): { head: Uint8Array; gzipError?: string } {
  let error = '';
  for (let n = raw.length; ; n = Math.floor(n / 4)) {
    try {
      const head = zlibNow().gunzipSync(raw.subarray(0, n), { finishFlush: zlibNow().constants.Z_SYNC_FLUSH, maxOutputLength: HEAD_BYTES * 64 });
      if (head.length === 0) return { head, gzipError: n === raw.length ? 'the gzip file holds no data' : 'gzip data too short' };
      return { head: head.subarray(0, HEAD_BYTES) };
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code !== 'ERR_BUFFER_TOO_LARGE') {
        error = e.message;
        break;
      }
      if (n <= 64) break;
    }
  }
  return { head: new Uint8Array(0), gzipError: `damaged gzip data: ${error || 'cannot inflate its start'}` };
}

/** `fromPath`: keyInfo(path) when the caller knows it (walk: the folder's); `listedSize`: the size its listing gave (a prewalk's entry), if any. */
function describe(path: string, opts: PlanOptions, fromPath = keyInfo(path), listedSize = -1): InputFile {
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
  const quickBelow = (opts.format === undefined || opts.format === 'aws-text') && opts.quickHeadBelow !== undefined ? opts.quickHeadBelow : 0;
  if (opts.sniffInThread && opts.format === undefined && (opts.jsonByNameBelow ?? 0) > 0) {
    const named = plannedByName(path, opts.jsonByNameBelow!, quickBelow, listedSize);
    if (named) return { ...base, ...named };
  }
  if (opts.sniffInThread && quickBelow > 0 && GZIP_NAME.test(path)) {
    const size = listedSize >= 0 ? listedSize : sizeOf(path);
    if (size > 0 && size <= quickBelow) {
      base.size = size;
      base.gzip = true;
      base.format = 'aws-text';
      base.headUnchecked = true;
      base.sniffInThread = true;
      return base;
    }
  }
  let head: Uint8Array;
  let gzipError: string | undefined;
  try {
    const h = readHead(path, quickBelow);
    head = h.head;
    base.size = h.size;
    base.gzip = h.gzip;
    gzipError = h.gzipError;
    if (h.awsLine) base.headUnchecked = true;
  } catch (err) {
    return { ...base, error: `cannot read: ${ioReason(err)}` };
  }
  if (base.size === 0) return { ...base, error: 'empty file' };
  if (gzipError) return { ...base, error: gzipError };
  return describeHead(base, head, path, opts);
}

/** The format, layout and header line a file's head gives (or why it cannot be read). */
function describeHead(base: InputFile, head: Uint8Array, path: string, opts: PlanOptions, words?: number): InputFile {
  // decoded only if a sniffer or the line readers below need the text (a JSON blob's need not)
  const sniffed = new Head(head, undefined, undefined, words);
  const format = opts.format ?? sniffHead(sniffed);
  if (!format) return { ...base, error: unrecognised(head) };
  const reader = readerFor(format);
  if (!reader) return { ...base, format, error: `format '${format}' is not supported yet` };
  base.format = format;
  if (format === 'aws-text') base.awsFields = awsHeaderOf(head, sniffed.text) ?? opts.awsFields;
  if (reader.kind === 'lines') {
    const refused = reader.refuse?.(sniffed.text);
    if (refused) return { ...base, error: refused };
    base.headerLine = reader.headerLine?.(sniffed.text) ?? sniffed.firstLine;
  }
  return base;
}

const GZIP_NAME = /\.gz$/i;


/**
 * A file planned from its name and size (PlanOptions.jsonByNameBelow) when formatByName
 * knows it and it is read whole whatever it holds (up to `below`, and to `gzipBelow` when
 * gzip): null otherwise, and the file is planned from its head.
 */
function plannedByName(path: string, below: number, gzipBelow: number, listedSize: number): Partial<InputFile> | null {
  const format = formatByName(path);
  if (!format) return null;
  const gzip = GZIP_NAME.test(path);
  const size = listedSize >= 0 ? listedSize : sizeOf(path);
  if (size <= 0 || size > below || (gzip && size > gzipBelow)) return null;
  return { size, gzip, format, sniffInThread: true };
}

/**
 * What planning makes of a file from its head, as describe does without sniffInThread
 * (account and region aside: the caller has them): for the parse thread that reads a file
 * planned from its name, which keeps it only when this plan is the one the name gave.
 */
export function planFromHead(path: string, opts: PlanOptions): InputFile {
  return describe(path, { ...opts, sniffInThread: false, jsonByNameBelow: 0 }, {});
}

/**
 * planFromHead of a file already read whole (`bytes`, not inflated): a plain file's head is
 * its first 64 KiB, as readHead reads them. Null for gzip bytes (planFromHead inflates them).
 * `words`: the HeadWord bits those 64 KiB hold, where the thread that read them searched them
 * (SniffHead.words; undefined: the sniffers search them).
 */
export function planFromBytes(path: string, bytes: Uint8Array, opts: PlanOptions, words?: number): InputFile | null {
  const head = bytes.subarray(0, Math.min(bytes.length, HEAD_BYTES));
  if (isGzip(head)) return null;
  const base: InputFile = { path, display: path, size: bytes.length, gzip: false, format: null, account: '', region: '', awsFields: opts.awsFields };
  if (bytes.length === 0) return { ...base, error: 'empty file' };
  return describeHead(base, head, path, opts, words);
}

/** A file's size, or -1 when it cannot be read (planned then as before, which reports why). */
function sizeOf(path: string): number {
  try {
    return takeSize(path) ?? statSync(path).size;
  } catch {
    return -1;
  }
}

/**
 * What planning a file with the AWS first line of `text` (the whole file, inflated) gives:
 * the plan readHead's first-line path and describe make of it, or null for any other
 * content (the file is then planned from its head by describe, as before). The first line
 * is taken exactly as awsFirstLine takes it: a prefix of the output holds the same line.
 */
export function planFromText(text: Uint8Array, path: string, opts: PlanOptions): Pick<InputFile, 'awsFields' | 'headerLine'> | null {
  // a first line that is not blank decides alone (awsLineOf, then describeHead of that line).
  // The plans of the few header lines of a bucket are kept per thread and found again by their
  // bytes, nothing decoded. A record first (a digit: its version or account) is planned afresh:
  // no two files share one. A blank first line is not kept: the next one decides.
  const nl = text.indexOf(10);
  const keep = nl > 0 && nl < MAX_PLANNED_LINE && opts.format === undefined && !(text[0]! >= 48 && text[0]! <= 57);
  const fields = keep ? JSON.stringify(opts.awsFields ?? null) : '';
  const seen = keep ? keptHeaderOf(text, nl, fields) : undefined;
  const plan = seen !== undefined ? seen.plan : planFromLine(text, path, opts);
  // blank as awsLineOf decodes it (latin1, trimmed)
  if (keep && seen === undefined && Buffer.from(text.buffer, text.byteOffset, nl).toString('latin1').trim().length > 0) {
    if (keptHeaders.length >= KEPT_HEADERS) keptHeaders.shift();
    keptHeaders.push({ bytes: new Uint8Array(text.subarray(0, nl)), fields, plan }); // a copy: the text's buffer serves the next file
  }
  return plan && { awsFields: plan.awsFields, headerLine: plan.headerLine };
}

/** A first line's bytes, the options' fields (JSON) and its plan, as planFromText keeps them. */
interface KeptHeader {
  bytes: Uint8Array;
  fields: string;
  plan: Pick<InputFile, 'awsFields' | 'headerLine'> | null;
}

/**
 * The last header lines planFromText met, compared by their bytes: a file of one of a bucket's
 * few layouts is planned without decoding its first line and hashing a key built of it (a Map
 * by the decoded line did that, and kept every record-first file's line too: 1.5-1.8 -> 1.0 us
 * a file on the tiny files; bench/RESULTS.md, branch parsejs).
 */
const keptHeaders: KeptHeader[] = [];
const KEPT_HEADERS = 16;
/** First lines up to this long are kept with their plans. */
const MAX_PLANNED_LINE = 4096;

/** The kept header whose bytes are text[0, nl), for the same fields, or undefined. */
function keptHeaderOf(text: Uint8Array, nl: number, fields: string): KeptHeader | undefined {
  for (let k = 0; k < keptHeaders.length; k++) {
    const h = keptHeaders[k]!;
    if (h.bytes.length === nl && h.fields === fields && sameStart(h.bytes, text)) return h;
  }
  return undefined;
}

/** Whether text starts with the bytes of `line`. */
function sameStart(line: Uint8Array, text: Uint8Array): boolean {
  for (let i = 0; i < line.length; i++) if (line[i] !== text[i]) return false;
  return true;
}

/** Forget the kept plans (tests compare planFromText with and without them). */
export function forgetPlannedLines(): void {
  keptHeaders.length = 0;
}

function planFromLine(text: Uint8Array, path: string, opts: PlanOptions): Pick<InputFile, 'awsFields' | 'headerLine'> | null {
  const head = awsLineOf(text);
  if (!head) return null;
  // a record first (a digit; a quarter of a bucket's objects have no header line), which
  // awsLineOf found an AWS line: describeHead would sniff it AWS text again (the first reader
  // to take it after replay files, whose magic is no text), find no header in it (no field
  // name starts with a digit) and give the first line as the header line. Said here, without
  // sniffing and splitting it twice more (and without describeHead, which then stays cold in
  // the parse thread: one compile fewer)
  if (opts.format === undefined && text[0]! >= 48 && text[0]! <= 57) return { awsFields: opts.awsFields, headerLine: new Head(head).firstLine };
  const planned = describeHead({ path, display: path, size: text.length, gzip: true, format: null, account: '', region: '', awsFields: opts.awsFields }, head, path, opts);
  if (planned.error || planned.format !== 'aws-text') return null;
  return { awsFields: planned.awsFields, headerLine: planned.headerLine };
}

/** The first non-blank line of a file's head, trimmed (at most 64 KiB). */
export function firstLineOf(head: Uint8Array): string {
  const text = Buffer.from(head).toString('utf8');
  return (text.split('\n').find((l) => l.trim().length > 0) ?? '').trim();
}

/** Why no reader took a file: binary content, or text of no known layout. */
export function unrecognised(head: Uint8Array): string {
  let control = 0;
  const n = Math.min(head.length, 4096);
  for (let i = 0; i < n; i++) {
    const c = head[i]!;
    if (c === 0 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) control++;
  }
  if (n > 0 && control * 20 > n) return 'unrecognised format: binary data, not a flow log (nor gzip)';
  const first = firstLineOf(head.subarray(0, 4096)).slice(0, 60);
  return first ? `unrecognised format: no reader knows a file starting ${JSON.stringify(first)}` : 'no data: the file holds only blank lines';
}

/** The most bytes of a plain text file one parse task reads when the ranges are chosen for the parse threads (textRanges). */
export const TEXT_RANGE_BYTES = 64 << 20;

/**
 * A plain text file's ranges for `threads` parse threads: as many as the threads, or a multiple
 * (so that they end together), each at most TEXT_RANGE_BYTES (so that progress still comes a
 * range at a time on large files) and at least `least`. A parse task has a cost of its own,
 * ~3 ms (its sink and reader, its last batches, their adds): the 224 MB v2 file in ranges of
 * 32 MiB to the whole file took 0.91-0.94x the wall of 8 MiB ranges (bench/RESULTS.md, session
 * 14, textfile). A range also ends at each of `cuts` (shares of the file: the shards' early held
 * flushes, engine/tail.ts, come as the parse passes them, and need a range to end there).
 * Where lines start does not change a verdict.
 */
export function textRanges(size: number, threads: number, least: number, cuts: readonly number[] = [], most = TEXT_RANGE_BYTES): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  let from = 0;
  const ats = cuts.map((c) => Math.floor(c * size)).filter((at) => at > 0 && at < size);
  for (const at of [...ats, size]) {
    if (at - from < least && at < size) continue; // a cut too near the last: left to the next piece
    const piece = at - from;
    const tasks = threads * Math.max(1, Math.ceil(piece / (threads * most)));
    for (const [s, e] of chunkRanges(piece, Math.max(least, Math.ceil(piece / tasks)))) ranges.push([from + s, from + e]);
    from = at;
  }
  return ranges;
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
