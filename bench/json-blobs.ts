/**
 * Issue 19, target 4: Azure NSG/VNet PT1H.json blobs and GCP NDJSON LogEntries,
 * `flowsieve detect` against SPEC §3 as one DuckDB `read_json` statement over the same
 * files (bench/duckdb-json.ts), alternated in one run (medians of --rounds). Each figure
 * is a child process start to exit: wall, and user + sys CPU of the process and its
 * threads (bash's `time`); MB/s is the JSON's size over wall. Their scan keys (window,
 * src, protocol, port, endpoints, flows, packets, bytes) must be equal.
 *
 * The input is `flowsieve generate --clouds azure,gcp --scale S --days D`, written once
 * to --data (bench/data, ignored by git). --base DIR runs another build (a checkout with
 * its own dist/) in the same rounds: its figures, and whether its scans.ndjson,
 * outbound.ndjson and summary totals are byte for byte the same. Writes a markdown
 * section to bench/out/json-<date>.md (ignored) and stdout.
 *
 *   node dist/bench/json-blobs.js [--scale 3] [--days 1] [--workers N] [--duck-threads N] [--rounds 1]
 *                                 [--data bench/data] [--no-duckdb] [--base DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, opt } from './args.js';
import { metaDirFor } from '../src/generate/index.js';
import { CLI, cliIn, ROOT, keysAgree, med, scanCount, timed, type Timed, writeReport } from './process-timing.js';

const DUCK = join(ROOT, 'dist/bench/duckdb-json.js');
/** flowsieve's --workers (its own default when not given: each tool runs as a user would run it) */
const WORKERS = opt('workers', '');
const workerArgs = WORKERS ? ['--workers', WORKERS] : [];
/** DuckDB's threads: its own default, every core, unless given */
const DUCK_THREADS = opt('duck-threads', String(availableParallelism()));
const CLOUDS = ['azure', 'gcp'] as const;
type JsonCloud = (typeof CLOUDS)[number];

const tmp = mkdtempSync(join(tmpdir(), 'flowsieve-json-'));

/** The generated estate, written once per (scale, days). */
function estate(data: string, scale: number, days: number): string {
  const dir = join(data, `json-${scale}-${days}`);
  if (!existsSync(`${dir}.done`)) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(metaDirFor(dir), { recursive: true, force: true }); // generate writes its region map beside the logs
    const r = spawnSync(process.execPath, [CLI, 'generate', '--out', dir, '--clouds', 'azure,gcp', '--scale', String(scale), '--days', String(days)], {
      stdio: 'inherit',
    });
    if (r.status !== 0) throw new Error('flowsieve generate failed');
    writeFileSync(`${dir}.done`, ''); // beside the folder: a file inside would be read as input
  }
  return dir;
}

function tree(dir: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files++;
    bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return { files, bytes };
}

/** What a run decides: its scans, outbound alerts and summary totals, as text to compare. */
function verdicts(out: string): string {
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  return [readFileSync(join(out, 'scans.ndjson'), 'utf8'), readFileSync(join(out, 'outbound.ndjson'), 'utf8'), JSON.stringify(s.totals)].join('\n');
}

interface Side {
  cloud: JsonCloud;
  files: number;
  bytes: number;
  records: number;
  keys: number;
  tuples: number;
  scans: number;
  fs: Timed;
  duck?: Timed;
  agree?: boolean;
  base?: Timed & { same: boolean };
}

