/** Reading NDJSON files line by line without holding the whole file (verdict files can be large). */
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Calls fn for every non-blank line with its 1-based line number. */
export function forEachLine(path: string, fn: (line: string, lineNo: number) => void): void {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  const dec = new StringDecoder('utf8');
  let rest = '';
  let lineNo = 0;
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      const text = rest + (n > 0 ? dec.write(buf.subarray(0, n)) : dec.end());
      const lines = text.split('\n');
      rest = n > 0 ? lines.pop()! : '';
      for (const l of lines) {
        lineNo++;
        if (l.trim()) fn(l, lineNo);
      }
      if (n === 0) break;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Parse each line as a JSON object; lines that are not are counted and the first few
 * described in `problems` (file and line), and reading goes on.
 */
export function readObjects(path: string, fn: (o: Record<string, unknown>) => void, problems: string[], maxProblems = 5): number {
  let bad = 0;
  forEachLine(path, (line, no) => {
    let o: unknown;
    try {
      o = JSON.parse(line);
    } catch (err) {
      o = undefined;
      if (problems.length < maxProblems) problems.push(`${path}:${no}: not JSON (${(err as Error).message})`);
    }
    if (o && typeof o === 'object' && !Array.isArray(o)) fn(o as Record<string, unknown>);
    else bad++;
  });
  return bad;
}
