/**
 * Our own hosts talking to the internet (detection.md §4, issue 5): compromised hosts that scan
 * it, and hosts that talk to many internet addresses without scanning. In every cloud
 * generated:
 *
 *  - worm: a Mirai-like infected instance sending SYNs to TCP 23 of 1,000-1,300 random
 *    internet addresses a day (a horizontal scan). The botnet that infected it keeps
 *    scanning our estate on 23, the worm host included (the `telnet-botnet` inbound
 *    scanner in entities.ts): the worm signature.
 *  - vertical: an instance running an nmap-like SYN scan of ports 1-1024 of one internet
 *    address a day, from one source port (a vertical scan).
 *  - miner: a cryptominer's steady stratum connection to one pool (TCP 3333): not a scan.
 *  - nat: a NAT gateway (AWS: a NAT gateway ENI; Azure: an appliance NIC; GCP: a NAT VM)
 *    relaying web, DNS, NTP and IPsec traffic to hundreds of addresses with payloads
 *    from 300 B to 3 MB: not a scan, and listed by interface id (GCP: VM name) in the
 *    allow list the generator writes. Its DNS queries (one to each of 100+ name
 *    servers, uniform) would be an alert without the allow list.
 *
 * The worm, vertical and miner hosts are ordinary endpoints of the plan (benign traffic
 * never uses their ports or targets, so the keys the ground truth predicts are exact);
 * each NAT is a dedicated interface that no other traffic touches. Every host's targets
 * come from its own address space (first octets per purpose, second octet per host),
 * disjoint from every other pool of the scenario. Each host draws from its own PRNG
 * stream: nothing here depends on --scale.
 */
import type { CloudName, Endpoint, Plan, Stream } from './plan.js';
import { renderGcpBlocks, reportedIds } from './plan.js';
import { Rng, permute, streamSeed } from './prng.js';
import { GenFlow, type FlowOut } from './record.js';
import { isPublicAddress } from '../net/address.js';

export type HostKind = 'worm' | 'vertical' | 'miner' | 'nat';
const HOST_KINDS: HostKind[] = ['worm', 'vertical', 'miner', 'nat'];

export interface OutboundHostInfo {
  index: number; // planted entity index (after the inbound entities)
  name: string;
  kind: HostKind;
  role: 'compromised' | 'outbound_negative';
  cloud: CloudName;
  account: string;
  region: string;
  src: string;
  /** The ids detect reports for this host's records ('' = none in the format). */
  iface: string;
  instance: string;
  allowListed: boolean;
  description: string;
  reason?: string; // outbound negatives: why no alert
}

/** A compromised or outbound-negative host chosen in the plan. */
export interface CastMember {
  cloud: CloudName;
  kind: HostKind;
  ep: Endpoint;
}

// first octets of the target spaces (public, and disjoint from every pool in plan.ts)
const WORM_OCTETS = [36, 39, 58, 59, 60, 61, 110, 112, 113, 114, 115, 116, 117, 118, 119, 121];
const WEB_OCTETS = [2, 3, 17, 24, 50, 62, 64, 65, 67, 68, 69, 70, 71, 72, 73, 74];
const NAMESERVER_OCTETS = [194, 195, 196, 197, 199, 202, 204, 205, 206, 207, 208, 209, 212, 213, 216, 217];
const VERTICAL_OCTETS = [94];
const POOL_OCTETS = [51];
const MISC_OCTETS = [93];
const PEER_OCTETS = [92];

const DAY = 86400;
const MIN = 60;

/**
 * Distinct public addresses for one host and purpose: counter -> bijection -> address,
 * with the host in the second octet, so no two hosts (nor two purposes) share a target.
 */
class TargetSpace {
  private readonly key: number;

  constructor(
    seed: number,
    name: string,
    private readonly octets: number[],
    private readonly host: number, // 0..15
  ) {
    this.key = streamSeed(seed, 'targets', name);
    for (const o of octets) if (!isPublicAddress(`${o}.${16 * host}.0.1`)) throw new Error(`generator bug: ${o}.x is not public`);
  }

  address(i: number): string {
    const x = permute(i & 0xffffff, 24, this.key);
    const a = this.octets[(x >>> 20) % this.octets.length]!;
    return `${a}.${16 * this.host + ((x >>> 16) & 15)}.${(x >>> 8) & 255}.${x & 255}`;
  }
}

/** One connection our host opens. */
interface OutEvent {
  t: number;
  duration: number;
  dst: string;
  proto: number;
  sport: number;
  dport: number;
  packets: number;
  bytes: number;
  rpackets: number; // 0 = no answer
  rbytes: number;
  flags: number;
  rflags: number;
}

