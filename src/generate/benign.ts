/**
 * Benign traffic, made on the fly minute by minute: clients of our services (public
 * sources touching 1-3 endpoints, the bulk of the records), traffic between our own
 * hosts, our hosts calling internet services (whose answers are the responses,
 * srcport < 1024 to a high port), and single-packet background noise. Nothing is kept
 * between minutes but a few counters, so memory does not depend on --scale.
 *
 * No benign source can become a scan: a one-off client address is handed out once per
 * UTC day (a bijection of a counter, so no set of used addresses is kept), and a regular
 * client always talks to the same 1-3 endpoints.
 */
import type { Endpoint, Plan, Stream } from './plan.js';
import { BENIGN_ONE_OFF_OCTETS, BENIGN_REGULAR_OCTETS, BENIGN_V6_PREFIX } from './plan.js';
import { Rng, permute, streamSeed } from './prng.js';
import { GenFlow, type FlowOut } from './record.js';

/** Benign records per day at --scale 1 (3 days: about 200,000 records). */
export const BENIGN_RECORDS_PER_DAY = 66_667;

const DAY = 86400;
const ONE_OFF_BITS = 26; // 2^26 one-off clients a day, over 4 first octets
const NOISE_PORTS = [23, 445, 1433, 3306, 5900, 6379, 8080, 22, 3389, 80, 443, 8443, 25, 110, 5060];

interface Regular {
  ip: string;
  eps: Endpoint[];
  port: number;
  proto: number;
}

interface StreamState {
  target: number; // cumulative benign records due
  regulars: Regular[];
  byPort: Map<number, Endpoint[]>; // servers per TCP port
  v6Servers: Endpoint[];
}

export class BenignTraffic {
  private readonly rng: Rng;
  private readonly flow = new GenFlow();
  private readonly states: StreamState[];
  private readonly perMinute: number;
  private day = -1;
  private oneOff = 0;
  private oneOffKey = 0;
  private oneOff6 = 0;
  private oneOff6Key = 0;

  constructor(
    private readonly seed: number,
    private readonly plan: Plan,
    scale: number,
  ) {
    this.rng = new Rng(streamSeed(seed, 'benign'));
    this.perMinute = (BENIGN_RECORDS_PER_DAY * scale) / 1440;
    const regRng = new Rng(streamSeed(seed, 'regulars'));
    const regKey = streamSeed(seed, 'regular-addresses');
    let nextRegular = 0;
    this.states = plan.streams.map((s) => {
      const byPort = new Map<number, Endpoint[]>();
      for (const ep of s.servers) for (const p of ep.tcp) byPort.set(p, [...(byPort.get(p) ?? []), ep]);
      const regulars: Regular[] = [];
      for (let i = 0; i < s.endpoints.length * 8 && s.servers.length > 0; i++) {
        const ep = s.servers[regRng.skewed(s.servers.length)]!;
        const udp = ep.tcp.length === 0;
        const port = udp ? regRng.pick(ep.udp) : regRng.pick(ep.tcp);
        const peers = udp ? [ep] : byPort.get(port)!;
        const eps = [ep, ...regRng.sample(peers.filter((x) => x !== ep), regRng.chance(0.8) ? 0 : regRng.int(1, 2))];
        const r = nextRegular++;
        const low = permute(r, 24, regKey);
        regulars.push({ ip: `${BENIGN_REGULAR_OCTETS[r % BENIGN_REGULAR_OCTETS.length]}.${low >>> 16}.${(low >>> 8) & 255}.${low & 255}`, eps, port, proto: udp ? 17 : 6 });
      }
      return { target: 0, regulars, byPort, v6Servers: s.servers.filter((ep) => ep.ip6 !== null && ep.tcp.length > 0) };
    });
  }

