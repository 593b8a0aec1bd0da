/**
 * `flowsieve filter`: the input logs written back in their own format (gzip stays gzip,
 * the header line stays) with the records that are scan traffic removed, so that an
 * investigation starts from what is left. A record is scan traffic when its
 * (src, protocol, dst_port, window) is a scan key of a detection run's scans.ndjson,
 * with the window length of that run (summary.json settings.window_seconds).
 *
 * Each output file is written beside its final name and renamed into place when
 * complete. Files are streamed: memory does not grow with their size.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, type WriteStream } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { once } from 'node:events';
import { createGunzip, createGzip, type Gzip } from 'node:zlib';
import { planInputs, type InputFile } from '../input/plan.js';
import { sniffStream } from '../input/streamed.js';
import { planAll } from '../source/plan.js';
import { isSourceUrl } from '../source/url.js';
import type { TimeRange } from '../source/dates.js';
import type { SourceOptions } from '../source/types.js';
import { LineFeeder } from '../input/lines.js';
import type { LineParser, FormatName } from '../formats/types.js';
import { loadScanKeys, ScanFileError, type ScanKeySet } from './keys.js';
import { canTag, filterFor } from './registry.js';
import { documentFilterFor, type DocumentFilter } from './document.js';
import { newFilterCounters, type FilterCounters, type FilterMode, type FilterOutput } from './types.js';

export interface FilterOptions {
  inputs: string[];
  scansDir: string;
  out: string;
  mode: FilterMode;
  replies: boolean;
  format?: FormatName;
  awsFields?: string[];
  /** Window length; default: the detection run's settings.window_seconds. */
  windowSeconds?: number;
  maxLineBytes: number;
  /** Files filtered at once (gzip work runs on libuv's thread pool, so files overlap). Default 4. */
  jobs?: number;
  /** gzip level of outputs whose input was gzip (1 fastest .. 9 smallest). Default 6. */
  gzipLevel?: number;
  onFile?: (r: FileFilterReport) => void;
  /** --from/--to: date folders of bucket listings outside are skipped (records are filtered as they are). */
  timeRange?: TimeRange;
  /** Bucket URLs: endpoints, retries. */
  source?: SourceOptions;
}

export interface FileFilterReport {
  input: string;
  output: string | null;
  format: FormatName | null;
  gzip: boolean;
  counters: FilterCounters;
  bytes_read: number; // decompressed bytes of the input
  bytes_written: number; // bytes of the output file on disk (compressed when gzip)
  error?: string;
}

export interface FilterResult {
  files: FileFilterReport[];
  totals: FilterCounters & { bytes_read: number; bytes_written: number };
  scan_keys: number;
  window_seconds: number;
  partial: boolean;
}

export class FilterSetupError extends Error {}

/** settings.window_seconds of a results folder's summary.json. */
export function runWindowSeconds(scansDir: string): number {
  const path = join(scansDir, 'summary.json');
  let w: unknown;
  try {
    w = (JSON.parse(readFileSync(path, 'utf8')) as { settings?: { window_seconds?: unknown } }).settings?.window_seconds;
  } catch (err) {
    throw new FilterSetupError(`${path}: cannot read the run's settings (${(err as Error).message}); give --window`);
  }
  if (!(typeof w === 'number' && Number.isInteger(w) && w > 0)) throw new FilterSetupError(`${path}: settings.window_seconds is missing; give --window`);
  return w;
}

interface Planned {
  file: InputFile;
  output: string;
}

/**
 * Every input file with its output path: under `out`, by its path relative to the input
 * folder (a bucket URL's objects: by their key below the URL's prefix).
 */
