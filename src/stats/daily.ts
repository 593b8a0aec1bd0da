/**
 * Per UTC day (detection.md §5): unique scanner IPs, scanned (protocol, port) pairs, scan keys,
 * scanning flows / packets / bytes, and how they split between TCP, UDP and the other
 * protocols. A scan key belongs to the day its window lies in (windows never cross
 * midnight, detection.md §3).
 */
import type { KeyVerdict } from '../engine/verdict.js';
import { share } from './distribution.js';

export type ProtocolClass = 'tcp' | 'udp' | 'other';

export function protocolClass(protocol: number): ProtocolClass {
  return protocol === 6 ? 'tcp' : protocol === 17 ? 'udp' : 'other';
}

export interface ProtocolDay {
  scan_keys: number;
  scanner_ips: number;
  ports: number; // distinct (protocol, port) pairs of this class
  flows: number;
  packets: number;
  bytes: number;
}

export interface DayStats {
  day: string; // YYYY-MM-DD (UTC)
  scanner_ips: number;
  scanned_ports: number; // distinct (protocol, port) pairs
  scan_keys: number;
  flows: number;
  packets: number; // known counts only (detection.md §2)
  bytes: number;
  protocols: Record<ProtocolClass, ProtocolDay>;
  /** Share of the day's scanning flows per protocol class (0..1, sums to 1 up to rounding). */
  flow_share: Record<ProtocolClass, number>;
  /** Share of the day's scan keys per protocol class. */
  key_share: Record<ProtocolClass, number>;
}

/** The UTC day (YYYY-MM-DD) of a window. */
export function dayOfWindow(window: number, windowSeconds: number): string {
  return new Date(window * windowSeconds * 1000).toISOString().slice(0, 10);
}

interface DayAcc {
  ips: Set<string>;
  ports: Set<number>;
  keys: number;
  flows: number;
  packets: number;
  bytes: number;
  cls: Record<ProtocolClass, { ips: Set<string>; ports: Set<number>; keys: number; flows: number; packets: number; bytes: number }>;
}

function newClass() {
  return { ips: new Set<string>(), ports: new Set<number>(), keys: 0, flows: 0, packets: 0, bytes: 0 };
}

export function dailyStats(scans: readonly KeyVerdict[], windowSeconds: number): DayStats[] {
  const days = new Map<string, DayAcc>();
  for (const v of scans) {
    const day = dayOfWindow(v.window, windowSeconds);
    let d = days.get(day);
    if (!d) {
      d = { ips: new Set(), ports: new Set(), keys: 0, flows: 0, packets: 0, bytes: 0, cls: { tcp: newClass(), udp: newClass(), other: newClass() } };
      days.set(day, d);
    }
    const port = v.protocol * 65536 + v.dstPort;
    const c = d.cls[protocolClass(v.protocol)];
    for (const acc of [d, c]) {
      acc.ips.add(v.src);
      acc.ports.add(port);
      acc.keys++;
      acc.flows += v.flows;
      acc.packets += v.packets;
      acc.bytes += v.bytes;
    }
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, d]) => {
      const classes = ['tcp', 'udp', 'other'] as const;
      const protocols = Object.fromEntries(
        classes.map((k) => {
          const c = d.cls[k];
          return [k, { scan_keys: c.keys, scanner_ips: c.ips.size, ports: c.ports.size, flows: c.flows, packets: c.packets, bytes: c.bytes }];
        }),
      ) as Record<ProtocolClass, ProtocolDay>;
      return {
        day,
        scanner_ips: d.ips.size,
        scanned_ports: d.ports.size,
        scan_keys: d.keys,
        flows: d.flows,
        packets: d.packets,
        bytes: d.bytes,
        protocols,
        flow_share: Object.fromEntries(classes.map((k) => [k, share(d.cls[k].flows, d.flows)])) as Record<ProtocolClass, number>,
        key_share: Object.fromEntries(classes.map((k) => [k, share(d.cls[k].keys, d.keys)])) as Record<ProtocolClass, number>,
      };
    });
}
