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
import { createRequire } from 'node:module';
import { BATCH_BYTES_PER_RECORD, batchOver, type FlowBatchData } from './batch.js';

/** What a ring is made of, as it travels to other threads (inside a task). */
export interface BatchRingShared {
  data: SharedArrayBuffer;
  state: SharedArrayBuffer;
  slotRecords: number; // records a slot holds at most
  /** byte of `data` where the first slot starts */
  at: number;
  /** the shared WebAssembly memory `data` is the buffer of (ringMemory), or null (a plain SharedArrayBuffer) */
  memory: WebAssembly.Memory | null;
  /** the ring's number, unique in the process, carried by its batches (FlowBatchData.ring.id): which memory they lie in */
  id: number;
}

/**
 * Below the slots of a ring in a WebAssembly memory: a page left to the modules instantiated
 * over it (a module's static data, were it given any: assembly/scan-held.ts has none).
 */
const RING_MEMORY_AT = 65536;
const PAGE = 65536;
/** wasm32's 4 GiB: a shared memory must say its largest size (address space only) */
const MAX_PAGES = 65536;

const FREE = 0;
const TAKEN = 1;

/** Bytes of a slot of `records` records (a multiple of 8, so every column stays aligned). */
function slotBytes(records: number): number {
  return Math.ceil((records * BATCH_BYTES_PER_RECORD) / 8) * 8;
}

/**
 * A new ring of `slots` slots of `slotRecords` records (memory is backed as slots are first
 * used). Its slots lie in a shared WebAssembly memory where one can be had: a shard thread
 * then places its held buffer in the same memory (engine/scan-wasm.ts ringHeldArena), and its
 * module reads each batch where the parse thread wrote it instead of a copy of its columns
 * (bench/RESULTS.md, session 19 stagecopy). FLOWSIEVE_RING_MEMORY=off: a plain
 * SharedArrayBuffer, as before (A/B runs).
 */
export function createBatchRing(slots: number, slotRecords: number): BatchRingShared {
  const bytes = slots * slotBytes(slotRecords);
  const state = new SharedArrayBuffer(slots * 4);
  const id = nextRingId();
  const memory = process.env.FLOWSIEVE_RING_MEMORY === 'off' ? null : ringMemory(RING_MEMORY_AT + bytes);
  if (memory !== null) return { data: memory.buffer as unknown as SharedArrayBuffer, state, slotRecords, at: RING_MEMORY_AT, memory, id };
  return { data: new SharedArrayBuffer(bytes), state, slotRecords, at: 0, memory: null, id };
}

/** A shared memory of `bytes` at least, growable to wasm32's largest; null where none can be had. */
function ringMemory(bytes: number): WebAssembly.Memory | null {
  try {
    return new WebAssembly.Memory({ initial: Math.ceil(bytes / PAGE), maximum: MAX_PAGES, shared: true });
  } catch {
    return null;
  }
}

let ringsMade = 0;

/**
 * Ring numbers, unique in the process and never 0: rings are made by engines on any thread, so
 * the thread's id (unique in the process) and its count of rings made. A shard reads a batch in
 * place only when its ring's number is the one of the memory its held buffer lies in.
 */
function nextRingId(): number {
  return threadNumber() * 2 ** 32 + ++ringsMade;
}

let thisThread: number | undefined;

/**
 * worker_threads' threadId, loaded with the first ring: a run that makes none and starts no
 * thread (Azure blobs at one worker: one thread) then never loads worker_threads and the 25
 * stream modules it brings (~1.5 ms of the main thread; bench/RESULTS.md, session 24 azure3).
 */
function threadNumber(): number {
  return (thisThread ??= (createRequire(import.meta.url)('node:worker_threads') as typeof import('node:worker_threads')).threadId);
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
        const b = batchOver(this.shared.data, this.shared.at + s * this.stride, capacity);
        b.ring = { state: st, slot: s, id: this.shared.id };
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
    return [this.shared.at, Math.min(count, this.slots) * this.stride];
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