async function plan(opts: FilterOptions): Promise<Planned[]> {
  const out = resolve(opts.out);
  const planned: Planned[] = [];
  const seen = new Map<string, string>();
  for (const p of opts.inputs) {
    if (p === '-') throw new FilterSetupError('filter reads files, not stdin (it writes each input back as a file)');
    if (isSourceUrl(p)) {
      for (const f of await planAll([p], { format: opts.format, awsFields: opts.awsFields, range: opts.timeRange, source: opts.source })) {
        const rel = f.path.startsWith(p) && f.path.length > p.length ? f.path.slice(p.length).replace(/^\/+/, '') : basename(f.path.replace(/[?#].*$/, ''));
        const output = join(out, ...rel.split('/').filter((part) => part !== '..' && part !== '.' && part !== ''));
        const other = seen.get(output);
        if (other) throw new FilterSetupError(`${f.display} and ${other} would both be written to ${output}`);
        seen.set(output, f.display);
        planned.push({ file: f, output });
      }
      continue;
    }
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      /* planInputs reports it */
    }
    if (isDir) {
      const root = resolve(p);
      if (out === root || out.startsWith(root + sep)) throw new FilterSetupError(`--out ${opts.out} lies inside the input folder ${p}`);
    }
    for (const f of planInputs([p], { format: opts.format, awsFields: opts.awsFields })) {
      const rel = isDir ? relative(p, f.path) : basename(f.path);
      const output = join(out, rel);
      if (existsSync(f.path) && existsSync(output) && realpathSync(output) === realpathSync(f.path)) {
        throw new FilterSetupError(`the output for ${f.display} would overwrite it; choose another --out`);
      }
      const other = seen.get(output);
      if (other) throw new FilterSetupError(`${f.display} and ${other} would both be written to ${output}`);
      seen.set(output, f.display);
      planned.push({ file: f, output });
    }
  }
  return planned;
}

export async function filterLogs(opts: FilterOptions): Promise<FilterResult> {
  const windowSeconds = opts.windowSeconds ?? runWindowSeconds(opts.scansDir);
  let keys: ScanKeySet;
  try {
    keys = loadScanKeys(join(opts.scansDir, 'scans.ndjson'), windowSeconds);
  } catch (err) {
    if (err instanceof ScanFileError) throw new FilterSetupError(err.message);
    throw err;
  }
  const planned = await plan(opts);
  if (opts.mode === 'tag') {
    const cannot = planned.filter((p) => p.file.format && !canTag(p.file.format));
    if (cannot.length) {
      throw new FilterSetupError(
        `--mode tag needs a JSON format; ${cannot.map((p) => `${p.file.display} (${p.file.format})`).join(', ')} cannot carry an extra field: use --mode drop`,
      );
    }
  }
  // several files at once; reports come back (and are announced) in input order
  const files: FileFilterReport[] = new Array(planned.length);
  const done: boolean[] = new Array(planned.length).fill(false);
  let announced = 0;
  let next = 0;
  const worker = async () => {
    while (next < planned.length) {
      const i = next++;
      files[i] = await filterOne(planned[i]!, keys, windowSeconds, opts);
      done[i] = true;
      while (announced < planned.length && done[announced]) {
        const r = files[announced++]!; // not inside onFile?.(...): an absent onFile would skip the ++
        opts.onFile?.(r);
      }
    }
  };
  const jobs = Math.max(1, Math.min(opts.jobs ?? 4, planned.length));
  await Promise.all(Array.from({ length: jobs }, worker));
  const totals = { ...newFilterCounters(), bytes_read: 0, bytes_written: 0 };
  for (const f of files) {
    for (const k of Object.keys(f.counters) as (keyof FilterCounters)[]) totals[k] += f.counters[k];
    totals.bytes_read += f.bytes_read;
    totals.bytes_written += f.bytes_written;
  }
  return { files, totals, scan_keys: keys.size, window_seconds: windowSeconds, partial: files.some((f) => f.error) };
}

async function filterOne(p: Planned, keys: ScanKeySet, windowSeconds: number, opts: FilterOptions): Promise<FileFilterReport> {
  const f = p.file;
  const report: FileFilterReport = { input: f.display, output: null, format: f.format, gzip: f.gzip, counters: newFilterCounters(), bytes_read: 0, bytes_written: 0 };
  // an object in a bucket: sniffed as it arrives (gzip, format), like a file
  const streamed = f.open && !f.error ? await sniffStream(await f.open(), f.display, { format: opts.format, awsFields: opts.awsFields, maxDecompressedBytes: Infinity }) : null;
  if (streamed) {
    Object.assign(f, { gzip: streamed.gzip, format: streamed.format, awsFields: streamed.awsFields, error: streamed.error });
    Object.assign(report, { gzip: streamed.gzip, format: streamed.format });
  }
  if (f.error || !f.format) {
    report.error = f.error ?? 'unrecognised format';
    return report;
  }
  const format = filterFor(f.format);
  const document = format ? undefined : documentFilterFor(f.format);
  if (document) return filterDocument(p, document, report, keys, windowSeconds, opts);
  if (!format) {
    report.error = `filtering ${f.format} is not supported yet`;
    return report;
  }
  const lineFilter = format.open({
    keys,
    windowSeconds,
    mode: opts.mode,
    replies: opts.replies,
    awsFields: opts.awsFields,
    counters: report.counters,
    file: f.display,
    account: f.account,
    region: f.region,
  });
  const sink = new OutputFile(p.output, f.gzip ? (opts.gzipLevel ?? 6) : 0);
  let fatal: string | null = null;
  let truncatedAt = 0;
  const parser: LineParser = {
    parseLines(buf, s, e) {
      const before = report.counters.lines;
      lineFilter.filterLines(buf, s, e, sink);
      return report.counters.lines - before;
    },
    lineTooLong(line) {
      report.counters.lines++;
      fatal ??= `line ${line} is longer than --max-line-bytes (${opts.maxLineBytes}); it cannot be written back, so the file was not filtered`;
    },
    truncated(line) {
      report.counters.lines++;
      truncatedAt = line;
    },
  };
  const feeder = new LineFeeder(parser, opts.maxLineBytes, 0);
  const source = streamed ? null : createReadStream(f.path, { highWaterMark: 1 << 20 });
  const stream = streamed ? streamed.body : f.gzip ? source!.pipe(createGunzip({ chunkSize: 1 << 20 })) : source!;
  let readError: string | null = null;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      report.bytes_read += chunk.length;
      feeder.push(chunk);
      if (fatal) break;
      await sink.flush();
    }
  } catch (err) {
    readError = `${f.gzip ? 'gzip' : 'read'}: ${(err as Error).message}`;
  }
  if ('destroy' in stream) stream.destroy();
  if (streamed?.state.error) readError = streamed.state.error.replace(/ \(stopped after .*$/, '').replace(', in line {line}', '');
  if (fatal) {
    sink.abort();
    report.error = fatal;
    return report;
  }
  feeder.end(readError !== null);
  await sink.close();
  report.output = p.output;
  report.bytes_written = statSync(p.output).size;
  if (readError) {
    report.error = `${readError}${truncatedAt ? ` (input ends inside line ${truncatedAt})` : ''}; the output holds the lines read before it`;
  }
  return report;
}

/** Documents are read whole: past this size one is left unfiltered (its reader reads it whole too). */
const MAX_DOCUMENT_BYTES = 1 << 30;

/** A document format's file: read whole, filtered by its DocumentFilter, written back as compact JSON. */
async function filterDocument(p: Planned, d: DocumentFilter, report: FileFilterReport, keys: ScanKeySet, windowSeconds: number, opts: FilterOptions): Promise<FileFilterReport> {
  const f = p.file;
  const chunks: Buffer[] = [];
  let size = 0;
  const source = createReadStream(f.path, { highWaterMark: 1 << 20 });
  const stream = f.gzip ? source.pipe(createGunzip({ chunkSize: 1 << 20 })) : source;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      report.bytes_read += chunk.length;
      size += chunk.length;
      if (size > MAX_DOCUMENT_BYTES) throw new Error(`larger than ${MAX_DOCUMENT_BYTES} bytes`);
      chunks.push(chunk);
    }
  } catch (err) {
    stream.destroy();
    report.error = `${f.gzip ? 'gzip' : 'read'}: ${(err as Error).message}; not filtered`;
    return report;
  }
  let text: string;
  try {
    text = d.filter(Buffer.concat(chunks), {
      keys, windowSeconds, mode: opts.mode, replies: opts.replies, awsFields: opts.awsFields, counters: report.counters, file: f.display, account: f.account, region: f.region,
    });
  } catch (err) {
    report.error = `${(err as Error).message.startsWith('the reader') ? '' : 'not one JSON document: '}${(err as Error).message}`;
    return report;
  }
  report.counters.lines = 1;
  report.counters.kept_lines = 1;
  const sink = new OutputFile(p.output, f.gzip ? (opts.gzipLevel ?? 6) : 0);
  const out = Buffer.from(text + '\n');
  sink.write(out, 0, out.length);
  await sink.close();
  report.output = p.output;
  report.bytes_written = statSync(p.output).size;
  return report;
}

