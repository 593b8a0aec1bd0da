/**
 * Partial results (issue 8): what one partition's detect hands to `flowsieve merge`.
 *
 * Partitions split the scan keys by source-address hash, so their verdicts, outbound
 * findings and scanner counts are disjoint and simply add up. Two things are global and
 * are rebuilt at the merge: the per-endpoint-day facts (an endpoint is scanned by sources
 * of every partition) and the outbound alerts, whose worm signature asks whether the host
 * was itself scanned, by a source that may live in another partition. Every partition
 * reads all the input, so the file counters that come before the partition filter are
 * the same in every partial: they are taken once and checked, not summed. When the
 * partitions read disjoint files instead (input already split by partition, as replay
 * files are), the file reports are concatenated and every counter adds up.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { join } from 'node:path';
import { decodeState, encodeState } from '../engine/codec.js';
import { mergeEndpointDays } from '../engine/merge.js';
import { newCounters, type SinkCounters } from '../flow/sink.js';
import { buildAlerts } from '../detect/outbound.js';
import { sortVerdicts } from '../engine/order.js';
import { parseCidr, type Cidr } from '../net/cidr.js';
import type { DetectOptions, DetectResult, FileReport, RunFindings } from '../engine/types.js';
import type { KeyVerdict } from '../engine/verdict.js';
import type { RunMemoryReport } from '../engine/spill.js';
import { MAX_CORRUPT_LISTED, replayFileError } from '../replay/input.js';
import type { ReplayReport } from '../replay/types.js';

export const PARTIAL_KIND = 'flowsieve-partial';
export const PARTIAL_VERSION = 2; // 2: framed, CRC-32 of the body; 1: the bare body (no checksum), still read
const PARTIAL_MAGIC = Buffer.from('FSPART\x00\x02', 'latin1');
const PARTIAL_HEADER = PARTIAL_MAGIC.length + 8; // magic, u32 body length, u32 CRC-32 of the body

/** Counters that the partition filter splits: they are summed over partitions. */
const PARTITIONED_COUNTERS: ReadonlySet<keyof SinkCounters> = new Set(['inbound', 'outbound', 'late']);

/** Everything that decides a partition's results: it must be the same in every partial of one run. */
export interface PartialConfig {
  inputs: string[];
  windowSeconds: number;
  thresholds: DetectOptions['thresholds'];
  nearMisses: boolean;
  outbound: DetectOptions['outbound'];
  allow: { cidrs: string[]; names: string[] } | null;
  ownCidrs: string[] | null;
  format: string | null;
  account: string | null;
  region: string | null;
  awsFields: string[] | null;
  regionMap: Record<string, string> | null;
  cloud: string | null;
  maxRejects: number;
  maxLineBytes: number;
  maxDecompressedBytes: number;
}

export interface PartialResult extends RunFindings {
  kind: typeof PARTIAL_KIND;
  version: number;
  partition: { index: number; count: number };
  config: PartialConfig;
  /** The `settings` block of this partition's summary.json. */
  settings: Record<string, unknown>;
  performance: { wallSeconds: number; workers: number; accumulatorBytes: number; accumulatorEntries?: number; peakRssBytes: number };
  /** --max-memory: the partition's spills, or what it dropped. */
  memory: RunMemoryReport;
}

/** The deterministic file name of partition p of P. */
export function partialName(p: { index: number; count: number }): string {
  return `partial-${p.index}-of-${p.count}.fsp`;
}

const PARTIAL_NAME = /^partial-(\d+)-of-(\d+)\.fsp$/;

/**
 * `convert --partitions P` writes NAME.part-<p>-of-<P>.fsr: partition p's share of one
 * input. Partials compare and merge them as the one input they are parts of.
 */
const PART_FILE = /\.part-\d+-of-(\d+)\.fsr$/;
export function partitionFileKey(path: string): string {
  return path.replace(PART_FILE, '.part-*-of-$1.fsr');
}

