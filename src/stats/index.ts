/**
 * The analyst's statistics of one run (detection.md §5), computed from the run's scan verdicts
 * and the engine's endpoint-day facts, with the scanner IPs' enrichment when there is one.
 * `analyse` computes; `writeStats` writes <out>/stats/ and returns the `stats` section of
 * summary.json. The files and fields are described in docs/statistics.md.
 */
import type { KeyVerdict, EndpointDay } from '../engine/verdict.js';
import type { Enrichment } from '../enrich/index.js';
import { NOW, type OutputFiles } from '../output/files.js';
import { dailyStats, type DayStats } from './daily.js';
import { endpointRows, endpointStats, type EndpointDayRow, type EndpointSummary } from './endpoints.js';
import { portStats, type PortStats } from './ports.js';
import { sourceStats, type SourceStats } from './sources.js';

export const STATS_SCHEMA_VERSION = 1;

export interface AnalysisInput {
  scans: readonly KeyVerdict[];
  /** Per endpoint-day facts from the engine; undefined when the engine gave none. */
  endpointDays?: readonly EndpointDay[];
  windowSeconds: number;
  enrichment?: Enrichment | null;
  /** Length of the top lists (ports per protocol, countries, networks). */
  topN: number;
}

export interface Analysis {
  days: DayStats[];
  endpoints: { per_day: EndpointSummary[]; all: EndpointSummary } | null;
  endpointRows: EndpointDayRow[];
  ports: PortStats;
  sources: SourceStats;
  enrichment: Enrichment | null;
  topN: number;
  windowSeconds: number;
}

export function analyse(input: AnalysisInput): Analysis {
  const facts = input.enrichment?.facts ?? new Map();
  return {
    days: dailyStats(input.scans, input.windowSeconds),
    endpoints: input.endpointDays ? endpointStats(input.endpointDays) : null,
    endpointRows: input.endpointDays ? endpointRows(input.endpointDays) : [],
    ports: portStats(input.scans, input.windowSeconds, input.topN),
    sources: sourceStats(input.scans, input.windowSeconds, facts),
    enrichment: input.enrichment ?? null,
    topN: input.topN,
    windowSeconds: input.windowSeconds,
  };
}

/** Files under <out>/stats/, relative to <out>. */
export const STATS_FILES = {
  daily: 'stats/daily.json',
  endpoints: 'stats/endpoints.ndjson',
  ports: 'stats/ports.csv',
  ports_ndjson: 'stats/ports.ndjson',
  ports_daily: 'stats/ports_daily.ndjson',
  scanners: 'stats/scanners.ndjson',
  scanners_csv: 'stats/scanners.csv',
  countries: 'stats/countries.csv',
  networks: 'stats/networks.csv',
  actors: 'stats/actors.json',
} as const;

/** Files that exist only when the scanner IPs were enriched (country, network, actor). */
const ENRICHED_FILES = ['countries', 'networks', 'actors'] as const;

/**
 * The `stats` section of summary.json: everything a report needs, top lists cut to topN.
 * Without enrichment (--no-enrich) countries, networks and actors are null: not known,
 * rather than one row of unknowns.
 */
export function statsSummary(a: Analysis): Record<string, unknown> {
  const s = a.sources;
  const enriched = a.enrichment !== null;
  const files: Record<string, string> = { ...STATS_FILES };
  if (!enriched) for (const k of ENRICHED_FILES) delete files[k];
  return {
    schema: STATS_SCHEMA_VERSION,
    window_seconds: a.windowSeconds,
    scanner_ips: s.scanners.length,
    days: a.days,
    endpoints: a.endpoints,
    ports: {
      distinct: a.ports.ports.length,
      top_per_protocol: a.ports.top,
      top3_by_flows: a.ports.top3_by_flows,
      top3_by_scanner_ips: a.ports.top3_by_scanner_ips,
      service_names: a.ports.service_source,
    },
    countries: enriched ? { distinct: s.countries.length, top: s.countries.slice(0, a.topN) } : null,
    networks: enriched ? { distinct: s.networks.length, top: s.networks.slice(0, a.topN) } : null,
    actors: enriched ? { labelled_scanner_ips: s.labelled_scanner_ips, table: s.actors } : null,
    enrichment: a.enrichment
      ? { sources: a.enrichment.sources, rdns: a.enrichment.rdns, warnings: a.enrichment.warnings }
      : null,
    files,
  };
}

function csvCell(x: unknown): string {
  if (x === null || x === undefined) return '';
  if (typeof x === 'number') return String(x); // no quote, comma or line break in a number: no pattern test (most cells)
  const t = Array.isArray(x) ? x.join(';') : String(x);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

function writeCsv(files: OutputFiles, path: string, columns: readonly string[], rows: readonly object[]): void {
  const w = files.lines(path);
  w.line(columns.join(','));
  for (const r of rows) w.line(columns.map((c) => csvCell((r as Record<string, unknown>)[c])).join(','));
  w.close();
}

function writeNdjson(files: OutputFiles, path: string, rows: readonly object[]): void {
  const w = files.lines(path);
  for (const r of rows) w.line(JSON.stringify(r));
  w.close();
}

/** Write every statistics file under out/stats/ (in place, or staged: `files`) and return the summary section. */
export function writeStats(out: string, a: Analysis, files: OutputFiles = NOW): Record<string, unknown> {
  const f = (k: keyof typeof STATS_FILES) => `${out}/${STATS_FILES[k]}`;
  files.put(f('daily'), JSON.stringify(a.days, null, 1) + '\n');
  writeNdjson(files, f('endpoints'), a.endpointRows);
  const portCols = ['protocol', 'protocol_name', 'port', 'service', 'service_description', 'scanner_ips', 'scan_keys', 'flows', 'packets', 'bytes', 'days'];
  writeCsv(files, f('ports'), portCols, a.ports.ports);
  writeNdjson(files, f('ports_ndjson'), a.ports.ports);
  writeNdjson(files, f('ports_daily'), a.ports.per_day);
  writeNdjson(files, f('scanners'), a.sources.scanners);
  writeCsv(
    files,
    f('scanners_csv'),
    ['ip', 'country', 'asn', 'as_org', 'actor', 'rdns', 'days', 'scan_keys', 'ports', 'flows', 'packets', 'bytes', 'first_seen', 'last_seen'],
    a.sources.scanners,
  );
  if (a.enrichment) {
    writeCsv(files, f('countries'), ['country', 'scanner_ips', 'share_of_scanner_ips', 'scan_keys', 'flows'], a.sources.countries);
    writeCsv(files, f('networks'), ['asn', 'as_org', 'scanner_ips', 'share_of_scanner_ips', 'scan_keys', 'flows'], a.sources.networks);
    files.put(f('actors'), JSON.stringify(a.sources.actors, null, 1) + '\n');
  } else {
    for (const k of ENRICHED_FILES) files.remove(f(k)); // not stale ones from an earlier run
  }
  return statsSummary(a);
}
