/**
 * Issue 19's whole-process comparisons against DuckDB, measured in one run, one after
 * the other on the same machine (medians of --rounds):
 *
 *   1. bucket: `flowsieve detect DIR` against detection.md §3 as one DuckDB statement over the same
 *      files (bench/duckdb-bucket.ts), on a bucket of 5-minute gzip objects in four AWS
 *      layouts (bench/gen-bucket.ts); their scan keys must be equal;
 *   2. per-file cost: the same on ~10,000 tiny files; flowsieve's CPU per file is its
 *      CPU less start-up (3.) less the records at the bucket's CPU per record, over the files;
 *   3. start-up: `detect` on one small file (one object of the bucket), start to exit,
 *      with and without enrichment, and DuckDB's process on the same file;
 *   4. one large text file per layout (the default v2 one and the reordered v3 one): the
 *      bucket's objects of that layout inflated and joined (one header line).
 *
 * Every figure is start to exit of a child process (wall, and user + sys CPU of the
 * process and its threads, from bash's `time`). Writes a markdown section to
 * bench/out/bucket-<date>.md (ignored by git) and stdout: figures are committed to
 * bench/RESULTS.md on purpose, not by this script.
 *
 * --base DIR runs another build of flowsieve (a checkout with its own dist/, e.g. the
 * commit before a change) alongside, in the same rounds: its figures, and whether its
 * scans.ndjson is byte for byte the same.
 *
 *   node dist/bench/bucket.js [--records 2000000] [--logs 10] [--hours 6] [--tiny-files 10000]
 *                             [--workers N] [--duck-threads N] [--rounds 1] [--data bench/data] [--no-duckdb] [--base DIR]
 *                             [--bucket-only]
 *
 * --bucket-only measures the bucket alone (no tiny files, text files or start-up): for a bucket
 * of another size, e.g. the issue's own 7.1 M records in 720 objects (`--records 7100000
 * --data /tmp/bigdata`, generated there on first use).
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { HEADERS, flowLogs, generateBucket, type Layout } from './gen-bucket.js';
import { flag, opt } from './args.js';
import { CLI, cliIn, ROOT, keysAgree, med, scanCount, timed as timedTo, type Timed, writeReport } from './process-timing.js';

const DUCK = join(ROOT, 'dist/bench/duckdb-bucket.js');
/** flowsieve's --workers (its own default when not given: each tool runs as a user would run it) */
const WORKERS = opt('workers', '');
const workerArgs = WORKERS ? ['--workers', WORKERS] : [];
/** DuckDB's threads: its own default, every core, unless given */
const DUCK_THREADS = opt('duck-threads', String(availableParallelism()));

/** A child process start to exit, its stdout to a file in tmp. */
const timed = (args: string[]): Timed => timedTo(args, join(tmp, 'stdout'));

const tmp = mkdtempSync(join(tmpdir(), 'flowsieve-bucket-'));

interface Bucket {
  dir: string;
  logs: number;
  files: number;
  bytes: number;
}

function bucket(data: string, records: number, logs: number, hours: number): Bucket {
  const dir = join(data, `bucket-${records}-${logs}-${hours}`);
  if (!existsSync(`${dir}.done`)) {
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`generating ${records} records in ${logs * hours * 12} files into ${dir}...\n`);
    generateBucket({ out: dir, records, logs, hours });
    writeFileSync(`${dir}.done`, ''); // beside the folder: a file inside would be read as input
  }
  let files = 0;
  let bytes = 0;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(join(d, e.name));
      else if (e.name.endsWith('.gz')) {
        files++;
        bytes += statSync(join(d, e.name)).size;
      }
    }
  };
  walk(join(dir, 'AWSLogs'));
  return { dir, logs, files, bytes };
}

function smallestFile(dir: string): string {
  let best = '';
  let size = Infinity;
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.gz') && statSync(p).size < size) {
        size = statSync(p).size;
        best = p;
      }
    }
  };
  walk(dir);
  return best;
}

interface Side {
  fs: { wall: number; cpu: number };
  base?: { wall: number; cpu: number; same: boolean };
  duck?: { wall: number; cpu: number };
  summary: { records: number; keys: number; tuples: number; scans: number };
  agree?: boolean;
}

