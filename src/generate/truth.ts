/**
 * The ground truth, computed from what was written: every record a writer writes for a
 * planted entity comes here in detection.md §2 form, is classified as detection.md §3 says (inbound,
 * not a response, not backscatter), and is added to its scan key's per-endpoint counts.
 * At the end each key gets the detection.md §3 features and verdicts under each profile, with
 * the engine's own CV and rule functions. Only planted sources are tracked (benign
 * sources are disjoint from them), so the state does not grow with --scale.
 */
import { DEFAULT_THRESHOLDS, PROFILES, coefficientOfVariation, failedConditions, type Thresholds } from '../detect/rules.js';
import { compareAddress, formatAddress, isPublicAddress, parseAddress } from '../net/address.js';
import type { ScanRow, SourceFacts } from '../output/findings.js';
import { isoSeconds } from './clock.js';
import type { Observed, Observer } from './record.js';
import { OutboundTracker } from './outbound-truth.js';

interface EndpointCounts {
  f: number;
  p: number;
  b: number;
  pKnown: number;
  bKnown: number;
}

interface KeyState {
  entity: number;
  src: string;
  srcWords: Uint32Array;
  proto: number;
  dport: number;
  window: number;
  endpoints: Map<string, EndpointCounts>;
  accounts: Set<string>;
  regions: Set<string>;
  clouds: Set<string>;
  first: number;
  last: number;
}

/** An expected scan key: output/findings' ScanRow (less the enrichment columns), with what decided it. */
export interface TruthKey extends Omit<ScanRow, keyof SourceFacts | 'cv_flows'> {
  entity: number;
  cv_flows: number;
  /** Profiles under which the key is a scan. */
  profiles: string[];
  /** Conditions failed under the default profile ([] = scan). */
  failed: string[];
  window: number;
  srcWords: Uint32Array;
}

export const PROFILE_THRESHOLDS: Record<string, Thresholds> = Object.fromEntries(
  Object.entries(PROFILES).map(([name, p]) => [name, { ...DEFAULT_THRESHOLDS, ...p }]),
);

export class TruthTracker implements Observer {
  private readonly keys = new Map<string, KeyState>();
  private readonly canon = new Map<string, { text: string; words: Uint32Array; public: boolean }>();
  /** Planted records written, and those that took part in inbound detection. */
  written = 0;
  inbound = 0;
  /** The outbound half (detection.md §4), fed the same records. */
  readonly outbound: OutboundTracker;

  constructor(private readonly windowSeconds: number) {
    this.outbound = new OutboundTracker(windowSeconds);
  }

  private address(text: string): { text: string; words: Uint32Array; public: boolean } {
    let a = this.canon.get(text);
    if (!a) {
      const words = parseAddress(text);
      if (!words) throw new Error(`generator wrote an invalid address: ${text}`);
      a = { text: formatAddress(words), words, public: isPublicAddress(text) };
      if (this.canon.size > 20_000) this.canon.clear(); // endpoints and planted sources stay far below; one-off outbound targets pass through
      this.canon.set(text, a);
    }
    return a;
  }

  observe(entity: number, r: Observed): void {
    this.written++;
    const src = this.address(r.src);
    const dst = this.address(r.dst);
    this.outbound.observe(entity, r, src, dst);
    // detection.md §3: inbound records, and of them not the responses nor the backscatter
    const inbound = r.direction === 'ingress' || (r.direction === '' && src.public && !dst.public);
    if (!inbound) return;
    if (r.sport < 1024 && r.dport >= 1024) return;
    if (r.proto === 6 && (r.tcpFlags === 18 || r.tcpFlags === 4 || r.tcpFlags === 22)) return;
    this.inbound++;
    const window = Math.floor(r.start / this.windowSeconds);
    const id = `${src.text}|${r.proto}|${r.dport}|${window}`;
    let k = this.keys.get(id);
    if (!k) {
      k = {
        entity, src: src.text, srcWords: src.words, proto: r.proto, dport: r.dport, window,
        endpoints: new Map(), accounts: new Set(), regions: new Set(), clouds: new Set(), first: r.start, last: r.end,
      };
      this.keys.set(id, k);
    }
    if (k.entity !== entity) throw new Error(`generator bug: two planted entities share the source ${src.text}`);
    const epKey = `${r.cloud}|${r.account}|${dst.text}`;
    let c = k.endpoints.get(epKey);
    if (!c) k.endpoints.set(epKey, (c = { f: 0, p: 0, b: 0, pKnown: 0, bKnown: 0 }));
    c.f++;
    if (!Number.isNaN(r.packets)) {
      c.p += r.packets;
      c.pKnown++;
    }
    if (!Number.isNaN(r.bytes)) {
      c.b += r.bytes;
      c.bKnown++;
    }
    k.accounts.add(`${r.cloud}|${r.account}`);
    k.regions.add(`${r.cloud}|${r.region}`);
    k.clouds.add(r.cloud);
    if (r.start < k.first) k.first = r.start;
    if (r.end > k.last) k.last = r.end;
  }

