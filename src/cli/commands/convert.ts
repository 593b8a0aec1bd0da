/** flowsieve convert: flow logs -> replay files (src/replay/), which detect reads much faster. */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import type { CommandSpec, OptionSpec, Parsed } from '../../app/args.js';
import { UsageError } from '../../app/args.js';
import { DETECTION_OPTIONS, S3_ENDPOINT_OPTION, detectOptionsFrom } from '../../app/settings.js';
import { isSourceUrl } from '../../source/url.js';
import { convert, convertPartitioned, DEFAULT_CONVERT, type ConvertResult } from '../../replay/convert.js';
import { SHARD_BUCKETS } from '../../flow/hash.js';
import { planInputs } from '../../input/plan.js';

/** The detection options that shape what is read (not thresholds or windows, which apply at detect). */
const READ_OPTIONS = new Set([
  'workers', 'format', 'region', 'account', 'aws-fields', 'region-map', 'cloud', 'partition', 'batch-size', 'chunk-size',
  'max-line-bytes', 'max-decompressed-bytes', 'max-future', 'from', 'to', 'gcs-endpoint',
]);

export const spec: CommandSpec = {
  name: 'convert',
  summary: 'turn flow-log files into replay files (binary, columnar, lz4) that detect reads fast',
  usage: 'flowsieve convert <file|dir|s3://…|az://…|gs://…>... --out FILE|DIR/ [options]',
  options: [
    { name: 'out', type: 'string', help: 'replay file to write; an existing folder (or a name ending in /) gets one replay file per input file', value: 'FILE|DIR' },
    { name: 'block-rows', type: 'number', help: 'records per block at most', default: DEFAULT_CONVERT.blockRows },
    { name: 'run-rows', type: 'number', help: 'records a worker buffers before spilling a sorted run to disk', default: DEFAULT_CONVERT.runRows },
    { name: 'partitions', type: 'number', help: 'write one replay file per source-address partition: OUT.part-<p>-of-<P>.fsr (read each with detect --partition p/P)' },
    { name: 'quiet', type: 'boolean', help: 'no summary on stderr' },
    ...DETECTION_OPTIONS.filter((o: OptionSpec) => READ_OPTIONS.has(o.name)),
    S3_ENDPOINT_OPTION,
  ],
};

export async function run(args: Parsed): Promise<number> {
  const v = args.values;
  if (args.positionals.length === 0) throw new UsageError('convert needs at least one input path');
  if (args.positionals.includes('-')) throw new UsageError('convert reads files, not stdin');
  if (!v.out) throw new UsageError('convert needs --out FILE or --out DIR/');
  const out = String(v.out);
  const base = detectOptionsFrom(v, args.positionals);
  const blockRows = Number(v['block-rows']);
  const runRows = Number(v['run-rows']);
  if (!(blockRows >= 1 && blockRows <= 1 << 20)) throw new UsageError('--block-rows must be between 1 and 1048576');
  if (!(runRows >= 1024)) throw new UsageError('--run-rows must be at least 1024');
  const toDir = out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory());
  const jobs = toDir ? perFileOutputs(args.positionals, out) : [{ inputs: args.positionals, out }];
  const P = partitionCount(v.partitions, base.partition);
  let code = 0;
  for (const job of jobs) {
    mkdirSync(dirname(job.out), { recursive: true });
    const opts = { ...base, inputs: job.inputs, out: job.out, blockRows, runRows };
    const results = P === undefined ? [await convert(opts)] : await convertPartitioned(opts, P, (p) => partitionFile(job.out, p, P));
    for (const r of results) {
      if (!v.quiet) process.stderr.write(summaryLine(r) + '\n');
      if (r.partial) code = 2;
    }
  }
  return code;
}

/**
 * --partitions P: each output becomes P files, one per partition of the source-address
 * hash (the partition detect --partition p/P and the cluster use), so a machine reads
 * only its own partition's data; one pass over the input writes all P (replay/convert.ts).
 */
function partitionCount(partitions: unknown, partition: { index: number; count: number } | undefined): number | undefined {
  if (partitions === undefined) return undefined;
  const P = Number(partitions);
  if (!(Number.isInteger(P) && P >= 1 && P <= SHARD_BUCKETS)) throw new UsageError(`--partitions must be an integer between 1 and ${SHARD_BUCKETS}`);
  if (partition) throw new UsageError('--partitions and --partition cannot be used together');
  return P;
}

function partitionFile(out: string, p: number, P: number): string {
  return `${out.replace(/\.fsr$/, '')}.part-${p}-of-${P}.fsr`;
}

/** One output per input file: DIR/<path relative to the argument it was found under>.fsr */
function perFileOutputs(paths: string[], dir: string): Array<{ inputs: string[]; out: string }> {
  const jobs: Array<{ inputs: string[]; out: string }> = [];
  for (const p of paths) {
    if (isSourceUrl(p)) {
      // a bucket prefix: one replay file for all its objects, named after the URL
      jobs.push({ inputs: [p], out: join(dir, `${p.replace(/^[a-z0-9]+:\/\//i, '').replace(/[?#].*$/, '').replace(/\/+$/, '').replace(/[^A-Za-z0-9._-]+/g, '_')}.fsr`) });
      continue;
    }
    const isDir = existsSync(p) && statSync(p).isDirectory();
    for (const f of planInputs([p], {})) {
      const rel = isDir ? relative(p, f.path) : basename(f.path);
      jobs.push({ inputs: [f.path], out: join(dir, `${rel}.fsr`) });
    }
  }
  return jobs;
}

function summaryLine(r: ConvertResult): string {
  const t = r.totals;
  const lines = [
    `flowsieve convert: ${t.records.toLocaleString('en-US')} records (${r.rows.toLocaleString('en-US')} kept for detection) from ` +
      `${r.files.length} file(s) -> ${r.out} (${(r.bytesOut / 1e6).toFixed(1)} MB, ${r.blocks} blocks) in ${r.wallSeconds.toFixed(2)} s`,
  ];
  if (t.rejected) lines.push(`  rejected: ${t.rejected} line(s) (kept in the replay file, reported again by detect)`);
  for (const f of r.files) if (f.error) lines.push(`  could not read ${f.path}: ${f.error}`);
  if (r.partial) lines.push('  the conversion is PARTIAL: some input could not be read (exit code 2)');
  return lines.join('\n');
}
