/**
 * Figures across days from the history (detection.md §5 "across days"): days observed per scanner
 * IP, their histogram, the shares seen on one day only and on every day of the period, and
 * the lists people publish or block (persistent scanners of the most scanned ports, the
 * scanners of one day, the scanners of one known actor).
 *
 * "Every day of the period" means every day of the period that has data in the history: a
 * day with no recorded run says nothing about scanners, so it does not count against them
 * (the calendar days without data are listed beside the figures).
 */
import type { HistoryStore, Period, PortRank, ScannerSummary, DaySeries } from './history.js';
import { portLabel } from '../stats/port-names.js';

export const HISTORY_SCHEMA = 1;

export interface Share {
  scanner_ips: number;
  share: number; // 0..1 of the period's scanner IPs
}

export interface HistoryFigures {
  schema: number;
  period: { from: string; to: string; calendar_days: number; days_with_data: number; days: string[]; days_without_data: string[] };
  runs: number;
  scanner_ips: number;
  days_observed: {
    histogram: Array<{ days: number } & Share>; // days = 1 .. days_with_data
    one_day: Share;
    every_day: Share;
    mean: number;
    median: number;
  };
  per_day: Array<DaySeries & { new_scanner_ips: number }>;
}

export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function share(n: number, of: number): Share {
  return { scanner_ips: n, share: of > 0 ? round6(n / of) : 0 };
}

function median(sorted: number[]): number {
  if (sorted.length === 0) return 0;
  const m = sorted.length >> 1;
  return sorted.length % 2 ? sorted[m]! : (sorted[m - 1]! + sorted[m]!) / 2;
}

/** The figures of the period, from the per-IP summaries (store.scanners(period)). */
export function historyFigures(store: HistoryStore, p: Period, scanners: ScannerSummary[]): HistoryFigures {
  const n = p.days.length;
  const counts = new Array<number>(n + 1).fill(0);
  for (const s of scanners) counts[Math.min(s.days, n)]!++;
  const daysSorted = scanners.map((s) => s.days).sort((a, b) => a - b);
  const firstDay = new Map<string, number>();
  for (const s of scanners) firstDay.set(s.first_day, (firstDay.get(s.first_day) ?? 0) + 1);
  return {
    schema: HISTORY_SCHEMA,
    period: { from: p.from, to: p.to, calendar_days: p.calendarDays, days_with_data: n, days: p.days, days_without_data: p.daysWithoutData },
    runs: store.runs().length,
    scanner_ips: scanners.length,
    days_observed: {
      histogram: Array.from({ length: n }, (_, i) => ({ days: i + 1, ...share(counts[i + 1]!, scanners.length) })),
      one_day: share(counts[1] ?? 0, scanners.length),
      every_day: share(n > 0 ? counts[n]! : 0, scanners.length),
      mean: scanners.length ? round6(daysSorted.reduce((a, b) => a + b, 0) / scanners.length) : 0,
      median: median(daysSorted),
    },
    per_day: store.daySeries(p).map((d) => ({ ...d, new_scanner_ips: firstDay.get(d.day) ?? 0 })),
  };
}

// ------------------------------------------------------------------ lists

export interface ListedScanner extends ScannerSummary {
  top_ports: string[]; // its most scanned (protocol/port)s in the list's period, by flows, at most 10
}

export interface ScannerList {
  list: string; // file base name
  title: string;
  period: { from: string; to: string; days_with_data: number };
  criteria: Record<string, unknown>;
  scanners: ListedScanner[];
}

export const TOP_PORTS_FOR_PERSISTENT = 10;

function withPorts(store: HistoryStore, p: Period, rows: ScannerSummary[]): ListedScanner[] {
  const ports = store.portsOf(p, rows.map((r) => r.ip));
  return rows.map((r) => ({ ...r, top_ports: (ports.get(r.ip) ?? []).slice(0, 10).map((x) => portLabel(x.protocol, x.port)) }));
}

/**
 * Persistent scanners: seen on every day of the period with data (or on at least minDays
 * days) and scanning at least one of the period's ten most scanned (protocol, port)s, ranked
 * by distinct scanner IPs.
 */
export function persistentScanners(store: HistoryStore, p: Period, minDays?: number): ScannerList & { top_ports: PortRank[] } {
  const need = minDays ?? p.days.length;
  const top = store.portRanking(p).slice(0, TOP_PORTS_FOR_PERSISTENT);
  const onTop = store.ipsScanning(p, top);
  const rows = need > 0 ? store.scanners(p, { minDays: need }).filter((s) => onTop.has(s.ip)) : [];
  return {
    list: 'persistent',
    title: minDays === undefined ? 'Scanners seen on every day of the period, on the most scanned ports' : `Scanners seen on at least ${need} days, on the most scanned ports`,
    period: { from: p.from, to: p.to, days_with_data: p.days.length },
    criteria: { min_days: need, every_day: minDays === undefined, top_ports: top.map((t) => portLabel(t.protocol, t.port)) },
    scanners: withPorts(store, p, rows),
    top_ports: top,
  };
}

/** Every scanner of one UTC day. */
export function dayScanners(store: HistoryStore, day: string): ScannerList {
  const p: Period = { from: day, to: day, days: [day], calendarDays: 1, daysWithoutData: [] };
  return {
    list: `scanners-${day}`,
    title: `Scanners of ${day} (UTC)`,
    period: { from: day, to: day, days_with_data: store.period(day, day).days.length },
    criteria: { day },
    scanners: withPorts(store, p, store.scanners(p)),
  };
}

/** File-name form of an actor's name ("Shadowserver Foundation" -> "shadowserver-foundation"). */
export function actorSlug(actor: string): string {
  return actor.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'actor';
}

/** The scanners of the period labelled as one known actor. */
export function actorScanners(store: HistoryStore, p: Period, actor: string): ScannerList {
  return {
    list: `actor-${actorSlug(actor)}`,
    title: `Scanners of ${actor}`,
    period: { from: p.from, to: p.to, days_with_data: p.days.length },
    criteria: { actor },
    scanners: withPorts(store, p, store.scanners(p, { actor })),
  };
}
