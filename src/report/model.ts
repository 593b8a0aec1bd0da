/**
 * The report's content, independent of its rendering: headline figures, charts (labels and
 * datasets, or the reason there is no data) and tables. HTML and Markdown render the same
 * model.
 *
 * Where figures come from: the charts of one run (countries, networks, ports, TCP/UDP
 * share, per-endpoint distribution, known actors) from --scans when given, else from the
 * history; the charts across days (days observed, daily series, persistent scanners) from
 * --state when given, else from the days of the --scans run. The analyst's statistics
 * (summary.json `stats`, stats/*) are preferred where they exist (see scans.ts).
 */
import type { HistoryStore, Period } from '../store/history.js';
import { historyFigures, persistentScanners, TOP_PORTS_FOR_PERSISTENT } from '../store/analysis.js';
import { commonService, portLabel } from '../stats/port-names.js';
import { networkLabel, type AnalystStats, type GroupStat, type ScansDir } from './scans.js';
import { alertTable, scannerTable } from './alerts.js';
import type { TableSpec } from './table.js';

export interface Dataset {
  label: string;
  data: number[];
  axis?: 'y' | 'y2';
  tableOnly?: boolean; // shown in tables (Markdown, the HTML data table), not drawn
}

export interface ChartSpec {
  id: string;
  title: string;
  type: 'bar' | 'hbar' | 'line' | 'doughnut';
  labels: string[];
  datasets: Dataset[];
  xTitle?: string;
  yTitle?: string;
  y2Title?: string;
  source: string;
  caption?: string;
  noData?: string; // nothing to draw: why
}

export type { TableSpec };

export interface ReportModel {
  title: string;
  generatedAt: string;
  headline: Array<{ label: string; value: string }>;
  charts: ChartSpec[];
  tables: TableSpec[];
  sources: string[];
  notes: string[];
}

export interface Side {
  store: HistoryStore;
  period: Period;
  name: string; // where its figures come from, for the captions
}

export interface ReportInput {
  state?: Side;
  scans?: ScansDir;
  /** The folder whose outbound.ndjson holds the alerts (default: the --scans run's). */
  alertsDir?: string;
  title?: string;
  generatedAt?: string;
}

export const TOP = { countries: 20, networks: 20, tcp: 20, udp: 10 };

const ENDPOINT_BUCKETS: Array<[number, number]> = [
  [1, 1], [2, 5], [6, 10], [11, 50], [51, 100], [101, 500], [501, 1000], [1001, 5000], [5001, Infinity],
];

