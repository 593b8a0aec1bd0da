/**
 * Output folders are checked before any input is read: a run of hours must not end in a
 * stack trace because --out names a file, a read-only place or a pseudo file system.
 * The folder is made one level at a time (Node's recursive mkdir loops for ever under
 * /proc) and a probe file is written and removed in it.
 */
import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export class OutputDirError extends Error {}

/** Make `dir` (and its missing parents) and prove a file can be written in it; throws OutputDirError. */
export function prepareOutputDir(dir: string, option: string): void {
  const path = resolve(dir);
  const missing: string[] = [];
  let at = path;
  for (;;) {
    const st = statOrNull(at);
    if (st) {
      if (!st.isDirectory()) throw new OutputDirError(`${option} ${dir}: ${at} exists and is not a folder`);
      break;
    }
    missing.unshift(at);
    const up = dirname(at);
    if (up === at) break;
    at = up;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new OutputDirError(`${option} ${dir}: cannot create the folder ${d} (${codeOf(err)})`);
    }
  }
  const probe = join(path, `.flowsieve-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'wx');
    try {
      writeSync(fd, 'flowsieve\n');
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
  } catch (err) {
    throw new OutputDirError(`${option} ${dir}: cannot write in this folder (${codeOf(err)})`);
  }
}

function statOrNull(path: string) {
  try {
    return statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null; // ENOTDIR: a parent is a file (found on the way up)
    throw new OutputDirError(`${path}: ${codeOf(err)}`);
  }
}

function codeOf(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^\w+: /, '')}` : e.message;
}
