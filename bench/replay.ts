/**
 * Issue 19 target 5 (replay ≥ 25 M records/s on 2 cores) at a size where a run's fixed cost
 * (start-up, threads' code, outputs: ~0.1-0.15 s) no longer hides the rate a record: 2 M
 * records at 25 M/s would be 80 ms, less than that fixed cost alone, so the default here is
 * 20 M records.
 *
 * Prepares one replay file: `--records N` AWS v2 records generated (gen-aws.ts, seed 1)
 * into `--data DIR` and converted there, or `--input PATH` (a text file, a bucket folder or
 * an existing replay file) converted once. Then runs `detect` on it at each worker count,
 * start to exit, several rounds: wall and CPU seconds (user + sys of the whole process),
 * and records/s both start to exit and by the engine's own timer (summary.json
 * `performance.wall_seconds`: pools started to results merged). `--base DIR` (a checkout
 * with its own dist/) runs that build alternated with this one on the same file and checks
 * scans.ndjson, outbound.ndjson and the summary's totals byte for byte.
 *
 *   node dist/bench/replay.js [--records 20000000] [--input PATH] [--data DIR] [--rounds 3]
 *                             [--workers 1,2] [--base DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { arg, numArg, opt } from './args.js';
import { generateAws } from './gen-aws.js';
import { CLI, cliIn, median, timed, writeReport, type Timed } from './process-timing.js';
import { readReplayHeader, REPLAY_VERSION } from '../src/replay/file.js';

interface Run extends Timed {
  engine: number; // summary.json performance.wall_seconds
}

interface Outputs {
  scans: string;
  outbound: string;
  totals: string;
}

/** The replay file to read: an existing one, or one converted from the input (once: reused while newer than its source). */
function prepare(dataDir: string, records: number, input: string | undefined): { fsr: string; source: string } {
  mkdirSync(dataDir, { recursive: true });
  if (input?.endsWith('.fsr')) return { fsr: input, source: input };
  const source = input ?? join(dataDir, `aws-v2-${records}.log`);
  if (!existsSync(source)) {
    process.stderr.write(`generating ${records} AWS v2 records into ${source}...\n`);
    generateAws(source, { records, seed: 1 });
  }
  const fsr = join(dataDir, `${basename(source)}.fsr`);
  // (and again when written by a flowsieve of an older format version: without entry-row twins)
  if (!existsSync(fsr) || statSync(fsr).mtimeMs < statSync(source).mtimeMs || readReplayHeader(fsr).header.version < REPLAY_VERSION) {
    process.stderr.write(`flowsieve convert -> ${fsr}...\n`);
    const r = spawnSync(process.execPath, [CLI, 'convert', source, '--out', fsr, '--quiet'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`convert failed (${r.status}): ${r.stderr}`);
  }
  return { fsr, source };
}

function detect(cli: string, fsr: string, workers: number, out: string): { run: Run; outputs: Outputs; records: number } {
  rmSync(out, { recursive: true, force: true });
  const t = timed([process.execPath, cli, 'detect', fsr, '--out', out, '--workers', String(workers), '--quiet']);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  const outputs = {
    scans: readFileSync(join(out, 'scans.ndjson'), 'utf8'),
    outbound: existsSync(join(out, 'outbound.ndjson')) ? readFileSync(join(out, 'outbound.ndjson'), 'utf8') : '',
    totals: JSON.stringify(summary.totals),
  };
  return { run: { ...t, engine: summary.performance.wall_seconds }, outputs, records: summary.totals.records };
}

const same = (a: Outputs, b: Outputs) => a.scans === b.scans && a.outbound === b.outbound && a.totals === b.totals;

function main(): void {
  const records = numArg('records', 20_000_000);
  const rounds = numArg('rounds', 3);
  const workerCounts = opt('workers', '1,2').split(',').map(Number);
  const base = arg('base');
  const { fsr, source } = prepare(opt('data', join(tmpdir(), 'flowsieve-replay-bench')), records, arg('input'));
  const builds: Array<[string, string]> = [['this', CLI], ...(base ? [['base', cliIn(base)] as [string, string]] : [])];
  const tmp = mkdtempSync(join(tmpdir(), 'flowsieve-replay-'));
  const runs = new Map<string, Run[]>();
  let reference: Outputs | null = null;
  let agree = true;
  let n = 0;
  const loadBefore = loadavg()[0]!;
  try {
    // one run of each build first: V8's code caches are written beside the bundles at a run's end
    for (const [, cli] of builds) detect(cli, fsr, workerCounts[0]!, join(tmp, 'prime'));
    for (let r = 1; r <= rounds; r++) {
      for (const w of workerCounts) {
        for (const [name, cli] of builds) {
          process.stderr.write(`round ${r}: ${name}, ${w} worker(s)...\n`);
          const d = detect(cli, fsr, w, join(tmp, `${name}-${w}`));
          n = d.records;
          reference ??= d.outputs;
          if (!same(d.outputs, reference)) agree = false;
          const key = `${name}/${w}`;
          runs.set(key, [...(runs.get(key) ?? []), d.run]);
        }
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const date = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const m = (key: string, f: (r: Run) => number) => median(runs.get(key)!.map(f));
  const rate = (s: number) => `${(n / s / 1e6).toFixed(2)} M/s`;
  const lines = [
    `### ${date} UTC — \`node dist/bench/replay.js ${process.argv.slice(2).join(' ')}\``,
    '',
    `Replay file ${fsr} (${(statSync(fsr).size / 1e6).toFixed(1)} MB${source === fsr ? '' : `, from ${source}`}): ${n.toLocaleString('en-US')} records. ` +
      `${cpus().length} cores, load ${loadBefore.toFixed(1)} before and ${loadavg()[0]!.toFixed(1)} after. Medians of ${rounds} rounds` +
      `${base ? `, the two builds alternated (base: ${base})` : ''}.`,
    '',
    '| build | workers | wall s | CPU s | records/s start to exit | engine s | records/s by the engine | CPU ns a record |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const w of workerCounts) {
    for (const [name] of builds) {
      const k = `${name}/${w}`;
      const wall = m(k, (r) => r.wall);
      const cpu = m(k, (r) => r.cpu);
      const engine = m(k, (r) => r.engine);
      lines.push(`| ${name} | ${w} | ${wall.toFixed(2)} | ${cpu.toFixed(2)} | ${rate(wall)} | ${engine.toFixed(2)} | ${rate(engine)} | ${((cpu / n) * 1e9).toFixed(1)} |`);
    }
    if (base) lines.push(`| this / base | ${w} | ${(m(`this/${w}`, (r) => r.wall) / m(`base/${w}`, (r) => r.wall)).toFixed(3)} | ${(m(`this/${w}`, (r) => r.cpu) / m(`base/${w}`, (r) => r.cpu)).toFixed(3)} | | | | |`);
  }
  lines.push('', `Checks: scans.ndjson, outbound.ndjson and summary totals byte for byte the same at every worker count${base ? ' and in both builds' : ''}: ${agree ? 'yes' : 'NO'}.`);
  writeReport('replay', date, lines.join('\n'));
}

main();
