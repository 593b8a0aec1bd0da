/**
 * Findings for the security team's tools (issue 15): scanner verdicts and outbound /
 * internal alerts as OCSF 1.8 Detection Findings (class_uid 2004, the class Amazon
 * Security Lake and most SIEMs take for alerts from a detection engine) and as Elastic
 * Common Schema documents (ECS 9, one per line, for Elasticsearch / OpenSearch).
 *
 * Each finding has a stable id (a hash of what identifies it: the scan key, the alert's
 * key, the scanner of a list), so a re-run or a re-send updates a finding instead of
 * duplicating it. Times: OCSF timestamp_t is epoch milliseconds; ECS dates are ISO-8601.
 * Countries, networks and known-scanner labels come from the run's enrichment, the same
 * values as scans.ndjson; an address that is not public carries none.
 */
import { createHash } from 'node:crypto';

export const OCSF_VERSION = '1.8.0';
export const ECS_VERSION = '9.4.0';
// the names live apart from the writers (finding-names.ts); re-exported for their callers
export { FINDING_FORMATS, type FindingFormat } from './finding-names.js';
import type { FindingFormat } from './finding-names.js';

const PRODUCT = { name: 'flowsieve', vendor_name: 'flowsieve' };

/** The facts of a scanner IP that findings carry (from the enrichment or the history). */
export interface SourceFacts {
  country?: string | null;
  asn?: number | null;
  as_org?: string | null;
  actor?: string | null;
}

/** A scan key as scans.ndjson writes it (detection.md §7), with its enrichment columns. */
export interface ScanRow extends SourceFacts {
  window_start: string;
  window_end: string;
  src: string;
  protocol: number;
  dst_port: number;
  endpoints: number;
  accounts: number;
  regions: number;
  clouds: number;
  flows: number;
  packets: number;
  bytes: number;
  cv_packets: number | null;
  cv_bytes: number | null;
  cv_flows: number | null;
  first_seen: string;
  last_seen: string;
}

/** An outbound or internal alert as outbound.ndjson writes it. */
export interface AlertRow {
  window_start: string;
  window_end: string;
  cloud: string;
  account: string;
  region: string;
  src: string;
  protocol: number;
  dst_port: number | null;
  kind: string;
  target: string | null;
  targets: number;
  ports: number;
  flows: number;
  packets: number;
  bytes: number;
  interface: string | null;
  instance: string | null;
  severity: string;
  worm_signature: boolean;
  looks_like_nat: boolean;
  first_seen: string;
  last_seen: string;
}

/** A scanner of an export list (the history's summary of one IP over a period). */
export interface ListedRow extends SourceFacts {
  ip: string;
  days: number;
  first_seen: number; // Unix seconds
  last_seen: number;
  scan_keys: number;
  ports: number;
  flows: number;
  packets: number;
  bytes: number;
  max_endpoints: number;
  top_ports?: string[];
}

const SEVERITY: Record<string, [number, string]> = {
  info: [1, 'Informational'], low: [2, 'Low'], medium: [3, 'Medium'], high: [4, 'High'], critical: [5, 'Critical'],
};

function uid(...parts: Array<string | number | null>): string {
  return createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 32);
}

const ms = (iso: string) => Date.parse(iso);
const PROTOCOLS: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6' };
const portText = (protocol: number, port: number | null) => `${PROTOCOLS[protocol] ?? `proto ${protocol}`}${port === null ? '' : `/${port}`}`;

function ocsfBase(severity: string, time: number, start: number, end: number, count: number, message: string) {
  const [severity_id, severityName] = SEVERITY[severity] ?? SEVERITY.low!;
  return {
    activity_id: 1,
    activity_name: 'Create',
    category_uid: 2,
    category_name: 'Findings',
    class_uid: 2004,
    class_name: 'Detection Finding',
    type_uid: 200401,
    type_name: 'Detection Finding: Create',
    severity_id,
    severity: severityName,
    status_id: 1,
    status: 'New',
    is_alert: true,
    time,
    start_time: start,
    end_time: end,
    count,
    message,
    metadata: { version: OCSF_VERSION, product: PRODUCT, log_name: 'flowsieve' },
  };
}