/** What a host does: called once per minute; may queue connections for later minutes. */
type Behaviour = (minute: number, rng: Rng, push: (e: OutEvent) => void) => void;

export class OutboundHost {
  private pending: OutEvent[] = [];
  private cursor = 0;
  private readonly flow = new GenFlow();

  constructor(
    readonly info: OutboundHostInfo,
    readonly host: Endpoint,
    private readonly rng: Rng,
    private readonly behaviour: Behaviour,
  ) {}

  /** Emit the connections whose start lies in [t0, t1) (t1 = t0 + 60). */
  emit(t0: number, t1: number, out: FlowOut): void {
    const before = this.pending.length;
    this.behaviour(t0, this.rng, (e) => this.pending.push(e));
    if (this.pending.length !== before) {
      this.pending = this.pending.slice(this.cursor).sort((a, b) => a.t - b.t); // stable: ties keep their order
      this.cursor = 0;
    }
    while (this.cursor < this.pending.length && this.pending[this.cursor]!.t < t1) {
      const e = this.pending[this.cursor++]!;
      if (e.t >= t0) this.connect(e, out);
    }
    if (this.cursor === this.pending.length && this.cursor > 0) {
      this.pending = [];
      this.cursor = 0;
    }
  }

  private connect(e: OutEvent, out: FlowOut): void {
    const f = this.flow.reset(this.host, this.info.index);
    f.inbound = false;
    f.src = this.host.ip;
    f.dst = e.dst;
    f.proto = e.proto;
    f.sport = e.sport;
    f.dport = e.dport;
    f.packets = e.packets;
    f.bytes = e.bytes;
    f.rpackets = e.rpackets;
    f.rbytes = e.rbytes;
    f.flags = e.flags;
    f.rflags = e.rflags;
    f.start = e.t;
    f.end = e.t + e.duration;
    out.flow(f);
  }
}

// ---------------------------------------------------------------------------
// Who is compromised, and the NAT gateways

/** The hosts of each cloud generated: three existing endpoints and a dedicated NAT interface. */
export function castHosts(plan: Plan, seed: number): CastMember[] {
  const out: CastMember[] = [];
  const rng = new Rng(streamSeed(seed, 'compromised', 'cast'));
  for (const cloud of plan.clouds) {
    const streams = plan.streams.filter((s) => s.cloud === cloud);
    if (streams.length === 0) continue;
    const of = (kind: Stream['kind'], k = 0) => streams.filter((s) => s.kind === kind)[k] ?? streams[0]!;
    // alerting hosts sit where the format names the instance (AWS v5); the miner and the
    // NAT in v2 logs, whose records are outbound by address alone (no flow-direction)
    const where: Record<HostKind, Stream> =
      cloud === 'aws'
        ? { worm: of('aws-v5', 0), vertical: of('aws-v5', 1), miner: of('aws-v2', 4), nat: of('aws-v2', 1) }
        : cloud === 'azure'
          ? { worm: of('azure-nsg', 0), vertical: of('azure-vnet', 0), miner: of('azure-nsg', 1), nat: of('azure-nsg', 1) }
          : { worm: streams[0]!, vertical: streams[1] ?? streams[0]!, miner: streams[2] ?? streams[0]!, nat: streams[2] ?? streams[0]! };
    for (const kind of HOST_KINDS) {
      const st = where[kind];
      const ep = kind === 'nat' ? natInterface(st, rng) : rng.pick(st.endpoints);
      out.push({ cloud, kind, ep });
    }
  }
  return out;
}

/** A NAT gateway's interface in a stream: an address no endpoint has, ids of its cloud. */
function natInterface(st: Stream, rng: Rng): Endpoint {
  const first = st.endpoints[0]!;
  const octets = first.ip.split('.');
  const base: Partial<Endpoint> =
    st.cloud === 'aws'
      ? { ip: `${octets[0]}.${octets[1]}.0.5`, iface: `eni-${rng.hex(17)}`, instance: '-', subnet: first.subnet, zone: first.zone }
      : st.cloud === 'azure'
        ? { ip: `${octets.slice(0, 3).join('.')}.100`, iface: `000D3A${rng.hex(6).toUpperCase()}`, instance: `${st.resourceGroup!.toLowerCase()}-nva-01` }
        : { ip: `${octets.slice(0, 3).join('.')}.200`, instance: `${st.project!.split('-')[1]}-nat-gw-01`, subnet: 'default', zone: first.zone };
  const ep: Endpoint = {
    id: -1, cloud: st.cloud, account: st.account, region: st.region, stream: st, ip: '', ip6: null, role: 'db',
    tcp: [], udp: [], iface: '', instance: '', subnet: '', zone: '', ...base,
  };
  if (st.cloud === 'gcp') renderGcpBlocks(ep);
  return ep;
}

