/**
 * detection.md §3 as ONE DuckDB statement over a bucket of AWS flow logs in several layouts
 * (bench/gen-bucket.ts): a `read_csv(..., filename = true)` per layout over the globs of
 * its flow logs, UNION ALL, then the same aggregation as bench/duckdb-scan.ts. The
 * direction rule of detection.md §3: `flow-direction` where the layout has it, otherwise the
 * destination is not public; responses and (where the layout has tcp-flags) backscatter
 * are not probes. Account from the record, region from the S3 key (unused by the
 * default thresholds).
 *
 * Usage: node dist/bench/duckdb-bucket.js DIR --logs L --threads N [--out keys.json]
 *        node dist/bench/duckdb-bucket.js FILE --layout L --threads N [--out keys.json]
 * Prints one JSON line: { seconds, keys }.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { arg } from './args.js';
import { NON_PUBLIC_RE, duckKeys, perKeySql } from './duckdb-scan.js';
import { HEADERS, flowLogs, type Layout } from './gen-bucket.js';

const NUMERIC = new Set(['version', 'srcport', 'dstport', 'protocol', 'tcp-flags', 'traffic-path']);
const BIG = new Set(['packets', 'bytes', 'start', 'end']);

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;
const isPublic = (col: string) => `NOT regexp_matches(lower(${col}), '${NON_PUBLIC_RE}')`;

/** One layout's files as normalised flows: account, addresses, ports, counts, times, status, direction, flags. */
function layoutFlows(layout: Layout, globs: string[]): string {
  const fields = HEADERS[layout].split(' ');
  const columns = fields.map((f) => `${q(f)}: ${q(NUMERIC.has(f) ? 'INTEGER' : BIG.has(f) ? 'BIGINT' : 'VARCHAR')}`).join(', ');
  const has = (f: string) => fields.includes(f);
  return `SELECT "account-id" AS account, srcaddr, dstaddr, srcport, dstport, protocol, packets, bytes, "start", "end", "log-status" AS status,
    ${has('flow-direction') ? '"flow-direction"' : 'NULL::VARCHAR'} AS direction, ${has('tcp-flags') ? '"tcp-flags"' : 'NULL::INTEGER'} AS tcp_flags,
    regexp_extract(filename, 'vpcflowlogs/([^/]+)/', 1) AS region
  FROM read_csv([${globs.map(q).join(', ')}], delim = ' ', header = ${layout === 'v2-plain' ? 'false' : 'true'}, nullstr = '-',
    auto_detect = false, filename = true, columns = {${columns}})`;
}

export function bucketSql(dir: string, logs: number, windowSeconds = 21600): string {
  const byLayout = new Map<Layout, string[]>();
  for (const l of flowLogs(logs)) {
    if (!existsSync(`${dir}/${l.dir}`)) continue; // a part of the bucket (one file: the start-up figure)
    const g = byLayout.get(l.layout) ?? [];
    g.push(`${dir}/${l.dir}/**/*.log.gz`);
    byLayout.set(l.layout, g);
  }
  return scanSql(byLayout, windowSeconds);
}

/** detection.md §3 over files grouped by layout (paths or globs). */
export function scanSql(byLayout: Map<Layout, string[]>, windowSeconds = 21600): string {
  return spec3Sql([...byLayout].map(([layout, globs]) => layoutFlows(layout, globs)).join('\n  UNION ALL\n  '), windowSeconds);
}

/**
 * SPEC §3 over `flows`: a SELECT of normalised flows (account, srcaddr, dstaddr, srcport,
 * dstport, protocol, packets, bytes, "start", "end", status, direction, tcp_flags, region).
 */
export function spec3Sql(flows: string, windowSeconds = 21600): string {
  return `
WITH flows AS (
  ${flows}
),
inbound AS (
  SELECT * FROM flows
  WHERE status = 'OK' AND srcaddr IS NOT NULL AND dstaddr IS NOT NULL
    AND ${isPublic('srcaddr')}
    AND (CASE WHEN direction IS NOT NULL THEN direction = 'ingress' ELSE NOT (${isPublic('dstaddr')}) END)
    AND NOT (srcport < 1024 AND dstport >= 1024 AND protocol NOT IN (1, 58))
    AND NOT (protocol = 6 AND coalesce(tcp_flags, -1) IN (18, 4, 22))
),
per_endpoint AS (
  SELECT srcaddr, protocol, dstport, floor("start" / ${windowSeconds})::BIGINT AS win, account, dstaddr,
         count(*) AS f, sum(packets) AS p, sum(bytes) AS b, min("start") AS first_seen, max("end") AS last_seen,
         any_value(region) AS region
  FROM inbound
  GROUP BY srcaddr, protocol, dstport, win, account, dstaddr
),
${perKeySql('count(DISTINCT region) AS regions', false)}`;
}

export const duckBucket = (dir: string, logs: number, threads: number, sql = bucketSql(dir, logs)) => duckKeys(sql, threads);

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    process.stderr.write('usage: node dist/bench/duckdb-bucket.js DIR --logs L --threads N [--out keys.json]\n');
    process.exit(1);
  }
  // --layout L: DIR is one text file in layout L (bench/bucket.ts joins a layout's files into one)
  const layout = arg('layout') as Layout | undefined;
  const sql = layout ? scanSql(new Map([[layout, [dir]]])) : undefined;
  const r = await duckBucket(dir, Number(arg('logs') ?? 10), Number(arg('threads') ?? 2), sql);
  const out = arg('out');
  if (out) writeFileSync(out, JSON.stringify(r.keys));
  process.stdout.write(JSON.stringify({ seconds: r.seconds, keys: r.keys.length }) + '\n');
}
