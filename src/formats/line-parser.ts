/**
 * What the line formats share: the two LineParser events every one of them hands to its
 * sink as they are (a line too long, a truncated last line), and the newline loop of the
 * formats that parse one line at a time (goflow2, nfdump).
 */
import type { FlowSink } from '../flow/sink.js';
import type { LineParser } from './types.js';

export abstract class SinkLineParser implements LineParser {
  constructor(protected readonly sink: FlowSink) {}

  abstract parseLines(buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number;

  lineTooLong(line: number, offset: number): void {
    this.sink.lineTooLong(line, offset);
  }

  truncated(line: number, offset: number): void {
    this.sink.truncatedLine(line, offset);
  }
}

/** A line format parsed line by line: parseLine sees one line without its '\n'. */
export abstract class EachLineParser extends SinkLineParser {
  protected abstract parseLine(buf: Uint8Array, s: number, e: number, line: number, offset: number): void;

  parseLines(buf: Uint8Array, s: number, e: number, firstLine: number, baseOffset: number): number {
    let line = firstLine;
    let i = s;
    while (i < e) {
      // indexOf is native (many times faster than a byte loop); bytes past e may be stale
      let j = buf.indexOf(10, i);
      if (j < 0 || j > e) j = e;
      this.parseLine(buf, i, j, line, baseOffset + (i - s));
      line++;
      i = j + 1;
    }
    this.sink.counters.lines += line - firstLine;
    return line - firstLine;
  }
}