  /**
   * The endpoints of the scan keys of UTC day `day` (YYYY-MM-DD) under `profile`, as the
   * engine's endpoint days give them to the worm signature: `day|cloud|account|address`
   * -> protocol << 16 | port.
   */
  scannedEndpoints(day: string, profile = 'default'): Map<string, Set<number>> {
    const out = new Map<string, Set<number>>();
    const t = PROFILE_THRESHOLDS[profile]!;
    for (const k of this.keys.values()) {
      if (k.endpoints.size < t.minEndpoints) continue;
      if (isoSeconds(k.window * this.windowSeconds).slice(0, 10) !== day) continue;
      if (!this.features(k).profiles.includes(profile)) continue;
      const port = ((k.proto << 16) | k.dport) >>> 0;
      for (const ep of k.endpoints.keys()) {
        const id = `${day}|${ep}`; // ep = cloud|account|address
        let ports = out.get(id);
        if (!ports) out.set(id, (ports = new Set()));
        ports.add(port);
      }
    }
    return out;
  }

  /** Close the outbound windows that end at or before `t` (a UTC midnight: the worm signature is per day). */
  closeOutbound(t: number): void {
    this.outbound.close(t, (day) => this.scannedEndpoints(day));
  }

  /** Every outbound group that passes the thresholds, and what each entity made (closes every window). */
  outboundResults() {
    return this.outbound.results((day) => this.scannedEndpoints(day));
  }

  /** Every tracked key with its features and verdicts, sorted like scans.ndjson. */
  results(): TruthKey[] {
    const out: TruthKey[] = [];
    for (const k of this.keys.values()) out.push(this.features(k));
    out.sort((a, b) => a.window - b.window || compareAddress(a.srcWords, 0, b.srcWords, 0) || a.protocol - b.protocol || a.dst_port - b.dst_port);
    return out;
  }

  private features(k: KeyState): TruthKey {
    const n = k.endpoints.size;
    const fv = new Float64Array(n);
    const pv = new Float64Array(n);
    const bv = new Float64Array(n);
    let np = 0;
    let nb = 0;
    let i = 0;
    let flows = 0;
    let packets = 0;
    let bytes = 0;
    for (const c of k.endpoints.values()) {
      fv[i++] = c.f;
      flows += c.f;
      packets += c.p;
      bytes += c.b;
      if (c.pKnown > 0) pv[np++] = c.p;
      if (c.bKnown > 0) bv[nb++] = c.b;
    }
    const cvPackets = np > 0 ? coefficientOfVariation(pv, np) : null;
    const cvBytes = nb > 0 ? coefficientOfVariation(bv, nb) : null;
    const cvFlows = coefficientOfVariation(fv, n);
    const feat = { endpoints: n, clouds: k.clouds.size, accounts: k.accounts.size, regions: k.regions.size, cvPackets, cvBytes, cvFlows };
    const profiles = Object.entries(PROFILE_THRESHOLDS)
      .filter(([, t]) => failedConditions(feat, t).length === 0)
      .map(([name]) => name);
    const W = this.windowSeconds;
    return {
      entity: k.entity,
      src: k.src,
      protocol: k.proto,
      dst_port: k.dport,
      window_start: isoSeconds(k.window * W),
      window_end: isoSeconds((k.window + 1) * W),
      endpoints: n,
      clouds: feat.clouds,
      accounts: feat.accounts,
      regions: feat.regions,
      flows,
      packets,
      bytes,
      cv_packets: round6(cvPackets),
      cv_bytes: round6(cvBytes),
      cv_flows: round6(cvFlows)!,
      first_seen: isoSeconds(k.first),
      last_seen: isoSeconds(k.last),
      profiles,
      failed: failedConditions(feat, PROFILE_THRESHOLDS.default!),
      window: k.window,
      srcWords: k.srcWords,
    };
  }
}

function round6(x: number | null): number | null {
  return x === null ? null : Math.round(x * 1e6) / 1e6;
}
