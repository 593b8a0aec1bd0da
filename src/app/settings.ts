/** Options shared by every command that detects (detect, serve, cluster): inputs, windows, thresholds. */
import { SHARD_BUCKETS } from '../flow/hash.js';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import type { OptionSpec, Parsed } from './args.js';
import { UsageError } from './args.js';
import { DEFAULT_THRESHOLDS, PROFILES, checkWindow, parseDuration, type Thresholds } from '../detect/rules.js';
import type { FormatName } from '../formats/types.js';
import { supportedFormats } from '../formats/registry.js';
import { CLOUD_NAMES } from '../flow/types.js';
import { DEFAULT_RUN, type DetectOptions } from '../engine/types.js';
import { DEFAULT_OUTBOUND } from '../engine/outbound-table.js';
import { readListFile, type Cidr } from '../net/cidr.js';
import { timeRangeOf } from '../source/dates.js';
import { parseHomeNetOption } from '../net/home-net.js';

/** A threshold's default as help shows it: the default profile's, and the other profiles' where they differ. */
function profileDefault(field: keyof Thresholds): string {
  const others = Object.entries(PROFILES).filter(([, p]) => p[field] !== undefined).map(([name, p]) => `${p[field]} with --profile ${name}`);
  return [String(DEFAULT_THRESHOLDS[field]), ...others].join('; ');
}

/**
 * Workers by default: half the cores, at least one. A worker is two busy threads (one
 * parse thread, one shard thread), so this keeps the busy threads at the core count. On
 * the 2-core machine one worker did every input in the same or less wall time than two,
 * with 0.67-0.81x the CPU (bucket, tiny files, text, gzip, replay; JSON blobs 0.8x the CPU
 * at 1.15x the wall): every extra thread compiles the same hot code again and four
 * threads took turns on two cores (bench/RESULTS.md, "default workers").
 */
export function defaultWorkers(): number {
  return Math.max(1, Math.floor(availableParallelism() / 2));
}

// The thresholds have no default value here: one that is given (flag, variable or --config
// file, even equal to the default) wins over the profile; one that is not takes the profile's.
export const DETECTION_OPTIONS: OptionSpec[] = [
  { name: 'workers', type: 'number', help: 'workers: each a shard thread (it owns the scan keys of a share of source addresses), and as many parse threads unless --parse-threads', default: defaultWorkers(), defaultText: 'half the cores, at least 1' },
  { name: 'parse-threads', type: 'number', help: 'parse threads feeding the shard threads (sharded pipeline)', defaultText: 'as many as the workers' },
  { name: 'window', type: 'string', help: 'window length; must divide 24h', default: '6h', value: 'DURATION' },
  { name: 'profile', type: 'string', help: "threshold preset: 'default' or 'multi-cloud'", default: 'default', value: 'NAME' },
  { name: 'min-endpoints', type: 'number', help: 'scan: at least this many endpoints', defaultText: profileDefault('minEndpoints') },
  { name: 'min-accounts', type: 'number', help: 'scan: at least this many (cloud, account)s', defaultText: profileDefault('minAccounts') },
  { name: 'min-regions', type: 'number', help: 'scan: at least this many (cloud, region)s', defaultText: profileDefault('minRegions') },
  { name: 'min-clouds', type: 'number', help: 'scan: at least this many clouds', defaultText: profileDefault('minClouds') },
  { name: 'max-cv-packets', type: 'number', help: 'scan: CV of packets per endpoint at most', defaultText: profileDefault('maxCvPackets') },
  { name: 'max-cv-bytes', type: 'number', help: 'scan: CV of bytes per endpoint at most', defaultText: profileDefault('maxCvBytes') },
  { name: 'max-cv-flows', type: 'number', help: 'scan: CV of flows per endpoint at most', defaultText: profileDefault('maxCvFlows') },
  { name: 'min-targets', type: 'number', help: 'outbound scan: at least this many public targets', default: DEFAULT_OUTBOUND.minTargets },
  { name: 'min-ports', type: 'number', help: 'outbound vertical scan: at least this many ports of one target', default: DEFAULT_OUTBOUND.minPorts },
  { name: 'min-internal-targets', type: 'number', help: 'internal scan: at least this many non-public targets', default: DEFAULT_OUTBOUND.minInternalTargets },
  { name: 'home-net', type: 'string', help: "the user's networks on public addresses (CIDR,... or @FILE): they count as not public", value: 'CIDRS' },
  { name: 'allow', type: 'string', help: 'outbound allow list: CIDRs, interface ids, instance ids (one a line)', value: 'FILE' },
  { name: 'own-cidrs', type: 'string', help: "the user's own public ranges: inbound scanners from them are alerted", value: 'FILE' },
  { name: 'format', type: 'string', help: 'force the input format instead of sniffing it', value: 'NAME' },
  { name: 'region', type: 'string', help: 'region for records whose format and path give none', value: 'NAME' },
  { name: 'account', type: 'string', help: 'account for records whose format and path give none', value: 'ID' },
  { name: 'aws-fields', type: 'string', help: 'AWS field list for files without a header line (space or comma separated)', value: 'FIELDS' },
  { name: 'region-map', type: 'string', help: 'JSON object: Azure resource id or subscription id -> region', value: 'FILE' },
  { name: 'cloud', type: 'string', help: "cloud name for NetFlow/IPFIX records ('other' by default)", value: 'NAME' },
  { name: 'partition', type: 'string', help: 'process only partition p of P (source-address hash), e.g. 3/8', value: 'p/P' },
  { name: 'batch-size', type: 'number', help: 'records per batch between threads', default: DEFAULT_RUN.batchSize },
  { name: 'chunk-size', type: 'size', help: 'bytes of a plain file per parse task (twice that for GCP NDJSON, whose records are ~10x longer)', defaultText: '8 MiB; a plain AWS text file: as many ranges as the parse threads, or a multiple, of at most 64 MiB' },
  { name: 'max-line-bytes', type: 'size', help: 'longer lines are rejected', default: DEFAULT_RUN.maxLineBytes },
  { name: 'max-decompressed-bytes', type: 'size', help: 'per file; stops gzip bombs', default: DEFAULT_RUN.maxDecompressedBytes },
  { name: 'max-memory', type: 'size', help: 'memory for the accumulators, e.g. 2G or 512M (default: half of the memory available)' },
  { name: 'no-spill', type: 'boolean', help: 'past --max-memory drop source partitions (reported) instead of spilling them to disk' },
  { name: 'max-future', type: 'string', help: 'records ending this far past the clock (or a day past their file name\'s time) are rejected', default: '1h', value: 'DURATION' },
  { name: 'spill-dir', type: 'string', help: 'folder for spill files (default: flowsieve-spill in the temporary folder)', value: 'DIR' },
  ...TIME_OPTIONS_LIST(),
  { name: 'gcs-endpoint', type: 'string', help: 'gs:// inputs: another GCS JSON API endpoint (also FLOWSIEVE_GCS_ENDPOINT)', value: 'URL' },
];

