/**
 * Data for the object-store input tests: a small generated multi-cloud set (planted
 * scanners, each cloud in its real key layout), a subset of its files copied to a local
 * folder, the same files as objects, and the CLI run on both.
 */
import { expect } from 'vitest';
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { generate, DEFAULT_START } from '../../dist/src/generate/index.js';

export const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

/** Every file under a folder, as paths relative to it, sorted. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/**
 * One day of generated logs of one cloud under `dir/<cloud>/` (its key layout), keeping
 * the files of every `keepEvery`-th hour only (fewer objects to serve, scanners still
 * found): returns the kept files' keys, relative to `dir/<cloud>/`.
 */
export async function generatedLogs(dir: string, cloud: 'aws' | 'azure' | 'gcp', days = 1, keepEvery = 1): Promise<{ root: string; keys: string[] }> {
  const full = join(dir, 'generated');
  await generate({ out: full, seed: 3, scale: 0.01, days, start: DEFAULT_START, clouds: [cloud], windowSeconds: 21600, gzipLevel: 1 });
  const root = join(dir, cloud);
  const keys = filesUnder(join(full, cloud)).filter((k) => hourOf(k) % keepEvery === 0);
  for (const k of keys) {
    mkdirSync(dirname(join(root, k)), { recursive: true });
    copyFileSync(join(full, cloud, k), join(root, k));
  }
  return { root, keys };
}

/** The hour a generated file covers (AWS ...T0900Z..., Azure h=09, GCP 09:00:00_...). */
function hourOf(key: string): number {
  const m = /T(\d{2})\d{2}Z_|\/h=(\d{2})\/|\/(\d{2}):00:00_/.exec(key);
  return m ? Number(m[1] ?? m[2] ?? m[3]) : 0;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process (asynchronous: the test's loopback server keeps answering meanwhile). */
export function runCli(args: string[], env: Record<string, string> = {}, input?: Buffer): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(input);
  });
}

export const scansOf = (out: string) => readFileSync(join(out, 'scans.ndjson'));
/** summary.json with its per-file reports (kept in files.ndjson beside it) read back into `files`. */
export function summaryOf(out: string) {
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  if (typeof s.files === 'string') s.files = readFileSync(join(out, s.files), 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return s;
}
export const sizeOf = (p: string) => statSync(p).size;

/**
 * `detect` on the files under `root` (into DIR/disk) and on the same files in a bucket
 * (`urls`, with `env`, into DIR/`out`): both succeed and write the same scans.ndjson, of
 * more than 100 scans, the bucket's run reading `files` files, with no listener-leak
 * warning on its stderr. Returns its summary.
 */
export async function expectBucketScansAsOnDisk(dir: string, root: string, urls: string[], env: Record<string, string>, out: string, files: number) {
  const onDisk = await runCli(['detect', root, '--out', join(dir, 'disk'), '--workers', '2', '--quiet']);
  const inBucket = await runCli(['detect', ...urls, '--out', join(dir, out), '--workers', '2', '--quiet'], env);
  expect(onDisk.code, onDisk.stderr).toBe(0);
  expect(inBucket.code, inBucket.stderr).toBe(0);
  // the object-store clients' streams must not trip Node's listener-leak warning (users see it on stderr)
  expect(inBucket.stderr).not.toMatch(/MaxListenersExceededWarning/);
  expect(scansOf(join(dir, 'disk')).length).toBeGreaterThan(100);
  expect(scansOf(join(dir, out)).equals(scansOf(join(dir, 'disk')))).toBe(true);
  const s = summaryOf(join(dir, out));
  expect(s.totals.files).toBe(files);
  return s;
}