export function configOf(opts: DetectOptions, inputs: string[]): PartialConfig {
  return {
    inputs: inputs.map(partitionFileKey),
    windowSeconds: opts.windowSeconds,
    thresholds: { ...opts.thresholds },
    nearMisses: opts.nearMisses,
    outbound: { ...opts.outbound },
    allow: opts.allow ? { cidrs: opts.allow.cidrs.map((c) => c.text), names: [...opts.allow.names].sort() } : null,
    ownCidrs: opts.ownCidrs ? opts.ownCidrs.map((c) => c.text) : null,
    format: opts.format ?? null,
    account: opts.account ?? null,
    region: opts.region ?? null,
    awsFields: opts.awsFields ?? null,
    regionMap: opts.regionMap ?? null,
    cloud: opts.cloud ?? null,
    maxRejects: opts.maxRejects,
    maxLineBytes: opts.maxLineBytes,
    maxDecompressedBytes: opts.maxDecompressedBytes,
  };
}

export function toPartial(result: DetectResult, opts: DetectOptions, inputs: string[], settings: Record<string, unknown>): PartialResult {
  if (!opts.partition) throw new Error('a partial result needs a partition (--partition p/P)');
  return {
    kind: PARTIAL_KIND,
    version: PARTIAL_VERSION,
    partition: { ...opts.partition },
    config: configOf(opts, inputs),
    settings,
    scans: result.scans,
    nearMisses: result.nearMisses,
    endpointDays: result.endpointDays,
    findings: result.findings,
    files: result.files.map((f) => ({ ...f, path: partitionFileKey(f.path) })),
    totals: result.totals,
    bytesIn: result.bytesIn,
    keys: result.keys,
    entries: result.entries,
    rejects: result.rejects,
    partial: result.partial,
    memory: result.memory,
    performance: {
      wallSeconds: result.wallSeconds,
      workers: result.workers,
      accumulatorBytes: result.accumulatorBytes,
      accumulatorEntries: result.accumulatorEntries,
      peakRssBytes: result.peakRssBytes,
    },
  };
}

/** The partial's file: a header with the body's length and CRC-32, then the body (msgpack + lz4). */
export function encodePartial(p: PartialResult): Buffer {
  const body = encodeState(p);
  const head = Buffer.alloc(PARTIAL_HEADER);
  PARTIAL_MAGIC.copy(head);
  head.writeUInt32LE(body.length, PARTIAL_MAGIC.length);
  head.writeUInt32LE(crc32(body), PARTIAL_MAGIC.length + 4);
  return Buffer.concat([head, body]);
}

export function decodePartial(bytes: Uint8Array, source: string): PartialResult {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const framed = buf.length >= PARTIAL_MAGIC.length && buf.subarray(0, PARTIAL_MAGIC.length).equals(PARTIAL_MAGIC);
  const redo = `make it again (detect --partition p/P --partials DIR, or the cluster's detect step for that partition)`;
  let body = buf;
  if (framed) {
    const length = buf.length >= PARTIAL_HEADER ? buf.readUInt32LE(PARTIAL_MAGIC.length) : -1;
    if (length !== buf.length - PARTIAL_HEADER) {
      throw new PartialError(`${source}: damaged partial result: the body is ${buf.length - PARTIAL_HEADER} bytes, its header says ${length}; ${redo}`);
    }
    body = buf.subarray(PARTIAL_HEADER);
    if (crc32(body) !== buf.readUInt32LE(PARTIAL_MAGIC.length + 4)) {
      throw new PartialError(`${source}: damaged partial result: the body (${length} bytes) does not match its checksum; ${redo}`);
    }
  }
  let p: PartialResult;
  try {
    p = decodeState<PartialResult>(body);
  } catch (err) {
    throw new PartialError(`${source}: not a flowsieve partial result (${(err as Error).message})`);
  }
  if (!p || p.kind !== PARTIAL_KIND) throw new PartialError(`${source}: not a flowsieve partial result`);
  // version 1 had no checksum: read as it is only when it says so; a framed file must say 2
  const expected = framed ? PARTIAL_VERSION : 1;
  if (p.version !== expected) throw new PartialError(`${source}: partial result version ${p.version}${framed ? '' : ' without a checksum'}, this flowsieve reads 1 (no checksum) and ${PARTIAL_VERSION}`);
  return p;
}

