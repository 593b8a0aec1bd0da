/**
 * What one detect run adds to the history, grouped from its scan verdicts: per UTC day and
 * scanner IP, per (day, IP, protocol, port), and per endpoint-day. A scanner on day D is a
 * source with a scan key whose window lies in D (detection.md §3); windows never straddle days.
 */
import type { DetectResult } from '../engine/types.js';
import type { KeyVerdict } from '../engine/verdict.js';
import { isV4 } from '../net/address.js';

export interface ScannerDayRow {
  day: string;
  ip: string;
  ipKey: Buffer;
  scanKeys: number;
  flows: number;
  packets: number;
  bytes: number;
  ports: number; // distinct (protocol, port) pairs
  maxEndpoints: number; // the most endpoints one of its keys touched (distinct endpoints across keys are not kept)
  firstSeen: number;
  lastSeen: number;
}

export interface ScannerDayPortRow {
  day: string;
  ip: string;
  protocol: number;
  port: number;
  scanKeys: number;
  flows: number;
  packets: number;
  bytes: number;
  maxEndpoints: number;
}

export interface EndpointDayRow {
  day: string;
  cloud: string;
  account: string;
  endpoint: string;
  scannerIps: number;
  ports: number;
}

export interface RunRows {
  scannerDays: ScannerDayRow[];
  scannerDayPorts: ScannerDayPortRow[];
  endpointDays: EndpointDayRow[];
}

/** The UTC day (YYYY-MM-DD) of a window. */
export function dayOfWindow(window: number, windowSeconds: number): string {
  return new Date(window * windowSeconds * 1000).toISOString().slice(0, 10);
}

/** A key that sorts addresses like the verdict output: IPv4 before IPv6, then numerically. */
export function ipKeyOf(words: ArrayLike<number>): Buffer {
  const b = Buffer.alloc(17);
  b[0] = isV4(words) ? 4 : 6;
  for (let k = 0; k < 4; k++) b.writeUInt32BE(words[k]! >>> 0, 1 + 4 * k);
  return b;
}

export function runRows(result: Pick<DetectResult, 'scans' | 'endpointDays'>, windowSeconds: number): RunRows {
  const days = new Map<string, ScannerDayRow>();
  const ports = new Map<string, ScannerDayPortRow>();
  for (const v of result.scans) {
    const day = dayOfWindow(v.window, windowSeconds);
    addPort(ports, day, v);
    const k = `${day}|${v.src}`;
    const d = days.get(k);
    if (!d) {
      days.set(k, {
        day, ip: v.src, ipKey: ipKeyOf(v.srcWords), scanKeys: 1, flows: v.flows, packets: v.packets, bytes: v.bytes,
        ports: 0, maxEndpoints: v.endpoints, firstSeen: v.firstSeen, lastSeen: v.lastSeen,
      });
      continue;
    }
    d.scanKeys++;
    d.flows += v.flows;
    d.packets += v.packets;
    d.bytes += v.bytes;
    d.maxEndpoints = Math.max(d.maxEndpoints, v.endpoints);
    d.firstSeen = Math.min(d.firstSeen, v.firstSeen);
    d.lastSeen = Math.max(d.lastSeen, v.lastSeen);
  }
  for (const p of ports.values()) days.get(`${p.day}|${p.ip}`)!.ports++;
  const endpointDays = (result.endpointDays ?? []).map((e) => ({
    day: e.day, cloud: e.cloud, account: e.account, endpoint: e.endpoint, scannerIps: e.scanners, ports: e.ports.length,
  }));
  return { scannerDays: [...days.values()], scannerDayPorts: [...ports.values()], endpointDays };
}

function addPort(ports: Map<string, ScannerDayPortRow>, day: string, v: KeyVerdict): void {
  const k = `${day}|${v.src}|${v.protocol}|${v.dstPort}`;
  const p = ports.get(k);
  if (!p) {
    ports.set(k, {
      day, ip: v.src, protocol: v.protocol, port: v.dstPort, scanKeys: 1, flows: v.flows, packets: v.packets, bytes: v.bytes, maxEndpoints: v.endpoints,
    });
    return;
  }
  p.scanKeys++;
  p.flows += v.flows;
  p.packets += v.packets;
  p.bytes += v.bytes;
  p.maxEndpoints = Math.max(p.maxEndpoints, v.endpoints);
}
