/**
 * detection.md §3 inbound scan detection as ONE DuckDB SQL statement over an AWS VPC Flow Logs v2
 * text file (header line, space separated, '-' for unknown): the reference the
 * end-to-end comparison checks flowsieve against, for speed and for equal scan keys.
 *
 * Usage: node dist/bench/duckdb-scan.js FILE --threads N [--out keys.json]
 * Prints one JSON line: { seconds, keys, rows }.
 */
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_THRESHOLDS as T } from '../src/detect/rules.js';

/**
 * detection.md §3 non-public ranges as one regular expression over the address text (lower case,
 * canonical forms as flow logs write them): the IPv4 ranges, also IPv4-mapped
 * (::ffff:a.b.c.d), then fc00::/7 (first hextet fc00-fdff), fe80::/10 (fe80-febf),
 * ff00::/8, 2001:db8::/32, :: and ::1. One regexp call per address: written as range
 * comparisons on parsed octets, DuckDB's optimizer copies the parsing into each one.
 */
const V4_PRIVATE =
  String.raw`(0|10|127|22[4-9]|2[3-5][0-9])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|169\.254\.|172\.(1[6-9]|2[0-9]|3[01])\.|` +
  String.raw`192\.168\.|192\.0\.[02]\.|198\.1[89]\.|198\.51\.100\.|203\.0\.113\.`;
export const NON_PUBLIC_RE =
  `^(::ffff:)?(${V4_PRIVATE})|^(f[cd][0-9a-f]{2}|fe[89ab][0-9a-f]|ff[0-9a-f]{2}):|^2001:0?db8:|^::1?$`;

function isPublic(col: string): string {
  return `NOT regexp_matches(lower(${col}), '${NON_PUBLIC_RE}')`;
}

/** The whole of detection.md §3 (default thresholds) for an AWS v2 file: one statement. */
export function scanSql(file: string, windowSeconds = 21600): string {
  return `
WITH flows AS (
  SELECT "account-id" AS account, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, "start", "end"
  FROM read_csv('${file.replace(/'/g, "''")}', delim = ' ', header = true, nullstr = '-', auto_detect = false,
    columns = {'version': 'INTEGER', 'account-id': 'VARCHAR', 'interface-id': 'VARCHAR', 'srcaddr': 'VARCHAR',
               'dstaddr': 'VARCHAR', 'srcport': 'INTEGER', 'dstport': 'INTEGER', 'protocol': 'INTEGER',
               'packets': 'BIGINT', 'bytes': 'BIGINT', 'start': 'BIGINT', 'end': 'BIGINT', 'action': 'VARCHAR',
               'log-status': 'VARCHAR'})
  WHERE "log-status" = 'OK' AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
),
inbound AS (
  -- AWS v2 has no flow-direction: inbound = public source to non-public destination;
  -- responses (srcport < 1024 <= dstport) are not probes; v2 has no tcp-flags
  SELECT * FROM flows
  WHERE ${isPublic('srcaddr')} AND NOT (${isPublic('dstaddr')}) AND NOT (srcport < 1024 AND dstport >= 1024)
),
per_endpoint AS (
  -- endpoint = (cloud, account, dstaddr); the cloud is aws and v2 carries no region (''),
  -- so regions = clouds = 1 for every key
  SELECT srcaddr, protocol, dstport, floor("start" / ${windowSeconds})::BIGINT AS win, account, dstaddr,
         count(*) AS f, sum(packets) AS p, sum(bytes) AS b, min("start") AS first_seen, max("end") AS last_seen
  FROM inbound
  GROUP BY ALL
),
${perKeySql('1 AS regions, 1 AS clouds', true)}`;
}

/**
 * The end of a detection.md §3 statement (default thresholds) after its per_endpoint step:
 * per_key and the conditions, ordered. `regions`: the select's regions (and clouds)
 * columns; `clouds`: whether a key is held to the clouds condition too.
 */
export function perKeySql(regions: string, clouds: boolean): string {
  const cv = (x: string) => `CASE WHEN avg(${x}) = 0 THEN 0 ELSE stddev_pop(${x}) / avg(${x}) END`;
  return `per_key AS (
  SELECT win, srcaddr, protocol, dstport,
         count(*) AS endpoints, count(DISTINCT account) AS accounts, ${regions},
         sum(f) AS flows, coalesce(sum(p), 0) AS packets, coalesce(sum(b), 0) AS bytes,
         ${cv('p')} AS cv_packets, ${cv('b')} AS cv_bytes, ${cv('f')} AS cv_flows,
         min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM per_endpoint
  GROUP BY ALL
  HAVING count(*) >= ${T.minEndpoints}
)
SELECT * FROM per_key
WHERE accounts >= ${T.minAccounts} AND regions >= ${T.minRegions}${clouds ? ` AND clouds >= ${T.minClouds}` : ''}
  AND (cv_packets IS NULL OR cv_packets <= ${T.maxCvPackets})
  AND (cv_bytes IS NULL OR cv_bytes <= ${T.maxCvBytes})
  AND cv_flows <= ${T.maxCvFlows}
ORDER BY win, srcaddr, protocol, dstport`;
}

export interface DuckKey {
  win: number;
  src: string;
  protocol: number;
  dstPort: number;
  endpoints: number;
  flows: number;
  packets: number;
  bytes: number;
}

/** Runs one detection.md §3 statement on a fresh in-memory DuckDB with `threads` threads: its scan keys, and seconds from start to rows read. */
export async function duckKeys(sql: string, threads: number): Promise<{ seconds: number; keys: DuckKey[] }> {
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(sql);
  const keys = reader.getRowObjects().map((r) => ({
    win: Number(r.win),
    src: String(r.srcaddr),
    protocol: Number(r.protocol),
    dstPort: Number(r.dstport),
    endpoints: Number(r.endpoints),
    flows: Number(r.flows),
    packets: Number(r.packets),
    bytes: Number(r.bytes),
  }));
  const seconds = (performance.now() - t0) / 1000;
  conn.closeSync();
  return { seconds, keys };
}

export const duckScan = (file: string, threads: number) => duckKeys(scanSql(file), threads);

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  const ti = process.argv.indexOf('--threads');
  const oi = process.argv.indexOf('--out');
  if (!file) {
    process.stderr.write('usage: node dist/bench/duckdb-scan.js FILE --threads N [--out keys.json]\n');
    process.exit(1);
  }
  const r = await duckScan(file, ti > 0 ? Number(process.argv[ti + 1]) : 2);
  if (oi > 0) writeFileSync(process.argv[oi + 1]!, JSON.stringify(r.keys));
  process.stdout.write(JSON.stringify({ seconds: r.seconds, keys: r.keys.length }) + '\n');
}
