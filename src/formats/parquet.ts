/**
 * Parquet flow logs, read with hyparquet (pure JavaScript; gzip, zstd, brotli and lz4
 * pages through hyparquet-compressors):
 * - AWS VPC Flow Logs in Parquet (the `parquet` file format option, Hive-compatible S3
 *   prefixes): one column per field, the text format's names with '_' for '-'
 *   (account_id, srcaddr, log_status, ...).
 * - Amazon Security Lake VPC flow logs: OCSF 1.x Network Activity (class 4001) in Parquet,
 *   nested columns src_endpoint.ip/port, dst_endpoint.ip/port, connection_info.protocol_num,
 *   direction_id and tcp_flags, traffic.packets/bytes, start_time/end_time (epoch ms),
 *   cloud.account.uid, cloud.region, disposition or action_id.
 * Each row becomes the AWS text line it stands for and goes through the AWS text parser
 * (aws.ts), one row group at a time: the records, their checks and rejects are those
 * of the same flows written as text. Line numbers in rejects are row numbers + 1 (line 1
 * is the field list).
 */
import type { FileMetaData } from 'hyparquet';
import { awsText } from './aws.js';
import type { DocumentReader, ReaderContext } from './types.js';

const MAGIC = [0x50, 0x41, 0x52, 0x31]; // "PAR1"
/** Rows turned into text and parsed at a time (bounds the text held, not the decode). */
const LINES_A_PIECE = 16384;

/** The AWS text field list OCSF rows are written as. */
const OCSF_FIELDS = 'account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status region flow-direction tcp-flags';

type Row = Record<string, unknown>;

export const parquetReader: DocumentReader = {
  kind: 'document',
  name: 'parquet',
  sniff: (head) => MAGIC.every((b, i) => head.bytes[i] === b),
  parseDocument: parseParquet,
};

async function parseParquet(buf: Uint8Array, ctx: ReaderContext): Promise<void> {
  // loaded on the first Parquet file: ~90 modules that every other run (and thread) skips
  const [{ parquetMetadata, parquetReadObjects }, { compressors }] = await Promise.all([import('hyparquet'), import('hyparquet-compressors')]);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  let meta: FileMetaData;
  try {
    meta = parquetMetadata(file);
  } catch (err) {
    throw new Error(`parquet: cannot read the file's metadata: ${(err as Error).message}`);
  }
  const top = topLevelColumns(meta.schema);
  const ocsf = top.includes('src_endpoint') && top.includes('dst_endpoint');
  if (!ocsf && !(top.includes('srcaddr') && top.includes('dstaddr'))) {
    throw new Error(`parquet: neither AWS flow-log columns (srcaddr, dstaddr, ...) nor OCSF network activity (src_endpoint, dst_endpoint): columns ${top.slice(0, 12).join(', ')}`);
  }
  const header = ocsf ? OCSF_FIELDS : top.join(' ');
  const parser = awsText.open({ ...ctx, headerLine: header });
  const feed = (text: string, firstLine: number) => {
    const bytes = Buffer.from(text);
    parser.parseLines(bytes, 0, bytes.length, firstLine, -1);
  };
  feed(`${header}\n`, 1);
  // one row group at a time: a row range inside a group decodes the whole group, so smaller
  // pieces would decode each group many times over
  let start = 0;
  for (const group of meta.row_groups) {
    const end = start + Number(group.num_rows);
    const objects = (await parquetReadObjects({ file, compressors, rowStart: start, rowEnd: end })) as Row[];
    for (let k = 0; k < objects.length; k += LINES_A_PIECE) {
      const lines = objects.slice(k, k + LINES_A_PIECE).map((r) => (ocsf ? ocsfLine(r) : awsLine(r, top)));
      feed(lines.join('\n') + '\n', start + k + 2);
    }
    start = end;
  }
}

/** Names of the schema's top-level fields (the root's children). */
function topLevelColumns(schema: Array<{ name: string; num_children?: number }>): string[] {
  const names: string[] = [];
  let i = 1;
  const skip = (k: number): number => {
    const n = schema[k]?.num_children ?? 0;
    let next = k + 1;
    for (let c = 0; c < n; c++) next = skip(next);
    return next;
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0); c++) {
    names.push(schema[i]!.name);
    i = skip(i);
  }
  return names;
}

/** A value as an AWS text field: '-' for null, no spaces inside. */
function field(v: unknown): string {
  if (v === null || v === undefined || v === '') return '-';
  const s = typeof v === 'string' ? v : String(v);
  return /\s/.test(s) ? s.replace(/\s+/g, '_') : s;
}

function awsLine(r: Row, columns: string[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) line += (i ? ' ' : '') + field(r[columns[i]!]);
  return line;
}

const get = (r: Row, path: string): unknown => {
  let v: unknown = r;
  for (const k of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Row)[k];
  }
  return v;
};

/** Epoch milliseconds (a number or bigint) as whole seconds, '-' when absent. */
function seconds(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'bigint') return String(v / 1000n);
  if (v instanceof Date) return String(Math.floor(v.getTime() / 1000));
  return String(Math.floor(Number(v) / 1000));
}

/** OCSF disposition (Allowed/Denied/Blocked...) or action_id (1 allowed, 2 denied) as ACCEPT/REJECT. */
function actionOf(r: Row): string {
  const d = String(get(r, 'disposition') ?? get(r, 'action') ?? '').toLowerCase();
  if (d.startsWith('allow') || d === 'accept') return 'ACCEPT';
  if (d.startsWith('den') || d.startsWith('block') || d.startsWith('reject') || d.startsWith('drop')) return 'REJECT';
  const id = Number(get(r, 'action_id') ?? get(r, 'disposition_id'));
  return id === 1 ? 'ACCEPT' : id === 2 ? 'REJECT' : '-';
}

/** OCSF connection_info.direction_id: 1 inbound, 2 outbound (AWS flow-direction ingress/egress). */
function directionOf(r: Row): string {
  const id = Number(get(r, 'connection_info.direction_id'));
  return id === 1 ? 'ingress' : id === 2 ? 'egress' : '-';
}

function ocsfLine(r: Row): string {
  return [
    field(get(r, 'cloud.account.uid')),
    field(get(r, 'src_endpoint.interface_uid')),
    field(get(r, 'src_endpoint.ip')),
    field(get(r, 'dst_endpoint.ip')),
    field(get(r, 'src_endpoint.port')),
    field(get(r, 'dst_endpoint.port')),
    field(get(r, 'connection_info.protocol_num')),
    field(get(r, 'traffic.packets')),
    field(get(r, 'traffic.bytes')),
    seconds(get(r, 'start_time')),
    seconds(get(r, 'end_time')),
    actionOf(r),
    'OK',
    field(get(r, 'cloud.region')),
    directionOf(r),
    field(get(r, 'connection_info.tcp_flags')),
  ].join(' ');
}
