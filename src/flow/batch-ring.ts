/**
 * A ring of batch slots in one SharedArrayBuffer, shared by the parse threads (which fill
 * slots) and the shard threads (which free them once the batch is added).
 *
 * Why: a batch moved by transfer is a fresh 1.4 MB ArrayBuffer each time. The kernel
 * zeroes and maps every page of it on first touch and the shard's collector frees it:
 * 10 M parsed records cost ~200,000 page faults and a tenth of the run's CPU
 * (bench/RESULTS.md, session 4). Slots are reused, lowest free first, so a run touches
 * only as many slots as it keeps in flight, once.
 *
 * A slot's state word is 0 (free) or 1 (taken); take and free are atomic, so any thread
 * may do either. The parse threads wait for a free slot (workers/parse.ts takeSlot), so
 * the ring also bounds the memory of the batches in flight (--max-memory); a batch
 * allocated outside it (a thread with no ring, the small batch after a task's end, a
 * wait for a slot that lasted seconds) travels by transfer.
 */
import { BATCH_BYTES_PER_RECORD, batchOver, type FlowBatchData } from './batch.js';

/** What a ring is made of, as it travels to other threads (inside a task). */
export interface BatchRingShared {
  data: SharedArrayBuffer;
  state: SharedArrayBuffer;
  slotRecords: number; // records a slot holds at most
}

const FREE = 0;
const TAKEN = 1;

/** Bytes of a slot of `records` records (a multiple of 8, so every column stays aligned). */
function slotBytes(records: number): number {
  return Math.ceil((records * BATCH_BYTES_PER_RECORD) / 8) * 8;
}

/** A new ring of `slots` slots of `slotRecords` records (memory is backed as slots are first used). */
export function createBatchRing(slots: number, slotRecords: number): BatchRingShared {
  return {
    data: new SharedArrayBuffer(slots * slotBytes(slotRecords)),
    state: new SharedArrayBuffer(slots * 4),
    slotRecords,
  };
}

export class BatchRing {
  private readonly state: Int32Array;
  private readonly stride: number;
  readonly slots: number;

  constructor(private readonly shared: BatchRingShared) {
    this.state = new Int32Array(shared.state);
    this.stride = slotBytes(shared.slotRecords);
    this.slots = this.state.length;
  }

  /** Records a slot holds at most. */
  get slotRecords(): number {
    return this.shared.slotRecords;
  }

  /**
   * An empty batch of `capacity` records (<= the slot size) in the lowest free slot, or
   * null when every slot is taken (or capacity is too large).
   */
  take(capacity: number): FlowBatchData | null {
    if (capacity > this.shared.slotRecords) return null;
    const st = this.state;
    for (let s = 0; s < this.slots; s++) {
      if (Atomics.load(st, s) === FREE && Atomics.compareExchange(st, s, FREE, TAKEN) === FREE) {
        const b = batchOver(this.shared.data, s * this.stride, capacity);
        b.ring = { state: st, slot: s };
        return b;
      }
    }
    return null;
  }

  /**
   * The bytes of the ring's first `count` slots (those a run takes first: the lowest free slot
   * is taken), as (byte offset, length) in `data`: memory to back ahead of its first writes.
   */
  firstSlots(count: number): [at: number, bytes: number] {
    return [0, Math.min(count, this.slots) * this.stride];
  }

  /** Slots taken now (tests and diagnostics). */
  taken(): number {
    let n = 0;
    for (let s = 0; s < this.slots; s++) n += Atomics.load(this.state, s);
    return n;
  }
}

/**
 * Give a batch's slot back to its ring (a batch not in a ring: nothing to do). The batch
 * must not be read after this: the slot is refilled by whichever thread takes it next.
 */
export function releaseBatch(b: FlowBatchData): void {
  const r = b.ring;
  if (!r) return;
  b.ring = undefined;
  Atomics.store(r.state, r.slot, FREE);
}
