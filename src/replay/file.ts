/**
 * The replay file (docs: `flowsieve convert`): flow records after parsing and
 * classification, as columnar lz4 blocks, so that detecting on them skips reading text,
 * parsing and classifying.
 *
 *   offset 0   "FSREPLAY"                 8 bytes
 *   offset 8   u32 format version         (REPLAY_VERSION)
 *   offset 12  u32 header length H
 *   offset 16  u32 crc32(header)
 *   offset 20  header (msgpack, H bytes)  dictionary, block index, source counters
 *   offset 20+H  blocks                   (block.ts frames, kind 'rows')
 *
 * Every block holds the rows of ONE source-address bucket (hash.ts bucketOf), so a
 * reader routes whole blocks to the worker that owns the bucket (bucket % workers) for
 * any worker count, without looking at a record. Account, region, interface and
 * instance are ids into the file's one dictionary (dict[0] = ""). The rows' encoding
 * inside a block is row-codec.ts.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { zlibNow } from '../input/zlib.js';
import type { FlowBatchData } from '../flow/batch.js';
import type { SinkCounters } from '../flow/sink.js';
import { SHARD_BUCKETS } from '../flow/hash.js';
import { CorruptBlockError, decodeBlock } from './block.js';
import { msgpack } from './codecs.js';
import { decodeRows, ROW_CODEC_COLUMNS, type RowScratch } from './row-codec.js';
import { FILE_MAGIC, isReplayHead } from '../formats/replay.js';

export { FILE_MAGIC, isReplayHead };

/** The version convert writes; readers take every version from 1 (version 1 has no entry-row frames). */
export const REPLAY_VERSION = 2;
export const OLDEST_REPLAY_VERSION = 1;
export const FILE_PREFIX = 20;
export const ROWS_KIND = 'rows';
/**
 * A chunk's records merged per inbound accumulator entry and entry window (row-codec.ts
 * ENTRY_ROWS_COLUMN; docs/replay.md "Entry rows"): the twin of a 'rows' block.
 */
export const ENTRY_ROWS_KIND = 'entry-rows';
/**
 * Seconds of the entry window: inbound records merge into one entry row only within one
 * window of this length (aligned to the epoch), so entry rows are exact for every detect
 * window that is a multiple of it (6, 12 and 24 h), and the reader takes the rows blocks for
 * any other. The default --window: most merging where most runs read.
 */
export const ENTRY_WINDOW = 21600;

/** The columns of a FlowBatchData: [name, values per row]. */
export const BATCH_COLUMNS: ReadonlyArray<readonly [keyof FlowBatchData, number]> = [
  ['feed', 1], ['src', 4], ['dst', 4], ['proto', 1], ['sport', 1], ['dport', 1], ['tcpFlags', 1],
  ['packets', 1], ['bytes', 1], ['start', 1], ['end', 1], ['cloud', 1], ['action', 1], ['direction', 1],
  ['account', 1], ['region', 1], ['iface', 1], ['instance', 1],
];

/** One input file that went into the replay file, with its counters at conversion. */
export interface ReplaySource {
  path: string;
  format: string | null;
  gzip: boolean;
  bytes: number;
  decompressedBytes: number;
  counters: SinkCounters;
  minStart?: number; // earliest start and latest end of the file's valid records
  maxEnd?: number;
  error?: string;
}

/** Block index: parallel arrays, offsets relative to the first block (dataStart). */
export interface BlockIndex {
  offset: number[];
  length: number[];
  bucket: number[];
  rows: number[];
  minTime: number[];
  maxTime: number[];
  /**
   * Rows of each block that feed the inbound / the outbound detector (files written since
   * 2026-11-29): a --partition run skips other partitions' blocks by the index and still
   * counts their rows exactly. Absent in older files, whose blocks are then read and filtered.
   */
  inbound?: number[];
  outbound?: number[];
  /**
   * Version 2: each block's twin frame of entry rows (ENTRY_ROWS_KIND), placed after every
   * rows block: its offset (from the first block, as `offset`), length, and the entry rows
   * it holds. A length of 0: the block has no twin.
   */
  entryOffset?: number[];
  entryLength?: number[];
  entryRows?: number[];
}

