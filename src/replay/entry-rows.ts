/**
 * Entry rows (docs/replay.md "Entry rows"): a rows block's records with the inbound records
 * of one accumulator entry and entry window merged into one row that carries their count.
 *
 * The inbound table (detection.md §3, scan-core.ts) keys an entry by (src, protocol, dst
 * port, window, cloud, account, dst, region) and keeps of its records only: their number,
 * the sums of their known packets and bytes (with whether any was known), the least start
 * and the greatest end. Records of one such key whose starts lie in one entry window
 * (ENTRY_WINDOW, aligned to the epoch) fall into one detect window for every --window that
 * is a multiple of it, so their merged row adds to the table exactly what they add one by one:
 * counts and integer sums add exactly (integers below 2^53 in f64), min and max do not depend
 * on order. A block with a count that is not a whole number is not merged (its sums would
 * depend on the order of addition).
 *
 * Outbound records (detection.md §4) are kept one row each (count 1): the outbound table keeps
 * more of them (source ports, interface, instance), and they are a few percent of the rows.
 */
import { allocBatch, type FlowBatchData } from '../flow/batch.js';
import { Feed } from '../flow/types.js';
import { copyRow } from './rows.js';
import type { Column } from './block.js';
import { lz4Wasm, NOT_IN_MEMORY } from './lz4-wasm.js';

/** The column an entry-rows block has beside the row codec's: the records each row stands for. */
export const ENTRY_ROWS_COLUMN = 'flows';

/** Reusable merge output of one conversion worker. */
export class EntryRowsBuilder {
  private out = allocBatch(0);
  private flows = new Uint32Array(0);
  /** Entry rows of the current run (same src, protocol, port, dst and entry window): their index in `out`. */
  private run: number[] = [];

  /**
   * The entry rows of `rows` (sorted by entryOrder: source, protocol, port, destination,
   * start), in the order of their first record: a batch valid until the next call, and each
   * row's record count.
   */
  merge(rows: FlowBatchData, entryWindow: number): { batch: FlowBatchData; flows: Uint32Array } {
    const n = rows.n;
    if (this.out.feed.length < n) {
      this.out = allocBatch(Math.max(n, this.out.feed.length * 2));
      this.flows = new Uint32Array(this.out.feed.length);
    }
    const out = this.out;
    out.strings = rows.strings;
    const merging = wholeCounts(rows.packets, n) && wholeCounts(rows.bytes, n);
    let m = 0;
    let runFrom = -1; // the row that began the current run
    this.run.length = 0;
    for (let i = 0; i < n; i++) {
      if (!merging || (rows.feed[i]! & Feed.inbound) === 0) {
        copyRow(rows, i, out, m);
        this.flows[m++] = 1;
        continue;
      }
      if (runFrom < 0 || !sameRun(rows, runFrom, i, entryWindow)) {
        runFrom = i;
        this.run.length = 0;
      }
      const e = this.findInRun(rows, i);
      if (e >= 0) {
        addInto(rows, i, out, e);
        this.flows[e]!++;
        continue;
      }
      copyRow(rows, i, out, m);
      this.flows[m] = 1;
      this.run.push(m++);
    }
    out.n = m;
    return { batch: out, flows: this.flows.subarray(0, m) };
  }

  /** The entry row of the current run with row i's cloud, account and region, or -1. */
  private findInRun(rows: FlowBatchData, i: number): number {
    const out = this.out;
    // a run is nearly always one entry: a destination seen under several accounts or regions
    // in one window is rare, and then they are few
    for (let k = this.run.length - 1; k >= 0; k--) {
      const e = this.run[k]!;
      if (out.cloud[e] === rows.cloud[i] && out.account[e] === rows.account[i] && out.region[e] === rows.region[i]) return e;
    }
    return -1;
  }
}

/** True when every known count is a whole number (NaN: unknown). */
function wholeCounts(v: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const x = v[i]!;
    if (x === x && Math.floor(x) !== x) return false;
  }
  return true;
}

