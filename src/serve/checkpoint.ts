/**
 * The sidecar's checkpoint: one file holding, as of one batch, the open windows'
 * accumulators (the shards' msgpackr + lz4 pieces), the ledger of processed spool files,
 * the event-time state, and the outbox (what the batch produced for the state database
 * and scans.ndjson). It is written to a temporary file, fsynced and renamed over the
 * previous one: the rename is the single atomic step that commits a batch. Everything
 * else (database rows, appended lines, moved files) is applied after it, idempotently,
 * and replayed from the outbox after a crash.
 *
 * Layout (version 3): MAGIC, then each accumulator piece as a u64 length and its bytes,
 * then the rest as one msgpack value, its u32 length and END. The pieces are written as
 * the shards hand them out and read back one at a time, so neither side holds more than
 * one piece in memory: a shard that spilled past --max-memory hands out each spilled
 * partition as a piece of its own. Version 2 files (one msgpack value) are still read.
 */
import { closeSync, fsyncSync, fstatSync, openSync, readFileSync, readSync, existsSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Packr } from 'msgpackr';
import type { KeyVerdict, EndpointDay } from '../engine/scan-table.js';
import type { OutboundAlert } from '../detect/outbound.js';
import type { FileReport } from '../engine/types.js';

export const CHECKPOINT_VERSION = 3; // 3: framed pieces; 2: one msgpack value (accumulator entries of 52 bytes, words and sums apart)
const LEGACY_VERSION = 2;
const MAGIC = Buffer.from('FSCKPT\x00\x03', 'latin1');
const END = Buffer.from('FSCKEND\x03', 'latin1');
const TRAILER = 4 + END.length;
export const CHECKPOINT_FILE = 'checkpoint.msgpack';

/** A spool file that was ingested. `moved`: it has left the spool (moved to the done folder). */
export interface LedgerEntry {
  name: string; // path relative to the spool
  size: number;
  mtimeMs: number;
  seq: number; // the checkpoint that ingested it
  stored: string; // where it lies once done (the done folder, or the spool with --keep)
  moved: boolean;
}

/** One file's facts for the state database. */
export interface FileFacts {
  name: string;
  stored: string;
  fingerprint: string; // content identity (spool.ts fileFingerprint)
  size: number;
  mtimeMs: number;
  report: FileReport;
}

/** What one committed batch produced; applied to the database and files exactly once. */
export interface Outbox {
  seq: number;
  files: FileFacts[];
  /** Windows finalised by this batch (ascending). */
  finalized: number[];
  scans: KeyVerdict[];
  alerts: OutboundAlert[];
  endpointDays: EndpointDay[]; // with sources, for exact per-day scanner counts
  late: Array<[window: number, records: number]>;
  finalizedUpTo: number;
  /** Days rebuilt from their files (--reprocess): their rows are replaced, not added to. */
  replaceDays: string[];
  /** Enrichment of the batch's scanner IPs, fixed here so that a replay writes the same rows. */
  enrichment: Record<string, ScannerFacts>;
}

export interface ScannerFacts {
  country: string | null;
  asn: number | null;
  as_org: string | null;
  actor: string | null;
}

/** What a checkpoint holds besides the accumulators. */
export interface CheckpointMeta {
  version: number;
  seq: number;
  createdAt: number; // Unix ms
  windowSeconds: number;
  maxEnd: number; // newest flow time seen (-Infinity before any)
  finalizedUpTo: number; // last finalised window (-1 none)
  ledger: LedgerEntry[];
  outbox: Outbox | null;
}

/** A committed checkpoint as read: `shards` yields the accumulator pieces, read from the file one at a time. */
export interface Checkpoint extends CheckpointMeta {
  shards: Iterable<Uint8Array>;
  pieces: number;
}

const packr = new Packr({ moreTypes: true, useRecords: false });

export function checkpointPath(stateDir: string): string {
  return join(stateDir, CHECKPOINT_FILE);
}

/** The committed checkpoint, or null when the state folder has none yet. */
export function readCheckpoint(stateDir: string): Checkpoint | null {
  const path = checkpointPath(stateDir);
  if (!existsSync(path)) return null;
  let c: Checkpoint;
  try {
    c = readFramed(path) ?? readLegacy(path);
  } catch (err) {
    throw new Error(`checkpoint ${path} cannot be read (${(err as Error).message}); move it away to start from scratch`);
  }
  if (!c || (c.version !== CHECKPOINT_VERSION && c.version !== LEGACY_VERSION) || !Array.isArray(c.ledger)) {
    throw new Error(`checkpoint ${path} has an unknown layout (version ${c?.version}); this flowsieve reads versions ${LEGACY_VERSION} and ${CHECKPOINT_VERSION}`);
  }
  return c;
}

