/**
 * What the whole-process comparisons against DuckDB (bench/bucket.ts, bench/json-blobs.ts;
 * bench/compare.ts takes its paths and median) share: a child process timed start to exit, medians, the scan keys of
 * both sides as sorted lines to compare, and the markdown section written to bench/out/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('../../', import.meta.url).pathname;
/** A build's command line as its package's bin enters it (main.cjs, since the bin is CommonJS), else main.js. */
export const cliIn = (root: string) => (existsSync(join(root, 'dist/src/cli/main.cjs')) ? join(root, 'dist/src/cli/main.cjs') : join(root, 'dist/src/cli/main.js'));
export const CLI = cliIn(ROOT);

export interface Timed {
  wall: number;
  cpu: number;
}

/**
 * A child process start to exit: wall seconds and CPU seconds (user + sys, every thread).
 * Its stdout goes to `stdoutFile` (/dev/null unless given).
 */
export function timed(args: string[], stdoutFile = '/dev/null'): Timed {
  // the pipeline's status is tail's: the command's own exit status is echoed after bash's time line
  const r = spawnSync('bash', ['-c', 'TIMEFORMAT="%R %U %S"; { time "$@" > "$OUTFILE" ; echo "exit $?" >&2; } 2>&1 | tail -2', 'bash', ...args], {
    encoding: 'utf8',
    env: { ...process.env, OUTFILE: stdoutFile },
    maxBuffer: 1 << 26,
  });
  const m = /([\d.]+) ([\d.]+) ([\d.]+)\s*\nexit (\d+)\s*$/.exec(r.stdout);
  // exit 2 is a partial run (some input unreadable, reported in its summary): still timed
  if (r.status !== 0 || !m || (m[4] !== '0' && m[4] !== '2')) throw new Error(`${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  return { wall: Number(m[1]), cpu: Number(m[2]) + Number(m[3]) };
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
export const med = (rs: Timed[]): Timed => ({ wall: median(rs.map((r) => r.wall)), cpu: median(rs.map((r) => r.cpu)) });

/** flowsieve's scans.ndjson as sorted scan-key lines (window, src, protocol, port, endpoints, flows, packets, bytes). */
export function keyLines(ndjson: string): string[] {
  return ndjson
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .map((v) => `${Date.parse(v.window_start) / 1000 / 21600} ${v.src} ${v.protocol} ${v.dst_port} ${v.endpoints} ${v.flows} ${v.packets} ${v.bytes}`)
    .sort();
}

/** The DuckDB side's keys file as the same sorted lines. */
export function duckLines(file: string): string[] {
  return (JSON.parse(readFileSync(file, 'utf8')) as Array<Record<string, number | string>>)
    .map((k) => `${k.win} ${k.src} ${k.protocol} ${k.dstPort} ${k.endpoints} ${k.flows} ${k.packets} ${k.bytes}`)
    .sort();
}

/** Whether the DuckDB keys file holds the same scan keys as flowsieve's output folder. */
export const keysAgree = (duckKeys: string, out: string) =>
  duckLines(duckKeys).join('\n') === keyLines(readFileSync(join(out, 'scans.ndjson'), 'utf8')).join('\n');

/** The number of scans in an output folder's scans.ndjson. */
export const scanCount = (out: string) => readFileSync(join(out, 'scans.ndjson'), 'utf8').split('\n').filter(Boolean).length;

/**
 * The report: to stdout and bench/out/<prefix>-<date>.md (ignored by git); exit code 1
 * where any comparison says NO.
 */
export function writeReport(prefix: string, date: string, text: string): void {
  process.stdout.write(text + '\n');
  const outDir = join(ROOT, 'bench/out');
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, `${prefix}-${date.replace(/[ :]/g, '-')}.md`), text + '\n');
  if (text.includes('| NO |') || text.includes(': NO.')) process.exitCode = 1;
}
