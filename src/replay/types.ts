/**
 * What replay reports about a replay file (summary.json `files[].replay`) and its damaged
 * blocks: a leaf module, so the engine's FileReport can name them without importing the
 * replay reader.
 */

export interface CorruptBlock {
  offset: number;
  length: number;
  rows: number;
  reason: string;
}

export interface ReplayReport {
  sources: string[];
  blocks: number;
  blocks_read: number;
  rows: number;
  rows_read: number;
  corrupt_blocks: number;
  corrupt_rows: number;
  outside_partition: number;
  /** blocks of other partitions, skipped by the index without being read (--partition) */
  skipped_blocks: number;
  /** bytes before the first block (prefix and header), read by every run of the file */
  header_bytes: number;
  /** source files the conversion could not read (from the file's header), when there were any */
  conversion_error?: string;
  corrupt: CorruptBlock[]; // the first MAX_CORRUPT_LISTED
}
