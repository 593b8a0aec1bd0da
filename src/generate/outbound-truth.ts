/**
 * The outbound half of the ground truth (detection.md §4, issue 5), computed from what was
 * written: every planted record that detection.md §4 calls outbound (direction egress, or
 * unknown with a source that is not public; destination public; not a response, not
 * backscatter, not ICMP) is added to its (cloud, account, src, protocol, dst_port,
 * window, dst) entry, as the engine's OutboundTable does. At the end entries are grouped
 * by key into horizontal scans (targets >= min_targets, CVs within limits) and by
 * (host, protocol, window, target) into vertical scans (ports >= min_ports), with the
 * engine's own CV, severity and ordering functions; the worm signature comes from the
 * inbound truth (the host is an endpoint of a scan key on that port that day).
 * Records between two non-public addresses make internal entries, grouped by key only
 * into internal scans (targets >= min_internal_targets, the same CV limits).
 */
import { coefficientOfVariation } from '../detect/rules.js';
import { compareAlerts, severityOf, type OutboundAlert } from '../detect/outbound.js';
import { DEFAULT_OUTBOUND, type OutboundThresholds } from '../engine/outbound-table.js';
import type { AlertRow } from '../output/findings.js';
import { isoSeconds } from './clock.js';
import type { Observed } from './record.js';

export interface Canonical {
  text: string;
  words: Uint32Array;
  public: boolean;
}

interface Entry {
  entity: number;
  cloud: string;
  account: string;
  src: Canonical;
  proto: number;
  dport: number;
  window: number;
  dst: Canonical;
  f: number;
  p: number;
  b: number;
  pKnown: boolean;
  bKnown: boolean;
  first: number;
  last: number;
  // the smallest non-empty id seen, as the engine keeps them (independent of record order)
  iface: string;
  instance: string;
  region: string;
}

/**
 * One expected line of outbound.ndjson (alertRecord's fields, but looks_like_nat): the
 * AlertRow findings read, with the alert's ports and coefficients of variation.
 */
export interface ExpectedAlert extends Omit<AlertRow, 'kind' | 'looks_like_nat'> {
  kind: 'horizontal' | 'vertical' | 'internal';
  port_list: number[];
  cv_packets: number | null;
  cv_bytes: number | null;
  cv_flows: number;
}

/** A horizontal or vertical group of entries with its features and what it fails. */
export interface OutboundGroup {
  entity: number;
  alert: ExpectedAlert;
  /** Conditions failed ([] = an alert before the allow list). */
  failed: string[];
  /** For sorting with the engine's compareAlerts. */
  order: Pick<OutboundAlert, 'window' | 'cloud' | 'account' | 'srcWords' | 'protocol' | 'dstPort' | 'kind' | 'target'>;
}

/** What is kept of an entity's groups once their windows are closed. */
export interface EntityOutbound {
  horizontalKeys: number;
  largestHorizontal: OutboundGroup | null;
  largestVertical: OutboundGroup | null;
}

export class OutboundTracker {
  private entries = new Map<string, Entry>();
  /** Groups of closed windows that pass the thresholds (alerts before the allow list). */
  private readonly passing: OutboundGroup[] = [];
  private readonly perEntity = new Map<number, EntityOutbound>();
  /** Windows ending at or before this time are closed. */
  private closedUpTo = -Infinity;
  /** Planted records that took part in outbound detection. */
  outbound = 0;

  constructor(
    private readonly windowSeconds: number,
    private readonly thresholds: OutboundThresholds = DEFAULT_OUTBOUND,
  ) {}