// ---------------------------------------------------------------------------
// What each host does

export interface HostOptions {
  seed: number;
  start: number;
  days: number;
  windowSeconds: number;
}

/** A burst near `hour` of a day that stays inside one detection window (see entities.ts). */
function burstIn(r: Rng, day: number, hour: number, duration: number, W: number): { start: number; duration: number } {
  const tail = 5 * MIN;
  const d = Math.max(MIN, Math.min(duration, W - 2 * MIN - tail));
  const wStart = Math.floor((day + hour * 3600) / W) * W;
  return { start: wStart + r.int(MIN, Math.max(MIN, W - d - tail - MIN)), duration: d };
}

function worm(targets: TargetSpace, o: HostOptions, hour: number): Behaviour {
  let next = 0;
  return (minute, r, push) => {
    if (minute % DAY !== 0) return; // plan each day at its midnight
    const b = burstIn(r, minute, hour, 2 * 3600, o.windowSeconds);
    const n = r.int(1000, 1300);
    for (let k = 0; k < n; k++) {
      const u = r.float(); // most of the internet does not answer; some reset, a few listen
      push({
        t: b.start + r.int(0, b.duration - 1), duration: 0, dst: targets.address(next++), proto: 6, sport: r.int(32768, 60999), dport: 23,
        packets: 1, bytes: 40, flags: 2, rpackets: u < 0.15 ? 1 : 0, rbytes: u < 0.03 ? 44 : 40, rflags: u < 0.03 ? 18 : 4,
      });
    }
  };
}

function vertical(targets: TargetSpace, o: HostOptions, hour: number): Behaviour {
  const OPEN = [22, 80, 443];
  return (minute, r, push) => {
    if (minute % DAY !== 0) return;
    const b = burstIn(r, minute, hour, 15 * MIN, o.windowSeconds);
    const dst = targets.address(Math.floor(minute / DAY));
    const sport = r.int(40000, 60000); // nmap -sS probes from one source port
    const ports = r.sample(Array.from({ length: 1024 }, (_, i) => i + 1), 1024);
    ports.forEach((port, k) => {
      const open = OPEN.includes(port);
      const answered = open || r.chance(0.3); // most are filtered
      push({
        t: b.start + Math.floor((k * b.duration) / ports.length), duration: 0, dst, proto: 6, sport, dport: port,
        packets: 1, bytes: 44, flags: 2, rpackets: answered ? 1 : 0, rbytes: open ? 44 : 40, rflags: open ? 18 : 4,
      });
    });
  };
}

function miner(pool: string): Behaviour {
  let sport = 0;
  return (minute, r, push) => {
    if (minute % DAY === 0 || sport === 0) sport = r.int(32768, 60999); // reconnects once a day
    if (minute % 600 !== 0) return; // one record per 10-minute aggregation interval
    push({
      t: minute + r.int(0, 5), duration: 590, dst: pool, proto: 6, sport, dport: 3333,
      packets: r.int(18, 22), bytes: r.int(1900, 2300), rpackets: r.int(15, 20), rbytes: r.int(1500, 2500), flags: 0, rflags: 0,
    });
  };
}

function nat(web: TargetSpace, nameservers: TargetSpace, misc: TargetSpace, peer: string): Behaviour {
  let ns = 0;
  const ntp = [0, 1, 2, 3].map((i) => misc.address(i));
  const session = (r: Rng, t: number, dst: string, dport: number): OutEvent => {
    const bytes = Math.round(r.logUniform(300, 3e6)); // an API call .. a download: four orders of magnitude
    const rbytes = Math.round(r.logUniform(500, 5e6));
    return {
      t, duration: r.int(0, 50), dst, proto: 6, sport: r.int(1024, 65535), dport, packets: Math.ceil(bytes / 1300) + 2, bytes,
      rpackets: Math.ceil(rbytes / 1400) + 2, rbytes, flags: 3, rflags: 19,
    };
  };
  return (minute, r, push) => {
    if (r.chance(0.4)) push(session(r, minute + r.int(0, 59), web.address(r.int(0, 1999)), 443));
    if (r.chance(0.1)) push(session(r, minute + r.int(0, 59), web.address(r.int(0, 1999)), 80));
    if (r.chance(0.05)) push(session(r, minute + r.int(0, 59), misc.address(4 + r.int(0, 39)), r.pick([22, 993, 5222, 8443, 8883])));
    if (r.chance(0.35)) {
      // a resolver behind the NAT asking a name server it has not asked before: uniform, 100+ a window
      push({ t: minute + r.int(0, 59), duration: 0, dst: nameservers.address(ns++), proto: 17, sport: r.int(1024, 65535), dport: 53, packets: 1, bytes: r.int(64, 84), rpackets: 1, rbytes: r.int(100, 500), flags: 0, rflags: 0 });
    }
    if (minute % (64 * MIN) === 0) {
      for (const dst of ntp) push({ t: minute + r.int(0, 59), duration: 0, dst, proto: 17, sport: 123, dport: 123, packets: 1, bytes: 76, rpackets: 1, rbytes: 76, flags: 0, rflags: 0 });
    }
    if (minute % (30 * MIN) === 0) {
      const bytes = r.int(500_000, 5_000_000); // a site-to-site IPsec tunnel (ESP, no ports)
      push({ t: minute, duration: 1790, dst: peer, proto: 50, sport: 0, dport: 0, packets: Math.ceil(bytes / 1400), bytes, rpackets: Math.ceil(bytes / 1400), rbytes: bytes, flags: 0, rflags: 0 });
    }
  };
}

