/**
 * Feeding bytes to a line reader: whole lines only, a carry for the line that spans two
 * blocks, and a bound on line length (a longer line is counted as a reject and skipped
 * without being held in memory: a 100 MB line costs no more than a short one).
 *
 * The bound applies to every line, wherever the block boundaries fall: a line's length
 * is its bytes before the '\n' (a '\r' counts), and a line of more than maxLineBytes is
 * reported through lineTooLong() and never parsed. (Lines that lay wholly inside one
 * block used to reach the parser whatever their length, so the same file could give
 * "line too long" or a parse error depending on read sizes.)
 */
import type { LineParser } from '../formats/types.js';

const NL = 10;

export class LineFeeder {
  private carry: Buffer | null = null; // allocated when a line first spans two blocks
  private carryLen = 0;
  private carryStart = 0; // byte offset of the carried line
  private skipping = false; // inside a line that is too long
  private pushed: number; // byte offset of the start of the next block
  line = 1; // next line number (1-based, within the chunk)
  /** Set by end(true): the input ended inside a line, which was counted as a reject. */
  truncatedLine = false;

  constructor(
    private readonly parser: LineParser,
    private readonly maxLineBytes: number,
    baseOffset: number,
  ) {
    this.pushed = baseOffset;
  }

  get hasPartialLine(): boolean {
    return this.carryLen > 0 || this.skipping;
  }

  push(block: Uint8Array): void {
    const base = this.pushed;
    this.pushed += block.length;
    let s = 0;
    const n = block.length;
    if (this.carryLen > 0 || this.skipping) {
      const nl = block.indexOf(NL);
      if (nl < 0) {
        this.appendCarry(block, 0, n, base, false);
        return;
      }
      this.appendCarry(block, 0, nl + 1, base, true);
      this.finishCarry();
      s = nl + 1;
    }
    const last = block.lastIndexOf(NL);
    if (last >= s) {
      this.feedWhole(block, s, last + 1, base);
      s = last + 1;
    }
    if (s < n) this.appendCarry(block, s, n, base, false);
  }

  /**
   * The whole lines of a block read at the current position, without carrying its last,
   * partial line: the bytes given to the parser (to the block's last '\n'), from which the
   * caller reads on, so that the next block starts with that line (read again, not copied
   * and parsed alone). A line carried from before (one longer than a block) ends at the
   * block's first '\n', and the block's whole lines after it are fed the same way, so one
   * carried line does not set every later block carrying. A block with no '\n' is pushed.
   */
  pushLines(block: Uint8Array): number {
    const carrying = this.carryLen > 0 || this.skipping;
    const first = carrying ? block.indexOf(NL) : 0;
    const last = first < 0 ? -1 : block.lastIndexOf(NL);
    if (last < 0) {
      this.push(block);
      return block.length;
    }
    const base = this.pushed;
    let s = 0;
    if (carrying) {
      this.appendCarry(block, 0, first + 1, base, true);
      this.finishCarry();
      s = first + 1;
    }
    if (last >= s) this.feedWhole(block, s, last + 1, base);
    this.pushed += last + 1;
    return last + 1;
  }

  /**
   * End of input. A last line without a newline is still a line, unless the input was
   * cut short (truncated gzip): then it is a reject, never a record with a cut-off number.
   */
  end(truncated: boolean): void {
    if (this.carryLen === 0 && !this.skipping) return;
    if (truncated) {
      this.parser.truncated(this.line, this.carryStart);
      this.carryLen = 0;
      this.skipping = false;
      this.line++;
      this.truncatedLine = true;
      return;
    }
    this.finishCarry();
  }

  /**
   * Whole lines in block[s, e) (block[e - 1] is '\n'): runs of lines within the limit go
   * to the parser in one call; a longer line is reported and skipped. Finding them costs
   * one backward search per maxLineBytes of input: a line starting at q is short enough
   * exactly when a '\n' lies in [q, q + max], and then so is every line up to that '\n'.
   */
  private feedWhole(block: Uint8Array, s: number, e: number, base: number): void {
    const max = this.maxLineBytes;
    if (e - s - 1 <= max) {
      this.line += this.parser.parseLines(block, s, e, this.line, base + s);
      return;
    }
    let p = s; // first byte not yet given to the parser
    let q = s; // every line starting in [p, q) is within the limit
    while (q < e) {
      const nl = block.lastIndexOf(NL, Math.min(q + max, e - 1));
      if (nl >= q) {
        q = nl + 1;
        continue;
      }
      if (q > p) this.line += this.parser.parseLines(block, p, q, this.line, base + p);
      const end = block.indexOf(NL, q + max); // found: block[e - 1] is '\n'
      this.parser.lineTooLong(this.line, base + q);
      this.line++;
      p = q = end + 1;
    }
    if (q > p) this.line += this.parser.parseLines(block, p, q, this.line, base + p);
  }

  /** Add block[s, e) to the carried line; `endsLine` when block[e - 1] is its '\n'. */
  private appendCarry(block: Uint8Array, s: number, e: number, base: number, endsLine: boolean): void {
    if (this.carryLen === 0 && !this.skipping) this.carryStart = base + s;
    if (this.skipping) return;
    const len = e - s;
    if (this.carryLen + len - (endsLine ? 1 : 0) > this.maxLineBytes) {
      this.skipping = true;
      this.carryLen = 0;
      return;
    }
    // + 1: the carry holds a line with its '\n'. A Buffer, as the blocks read from files
    // are: the parsers see one kind of array (a Uint8Array here made every parsing function
    // meet a second map at each block boundary, and V8 deoptimised and compiled them again).
    // Allocated on first use: a small file read whole never needs it
    this.carry ??= Buffer.allocUnsafeSlow(Math.min(this.maxLineBytes + 1, 1 << 16));
    if (this.carryLen + len > this.carry.length) {
      const next = Buffer.allocUnsafeSlow(Math.min(this.maxLineBytes + 1, Math.max(this.carry.length * 2, this.carryLen + len)));
      next.set(this.carry.subarray(0, this.carryLen));
      this.carry = next;
    }
    this.carry.set(block.subarray(s, e), this.carryLen);
    this.carryLen += len;
  }

  private finishCarry(): void {
    if (this.skipping) {
      this.parser.lineTooLong(this.line, this.carryStart);
      this.skipping = false;
      this.line++;
      return;
    }
    this.line += this.parser.parseLines(this.carry!, 0, this.carryLen, this.line, this.carryStart);
    this.carryLen = 0;
  }
}
