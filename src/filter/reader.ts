/**
 * A filter for any line format, built on the format's own reader: each line is handed to
 * the reader, whose records land in a capturing sink instead of the detector's batches,
 * and the line is scan traffic when every record it carries is. So a new line format is
 * filterable as soon as it can be read, with exactly the reader's field mapping (units,
 * protocol names, ICMP type/code). Formats whose lines are JSON objects can be tagged:
 * the field `"flowsieve_scan":true` is added before the object's closing brace.
 */
import { FlowSink } from '../flow/sink.js';
import type { LineParser, LineReader } from '../formats/types.js';
import type { FilterContext, FilterOutput, FormatFilter, LineFilter } from './types.js';

/** The field added in --mode tag. */
export const TAG_FIELD = '"flowsieve_scan":true';
const TAG_BYTES = Buffer.from(`,${TAG_FIELD}`);

/** Records of the current line, judged as the reader emits them. */
class CaptureSink extends FlowSink {
  emitted = 0;
  matched = 0;

  constructor(private readonly ctx: FilterContext) {
    super({ shards: 1, batchSize: 64, maxRejectsKept: 0 }, () => {});
  }

  override emit(): boolean {
    const r = this.rec;
    this.emitted++;
    const window = Math.floor(r.start / this.ctx.windowSeconds);
    const keys = this.ctx.keys;
    if (keys.has(r.src, 0, r.proto, r.dport, window) || (this.ctx.replies && keys.has(r.dst, 0, r.proto, r.sport, window))) this.matched++;
    return true;
  }

  override noData(): void {}
  override reject(): void {}
  override rejectText(): void {}
}

class ReaderLineFilter implements LineFilter {
  private readonly sink: CaptureSink;
  private readonly parser: LineParser;
  private line = 1;
  private offset = 0;

  constructor(
    reader: LineReader,
    private readonly ctx: FilterContext,
    private readonly jsonLines: boolean,
  ) {
    this.sink = new CaptureSink(ctx);
    this.parser = reader.open({ sink: this.sink, file: ctx.file, account: ctx.account, region: ctx.region, awsFields: ctx.awsFields, cloud: ctx.cloud });
  }

  filterLines(buf: Uint8Array, s: number, e: number, out: FilterOutput): void {
    const c = this.ctx.counters;
    let i = s;
    while (i < e) {
      let j = i;
      while (j < e && buf[j] !== 10) j++;
      const next = j < e ? j + 1 : e;
      const sink = this.sink;
      sink.emitted = 0;
      sink.matched = 0;
      this.parser.parseLines(buf, i, next, this.line, this.offset);
      this.line++;
      this.offset += next - i;
      c.lines++;
      c.records += sink.emitted;
      if (sink.emitted === 0) c.unparsed++;
      else if (sink.matched > 0 && sink.matched < sink.emitted) c.mixed_lines++; // kept: part of it is not scan traffic
      const scan = sink.emitted > 0 && sink.matched === sink.emitted;
      if (!scan) {
        out.write(buf, i, next);
        c.kept_lines++;
      } else if (this.ctx.mode === 'tag') {
        // a JSON object line always ends with its brace; were it not, the line is kept as it is
        if (this.jsonLines && this.tag(buf, i, j, next, out)) c.scan_records += sink.emitted;
        else out.write(buf, i, next);
        c.kept_lines++;
      } else {
        c.scan_records += sink.emitted;
        c.scan_bytes += next - i;
      }
      i = next;
    }
  }

  /** Write the line with the tag field before its closing brace; false when it has none. */
  private tag(buf: Uint8Array, s: number, end: number, next: number, out: FilterOutput): boolean {
    let k = end;
    while (k > s && (buf[k - 1] === 32 || buf[k - 1] === 9 || buf[k - 1] === 13)) k--;
    if (k === s || buf[k - 1] !== 125) return false; // '}'
    out.write(buf, s, k - 1);
    out.write(TAG_BYTES, 0, TAG_BYTES.length);
    out.write(buf, k - 1, next);
    return true;
  }
}

/** A FormatFilter from a line reader; jsonLines: each line is one JSON object (taggable). */
export function readerFilter(reader: LineReader, jsonLines: boolean): FormatFilter {
  return { name: reader.name, canTag: jsonLines, open: (ctx) => new ReaderLineFilter(reader, ctx, jsonLines) };
}