/** An output file written through a buffer (and gzip when the input was gzip), renamed into place on close. */
class OutputFile implements FilterOutput {
  private readonly tmp: string;
  private readonly file: WriteStream;
  private readonly gzip: Gzip | null;
  private buf = Buffer.allocUnsafe(1 << 20);
  private n = 0;
  private full: Buffer[] = [];

  /** gzipLevel 0: a plain file. */
  constructor(
    private readonly path: string,
    gzipLevel: number,
  ) {
    mkdirSync(dirname(path), { recursive: true });
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
    this.file = createWriteStream(this.tmp);
    this.gzip = gzipLevel > 0 ? createGzip({ level: gzipLevel }) : null;
    if (this.gzip) this.gzip.pipe(this.file);
  }

  write(b: Uint8Array, s: number, e: number): void {
    while (s < e) {
      const take = Math.min(e - s, this.buf.length - this.n);
      this.buf.set(b.subarray(s, s + take), this.n);
      this.n += take;
      s += take;
      if (this.n === this.buf.length) {
        this.full.push(this.buf);
        this.buf = Buffer.allocUnsafe(1 << 20);
        this.n = 0;
      }
    }
  }

  /** Hand the buffered bytes to the stream, waiting while it is full. */
  async flush(): Promise<void> {
    const parts = this.full;
    this.full = [];
    if (this.n > 0) {
      parts.push(Buffer.from(this.buf.subarray(0, this.n)));
      this.n = 0;
    }
    const target = this.gzip ?? this.file;
    for (const part of parts) {
      if (!target.write(part)) await once(target, 'drain');
    }
  }

  async close(): Promise<void> {
    await this.flush();
    const done = once(this.file, 'close');
    (this.gzip ?? this.file).end();
    await done;
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    this.gzip?.destroy();
    this.file.destroy();
    rmSync(this.tmp, { force: true });
  }
}
