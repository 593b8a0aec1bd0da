/**
 * Reading a whole JSON document (an Azure PT1H.json blob, a GCP JSON-array export, a
 * file of CloudWatch envelopes): a sequence of top-level values, each an object or an
 * array of objects, pretty-printed, one per line or concatenated.
 *
 * Accounting (detection.md §6, sink.ts accountingGap): in a document, `counters.lines` counts
 * input units, each with exactly one fate (record, no-data, duplicate or reject): the
 * reader counts a unit when it gives it its fate (an Azure tuple, a GCP LogEntry, an AWS
 * message), and every syntax-error reject here counts as one unit (the value that broke).
 *
 * Bad input costs as little as it can:
 * - a value that is complete but wrong inside (bad UTF-8, a bad escape, a control
 *   character in a string) is one reject; its end is found from its brackets and
 *   reading goes on with the next value (readers do the same for the records inside
 *   a {"records":[…]} wrapper);
 * - a document that breaks half-way (a blob still being written, a truncated download)
 *   keeps everything before the break: readers emit each object when it closes, and
 *   the break is one reject naming the line, column and byte where it happened and
 *   what was being read. Reading then goes on at the next line that starts with '{'
 *   when there is one (files of one object per line), else stops.
 */
import type { FlowSink } from '../flow/sink.js';
import { JsonError, JsonScanner, LineCounter, bomAt, describeBreak, lenientEnd, needsUtf8Check, resyncPoint } from './json-bytes.js';
import { SinkLineParser } from './line-parser.js';

export interface DocHandler {
  /**
   * Read one value at sc.pos: a top-level object, or an element of a top-level array.
   * Counts each unit it gives a fate in sink.counters.lines; throws JsonError on a
   * syntax error (having counted nothing for the value that broke).
   */
  value(start: number): void;
  /** What was being read when a syntax error struck (for the reject's reason). */
  context(): string;
}

const REJECT_CONTEXT = 80;

/** Count a syntax error as a reject (one unit), with where it happened and what was being read. */
export function rejectBreak(sink: FlowSink, buf: Uint8Array, lines: LineCounter, err: JsonError, where: string): void {
  sink.counters.lines++;
  const reason = `invalid JSON${where ? ` in ${where}` : ''}: ${describeBreak(err, lines)}`;
  const from = Math.max(0, err.pos - REJECT_CONTEXT);
  sink.reject(lines.lineAt(err.pos), err.pos, reason, buf, from, Math.min(buf.length, err.pos + REJECT_CONTEXT));
}

/**
 * Run `read` on the value at `start`; when it fails with a syntax error and the value
 * still ends (by its brackets), count one reject and leave the scanner after it.
 * Rethrows when the value does not end: the document breaks there.
 */
export function readOrStepOver(sc: JsonScanner, sink: FlowSink, lines: LineCounter, start: number, read: () => void, where: () => string): void {
  try {
    read();
  } catch (err) {
    if (!(err instanceof JsonError)) throw err;
    const end = lenientEnd(sc.buf, start, sc.end);
    if (end < 0 || end <= err.pos) throw err;
    rejectBreak(sink, sc.buf, lines, err, where());
    sc.pos = end;
  }
}

export function walkDocument(buf: Uint8Array, sink: FlowSink, sc: JsonScanner, lines: LineCounter, h: DocHandler): void {
  const end = buf.length;
  sc.reset(buf, bomAt(buf, 0), end, needsUtf8Check(buf, 0, end));
  const where = () => h.context();
  const one = (at: number) => {
    sc.arenaLen = 0;
    readOrStepOver(sc, sink, lines, at, () => h.value(at), where);
  };
  for (;;) {
    const c = sc.peek();
    if (c < 0) return;
    const start = sc.pos;
    try {
      if (c === 91) {
        if (sc.openArray()) {
          do {
            sc.peek();
            one(sc.pos);
          } while (sc.nextElement());
        }
      } else if (c === 123) {
        one(start);
      } else {
        sc.fail('expected an object or an array');
      }
    } catch (err) {
      if (!(err instanceof JsonError)) throw err;
      rejectBreak(sink, buf, lines, err, h.context());
      // the line the error is on may itself be the next object (one object per line)
      const here = err.pos > start && buf[err.pos] === 123 && buf[err.pos - 1] === 10;
      const next = here ? err.pos : resyncPoint(buf, err.pos, end);
      if (next < 0) return;
      sc.pos = next;
    }
  }
}

/**
 * The lines of buf[s, e), each one JSON value read by `each` (blank lines are counted as
 * such, a syntax error or trailing data is a reject); `each` gives the line its fate
 * (sink.ts accountingGap) only once it has read the whole line: it checks that nothing
 * follows the value (JsonScanner.expectEnd) before emitting anything, so that a line
 * never gets two fates. Shared by the NDJSON readers. `each`
 * gets the line's number and file offset, and `delta`: a byte at buf[i] is at file
 * offset i + delta.
 */