const fmt = (n: number) => n.toLocaleString('en-US');
const pct = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.01 ? 2 : 1)} %`;

function periodText(p: Period): string {
  if (!p.days.length) return 'no days';
  return p.from === p.to ? p.from : `${p.from} .. ${p.to} (${p.days.length} day${p.days.length > 1 ? 's' : ''} with data)`;
}

export function buildReport(input: ReportInput): ReportModel {
  const runSide: Side | undefined = input.scans
    ? { store: input.scans.store, period: input.scans.period, name: `${input.scans.dir}/scans.ndjson` }
    : input.state;
  const daysSide: Side | undefined = input.state ?? runSide;
  if (!runSide || !daysSide) throw new Error('the report needs --state DIR or --scans DIR (or both)');
  const stats = input.scans?.stats;
  const service = serviceNamer(stats);
  const notes: string[] = [...(input.scans?.problems ?? [])];

  const scanners = daysSide.store.scanners(daysSide.period);
  const figures = historyFigures(daysSide.store, daysSide.period, scanners);
  const ports = runSide.store.portRanking(runSide.period);
  const share = runSide.store.protocolShare(runSide.period);
  const persistent = persistentScanners(daysSide.store, daysSide.period);
  if (runSide !== daysSide) {
    // the history may predate the enrichment: take what the run knows of these IPs
    const known = runSide.store.factsOf(persistent.scanners.filter((s) => s.country === null && s.asn === null && s.actor === null).map((s) => s.ip));
    for (const s of persistent.scanners) Object.assign(s, known.get(s.ip) ?? {});
  }
  const runIps = runSide === daysSide ? scanners.length : runSide.store.scanners(runSide.period).length;

  const charts: ChartSpec[] = [
    groupChart('countries', `Top ${TOP.countries} countries of scanner IPs`, stats?.countries ?? null, runSide, daysSide, 'country', TOP.countries),
    groupChart('networks', `Top ${TOP.networks} networks (ASN) of scanner IPs`, stats?.networks ?? null, runSide, daysSide, 'network', TOP.networks),
    portChart('tcp-ports', `Top ${TOP.tcp} TCP ports`, ports.filter((p) => p.protocol === 6).slice(0, TOP.tcp), service, runSide),
    portChart('udp-ports', `Top ${TOP.udp} UDP ports`, ports.filter((p) => p.protocol === 17).slice(0, TOP.udp), service, runSide),
    {
      id: 'days-observed',
      title: 'Days observed per scanner IP',
      type: 'bar',
      labels: figures.days_observed.histogram.map((h) => `${h.days} day${h.days > 1 ? 's' : ''}`),
      datasets: [{ label: 'scanner IPs', data: figures.days_observed.histogram.map((h) => h.scanner_ips) }],
      xTitle: 'days observed',
      yTitle: 'scanner IPs',
      source: `${daysSide.name}, ${periodText(daysSide.period)}`,
      caption: scanners.length
        ? `${pct(figures.days_observed.one_day.share)} seen on one day only, ${pct(figures.days_observed.every_day.share)} on every day (${daysSide.period.days.length})`
        : undefined,
      noData: scanners.length ? undefined : 'no scanner IP recorded in the period',
    },
    {
      id: 'daily',
      title: 'Scanner IPs and scanned ports per day',
      type: 'line',
      labels: figures.per_day.map((d) => d.day),
      datasets: [
        { label: 'scanner IPs', data: figures.per_day.map((d) => d.scanner_ips), axis: 'y' },
        { label: 'scanned (protocol, port)s', data: figures.per_day.map((d) => d.ports), axis: 'y2' },
      ],
      xTitle: 'UTC day',
      yTitle: 'scanner IPs',
      y2Title: 'ports',
      source: `${daysSide.name}, ${periodText(daysSide.period)}`,
      noData: figures.per_day.length ? undefined : 'no day with scanners in the period',
    },
    {
      id: 'protocol-share',
      title: 'TCP / UDP / other share',
      type: 'doughnut',
      labels: ['TCP', 'UDP', 'other'],
      datasets: [
        { label: 'scanning flows', data: share.map((s) => s.flows) },
        { label: 'scanner IPs', data: share.map((s) => s.scanner_ips) },
      ],
      source: `${runSide.name}, ${periodText(runSide.period)}`,
      caption: shareCaption(share),
      noData: share.some((s) => s.flows > 0 || s.scanner_ips > 0) ? undefined : 'no scan in the data',
    },
    endpointChart(runSide, daysSide, stats, input.scans !== undefined),
  ];

  const tables: TableSpec[] = [
    {
      id: 'persistent',
      title: 'Persistent scanners',
      columns: ['IP', 'days', 'first day', 'last day', 'ports', 'most scanned', 'flows', 'country', 'network', 'actor'],
      rows: persistent.scanners.map((s) => [
        s.ip, s.days, s.first_day, s.last_day, s.ports, s.top_ports.slice(0, 5).join(' '), s.flows, s.country, networkLabel(s.asn, s.as_org), s.actor,
      ]),
      source: `${daysSide.name}, ${periodText(daysSide.period)}`,
      caption: `seen on every day of the period with data (${daysSide.period.days.length}) and scanning one of the ${TOP_PORTS_FOR_PERSISTENT} most scanned ports (${persistent.top_ports.map((t) => portLabel(t.protocol, t.port)).join(', ') || 'none'})`,
      noData: persistent.scanners.length ? undefined : 'no scanner was seen on every day of the period on the most scanned ports',
    },
    actorTable(runSide, stats),
    alertTable(input.alertsDir ?? input.scans?.dir, notes),
    scannerTable(runSide.store, runSide.period, `${runSide.name}, ${periodText(runSide.period)}`),
  ];

  // with both sources, say which figure is the run's and which the history's
  const [ofRun, ofHistory] = runSide === daysSide ? ['', ''] : [' (run)', ' (history)'];
  const headline = [
    { label: `scanner IPs${ofRun}`, value: fmt(runIps) },
    { label: `scan keys${ofRun}`, value: fmt(share.reduce((s, x) => s + x.scan_keys, 0)) },
    { label: `scanning flows${ofRun}`, value: fmt(share.reduce((s, x) => s + x.flows, 0)) },
    { label: `scanned (protocol, port)s${ofRun}`, value: fmt(ports.length) },
    ...(ofHistory ? [{ label: `scanner IPs${ofHistory}`, value: fmt(scanners.length) }] : []),
    { label: `days with data${ofHistory}`, value: fmt(daysSide.period.days.length) },
    { label: `seen on one day only${ofHistory}`, value: scanners.length ? pct(figures.days_observed.one_day.share) : '-' },
    { label: `seen on every day${ofHistory}`, value: scanners.length ? pct(figures.days_observed.every_day.share) : '-' },
    { label: `persistent scanners${ofHistory}`, value: fmt(persistent.scanners.length) },
  ];
  if (daysSide.period.daysWithoutData.length) {
    notes.push(`no data recorded for ${daysSide.period.daysWithoutData.length} calendar day(s) of the period: ${daysSide.period.daysWithoutData.slice(0, 10).join(', ')}${daysSide.period.daysWithoutData.length > 10 ? ', ...' : ''}`);
  }
  const sources = [
    ...(input.state ? [`${input.state.name} (${figures.runs} run(s)), ${periodText(input.state.period)}`] : []),
    ...(input.scans ? [`run: ${input.scans.dir} (${fmt(input.scans.rows)} scan keys${input.scans.enriched ? ', enriched' : ''}${stats?.present.length ? `; ${stats.present.join(', ')}` : ''})`] : []),
  ];
  return {
    title: input.title ?? 'flowsieve scanner report',
    generatedAt: input.generatedAt ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    headline,
    charts,
    tables,
    sources,
    notes,
  };
}

type Namer = (protocol: number, port: number) => string;

/** "22 ssh": the run's IANA name when its statistics have one, else the usual name, else the number. */
function serviceNamer(stats: AnalystStats | undefined): Namer {
  return (protocol, port) => {
    const name = stats?.services.get(portLabel(protocol, port)) ?? commonService(protocol, port);
    return name ? `${port} ${name}` : String(port);
  };
}

function portChart(id: string, title: string, rows: ReturnType<HistoryStore['portRanking']>, name: Namer, side: Side): ChartSpec {
  return {
    id,
    title,
    type: 'hbar',
    labels: rows.map((r) => name(r.protocol, r.port)),
    datasets: [{ label: 'scanner IPs', data: rows.map((r) => r.scanner_ips) }, { label: 'scanning flows', data: rows.map((r) => r.flows), tableOnly: true }],
    xTitle: 'distinct scanner IPs',
    source: `${side.name}, ${periodText(side.period)}`,
    caption: 'by distinct scanner IPs',
    noData: rows.length ? undefined : `no ${id.startsWith('tcp') ? 'TCP' : 'UDP'} port was scanned`,
  };
}

function groupChart(id: string, title: string, fromStats: GroupStat[] | null, run: Side, days: Side, by: 'country' | 'network', top: number): ChartSpec {
  let rows: GroupStat[] | null = fromStats;
  let source = 'summary.json stats';
  if (!rows) {
    const side = run.store.hasFacts() ? run : days.store.hasFacts() ? days : null;
    if (side) {
      source = `${side.name}, ${periodText(side.period)}`;
      rows = side.store.groupByFacts(side.period, by).map((r) => ({
        label: (by === 'country' ? r.country : networkLabel(r.asn, r.as_org)) ?? '(unknown)',
        scanner_ips: r.scanner_ips,
        flows: r.flows,
      }));
    }
  }
  rows = rows?.slice(0, top) ?? [];
  return {
    id,
    title,
    type: 'hbar',
    labels: rows.map((r) => r.label),
    datasets: [{ label: 'scanner IPs', data: rows.map((r) => r.scanner_ips) }],
    xTitle: 'distinct scanner IPs',
    source: rows.length ? source : 'none',
    noData: rows.length
      ? undefined
      : `no ${by} data: the scans carry no enrichment (country, asn, as_org columns) and no statistics give it; run detect with the offline IP databases`,
  };
}

function shareCaption(share: ReturnType<HistoryStore['protocolShare']>): string | undefined {
  const flows = share.reduce((s, x) => s + x.flows, 0);
  if (!flows) return undefined;
  return `flows: ${share.map((s) => `${s.class.toUpperCase()} ${pct(s.flows / flows)}`).join(', ')} (outer ring flows, inner ring scanner IPs)`;
}

function endpointChart(run: Side, days: Side, stats: AnalystStats | undefined, fromScans: boolean): ChartSpec {
  const base = { id: 'endpoints', title: 'Per endpoint and day: scanner IPs and scanned ports', type: 'bar' as const, xTitle: 'per endpoint-day', yTitle: 'endpoint-days' };
  let side = run;
  let rows = run.store.endpointDays(run.period);
  if (!rows.length && days !== run) {
    side = days;
    rows = days.store.endpointDays(days.period);
  }
  if (rows.length) {
    const bucket = (vals: number[]) => ENDPOINT_BUCKETS.map(([lo, hi]) => vals.filter((v) => v >= lo && v <= hi).length);
    const ips = rows.map((r) => r.scanner_ips).sort((a, b) => a - b);
    const ports = rows.map((r) => r.ports).sort((a, b) => a - b);
    const med = (v: number[]) => (v.length % 2 ? v[v.length >> 1]! : (v[v.length / 2 - 1]! + v[v.length / 2]!) / 2);
    const p95 = (v: number[]) => v[Math.max(0, Math.ceil(0.95 * v.length) - 1)]!;
    return {
      ...base,
      labels: ENDPOINT_BUCKETS.map(([lo, hi]) => (lo === hi ? String(lo) : hi === Infinity ? `> ${lo - 1}` : `${lo}-${hi}`)),
      datasets: [{ label: 'scanner IPs per endpoint-day', data: bucket(ips) }, { label: 'scanned ports per endpoint-day', data: bucket(ports) }],
      source: `${fromScans && side === run ? side.name.replace(/scans\.ndjson$/, 'stats/endpoints.ndjson') : side.name}, ${periodText(side.period)}`,
      caption: `${fmt(rows.length)} endpoint-days; scanner IPs median ${med(ips)}, p95 ${p95(ips)}, max ${ips[ips.length - 1]}; ports median ${med(ports)}, p95 ${p95(ports)}, max ${ports[ports.length - 1]}`,
    };
  }
  const q = stats?.endpoints;
  if (q && q.scanner_ips.count > 0) {
    const keys = ['min', 'median', 'mean', 'p95', 'max'] as const;
    return {
      ...base,
      xTitle: 'statistic over endpoint-days',
      yTitle: 'count',
      labels: [...keys],
      datasets: [{ label: 'scanner IPs per endpoint-day', data: keys.map((k) => q.scanner_ips[k]) }, { label: 'scanned ports per endpoint-day', data: keys.map((k) => q.ports[k]) }],
      source: 'summary.json stats.endpoints.all',
      caption: `${fmt(q.scanner_ips.count)} endpoint-days`,
    };
  }
  return {
    ...base,
    labels: [],
    datasets: [],
    source: 'none',
    noData: fromScans
      ? 'no per-endpoint data: the run folder has no stats/endpoints.ndjson (written by detect with statistics) and scans.ndjson does not name endpoints'
      : 'no endpoint-day recorded in the period',
  };
}

function actorTable(side: Side, stats: AnalystStats | undefined): TableSpec {
  const base = { id: 'actors', title: 'Known scanning services (actors)', columns: ['actor', 'scanner IPs', 'scan keys', 'flows', 'matched by', 'most scanned'] };
  if (stats?.actors) {
    return {
      ...base,
      rows: stats.actors.map((a) => [a.actor, a.scanner_ips, a.scan_keys, a.flows, a.matched_by.join(' '), a.top_ports.slice(0, 5).join(' ')]),
      source: 'summary.json stats.actors',
      noData: stats.actors.length ? undefined : 'no scanner IP belongs to a known scanning service',
    };
  }
  if (!side.store.hasFacts()) return { ...base, rows: [], source: 'none', noData: 'no actor labels: the scans carry no actor column (run detect with enrichment)' };
  const actors = side.store.actors(side.period);
  const rows = actors.map((a) => {
    const members = side.store.scanners(side.period, { actor: a.actor });
    const top = side.store.portsOf(side.period, members.map((m) => m.ip));
    const byPort = new Map<string, number>();
    for (const l of top.values()) for (const p of l) byPort.set(portLabel(p.protocol, p.port), (byPort.get(portLabel(p.protocol, p.port)) ?? 0) + p.scan_keys);
    const most = [...byPort.entries()].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 5).map(([k]) => k);
    return [a.actor, a.scanner_ips, members.reduce((s, m) => s + m.scan_keys, 0), members.reduce((s, m) => s + m.flows, 0), 'actor column', most.join(' ')];
  });
  return { ...base, rows, source: `${side.name}, ${periodText(side.period)}`, noData: rows.length ? undefined : 'no scanner IP belongs to a known scanning service' };
}