/** flowsieve and DuckDB over one bucket, alternated, `rounds` times each. */
function compare(b: Bucket, rounds: number, duck: boolean, base: string | undefined): Side {
  const out = join(tmp, 'fs');
  const fsRuns: Timed[] = [];
  const baseRuns: Timed[] = [];
  const duckRuns: Timed[] = [];
  let agree = true;
  let same = true;
  for (let r = 0; r < rounds; r++) {
    fsRuns.push(timed([process.execPath, CLI, 'detect', join(b.dir, 'AWSLogs'), '--out', out, ...workerArgs, '--quiet']));
    if (base) {
      const baseOut = join(tmp, 'base');
      baseRuns.push(timed([process.execPath, cliIn(base), 'detect', join(b.dir, 'AWSLogs'), '--out', baseOut, ...workerArgs, '--quiet']));
      if (readFileSync(join(out, 'scans.ndjson'), 'utf8') !== readFileSync(join(baseOut, 'scans.ndjson'), 'utf8')) same = false;
    }
    if (duck) {
      const keys = join(tmp, 'duck.json');
      duckRuns.push(timed([process.execPath, DUCK, b.dir, '--logs', String(b.logs), '--threads', DUCK_THREADS, '--out', keys]));
      if (!keysAgree(keys, out)) agree = false;
    }
  }
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  return {
    fs: med(fsRuns),
    ...(base ? { base: { ...med(baseRuns), same } } : {}),
    ...(duck ? { duck: med(duckRuns), agree } : {}),
    summary: {
      records: s.totals.records,
      keys: s.distinct_keys,
      tuples: s.distinct_key_endpoint_entries,
      scans: scanCount(out),
    },
  };
}

interface Startup {
  plain: Timed;
  enriched: Timed;
  duck?: Timed;
}

/** `detect` on one file, start to exit (medians of wall and of CPU), and DuckDB's process on it. */
function startup(file: string, rounds: number, duck: boolean, logs: number): Startup {
  const out = join(tmp, 'one');
  const runs = (args: string[]) => {
    const rs = Array.from({ length: rounds }, () => timed(args));
    return med(rs);
  };
  const detect = (extra: string[]) => runs([process.execPath, CLI, 'detect', file, '--out', out, ...workerArgs, '--quiet', ...extra]);
  // DuckDB on the one file: the same statement, its layout's read_csv over one path
  const one = join(tmp, 'one-bucket');
  const rel = file.slice(file.indexOf('AWSLogs/'));
  mkdirSync(join(one, rel, '..'), { recursive: true });
  writeFileSync(join(one, rel), readFileSync(file));
  return {
    plain: detect(['--no-enrich']),
    enriched: detect([]),
    ...(duck ? { duck: runs([process.execPath, DUCK, one, '--logs', String(logs), '--threads', '2']) } : {}),
  };
}

/** One text file of a layout: the bucket's objects of that layout inflated and joined, one header line. */
function bigFile(b: Bucket, layout: Layout): string {
  const file = `${b.dir}-${layout}.log`;
  if (existsSync(file)) return file;
  const parts: Buffer[] = layout === 'v2-plain' ? [] : [Buffer.from(HEADERS[layout] + '\n')];
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.name.endsWith('.gz') ? [join(d, e.name)] : [])).sort();
  for (const l of flowLogs(b.logs).filter((x) => x.layout === layout)) {
    for (const f of walk(join(b.dir, l.dir))) {
      const text = gunzipSync(readFileSync(f));
      parts.push(layout === 'v2-plain' ? text : text.subarray(text.indexOf(10) + 1));
    }
  }
  writeFileSync(file, Buffer.concat(parts));
  return file;
}

/** flowsieve and DuckDB over one text file of a layout. */
function compareFile(file: string, layout: Layout, rounds: number, duck: boolean): Side {
  const out = join(tmp, 'big');
  const fsRuns: Timed[] = [];
  const duckRuns: Timed[] = [];
  let agree = true;
  for (let r = 0; r < rounds; r++) {
    fsRuns.push(timed([process.execPath, CLI, 'detect', file, '--out', out, ...workerArgs, '--quiet']));
    if (duck) {
      const keys = join(tmp, 'duck-big.json');
      duckRuns.push(timed([process.execPath, DUCK, file, '--layout', layout, '--threads', DUCK_THREADS, '--out', keys]));
      if (!keysAgree(keys, out)) agree = false;
    }
  }
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  return {
    fs: med(fsRuns),
    ...(duck ? { duck: med(duckRuns), agree } : {}),
    summary: {
      records: s.totals.records, keys: s.distinct_keys, tuples: s.distinct_key_endpoint_entries,
      scans: scanCount(out),
    },
  };
}

