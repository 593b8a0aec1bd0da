/** Verdict files (SPEC §7): scans.ndjson and scans.csv, and the near misses beside them. */
import type { KeyVerdict } from '../engine/scan-table.js';
import { AtomicLineWriter } from './files.js';

export function isoTime(unixSeconds: number): string {
  return new Date(unixSeconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The SPEC §7 columns, in order. */
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
  const s = Array.isArray(x) ? x.join(';') : String(x);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Columns added after the SPEC §7 ones (the scanner IP's enrichment: country, asn, ...). */
export interface ExtraColumns {
  names: readonly string[];
  values(v: KeyVerdict): Record<string, string | number | null>;
}

/**
 * Write <base>.ndjson and <base>.csv: the SPEC §7 columns, then the extra columns, then
 * (near misses) a `failed` column naming the conditions.
 */
export function writeVerdicts(dir: string, base: string, verdicts: KeyVerdict[], windowSeconds: number, withFailed: boolean, extra?: ExtraColumns): void {
  const nd = new AtomicLineWriter(`${dir}/${base}.ndjson`);
  const csv = new AtomicLineWriter(`${dir}/${base}.csv`);
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