function ocsfSource(ip: string, f: SourceFacts) {
  return {
    ip,
    ...(f.country ? { location: { country: f.country } } : {}),
    ...(f.asn ? { autonomous_system: { number: f.asn, ...(f.as_org ? { name: f.as_org } : {}) } } : {}),
  };
}

/** OCSF Detection Finding of one scan key (an internet scanner, detection.md §3). */
export function ocsfScan(s: ScanRow): Record<string, unknown> {
  const what = portText(s.protocol, s.dst_port);
  const message = `${s.src} scanned ${what} of ${s.endpoints} endpoints (${s.accounts} accounts, ${s.regions} regions) between ${s.first_seen} and ${s.last_seen}`;
  return {
    ...ocsfBase('low', ms(s.last_seen), ms(s.first_seen), ms(s.last_seen), s.flows, message),
    finding_info: {
      uid: uid('scan', s.window_start, s.src, s.protocol, s.dst_port),
      title: `Internet scanner ${s.src} on ${what}${s.actor ? ` (${s.actor})` : ''}`,
      desc: message,
      types: ['Network Scan', 'Internet scanner'],
      first_seen_time: ms(s.first_seen),
      last_seen_time: ms(s.last_seen),
      analytic: { type_id: 1, type: 'Rule', name: 'flowsieve inbound scan', uid: 'flowsieve-inbound-scan' },
      ...(s.actor ? { tags: [{ name: 'actor', value: s.actor }] } : {}),
    },
    evidences: [{ src_endpoint: ocsfSource(s.src, s), dst_endpoint: { port: s.dst_port }, connection_info: { protocol_num: s.protocol, direction_id: 1, direction: 'Inbound' } }],
    observables: [{ name: 'src_endpoint.ip', type_id: 2, type: 'IP Address', value: s.src }],
    unmapped: {
      window_start: s.window_start, window_end: s.window_end, endpoints: s.endpoints, accounts: s.accounts, regions: s.regions, clouds: s.clouds,
      packets: s.packets, bytes: s.bytes, cv_packets: s.cv_packets, cv_bytes: s.cv_bytes, cv_flows: s.cv_flows,
    },
  };
}

const CLOUD_PROVIDERS: Record<string, string> = { aws: 'AWS', azure: 'Azure', gcp: 'GCP' };

function alertTitle(a: AlertRow): string {
  const what = a.kind === 'vertical' ? `${a.ports} ports of ${a.target}` : `${portText(a.protocol, a.dst_port)} of ${a.targets} ${a.kind === 'internal' ? 'internal' : 'internet'} addresses`;
  const who = a.kind === 'internal' ? 'Internal scan (lateral movement)' : a.kind === 'own-range-scanner' ? 'Scanner in your own ranges' : 'Compromised host scanning the internet';
  return `${who}: ${a.src} scanned ${what}`;
}

/** OCSF Detection Finding of one outbound or internal alert (detection.md §4). */
export function ocsfAlert(a: AlertRow): Record<string, unknown> {
  const title = alertTitle(a);
  const provider = CLOUD_PROVIDERS[a.cloud];
  return {
    ...ocsfBase(a.severity, ms(a.last_seen), ms(a.first_seen), ms(a.last_seen), a.flows, title),
    ...(provider ? { cloud: { provider, ...(a.region ? { region: a.region } : {}), ...(a.account ? { account: { uid: a.account } } : {}) } } : {}),
    finding_info: {
      uid: uid('alert', a.window_start, a.cloud, a.account, a.src, a.protocol, a.dst_port, a.kind, a.target),
      title,
      desc: `${title} between ${a.first_seen} and ${a.last_seen}${a.worm_signature ? '; the host is itself scanned on that port (worm signature)' : ''}`,
      types: [a.kind === 'internal' ? 'Lateral Movement' : 'Compromised Host', 'Network Scan'],
      first_seen_time: ms(a.first_seen),
      last_seen_time: ms(a.last_seen),
      analytic: { type_id: 1, type: 'Rule', name: `flowsieve ${a.kind} scan`, uid: `flowsieve-${a.kind}-scan` },
    },
    evidences: [
      {
        src_endpoint: { ip: a.src, ...(a.interface ? { interface_uid: a.interface } : {}), ...(a.instance ? { instance_uid: a.instance } : {}) },
        ...(a.target ? { dst_endpoint: { ip: a.target } } : a.dst_port !== null ? { dst_endpoint: { port: a.dst_port } } : {}),
        connection_info: { protocol_num: a.protocol, direction_id: a.kind === 'internal' ? 3 : 2, direction: a.kind === 'internal' ? 'Lateral' : 'Outbound' },
      },
    ],
    resources: [{ ...(a.instance ? { uid: a.instance, type: 'instance' } : { uid: a.src, type: 'host' }), ...(a.region ? { region: a.region } : {}) }],
    observables: [{ name: 'evidences.src_endpoint.ip', type_id: 2, type: 'IP Address', value: a.src }],
    unmapped: {
      kind: a.kind, targets: a.targets, ports: a.ports, packets: a.packets, bytes: a.bytes, worm_signature: a.worm_signature,
      looks_like_nat: a.looks_like_nat, window_start: a.window_start, window_end: a.window_end,
    },
  };
}