/** Rows a and b share source, protocol, port, destination, entry window, and are both inbound. */
function sameRun(r: FlowBatchData, a: number, b: number, entryWindow: number): boolean {
  const { src, dst } = r;
  const x = a * 4;
  const y = b * 4;
  return (
    r.feed[a] === r.feed[b] && r.proto[a] === r.proto[b] && r.dport[a] === r.dport[b] &&
    src[x] === src[y] && src[x + 1] === src[y + 1] && src[x + 2] === src[y + 2] && src[x + 3] === src[y + 3] &&
    dst[x] === dst[y] && dst[x + 1] === dst[y + 1] && dst[x + 2] === dst[y + 2] && dst[x + 3] === dst[y + 3] &&
    Math.floor(r.start[a]! / entryWindow) === Math.floor(r.start[b]! / entryWindow)
  );
}

/** Row i's record into entry row e: the counts the inbound table keeps (scan-core.ts accumulate). */
function addInto(r: FlowBatchData, i: number, out: FlowBatchData, e: number): void {
  const pk = r.packets[i]!;
  if (pk === pk) out.packets[e] = out.packets[e]! === out.packets[e]! ? out.packets[e]! + pk : pk;
  const by = r.bytes[i]!;
  if (by === by) out.bytes[e] = out.bytes[e]! === out.bytes[e]! ? out.bytes[e]! + by : by;
  if (r.start[i]! < out.start[e]!) out.start[e] = r.start[i]!;
  if (r.end[i]! > out.end[e]!) out.end[e] = r.end[i]!;
}

/** The records an entry-rows block's rows stand for: in all, inbound, outbound (checkEntryCounts). */
const sums = new Float64Array(3);

/** checkEntryCounts's pass in JavaScript (lz4-wasm.ts entrySums where the module holds the block): the sums, and the first row whose count cannot be, or -1. */
function entrySumsInJs(n: number, flags: Uint8Array, flows: Uint32Array): number {
  let all = 0;
  let inb = 0;
  let outb = 0;
  for (let i = 0; i < n; i++) {
    const c = flows[i]!;
    const f = flags[i]!;
    all += c;
    if (f & Feed.inbound) inb += c;
    if (f & Feed.outbound) outb += c;
    if (c === 0 || (c > 1 && (f & Feed.outbound) !== 0)) return i;
  }
  sums[0] = all;
  sums[1] = inb;
  sums[2] = outb;
  return -1;
}

/**
 * The checks an entry-rows block adds to a rows block's: its count column, and the records
 * it stands for, in all and by feed, against the block index's counts of its twin.
 */
export function checkEntryCounts(
  cols: Map<string, Column>, flags: Uint8Array, n: number, rows: number, inbound: number | undefined, outbound: number | undefined,
): Uint32Array | string {
  const flows = cols.get(ENTRY_ROWS_COLUMN);
  if (!(flows instanceof Uint32Array) || flows.length !== n) return `column '${ENTRY_ROWS_COLUMN}' is missing or has the wrong type or length`;
  // by the replay module where the block was decoded into its memory (one compile a process, not a worker)
  const lz4 = lz4Wasm();
  let bad = lz4 === null ? NOT_IN_MEMORY : lz4.entrySums(n, flags, flows, sums);
  if (bad === NOT_IN_MEMORY) bad = entrySumsInJs(n, flags, flows);
  if (bad >= 0) return `entry row ${bad} stands for ${flows[bad]} records`;
  const all = sums[0]!;
  const inb = sums[1]!;
  const outb = sums[2]!;
  if (all !== rows) return `entry rows stand for ${all} records, index says ${rows}`;
  if ((inbound !== undefined && inb !== inbound) || (outbound !== undefined && outb !== outbound)) {
    return `entry rows stand for ${inb} inbound and ${outb} outbound records, index says ${inbound} and ${outbound}`;
  }
  return flows;
}
