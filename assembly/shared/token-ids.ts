// AssemblyScript, imported by the readers' modules (assembly/aws-lines.ts, assembly/gcp-lines.ts).
// String ids: a row's string tokens (account, region, interface, instance) as the sink's
// dictionary ids (src/flow/dict.ts ByteDict), looked up in the module in a table of the tokens
// met since the caller last gave another dictionary, where a JavaScript reader looks each up
// in the dictionary a row at a time. A token new to the table gets the provisional id
// -(entry + 1); the caller looks the call's new entries up in the dictionary (their bytes in
// the table's arena: src/formats/wasm-ids.ts), writes their ids into the table, and the module
// puts them where it wrote the provisional ones (fixedId, shared/route.ts fixAreaIds).
// The table (at `at`, chosen by the caller): room for TABLE_SLOTS u32 slots, of which the first
// slotCount are used, each a u16 (entry + 1, 0: empty), TABLE_ENTRIES entries of 16 bytes (its
// slot, the bytes' offset in the arena, their length, the id), the arena of their bytes (TABLE_ARENA).
// The slots in use grow with the entries (at most half full): a lookup's first read is its slot,
// at a random place, and in 256 KiB of slots (a bucket's ~4,000 interfaces and instances, each
// on a cache line of its own) it missed the caches more often than not, where the 32 KiB those
// entries need stay in them (bench/RESULTS.md, session 22 parsejs).

/** [a, a + n) and [b, b + n) hold the same bytes (eight at a time; the bytes past n may be read). */
export function sameBytes(a: u32, b: u32, n: u32): bool {
  let k: u32 = 0;
  for (; k + 8 <= n; k += 8) if (load<u64>(a + k) != load<u64>(b + k)) return false;
  if (k == n) return true;
  const drop = <u64>((8 - (n - k)) << 3); // the bytes past n fall off the top
  return load<u64>(a + k) << drop == load<u64>(b + k) << drop;
}

const TABLE_SLOTS: u32 = 65536;
/** The slots a table starts with (doubled whenever its entries would fill more than half). */
const MIN_SLOTS: u32 = 4096;
const TABLE_ENTRIES: u32 = 32768;
const TABLE_ARENA: u32 = 1 << 20;
/** Room a call may need: four new tokens a row of 4096, and a window's bytes (256 KiB). */
const CALL_ENTRIES: u32 = 4 * 4096;
const CALL_BYTES: u32 = 256 * 1024;

let slotsPtr: u32 = 0;
/** The slots in use (a power of two, MIN_SLOTS to TABLE_SLOTS; entries + 1 fit a u16: TABLE_ENTRIES is 2^15). */
let slotCount: u32 = MIN_SLOTS;
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
  entriesPtr = slotsPtr + (TABLE_SLOTS << 2);
  arenaPtr = entriesPtr + (TABLE_ENTRIES << 4);
  // only the slots in use are cleared (a task of a few tiny files is a sink of its own)
  if (reset || entryCount + CALL_ENTRIES > TABLE_ENTRIES || arenaUsed + CALL_BYTES > TABLE_ARENA) {
    for (let e: u32 = 0; e < entryCount; e++) store<u16>(slotsPtr + (load<u32>(entriesPtr + (e << 4)) << 1), 0);
    entryCount = 0;
    arenaUsed = 0;
    slotCount = MIN_SLOTS;
  }
  newFrom = entryCount;
  deferredCount = 0;
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
  return idOfHashed(hashBytes(p, n), p, n);
}

/**
 * Lookups put off to the end of a call (deferToken, lookUpDeferred): a place for the id and the
 * token, three u32 each, in the upper half of the room for the slots (the slots are u16): room
 * for 10,922, where a call defers two a row at most (4,096 rows).
 */
let deferredCount: u32 = 0;
/** The lookups the room holds: a caller deferring more (rows past 4,096 a call) has the list looked up first. */
const MAX_DEFERRED: u32 = (TABLE_SLOTS << 1) / 12;

/** The id of [p, p + n) is to be stored at `to` by lookUpDeferred. */
export function deferToken(to: u32, p: u32, n: u32): void {
  if (deferredCount == MAX_DEFERRED) lookUpDeferred(); // never past the room (into the entries): the order kept
  const at = slotsPtr + (TABLE_SLOTS << 1) + deferredCount * 12;
  store<u32>(at, to);
  store<u32>(at + 4, p);
  store<u32>(at + 8, n);
  deferredCount++;
}

/**
 * The tokens deferToken put off looked up, in the order they were met, each id stored where
 * asked. A lookup is a chain of three dependent reads at random places (slot, entry, bytes),
 * which mostly missed the caches where each was made in its row (an AWS outbound row's
 * interface and instance, ~4,000 tokens each met again only a few MB of text later): in this
 * loop, whose iterations depend on each other only where a token is new, the chains of
 * several tokens overlap.
 */
export function lookUpDeferred(): void {
  const from = slotsPtr + (TABLE_SLOTS << 1);
  const end = from + deferredCount * 12;
  for (let at = from; at < end; at += 12) store<i32>(load<u32>(at), idOfToken(load<u32>(at + 4), load<u32>(at + 8)));
  deferredCount = 0;
}

/** idOfToken of a token whose hash (hashBytes) is h. */
function idOfHashed(h: u32, p: u32, n: u32): i32 {
  let mask = slotCount - 1;
  let slot = h & mask;
  for (;;) {
    const e = <u32>load<u16>(slotsPtr + (slot << 1));
    if (e == 0) break;
    const at = entriesPtr + ((e - 1) << 4);
    if (load<u32>(at + 8) == n && sameBytes(arenaPtr + load<u32>(at + 4), p, n)) return load<i32>(at + 12);
    slot = (slot + 1) & mask;
  }
  if ((entryCount + 1) << 1 > slotCount && slotCount < TABLE_SLOTS) {
    growSlots();
    mask = slotCount - 1;
    slot = freeSlot(h & mask, mask);
  }
  const e = entryCount++;
  store<u16>(slotsPtr + (slot << 1), <u16>(e + 1));
  const at = entriesPtr + (e << 4);
  const id = -<i32>(e + 1);
  store<u32>(at, slot);
  store<u32>(at + 4, arenaUsed);
  store<u32>(at + 8, n);
  store<i32>(at + 12, id);
  memory.copy(arenaPtr + arenaUsed, p, n);
  arenaUsed += n;
  return id;
}

/** The first empty slot from `slot` on. */
function freeSlot(slot: u32, mask: u32): u32 {
  while (load<u16>(slotsPtr + (slot << 1)) != 0) slot = (slot + 1) & mask;
  return slot;
}

/** Twice the slots, every entry placed again by its bytes' hash (its slot noted in its entry). */
function growSlots(): void {
  memory.fill(slotsPtr, 0, slotCount << 1);
  slotCount <<= 1;
  const mask = slotCount - 1;
  for (let e: u32 = 0; e < entryCount; e++) {
    const at = entriesPtr + (e << 4);
    const slot = freeSlot(hashBytes(arenaPtr + load<u32>(at + 4), load<u32>(at + 8)) & mask, mask);
    store<u16>(slotsPtr + (slot << 1), <u16>(e + 1));
    store<u32>(at, slot);
  }
}

/** An id as the caller fixed it: a provisional one (below zero) replaced by the id the caller wrote for its entry. */
export function fixedId(id: i32): i32 {
  return id < 0 ? load<i32>(entriesPtr + (<u32>(-id - 1) << 4) + 12) : id;
}
