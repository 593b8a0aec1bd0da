/**
 * Reading one run's output folder for the report: scans.ndjson (detection.md §7, plus the
 * enrichment columns country, asn, as_org, actor when the run had them) is loaded into an
 * in-memory history store so the report asks it the same questions as the --state history;
 * the analyst's statistics are read when present and tolerated when absent or partial:
 *
 * - summary.json `stats` (schema 1): ports.top_per_protocol[].by_scanner_ips[] and
 *   stats/ports.ndjson rows {protocol, port, service} give service names;
 *   countries.top[] {country, scanner_ips, flows}, networks.top[] {asn, as_org, scanner_ips,
 *   flows}, actors.table[] {actor, scanner_ips, scan_keys, flows, matched_by[], sources[],
 *   top_ports[]} (or stats/actors.json), endpoints.all {scanner_ips, ports: {count, min,
 *   mean, median, p95, max}}
 * - stats/endpoints.ndjson rows {day, cloud, account, endpoint, scanner_ips, ports}: the
 *   per-endpoint-day facts behind the endpoint distribution.
 * A file or field that is missing or of another shape is skipped with a note in the report.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAddress } from '../net/address.js';
import type { KeyVerdict } from '../engine/verdict.js';
import { HistoryStore, type IpFacts, type Period } from '../store/history.js';
import { readObjects } from '../store/ndjson.js';
import { runRows, type EndpointDayRow } from '../store/rows.js';
import { ipFactsFromScans } from '../store/record.js';
import { portLabel } from '../stats/port-names.js';

export interface Quantiles {
  count: number;
  min: number;
  mean: number;
  median: number;
  p95: number;
  max: number;
}

export interface ActorStat {
  actor: string;
  scanner_ips: number;
  scan_keys: number | null;
  flows: number | null;
  matched_by: string[];
  sources: string[];
  top_ports: string[];
}

export interface GroupStat {
  label: string;
  scanner_ips: number;
  flows: number | null;
}

/** What the analyst's statistics of the run add (every part optional). */
export interface AnalystStats {
  services: Map<string, string>; // "tcp/22" -> "ssh"
  serviceSource: string | null;
  countries: GroupStat[] | null;
  networks: GroupStat[] | null;
  actors: ActorStat[] | null;
  endpoints: { scanner_ips: Quantiles; ports: Quantiles } | null;
  present: string[]; // which analyst outputs were found
}

export interface ScansDir {
  dir: string;
  store: HistoryStore;
  period: Period;
  rows: number;
  enriched: boolean;
  endpointRows: boolean;
  stats: AnalystStats;
  problems: string[];
}

const num = (x: unknown): number | null => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const str = (x: unknown): string | null => (typeof x === 'string' && x !== '' ? x : null);
const obj = (x: unknown): Record<string, unknown> | null => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : null);
const arr = (x: unknown): unknown[] | null => (Array.isArray(x) ? x : null);
const strs = (x: unknown): string[] => (arr(x) ?? []).filter((s): s is string => typeof s === 'string');

function isoSeconds(x: unknown): number | null {
  if (typeof x !== 'string') return null;
  const t = Date.parse(x);
  return Number.isFinite(t) ? Math.floor(t / 1000) : null;
}

/** A scans.ndjson object as the verdict the history rows are grouped from (window = its start second). */
function verdictOf(o: Record<string, unknown>): KeyVerdict | null {
  const src = str(o.src);
  const words = src ? parseAddress(src) : null;
  const start = isoSeconds(o.window_start);
  const protocol = num(o.protocol);
  const port = num(o.dst_port);
  if (!src || !words || start === null || protocol === null || port === null) return null;
  return {
    window: start, srcWords: [...words], src, protocol, dstPort: port,
    endpoints: num(o.endpoints) ?? 0, clouds: num(o.clouds) ?? 0, accounts: num(o.accounts) ?? 0, regions: num(o.regions) ?? 0,
    flows: num(o.flows) ?? 0, packets: num(o.packets) ?? 0, bytes: num(o.bytes) ?? 0,
    cvPackets: num(o.cv_packets), cvBytes: num(o.cv_bytes), cvFlows: num(o.cv_flows) ?? 0,
    firstSeen: isoSeconds(o.first_seen) ?? start, lastSeen: isoSeconds(o.last_seen) ?? start, failed: [],
  };
}

function quantiles(x: unknown): Quantiles | null {
  const o = obj(x);
  if (!o) return null;
  const q = { count: num(o.count), min: num(o.min), mean: num(o.mean), median: num(o.median), p95: num(o.p95), max: num(o.max) };
  return Object.values(q).every((v) => v !== null) ? (q as Quantiles) : null;
}

function readJson(path: string, problems: string[]): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    problems.push(`${path}: not readable JSON (${(err as Error).message})`);
    return undefined;
  }
}

function actorRows(x: unknown): ActorStat[] | null {
  const rows = arr(x);
  if (!rows) return null;
  const out: ActorStat[] = [];
  for (const r of rows.map(obj)) {
    const actor = str(r?.actor);
    const ips = num(r?.scanner_ips);
    if (!r || !actor || ips === null) continue;
    out.push({ actor, scanner_ips: ips, scan_keys: num(r.scan_keys), flows: num(r.flows), matched_by: strs(r.matched_by), sources: strs(r.sources), top_ports: strs(r.top_ports) });
  }
  return out;
}

