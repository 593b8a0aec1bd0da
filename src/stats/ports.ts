/**
 * The scanned services (detection.md §5): for every scanned (protocol, port), the distinct scanner
 * IPs, scan keys and scanning flows / packets / bytes, over the run and per day; the top
 * ports per protocol by scanner IPs and by flows, each with its IANA service name; and how
 * much of all scanning the top three services account for.
 */
import type { KeyVerdict } from '../engine/verdict.js';
import { dayOfWindow } from './daily.js';
import { share } from './distribution.js';
import { protocolName, services } from './services.js';

export interface PortRow {
  protocol: number;
  protocol_name: string;
  port: number;
  service: string | null; // IANA service name (tcp, udp, sctp, dccp only)
  service_description: string | null;
  scanner_ips: number;
  scan_keys: number;
  flows: number;
  packets: number;
  bytes: number;
  days: number; // distinct UTC days with a scan of this port
}

export interface PortDayRow extends Omit<PortRow, 'days' | 'service_description'> {
  day: string;
}

export interface ProtocolTop {
  protocol: number;
  protocol_name: string;
  ports_scanned: number;
  scanner_ips: number;
  flows: number;
  by_scanner_ips: PortRow[];
  by_flows: PortRow[];
}

export interface TopShare {
  services: Array<{ protocol: number; port: number; service: string | null }>;
  share: number; // 0..1
}

export interface PortStats {
  ports: PortRow[]; // every scanned (protocol, port), by scanner IPs descending
  per_day: PortDayRow[]; // every (day, protocol, port), by day then scanner IPs descending
  top: ProtocolTop[]; // per protocol, protocols by flows descending
  /** Top three (protocol, port)s by flows: their share of all scanning flows. */
  top3_by_flows: TopShare;
  /** Top three by scanner IPs: the share of all scanner IPs that scanned at least one of them. */
  top3_by_scanner_ips: TopShare;
  service_source: string;
}

interface Acc {
  protocol: number;
  port: number;
  ips: Set<string>;
  keys: number;
  flows: number;
  packets: number;
  bytes: number;
  days: Set<string>;
}

function acc(protocol: number, port: number): Acc {
  return { protocol, port, ips: new Set(), keys: 0, flows: 0, packets: 0, bytes: 0, days: new Set() };
}

function add(a: Acc, v: KeyVerdict, day: string): void {
  a.ips.add(v.src);
  a.keys++;
  a.flows += v.flows;
  a.packets += v.packets;
  a.bytes += v.bytes;
  a.days.add(day);
}

/** Ties broken by protocol then port, so the order is total and deterministic. */
const byScanners = (a: Acc, b: Acc) => b.ips.size - a.ips.size || b.flows - a.flows || a.protocol - b.protocol || a.port - b.port;
const byFlows = (a: Acc, b: Acc) => b.flows - a.flows || b.ips.size - a.ips.size || a.protocol - b.protocol || a.port - b.port;

export function portStats(scans: readonly KeyVerdict[], windowSeconds: number, topN: number): PortStats {
  const svc = services();
  const all = new Map<number, Acc>();
  const daily = new Map<string, Map<number, Acc>>();
  const allIps = new Set<string>();
  let totalFlows = 0;
  for (const v of scans) {
    const key = v.protocol * 65536 + v.dstPort;
    const day = dayOfWindow(v.window, windowSeconds);
    let a = all.get(key);
    if (!a) all.set(key, (a = acc(v.protocol, v.dstPort)));
    add(a, v, day);
    let dm = daily.get(day);
    if (!dm) daily.set(day, (dm = new Map()));
    let d = dm.get(key);
    if (!d) dm.set(key, (d = acc(v.protocol, v.dstPort)));
    add(d, v, day);
    allIps.add(v.src);
    totalFlows += v.flows;
  }
  const row = (a: Acc): PortRow => {
    const s = svc.lookup(a.protocol, a.port);
    return {
      protocol: a.protocol,
      protocol_name: protocolName(a.protocol),
      port: a.port,
      service: s?.name ?? null,
      service_description: s?.description ?? null,
      scanner_ips: a.ips.size,
      scan_keys: a.keys,
      flows: a.flows,
      packets: a.packets,
      bytes: a.bytes,
      days: a.days.size,
    };
  };
  const accs = [...all.values()];
  const ports = accs.slice().sort(byScanners).map(row);
  const per_day: PortDayRow[] = [];
  for (const day of [...daily.keys()].sort()) {
    for (const a of [...daily.get(day)!.values()].sort(byScanners)) {
      const { days: _d, service_description: _s, ...rest } = row(a);
      per_day.push({ day, ...rest });
    }
  }
  const top = topPerProtocol(accs, topN, row);
  const top3f = accs.slice().sort(byFlows).slice(0, 3);
  const top3s = accs.slice().sort(byScanners).slice(0, 3);
  const union = new Set<string>();
  for (const a of top3s) for (const ip of a.ips) union.add(ip);
  const label = (a: Acc) => ({ protocol: a.protocol, port: a.port, service: svc.lookup(a.protocol, a.port)?.name ?? null });
  return {
    ports,
    per_day,
    top,
    top3_by_flows: { services: top3f.map(label), share: share(top3f.reduce((s, a) => s + a.flows, 0), totalFlows) },
    top3_by_scanner_ips: { services: top3s.map(label), share: share(union.size, allIps.size) },
    service_source: svc.source,
  };
}

function topPerProtocol(accs: Acc[], topN: number, row: (a: Acc) => PortRow): ProtocolTop[] {
  const byProto = new Map<number, Acc[]>();
  for (const a of accs) {
    let list = byProto.get(a.protocol);
    if (!list) byProto.set(a.protocol, (list = []));
    list.push(a);
  }
  const out: ProtocolTop[] = [];
  for (const [protocol, list] of byProto) {
    const ips = new Set<string>();
    let flows = 0;
    for (const a of list) {
      for (const ip of a.ips) ips.add(ip);
      flows += a.flows;
    }
    out.push({
      protocol,
      protocol_name: protocolName(protocol),
      ports_scanned: list.length,
      scanner_ips: ips.size,
      flows,
      by_scanner_ips: list.slice().sort(byScanners).slice(0, topN).map(row),
      by_flows: list.slice().sort(byFlows).slice(0, topN).map(row),
    });
  }
  return out.sort((a, b) => b.flows - a.flows || a.protocol - b.protocol);
}
