/**
 * The AWS VPC Flow Logs text filter: the same header handling and field layout as the
 * reader (src/formats/aws.ts), read byte by byte, but only the six fields a scan key
 * needs are parsed. Header lines, NODATA / SKIPDATA records and lines that do not parse
 * are kept as they are. A text format has no room for an extra field, so it cannot tag.
 */
import { AWS_V2_FIELDS, fieldName, isAwsHeader } from '../formats/aws.js';
import { parseAddressBytes } from '../net/address.js';
import type { FilterContext, FilterOutput, FormatFilter, LineFilter } from './types.js';

/** Column index of each field a scan key needs (-1 when the layout lacks it). */
interface Layout {
  ncols: number;
  src: number;
  dst: number;
  sport: number;
  dport: number;
  proto: number;
  start: number;
}

function layoutOf(fields: readonly string[]): Layout | null {
  const names = fields.map(fieldName);
  const l: Layout = {
    ncols: names.length,
    src: names.indexOf('srcaddr'),
    dst: names.indexOf('dstaddr'),
    sport: names.indexOf('srcport'),
    dport: names.indexOf('dstport'),
    proto: names.indexOf('protocol'),
    start: names.indexOf('start'),
  };
  return l.src < 0 || l.dst < 0 || l.sport < 0 || l.dport < 0 || l.proto < 0 || l.start < 0 ? null : l;
}

const V2 = layoutOf(AWS_V2_FIELDS)!;
const decoder = new TextDecoder();

function parseUint(buf: Uint8Array, s: number, e: number): number {
  if (e <= s || e - s > 15) return -1;
  let v = 0;
  for (let i = s; i < e; i++) {
    const c = buf[i]! - 48;
    if (c < 0 || c > 9) return -1;
    v = v * 10 + c;
  }
  return v;
}

const isSpace = (c: number | undefined) => c === 32 || c === 9 || c === 13;

class AwsTextFilter implements LineFilter {
  private layout: Layout | null;
  private readonly fixed: boolean; // layout from --aws-fields: header lines are recognised but do not change it
  private first = true;
  private readonly src = new Uint32Array(4);
  private readonly dst = new Uint32Array(4);
  // field spans of the current line, by column role
  private readonly spanS = new Int32Array(6);
  private readonly spanE = new Int32Array(6);

  constructor(private readonly ctx: FilterContext) {
    this.layout = ctx.awsFields ? layoutOf(ctx.awsFields) : null;
    this.fixed = this.layout !== null;
  }

  filterLines(buf: Uint8Array, s: number, e: number, out: FilterOutput): void {
    const c = this.ctx.counters;
    let i = s;
    while (i < e) {
      let j = i;
      while (j < e && buf[j] !== 10) j++;
      const next = j < e ? j + 1 : e;
      c.lines++;
      if (this.isScan(buf, i, j)) {
        c.scan_records++;
        c.scan_bytes += next - i;
      } else {
        out.write(buf, i, next);
        c.kept_lines++;
      }
      i = next;
    }
  }

  /** Whether the line buf[s, e) is a flow record of scan traffic. Counts records and unparsed lines. */
  private isScan(buf: Uint8Array, s: number, e: number): boolean {
    const c = this.ctx.counters;
    while (s < e && isSpace(buf[s])) s++;
    while (e > s && isSpace(buf[e - 1])) e--;
    if (s === e) {
      c.unparsed++;
      return false;
    }
    // a header is looked for on the first line, and (files concatenated) on a line that is not a record
    if (this.first) {
      this.first = false;
      if (this.header(buf, s, e)) {
        c.unparsed++;
        return false;
      }
    }
    const key = this.record(buf, s, e);
    if (key < 0) {
      this.header(buf, s, e);
      c.unparsed++;
      return false;
    }
    c.records++;
    return key === 1;
  }

  /** 1: a record of scan traffic, 0: another record, -1: not a flow record. */
  private record(buf: Uint8Array, s: number, e: number): number {
    const l = this.layout ?? V2;
    if (!this.fields(buf, s, e, l)) return -1;
    const [S, E] = [this.spanS, this.spanE];
    // roles: 0 src, 1 dst, 2 sport, 3 dport, 4 proto, 5 start ('-' addresses: NODATA / SKIPDATA)
    if (!parseAddressBytes(buf, S[0]!, E[0]!, this.src, 0) || !parseAddressBytes(buf, S[1]!, E[1]!, this.dst, 0)) return -1;
    const sport = parseUint(buf, S[2]!, E[2]!);
    const dport = parseUint(buf, S[3]!, E[3]!);
    const proto = parseUint(buf, S[4]!, E[4]!);
    const start = parseUint(buf, S[5]!, E[5]!);
    if (sport < 0 || sport > 65535 || dport < 0 || dport > 65535 || proto < 0 || proto > 255 || start < 0) return -1;
    const window = Math.floor(start / this.ctx.windowSeconds);
    const keys = this.ctx.keys;
    if (keys.has(this.src, 0, proto, dport, window)) return 1;
    return this.ctx.replies && keys.has(this.dst, 0, proto, sport, window) ? 1 : 0;
  }

  /** A header line (all tokens AWS field names): sets the layout, unless --aws-fields fixed it. */
  private header(buf: Uint8Array, s: number, e: number): boolean {
    const ch = buf[s]!;
    if (!((ch >= 97 && ch <= 122) || (ch >= 65 && ch <= 90) || ch === 36)) return false;
    const tokens = decoder.decode(buf.subarray(s, e)).split(/\s+/);
    if (!isAwsHeader(tokens)) return false;
    // a header that lacks a key field: no record under it can be matched, all are kept
    if (!this.fixed) this.layout = layoutOf(tokens) ?? NO_LAYOUT;
    return true;
  }

  /** Find the spans of the six key fields; false when the column count is not the layout's. */
  private fields(buf: Uint8Array, s: number, e: number, l: Layout): boolean {
    if (l === NO_LAYOUT) return false;
    let col = 0;
    let i = s;
    while (i < e) {
      let j = i;
      while (j < e && buf[j] !== 32 && buf[j] !== 9) j++;
      const role = col === l.src ? 0 : col === l.dst ? 1 : col === l.sport ? 2 : col === l.dport ? 3 : col === l.proto ? 4 : col === l.start ? 5 : -1;
      if (role >= 0) {
        this.spanS[role] = i;
        this.spanE[role] = j;
      }
      col++;
      i = j;
      while (i < e && (buf[i] === 32 || buf[i] === 9)) i++;
    }
    return col === l.ncols;
  }
}

/** The layout of a header that lacks a key field: no record of that file can be matched. */
const NO_LAYOUT: Layout = { ncols: -1, src: -1, dst: -1, sport: -1, dport: -1, proto: -1, start: -1 };

export const awsTextFilter: FormatFilter = {
  name: 'aws-text',
  canTag: false,
  open: (ctx) => new AwsTextFilter(ctx),
};