function groupRows(x: unknown, label: (r: Record<string, unknown>) => string | null): GroupStat[] | null {
  const rows = arr(x);
  if (!rows) return null;
  const out: GroupStat[] = [];
  for (const r of rows.map(obj)) {
    const ips = num(r?.scanner_ips);
    if (!r || ips === null) continue;
    out.push({ label: label(r) ?? '(unknown)', scanner_ips: ips, flows: num(r.flows) });
  }
  return out;
}

export function networkLabel(asn: number | null, org: string | null): string | null {
  if (asn === null && !org) return null;
  return [asn !== null ? `AS${asn}` : null, org].filter(Boolean).join(' ');
}

/** The analyst's statistics of a run folder, where present. */
export function readAnalystStats(dir: string, problems: string[]): AnalystStats {
  const s: AnalystStats = { services: new Map(), serviceSource: null, countries: null, networks: null, actors: null, endpoints: null, present: [] };
  const summary = obj(readJson(join(dir, 'summary.json'), problems));
  const stats = obj(summary?.stats);
  if (stats) {
    s.present.push('summary.json stats');
    const ports = obj(stats.ports);
    s.serviceSource = str(ports?.service_names);
    for (const t of (arr(ports?.top_per_protocol) ?? []).map(obj)) {
      for (const r of [...(arr(t?.by_scanner_ips) ?? []), ...(arr(t?.by_flows) ?? [])].map(obj)) addService(s, r);
    }
    s.countries = groupRows(obj(stats.countries)?.top, (r) => str(r.country));
    s.networks = groupRows(obj(stats.networks)?.top, (r) => networkLabel(num(r.asn), str(r.as_org)));
    s.actors = actorRows(obj(stats.actors)?.table);
    const all = obj(obj(stats.endpoints)?.all);
    const e = all && { scanner_ips: quantiles(all.scanner_ips), ports: quantiles(all.ports) };
    if (e?.scanner_ips && e.ports) s.endpoints = { scanner_ips: e.scanner_ips, ports: e.ports };
  }
  const portsFile = join(dir, 'stats', 'ports.ndjson');
  if (existsSync(portsFile)) {
    s.present.push('stats/ports.ndjson');
    readObjects(portsFile, (r) => addService(s, r), problems);
  }
  if (!s.actors) {
    const a = actorRows(readJson(join(dir, 'stats', 'actors.json'), problems));
    if (a) {
      s.actors = a;
      s.present.push('stats/actors.json');
    }
  }
  return s;
}

function addService(s: AnalystStats, r: Record<string, unknown> | null): void {
  const protocol = num(r?.protocol);
  const port = num(r?.port);
  const service = str(r?.service);
  if (protocol !== null && port !== null && service) s.services.set(portLabel(protocol, port), service);
}

/** Load a run folder (it must hold scans.ndjson). */
export function loadScansDir(dir: string): ScansDir {
  const path = join(dir, 'scans.ndjson');
  if (!existsSync(path)) throw new Error(`${dir} has no scans.ndjson (give the --out folder of a detect run)`);
  const problems: string[] = [];
  const verdicts: KeyVerdict[] = [];
  let bad = 0;
  const notJson = readObjects(path, (o) => {
    const v = verdictOf(o);
    if (v) verdicts.push(v);
    else bad++;
  }, problems);
  bad += notJson;
  if (bad) problems.push(`${path}: ${bad} line(s) without the scan fields (src, protocol, dst_port, window_start) were skipped`);
  const rows = runRows({ scans: verdicts, endpointDays: [] }, 1);
  const endpointsFile = join(dir, 'stats', 'endpoints.ndjson');
  let endpointRows = false;
  if (existsSync(endpointsFile)) {
    readObjects(endpointsFile, (o) => {
      const r: EndpointDayRow = { day: str(o.day) ?? '', cloud: str(o.cloud) ?? '', account: typeof o.account === 'string' ? o.account : '', endpoint: str(o.endpoint) ?? '', scannerIps: num(o.scanner_ips) ?? -1, ports: num(o.ports) ?? -1 };
      if (/^\d{4}-\d\d-\d\d$/.test(r.day) && r.endpoint && r.scannerIps >= 0 && r.ports >= 0) rows.endpointDays.push(r);
    }, problems);
    endpointRows = rows.endpointDays.length > 0;
  }
  const facts: Map<string, IpFacts> | undefined = ipFactsFromScans(path);
  const store = HistoryStore.inMemory();
  store.record(
    { fingerprint: `scans:${dir}`, files: [{ fingerprint: `scans:${dir}`, path, bytes: 0 }], inputs: [dir], windowSeconds: 0, records: 0, partial: false, settings: {} },
    rows,
    facts,
  );
  return { dir, store, period: store.period(), rows: verdicts.length, enriched: Boolean(facts), endpointRows, stats: readAnalystStats(dir, problems), problems };
}
