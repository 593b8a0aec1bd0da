/**
 * The planted sources: scanners of every shape the detector must find, and hard
 * negatives that look like scanners on some feature but must not be flagged. Each
 * entity is a list of episodes (bursts of probes); an episode is expanded into its
 * probe events only when the generator reaches its start, and dropped once emitted,
 * so the state per entity is one burst at most. Every entity draws from its own PRNG
 * stream: the planted traffic does not depend on --scale.
 */
import type { CloudName, Endpoint, Plan } from './plan.js';
import { NEGATIVE_OCTETS, PLANTED_V6_PREFIX, SCANNER_OCTETS } from './plan.js';
import { Rng, streamSeed } from './prng.js';
import { GenFlow, type FlowOut } from './record.js';

export type EntityRole = 'scanner' | 'hard_negative';

/** How a probe's packets look. */
type Style =
  | { kind: 'syn'; size: number } // TCP SYN of `size` bytes; SYN+RST when the port answers
  | { kind: 'udp'; size: number; reply: number }
  | { kind: 'icmp'; size: number }
  | { kind: 'payload' } // packets and bytes decided per event (hard negatives)
  | { kind: 'backscatter' } // SYN-ACK / RST from a flood victim (TCP flags decide)
  | { kind: 'response'; sport: number }; // a server's answers: srcport < 1024 <= dstport

interface Episode {
  start: number;
  duration: number;
  /** The endpoints probed, chosen when the episode starts. */
  targets: (rng: Rng) => Endpoint[];
  /** 'even': endpoints probed at equal intervals (slow scanners); 'random': anywhere in the burst. */
  spacing: 'even' | 'random';
  /** Records per endpoint and port: [min, max], drawn per endpoint. */
  tries: [number, number];
  /** Per-endpoint packets/bytes for 'payload' entities: index j of n. */
  payload?: (j: number, n: number, rng: Rng) => Array<[number, number]>;
}

interface ProbeEvent {
  t: number;
  ep: Endpoint;
  port: number;
  packets: number;
  bytes: number;
}

export interface EntityInfo {
  index: number;
  name: string;
  kind: string;
  role: EntityRole;
  src: string;
  description: string;
  reason?: string; // hard negatives: why it must not be a scan
}

export class Entity {
  private pending: ProbeEvent[] = [];
  private cursor = 0;
  private nextEpisode = 0;
  private readonly flow = new GenFlow();

  constructor(
    readonly info: EntityInfo,
    private readonly rng: Rng,
    private readonly proto: number,
    private readonly ports: number[],
    private readonly style: Style,
    private readonly episodes: Episode[],
    /** Share of probes to GCP endpoints that survive flow sampling. */
    private readonly gcpKeep: number,
    /** For internal sources: the monitored host that sends the probes. */
    private readonly host: Endpoint | null = null,
  ) {
    this.episodes.sort((a, b) => a.start - b.start);
  }

  /** Emit the probes whose time lies in [t0, t1). */
  emit(t0: number, t1: number, out: FlowOut): void {
    let added = false;
    while (this.nextEpisode < this.episodes.length && this.episodes[this.nextEpisode]!.start < t1) {
      this.expand(this.episodes[this.nextEpisode++]!);
      added = true;
    }
    if (added) {
      this.pending = this.pending.slice(this.cursor).sort((a, b) => a.t - b.t);
      this.cursor = 0;
    }
    while (this.cursor < this.pending.length && this.pending[this.cursor]!.t < t1) {
      const ev = this.pending[this.cursor++]!;
      if (ev.t >= t0) this.probe(ev, out);
    }
    if (this.cursor === this.pending.length && this.cursor > 0) {
      this.pending = [];
      this.cursor = 0;
    }
  }

  private expand(e: Episode): void {
    const rng = this.rng;
    const targets = e.targets(rng);
    const n = targets.length;
    targets.forEach((ep, j) => {
      const base = e.spacing === 'even' ? e.start + Math.floor((j * e.duration) / n) : e.start + rng.int(0, Math.max(0, e.duration - 1));
      const payload = e.payload?.(j, n, rng);
      this.ports.forEach((port, pi) => {
        const tries = payload ? payload.length : rng.int(e.tries[0], e.tries[1]);
        let t = base + pi * rng.int(1, 4);
        for (let k = 0; k < tries; k++) {
          // flow sampling: GCP keeps only a share of the flows it sees (formats.md §3.1)
          if (ep.cloud === 'gcp' && this.gcpKeep < 1 && !rng.chance(this.gcpKeep)) continue;
          const [packets, bytes] = payload ? payload[k]! : [0, 0];
          this.pending.push({ t, ep, port, packets, bytes });
          t += rng.int(61, 150); // retries land in another aggregation interval: a record each
        }
      });
    });
  }

