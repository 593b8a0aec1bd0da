/**
 * Plain JSON blobs read ahead on libuv's thread pool, several at a time (the native module's
 * readFilesAsync: each file's open, reads and close on one pool thread, one round trip a group).
 * A folder of Azure blobs at one worker is parsed in the main thread alone (engine/shard-place.ts,
 * 'fusedParseHere'), and reading each blob there (an open of a path ~15 folders deep, the
 * kernel's copy, a close: ~12-20 ms of a run of 696 blobs, bench/RESULTS.md, session 21 azure)
 * was that thread's work while the other core held only V8's helpers. Session 18 read each blob
 * ahead with Node's fs calls (three round trips a blob: 1.08x CPU, not kept); a group of up to
 * GROUP_FILES blobs costs one.
 *
 * The bytes a blob is read into belong to its group's buffer, reused once every blob of the group
 * has been taken and parsed: the readers keep no view of a blob's bytes (read.ts readPlainReused
 * relies on the same). The pool thread also searches each blob's head for the words the sniffers'
 * first "no" looks for (native/files.c head_words: formats/aws-json.ts mayNameMessage), beside
 * the bytes it just read: that search of a blob's 64 KiB (two Buffer.includes) was ~3-5 ms of the
 * parsing thread's CPU a run of 696 Azure blobs, ~3 ms of the pool's now (bench/RESULTS.md,
 * session 23 azure2). A blob the pool could not read whole as planned (an error, a file that
 * grew or went past the bound) is read as before when its turn comes, which reports why; one
 * that is no longer a regular file (a FIFO put in its place) is handed back to planning.
 * FLOWSIEVE_BLOBS_AHEAD=off reads none ahead (A/B runs).
 */
import { nativeModule } from './native.js';

/** A file as planning gave it: its path and its size then. */
export interface PlannedBlob {
  path: string;
  size: number;
}

/** The room of a group's buffer: a group holds blobs of at most this many bytes (+1 each) in all; a larger blob is read alone, when its turn comes. */
const GROUP_BYTES = 2 << 20;
/**
 * Blobs of one group: the group's promise answers when the last is read, so a group's first
 * blob waits for all of them; ~30 us of the pool's time a blob against ~250 us of parse, so a
 * group of 16 lands long before the thread reaches it.
 */
const GROUP_FILES = 16;
/** Groups a thread holds ahead (the one it takes blobs from and the next): a buffer each. */
const GROUPS = 2;

interface Group {
  buffer: Buffer;
  /** (offset, room) a blob, the pool thread writing the bytes it read over the room */
  spans: Float64Array;
  /** the rooms asked, as `spans` held them before the read */
  rooms: number[];
  /** a byte a blob: the HeadWord bits (formats/types.ts) the pool thread found in its head */
  heads: Uint8Array;
  done: Promise<void>;
  /** blobs neither taken nor dropped yet: the buffer is free once none are and the read has landed */
  open: number;
  landed: boolean;
}

interface AheadBlob {
  group: Group;
  index: number;
}

const aheadBlobs = new Map<string, AheadBlob>();
/** The groups not given back yet, oldest first. */
const groups: Group[] = [];
const spareBuffers: Buffer[] = [];

/** The files the cursor walks (a task's) and the index of the first not yet considered. */
let cursorFiles: readonly PlannedBlob[] | null = null;
let cursor = 0;

/**
 * Blobs started and taken since the thread began: one count a thread, kept on the thread's
 * global, so that every copy of this module the thread loads (tsc's and a bundle's: a test
 * imports the one, the main thread's parse the other) counts in it.
 */
const counts: { started: number; taken: number } = ((globalThis as Record<symbol, unknown>)[Symbol.for('flowsieve.blobsAhead')] ??= { started: 0, taken: 0 }) as {
  started: number;
  taken: number;
};

/**
 * Read blobs of `files` from index `from` on ahead, in order, into up to GROUPS groups (only
 * those `wanted` says, of a size the bound `maxBytes` allows): call it as each file's turn comes
 * (the blobs before `from` are parsed by then, so their groups' buffers serve again). A group
 * stops at a blob not wanted, which is read as before. Nothing without the native module's
 * readFilesAsync, or with FLOWSIEVE_BLOBS_AHEAD=off.
 */
export function readBlobsAhead(files: readonly PlannedBlob[], from: number, maxBytes: number, wanted: (f: PlannedBlob) => boolean): void {
  giveBackSpent();
  if (files !== cursorFiles) {
    cursorFiles = files;
    cursor = from;
  } else if (cursor < from) cursor = from;
  if (cursor >= files.length || groups.length >= GROUPS) return;
  const read = nativeModule()?.readFilesAsync;
  if (!read || process.env.FLOWSIEVE_BLOBS_AHEAD === 'off') return;
  while (cursor < files.length && groups.length < GROUPS) cursor = queueGroup(files, cursor, maxBytes, wanted, read);
}

type ReadFiles = NonNullable<NonNullable<ReturnType<typeof nativeModule>>['readFilesAsync']>;

