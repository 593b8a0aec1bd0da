/** summary.json and the short human summary on stderr. */
import type { DetectResult, FileReport } from '../engine/types.js';
import type { KeyVerdict } from '../engine/verdict.js';
import { isoTime } from './verdicts.js';

export interface DaySummary {
  day: string;
  scanner_ips: number;
  scan_keys: number;
}

/** Scanner IPs per UTC day (detection.md §3: a scanner on day D has a scan key whose window lies in D). */
export function scannersPerDay(scans: KeyVerdict[], windowSeconds: number): DaySummary[] {
  const days = new Map<string, { ips: Set<string>; keys: number }>();
  for (const v of scans) {
    const day = isoTime(v.window * windowSeconds).slice(0, 10);
    let d = days.get(day);
    if (!d) days.set(day, (d = { ips: new Set(), keys: 0 }));
    d.ips.add(v.src);
    d.keys++;
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, d]) => ({ day, scanner_ips: d.ips.size, scan_keys: d.keys }));
}

export function buildSummary(r: DetectResult, settings: Record<string, unknown>): Record<string, unknown> {
  const t = r.totals;
  return {
    tool: 'flowsieve',
    partial: r.partial,
    settings,
    totals: {
      files: r.files.length,
      files_failed: r.files.filter((f) => f.error).length,
      bytes_read: r.bytesIn,
      ...snake(t),
    },
    scan_keys: r.scans.length,
    // records of each cloud whose region stayed blank (no region in the record, the path, --region or --region-map)
    region_blank: regionBlank(r),
    outbound: {
      alerts: r.alerts.length,
      suppressed_by_allow_list: r.alertsSuppressed,
      by_kind: countBy(r.alerts.map((a) => a.kind)),
      by_severity: countBy(r.alerts.map((a) => a.severity)),
      hosts: [...new Set(r.alerts.map((a) => `${a.cloud}/${a.account}/${a.src}`))].sort(),
    },
    near_misses: r.nearMisses.length,
    distinct_keys: r.keys,
    distinct_key_endpoint_entries: r.entries,
    scanner_ips: new Set(r.scans.map((v) => v.src)).size,
    scanners_per_day: scannersPerDay(r.scans, Number(settings.window_seconds)),
    memory: r.memory, // --max-memory: spills, or what was dropped (src/engine/spill.ts)
    performance: {
      wall_seconds: round(r.wallSeconds, 3),
      records_per_second: Math.round(t.records / Math.max(r.wallSeconds, 1e-9)),
      megabytes_per_second: round(r.bytesIn / 1e6 / Math.max(r.wallSeconds, 1e-9), 1),
      workers: r.workers,
      accumulator_bytes: r.accumulatorBytes,
      accumulator_entries: r.accumulatorEntries,
      peak_rss_bytes: r.peakRssBytes,
    },
    // one line per input file in files.ndjson (FILES_NAME): a run over thousands of files keeps a small summary
    files: FILES_NAME,
  };
}

/** The per-file detail beside summary.json. */
export const FILES_NAME = 'files.ndjson';

/**
 * files.ndjson: one JSON object a line per input file, in the run's file order: JSON.stringify
 * of each file's FileLine, { path, format, gzip, bytes, decompressed_bytes, ...counters in
 * snake case, error?, replay? } (a key whose value is undefined left out). An object of one
 * class a file keeps the work a file in V8's native stringify: written field by field (~25
 * string concatenations a file), the loop was compiled by TurboFan in 7-15 ms of a V8 thread
 * during the shards' finalisation, and cost ~12 ms of CPU on 696 Azure blobs where this
 * costs ~4 (and ~60 against ~45 ms on 10,080 tiny files).
 */
export function fileLines(r: Pick<DetectResult, 'files'>): string {
  const lines: string[] = new Array<string>(r.files.length);
  for (let i = 0; i < r.files.length; i++) lines[i] = JSON.stringify(new FileLine(r.files[i]!)) + '\n';
  return lines.join('');
}

/**
 * A line of files.ndjson, its keys in the order JSON.stringify writes them: the counters in
 * newCounters' order (test/file-lines.test.ts compares with the object made from its keys).
 */
class FileLine {
  readonly path: string;
  readonly format: FileReport['format'];
  readonly gzip: boolean;
  readonly bytes: number;
  readonly decompressed_bytes: number;
  readonly lines: number;
  readonly records: number;
  readonly nodata: number;
  readonly rejected: number;
  readonly blank: number;
  readonly headers: number;
  readonly trailers: number;
  readonly inbound: number;
  readonly outbound: number;
  readonly internal: number;
  readonly responses: number;
  readonly backscatter: number;
  readonly other_partition: number;
  readonly duplicates: number;
  readonly late: number;
  readonly outside_range: number;
  readonly blank_region: number;
  readonly error: string | undefined;
  readonly replay: FileReport['replay'];

