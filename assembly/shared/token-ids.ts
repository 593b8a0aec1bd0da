// AssemblyScript, imported by the readers' modules (assembly/aws-lines.ts, assembly/gcp-lines.ts).
// String ids: a row's string tokens (account, region, interface, instance) as the sink's
// dictionary ids (src/flow/dict.ts ByteDict), looked up in the module in a table of the tokens
// met since the caller last gave another dictionary, where a JavaScript reader looks each up
// in the dictionary a row at a time. A token new to the table gets the provisional id
// -(entry + 1); the caller looks the call's new entries up in the dictionary (their bytes in
// the table's arena: src/formats/wasm-ids.ts), writes their ids into the table, and the module
// puts them where it wrote the provisional ones (fixedId, shared/route.ts fixAreaIds).
// The table (at `at`, chosen by the caller): TABLE_SLOTS slots of SLOT_BYTES (a token's id, its
// length + 1 (0: empty), then its bytes where it has at most INLINE_BYTES, else their offset in
// the arena), TABLE_ENTRIES entries of 16 bytes (its slot, the bytes' offset in the arena, their
// length, the id), the arena of their bytes (TABLE_ARENA). A lookup reads one slot (and the
// slots after it in the same line or the next): an ENI (21 bytes) or an instance id is compared
// there, where a slot that held its entry's number cost two more dependent misses (the entry,
// the arena), and an outbound row looks up two of them (bench/RESULTS.md, session 18 parsemod).

/** [a, a + n) and [b, b + n) hold the same bytes (eight at a time; the bytes past n may be read). */
export function sameBytes(a: u32, b: u32, n: u32): bool {
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(a + k) != load<u64>(b + k)) return false;
  if (k == n) return true;
  const drop = <u64>((8 - (n - k)) << 3); // the bytes past n fall off the top
  return load<u64>(a + k) << drop == load<u64>(b + k) << drop;
}

const TABLE_SLOTS: u32 = 65536;
/** A slot: the id (i32), the length + 1 (u32), INLINE_BYTES of the token or its offset in the arena (src/formats/wasm-ids.ts SLOT_BYTES). */
const SLOT_BYTES: u32 = 32;
const INLINE_BYTES: u32 = 24;
const TABLE_ENTRIES: u32 = 32768;
const TABLE_ARENA: u32 = 1 << 20;
/** Room a call may need: four new tokens a row of 4096, and a window's bytes (256 KiB). */
const CALL_ENTRIES: u32 = 4 * 4096;
const CALL_BYTES: u32 = 256 * 1024;

let slotsPtr: u32 = 0;
/** Where the table's entries start (an entry's id at + entry * 16 + 12). */
export let entriesPtr: u32 = 0;
let arenaPtr: u32 = 0;
let entryCount: u32 = 0;
let arenaUsed: u32 = 0;
/** The first entry this call added; the entries added end at tokenCount(). */
export let newFrom: u32 = 0;

/** A call starts: the table at `at`; every entry forgotten when `reset` (another dictionary) or a call might not find room. */
export function startTokens(at: u32, reset: bool): void {
  slotsPtr = at;
  entriesPtr = slotsPtr + TABLE_SLOTS * SLOT_BYTES;
  arenaPtr = entriesPtr + (TABLE_ENTRIES << 4);
  // only the slots in use are cleared (a task of a few tiny files is a sink of its own)
  if (reset || entryCount + CALL_ENTRIES > TABLE_ENTRIES || arenaUsed + CALL_BYTES > TABLE_ARENA) {
    for (let e: u32 = 0; e < entryCount; e++) store<u32>(slotsPtr + load<u32>(entriesPtr + (e << 4)) * SLOT_BYTES + 4, 0);
    entryCount = 0;
    arenaUsed = 0;
  }
  newFrom = entryCount;
}

/** The entries in the table (those from newFrom are this call's). */
export function tokenCount(): u32 {
  return entryCount;
}

/** A hash of [p, p + n), eight bytes at a time (the bytes past n left out). */
function hashBytes(p: u32, n: u32): u32 {
  let h: u64 = <u64>n * 0x9e3779b97f4a7c15;
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) {
    h = (h ^ load<u64>(p + k)) * 0xff51afd7ed558ccd;
    h ^= h >> 32;
  }
  if (k < n) {
    h = (h ^ (load<u64>(p + k) << <u64>((8 - (n - k)) << 3))) * 0xff51afd7ed558ccd;
    h ^= h >> 32;
  }
  h *= 0xc4ceb9fe1a85ec53;
  return <u32>(h >> 32);
}

/** The id of the token [p, p + n): from the table, or a new entry's -(entry + 1). */
export function idOfToken(p: u32, n: u32): i32 {
  const h = hashBytes(p, n);
  const mask = TABLE_SLOTS - 1;
  let slot = h & mask;
  for (;;) {
    const at = slotsPtr + slot * SLOT_BYTES;
    const tag = load<u32>(at + 4);
    if (tag == 0) break;
    if (tag == n + 1 && sameBytes(n <= INLINE_BYTES ? at + 8 : arenaPtr + load<u32>(at + 8), p, n)) return load<i32>(at);
    slot = (slot + 1) & mask;
  }
  const e = entryCount++;
  const id = -<i32>(e + 1);
  const at = slotsPtr + slot * SLOT_BYTES;
  store<i32>(at, id);
  store<u32>(at + 4, n + 1);
  if (n <= INLINE_BYTES) memory.copy(at + 8, p, n);
  else store<u32>(at + 8, arenaUsed);
  const entry = entriesPtr + (e << 4);
  store<u32>(entry, slot);
  store<u32>(entry + 4, arenaUsed);
  store<u32>(entry + 8, n);
  store<i32>(entry + 12, id);
  memory.copy(arenaPtr + arenaUsed, p, n);
  arenaUsed += n;
  return id;
}

/** An id as the caller fixed it: a provisional one (below zero) replaced by the id the caller wrote for its entry. */
export function fixedId(id: i32): i32 {
  return id < 0 ? load<i32>(entriesPtr + (<u32>(-id - 1) << 4) + 12) : id;
}
