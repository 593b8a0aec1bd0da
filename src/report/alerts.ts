/**
 * The report's tables of what a run found besides the charts (issue 15): the outbound and
 * internal-scan alerts of the run (outbound.ndjson) and the full list of scanner IPs,
 * sortable in the HTML report.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { HistoryStore, Period } from '../store/history.js';
import { readObjects } from '../store/ndjson.js';
import { networkLabel } from './scans.js';
import type { TableSpec } from './table.js';

const KIND_TEXT: Record<string, string> = {
  horizontal: 'compromised host: outbound scan',
  vertical: 'compromised host: vertical scan',
  internal: 'internal scan (lateral movement)',
  'own-range-scanner': 'scanner in your own ranges',
};
const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };
const s = (x: unknown) => (typeof x === 'string' && x !== '' ? x : null);
const n = (x: unknown) => (typeof x === 'number' && Number.isFinite(x) ? x : null);

/** Alerts of a detect run's folder, one row each, as outbound.ndjson orders them. */
export function alertTable(dir: string | undefined, problems: string[]): TableSpec {
  const rows: TableSpec['rows'] = [];
  const path = dir ? join(dir, 'outbound.ndjson') : '';
  if (dir && existsSync(path)) {
    readObjects(path, (o) => {
      const proto = n(o.protocol) ?? 0;
      const what = o.kind === 'vertical' ? `${PROTOCOLS[proto] ?? proto} ${n(o.ports)} ports of ${s(o.target)}` : `${PROTOCOLS[proto] ?? proto}/${n(o.dst_port)}`;
      rows.push([
        s(o.window_start), KIND_TEXT[String(o.kind)] ?? s(o.kind), s(o.severity), s(o.src), [s(o.cloud), s(o.account), s(o.region)].filter(Boolean).join(' '),
        s(o.interface), s(o.instance), what, n(o.targets), n(o.flows), o.worm_signature === true ? 'yes' : o.looks_like_nat === true ? 'looks like a NAT' : null,
      ]);
    }, problems);
  }
  return {
    id: 'alerts',
    title: 'Compromised-host and internal-scan alerts',
    columns: ['window', 'kind', 'severity', 'source', 'cloud / account / region', 'interface', 'instance', 'scanned', 'targets', 'flows', 'note'],
    rows,
    source: dir ? `${dir}/outbound.ndjson` : 'a detect run (--scans)',
    caption: "the user's own hosts scanning the internet (detection.md §4) or other hosts of their networks (internal scanning)",
    noData: !dir ? 'the alerts are in a detect run\'s outbound.ndjson: give --scans DIR' : rows.length ? undefined : 'no outbound or internal scan in this run',
    sortable: true,
  };
}

/** Every scanner IP of the period, sortable by any column. */
export function scannerTable(store: HistoryStore, period: Period, source: string): TableSpec {
  const scanners = store.scanners(period);
  return {
    id: 'scanners',
    title: 'All scanner IPs',
    columns: ['IP', 'days', 'first seen', 'last seen', 'scan keys', 'ports', 'max endpoints', 'flows', 'country', 'network', 'actor'],
    rows: scanners.map((x) => [
      x.ip, x.days, iso(x.first_seen), iso(x.last_seen), x.scan_keys, x.ports, x.max_endpoints, x.flows, x.country, networkLabel(x.asn, x.as_org), x.actor,
    ]),
    source,
    caption: 'click a column heading to sort (HTML)',
    noData: scanners.length ? undefined : 'no scanner in the data',
    sortable: true,
  };
}

function iso(t: number): string {
  return new Date(t * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
