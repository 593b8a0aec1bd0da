/**
 * The sidecar's checkpoint: one file holding, as of one batch, the open windows'
 * accumulators (the shards' msgpackr + lz4 blobs), the ledger of processed spool files,
 * the event-time state, and the outbox (what the batch produced for the state database
 * and scans.ndjson). It is written to a temporary file, fsynced and renamed over the
 * previous one: the rename is the single atomic step that commits a batch. Everything
 * else (database rows, appended lines, moved files) is applied after it, idempotently,
 * and replayed from the outbox after a crash.
 */
import { closeSync, fsyncSync, openSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Packr } from 'msgpackr';
import type { KeyVerdict, EndpointDay } from '../engine/scan-table.js';
import type { OutboundAlert } from '../detect/outbound.js';
import type { FileReport } from '../engine/run.js';

export const CHECKPOINT_VERSION = 2; // 2: accumulator entries of 52 bytes (words and sums apart)
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

export interface Checkpoint {
  version: number;
  seq: number;
  createdAt: number; // Unix ms
  windowSeconds: number;
  maxEnd: number; // newest flow time seen (-Infinity before any)
  finalizedUpTo: number; // last finalised window (-1 none)
  ledger: LedgerEntry[];
  shards: Uint8Array[];
  outbox: Outbox | null;
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
    c = packr.unpack(readFileSync(path)) as Checkpoint;
  } catch (err) {
    throw new Error(`checkpoint ${path} cannot be read (${(err as Error).message}); move it away to start from scratch`);
  }
  if (!c || c.version !== CHECKPOINT_VERSION || !Array.isArray(c.shards) || !Array.isArray(c.ledger)) {
    throw new Error(`checkpoint ${path} has an unknown layout (version ${c?.version}); this flowsieve reads version ${CHECKPOINT_VERSION}`);
  }
  return c;
}

/**
 * Commit a checkpoint: temp file, fsync, rename, fsync of the folder. Asynchronous, so
 * that the HTTP API keeps answering while a large state goes to disk.
 */
export async function writeCheckpoint(stateDir: string, c: Checkpoint): Promise<number> {
  const path = checkpointPath(stateDir);
  const tmp = `${path}.tmp`;
  const bytes = packr.pack(c);
  const fh = await open(tmp, 'w');
  try {
    await fh.writeFile(bytes);
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
  return bytes.length;
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
