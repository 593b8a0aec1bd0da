/**
 * Fresh memory that one thread fills front to back, a unit at a time (a table's entries, the
 * held buffer's rows), backed ahead of that thread on libuv's pool (input/native.ts
 * populateLater): its first writes then take no page fault. The faults cost the same on the
 * pool thread (~1.4 us a 4 KiB page here), but the shard thread is on the run's critical path
 * and a pool thread runs on the core the pipeline leaves idle (bench/RESULTS.md, session 14,
 * shardmem). Only memory about to be written is asked for, a window at a time: pages never
 * reached are never backed.
 */
import { populateLater } from '../input/native.js';

/** [byte offset of unit 0 in the memory, bytes a unit] of one array filled in step with the others */
export type AheadColumn = readonly [at: number, unitBytes: number];

export class PopulateAhead {
  /** units [0, upTo) are written or asked for */
  private upTo: number;
  private readonly ranges: Float64Array;

  /** `columns` of `cap` units each in `bytes`' memory, of which `written` units are backed already; `ask` backs ranges (tests watch it). */
  constructor(
    private bytes: Uint8Array,
    private readonly columns: readonly AheadColumn[],
    private readonly cap: number,
    written = 0,
    private readonly ask: (bytes: Uint8Array, ranges: Float64Array) => boolean = populateLater,
  ) {
    this.upTo = Math.min(written, cap);
    this.ranges = new Float64Array(columns.length * 2);
  }

  /** The memory moved to a new buffer (a WebAssembly memory grown: the old one detached), its units where they were. */
  moved(bytes: Uint8Array): void {
    this.bytes = bytes;
  }

  /**
   * The writer will soon reach unit `need`: when fewer than `lead` units past it are asked
   * for, ask for the units up to need + 2 * lead (one call, every column).
   */
  ensure(need: number, lead: number): void {
    if (need + lead <= this.upTo || this.upTo >= this.cap) return;
    const from = this.upTo;
    const to = Math.min(this.cap, need + 2 * lead);
    for (let c = 0; c < this.columns.length; c++) {
      const [at, unit] = this.columns[c]!;
      this.ranges[2 * c] = at + from * unit;
      this.ranges[2 * c + 1] = (to - from) * unit;
    }
    this.upTo = to;
    this.ask(this.bytes, this.ranges);
  }
}