/** A problem with the set of partials (missing, duplicated, inconsistent): the user must act. */
export class PartialError extends Error {}

/** Partial files from paths: files as given, folders for their partial-<p>-of-<P>.fsp files. */
export function findPartialFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = statSync(p);
    } catch (err) {
      throw new PartialError(`${p}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!st.isDirectory()) {
      out.push(p);
      continue;
    }
    const names = readdirSync(p).filter((n) => PARTIAL_NAME.test(n)).sort();
    if (names.length === 0) throw new PartialError(`${p}: no partial-<p>-of-<P>.fsp files in this folder`);
    out.push(...names.map((n) => join(p, n)));
  }
  return out;
}

export function readPartials(paths: string[]): PartialResult[] {
  return findPartialFiles(paths).map((f) => decodePartial(readFileSync(f), f));
}

/** The merged run, written by the same code as a single detect. */
export interface MergedRun {
  result: DetectResult;
  settings: Record<string, unknown>;
  windowSeconds: number;
  nearMisses: boolean;
  partitions: number;
}

/**
 * Combine the partials of one run into the result a single `detect` over the same input
 * gives. Throws PartialError when partitions are missing or repeated, or when the
 * partials were not made with the same inputs and settings.
 */
export function mergePartials(parts: PartialResult[]): MergedRun {
  const t0 = performance.now();
  const ordered = checkComplete(parts);
  const first = ordered[0]!;
  const config = first.config;
  const sameConfig = JSON.stringify(config);
  for (const p of ordered) {
    if (JSON.stringify(p.config) !== sameConfig) {
      throw new PartialError(`partition ${p.partition.index} was made with other inputs or settings than partition ${first.partition.index}: ${configDiff(first.config, p.config)}`);
    }
  }
  const verdicts = (pick: (p: PartialResult) => KeyVerdict[]) => sortVerdicts(ordered.flatMap(pick));
  const scans = verdicts((p) => p.scans);
  const endpointDays = mergeEndpointDays(ordered.map((p) => p.endpointDays));
  const findings = ordered.flatMap((p) => p.findings);
  const alerts = buildAlerts(findings, scans, endpointDays, config.windowSeconds, {
    allow: config.allow ? { cidrs: config.allow.cidrs.map(cidrOf), names: new Set(config.allow.names) } : undefined,
    ownCidrs: config.ownCidrs ? config.ownCidrs.map(cidrOf) : undefined,
  });
  const shared = sameFiles(ordered);
  const files = shared ? mergeFiles(ordered) : ordered.flatMap((p) => p.files);
  const totals = newCounters();
  for (const f of files) for (const k of Object.keys(totals) as (keyof SinkCounters)[]) totals[k] += f.counters[k];
  const workers = ordered.map((p) => p.performance.workers);
  const result: DetectResult = {
    scans,
    alerts: alerts.alerts,
    alertsSuppressed: alerts.suppressed,
    endpointDays,
    nearMisses: verdicts((p) => p.nearMisses),
    findings,
    files,
    totals,
    bytesIn: shared ? first.bytesIn : sum(ordered, (p) => p.bytesIn),
    keys: sum(ordered, (p) => p.keys),
    entries: sum(ordered, (p) => p.entries),
    rejects: shared ? first.rejects : ordered.flatMap((p) => p.rejects).slice(0, config.maxRejects),
    // the partitions run side by side: the run takes as long as the slowest, then the merge
    wallSeconds: Math.max(...ordered.map((p) => p.performance.wallSeconds)) + (performance.now() - t0) / 1000,
    partial: ordered.some((p) => p.partial),
    workers: workers.reduce((a, b) => a + b, 0),
    accumulatorBytes: sum(ordered, (p) => p.performance.accumulatorBytes),
    accumulatorEntries: sum(ordered, (p) => p.performance.accumulatorEntries ?? 0),
    peakRssBytes: Math.max(...ordered.map((p) => p.performance.peakRssBytes)),
    memory: mergeMemory(ordered),
  };
  const settings = { ...first.settings, partition: null };
  if ('workers' in settings) settings.workers = workers.every((w) => w === workers[0]) ? workers[0] : workers;
  return { result, settings, windowSeconds: config.windowSeconds, nearMisses: config.nearMisses, partitions: first.partition.count };
}

/** The partials sorted by index; every partition 0..P-1 exactly once. */
function checkComplete(parts: PartialResult[]): PartialResult[] {
  if (parts.length === 0) throw new PartialError('no partial results to merge');
  const count = parts[0]!.partition.count;
  const byIndex = new Map<number, PartialResult>();
  for (const p of parts) {
    if (p.partition.count !== count) {
      throw new PartialError(`partials of different partition counts: ${count} and ${p.partition.count}`);
    }
    if (byIndex.has(p.partition.index)) throw new PartialError(`partition ${p.partition.index}/${count} is given twice`);
    byIndex.set(p.partition.index, p);
  }
  const missing: number[] = [];
  for (let i = 0; i < count; i++) if (!byIndex.has(i)) missing.push(i);
  if (missing.length) {
    throw new PartialError(
      `missing ${missing.length} of ${count} partitions: ${missing.join(', ')} ` +
        `(run flowsieve detect --partition ${missing[0]}/${count} --partials DIR for each, then merge again)`,
    );
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, p]) => p);
}

/**
 * True when every partition read the same files (raw input, filtered by partition);
 * false when they read disjoint files (input split by partition beforehand).
 */
function sameFiles(parts: PartialResult[]): boolean {
  const paths = parts.map((p) => p.files.map((f) => f.path));
  const first = JSON.stringify(paths[0]);
  if (paths.every((x) => JSON.stringify(x) === first)) return true;
  const seen = new Map<string, number>();
  parts.forEach((p, i) => {
    for (const f of p.files) {
      const other = seen.get(f.path);
      if (other !== undefined && other !== i) {
        throw new PartialError(
          `${f.path} was read by partitions ${parts[other]!.partition.index} and ${p.partition.index} but not by all: ` +
            'the partials were made from different inputs',
        );
      }
      seen.set(f.path, i);
    }
  });
  return false;
}

/**
 * Per-file reports: the counters the partition filter splits are summed, the rest are
 * the same in every partial (each read the whole file) and are checked to be.
 */
function mergeFiles(parts: PartialResult[]): FileReport[] {
  const first = parts[0]!;
  return first.files.map((f0, i) => {
    const counters = { ...f0.counters, otherPartition: 0 };
    for (const k of PARTITIONED_COUNTERS) counters[k] = 0;
    // a per-partition replay file holds only its partition's rows: its bytes add up
    const perPartition = PART_FILE.test(f0.path.replace('*', '0'));
    // a whole replay file whose partitions each read only their own blocks: blocks, bytes
    // and damage add up too (the header, read by every partition, once)
    const blockSplit = f0.replay !== undefined && parts.some((p) => (p.files[i]?.replay?.skipped_blocks ?? 0) > 0);
    let bytes = 0;
    let decompressedBytes = 0;
    for (const p of parts) {
      const f = p.files[i];
      if (f) {
        bytes += f.bytes;
        decompressedBytes += f.decompressedBytes;
      }
      if (!f || f.path !== f0.path || (!perPartition && !blockSplit && (f.bytes !== f0.bytes || f.error !== f0.error))) {
        throw new PartialError(`partitions ${first.partition.index} and ${p.partition.index} did not read the same file ${f0.path}`);
      }
      for (const k of Object.keys(counters) as (keyof SinkCounters)[]) {
        if (PARTITIONED_COUNTERS.has(k)) counters[k] += f.counters[k];
        else if (k !== 'otherPartition' && f.counters[k] !== f0.counters[k]) {
          throw new PartialError(
            `${f0.path}: partitions ${first.partition.index} and ${p.partition.index} disagree on ${k} ` +
              `(${f0.counters[k]} and ${f.counters[k]}): they did not read the same input`,
          );
        }
      }
    }
    if (parts.some((p) => p.files.length !== first.files.length)) {
      throw new PartialError('the partials did not read the same list of files');
    }
    const late = new Map<number, number>();
    for (const p of parts) for (const [w, n] of p.files[i]!.lateByWindow) late.set(w, (late.get(w) ?? 0) + n);
    if (blockSplit) return { ...f0, ...mergeBlockSplit(parts.map((p) => p.files[i]!)), counters, lateByWindow: [...late].sort((a, b) => a[0] - b[0]) };
    return {
      ...f0,
      ...(perPartition ? { bytes, decompressedBytes } : {}),
      counters,
      lateByWindow: [...late].sort((a, b) => a[0] - b[0]),
      // a replay file read by every partition: what one whole run reads of it
      ...(f0.replay ? { replay: { ...f0.replay, outside_partition: 0 } } : {}),
    };
  });
}

/**
 * One replay file's reports from partitions that each read only their own blocks, as the
 * report of one run over the whole file: blocks and rows read, damaged blocks and bytes
 * add up, the header counts once; the error is made again from the merged report.
 */
function mergeBlockSplit(files: FileReport[]): Pick<FileReport, 'bytes' | 'decompressedBytes' | 'replay' | 'error'> {
  const reps = files.map((f) => f.replay!);
  const r0 = reps[0]!;
  const corruptAll = reps.flatMap((r) => r.corrupt).sort((a, b) => a.offset - b.offset);
  const replay: ReplayReport = {
    ...r0,
    blocks_read: reps.reduce((s, r) => s + r.blocks_read, 0),
    rows_read: reps.reduce((s, r) => s + r.rows_read, 0),
    corrupt_blocks: reps.reduce((s, r) => s + r.corrupt_blocks, 0),
    corrupt_rows: reps.reduce((s, r) => s + r.corrupt_rows, 0),
    corrupt: corruptAll.slice(0, MAX_CORRUPT_LISTED), // each partition lists its first ones: the first of all are among them
    outside_partition: 0,
    skipped_blocks: 0,
  };
  return {
    bytes: files.reduce((s, f) => s + f.bytes, 0) - (files.length - 1) * r0.header_bytes,
    decompressedBytes: files.reduce((s, f) => s + f.decompressedBytes, 0),
    replay,
    error: replayFileError(replay),
  };
}

/**
 * The partitions' memory reports as one run's: limits, spills and drops add up (each
 * partition had its own), and every dropped source partition says which run partition
 * it belongs to.
 */
function mergeMemory(parts: PartialResult[]): RunMemoryReport {
  const ms = parts.map((p) => p.memory);
  const add = (f: (m: RunMemoryReport) => number) => ms.reduce((s, m) => s + f(m), 0);
  return {
    limit_bytes: add((m) => m.limit_bytes),
    limit_entries_per_shard: Math.max(...ms.map((m) => m.limit_entries_per_shard)),
    peak_table_bytes: add((m) => m.peak_table_bytes),
    spills: add((m) => m.spills),
    spilled_entries: add((m) => m.spilled_entries),
    spill_bytes: add((m) => m.spill_bytes),
    merge_groups: add((m) => m.merge_groups),
    dropped: parts.flatMap((p) => p.memory.dropped.map((d) => ({ ...d, run_partition: p.partition.index }))),
    dropped_keys: add((m) => m.dropped_keys),
    dropped_entries: add((m) => m.dropped_entries),
    dropped_records: add((m) => m.dropped_records),
    // partial results written before the outbound table had a limit lack these
    outbound_limit_entries_per_shard: Math.max(0, ...ms.map((m) => m.outbound_limit_entries_per_shard ?? 0)),
    outbound_dropped_records: add((m) => m.outbound_dropped_records ?? 0),
    outbound_dropped: parts.flatMap((p) => (p.memory.outbound_dropped ?? []).map((d) => ({ ...d, run_partition: p.partition.index }))),
  };
}

function configDiff(a: PartialConfig, b: PartialConfig): string {
  const keys = (Object.keys(a) as (keyof PartialConfig)[]).filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
  return keys.map((k) => `${k} ${JSON.stringify(a[k])} vs ${JSON.stringify(b[k])}`).join('; ') || 'unknown difference';
}

function cidrOf(text: string): Cidr {
  const c = parseCidr(text);
  if (!c) throw new PartialError(`bad CIDR in partial result: ${text}`);
  return c;
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((s, x) => s + f(x), 0);
}
