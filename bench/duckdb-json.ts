/**
 * SPEC §3 as ONE DuckDB statement over JSON flow logs, `read_json` per container
 * (issue 19, target 4), the aggregation shared with bench/duckdb-bucket.ts:
 *
 * - Azure (formats.md §2): `{"records":[…]}` PT1H.json blobs, NSG ones under
 *   `insights-logs-networksecuritygroupflowevent/` and VNet ones under
 *   `insights-logs-flowlogflowevent/` (the folders Azure writes, and `flowsieve generate`
 *   does). The nested records are flattened with unnest (records → properties.flows[] →
 *   flows[] → flowTuples, or records → flowRecords.flows[] → flowGroups[] → flowTuples)
 *   and each tuple string cut with string_split, read as src/azure-nsg.ts and
 *   azure-vnet.ts read it: time in seconds or milliseconds by magnitude, NSG T/U
 *   protocols, counts known only in states C and E of allowed flows, account = the
 *   subscription id of the resource id (lower case).
 * - GCP (formats.md §3): NDJSON LogEntries; the reporter is the monitored side (DEST
 *   ingress, SRC egress), account = that side's project, a SRC copy of a flow whose
 *   destination is a VM left out (src/formats/gcp.ts), int64 counts from strings.
 *
 * Region is not read (the default thresholds need one region; flowsieve's comes from
 * --region-map), so keys are compared without it. Columns are given explicitly, so
 * nothing is sampled or inferred.
 *
 * Usage: node dist/bench/duckdb-json.js DIR --cloud azure|gcp --threads N [--out keys.json]
 * Prints one JSON line: { seconds, keys }.
 */
import { writeFileSync } from 'node:fs';
import { arg } from './args.js';
import { duckBucket, spec3Sql } from './duckdb-bucket.js';

const q = (s: string) => `'${s.replace(/'/g, "''")}'`;

const NSG_RECORDS =
  'STRUCT(resourceId VARCHAR, properties STRUCT(Version INTEGER, flows STRUCT(flows STRUCT(mac VARCHAR, flowTuples VARCHAR[])[])[]))[]';
const VNET_RECORDS =
  'STRUCT(targetResourceID VARCHAR, flowLogResourceID VARCHAR, flowRecords STRUCT(flows STRUCT(flowGroups STRUCT(flowTuples VARCHAR[])[])[]))[]';

/** One blob glob's records as (account, f: the tuple's fields). */
function azureTuples(glob: string, records: string, idExpr: string, path: [string, string, string]): string {
  const [outer, inner, tuples] = path;
  return `SELECT lower(regexp_extract(rid, '(?i)^/?subscriptions/([^/]+)', 1)) AS account, string_split(t, ',') AS f
    FROM (SELECT rid, unnest(i.${tuples}) AS t
      FROM (SELECT rid, unnest(o.${inner}) AS i
        FROM (SELECT rid, unnest(${outer}) AS o
          FROM (SELECT ${idExpr} AS rid, rec
            FROM (SELECT unnest(records) AS rec FROM read_json(${q(glob)}, format = 'auto', records = true,
              maximum_object_size = 1073741824, columns = {records: ${q(records)}}))))))`;
}

/** A tuple's time (field 1) as Unix seconds: milliseconds when it is that large. */
const TUPLE_SECONDS = `CASE WHEN f[1]::BIGINT >= 100000000000 THEN f[1]::BIGINT // 1000 ELSE f[1]::BIGINT END`;