/** One group of the blobs from `at` on queued on the pool (none where the first is not to be read ahead); the index after them. */
function queueGroup(files: readonly PlannedBlob[], at: number, maxBytes: number, wanted: (f: PlannedBlob) => boolean, read: ReadFiles): number {
  const rooms: number[] = [];
  const paths: string[] = [];
  // a path named twice (the same file given twice, or inputs that overlap) joins a group once:
  // the map holds one blob a path, and a group counted twice would never be given back
  const inGroup = new Set<string>();
  let bytes = 0;
  let i = at;
  for (; i < files.length && rooms.length < GROUP_FILES; i++) {
    const f = files[i]!;
    // + 1: a read past the planned size sees a file that grew (then read again when its turn comes)
    const room = f.size + 1;
    if (!wanted(f) || f.size <= 0 || f.size > maxBytes || f.path.includes('\0') || aheadBlobs.has(f.path) || inGroup.has(f.path)) break;
    if (bytes + room > GROUP_BYTES) break;
    rooms.push(room);
    paths.push(f.path);
    inGroup.add(f.path);
    bytes += room;
  }
  if (rooms.length === 0) return at + 1; // not for a group: read when its turn comes
  const group = newGroup(rooms);
  if (!read(`${paths.join('\0')}\0`, group.buffer, group.spans, landed(group), group.heads)) {
    spareBuffers.push(group.buffer); // not queued: these blobs are read when their turns come
    return i;
  }
  for (let k = 0; k < paths.length; k++) aheadBlobs.set(paths[k]!, { group, index: k });
  groups.push(group);
  counts.started += paths.length;
  return i;
}

function newGroup(rooms: number[]): Group {
  const buffer = spareBuffers.pop() ?? Buffer.allocUnsafeSlow(GROUP_BYTES);
  const spans = new Float64Array(2 * rooms.length);
  for (let k = 0, offset = 0; k < rooms.length; offset += rooms[k]!, k++) {
    spans[2 * k] = offset;
    spans[2 * k + 1] = rooms[k]!;
  }
  // a module built before the heads were searched leaves them at this mark: not searched
  const heads = new Uint8Array(rooms.length).fill(NOT_SEARCHED);
  return { buffer, spans, rooms, heads, done: Promise.resolve(), open: rooms.length, landed: false };
}

/** The group's done(): its promise made here, resolved when the pool thread has read every blob. */
function landed(group: Group): () => void {
  let resolve!: () => void;
  group.done = new Promise<void>((r) => (resolve = r));
  return () => {
    group.landed = true;
    resolve();
  };
}

/** The groups whose every blob was taken (and parsed: the caller's next file has come) or dropped, and whose read landed: their buffers serve again. */
function giveBackSpent(): void {
  while (groups.length > 0 && groups[0]!.open === 0 && groups[0]!.landed) spareBuffers.push(groups.shift()!.buffer);
}

/**
 * The blob read ahead for `path` (null: it could not be read there as planned; read it as any
 * file), or undefined: none. The bytes are valid until the caller's next readBlobsAhead.
 */
export function takeBlobAhead(path: string): Promise<Buffer | null> | undefined {
  const a = aheadBlobs.get(path);
  if (!a) return undefined;
  aheadBlobs.delete(path);
  a.group.open--;
  counts.taken++;
  if (!a.group.landed) return a.group.done.then(() => blobOf(a));
  try {
    return Promise.resolve(blobOf(a));
  } catch (err) {
    return Promise.reject(err);
  }
}

/** readFilesAsync's answer for a path that is no regular file (not opened for reading: a FIFO would block). */
const NOT_REGULAR = -1;

/** A head byte the pool thread did not write (no HeadWord bits are this). */
const NOT_SEARCHED = 0xff;

/** The blob blobOf handed out last, and the HeadWord bits of its head (undefined: not searched). */
let lastBlob: Uint8Array | null = null;
let lastWords: number | undefined;

/**
 * The HeadWord bits (formats/types.ts) the pool thread found in the first 64 KiB of `bytes`, the
 * blob takeBlobAhead handed out last; undefined for any other bytes, or where it did not search.
 */
export function headWordsOf(bytes: Uint8Array): number | undefined {
  return bytes === lastBlob ? lastWords : undefined;
}

/**
 * A landed blob's bytes, or null where the pool did not read it whole (an error, or as many
 * bytes as its room: it grew). A path that is no longer a regular file (a FIFO put in its place
 * after planning) throws: reading it as before would block on a FIFO, and the blob is handed
 * back to planning, which reports it (plan.ts: not a regular file).
 */
function blobOf(a: AheadBlob): Buffer | null {
  const { group, index } = a;
  const got = group.spans[2 * index + 1]!;
  if (got === NOT_REGULAR) throw new Error('not a regular file (a pipe, socket or device): not read');
  if (got < 0 || got >= group.rooms[index]!) return null;
  const at = group.spans[2 * index]!;
  const blob = group.buffer.subarray(at, at + got);
  const words = group.heads[index]!;
  lastBlob = blob;
  lastWords = words === NOT_SEARCHED ? undefined : words;
  return blob;
}

/** Forget every blob read ahead and not taken (a task's end): their groups' buffers serve again once their reads land. */
export function dropBlobsAhead(): void {
  for (const a of aheadBlobs.values()) a.group.open--;
  aheadBlobs.clear();
  cursorFiles = null;
  cursor = 0;
  for (const g of groups) if (!g.landed) void g.done.then(giveBackSpent);
  giveBackSpent();
}

/** When every group held now has landed (tests: a dropped group's buffer is given back by then). */
export async function blobsAheadLanded(): Promise<void> {
  await Promise.all(groups.map((g) => g.done));
}

/** Blobs held ahead now (by this copy of the module), and how many were started and taken since the thread began (by any: tests). */
export function blobsAheadNow(): { files: number; groups: number; started: number; taken: number } {
  return { files: aheadBlobs.size, groups: groups.length, started: counts.started, taken: counts.taken };
}
