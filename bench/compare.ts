/**
 * End-to-end comparison on one AWS v2 data set, one run after the other on the same
 * machine, several rounds (medians reported):
 *
 *   1. flowsieve detect on the plain text, the gzip and the replay file, at each worker count;
 *   2. DuckDB running detection.md §3 as one SQL statement over the text (read_csv, same thread count),
 *      its scan keys checked against flowsieve's;
 *   3. raw ceilings: reading the text (cat-equivalent), gunzip alone, lz4 decode alone.
 *
 * Rates are records/s over the same record count (the flow records of the data set), from
 * each engine's own timer (flowsieve: wall_seconds in summary.json, pools started and
 * results merged; DuckDB: instance creation to the last row), so process start-up is
 * left out of both. Prints a table and writes it to bench/out/ (ignored); --results also
 * appends it to bench/HISTORY.md.
 *
 *   node dist/bench/compare.js --records 10000000 [--rounds 3] [--workers 1,2] [--input FILE.log]
 *                              [--data DIR] [--no-duckdb] [--results]
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { flag, opt } from './args.js';
import { generateAws, gzipFile } from './gen-aws.js';
import { CLI, ROOT, median } from './process-timing.js';

const BENCH = join(ROOT, 'dist/bench');

function run(args: string[]): string {
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

interface FsRun {
  seconds: number;
  records: number;
  entries: number;
  keys: number;
  peakRss: number;
  accumulatorBytes: number;
  accumulatorEntries: number;
  scans: string;
}

function flowsieve(input: string, workers: number, out: string): FsRun {
  run([CLI, 'detect', input, '--out', out, '--workers', String(workers), '--quiet']);
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  return {
    seconds: s.performance.wall_seconds,
    records: s.totals.records,
    entries: s.distinct_key_endpoint_entries,
    keys: s.distinct_keys,
    peakRss: s.performance.peak_rss_bytes,
    accumulatorBytes: s.performance.accumulator_bytes,
    accumulatorEntries: s.performance.accumulator_entries,
    scans: readFileSync(join(out, 'scans.ndjson'), 'utf8'),
  };
}

/** Scan keys of flowsieve's scans.ndjson as "window src protocol port endpoints flows packets bytes". */
function fsKeys(ndjson: string, windowSeconds: number): string[] {
  return ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((v) => `${Date.parse(v.window_start) / 1000 / windowSeconds} ${v.src} ${v.protocol} ${v.dst_port} ${v.endpoints} ${v.flows} ${v.packets} ${v.bytes}`)
    .sort();
}

function duckKeys(file: string): string[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, number | string>>)
    .map((k) => `${k.win} ${k.src} ${k.protocol} ${k.dstPort} ${k.endpoints} ${k.flows} ${k.packets} ${k.bytes}`)
    .sort();
}

function ceiling(mode: string, file: string, threads = 1): { seconds: number; bytes: number } {
  return JSON.parse(run([join(BENCH, 'ceiling.js'), mode, file, String(threads)]));
}

async function prepare(records: number, dataDir: string, input?: string): Promise<{ text: string; gz: string; fsr: string }> {
  mkdirSync(dataDir, { recursive: true });
  const text = input ?? join(dataDir, `aws-v2-${records}.log`);
  if (!existsSync(text)) {
    process.stderr.write(`generating ${records} AWS v2 records into ${text}...\n`);
    generateAws(text, { records, seed: 1 });
  }
  const base = input ? join(dataDir, input.split('/').pop()!) : text;
  const gz = `${base}.gz`;
  const fsr = `${base}.fsr`;
  const older = (f: string) => !existsSync(f) || statSync(f).mtimeMs < statSync(text).mtimeMs;
  if (older(gz)) {
    process.stderr.write(`gzip -> ${gz}...\n`);
    await gzipFile(text, gz);
  }
  if (older(fsr)) {
    process.stderr.write(`flowsieve convert -> ${fsr}...\n`);
    run([CLI, 'convert', text, '--out', fsr, '--quiet']);
  }
  return { text, gz, fsr };
}

