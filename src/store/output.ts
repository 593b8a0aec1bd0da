/** Files of the history and export commands: JSON, CSV and (lists) plain text, written atomically. */
import { AtomicLineWriter, writeFileAtomic } from '../output/files.js';
import { isoTime } from '../output/verdicts.js';
import type { ScannerSummary } from './history.js';
import type { HistoryFigures, ScannerList } from './analysis.js';

export const SCANNER_COLUMNS = [
  'ip', 'days', 'first_day', 'last_day', 'first_seen', 'last_seen', 'scan_keys', 'ports', 'flows', 'packets', 'bytes',
  'max_endpoints', 'country', 'asn', 'as_org', 'actor',
] as const;

export function csvCell(x: unknown): string {
  if (x === null || x === undefined) return '';
  const s = Array.isArray(x) ? x.join(' ') : String(x);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** A scanner row as written: times in ISO-8601 UTC. */
export function scannerRecord(s: ScannerSummary & { top_ports?: string[] }): Record<string, unknown> {
  return { ...s, first_seen: isoTime(s.first_seen), last_seen: isoTime(s.last_seen) };
}

function writeCsv(path: string, columns: readonly string[], rows: Iterable<object>): void {
  const w = new AtomicLineWriter(path);
  w.line(columns.join(','));
  for (const r of rows) w.line(columns.map((c) => csvCell((r as Record<string, unknown>)[c])).join(','));
  w.close();
}

/** history.json, history_days.csv (histogram), history_per_day.csv, history_scanners.csv and .ndjson. */
export function writeHistory(out: string, figures: HistoryFigures, scanners: ScannerSummary[]): string[] {
  const files = ['history.json', 'history_days.csv', 'history_per_day.csv', 'history_scanners.csv', 'history_scanners.ndjson'];
  writeFileAtomic(`${out}/history.json`, JSON.stringify({ ...figures, files: { scanners_csv: files[3], scanners_ndjson: files[4] } }, null, 2) + '\n');
  writeCsv(`${out}/history_days.csv`, ['days', 'scanner_ips', 'share'], figures.days_observed.histogram);
  writeCsv(
    `${out}/history_per_day.csv`,
    ['day', 'scanner_ips', 'new_scanner_ips', 'scan_keys', 'ports', 'tcp_ports', 'udp_ports', 'flows', 'packets', 'bytes'],
    figures.per_day,
  );
  const rows = scanners.map(scannerRecord);
  writeCsv(`${out}/history_scanners.csv`, SCANNER_COLUMNS, rows);
  const nd = new AtomicLineWriter(`${out}/history_scanners.ndjson`);
  for (const r of rows) nd.line(JSON.stringify(r));
  nd.close();
  return files.map((f) => `${out}/${f}`);
}

/** <list>.txt (one IP a line, nothing else), <list>.csv and <list>.json. */
export function writeList(out: string, list: ScannerList): string[] {
  const base = `${out}/${list.list}`;
  writeFileAtomic(`${base}.txt`, list.scanners.map((s) => s.ip + '\n').join(''));
  const rows = list.scanners.map(scannerRecord);
  writeCsv(`${base}.csv`, [...SCANNER_COLUMNS, 'top_ports'], rows);
  const { scanners: _, ...head } = list;
  writeFileAtomic(`${base}.json`, JSON.stringify({ ...head, count: rows.length, scanners: rows }, null, 1) + '\n');
  return ['txt', 'csv', 'json'].map((e) => `${base}.${e}`);
}
