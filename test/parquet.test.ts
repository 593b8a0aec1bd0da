/**
 * Parquet inputs: AWS VPC Flow Logs in Parquet and Amazon Security Lake's OCSF network
 * activity in Parquet give the verdicts of the same records as AWS text. The Parquet files
 * are written by DuckDB (a different implementation than the reader's) from the text logs:
 * AWS columns with the text field names ('_' for '-', gzip pages), OCSF nested columns
 * (zstd pages) with times in milliseconds.
 */
import { describe, expect, it, beforeAll } from 'vitest';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tempDir } from './helpers/tmp.js';
import { generatedLogs } from './helpers/buckets.js';
import { runDetect } from './helpers/run.js';

const dir = tempDir('flowsieve-parquet-');
let root = '';
let keys: string[] = [];
const awsDir = join(dir, 'aws-parquet');
const ocsfDir = join(dir, 'ocsf-parquet');
const sql = (s: string) => s.replace(/'/g, "''");

beforeAll(async () => {
  ({ root, keys } = await generatedLogs(dir, 'aws', 1, 3));
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  for (const k of keys) {
    const src = `read_csv('${sql(join(root, k))}', delim=' ', header=true, all_varchar=true)`;
    const cols = (await (await db.run(`DESCRIBE SELECT * FROM ${src}`)).getRowObjects()).map((r: any) => String(r.column_name));
    const out = k.replace(/\.log(\.gz)?$/, '.parquet');
    mkdirSync(dirname(join(awsDir, out)), { recursive: true });
    mkdirSync(dirname(join(ocsfDir, out)), { recursive: true });
    // AWS Parquet: the same columns, named as AWS names them in Parquet
    const select = cols.map((c) => `"${c}" AS ${c.replace(/-/g, '_')}`).join(', ');
    await db.run(`COPY (SELECT ${select} FROM ${src}) TO '${sql(join(awsDir, out))}' (FORMAT parquet, COMPRESSION gzip)`);
    // Security Lake: OCSF network activity, nested, epoch milliseconds; the region from the key
    const region = /vpcflowlogs\/([^/]+)\//.exec(k)![1]!;
    const direction = cols.includes('flow-direction') ? `CASE "flow-direction" WHEN 'ingress' THEN 1 WHEN 'egress' THEN 2 ELSE 0 END` : '0';
    const tcpFlags = cols.includes('tcp-flags') ? `TRY_CAST("tcp-flags" AS INT)` : 'NULL::INT';
    await db.run(`COPY (SELECT
        4001 AS class_uid,
        {'ip': srcaddr, 'port': srcport::INT, 'interface_uid': "interface-id"} AS src_endpoint,
        {'ip': dstaddr, 'port': dstport::INT} AS dst_endpoint,
        {'protocol_num': protocol::INT, 'direction_id': ${direction}, 'tcp_flags': ${tcpFlags}} AS connection_info,
        {'packets': packets::BIGINT, 'bytes': bytes::BIGINT} AS traffic,
        start::BIGINT * 1000 AS start_time, "end"::BIGINT * 1000 AS end_time,
        {'provider': 'AWS', 'region': '${region}', 'account': {'uid': "account-id"}} AS cloud,
        CASE action WHEN 'ACCEPT' THEN 'Allowed' ELSE 'Denied' END AS disposition
      FROM ${src} WHERE "log-status" = 'OK' AND srcaddr <> '-') TO '${sql(join(ocsfDir, out))}' (FORMAT parquet, COMPRESSION zstd)`);
  }
}, 120_000);

describe('Parquet flow logs', () => {
  it('AWS Parquet gives the verdicts and counts of the same records as text', async () => {
    const text = await runDetect([root]);
    const parquet = await runDetect([awsDir]);
    expect(text.scans.length).toBeGreaterThan(5);
    expect(parquet.files.every((f: any) => f.format === 'parquet' && !f.error)).toBe(true);
    expect(parquet.scans).toEqual(text.scans);
    expect(parquet.endpointDays).toEqual(text.endpointDays);
    expect({ ...parquet.totals, headers: 0 }).toEqual({ ...text.totals, headers: 0 });
  }, 60_000);

  it('Security Lake OCSF Parquet gives the verdicts of the same records as text', async () => {
    const text = await runDetect([root]);
    const ocsf = await runDetect([ocsfDir]);
    expect(ocsf.files.every((f: any) => f.format === 'parquet' && !f.error)).toBe(true);
    expect(ocsf.scans).toEqual(text.scans);
    expect(ocsf.totals.records).toBe(text.totals.records); // the NODATA rows are not written to OCSF
    expect(ocsf.endpointDays).toEqual(text.endpointDays);
  }, 60_000);

  it('a damaged Parquet file is named and the run is partial', async () => {
    const { writeFileSync } = await import('node:fs');
    const good = readFileSync(join(awsDir, keys[0]!.replace(/\.log(\.gz)?$/, '.parquet')));
    const bad = join(dir, 'bad.parquet');
    writeFileSync(bad, good.subarray(0, Math.floor(good.length / 2)));
    const r = await runDetect([bad], { workers: 1 });
    expect(r.partial).toBe(true);
    expect(r.files[0].error).toMatch(/parquet/i);
  }, 60_000);
});
