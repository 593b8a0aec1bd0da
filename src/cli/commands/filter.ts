/** flowsieve filter: write the input logs back without their scan traffic (detection.md §5). */
import type { CommandSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { checkWindow, parseDuration } from '../../detect/rules.js';
import { supportedFormats } from '../../formats/registry.js';
import type { FormatName } from '../../formats/types.js';
import { filterableFormats } from '../../filter/registry.js';
import { FilterSetupError, filterLogs, type FileFilterReport, type FilterResult } from '../../filter/run.js';
import { writeFileAtomic } from '../../output/files.js';
import { DETECTION_OPTIONS, S3_ENDPOINT_OPTION, sourceOptionsFrom } from '../../app/settings.js';

export const spec: CommandSpec = {
  name: 'filter',
  summary: 'write the input logs back with the scan traffic removed',
  usage: 'flowsieve filter <file|dir|s3://…|az://…|gs://…>... --scans DIR --out DIR [options]',
  options: [
    { name: 'scans', type: 'string', help: 'results folder of a detect run (scans.ndjson, summary.json)', value: 'DIR' },
    { name: 'out', type: 'string', help: 'folder for the filtered logs (same names and layout as the inputs)', value: 'DIR' },
    { name: 'mode', type: 'string', help: "'drop' removes scan records; 'tag' adds \"flowsieve_scan\":true to them (JSON-lines formats)", default: 'drop', value: 'MODE' },
    { name: 'replies', type: 'boolean', help: "also remove the endpoints' replies to scanners (dst, protocol, src port of a scan key)" },
    { name: 'window', type: 'string', help: "window length of the detect run (default: from the run's summary.json)", value: 'DURATION' },
    { name: 'format', type: 'string', help: 'force the input format instead of sniffing it', value: 'NAME' },
    { name: 'aws-fields', type: 'string', help: 'AWS field list for files without a header line', value: 'FIELDS' },
    { name: 'max-line-bytes', type: 'size', help: 'a longer line stops the file (it could not be written back)', default: 16 << 20 },
    { name: 'jobs', type: 'number', help: 'files filtered at once', default: 4 },
    { name: 'gzip-level', type: 'number', help: 'gzip level of outputs of gzip inputs (1 fastest .. 9 smallest)', default: 6 },
    { name: 'report', type: 'string', help: 'also write the per-file counts as JSON to this file (stderr has only the totals and the files with problems)', value: 'FILE' },
    { name: 'quiet', type: 'boolean', help: 'print nothing but errors' },
    { name: 'from', type: 'string', help: 'skip inputs whose date folders end before this UTC day or time (records are written back as they are)', value: 'WHEN' },
    { name: 'to', type: 'string', help: 'skip inputs whose date folders start after this UTC day or time', value: 'WHEN' },
    ...DETECTION_OPTIONS.filter((o) => o.name === 'gcs-endpoint'),
    S3_ENDPOINT_OPTION,
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length === 0) throw new UsageError('filter needs at least one input file or folder');
  if (!v.scans) throw new UsageError('filter needs --scans DIR (the results folder of a detect run)');
  if (!v.out) throw new UsageError('filter needs --out DIR');
  const mode = String(v.mode);
  if (mode !== 'drop' && mode !== 'tag') throw new UsageError(`--mode must be 'drop' or 'tag', got '${mode}'`);
  const format = v.format as FormatName | undefined;
  if (format && !supportedFormats().includes(format)) throw new UsageError(`unknown --format '${format}' (supported: ${supportedFormats().join(', ')})`);
  let windowSeconds: number | undefined;
  if (v.window !== undefined) {
    try {
      windowSeconds = parseDuration(String(v.window));
      checkWindow(windowSeconds);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const jobs = Number(v.jobs);
  if (!(Number.isInteger(jobs) && jobs >= 1 && jobs <= 64)) throw new UsageError('--jobs must be an integer between 1 and 64');
  const gzipLevel = Number(v['gzip-level']);
  if (!(Number.isInteger(gzipLevel) && gzipLevel >= 1 && gzipLevel <= 9)) throw new UsageError('--gzip-level must be an integer between 1 and 9');
  const quiet = Boolean(v.quiet);
  let result: FilterResult;
  try {
    result = await filterLogs({
      inputs: args.positionals,
      scansDir: String(v.scans),
      out: String(v.out),
      mode,
      replies: Boolean(v.replies),
      format,
      awsFields: v['aws-fields'] ? String(v['aws-fields']).split(/[\s,]+/).filter(Boolean) : undefined,
      windowSeconds,
      maxLineBytes: Number(v['max-line-bytes']),
      jobs,
      gzipLevel,
      ...sourceOptionsFrom(v),
      // one line per file only for the files with a problem; the rest is summarised at the end
      onFile: (r) => {
        if (r.error && !unsupported(r)) process.stderr.write(fileLine(r) + '\n');
      },
    });
  } catch (err) {
    if (err instanceof FilterSetupError) throw new UsageError(err.message);
    throw err;
  }
  if (v.report) writeFileAtomic(String(v.report), JSON.stringify(result, null, 2) + '\n');
  const skipped = skippedLine(result);
  if (skipped) process.stderr.write(skipped + '\n');
  if (!quiet) process.stderr.write(totalLine(result) + '\n' + formatLines(result) + '\n');
  return result.partial ? 2 : 0;
}

/** A file whose format filter cannot write back (reported together, by format). */
function unsupported(r: FileFilterReport): boolean {
  return Boolean(r.error && !r.output && r.format && !filterableFormats().includes(r.format));
}

/** The files left unfiltered because of their format, counted by format, in one line. */
function skippedLine(r: FilterResult): string | null {
  const byFormat = new Map<string, number>();
  for (const f of r.files) if (unsupported(f)) byFormat.set(f.format!, (byFormat.get(f.format!) ?? 0) + 1);
  if (byFormat.size === 0) return null;
  const list = [...byFormat].map(([format, n]) => `${n} ${format}`).join(', ');
  return `flowsieve filter: not filtered (format not supported by filter): ${list} file(s); filter supports ${filterableFormats().join(', ')}`;
}

/** Records read and removed per format: one line a format. */
function formatLines(r: FilterResult): string {
  const by = new Map<string, { files: number; records: number; scan: number }>();
  for (const f of r.files) {
    if (!f.output) continue;
    const k = f.format ?? 'unknown';
    const t = by.get(k) ?? { files: 0, records: 0, scan: 0 };
    t.files++;
    t.records += f.counters.records;
    t.scan += f.counters.scan_records;
    by.set(k, t);
  }
  return [...by]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([format, t]) => `  ${format}: ${t.files} file(s), ${t.records} records, ${t.scan} removed`)
    .join('\n');
}

function fileLine(r: FileFilterReport): string {
  const c = r.counters;
  if (r.error && !r.output) return `${r.input}: not filtered: ${r.error}${r.format && !filterableFormats().includes(r.format) ? ` (filter supports ${filterableFormats().join(', ')})` : ''}`;
  const head = `${r.input}: ${c.records} records read, ${c.scan_records} scan records removed (${c.scan_bytes} bytes), ${c.records - c.scan_records} kept -> ${r.output}`;
  return r.error ? `${head}\n  ${r.input}: ${r.error}` : head;
}

function totalLine(r: FilterResult): string {
  const t = r.totals;
  const pct = t.records > 0 ? ((100 * t.scan_records) / t.records).toFixed(1) : '0.0';
  return (
    `flowsieve filter: ${r.files.length} file(s), ${t.records} records, ${t.scan_records} removed (${pct} %, ${t.scan_bytes} bytes) ` +
    `using ${r.scan_keys} scan keys, ${r.window_seconds} s windows` +
    (r.partial ? '\n  PARTIAL: some files could not be filtered (exit code 2)' : '')
  );
}