export function parseJsonLines(
  buf: Uint8Array,
  s: number,
  e: number,
  firstLine: number,
  baseOffset: number,
  sink: FlowSink,
  sc: JsonScanner,
  each: (line: number, offset: number, delta: number) => void,
  lines: Uint8Array = buf, // the same bytes, where indexOf is faster (a Buffer's is memchr)
): number {
  const checkUtf8 = needsUtf8Check(buf, s, e);
  let line = firstLine;
  let i = s;
  while (i < e) {
    let j = lines.indexOf(10, i);
    if (j < 0 || j > e) j = e;
    jsonLine(buf, i, j, line, baseOffset + (i - s), baseOffset - s, checkUtf8, sink, sc, each);
    line++;
    i = j + 1;
  }
  sink.counters.lines += line - firstLine;
  return line - firstLine;
}

/**
 * The line buf[i, j) of parseJsonLines (file offset `offset`, `delta` as there), trimmed and
 * given its fate: blank, read by `each`, or a reject for its syntax error. Its line count is
 * the caller's.
 */
export function jsonLine(
  buf: Uint8Array,
  i: number,
  j: number,
  line: number,
  offset: number,
  delta: number,
  checkUtf8: boolean,
  sink: FlowSink,
  sc: JsonScanner,
  each: (line: number, offset: number, delta: number) => void,
): void {
  let ls = i + (offset === 0 ? bomAt(buf, i) : 0);
  let le = j;
  while (ls < le && (buf[ls] === 32 || buf[ls] === 9 || buf[ls] === 13)) ls++;
  while (le > ls && (buf[le - 1] === 32 || buf[le - 1] === 9 || buf[le - 1] === 13)) le--;
  if (ls === le) {
    sink.counters.blank++;
    return;
  }
  sc.reset(buf, ls, le, checkUtf8);
  try {
    each(line, offset, delta);
  } catch (err) {
    if (!(err instanceof JsonError)) throw err;
    sink.reject(line, offset, `invalid JSON: ${err.reason} at column ${err.pos - i + 1}`, buf, i, Math.min(j, i + 200));
  }
}

/** An NDJSON line format (aws-json, gcp): parseJsonLines with `each` reading a line's value. */
export class JsonLinesParser extends SinkLineParser {
  constructor(
    sink: FlowSink,
    private readonly sc: JsonScanner,
    private readonly each: (line: number, offset: number, delta: number) => void,
  ) {
    super(sink);
  }

  parseLines(buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number {
    return parseJsonLines(buf, s, e, firstLine, baseOffset, this.sink, this.sc, this.each);
  }
}

/**
 * A document of values that are one unit each, or a few (aws-cloudwatch objects, gcp-json
 * LogEntries): walkDocument with `each` reading the value at `start` and counting the
 * units it gives a fate, and a syntax error named by the value's ordinal and line.
 */
export class ValueDocument implements DocHandler {
  private readonly lines: LineCounter;
  private index = -1;
  private start = 0;

  constructor(
    private readonly buf: Uint8Array,
    private readonly sink: FlowSink,
    private readonly sc: JsonScanner,
    /** what a value is called in a reject's reason ("LogEntry") */
    private readonly noun: string,
    private readonly each: (line: number, start: number, lines: LineCounter) => void,
  ) {
    this.lines = new LineCounter(buf);
  }

  run(): void {
    walkDocument(this.buf, this.sink, this.sc, this.lines, this);
  }

  value(start: number): void {
    this.index++;
    this.start = start;
    this.each(this.lines.lineAt(start), start, this.lines);
  }

  context(): string {
    return this.index >= 0 ? `${this.noun} #${this.index + 1} (from line ${this.lines.lineAt(this.start)})` : '';
  }
}

/**
 * The first line as a JSON object when it is one whole object (so the file has one
 * object per line), else null. Used by sniffers on the file's head only.
 */
export function firstLineObject(firstLine: string): Record<string, unknown> | null {
  if (!firstLine.startsWith('{') || !firstLine.endsWith('}')) return null;
  try {
    const v: unknown = JSON.parse(firstLine);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * True when JSON text is not one object per line: an array, a pretty-printed object (a
 * first line that is only "{"), or objects run together ("}{"). Document readers claim
 * such files; line readers claim files whose lines start with "{". The test looks only at
 * the start, so a single bad line handed to a sniffer (workers/parse.ts probes rejected
 * lines for a change of format) is never taken for a document.
 */
export function documentShaped(text: string, firstLine: string): boolean {
  const c = text.trimStart()[0];
  return c === '[' || firstLine === '{' || (c === '{' && /\}\s*\{/.test(firstLine) && firstLineObject(firstLine) === null);
}