  constructor(f: FileReport) {
    const c = f.counters;
    this.path = f.path;
    this.format = f.format;
    this.gzip = f.gzip;
    this.bytes = f.bytes;
    this.decompressed_bytes = f.decompressedBytes;
    this.lines = c.lines;
    this.records = c.records;
    this.nodata = c.nodata;
    this.rejected = c.rejected;
    this.blank = c.blank;
    this.headers = c.headers;
    this.trailers = c.trailers;
    this.inbound = c.inbound;
    this.outbound = c.outbound;
    this.internal = c.internal;
    this.responses = c.responses;
    this.backscatter = c.backscatter;
    this.other_partition = c.otherPartition;
    this.duplicates = c.duplicates;
    this.late = c.late;
    this.outside_range = c.outsideRange;
    this.blank_region = c.blankRegion;
    this.error = f.error || undefined; // an empty message is left out
    this.replay = f.replay || undefined; // what a replay file held and gave back (src/replay/input.ts)
  }
}

/** Records with a blank region, by the cloud of their file's format (NetFlow and other exports carry no region: left out). */
export function regionBlank(r: Pick<DetectResult, 'files'>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of r.files) {
    // a replay file's records keep their cloud in the rows, not in the file's format: their
    // blank regions are counted under 'replay' (the conversion's summary has them by cloud)
    const cloud = /^(aws|azure|gcp|replay)/.exec(f.format ?? '')?.[1] ?? (f.format === 'parquet' ? 'aws' : null);
    if (cloud && f.counters.blankRegion > 0) out[cloud] = (out[cloud] ?? 0) + f.counters.blankRegion;
  }
  return out;
}

function countBy(xs: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of [...xs].sort()) out[x] = (out[x] ?? 0) + 1;
  return out;
}

function snake(c: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) out[snakeName(k)] = v as number;
  return out;
}

/** Counter names in snake case, each converted once: files.ndjson names every counter of every file (10,000 files: 40 ms of regex). */
const SNAKE = new Map<string, string>();
function snakeName(k: string): string {
  let s = SNAKE.get(k);
  if (s === undefined) SNAKE.set(k, (s = k.replace(/[A-Z]/g, (m) => `_${m.toLowerCase()}`)));
  return s;
}

function round(x: number, d: number): number {
  const m = 10 ** d;
  return Math.round(x * m) / m;
}

/** A count and its noun, plural when it is not 1: "1 file", "3 files". */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? noun : many}`;
}

/**
 * The summary on stderr. `partitions`: a merge of that many partitions, whose worker count
 * is the sum over the partitions' runs (the merge itself runs none).
 */
export function humanSummary(r: DetectResult, outDir: string, partitions?: number): string {
  const t = r.totals;
  const threads = partitions === undefined ? plural(r.workers, 'worker') : `merged from ${plural(partitions, 'partition')} run with ${plural(r.workers, 'worker')} in all`;
  const lines = [
    `flowsieve: ${t.records.toLocaleString('en-US')} flow records from ${plural(r.files.length, 'file')} in ${r.wallSeconds.toFixed(2)} s ` +
      `(${Math.round(t.records / Math.max(r.wallSeconds, 1e-9)).toLocaleString('en-US')} records/s, ${threads})`,
    `  skipped: ${t.nodata} no-data, ${t.internal} internal, ${t.responses} responses, ${t.backscatter} backscatter; rejected: ${t.rejected} line(s)`,
    `  ${r.keys.toLocaleString('en-US')} scan keys; ${r.scans.length} scans from ${new Set(r.scans.map((v) => v.src)).size} scanner IP(s)` +
      (r.nearMisses.length ? `; ${r.nearMisses.length} near misses` : ''),
    ...(r.alerts.length ? [`  ${r.alerts.length} outbound alert(s) from ${new Set(r.alerts.map((a) => a.src)).size} of your own host(s): see outbound.ndjson`] : []),
    `  results in ${outDir.replace(/\/+$/, '')}/`,
  ];
  for (const f of r.files) if (f.error) lines.push(`  could not read ${f.path}: ${f.error}`);
  if (r.memory.spills > 0) lines.push(`  --max-memory: spilled ${r.memory.spills} time(s) (${(r.memory.spill_bytes / 1e6).toFixed(1)} MB), merged back exactly`);
  if (r.memory.dropped.length > 0) {
    lines.push(
      `  --max-memory with --no-spill: DROPPED ${r.memory.dropped_records} inbound records of ${r.memory.dropped.length} source partition(s) ` +
        `(${r.memory.dropped_keys} keys evicted); see summary.json memory.dropped`,
    );
  }
  if (r.memory.outbound_dropped_records > 0) {
    lines.push(
      `  --max-memory: the outbound table was full: ${r.memory.outbound_dropped_records} outbound records not counted ` +
        `(their hosts' alerts may miss targets); see summary.json memory.outbound_dropped`,
    );
  }
  for (const [cloud, n] of Object.entries(regionBlank(r))) {
    lines.push(`  region blank for ${n.toLocaleString('en-US')} ${cloud} record(s): neither the records nor their paths name one (give --region, or --region-map for Azure)`);
  }
  if (r.partial) lines.push('  the run is PARTIAL: some input could not be read or was dropped (exit code 2)');
  return lines.join('\n');
}