  observe(entity: number, r: Observed, src: Canonical, dst: Canonical): void {
    // detection.md §4: outbound records, and of them not the responses, the backscatter nor ICMP
    const outbound = (r.direction === 'egress' || (r.direction === '' && !src.public)) && dst.public;
    const internal = !src.public && !dst.public; // internal scanning (detection.md §4), whatever the direction
    if ((!outbound && !internal) || r.proto === 1 || r.proto === 58) return;
    if (r.sport < 1024 && r.dport >= 1024) return;
    if (r.proto === 6 && (r.tcpFlags === 18 || r.tcpFlags === 4 || r.tcpFlags === 22)) return;
    if (outbound) this.outbound++;
    const window = Math.floor(r.start / this.windowSeconds);
    if ((window + 1) * this.windowSeconds <= this.closedUpTo) throw new Error(`generator bug: a record at ${r.start} for a closed window`);
    const id = `${r.cloud}|${r.account}|${src.text}|${r.proto}|${r.dport}|${window}|${dst.text}`;
    let e = this.entries.get(id);
    if (!e) {
      e = {
        entity, cloud: r.cloud, account: r.account, src, proto: r.proto, dport: r.dport, window, dst,
        f: 0, p: 0, b: 0, pKnown: false, bKnown: false, first: r.start, last: r.end, iface: '', instance: '', region: '',
      };
      this.entries.set(id, e);
    }
    e.f++;
    if (!Number.isNaN(r.packets)) {
      e.p += r.packets;
      e.pKnown = true;
    }
    if (!Number.isNaN(r.bytes)) {
      e.b += r.bytes;
      e.bKnown = true;
    }
    if (r.start < e.first) e.first = r.start;
    if (r.end > e.last) e.last = r.end;
    e.iface = smallest(e.iface, r.iface);
    e.instance = smallest(e.instance, r.instance);
    e.region = smallest(e.region, r.region);
  }

  /**
   * Group and judge the entries of the windows that end at or before `t` (the generator
   * writes in time order, so all their records are in), and forget them: the state is
   * one day of entries, whatever --days. `scannedOn(day)` gives, per
   * `day|cloud|account|address`, the protocol << 16 | port pairs on which that endpoint
   * was scanned that day (the worm signature).
   */
  close(t: number, scannedOn: (day: string) => Map<string, Set<number>>): void {
    const W = this.windowSeconds;
    const host = (e: Entry) => `${e.cloud}|${e.account}|${e.src.text}|${e.window}`;
    const horizontal = new Map<string, Entry[]>();
    const vertical = new Map<string, Entry[]>();
    const internal = new Map<string, Entry[]>();
    const keep = new Map<string, Entry>();
    for (const [id, e] of this.entries) {
      if ((e.window + 1) * W > t) {
        keep.set(id, e);
        continue;
      }
      if (!e.dst.public) {
        push(internal, `${host(e)}|${e.proto}|${e.dport}`, e);
        continue;
      }
      push(horizontal, `${host(e)}|${e.proto}|${e.dport}`, e);
      push(vertical, `${host(e)}|${e.proto}|${e.dst.text}`, e);
    }
    this.entries = keep;
    this.closedUpTo = Math.max(this.closedUpTo, t);
    const days = new Map<string, Map<string, Set<number>>>();
    const scanned = (day: string) => days.get(day) ?? days.set(day, scannedOn(day)).get(day)!;
    for (const list of horizontal.values()) this.judge(this.group('horizontal', list, scanned));
    for (const list of vertical.values()) this.judge(this.group('vertical', list, scanned));
    for (const list of internal.values()) this.judge(this.group('internal', list, scanned));
  }

  private judge(g: OutboundGroup): void {
    if (g.failed.length === 0) this.passing.push(g);
    let s = this.perEntity.get(g.entity);
    if (!s) this.perEntity.set(g.entity, (s = { horizontalKeys: 0, largestHorizontal: null, largestVertical: null }));
    const size = (x: OutboundGroup | null) => (x ? x.alert.targets * x.alert.ports : -1);
    if (g.alert.kind !== 'vertical') {
      s.horizontalKeys++;
      if (size(g) > size(s.largestHorizontal)) s.largestHorizontal = g;
    } else if (size(g) > size(s.largestVertical)) {
      s.largestVertical = g;
    }
  }

  /** Close every window, and give the groups that pass the thresholds, sorted like outbound.ndjson, and each entity's summary. */
  results(scannedOn: (day: string) => Map<string, Set<number>>): { passing: OutboundGroup[]; perEntity: Map<number, EntityOutbound> } {
    this.close(Infinity, scannedOn);
    const passing = this.passing.slice().sort((a, b) => compareAlerts(a.order as OutboundAlert, b.order as OutboundAlert));
    return { passing, perEntity: this.perEntity };
  }

