/**
 * The JavaScript side of the readers' table of string ids (assembly/shared/token-ids.ts): a
 * module looks a row's tokens up in a table in its memory and writes provisional ids for the
 * tokens new to it; after the read the new entries are looked up in the sink's dictionary
 * here, their ids written into the table, and the module's fixIds puts them into its rows.
 * One copy for the AWS and GCP modules.
 *
 * The ids block (at `at` in a module's memory): f64 slots (IdSlot), then the table at + 64:
 * room for TABLE_SLOTS u32 slots (the module's slots are u16, as many as its entries need; the
 * upper half holds the lookups a call put off to its end), TABLE_ENTRIES entries of 16 bytes
 * (slot, the bytes' offset in the arena, their length, the id), the arena.
 */
import type { ByteDict } from '../flow/dict.js';

const TABLE_SLOTS = 65536;
const TABLE_ENTRIES = 32768;
const TABLE_ARENA = 1 << 20;
/** Bytes of an ids block: its slots and the table. */
export const IDS_BLOCK_BYTES = 64 + TABLE_SLOTS * 4 + TABLE_ENTRIES * 16 + TABLE_ARENA;

/** The ids block's f64 slots the table uses (a module's own from IdSlot.own on, and slot 0). */
export const enum IdSlot {
  defaultAccount = 1,
  defaultRegion = 2,
  dictReset = 3,
  newFrom = 4,
  newTo = 5,
  own = 6,
}

/** A module's ids block at `at`: the dictionary its table holds ids of, and the lookup of a read's new tokens. */
export class WasmTokenIds {
  slots: Float64Array;
  /** The dictionary whose ids the module's table holds (null: none yet). */
  private idsOf: ByteDict | null = null;

  constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly at: number,
  ) {
    this.slots = new Float64Array(memory.buffer, at, 8);
  }

  /** The next read's settings: the file's account and region ids, and the sink's dictionary (another one: the table forgets). */
  prepare(dict: ByteDict, account: number, region: number): void {
    if (this.slots.buffer !== this.memory.buffer) this.slots = new Float64Array(this.memory.buffer, this.at, 8);
    const slots = this.slots;
    slots[IdSlot.defaultAccount] = account;
    slots[IdSlot.defaultRegion] = region;
    slots[IdSlot.dictReset] = dict === this.idsOf ? 0 : 1;
    this.idsOf = dict;
  }

  /** Whether the last read met tokens new to the table (then lookUp, and the module's fixIds). */
  get hasNew(): boolean {
    return this.slots[IdSlot.newTo]! > this.slots[IdSlot.newFrom]!;
  }

  /** The last read's new tokens looked up in `dict`, their ids written into the table's entries. */
  lookUp(dict: ByteDict): void {
    const buf = this.memory.buffer;
    const u8 = new Uint8Array(buf);
    const entries = new Int32Array(buf, this.at + 64 + TABLE_SLOTS * 4, TABLE_ENTRIES * 4);
    const arena = this.at + 64 + TABLE_SLOTS * 4 + TABLE_ENTRIES * 16;
    for (let e = this.slots[IdSlot.newFrom]!; e < this.slots[IdSlot.newTo]!; e++) {
      const s = arena + entries[4 * e + 1]!;
      entries[4 * e + 3] = dict.idOfBytes(u8, s, s + entries[4 * e + 2]!);
    }
  }
}
