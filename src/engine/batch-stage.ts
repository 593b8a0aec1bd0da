/**
 * A stage: some of a batch's columns, room for `cap` records each, laid out one after
 * another in a WebAssembly module's memory, where the module reads a batch a stage at a time
 * (scan-wasm.ts HeldSorter for the inbound hold step, outbound-adds.ts OutboundArena for the
 * outbound add loop). The hold step stages only batches that do not lie in its memory already
 * (a held buffer placed in the batch ring's memory reads the ring's batches in place:
 * HeldSorter.readsInPlace). A stage is filled one copy a column; the module's side
 * (assembly/scan-held.ts setHold, assembly/outbound-adds.ts addStaged) finds each column where
 * the column order given here puts it.
 */
import type { FlowBatchData } from '../flow/batch.js';

type ColumnArray = Uint8Array | Uint16Array | Uint32Array | Float64Array;
type ColumnType = new (buf: ArrayBufferLike, byteOffset: number, length: number) => ColumnArray;

/** The columns a stage may hold: each one's array type and values a record (flow/batch.ts). */
const COLUMNS = {
  feed: [Uint8Array, 1],
  src: [Uint32Array, 4],
  dst: [Uint32Array, 4],
  proto: [Uint8Array, 1],
  sport: [Uint16Array, 1],
  dport: [Uint16Array, 1],
  packets: [Float64Array, 1],
  bytes: [Float64Array, 1],
  start: [Uint32Array, 1],
  end: [Uint32Array, 1],
  cloud: [Uint8Array, 1],
  account: [Uint32Array, 1],
  region: [Uint32Array, 1],
  iface: [Uint32Array, 1],
  instance: [Uint32Array, 1],
} as const satisfies Record<string, readonly [ColumnType & { BYTES_PER_ELEMENT: number }, number]>;

export type StagedColumn = keyof typeof COLUMNS;

/** Bytes a record takes in a stage of these columns (unaligned: each column follows the last). */
export function stageRecordBytes(columns: readonly StagedColumn[]): number {
  let bytes = 0;
  for (const c of columns) bytes += COLUMNS[c][0].BYTES_PER_ELEMENT * COLUMNS[c][1];
  return bytes;
}

export class BatchStage<C extends StagedColumn> {
  /** The stage's columns, as views of the memory (valid while it is not grown). */
  readonly views: { readonly [K in C]: FlowBatchData[K] };

  /** The columns, in this order, for `cap` records each, from byte `at` of `buf`. */
  constructor(
    buf: ArrayBufferLike,
    at: number,
    readonly cap: number,
    private readonly columns: readonly C[],
  ) {
    const views: Partial<Record<C, ColumnArray>> = {};
    for (const c of columns) {
      const [make, per] = COLUMNS[c];
      views[c] = new (make as ColumnType)(buf, at, cap * per);
      at += cap * per * make.BYTES_PER_ELEMENT;
    }
    this.views = views as BatchStage<C>['views'];
  }

  /**
   * Records [from, from + n) of the batch (n <= cap) copied into the stage's columns, or into
   * those of them named. A call a stage, not a record: the loop over columns costs nothing.
   */
  copy(batch: FlowBatchData, from: number, n: number, columns: readonly C[] = this.columns): void {
    for (const c of columns) {
      const per = COLUMNS[c][1];
      (this.views[c] as Uint32Array).set((batch[c] as Uint32Array).subarray(from * per, (from + n) * per));
    }
  }
}