  private group(kind: ExpectedAlert['kind'], list: Entry[], scanned: (day: string) => Map<string, Set<number>>): OutboundGroup {
    const t = this.thresholds;
    const m = list.length;
    const fv = new Float64Array(m);
    const pv = new Float64Array(m);
    const bv = new Float64Array(m);
    let nP = 0;
    let nB = 0;
    let flows = 0;
    let packets = 0;
    let bytes = 0;
    let first = Infinity;
    let last = 0;
    const ifaces = new Set<string>();
    const instances = new Set<string>();
    const regions = new Set<string>();
    list.forEach((e, j) => {
      fv[j] = e.f;
      flows += e.f;
      if (e.pKnown) {
        pv[nP++] = e.p;
        packets += e.p;
      }
      if (e.bKnown) {
        bv[nB++] = e.b;
        bytes += e.b;
      }
      first = Math.min(first, e.first);
      last = Math.max(last, e.last);
      if (e.iface) ifaces.add(e.iface);
      if (e.instance) instances.add(e.instance);
      if (e.region) regions.add(e.region);
    });
    const e0 = list[0]!;
    const cvPackets = nP ? coefficientOfVariation(pv, nP) : null;
    const cvBytes = nB ? coefficientOfVariation(bv, nB) : null;
    const ports = kind === 'vertical' ? [...new Set(list.map((e) => e.dport))].sort((a, b) => a - b) : [e0.dport];
    const targets = kind !== 'vertical' ? m : 1;
    const failed: string[] = [];
    if (kind !== 'vertical') {
      const min = kind === 'internal' ? (t.minInternalTargets ?? DEFAULT_OUTBOUND.minInternalTargets) : t.minTargets;
      if (m < min) failed.push(`targets ${m} < ${kind === 'internal' ? 'min_internal_targets' : 'min_targets'} ${min}`);
      if (cvPackets !== null && cvPackets > t.maxCvPackets) failed.push(`cv_packets ${round6(cvPackets)} > ${t.maxCvPackets}`);
      if (cvBytes !== null && cvBytes > t.maxCvBytes) failed.push(`cv_bytes ${round6(cvBytes)} > ${t.maxCvBytes}`);
    } else if (ports.length < t.minPorts) {
      failed.push(`ports ${ports.length} < min_ports ${t.minPorts}`);
    }
    const W = this.windowSeconds;
    const day = isoSeconds(e0.window * W).slice(0, 10);
    const worm = kind !== 'vertical' && (scanned(day).get(`${day}|${e0.cloud}|${e0.account}|${e0.src.text}`)?.has(((e0.proto << 16) | e0.dport) >>> 0) ?? false);
    const names = (s: Set<string>) => [...s].sort().join(';');
    const target = kind === 'vertical' ? e0.dst.text : null;
    const dstPort = kind !== 'vertical' ? e0.dport : null;
    return {
      entity: e0.entity,
      failed,
      order: { window: e0.window, cloud: e0.cloud, account: e0.account, srcWords: Array.from(e0.src.words), protocol: e0.proto, dstPort, kind, target },
      alert: {
        window_start: isoSeconds(e0.window * W),
        window_end: isoSeconds((e0.window + 1) * W),
        cloud: e0.cloud,
        account: e0.account,
        region: names(regions),
        src: e0.src.text,
        protocol: e0.proto,
        dst_port: dstPort,
        kind,
        target,
        targets,
        ports: ports.length,
        port_list: ports.slice(0, 20),
        flows,
        packets,
        bytes,
        cv_packets: round6(cvPackets),
        cv_bytes: round6(cvBytes),
        cv_flows: round6(coefficientOfVariation(fv, m))!,
        interface: names(ifaces) || null,
        instance: names(instances) || null,
        severity: severityOf(targets, ports.length, worm),
        worm_signature: worm,
        first_seen: isoSeconds(first),
        last_seen: isoSeconds(last),
      },
    };
  }
}

function push(m: Map<string, Entry[]>, k: string, e: Entry): void {
  const list = m.get(k);
  if (list) list.push(e);
  else m.set(k, [e]);
}

function smallest(cur: string, id: string): string {
  if (id === '' || id === cur) return cur;
  return cur === '' || id < cur ? id : cur;
}

function round6(x: number | null): number | null {
  return x === null ? null : Math.round(x * 1e6) / 1e6;
}