/** OCSF Detection Finding of one scanner of an export list (its days in the history). */
export function ocsfListed(s: ListedRow, list: string): Record<string, unknown> {
  const first = s.first_seen * 1000;
  const last = s.last_seen * 1000;
  const message = `${s.ip} scanned on ${s.days} day(s): ${s.scan_keys} scan keys, ${s.ports} ports${s.top_ports?.length ? ` (${s.top_ports.join(', ')})` : ''}`;
  return {
    ...ocsfBase('low', last, first, last, s.flows, message),
    finding_info: {
      uid: uid('listed', list, s.ip),
      title: `Internet scanner ${s.ip}${s.actor ? ` (${s.actor})` : ''}`,
      desc: message,
      types: ['Network Scan', 'Internet scanner'],
      first_seen_time: first,
      last_seen_time: last,
      analytic: { type_id: 1, type: 'Rule', name: 'flowsieve inbound scan', uid: 'flowsieve-inbound-scan' },
      ...(s.actor ? { tags: [{ name: 'actor', value: s.actor }] } : {}),
    },
    evidences: [{ src_endpoint: ocsfSource(s.ip, s) }],
    observables: [{ name: 'evidences.src_endpoint.ip', type_id: 2, type: 'IP Address', value: s.ip }],
    unmapped: { list, days: s.days, scan_keys: s.scan_keys, ports: s.ports, max_endpoints: s.max_endpoints, packets: s.packets, bytes: s.bytes },
  };
}

// ---------------------------------------------------------------------------------------
// Elastic Common Schema

const TRANSPORT: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'ipv6-icmp' };

function ecsEvent(kind: 'alert', severity: string, start: string, end: string, id: string, action: string) {
  return {
    '@timestamp': end,
    ecs: { version: ECS_VERSION },
    event: {
      kind,
      category: ['network', 'intrusion_detection'],
      type: ['info', 'connection'],
      action,
      id,
      start,
      end,
      severity: (SEVERITY[severity] ?? SEVERITY.low!)[0],
      dataset: 'flowsieve.findings',
      module: 'flowsieve',
    },
    observer: { product: 'flowsieve', vendor: 'flowsieve', type: 'ids' },
  };
}

function ecsSource(ip: string, f: SourceFacts) {
  return {
    ip,
    ...(f.country ? { geo: { country_iso_code: f.country } } : {}),
    ...(f.asn ? { as: { number: f.asn, ...(f.as_org ? { organization: { name: f.as_org } } : {}) } } : {}),
  };
}