const f2 = (x: number) => x.toFixed(2);
const ratio = (duck: number | undefined, fs: number) => (duck === undefined ? '-' : `${(duck / fs).toFixed(2)}×`);

function main(): void {
  const records = Number(opt('records', '2000000'));
  const logs = Number(opt('logs', '10'));
  const hours = Number(opt('hours', '6'));
  const tinyFiles = Number(opt('tiny-files', '10000'));
  const rounds = Number(opt('rounds', '1'));
  const data = opt('data', join(ROOT, 'bench/data'));
  const duck = !flag('no-duckdb');
  const base = flag('base') ? opt('base', '') : undefined;
  const bucketOnly = flag('bucket-only');
  const lines: string[] = [];
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  try {
    const big = bucket(data, records, logs, hours);
    process.stderr.write('bucket...\n');
    const b = compare(big, rounds, duck, base);
    if (bucketOnly) {
      writeReport('bucket', date, bucketSection(date, records, logs, hours, rounds, big, b, base).join('\n'));
      return;
    }
    const tinyLogs = Math.max(1, Math.ceil(tinyFiles / 288));
    const tiny = bucket(data, tinyFiles * 10, tinyLogs, 24);
    process.stderr.write('tiny files...\n');
    const t = compare(tiny, rounds, duck, base);
    process.stderr.write('one large file per layout...\n');
    const bigs = (['v2-header', 'v3-reordered'] as Layout[]).map((layout) => {
      const file = bigFile(big, layout);
      return { layout, file, r: compareFile(file, layout, rounds, duck) };
    });
    process.stderr.write('start-up...\n');
    const s = startup(smallestFile(join(big.dir, 'AWSLogs')), Math.max(3, rounds), duck, logs);
    const perRecordCpu = b.fs.cpu / b.summary.records;
    const perFileCpu = (t.fs.cpu - s.enriched.cpu - t.summary.records * perRecordCpu) / tiny.files;
    lines.push(`### ${date} UTC — \`node dist/bench/bucket.js --records ${records} --logs ${logs} --hours ${hours} --tiny-files ${tinyFiles}${WORKERS ? ` --workers ${WORKERS}` : ''} --duck-threads ${DUCK_THREADS} --rounds ${rounds}\``);
    lines.push('');
    lines.push(
      `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ` +
        `load average ${(process.env.LOAD ?? readFileSync('/proc/loadavg', 'utf8').split(' ')[0])} at the end. Every figure is a child process start to exit, median of ${rounds}.`,
    );
    lines.push('');
    lines.push('| input | files | MB gzip | records | keys | tuples | tuples/key | flowsieve wall s | CPU s | DuckDB wall s | CPU s | ratio wall | ratio CPU | keys equal |');
    lines.push('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    const rows: Array<[string, { files: number; bytes: number }, Side]> = [
      ['bucket (4 layouts)', big, b],
      ['tiny files', tiny, t],
      ...bigs.map((x): [string, { files: number; bytes: number }, Side] => [`one text file, ${x.layout} (MB text)`, { files: 1, bytes: statSync(x.file).size }, x.r]),
    ];
    for (const [name, bk, r] of rows) {
      lines.push(
        `| ${name} | ${bk.files} | ${(bk.bytes / 1e6).toFixed(1)} | ${r.summary.records} | ${r.summary.keys} | ${r.summary.tuples} | ${f2(r.summary.tuples / r.summary.keys)} | ` +
          `${f2(r.fs.wall)} | ${f2(r.fs.cpu)} | ${r.duck ? f2(r.duck.wall) : '-'} | ${r.duck ? f2(r.duck.cpu) : '-'} | ${ratio(r.duck?.wall, r.fs.wall)} | ${ratio(r.duck?.cpu, r.fs.cpu)} | ${r.agree === undefined ? '-' : r.agree ? 'yes' : 'NO'} |`,
      );
    }
    lines.push('');
    if (base) {
      for (const [name, r] of [['bucket', b], ['tiny files', t]] as const) {
        lines.push(
          `Base build (${base}) on the ${name}: ${f2(r.base!.wall)} s wall, ${f2(r.base!.cpu)} s CPU (this build: ${f2(r.fs.wall / r.base!.wall)}× its wall, ${f2(r.fs.cpu / r.base!.cpu)}× its CPU); ` +
            `scans.ndjson byte for byte the same: ${r.base!.same ? 'yes' : 'NO'}.`,
        );
      }
    }
    lines.push(
      `Bucket: ${f2((b.fs.cpu / b.summary.records) * 1e6)} µs of CPU a record (flowsieve), ${b.duck ? f2((b.duck.cpu / b.summary.records) * 1e6) : '-'} (DuckDB); ${b.summary.scans} scan keys. ` +
        `Per-file cost (tiny files: CPU less start-up (with enrichment) less records × the bucket's CPU a record, over ${tiny.files} files): **${f2(perFileCpu * 1e6)} µs of CPU a file** ` +
        `(DuckDB, whole CPU over files: ${t.duck ? f2((t.duck.cpu / tiny.files) * 1e6) : '-'} µs).`,
    );
    const ms = (x: number) => `${(x * 1000).toFixed(0)} ms`;
    lines.push(
      `Start-up, \`detect\` on one small file (${statSync(smallestFile(join(big.dir, 'AWSLogs'))).size} B gzip), start to exit: ${ms(s.plain.wall)} wall, ${ms(s.plain.cpu)} CPU with --no-enrich; ` +
        `${ms(s.enriched.wall)} wall, ${ms(s.enriched.cpu)} CPU with enrichment; DuckDB's process on the same file ${s.duck ? `${ms(s.duck.wall)} wall, ${ms(s.duck.cpu)} CPU` : '-'} ` +
        `(ratio ${ratio(s.duck?.wall, s.enriched.wall)} wall).`,
    );
    lines.push('');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  writeReport('bucket', date, lines.join('\n'));
}

/** The report of a --bucket-only run: the bucket's row, the base build's figures, CPU a record. */
function bucketSection(date: string, records: number, logs: number, hours: number, rounds: number, big: Bucket, b: Side, base: string | undefined): string[] {
  const r = b.summary;
  return [
    `### ${date} UTC — \`node dist/bench/bucket.js --bucket-only --records ${records} --logs ${logs} --hours ${hours}${WORKERS ? ` --workers ${WORKERS}` : ''} --duck-threads ${DUCK_THREADS} --rounds ${rounds}\``,
    '',
    `Machine: ${availableParallelism()} cores, Node ${process.version}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]} at the end; medians of ${rounds}.`,
    '',
    '| input | files | MB gzip | records | keys | tuples | tuples/key | flowsieve wall s | CPU s | DuckDB wall s | CPU s | ratio wall | ratio CPU | keys equal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    `| bucket (4 layouts) | ${big.files} | ${(big.bytes / 1e6).toFixed(1)} | ${r.records} | ${r.keys} | ${r.tuples} | ${f2(r.tuples / r.keys)} | ` +
      `${f2(b.fs.wall)} | ${f2(b.fs.cpu)} | ${b.duck ? f2(b.duck.wall) : '-'} | ${b.duck ? f2(b.duck.cpu) : '-'} | ${ratio(b.duck?.wall, b.fs.wall)} | ${ratio(b.duck?.cpu, b.fs.cpu)} | ${b.agree === undefined ? '-' : b.agree ? 'yes' : 'NO'} |`,
    '',
    ...(base
      ? [`Base build (${base}): ${f2(b.base!.wall)} s wall, ${f2(b.base!.cpu)} s CPU (this build: ${f2(b.fs.wall / b.base!.wall)}× its wall, ${f2(b.fs.cpu / b.base!.cpu)}× its CPU); scans.ndjson byte for byte the same: ${b.base!.same ? 'yes' : 'NO'}.`]
      : []),
    `${f2((b.fs.cpu / r.records) * 1e6)} µs of CPU a record (flowsieve), ${b.duck ? f2((b.duck.cpu / r.records) * 1e6) : '-'} (DuckDB); ${r.scans} scan keys.`,
    '',
  ];
}

main();