async function main(): Promise<void> {
  const records = Number(opt('records', '10000000'));
  const rounds = Number(opt('rounds', '3'));
  const workerCounts = opt('workers', '1,2').split(',').map(Number);
  const input = process.argv.includes('--input') ? opt('input', '') : undefined;
  const duck = !flag('no-duckdb');
  const files = await prepare(records, opt('data', join(ROOT, 'bench/data')), input);
  const kinds: Array<[string, string, string]> = [
    ['AWS v2 text', files.text, 'read'],
    ['gzip', files.gz, 'gunzip'],
    ['replay', files.fsr, 'lz4'],
  ];
  const tmp = mkdtempSync(join(tmpdir(), 'flowsieve-compare-'));
  const fs = new Map<string, FsRun[]>();
  const dk = new Map<number, number[]>();
  const ceil = new Map<string, number[]>();
  let duckAgrees = true;
  let kindsAgree = true;
  let reference: string | null = null;
  try {
    for (let r = 1; r <= rounds; r++) {
      for (const w of workerCounts) {
        for (const [kind, file, mode] of kinds) {
          process.stderr.write(`round ${r}: flowsieve ${kind}, ${w} worker(s)...\n`);
          const f = flowsieve(file, w, join(tmp, `${kind}-${w}`));
          push(fs, `${kind}/${w}`, f);
          reference ??= f.scans;
          if (f.scans !== reference) kindsAgree = false;
          const threads = mode === 'lz4' ? w : 1;
          const c = ceiling(mode, file, threads);
          push(ceil, `${mode}/${threads}`, c.seconds);
        }
        if (duck) {
          process.stderr.write(`round ${r}: DuckDB, ${w} thread(s)...\n`);
          const keysFile = join(tmp, 'duck.json');
          const d = JSON.parse(run([join(BENCH, 'duckdb-scan.js'), files.text, '--threads', String(w), '--out', keysFile]));
          push(dk, w, d.seconds);
          const duckRef = duckKeys(keysFile);
          if (duckRef.join('\n') !== fsKeys(reference!, 21600).join('\n')) duckAgrees = false;
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  report({ records, rounds, workerCounts, kinds, fs, dk, ceil, duck, duckAgrees, kindsAgree, scanKeys: fsKeys(reference!, 21600).length, files });
}

function push<K, V>(m: Map<K, V[]>, k: K, v: V): void {
  const l = m.get(k);
  if (l) l.push(v);
  else m.set(k, [v]);
}

interface Report {
  records: number;
  rounds: number;
  workerCounts: number[];
  kinds: Array<[string, string, string]>;
  fs: Map<string, FsRun[]>;
  dk: Map<number, number[]>;
  ceil: Map<string, number[]>;
  duck: boolean;
  duckAgrees: boolean;
  kindsAgree: boolean;
  scanKeys: number;
  files: { text: string; gz: string; fsr: string };
}

const M = (x: number) => `${(x / 1e6).toFixed(2)} M`;

function report(r: Report): void {
  const first = r.fs.values().next().value![0]!;
  const n = first.records;
  const lines: string[] = [];
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  lines.push(`### ${date} UTC — \`node dist/bench/compare.js --records ${r.records} --rounds ${r.rounds} --workers ${r.workerCounts.join(',')}\``);
  lines.push('');
  lines.push(
    `Machine: ${availableParallelism()} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}. ` +
      `Data: ${n.toLocaleString('en-US')} flow records (${mb(r.files.text)} text, ${mb(r.files.gz)} gzip, ${mb(r.files.fsr)} replay), ` +
      `${first.keys.toLocaleString('en-US')} distinct scan keys, ${first.entries.toLocaleString('en-US')} distinct (key, endpoint) tuples, ${r.scanKeys} scan keys. ` +
      `Medians of ${r.rounds} rounds; records/s = ${n.toLocaleString('en-US')} / seconds.`,
  );
  lines.push('');
  lines.push('| input | workers | flowsieve s | flowsieve rec/s | DuckDB rec/s | flowsieve / DuckDB | ceiling | ceiling rec/s | flowsieve / ceiling |');
  lines.push('|---|---:|---:|---:|---:|---:|---|---:|---:|');
  for (const w of r.workerCounts) {
    const duckRate = r.duck ? n / median(r.dk.get(w)!) : NaN;
    for (const [kind, , mode] of r.kinds) {
      const s = median(r.fs.get(`${kind}/${w}`)!.map((x) => x.seconds));
      const rate = n / s;
      const threads = mode === 'lz4' ? w : 1;
      const c = n / median(r.ceil.get(`${mode}/${threads}`)!);
      const cname = { read: 'read file (1 thread)', gunzip: 'gunzip only (1 stream)', lz4: `lz4 decode only (${threads} thread${threads > 1 ? 's' : ''})` }[mode];
      lines.push(
        `| ${kind} | ${w} | ${s.toFixed(2)} | ${M(rate)} | ${r.duck ? M(duckRate) : '-'} | ${r.duck ? (rate / duckRate).toFixed(2) + '×' : '-'} | ` +
          `${cname} | ${M(c)} | ${((100 * rate) / c).toFixed(0)} % |`,
      );
    }
  }
  lines.push('');
  const scaling = r.kinds.map(([kind]) => {
    const rates = r.workerCounts.map((w) => `${w}: ${M(n / median(r.fs.get(`${kind}/${w}`)!.map((x) => x.seconds)))}`);
    return `${kind} ${rates.join(', ')}`;
  });
  lines.push(`Worker scaling (records/s): ${scaling.join('; ')}.`);
  const mem = r.workerCounts.map((w) => {
    const f = r.fs.get(`replay/${w}`)![0]!;
    return `${w} worker(s): peak RSS ${(f.peakRss / 2 ** 20).toFixed(0)} MiB = ${((f.peakRss / f.entries) * 1e6 / 2 ** 20).toFixed(0)} MiB per million tuples ` +
      `(${(f.peakRss / f.entries).toFixed(0)} B/tuple incl. the runtime), accumulators ${(f.accumulatorBytes / f.accumulatorEntries).toFixed(1)} B ` +
      `per (key, endpoint) tuple held (${f.accumulatorEntries.toLocaleString('en-US')} inbound and outbound tuples in ${(f.accumulatorBytes / 2 ** 20).toFixed(0)} MiB)`;
  });
  lines.push(`Memory (replay input): ${mem.join('; ')}.`);
  lines.push(
    `Checks: flowsieve verdicts identical on text, gzip and replay at every worker count: ${r.kindsAgree ? 'yes' : 'NO'}` +
      (r.duck ? `; DuckDB's scan keys (and their endpoints, flows, packets, bytes) equal flowsieve's: ${r.duckAgrees ? 'yes' : 'NO'}.` : '.'),
  );
  lines.push('');
  const text = lines.join('\n');
  process.stdout.write(text + '\n');
  // run output goes to bench/out/ (ignored): `npm run bench` leaves the clone unmodified;
  // --results appends the table to bench/HISTORY.md, to commit on purpose
  const outDir = join(ROOT, 'bench/out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `compare-${date.replace(/[ :]/g, '-')}.md`), text + '\n');
  if (flag('results')) {
    const results = join(ROOT, 'bench/HISTORY.md');
    appendFileSync(results, text + '\n');
    process.stderr.write(`appended to ${results}\n`);
  }
  if (!r.kindsAgree || (r.duck && !r.duckAgrees)) process.exitCode = 1;
}

function mb(f: string): string {
  return `${(statSync(f).size / 1e6).toFixed(0)} MB`;
}

await main();