  /** Emit the benign connections of the minute starting at t0. */
  emitMinute(t0: number, out: FlowOut): void {
    const day = Math.floor(t0 / DAY);
    if (day !== this.day) {
      this.day = day;
      this.oneOff = 0;
      this.oneOff6 = 0;
      this.oneOffKey = streamSeed(this.seed, 'one-off', day);
      this.oneOff6Key = streamSeed(this.seed, 'one-off-v6', day);
    }
    // diurnal volume: mean 1, peak at 15:00 UTC, trough at 03:00
    const diurnal = 1 + 0.4 * Math.sin(2 * Math.PI * ((t0 % DAY) / DAY - 0.375));
    const streams = this.plan.streams;
    for (let i = 0; i < streams.length; i++) {
      const s = streams[i]!;
      const st = this.states[i]!;
      st.target += this.perMinute * s.weight * diurnal;
      let idle = 0;
      while (s.benignRecords < st.target && idle < 8) {
        const before = s.benignRecords;
        this.session(s, st, t0, out);
        idle = s.benignRecords === before ? idle + 1 : 0;
      }
    }
  }

  private session(s: Stream, st: StreamState, t0: number, out: FlowOut): void {
    const u = this.rng.float();
    if (u < 0.45) this.clients(s, st, t0, out);
    else if (u < 0.5) this.internal(s, t0, out);
    else if (u < 0.62) this.outbound(s, t0, out);
    else if (u < 0.95 || st.v6Servers.length === 0) this.noise(s, t0, out);
    else this.clients6(st, t0, out);
  }

  private oneOffAddress(): string {
    const x = permute(this.oneOff++ & ((1 << ONE_OFF_BITS) - 1), ONE_OFF_BITS, this.oneOffKey);
    return `${BENIGN_ONE_OFF_OCTETS[x >>> 24]}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}`;
  }

  private oneOffAddress6(): string {
    const x = permute(this.oneOff6++ >>> 0, 32, this.oneOff6Key);
    const r = this.rng;
    return `${BENIGN_V6_PREFIX}:${(x >>> 16).toString(16)}:${(x & 0xffff).toString(16)}:${r.int(1, 0xffff).toString(16)}:${r.int(1, 0xffff).toString(16)}:${r.int(1, 0xffff).toString(16)}:${r.int(1, 0xffff).toString(16)}`;
  }

  /** Connections per endpoint: mostly one, sometimes a handful. */
  private connections(): number {
    const u = this.rng.float();
    return u < 0.75 ? 1 : u < 0.9 ? 2 : this.rng.int(3, 5);
  }

  /** Clients of our services: a regular (same endpoints every time) or a one-off address. */
  private clients(s: Stream, st: StreamState, t0: number, out: FlowOut): void {
    const r = this.rng;
    if (s.servers.length === 0) return this.internal(s, t0, out);
    let ip: string;
    let eps: Endpoint[];
    let port: number;
    let proto: number;
    if (st.regulars.length > 0 && r.chance(0.3)) {
      const reg = r.pick(st.regulars);
      ({ ip, eps, port, proto } = reg);
    } else {
      const ep = s.servers[r.skewed(s.servers.length)]!;
      proto = ep.tcp.length > 0 ? 6 : 17;
      port = proto === 6 ? r.pick(ep.tcp) : r.pick(ep.udp);
      const u = r.float();
      const extra = u < 0.82 || proto === 17 ? 0 : u < 0.96 ? 1 : 2;
      eps = extra === 0 ? [ep] : [ep, ...r.sample(st.byPort.get(port)!.filter((x) => x !== ep), extra)];
      ip = this.oneOffAddress();
    }
    for (const ep of eps) {
      const n = this.connections();
      for (let c = 0; c < n; c++) this.service(ep, ip, ep.ip, port, proto, t0, out);
    }
  }

  private clients6(st: StreamState, t0: number, out: FlowOut): void {
    const ep = st.v6Servers[this.rng.skewed(st.v6Servers.length)]!;
    const ip = this.oneOffAddress6();
    const port = this.rng.pick(ep.tcp);
    const n = this.connections();
    for (let c = 0; c < n; c++) this.service(ep, ip, ep.ip6!, port, 6, t0, out);
  }

