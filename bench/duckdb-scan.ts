/**
 * SPEC §3 inbound scan detection as ONE DuckDB SQL statement over an AWS VPC Flow Logs v2
 * text file (header line, space separated, '-' for unknown): the reference the
 * end-to-end comparison checks flowsieve against, for speed and for equal scan keys.
 *
 * Usage: node dist/bench/duckdb-scan.js FILE --threads N [--out keys.json]
 * Prints one JSON line: { seconds, keys, rows }.
 */
import { writeFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';
import { DEFAULT_THRESHOLDS as T } from '../src/detect/rules.js';

/** SPEC §3 non-public IPv4 ranges. */
const V4_PRIVATE = [
  '0.0.0.0/8', '10.0.0.0/8', '100.64.0.0/10', '127.0.0.0/8', '169.254.0.0/16', '172.16.0.0/12', '192.0.0.0/24',
  '192.0.2.0/24', '192.168.0.0/16', '198.18.0.0/15', '198.51.100.0/24', '203.0.113.0/24', '224.0.0.0/4', '240.0.0.0/4',
];

function v4Range(cidr: string): [number, number] {
  const [net, bits] = cidr.split('/') as [string, string];
  const v = net.split('.').reduce((a, o) => a * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return [v, v + size - 1];
}

/** SQL: the dotted-quad text `a` as a number. */
function v4Value(a: string): string {
  return `(CAST(split_part(${a}, '.', 1) AS BIGINT) * 16777216 + CAST(split_part(${a}, '.', 2) AS BIGINT) * 65536 + ` +
    `CAST(split_part(${a}, '.', 3) AS BIGINT) * 256 + CAST(split_part(${a}, '.', 4) AS BIGINT))`;
}

/**
 * SQL columns computed once per address: its IPv4 value (also for IPv4-mapped IPv6) and,
 * for IPv6, its first two hextets; `${p}4`, `${p}h1`, `${p}h2`.
 */
function addressColumns(col: string, p: string): string {
  const a = `lower(${col})`;
  const mapped = `${a} LIKE '::ffff:%.%'`;
  const hextet = (k: number) => `CAST(('0x' || CASE WHEN split_part(${a}, ':', ${k}) = '' THEN '0' ELSE split_part(${a}, ':', ${k}) END) AS INTEGER)`;
  return `CASE WHEN strpos(${a}, ':') = 0 THEN ${v4Value(a)} WHEN ${mapped} THEN ${v4Value(`substr(${a}, 8)`)} END AS ${p}4,
         CASE WHEN strpos(${a}, ':') > 0 AND NOT ${mapped} THEN ${hextet(1)} END AS ${p}h1,
         CASE WHEN strpos(${a}, ':') > 0 AND NOT ${mapped} THEN ${hextet(2)} END AS ${p}h2`;
}

/** SQL: SPEC §3 "public address" over the columns addressColumns made. */
function isPublic(col: string, p: string): string {
  return `(CASE
    WHEN ${p}4 IS NOT NULL THEN NOT (${V4_PRIVATE.map(v4Range).map(([lo, hi]) => `${p}4 BETWEEN ${lo} AND ${hi}`).join(' OR ')})
    WHEN lower(${col}) IN ('::', '::1') THEN false
    WHEN ${p}h1 BETWEEN 64512 AND 65023 THEN false -- fc00::/7
    WHEN ${p}h1 BETWEEN 65152 AND 65215 THEN false -- fe80::/10
    WHEN ${p}h1 >= 65280 THEN false -- ff00::/8
    WHEN ${p}h1 = 8193 AND ${p}h2 = 3512 THEN false -- 2001:db8::/32
    ELSE true END)`;
}

/** The whole of SPEC §3 (default thresholds) for an AWS v2 file: one statement. */
export function scanSql(file: string, windowSeconds = 21600): string {
  const cv = (x: string) => `CASE WHEN avg(${x}) = 0 THEN 0 ELSE stddev_pop(${x}) / avg(${x}) END`;
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
addresses AS (
  SELECT *, ${addressColumns('srcaddr', 's')}, ${addressColumns('dstaddr', 'd')} FROM flows
),
inbound AS (
  -- AWS v2 has no flow-direction: inbound = public source to non-public destination;
  -- responses (srcport < 1024 <= dstport) are not probes; v2 has no tcp-flags
  SELECT * FROM addresses
  WHERE ${isPublic('srcaddr', 's')} AND NOT ${isPublic('dstaddr', 'd')} AND NOT (srcport < 1024 AND dstport >= 1024)
),
per_endpoint AS (
  -- endpoint = (cloud, account, dstaddr); the cloud is aws and v2 carries no region (''),
  -- so regions = clouds = 1 for every key
  SELECT srcaddr, protocol, dstport, floor("start" / ${windowSeconds})::BIGINT AS win, account, dstaddr,
         count(*) AS f, sum(packets) AS p, sum(bytes) AS b, min("start") AS first_seen, max("end") AS last_seen
  FROM inbound
  GROUP BY ALL
),
per_key AS (
  SELECT win, srcaddr, protocol, dstport,
         count(*) AS endpoints, count(DISTINCT account) AS accounts, 1 AS regions, 1 AS clouds,
         sum(f) AS flows, coalesce(sum(p), 0) AS packets, coalesce(sum(b), 0) AS bytes,
         ${cv('p')} AS cv_packets, ${cv('b')} AS cv_bytes, ${cv('f')} AS cv_flows,
         min(first_seen) AS first_seen, max(last_seen) AS last_seen
  FROM per_endpoint
  GROUP BY ALL
  HAVING count(*) >= ${T.minEndpoints}
)
SELECT * FROM per_key
WHERE accounts >= ${T.minAccounts} AND regions >= ${T.minRegions} AND clouds >= ${T.minClouds}
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

export async function duckScan(file: string, threads: number): Promise<{ seconds: number; keys: DuckKey[] }> {
  const t0 = performance.now();
  const db = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const conn = await db.connect();
  const reader = await conn.runAndReadAll(scanSql(file));
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