  private probe(ev: ProbeEvent, out: FlowOut): void {
    const f = this.flow.reset(ev.ep, this.info.index);
    const rng = this.rng;
    const ep = ev.ep;
    const v6 = this.info.src.includes(':');
    f.src = this.host ? this.host.ip : this.info.src;
    f.dst = v6 ? ep.ip6! : ep.ip;
    f.peer = this.host;
    f.proto = this.proto;
    f.sport = this.proto === 1 ? 0 : rng.int(32768, 60999);
    f.dport = this.proto === 1 ? 0 : ev.port;
    f.start = ev.t;
    f.end = ev.t;
    const open = this.proto === 6 ? ep.tcp.includes(ev.port) : this.proto === 17 ? ep.udp.includes(ev.port) : ep.role === 'web' || ep.role === 'api';
    // GCP logs only what its firewall lets in: these projects allow all ingress, so the VM answers
    const gcp = ep.cloud === 'gcp';
    const s = this.style;
    switch (s.kind) {
      case 'syn':
        f.accept = open || gcp;
        f.packets = open ? 2 : 1; // the scanner resets a half-open connection: SYN + RST in one record
        f.bytes = s.size * f.packets;
        f.flags = open ? 6 : 2;
        if (f.accept) {
          f.rpackets = 1;
          f.rbytes = open ? 44 : 40;
          f.rflags = open ? 18 : 4;
          f.end = ev.t + (open ? 1 : 0);
        }
        break;
      case 'udp':
        f.sport = ev.port === 5060 ? 5060 : f.sport;
        f.accept = open || gcp;
        f.packets = 1;
        f.bytes = s.size;
        if (open) {
          f.rpackets = 1;
          f.rbytes = s.reply;
        }
        break;
      case 'icmp':
        f.accept = open || gcp;
        f.packets = 1;
        f.bytes = s.size;
        if (f.accept) {
          f.rpackets = 1;
          f.rbytes = s.size;
        }
        break;
      case 'payload':
        f.accept = true;
        f.packets = ev.packets;
        f.bytes = ev.bytes;
        f.flags = 3;
        f.rpackets = Math.max(1, Math.round(ev.packets * 0.8));
        f.rbytes = f.rpackets * 52;
        f.rflags = 19;
        f.end = ev.t + rng.int(0, 20);
        break;
      case 'backscatter':
        f.sport = 25565;
        f.accept = true;
        f.packets = 1;
        f.bytes = 40;
        f.flags = rng.chance(0.5) ? 18 : 4;
        break;
      case 'response':
        f.sport = s.sport;
        f.accept = true;
        f.packets = 1;
        f.bytes = 52;
        break;
    }
    out.flow(f);
  }
}

// ---------------------------------------------------------------------------
// The scenario's cast

export interface EntityOptions {
  seed: number;
  start: number; // first day, Unix seconds (midnight UTC)
  days: number;
  windowSeconds: number;
  /** Our hosts infected by a telnet worm (compromised.ts): the telnet botnet scans them too. */
  wormHosts?: Endpoint[];
}

const DAY = 86400;
const MIN = 60;

