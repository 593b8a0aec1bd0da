/** Verdict files (detection.md §7): scans.ndjson and scans.csv, and the near misses beside them. */
import type { KeyVerdict } from '../engine/verdict.js';
import { AtomicLineWriter, NOW, type OutputFiles } from './files.js';
import type { OutboundAlert } from '../detect/outbound.js';

/**
 * `YYYY-MM-DDTHH:MM:SSZ`: toISOString less its milliseconds. Whole seconds of years 1970-9999
 * from the day's text, kept for the next call (the verdicts come window by window), and the
 * time of day by arithmetic: a Date and its text a call cost ~1.5 us in the run's serial end,
 * where each of the ~4,000 calls on the 7 M-record bucket runs once, cold (bench/RESULTS.md,
 * session 20 tailmain). Other times through the Date, as before.
 */
export function isoTime(unixSeconds: number): string {
  if (!(Number.isInteger(unixSeconds) && unixSeconds >= 0 && unixSeconds < LAST_DAY_END)) return new Date(unixSeconds * 1000).toISOString().slice(0, -5) + 'Z';
  const day = Math.floor(unixSeconds / DAY);
  if (day !== isoDay) {
    isoDay = day;
    isoDayText = new Date(day * DAY * 1000).toISOString().slice(0, 11); // YYYY-MM-DDT
  }
  const s = unixSeconds - day * DAY;
  return `${isoDayText}${twoDigits(Math.floor(s / 3600))}:${twoDigits(Math.floor(s / 60) % 60)}:${twoDigits(s % 60)}Z`;
}

const DAY = 86400;
/** 10000-01-01T00:00:00Z: toISOString writes later years with six digits and a sign */
const LAST_DAY_END = 253402300800;
let isoDay = -1;
let isoDayText = '';
const twoDigits = (x: number): string => (x < 10 ? `0${x}` : `${x}`);

/** The detection.md §7 columns, in order. */
export const SCAN_COLUMNS = [
  'window_start', 'window_end', 'src', 'protocol', 'dst_port', 'endpoints', 'clouds', 'accounts', 'regions',
  'flows', 'packets', 'bytes', 'cv_packets', 'cv_bytes', 'cv_flows', 'first_seen', 'last_seen',
] as const;

export type ScanRecord = Record<(typeof SCAN_COLUMNS)[number], string | number | null> & { failed?: string[] };

/** CVs are rounded to 6 decimals in the output: the exact value decided the verdict. */
function cv(x: number | null): number | null {
  return x === null ? null : Math.round(x * 1e6) / 1e6;
}

export function scanRecord(v: KeyVerdict, windowSeconds: number): ScanRecord {
  return {
    window_start: isoTime(v.window * windowSeconds),
    window_end: isoTime((v.window + 1) * windowSeconds),
    src: v.src,
    protocol: v.protocol,
    dst_port: v.dstPort,
    endpoints: v.endpoints,
    clouds: v.clouds,
    accounts: v.accounts,
    regions: v.regions,
    flows: v.flows,
    packets: v.packets,
    bytes: v.bytes,
    cv_packets: cv(v.cvPackets),
    cv_bytes: cv(v.cvBytes),
    cv_flows: cv(v.cvFlows),
    first_seen: isoTime(v.firstSeen),
    last_seen: isoTime(v.lastSeen),
  };
}

function csvCell(x: unknown): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'number') return String(x); // no quote, comma or line break in a number: no pattern test (most cells)
  const s = Array.isArray(x) ? x.join(';') : String(x);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Columns added after the detection.md §7 ones (the scanner IP's enrichment: country, asn, ...). */
export interface ExtraColumns {
  names: readonly string[];
  values(v: KeyVerdict): Record<string, string | number | null>;
}

/**
 * Write <base>.ndjson and <base>.csv: the detection.md §7 columns, then the extra columns, then
 * (near misses) a `failed` column naming the conditions.
 */
export function writeVerdicts(dir: string, base: string, verdicts: KeyVerdict[], windowSeconds: number, withFailed: boolean, extra?: ExtraColumns, files: OutputFiles = NOW): void {
  const nd = files.lines(`${dir}/${base}.ndjson`);
  const csv = files.lines(`${dir}/${base}.csv`);
  const cols: string[] = [...SCAN_COLUMNS, ...(extra?.names ?? []), ...(withFailed ? ['failed'] : [])];
  csv.line(cols.join(','));
  for (const v of verdicts) {
    const rec = scanRecord(v, windowSeconds);
    if (extra) Object.assign(rec, extra.values(v));
    if (withFailed) rec.failed = v.failed;
    nd.line(JSON.stringify(rec));
    csv.line(cols.map((c) => csvCell((rec as Record<string, unknown>)[c])).join(','));
  }
  nd.close();
  csv.close();
}

/** Outbound alert columns (detection.md §7 style), in order. */
export const ALERT_COLUMNS = [
  'window_start', 'window_end', 'cloud', 'account', 'region', 'src', 'protocol', 'dst_port', 'kind', 'target', 'targets',
  'ports', 'port_list', 'flows', 'packets', 'bytes', 'cv_packets', 'cv_bytes', 'cv_flows', 'interface', 'instance',
  'severity', 'worm_signature', 'looks_like_nat', 'first_seen', 'last_seen',
] as const;

export function alertRecord(a: OutboundAlert, windowSeconds: number): Record<string, unknown> {
  return {
    window_start: isoTime(a.window * windowSeconds),
    window_end: isoTime((a.window + 1) * windowSeconds),
    cloud: a.cloud,
    account: a.account,
    region: a.region,
    src: a.src,
    protocol: a.protocol,
    dst_port: a.dstPort,
    kind: a.kind,
    target: a.target,
    targets: a.targets,
    ports: a.ports,
    port_list: a.portList,
    flows: a.flows,
    packets: a.packets,
    bytes: a.bytes,
    cv_packets: cv(a.cvPackets),
    cv_bytes: cv(a.cvBytes),
    cv_flows: cv(a.cvFlows),
    interface: a.iface || null,
    instance: a.instance || null,
    severity: a.severity,
    worm_signature: a.wormSignature,
    looks_like_nat: a.looksLikeNat,
    first_seen: isoTime(a.firstSeen),
    last_seen: isoTime(a.lastSeen),
  };
}

/** outbound.ndjson and outbound.csv. */
export function writeAlerts(dir: string, alerts: OutboundAlert[], windowSeconds: number): void {
  const nd = new AtomicLineWriter(`${dir}/outbound.ndjson`);
  const csv = new AtomicLineWriter(`${dir}/outbound.csv`);
  csv.line(ALERT_COLUMNS.join(','));
  for (const a of alerts) {
    const rec = alertRecord(a, windowSeconds);
    nd.line(JSON.stringify(rec));
    csv.line(ALERT_COLUMNS.map((c) => csvCell(rec[c])).join(','));
  }
  nd.close();
  csv.close();
}