/** flowsieve, the base build and DuckDB over one cloud's files, alternated, `rounds` times each. */
function compare(est: string, cloud: JsonCloud, rounds: number, duck: boolean, base: string | undefined): Side {
  const dir = join(est, cloud);
  const detect = (cli: string, out: string) =>
    timed([process.execPath, cli, 'detect', dir, '--region-map', join(metaDirFor(est), 'region-map.json'), '--out', out, ...workerArgs, '--no-enrich', '--quiet']);
  const out = join(tmp, 'fs');
  const runs: Record<'fs' | 'base' | 'duck', Timed[]> = { fs: [], base: [], duck: [] };
  let agree = true;
  let same = true;
  for (let i = 0; i < rounds; i++) {
    runs.fs.push(detect(CLI, out));
    if (base) {
      const baseOut = join(tmp, 'base');
      runs.base.push(detect(cliIn(base), baseOut));
      if (verdicts(out) !== verdicts(baseOut)) same = false;
    }
    if (duck) {
      const keys = join(tmp, 'duck.json');
      runs.duck.push(timed([process.execPath, DUCK, dir, '--cloud', cloud, '--threads', DUCK_THREADS, '--out', keys]));
      if (!keysAgree(keys, out)) agree = false;
    }
  }
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  return {
    cloud,
    ...tree(dir),
    records: s.totals.records,
    keys: s.distinct_keys,
    tuples: s.distinct_key_endpoint_entries,
    scans: scanCount(out),
    fs: med(runs.fs),
    ...(duck ? { duck: med(runs.duck), agree } : {}),
    ...(base ? { base: { ...med(runs.base), same } } : {}),
  };
}

function main(): void {
  const scale = Number(opt('scale', '3'));
  const days = Number(opt('days', '1'));
  const rounds = Number(opt('rounds', '1'));
  const duck = !flag('no-duckdb');
  const base = flag('base') ? opt('base', '') : undefined;
  const est = estate(opt('data', join(ROOT, 'bench/data')), scale, days);
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const f2 = (x: number) => x.toFixed(2);
  const mbs = (bytes: number, s: number) => (bytes / 1e6 / s).toFixed(1);
  const ratio = (d: number | undefined, f: number) => (d === undefined ? '-' : `${f2(d / f)}×`);
  const lines = [
    `### Azure / GCP JSON vs DuckDB read_json, ${date} UTC`,
    '',
    `\`node dist/bench/json-blobs.js --scale ${scale} --days ${days}${WORKERS ? ` --workers ${WORKERS}` : ''} --duck-threads ${DUCK_THREADS} --rounds ${rounds}${base ? ` --base ${base}` : ''}\`: ` +
      `${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), Node ${process.version}, load ${loadavg()[0]!.toFixed(1)} at the end; ` +
      `medians of ${rounds}; \`detect${WORKERS ? ` --workers ${WORKERS}` : ''} --no-enrich\` (flowsieve's default workers when not given), DuckDB threads = ${DUCK_THREADS}. MB/s = JSON bytes / wall (and / CPU).`,
    '',
    '| input | files | MB JSON | records | keys | tuples | tuples/key | flowsieve wall s | CPU s | MB/s wall | MB/s CPU | DuckDB wall s | CPU s | ratio wall | ratio CPU | keys equal |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ];
  const sides: Side[] = [];
  try {
    for (const cloud of CLOUDS) {
      const r = compare(est, cloud, rounds, duck, base);
      sides.push(r);
      lines.push(
        `| ${cloud} | ${r.files} | ${(r.bytes / 1e6).toFixed(1)} | ${r.records} | ${r.keys} | ${r.tuples} | ${f2(r.tuples / Math.max(1, r.keys))} | ` +
          `${f2(r.fs.wall)} | ${f2(r.fs.cpu)} | ${mbs(r.bytes, r.fs.wall)} | ${mbs(r.bytes, r.fs.cpu)} | ` +
          `${r.duck ? f2(r.duck.wall) : '-'} | ${r.duck ? f2(r.duck.cpu) : '-'} | ${ratio(r.duck?.wall, r.fs.wall)} | ${ratio(r.duck?.cpu, r.fs.cpu)} | ` +
          `${r.agree === undefined ? '-' : r.agree ? 'yes' : 'NO'} |`,
      );
    }
    lines.push('');
    for (const r of sides.filter((x) => x.base)) {
      lines.push(
        `Base build (${base}) on ${r.cloud}: ${f2(r.base!.wall)} s wall, ${f2(r.base!.cpu)} s CPU (this build: ${f2(r.fs.cpu / r.base!.cpu)}× its CPU); ` +
          `scans.ndjson, outbound.ndjson and summary totals byte for byte the same: ${r.base!.same ? 'yes' : 'NO'}.`,
      );
    }
    lines.push('');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  writeReport('json', date, lines.join('\n'));
}

main();