/** Azure NSG (v1: 8 fields, v2: 13) and VNet tuples as normalised flows. */
export function azureFlows(dir: string): string {
  const nsg = azureTuples(`${dir}/insights-logs-networksecuritygroupflowevent/**/*.json`, NSG_RECORDS, 'rec.resourceId', [
    'rec.properties.flows',
    'flows',
    'flowTuples',
  ]);
  const vnet = azureTuples(
    `${dir}/insights-logs-flowlogflowevent/**/*.json`,
    VNET_RECORDS,
    'coalesce(rec.targetResourceID, rec.flowLogResourceID)',
    ['rec.flowRecords.flows', 'flowGroups', 'flowTuples'],
  );
  const common = (proto: string, counted: string) => `SELECT account, nullif(f[2], '') AS srcaddr, nullif(f[3], '') AS dstaddr,
      f[4]::INTEGER AS srcport, f[5]::INTEGER AS dstport, ${proto} AS protocol,
      CASE WHEN ${counted} THEN nullif(f[10], '')::BIGINT END AS packets, CASE WHEN ${counted} THEN nullif(f[11], '')::BIGINT END AS bytes,
      ${TUPLE_SECONDS} AS "start", ${TUPLE_SECONDS} AS "end", 'OK' AS status,
      CASE f[7] WHEN 'I' THEN 'ingress' WHEN 'O' THEN 'egress' END AS direction, NULL::INTEGER AS tcp_flags, '' AS region`;
  return `${common(`CASE f[6] WHEN 'T' THEN 6 WHEN 'U' THEN 17 ELSE f[6]::INTEGER END`, `len(f) = 13 AND f[8] = 'A' AND f[9] IN ('C', 'E')`)}
    FROM (${nsg})
  UNION ALL
  ${common('f[6]::INTEGER', `f[8] IN ('C', 'E')`)}
    FROM (${vnet})`;
}

const GCP_SIDE = 'STRUCT(project_id VARCHAR)';
const GCP_COLUMNS = `{logName: 'VARCHAR', resource: 'STRUCT(labels STRUCT(project_id VARCHAR))', jsonPayload: 'STRUCT(
  connection STRUCT(src_ip VARCHAR, dest_ip VARCHAR, src_port INTEGER, dest_port INTEGER, protocol INTEGER),
  reporter VARCHAR, start_time VARCHAR, end_time VARCHAR, bytes_sent VARCHAR, packets_sent VARCHAR,
  src_instance ${GCP_SIDE}, dest_instance ${GCP_SIDE}, src_vpc ${GCP_SIDE}, dest_vpc ${GCP_SIDE})'}`;

/** RFC 3339 UTC time as Unix seconds, the fraction dropped. */
const rfc3339 = (col: string) => `epoch(strptime(substr(${col}, 1, 19), '%Y-%m-%dT%H:%M:%S'))::BIGINT`;

/** GCP NDJSON LogEntries (no gateways: none are generated) as normalised flows. */
export function gcpFlows(dir: string): string {
  const side = (s: 'src' | 'dest') =>
    `coalesce(p.${s}_instance.project_id, p.${s}_vpc.project_id, regexp_extract(logName, '^projects/([^/]+)/', 1), resource.labels.project_id)`;
  return `SELECT CASE p.reporter WHEN 'DEST' THEN ${side('dest')} ELSE ${side('src')} END AS account,
      p.connection.src_ip AS srcaddr, p.connection.dest_ip AS dstaddr,
      coalesce(p.connection.src_port, 0) AS srcport, coalesce(p.connection.dest_port, 0) AS dstport, p.connection.protocol AS protocol,
      p.packets_sent::BIGINT AS packets, p.bytes_sent::BIGINT AS bytes, ${rfc3339('p.start_time')} AS "start", ${rfc3339('p.end_time')} AS "end",
      'OK' AS status, CASE p.reporter WHEN 'DEST' THEN 'ingress' WHEN 'SRC' THEN 'egress' END AS direction,
      NULL::INTEGER AS tcp_flags, '' AS region
    FROM (SELECT jsonPayload AS p, logName, resource FROM read_json(${q(`${dir}/**/*.json`)}, format = 'newline_delimited',
      columns = ${GCP_COLUMNS}))
    WHERE NOT (p.reporter = 'SRC' AND p.dest_instance IS NOT NULL)`;
}

export const jsonSql = (dir: string, cloud: 'azure' | 'gcp') => spec3Sql(cloud === 'azure' ? azureFlows(dir) : gcpFlows(dir));

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  const cloud = arg('cloud');
  if (!dir || (cloud !== 'azure' && cloud !== 'gcp')) {
    process.stderr.write('usage: node dist/bench/duckdb-json.js DIR --cloud azure|gcp --threads N [--out keys.json]\n');
    process.exit(1);
  }
  const r = await duckBucket(dir, 0, Number(arg('threads') ?? 2), jsonSql(dir, cloud));
  const out = arg('out');
  if (out) writeFileSync(out, JSON.stringify(r.keys));
  process.stdout.write(JSON.stringify({ seconds: r.seconds, keys: r.keys.length }) + '\n');
}