export interface ReplayHeader {
  version: number;
  tool: string;
  created: string;
  buckets: number; // SHARD_BUCKETS at conversion
  columns: string[]; // the row codec's column names
  dict: string[];
  blocks: BlockIndex;
  rows: number; // total rows in all blocks
  sources: ReplaySource[];
  totals: SinkCounters;
  rejects: Array<{ file: string; line: number; offset: number; reason: string; text: string }>;
  partition: { index: number; count: number } | null;
  /** Version 2: the entry window of the entry-row frames (ENTRY_WINDOW). */
  entryWindow?: number;
}

export interface OpenedReplay {
  header: ReplayHeader;
  headerCrc: number;
  dataStart: number;
  fileSize: number;
}

export class ReplayFileError extends Error {}

/** Read and check a replay file's header (never its blocks). */
export function readReplayHeader(path: string): OpenedReplay {
  const fd = openSync(path, 'r');
  try {
    const fileSize = fstatSync(fd).size;
    const prefix = Buffer.alloc(FILE_PREFIX);
    if (readSync(fd, prefix, 0, FILE_PREFIX, 0) < FILE_PREFIX || !isReplayHead(prefix)) {
      throw new ReplayFileError('not a flowsieve replay file (bad magic)');
    }
    const version = prefix.readUInt32LE(8);
    if (version < OLDEST_REPLAY_VERSION || version > REPLAY_VERSION) {
      throw new ReplayFileError(`replay format version ${version} is not supported (this flowsieve reads versions ${OLDEST_REPLAY_VERSION} to ${REPLAY_VERSION})`);
    }
    const hlen = prefix.readUInt32LE(12);
    if (FILE_PREFIX + hlen > fileSize) throw new ReplayFileError(`truncated: header needs ${hlen} bytes at byte ${FILE_PREFIX}, file has ${fileSize}`);
    const hbytes = Buffer.alloc(hlen);
    readSync(fd, hbytes, 0, hlen, FILE_PREFIX);
    const headerCrc = zlibNow().crc32(hbytes);
    if (headerCrc !== prefix.readUInt32LE(16)) throw new ReplayFileError('header checksum mismatch (corrupt header)');
    const header = msgpack().unpack(hbytes) as ReplayHeader;
    checkHeader(header);
    return { header, headerCrc, dataStart: FILE_PREFIX + hlen, fileSize };
  } finally {
    closeSync(fd);
  }
}

function checkHeader(h: ReplayHeader): void {
  if (h.buckets !== SHARD_BUCKETS) {
    throw new ReplayFileError(`written with ${h.buckets} source buckets; this flowsieve shards by ${SHARD_BUCKETS}`);
  }
  const want = ROW_CODEC_COLUMNS.join(',');
  const got = Array.isArray(h.columns) ? h.columns.join(',') : '';
  if (want !== got) throw new ReplayFileError(`column set differs from this flowsieve's (${got})`);
  const b = h.blocks;
  const n = b?.offset?.length ?? -1;
  if (n < 0 || [b.length, b.bucket, b.rows, b.minTime, b.maxTime].some((a) => a?.length !== n)) {
    throw new ReplayFileError('block index is malformed');
  }
  if ((b.inbound !== undefined || b.outbound !== undefined) && [b.inbound, b.outbound].some((a) => a?.length !== n)) {
    throw new ReplayFileError('block index is malformed (feed counts)');
  }
  const twins = [b.entryOffset, b.entryLength, b.entryRows];
  if (twins.some((a) => a !== undefined) && (twins.some((a) => a?.length !== n) || !(Number.isInteger(h.entryWindow) && h.entryWindow! > 0))) {
    throw new ReplayFileError('block index is malformed (entry rows)');
  }
  if (!Array.isArray(h.dict) || h.dict[0] !== '') throw new ReplayFileError('dictionary is malformed');
}

/**
 * A FlowBatchData over a decoded 'rows' block (columns expanded into `scratch` or viewed
 * in the decompressed buffer; strings = the file's dictionary).
 */
export function decodeRowsBlock(
  frame: Uint8Array,
  dict: string[],
  expectBucket: number,
  scratch: RowScratch,
): { batch: FlowBatchData; rawBytes: number } {
  const { header, columns, rawBytes } = decodeBlock(frame, ROWS_KIND);
  if (header.bucket !== expectBucket) throw new CorruptBlockError(`block is of bucket ${header.bucket}, index says ${expectBucket}`);
  return { batch: decodeRows(columns, header.rows, dict, scratch), rawBytes };
}