/** Every planted entity of a run. */
export function buildEntities(plan: Plan, o: EntityOptions): Entity[] {
  const rng = new Rng(streamSeed(o.seed, 'entities'));
  const used = new Set<string>();
  const v4 = (octets: number[]) => {
    for (;;) {
      const a = `${rng.pick(octets)}.${rng.int(0, 255)}.${rng.int(0, 255)}.${rng.int(1, 254)}`;
      if (!used.has(a)) {
        used.add(a);
        return a;
      }
    }
  };
  const v6 = () => `${PLANTED_V6_PREFIX}:${rng.int(1, 0xffff).toString(16)}:${rng.int(1, 0xffff).toString(16)}::${rng.int(2, 0xfff).toString(16)}`;

  const W = o.windowSeconds;
  const days = Array.from({ length: o.days }, (_, d) => o.start + d * DAY);
  const eps = plan.endpoints;
  const inClouds = (clouds: CloudName[] | 'all') => (ep: Endpoint) => clouds === 'all' || clouds.includes(ep.cloud);
  const pool = (clouds: CloudName[] | 'all', extra: (ep: Endpoint) => boolean = () => true) => eps.filter((ep) => inClouds(clouds)(ep) && extra(ep));
  /**
   * A burst near `hour` of day `d` that stays inside one detection window, so that the
   * burst is one scan key per port (slow scanners are placed across boundaries on purpose).
   */
  const burst = (r: Rng, day: number, hour: number, duration: number, tail = 5 * MIN) => {
    const d = Math.max(MIN, Math.min(duration, W - 2 * MIN - tail));
    const wStart = Math.floor((day + hour * 3600) / W) * W;
    return { start: wStart + r.int(MIN, Math.max(MIN, W - d - tail - MIN)), duration: d };
  };
  const share = (p: Endpoint[], s: number) => (r: Rng) => r.sample(p, Math.round(p.length * s * (0.8 + 0.4 * r.float())));
  const count = (p: Endpoint[], c: number) => (r: Rng) => r.sample(p, c);

  const out: Entity[] = [];
  /** Adds an entity unless none of its candidate endpoints exist (a cloud not generated). */
  const add = (
    info: Omit<EntityInfo, 'index'>, candidates: number, proto: number, ports: number[], style: Style, episodes: Episode[], gcpKeep = 0.6, host: Endpoint | null = null,
  ) => {
    if (candidates === 0) return;
    const e = new Entity({ ...info, index: out.length }, new Rng(streamSeed(o.seed, 'entity', info.name)), proto, ports, style, episodes.filter((x) => x.duration > 0), gcpKeep, host);
    out.push(e);
  };
  const scanner = (name: string, kind: string, src: string, description: string): Omit<EntityInfo, 'index'> => ({ name, kind, role: 'scanner', src, description });
  const negative = (name: string, kind: string, src: string, description: string, reason: string): Omit<EntityInfo, 'index'> => ({ name, kind, role: 'hard_negative', src, description, reason });
  const er = (name: string) => new Rng(streamSeed(o.seed, 'schedule', name));

  // --- scanners -----------------------------------------------------------------
  {
    const r = er('zmap-ssh');
    const p = pool('all');
    add(scanner('zmap-ssh', 'zmap', v4(SCANNER_OCTETS), 'ZMap-style SYN scan of TCP 22 across every cloud, one 40-byte probe per endpoint, daily'), p.length, 6, [22], { kind: 'syn', size: 40 },
      days.map((day) => ({ ...burst(r, day, r.int(0, 23), 40 * MIN), targets: share(p, 0.55), spacing: 'random', tries: [1, 1] })));
  }
  {
    const r = er('masscan-rdp');
    const p = pool(['aws', 'azure']);
    add(scanner('masscan-rdp', 'masscan', v4(SCANNER_OCTETS), 'masscan-style SYN scan of RDP (TCP 3389), 44-byte probes, twice a day, AWS and Azure'), p.length, 6, [3389], { kind: 'syn', size: 44 },
      days.flatMap((day) => [1, 13].map((h) => ({ ...burst(r, day, h, 30 * MIN), targets: share(p, 0.4), spacing: 'random' as const, tries: [1, 1] as [number, number] }))));
  }
  {
    const r = er('multiport');
    const p = pool('all');
    add(scanner('multiport', 'multi-port', v4(SCANNER_OCTETS), 'one source probing TCP 23, 2323, 8080, 8443 and 5900 on each endpoint: one scan key per port'), p.length, 6, [23, 2323, 8080, 8443, 5900], { kind: 'syn', size: 44 },
      days.map((day) => ({ ...burst(r, day, 9, 60 * MIN), targets: share(p, 0.35), spacing: 'random', tries: [1, 1] })));
  }
  {
    const r = er('retry-smb');
    const p = pool(['aws', 'gcp']);
    add(scanner('retry-smb', 'retrying', v4(SCANNER_OCTETS), 'SMB (TCP 445) scanner that retries: 2-3 records per endpoint, 60-byte SYNs, AWS and GCP'), p.length, 6, [445], { kind: 'syn', size: 60 },
      days.filter((_, d) => d % 2 === 0).map((day) => ({ ...burst(r, day, 15, 45 * MIN), targets: share(p, 0.5), spacing: 'random', tries: [2, 3] })));
  }
  {
    const r = er('sip-udp');
    const p = pool('all');
    add(scanner('sip-udp', 'udp', v4(SCANNER_OCTETS), 'SIP OPTIONS sweep (UDP 5060 from source port 5060), 431 bytes, daily'), p.length, 17, [5060], { kind: 'udp', size: 431, reply: 0 },
      days.map((day) => ({ ...burst(r, day, 19, 30 * MIN), targets: share(p, 0.45), spacing: 'random', tries: [1, 1] })));
  }
  {
    const r = er('snmp-udp');
    const p = pool(['aws']);
    add(scanner('snmp-udp', 'udp', v4(SCANNER_OCTETS), 'SNMP (UDP 161) GetRequest sweep, 71 bytes, AWS only: a scan by default, not under the multi-cloud profile'), p.length, 17, [161], { kind: 'udp', size: 71, reply: 0 },
      days.filter((_, d) => d >= Math.min(1, o.days - 1)).map((day) => ({ ...burst(r, day, 20, 30 * MIN), targets: share(p, 0.5), spacing: 'random', tries: [1, 1] })));
  }
  {
    const r = er('dns-udp');
    const p = pool('all');
    add(scanner('dns-udp', 'udp', v4(SCANNER_OCTETS), 'open-resolver scan (UDP 53), 68-byte queries; the DNS servers answer'), p.length, 17, [53], { kind: 'udp', size: 68, reply: 512 },
      days.map((day) => ({ ...burst(r, day, 3, 30 * MIN), targets: share(p, 0.3), spacing: 'random', tries: [1, 1] })));
  }
  {
    const r = er('icmp-sweep');
    const p = pool(['aws', 'gcp']);
    add(scanner('icmp-sweep', 'icmp', v4(SCANNER_OCTETS), 'ICMP echo sweep (protocol 1, port 0), 84 bytes, AWS and GCP (Azure flow logs carry no ICMP)'), p.length, 1, [0], { kind: 'icmp', size: 84 },
      days.map((day) => ({ ...burst(r, day, 7, 20 * MIN), targets: share(p, 0.6), spacing: 'random', tries: [1, 1] })));
  }
  {
    const r = er('ipv6-ssh');
    const p = pool(['aws'], (ep) => ep.ip6 !== null);
    add(scanner('ipv6-ssh', 'ipv6', v6(), 'IPv6 SYN scan of TCP 22 against public IPv6 endpoints, in the AWS v5 flow logs that give flow-direction'), p.length, 6, [22], { kind: 'syn', size: 60 },
      days.map((day) => ({ ...burst(r, day, 11, 30 * MIN), targets: share(p, 0.6), spacing: 'random', tries: [1, 1] })));
  }
  {
    // slow scanners, probing at equal intervals across the 06:00 window boundary of day 0:
    // how many endpoints each window gets decides which halves are scans (detection.md §3 per window)
    const p = pool('all');
    const slow = (name: string, port: number, from: number, to: number, n: number, what: string) =>
      add(scanner(name, 'slow', v4(SCANNER_OCTETS), what), p.length, 6, [port], { kind: 'syn', size: 60 },
        [{ start: days[0]! + from, duration: to - from, targets: count(p, n), spacing: 'even', tries: [1, 1] }], 1);
    slow('slow-redis', 6379, 5 * 3600, 7 * 3600, 16, 'slow Redis scan: 16 endpoints between 05:00 and 07:00 on day 1; 8 per 6-hour window, so neither half is a scan');
    slow('slow-elastic', 9200, 4 * 3600 + 40 * MIN, 7 * 3600 + 20 * MIN, 26, 'slow Elasticsearch scan: 26 endpoints from 04:40 to 07:20; 13 per window, so both halves are scans');
    slow('slow-mongo', 27017, 5 * 3600, 6 * 3600 + 40 * MIN, 18, 'slow MongoDB scan: 18 endpoints from 05:00 to 06:40; 11 before 06:00 (a scan), 7 after (not)');
    if (o.days >= 2) {
      slow('slow-overnight', 5432, 22 * 3600 + 30 * MIN, 25 * 3600 + 30 * MIN, 30, 'slow PostgreSQL scan across midnight: 15 endpoints on each UTC day, a scanner on both days');
    }
  }
  {
    // a few endpoints in each cloud, over 2+ accounts and regions: only together are they a scan
    const r = er('cross-cloud');
    const pick = (rr: Rng) => {
      const chosen: Endpoint[] = [];
      for (const c of plan.clouds) {
        const streams = plan.streams.filter((s) => s.cloud === c);
        for (let k = 0; k < 4 && streams.length > 0; k++) chosen.push(rr.pick(streams[k % streams.length]!.endpoints));
      }
      return [...new Set(chosen)];
    };
    add(scanner('cross-cloud-yarn', 'cross-cloud', v4(SCANNER_OCTETS), 'Hadoop YARN (TCP 8088) probes, 4 endpoints per cloud over 2+ accounts and regions: a scan only when the clouds are seen together'), plan.endpoints.length, 6, [8088], { kind: 'syn', size: 44 },
      days.map((day) => ({ ...burst(r, day, 17, 20 * MIN), targets: pick, spacing: 'random', tries: [1, 1] })), 1);
  }
  {
    const r = er('background');
    const ports = [80, 443, 8080, 5555, 8291, 7547, 9000, 81, 8000, 8888, 2375, 6443];
    const p = pool('all');
    for (let i = 1; i <= 6; i++) {
      const port = r.pick(ports);
      const day = r.pick(days);
      const size = r.pick([40, 44, 60]);
      add(scanner(`background-${i}`, 'background', v4(SCANNER_OCTETS), `internet background scanner of TCP ${port} (${size}-byte SYNs) on one day`), p.length, 6, [port], { kind: 'syn', size },
        [{ ...burst(r, day, r.int(0, 23), r.int(15, 50) * MIN), targets: share(p, 0.15 + r.float() * 0.25), spacing: 'random', tries: [1, 1] }]);
    }
  }

  // --- hard negatives ------------------------------------------------------------
  const windowsOf = (day: number) => Array.from({ length: DAY / W }, (_, k) => day + k * W);
  {
    const p = pool('all', (ep) => ep.tcp.includes(443));
    add(negative('cdn-monitor', 'cdn', v4(NEGATIVE_OCTETS), 'CDN / uptime monitor fetching from every HTTPS endpoint, all day, with very different payloads per endpoint', 'cv_bytes far above 0.5: payload sizes differ by three orders of magnitude across endpoints'), p.length,
      6, [443], { kind: 'payload' },
      days.flatMap(windowsOf).map((ws) => ({
        start: ws + 5 * MIN, duration: W - 20 * MIN, targets: (r: Rng) => r.sample(p, p.length), spacing: 'random' as const, tries: [1, 1] as [number, number],
        payload: (j: number, n: number, r: Rng) => {
          const base = 300 * Math.pow(1000, j / Math.max(1, n - 1)); // endpoint j's page size: 300 B .. 300 kB
          return Array.from({ length: r.int(1, 3) }, () => {
            const bytes = Math.round(base * (0.9 + 0.2 * r.float()));
            return [Math.ceil(bytes / 1400) + 2, bytes] as [number, number];
          });
        },
      })), 1);
  }
  {
    const p = pool('all');
    add(negative('nine-endpoints', 'nine', v4(NEGATIVE_OCTETS), 'uniform SSH probes to exactly 9 endpoints in every window', 'endpoints = 9 < min_endpoints 10 in every window'), p.length,
      6, [22], { kind: 'syn', size: 40 },
      days.flatMap(windowsOf).map((ws) => ({ start: ws + 10 * MIN, duration: W - 30 * MIN, targets: count(p, 9), spacing: 'random' as const, tries: [1, 1] as [number, number] })), 1);
  }
  {
    const p = pool(['aws']);
    const r = er('uneven-flows');
    add(negative('uneven-flows', 'uneven-flows', v4(NEGATIVE_OCTETS), 'web crawler with the same bytes and packets at every endpoint, but 30 requests at two of them and 1 at the rest', 'cv_flows about 2 > 1.0 (cv_packets = cv_bytes = 0)'), p.length,
      6, [8080], { kind: 'payload' },
      days.map((day) => ({
        ...burst(r, day, 10, 30 * MIN, 80 * MIN), targets: count(p, 16), spacing: 'random' as const, tries: [1, 1] as [number, number],
        payload: (j: number) => (j < 2 ? Array.from({ length: 30 }, () => [2, 80] as [number, number]) : [[60, 2400] as [number, number]]),
      })));
  }
  {
    const p = pool(['aws']);
    const r = er('packet-varying');
    add(negative('packet-varying', 'packet-varying', v4(NEGATIVE_OCTETS), 'API client sending 6000 bytes to each of 20 endpoints, in 4 to 150 packets', 'cv_packets about 1 > 0.5 (bytes uniform)'), p.length,
      6, [8443], { kind: 'payload' },
      days.map((day) => ({
        ...burst(r, day, 14, 30 * MIN), targets: count(p, 20), spacing: 'random' as const, tries: [1, 1] as [number, number],
        payload: (j: number, n: number) => [[Math.round(4 * Math.pow(150 / 4, j / Math.max(1, n - 1))), 6000] as [number, number]],
      })));
  }
  {
    const p = pool(['aws'], (ep) => ep.stream.kind === 'aws-v5');
    const r = er('backscatter');
    add(negative('backscatter', 'backscatter', v4(NEGATIVE_OCTETS), 'victim of a SYN flood spoofing our addresses: SYN-ACKs and RSTs from port 25565 to port 80 of 30 endpoints (v5 logs, with tcp-flags)', 'backscatter: TCP flags exactly SYN-ACK or RST are not probes (detection.md §3)'), p.length,
      6, [80], { kind: 'backscatter' },
      days.map((day) => ({ ...burst(r, day, 21, 30 * MIN), targets: count(p, 30), spacing: 'random', tries: [1, 1] })));
  }
  {
    const p = pool(['aws']);
    const r = er('responses');
    add(negative('responses', 'responses', v4(NEGATIVE_OCTETS), 'a server answering from port 443 to port 49152 of 25 endpoints, uniform', 'responses: srcport 443 < 1024 <= dstport 49152 are not probes (detection.md §3)'), p.length,
      6, [49152], { kind: 'response', sport: 443 },
      days.map((day) => ({ ...burst(r, day, 2, 30 * MIN), targets: count(p, 25), spacing: 'random', tries: [1, 1] })));
  }
  {
    // an internal vulnerability scanner, in a flow log without flow-direction: private to private
    const st = plan.streams.find((s) => s.kind === 'aws-v2');
    if (st) {
      const host = st.endpoints.find((ep) => ep.role === 'db') ?? st.endpoints[0]!;
      const p = st.endpoints.filter((ep) => ep !== host);
      const r = er('internal-scanner');
      add(negative('internal-scanner', 'internal', host.ip, 'internal vulnerability scanner sweeping TCP 22 of its own VPC (AWS v2 log: no flow-direction)', 'not inbound: a private source is never an internet scanner (detection.md §3); an internal scan alert (detection.md §4) where it reaches min_internal_targets'), p.length,
        6, [22], { kind: 'syn', size: 60 },
        days.map((day) => ({ ...burst(r, day, 12, 30 * MIN), targets: (rr: Rng) => rr.sample(p, p.length), spacing: 'random', tries: [1, 1] })), 1, host);
    }
  }

  // --- last, so that adding it changed no other entity's address ------------------
  {
    // the botnet behind the worm hosts keeps scanning telnet, them included: a compromised
    // host that is itself scanned on the port it scans has the worm signature (detection.md §4)
    const worms = o.wormHosts ?? [];
    const p = pool('all');
    const others = p.filter((ep) => !worms.includes(ep));
    const r = er('telnet-botnet');
    add(scanner('telnet-botnet', 'botnet', v4(SCANNER_OCTETS), 'Mirai-style telnet botnet: 40-byte SYNs to TCP 23 of a quarter of all endpoints a day, always including the hosts it has infected (the worm hosts)'), p.length,
      6, [23], { kind: 'syn', size: 40 },
      days.map((day) => ({ ...burst(r, day, 4, 40 * MIN), targets: (rr: Rng) => [...worms, ...share(others, 0.25)(rr)], spacing: 'random', tries: [1, 1] })), 1);
  }
  return out;
}