const DESCRIPTION: Record<HostKind, string> = {
  worm: 'Mirai-like worm on one of our instances: 40-byte SYNs to TCP 23 of 1,000-1,300 random internet addresses a day; the telnet botnet scans it on 23 too (worm signature)',
  vertical: 'nmap-like SYN scan from one of our instances of ports 1-1024 of one internet address a day, from one source port',
  miner: 'cryptominer on one of our instances: one stratum connection (TCP 3333) to one mining pool, a record every 10 minutes all day',
  nat: 'NAT gateway relaying web (443, 80 and a few other ports), DNS, NTP and IPsec (ESP) to hundreds of internet addresses, payloads from 300 B to 3 MB; listed in allow.txt',
};
const REASON: Partial<Record<HostKind, string>> = {
  miner: 'one pool address: targets = 1 < min_targets and ports = 1 < min_ports',
  nat: 'allow-listed (its interface id, GCP: VM name, is in allow.txt); its web keys fail cv_bytes; its DNS key (one query to each of 100+ name servers) would be an alert without the allow list',
};

/** The outbound hosts of a run, numbered after the `first` inbound entities. */
export function buildOutboundHosts(cast: CastMember[], o: HostOptions, first: number): OutboundHost[] {
  return cast.map((c, i) => {
    const name = `${c.cloud}-${c.kind}`;
    const space = (purpose: string, octets: number[]) => new TargetSpace(o.seed, `${name}-${purpose}`, octets, i % 16);
    const hour = { aws: 2, azure: 8, gcp: 14 }[c.cloud] + (c.kind === 'vertical' ? 3 : 0);
    const behaviour =
      c.kind === 'worm' ? worm(space('worm', WORM_OCTETS), o, hour)
        : c.kind === 'vertical' ? vertical(space('vertical', VERTICAL_OCTETS), o, hour)
          : c.kind === 'miner' ? miner(space('pool', POOL_OCTETS).address(0))
            : nat(space('web', WEB_OCTETS), space('dns', NAMESERVER_OCTETS), space('misc', MISC_OCTETS), space('peer', PEER_OCTETS).address(0));
    const ids = reportedIds(c.ep);
    const info: OutboundHostInfo = {
      index: first + i,
      name,
      kind: c.kind,
      role: c.kind === 'worm' || c.kind === 'vertical' ? 'compromised' : 'outbound_negative',
      cloud: c.cloud,
      account: c.ep.account,
      region: c.ep.region,
      src: c.ep.ip,
      iface: ids.iface,
      instance: ids.instance,
      allowListed: c.kind === 'nat',
      description: DESCRIPTION[c.kind],
      ...(REASON[c.kind] ? { reason: REASON[c.kind] } : {}),
    };
    return new OutboundHost(info, c.ep, new Rng(streamSeed(o.seed, 'compromised', name)), behaviour);
  });
}

/** allow.txt: the ids detect's --allow matches (interface or instance ids), with comments. */
export function allowListText(hosts: OutboundHost[]): string {
  const lines = ['# flowsieve generate: outbound allow list for `flowsieve detect --allow` (hosts that talk to many internet addresses by design)'];
  for (const h of hosts) {
    if (!h.info.allowListed) continue;
    const id = h.info.iface || h.info.instance;
    lines.push(`${id}  # ${h.info.name}: ${h.info.cloud} ${h.info.account} ${h.info.region} ${h.info.src}`);
  }
  return lines.join('\n') + '\n';
}