/** ECS document of one scan key. */
export function ecsScan(s: ScanRow): Record<string, unknown> {
  const what = portText(s.protocol, s.dst_port);
  return {
    ...ecsEvent('alert', 'low', s.first_seen, s.last_seen, uid('scan', s.window_start, s.src, s.protocol, s.dst_port), 'network-scan'),
    message: `${s.src} scanned ${what} of ${s.endpoints} endpoints`,
    rule: { name: 'flowsieve inbound scan', id: 'flowsieve-inbound-scan', category: 'Internet scanner' },
    source: { ...ecsSource(s.src, s), packets: s.packets, bytes: s.bytes },
    destination: { port: s.dst_port },
    network: { iana_number: String(s.protocol), ...(TRANSPORT[s.protocol] ? { transport: TRANSPORT[s.protocol] } : {}), direction: 'inbound' },
    related: { ip: [s.src] },
    ...(s.actor ? { threat: { indicator: { type: 'ipv4-addr', ip: s.src, description: s.actor } }, tags: [`actor:${s.actor}`] } : {}),
    labels: { window_start: s.window_start, endpoints: String(s.endpoints), accounts: String(s.accounts), regions: String(s.regions) },
  };
}

/** ECS document of one outbound or internal alert. */
export function ecsAlert(a: AlertRow): Record<string, unknown> {
  return {
    ...ecsEvent('alert', a.severity, a.first_seen, a.last_seen, uid('alert', a.window_start, a.cloud, a.account, a.src, a.protocol, a.dst_port, a.kind, a.target), `${a.kind}-scan`),
    message: alertTitle(a),
    rule: { name: `flowsieve ${a.kind} scan`, id: `flowsieve-${a.kind}-scan`, category: a.kind === 'internal' ? 'Lateral movement' : 'Compromised host' },
    source: { ip: a.src, packets: a.packets, bytes: a.bytes },
    ...(a.target ? { destination: { ip: a.target } } : a.dst_port !== null ? { destination: { port: a.dst_port } } : {}),
    network: { iana_number: String(a.protocol), ...(TRANSPORT[a.protocol] ? { transport: TRANSPORT[a.protocol] } : {}), direction: a.kind === 'internal' ? 'internal' : 'outbound' },
    ...(CLOUD_PROVIDERS[a.cloud] ? { cloud: { provider: a.cloud, ...(a.account ? { account: { id: a.account } } : {}), ...(a.region ? { region: a.region } : {}), ...(a.instance ? { instance: { id: a.instance } } : {}) } } : {}),
    host: { ip: [a.src], ...(a.instance ? { id: a.instance } : {}) },
    related: { ip: [a.src, ...(a.target ? [a.target] : [])] },
    labels: { ...(a.interface ? { interface: a.interface } : {}), kind: a.kind, targets: String(a.targets), ports: String(a.ports), worm_signature: String(a.worm_signature), looks_like_nat: String(a.looks_like_nat) },
  };
}

/** ECS document of one scanner of an export list. */
export function ecsListed(s: ListedRow, list: string): Record<string, unknown> {
  const iso = (t: number) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  return {
    ...ecsEvent('alert', 'low', iso(s.first_seen), iso(s.last_seen), uid('listed', list, s.ip), 'network-scan'),
    message: `${s.ip} scanned on ${s.days} day(s): ${s.scan_keys} scan keys, ${s.ports} ports`,
    rule: { name: 'flowsieve inbound scan', id: 'flowsieve-inbound-scan', category: 'Internet scanner' },
    source: { ...ecsSource(s.ip, s), packets: s.packets, bytes: s.bytes },
    related: { ip: [s.ip] },
    ...(s.actor ? { threat: { indicator: { type: s.ip.includes(':') ? 'ipv6-addr' : 'ipv4-addr', ip: s.ip, description: s.actor } }, tags: [`actor:${s.actor}`] } : {}),
    labels: { list, days: String(s.days), scan_keys: String(s.scan_keys), top_ports: (s.top_ports ?? []).join(' ') },
  };
}

/** The lines of findings.<format>.ndjson for a detect run: the scan keys, then the alerts. */
export function findingLines(format: FindingFormat, scans: ScanRow[], alerts: AlertRow[]): string[] {
  const scan = format === 'ocsf' ? ocsfScan : ecsScan;
  const alert = format === 'ocsf' ? ocsfAlert : ecsAlert;
  return [...scans.map((s) => JSON.stringify(scan(s))), ...alerts.map((a) => JSON.stringify(alert(a)))];
}
