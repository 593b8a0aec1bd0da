/**
 * Where scanners come from (detection.md §5): one row per scanner IP with its enrichment and
 * activity, and tables by country, by network (ASN) and by known scanning service.
 */
import type { KeyVerdict } from '../engine/verdict.js';
import type { IpFacts } from '../enrich/index.js';
import { dayOfWindow } from './daily.js';
import { share } from './distribution.js';
import { protocolName } from './services.js';
import { isoTime } from '../output/verdicts.js';

export interface ScannerRow {
  ip: string;
  country: string | null;
  asn: number | null;
  as_org: string | null;
  actor: string | null;
  rdns: string | null;
  days: string[]; // UTC days with at least one scan key (detection.md §3 "scanner on day D")
  scan_keys: number;
  ports: number; // distinct (protocol, port)s scanned
  flows: number;
  packets: number;
  bytes: number;
  first_seen: string;
  last_seen: string;
}

export interface GroupRow {
  scanner_ips: number;
  share_of_scanner_ips: number; // 0..1
  scan_keys: number;
  flows: number;
}

export interface CountryRow extends GroupRow {
  country: string | null; // null: not in the database (or a private address)
}

export interface NetworkRow extends GroupRow {
  asn: number | null;
  as_org: string | null;
}

export interface ActorRow extends GroupRow {
  actor: string;
  matched_by: string[]; // 'cidr' | 'asn' | 'rdns'
  sources: string[];
  top_ports: string[]; // "tcp/22" ..., by scan keys
}

export interface SourceStats {
  scanners: ScannerRow[]; // sorted by scan keys descending, then address text
  countries: CountryRow[]; // all, by scanner IPs descending
  networks: NetworkRow[];
  actors: ActorRow[];
  labelled_scanner_ips: number; // scanner IPs with an actor
}

interface IpAcc {
  days: Set<string>;
  ports: Set<number>;
  keys: number;
  flows: number;
  packets: number;
  bytes: number;
  first: number;
  last: number;
}

export function sourceStats(scans: readonly KeyVerdict[], windowSeconds: number, facts: Map<string, IpFacts>): SourceStats {
  const byIp = new Map<string, IpAcc>();
  const actorPorts = new Map<string, Map<number, number>>(); // actor -> port -> scan keys
  for (const v of scans) {
    const actor = facts.get(v.src)?.actor;
    if (actor) {
      let pm = actorPorts.get(actor);
      if (!pm) actorPorts.set(actor, (pm = new Map()));
      const k = v.protocol * 65536 + v.dstPort;
      pm.set(k, (pm.get(k) ?? 0) + 1);
    }
    let a = byIp.get(v.src);
    if (!a) byIp.set(v.src, (a = { days: new Set(), ports: new Set(), keys: 0, flows: 0, packets: 0, bytes: 0, first: Infinity, last: -Infinity }));
    a.days.add(dayOfWindow(v.window, windowSeconds));
    a.ports.add(v.protocol * 65536 + v.dstPort);
    a.keys++;
    a.flows += v.flows;
    a.packets += v.packets;
    a.bytes += v.bytes;
    a.first = Math.min(a.first, v.firstSeen);
    a.last = Math.max(a.last, v.lastSeen);
  }
  const scanners: ScannerRow[] = [...byIp.entries()].map(([ip, a]) => {
    const f = facts.get(ip);
    return {
      ip,
      country: f?.country ?? null,
      asn: f?.asn ?? null,
      as_org: f?.as_org ?? null,
      actor: f?.actor ?? null,
      rdns: f?.rdns ?? null,
      days: [...a.days].sort(),
      scan_keys: a.keys,
      ports: a.ports.size,
      flows: a.flows,
      packets: a.packets,
      bytes: a.bytes,
      first_seen: isoTime(a.first),
      last_seen: isoTime(a.last),
    };
  });
  scanners.sort((x, y) => y.scan_keys - x.scan_keys || (x.ip < y.ip ? -1 : x.ip > y.ip ? 1 : 0));
  const total = scanners.length;

  const group = <K extends string | number | null>(keyOf: (s: ScannerRow) => K) => {
    const m = new Map<K, { ips: number; keys: number; flows: number; members: ScannerRow[] }>();
    for (const s of scanners) {
      const k = keyOf(s);
      let g = m.get(k);
      if (!g) m.set(k, (g = { ips: 0, keys: 0, flows: 0, members: [] }));
      g.ips++;
      g.keys += s.scan_keys;
      g.flows += s.flows;
      g.members.push(s);
    }
    return [...m.entries()]
      .map(([key, g]) => ({ key, g, base: { scanner_ips: g.ips, share_of_scanner_ips: share(g.ips, total), scan_keys: g.keys, flows: g.flows } }))
      .sort((a, b) => b.g.ips - a.g.ips || b.g.flows - a.g.flows || compareKeys(a.key, b.key));
  };

  const countries = group((s) => s.country).map(({ key, base }) => ({ country: key, ...base }));
  const asOrg = new Map<number | null, string | null>();
  for (const s of scanners) if (!asOrg.has(s.asn)) asOrg.set(s.asn, s.as_org);
  const networks = group((s) => s.asn).map(({ key, base }) => ({ asn: key, as_org: asOrg.get(key) ?? null, ...base }));
  const actors = group((s) => s.actor)
    .filter(({ key }) => key !== null)
    .map(({ key, g, base }) => actorRow(key as string, g.members, actorPorts.get(key as string)!, facts, base));
  return { scanners, countries, networks, actors, labelled_scanner_ips: scanners.filter((s) => s.actor !== null).length };
}

/** Ties: numbers numerically, text by code unit (not by locale: the same order everywhere), unknown last. */
function compareKeys(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a) < String(b) ? -1 : 1;
}

function actorRow(actor: string, members: ScannerRow[], portKeys: Map<number, number>, facts: Map<string, IpFacts>, base: GroupRow): ActorRow {
  const via = new Set<string>();
  const sources = new Set<string>();
  for (const m of members) {
    const f = facts.get(m.ip);
    if (f?.actor_via) via.add(f.actor_via);
    if (f?.actor_source) sources.add(f.actor_source);
  }
  const top_ports = [...portKeys.entries()]
    .sort((a, b) => b[1] - a[1] || a[0] - b[0])
    .slice(0, 5)
    .map(([k]) => `${protocolName(Math.floor(k / 65536))}/${k % 65536}`);
  return { actor, ...base, matched_by: [...via].sort(), sources: [...sources].sort(), top_ports };
}