/** --from/--to: every command that reads logs. */
function TIME_OPTIONS_LIST(): OptionSpec[] {
  return [
    { name: 'from', type: 'string', help: 'read records from this UTC day or time on (2024-03-01, 2024-03-01T06, 2024-03-01T06:30Z); date folders before it are not listed', value: 'WHEN' },
    { name: 'to', type: 'string', help: 'read records up to this UTC day or time (a day or hour: all of it)', value: 'WHEN' },
  ];
}

/** s3:// inputs on an S3-compatible store (the cluster commands have their own, for the store too). */
export const S3_ENDPOINT_OPTION: OptionSpec = {
  name: 's3-endpoint', type: 'string', help: 's3:// inputs: endpoint of an S3-compatible store (MinIO, Ceph, ...); AWS S3 when absent (also FLOWSIEVE_S3_ENDPOINT)', value: 'URL',
};

/** --from/--to and the object-store settings from parsed command-line values. */
export function sourceOptionsFrom(v: Parsed['values']): Pick<DetectOptions, 'timeRange' | 'source'> {
  let timeRange;
  try {
    timeRange = timeRangeOf(v.from, v.to);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    timeRange,
    source: {
      ...(v['s3-endpoint'] ? { s3Endpoint: String(v['s3-endpoint']) } : {}),
      ...(v['gcs-endpoint'] ? { gcsEndpoint: String(v['gcs-endpoint']) } : {}),
    },
  };
}

export { parseSize } from './size.js';

export function thresholdsFrom(v: Parsed['values']): Thresholds {
  const profile = String(v.profile ?? 'default');
  const preset = PROFILES[profile];
  if (!preset) throw new UsageError(`unknown profile '${profile}' (expected ${Object.keys(PROFILES).join(' or ')})`);
  const t: Thresholds = { ...DEFAULT_THRESHOLDS, ...preset };
  // a threshold given explicitly wins over the profile (these options have no default value)
  const given = (name: string) => (v[name] !== undefined ? Number(v[name]) : undefined);
  t.minEndpoints = given('min-endpoints') ?? t.minEndpoints;
  t.minAccounts = given('min-accounts') ?? t.minAccounts;
  t.minRegions = given('min-regions') ?? t.minRegions;
  t.minClouds = given('min-clouds') ?? t.minClouds;
  t.maxCvPackets = given('max-cv-packets') ?? t.maxCvPackets;
  t.maxCvBytes = given('max-cv-bytes') ?? t.maxCvBytes;
  t.maxCvFlows = given('max-cv-flows') ?? t.maxCvFlows;
  return t;
}

function durationOption(v: Parsed['values'], name: string): number | undefined {
  if (v[name] === undefined) return undefined;
  try {
    return parseDuration(String(v[name]));
  } catch (err) {
    throw new UsageError(`--${name}: ${(err as Error).message}`);
  }
}