/** A version-3 file: its meta from the end, its pieces' framing checked now, their bytes read when iterated. Null: not this layout. */
function readFramed(path: string): Checkpoint | null {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(MAGIC.length);
    if (readSync(fd, head, 0, head.length, 0) < head.length || !head.equals(MAGIC)) return null;
    if (size < MAGIC.length + TRAILER) throw new Error('file too short for a checkpoint');
    const trailer = Buffer.alloc(TRAILER);
    readSync(fd, trailer, 0, TRAILER, size - TRAILER);
    if (!trailer.subarray(4).equals(END)) throw new Error('no end marker: the file is truncated');
    const metaLength = trailer.readUInt32LE(0);
    const metaStart = size - TRAILER - metaLength;
    if (metaStart < MAGIC.length) throw new Error('meta length out of range');
    const meta = Buffer.alloc(metaLength);
    readSync(fd, meta, 0, metaLength, metaStart);
    const c = packr.unpack(meta) as CheckpointMeta & { pieces: number };
    const offsets = pieceOffsets(fd, metaStart);
    if (offsets.length !== c.pieces) throw new Error(`${offsets.length} accumulator pieces, the checkpoint says ${c.pieces}`);
    return { ...c, shards: { [Symbol.iterator]: () => readPieces(path, offsets) } };
  } finally {
    closeSync(fd);
  }
}

/** [offset, length] of each piece between the magic and the meta (only the length words are read). */
function pieceOffsets(fd: number, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const word = Buffer.alloc(8);
  let at = MAGIC.length;
  while (at < end) {
    if (at + 8 > end || readSync(fd, word, 0, 8, at) < 8) throw new Error(`piece ${out.length} at byte ${at}: length cut short`);
    const length = Number(word.readBigUInt64LE(0));
    if (at + 8 + length > end) throw new Error(`piece ${out.length} at byte ${at}: ${length} bytes run past the accumulators' end`);
    out.push([at + 8, length]);
    at += 8 + length;
  }
  return out;
}

function* readPieces(path: string, offsets: Array<[number, number]>): Generator<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    for (const [offset, length] of offsets) {
      const piece = Buffer.allocUnsafe(length);
      if (readSync(fd, piece, 0, length, offset) < length) throw new Error(`checkpoint ${path}: piece at byte ${offset} cut short`);
      yield piece;
    }
  } finally {
    closeSync(fd);
  }
}

/** A version-2 file: one msgpack value with every shard's state in it. */
function readLegacy(path: string): Checkpoint {
  const c = packr.unpack(readFileSync(path)) as CheckpointMeta & { shards: Uint8Array[] };
  if (!c || !Array.isArray(c.shards)) throw new Error('no accumulator states in it');
  return { ...c, pieces: c.shards.length };
}

/**
 * Commit a checkpoint: temp file, fsync, rename, fsync of the folder. The accumulator
 * pieces are written as they come (each one in memory alone); asynchronous, so that the
 * HTTP API keeps answering while a large state goes to disk. Returns the file's bytes.
 */
export async function writeCheckpoint(stateDir: string, meta: CheckpointMeta, pieces: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<number> {
  const path = checkpointPath(stateDir);
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, 'w');
  let bytes = 0;
  try {
    const put = async (b: Uint8Array) => {
      await fh.write(b);
      bytes += b.length;
    };
    await put(MAGIC);
    let count = 0;
    for await (const piece of pieces) {
      const length = Buffer.alloc(8);
      length.writeBigUInt64LE(BigInt(piece.length));
      await put(length);
      await put(piece);
      count++;
    }
    const packed = packr.pack({ ...meta, pieces: count });
    const trailer = Buffer.alloc(TRAILER);
    trailer.writeUInt32LE(packed.length, 0);
    END.copy(trailer, 4);
    await put(packed);
    await put(trailer);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  const dir = await open(dirname(path), 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
  return bytes;
}

/** A leftover temp file from a crash mid-write is not a checkpoint: remove it. */
export function removeStaleTemp(stateDir: string): void {
  rmSync(`${checkpointPath(stateDir)}.tmp`, { force: true });
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
