/** Running `flowsieve serve` as a child process in tests. */
import { spawn, type ChildProcess } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { openDatabase } from '../../dist/src/store/sqlite.js';

export const CLI = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;

export interface ServeProcess {
  proc: ChildProcess;
  url: string;
  log(): string;
  /** Wait until the log matches (rejects when the process exits first or after timeoutMs). */
  waitLog(re: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<number | null>;
}

/** Start serve and wait for its listening line. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<ServeProcess> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--listen', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env },
  });
  let text = '';
  const waiters: Array<() => void> = [];
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => {
    text += d;
    for (const w of waiters.splice(0)) w();
  });
  // 'close', not 'exit': 'exit' may come before the last of stderr is read (Node's child_process
  // docs), and the tests read the log once it has exited
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => {
    for (const w of waiters.splice(0)) w();
    resolve(code);
  }));
  let done = false;
  void exited.then(() => (done = true));
  const waitLog = (re: RegExp, timeoutMs = 30_000) =>
    new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const check = () => {
        if (re.test(text)) return resolve();
        if (done) return reject(new Error(`serve exited before ${re}:\n${text}`));
        if (Date.now() - t0 > timeoutMs) return reject(new Error(`timed out waiting for ${re}:\n${text}`));
        waiters.push(check);
        setTimeout(check, 200).unref();
      };
      check();
    });
  await waitLog(/listening on (http:\/\/\S+)/);
  const url = /listening on (http:\/\/\S+)/.exec(text)![1]!;
  return { proc, url, log: () => text, waitLog, exited };
}

/** Put a file into the spool the way a careful shipper does: write a dot-file, rename it in. */
export function dropFile(spool: string, name: string, content: string | Uint8Array): void {
  const final = join(spool, name);
  const tmp = join(dirname(final), `.${basename(final)}.tmp`);
  writeFileSync(tmp, content);
  renameSync(tmp, final);
}

export async function getJson(url: string, token?: string | null): Promise<{ status: number; body: any; text: string }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON (metrics, HTML)
  }
  return { status: res.status, body, text };
}

/** Poll until fn returns a truthy value. */
export async function until<T>(fn: () => Promise<T>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** An SQLite file, read-only. */
export function openSqlite(path: string): { all(sql: string, ...p: unknown[]): any[]; close(): void } {
  const db = openDatabase(path, { readonly: true });
  return { all: (sql, ...p) => db.prepare<any>(sql).all(...p), close: () => db.close() };
}

/** The serve state database, read-only. */
export function openStateDb(stateDir: string): { all(sql: string, ...p: unknown[]): any[]; close(): void } {
  return openSqlite(join(stateDir, 'flowsieve.db'));
}

/** A stop by SIGTERM, waiting for the exit code. */
export async function stopServe(s: ServeProcess): Promise<number | null> {
  s.proc.kill('SIGTERM');
  return s.exited;
}