export function windowFrom(v: Parsed['values']): number {
  let w: number;
  try {
    w = parseDuration(String(v.window ?? '6h'));
    checkWindow(w);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return w;
}

export function partitionFrom(v: Parsed['values']): { index: number; count: number } | undefined {
  if (v.partition === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(String(v.partition));
  if (!m || Number(m[2]) < 1 || Number(m[1]) >= Number(m[2]) || Number(m[2]) > SHARD_BUCKETS) {
    throw new UsageError(`--partition needs p/P with 0 <= p < P <= ${SHARD_BUCKETS}, got '${v.partition}'`);
  }
  return { index: Number(m[1]), count: Number(m[2]) };
}

function listFrom(path: string, option: string): { cidrs: Cidr[]; names: Set<string> } {
  let list;
  try {
    list = readListFile(path);
  } catch (err) {
    throw new UsageError(`${option}: ${(err as Error).message}`);
  }
  if (list.errors.length) throw new UsageError(`${option}: ${list.errors.slice(0, 3).join('; ')}`);
  return list;
}

/** --home-net CIDRs (commas, or @FILE one a line); undefined when not given. */
export function homeNetFrom(v: Parsed['values']): string[] | undefined {
  if (v['home-net'] === undefined) return undefined;
  try {
    return parseHomeNetOption(String(v['home-net']), (path) => readFileSync(path, 'utf8'));
  } catch (err) {
    throw new UsageError(`--home-net: ${(err as Error).message}`);
  }
}

/** DetectOptions from parsed command-line values. */
export function detectOptionsFrom(v: Parsed['values'], inputs: string[]): DetectOptions {
  const format = v.format as FormatName | undefined;
  if (format && !supportedFormats().includes(format)) {
    throw new UsageError(`unknown --format '${format}' (supported: ${supportedFormats().join(', ')})`);
  }
  // checked here, not in every parse worker (where an unknown name would fail each file)
  if (v.cloud !== undefined && !(CLOUD_NAMES as readonly string[]).includes(String(v.cloud))) {
    throw new UsageError(`unknown --cloud '${v.cloud}' (expected one of ${CLOUD_NAMES.join(', ')})`);
  }
  const workers = Number(v.workers);
  if (!(workers >= 1 && workers <= 256)) throw new UsageError('--workers must be between 1 and 256');
  const parseThreads = v['parse-threads'] === undefined ? undefined : Number(v['parse-threads']);
  if (parseThreads !== undefined && !(Number.isInteger(parseThreads) && parseThreads >= 1 && parseThreads <= 256)) throw new UsageError('--parse-threads must be between 1 and 256');
  for (const name of ['max-line-bytes', 'max-decompressed-bytes']) {
    if (!(Number(v[name]) >= 1)) throw new UsageError(`--${name} must be at least 1`);
  }
  let regionMap: Record<string, string> | undefined;
  if (v['region-map']) {
    try {
      const raw = JSON.parse(readFileSync(String(v['region-map']), 'utf8')) as Record<string, unknown>;
      regionMap = Object.fromEntries(Object.entries(raw).map(([k, r]) => [k.toLowerCase(), String(r)]));
    } catch (err) {
      throw new UsageError(`--region-map: ${(err as Error).message}`);
    }
  }
  const t = thresholdsFrom(v);
  return {
    inputs,
    workers,
    parseThreads,
    windowSeconds: windowFrom(v),
    thresholds: t,
    nearMisses: Boolean(v['near-misses']),
    outbound: {
      minTargets: Number(v['min-targets'] ?? DEFAULT_OUTBOUND.minTargets),
      minPorts: Number(v['min-ports'] ?? DEFAULT_OUTBOUND.minPorts),
      maxCvPackets: t.maxCvPackets,
      maxCvBytes: t.maxCvBytes,
      minInternalTargets: Number(v['min-internal-targets'] ?? DEFAULT_OUTBOUND.minInternalTargets),
      homeNet: homeNetFrom(v),
    },
    allow: v.allow ? listFrom(String(v.allow), '--allow') : undefined,
    ownCidrs: v['own-cidrs'] ? listFrom(String(v['own-cidrs']), '--own-cidrs').cidrs : undefined,
    format,
    account: v.account as string | undefined,
    region: v.region as string | undefined,
    awsFields: v['aws-fields'] ? String(v['aws-fields']).split(/[\s,]+/).filter(Boolean) : undefined,
    regionMap,
    cloud: v.cloud as string | undefined,
    partition: partitionFrom(v),
    batchSize: Math.max(64, Number(v['batch-size'])),
    chunkBytes: v['chunk-size'] === undefined ? DEFAULT_RUN.chunkBytes : Math.max(1 << 16, Number(v['chunk-size'])),
    // without --chunk-size, a plain text file is read in few large ranges: a parse task's own cost
    // (its sink, its reader, its last batches) is ~3 ms (bench/RESULTS.md, session 14, textfile)
    textRanges: v['chunk-size'] === undefined,
    maxRejects: DEFAULT_RUN.maxRejects,
    maxLineBytes: Number(v['max-line-bytes']),
    maxDecompressedBytes: Number(v['max-decompressed-bytes']),
    maxMemory: v['max-memory'] === undefined ? undefined : Number(v['max-memory']),
    spill: !v['no-spill'],
    spillDir: v['spill-dir'] as string | undefined,
    ...sourceOptionsFrom(v),
    maxFutureSeconds: durationOption(v, 'max-future'),
  };
}
