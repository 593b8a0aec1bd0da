/**
 * Feeding bytes to a line reader: whole lines only, a carry for the line that spans two
 * blocks, and a bound on line length (a longer line is counted as a reject and skipped
 * without being held in memory: a 100 MB line costs no more than a short one).
 */
import type { LineParser } from '../formats/types.js';

export class LineFeeder {
  private carry: Uint8Array;
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
    this.carry = new Uint8Array(Math.min(maxLineBytes, 1 << 16));
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
      const nl = block.indexOf(10);
      if (nl < 0) {
        this.appendCarry(block, 0, n, base);
        return;
      }
      this.appendCarry(block, 0, nl + 1, base);
      this.finishCarry();
      s = nl + 1;
    }
    const last = block.lastIndexOf(10);
    if (last >= s) {
      this.line += this.parser.parseLines(block, s, last + 1, this.line, base + s);
      s = last + 1;
    }
    if (s < n) this.appendCarry(block, s, n, base);
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

  private appendCarry(block: Uint8Array, s: number, e: number, base: number): void {
    if (this.carryLen === 0 && !this.skipping) this.carryStart = base + s;
    if (this.skipping) return;
    const len = e - s;
    if (this.carryLen + len > this.maxLineBytes) {
      this.skipping = true;
      this.carryLen = 0;
      return;
    }
    if (this.carryLen + len > this.carry.length) {
      const next = new Uint8Array(Math.min(this.maxLineBytes, Math.max(this.carry.length * 2, this.carryLen + len)));
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
    this.line += this.parser.parseLines(this.carry, 0, this.carryLen, this.line, this.carryStart);
    this.carryLen = 0;
  }
}
