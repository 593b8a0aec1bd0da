/**
 * Compromised-host alerts (detection.md §4, issue 5), assembled from the shards' outbound
 * findings: allow list (NAT gateways, load balancers), the worm signature (the host is
 * itself being scanned on the port it scans), the NAT look, severity, and inbound
 * scanners that come from the user's own address space.
 */
import type { OutboundFinding } from '../engine/outbound-table.js';
import type { EndpointDay, KeyVerdict } from '../engine/verdict.js';
import { cidrContains, type Cidr } from '../net/cidr.js';
import { compareAddress, parseAddress } from '../net/address.js';

export interface AllowList {
  cidrs: Cidr[];
  names: Set<string>; // interface or instance ids
}

/** What an alert keeps of its finding: all but the host-wide figures the finding was judged by. */
type AlertedFinding = Omit<OutboundFinding, 'kind' | 'protocolsOfHost' | 'portsOfHost' | 'targetsOfHost' | 'sourcePortSpread'>;

export interface OutboundAlert extends AlertedFinding {
  kind: OutboundFinding['kind'] | 'own-range-scanner';
  looksLikeNat: boolean;
  wormSignature: boolean;
  severity: 'low' | 'medium' | 'high' | 'critical';
}

export interface AlertResult {
  alerts: OutboundAlert[];
  suppressed: number; // findings dropped by the allow list
}

/**
 * A host looks like a NAT or load balancer when it forwards many kinds of traffic: many
 * protocols, or many destination ports of many targets from widely spread source ports.
 * A worm also uses random source ports but towards one port, and a vertical scan many
 * ports but of one target: neither looks like a NAT.
 */
function looksLikeNat(f: OutboundFinding): boolean {
  return f.protocolsOfHost >= 3 || (f.sourcePortSpread >= 28 && f.portsOfHost >= 10 && f.targetsOfHost >= 10);
}

/** Severity rises with the targets and ports, and with the worm signature. */
export function severityOf(targets: number, ports: number, worm: boolean): OutboundAlert['severity'] {
  let score = Math.log10(Math.max(1, targets)) + Math.log10(Math.max(1, ports));
  if (worm) score += 1.5;
  if (score >= 4) return 'critical';
  if (score >= 3) return 'high';
  if (score >= 2) return 'medium';
  return 'low';
}

function allowed(f: { srcWords: number[]; iface: string; instance: string }, allow?: AllowList): boolean {
  if (!allow) return false;
  if (allow.cidrs.some((c) => cidrContains(c, f.srcWords))) return true;
  const ids = [...f.iface.split(';'), ...f.instance.split(';')].filter(Boolean);
  return ids.length > 0 && ids.some((id) => allow.names.has(id));
}

export function buildAlerts(
  findings: OutboundFinding[],
  scans: KeyVerdict[],
  endpointDays: EndpointDay[],
  windowSeconds: number,
  opts: { allow?: AllowList; ownCidrs?: Cidr[] },
): AlertResult {
  // hosts being scanned, by (day, cloud, account, address) -> scanned protocol<<16|port
  const scanned = new Map<string, Set<number>>();
  for (const d of endpointDays) scanned.set(`${d.day}|${d.cloud}|${d.account}|${d.endpoint}`, new Set(d.ports));
  const alerts: OutboundAlert[] = [];
  let suppressed = 0;
  for (const f of findings) {
    if (allowed(f, opts.allow)) {
      suppressed++;
      continue;
    }
    const day = new Date(f.window * windowSeconds * 1000).toISOString().slice(0, 10);
    const ports = scanned.get(`${day}|${f.cloud}|${f.account}|${f.src}`);
    const worm = f.dstPort !== null && ports !== undefined && ports.has(((f.protocol << 16) | f.dstPort) >>> 0);
    alerts.push({
      kind: f.kind,
      window: f.window,
      cloud: f.cloud,
      account: f.account,
      region: f.region,
      srcWords: f.srcWords,
      src: f.src,
      protocol: f.protocol,
      dstPort: f.dstPort,
      target: f.target,
      targets: f.targets,
      ports: f.ports,
      portList: f.portList,
      flows: f.flows,
      packets: f.packets,
      bytes: f.bytes,
      cvPackets: f.cvPackets,
      cvBytes: f.cvBytes,
      cvFlows: f.cvFlows,
      iface: f.iface,
      instance: f.instance,
      looksLikeNat: looksLikeNat(f),
      wormSignature: worm,
      severity: severityOf(f.targets, f.ports, worm),
      firstSeen: f.firstSeen,
      lastSeen: f.lastSeen,
    });
  }
  // inbound scanners from the user's own public ranges are raised the same way
  for (const v of opts.ownCidrs?.length ? scans : []) {
    if (!opts.ownCidrs!.some((c) => cidrContains(c, v.srcWords))) continue;
    alerts.push({
      kind: 'own-range-scanner',
      window: v.window,
      cloud: '',
      account: '',
      region: '',
      srcWords: v.srcWords,
      src: v.src,
      protocol: v.protocol,
      dstPort: v.dstPort,
      target: null,
      targets: v.endpoints,
      ports: 1,
      portList: [v.dstPort],
      flows: v.flows,
      packets: v.packets,
      bytes: v.bytes,
      cvPackets: v.cvPackets,
      cvBytes: v.cvBytes,
      cvFlows: v.cvFlows,
      iface: '',
      instance: '',
      looksLikeNat: false,
      wormSignature: false,
      severity: severityOf(v.endpoints, 1, false),
      firstSeen: v.firstSeen,
      lastSeen: v.lastSeen,
    });
  }
  alerts.sort(compareAlerts);
  return { alerts, suppressed };
}

/** detection.md §7 order: window_start, cloud, account, src, protocol, dst_port (then kind and target for ties). */
export function compareAlerts(a: OutboundAlert, b: OutboundAlert): number {
  return (
    a.window - b.window ||
    cmp(a.cloud, b.cloud) ||
    cmp(a.account, b.account) ||
    compareAddress(a.srcWords, 0, b.srcWords, 0) ||
    a.protocol - b.protocol ||
    (a.dstPort ?? -1) - (b.dstPort ?? -1) ||
    cmp(a.kind, b.kind) ||
    compareTargets(a.target, b.target)
  );
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareTargets(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return compareAddress(parseAddress(a)!, 0, parseAddress(b)!, 0);
}