  /** One client connection to a service of `ep`, accepted, with its answer. */
  private service(ep: Endpoint, src: string, dst: string, port: number, proto: number, t0: number, out: FlowOut): void {
    const r = this.rng;
    const f = this.flow.reset(ep, -1);
    f.src = src;
    f.dst = dst;
    f.sport = r.int(32768, 60999);
    f.dport = port;
    f.proto = proto;
    this.sizes(f, proto);
    f.start = t0 + r.int(0, 59);
    f.end = f.start + (proto === 6 ? r.int(0, 59) : 0);
    out.flow(f);
  }

  private sizes(f: GenFlow, proto: number): void {
    const r = this.rng;
    if (proto === 17) {
      f.packets = 1;
      f.bytes = r.int(60, 120);
      f.rpackets = 1;
      f.rbytes = r.int(80, 500);
      return;
    }
    f.packets = Math.round(r.logUniform(3, 400));
    f.bytes = f.packets * r.int(52, 900);
    f.rpackets = Math.max(1, Math.round(f.packets * (0.7 + 0.8 * r.float())));
    f.rbytes = f.rpackets * r.int(200, 1460);
    f.flags = 3;
    f.rflags = 19;
  }

  /** Our hosts talking to each other (private to private): both ends log it. */
  private internal(s: Stream, t0: number, out: FlowOut): void {
    const r = this.rng;
    if (s.endpoints.length < 2) return;
    const [server, client] = r.sample(s.endpoints, 2) as [Endpoint, Endpoint];
    const role = server.role;
    const port = role === 'db' ? 5432 : role === 'app' ? 8080 : role === 'dns' ? 53 : role === 'api' ? 8443 : role === 'ssh' ? 22 : role === 'windows' ? 445 : r.pick([443, 80, 6379]);
    const proto = role === 'dns' ? 17 : 6;
    const n = r.int(1, 3);
    for (let c = 0; c < n; c++) {
      const f = this.flow.reset(server, -1);
      f.peer = client;
      f.src = client.ip;
      f.dst = server.ip;
      f.sport = r.int(32768, 60999);
      f.dport = port;
      f.proto = proto;
      this.sizes(f, proto);
      f.start = t0 + r.int(0, 59);
      f.end = f.start + r.int(0, 59);
      out.flow(f);
    }
  }

  /** Our hosts calling internet services; the answers come back from port 443/80/53/123 to a high port. */
  private outbound(s: Stream, t0: number, out: FlowOut): void {
    const r = this.rng;
    const ep = r.pick(s.endpoints);
    const svc = r.pick(this.plan.services);
    const n = r.int(1, 3);
    for (let c = 0; c < n; c++) {
      const f = this.flow.reset(ep, -1);
      f.inbound = false;
      f.src = ep.ip;
      f.dst = svc.ip;
      f.sport = r.int(32768, 60999);
      f.dport = svc.port;
      f.proto = svc.proto;
      this.sizes(f, svc.proto);
      f.start = t0 + r.int(0, 59);
      f.end = f.start + r.int(0, 30);
      out.flow(f);
    }
  }

  /** Background noise: a one-off source, one packet to one endpoint, usually refused. */
  private noise(s: Stream, t0: number, out: FlowOut): void {
    const r = this.rng;
    const ep = r.pick(s.endpoints);
    const port = r.pick(NOISE_PORTS);
    const open = ep.tcp.includes(port);
    const f = this.flow.reset(ep, -1);
    f.src = this.oneOffAddress();
    f.dst = ep.ip;
    f.sport = r.int(1024, 65535);
    f.dport = port;
    f.proto = 6;
    f.packets = 1;
    f.bytes = r.pick([40, 44, 60]);
    f.flags = 2;
    f.accept = open || ep.cloud === 'gcp';
    if (f.accept) {
      f.rpackets = 1;
      f.rbytes = 40;
      f.rflags = open ? 18 : 4;
    }
    f.start = t0 + r.int(0, 59);
    f.end = f.start;
    out.flow(f);
  }
}
