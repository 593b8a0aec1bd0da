/**
 * What the scenario emits: one connection as seen by a monitored endpoint, in no
 * particular format. The writers turn it into the records of their format (an AWS
 * record per direction and per ENI, Azure B/E tuples, GCP entries per reporter), and
 * report each record they write for a planted entity to the ground-truth tracker in
 * detection.md §2 normalised form.
 */
import type { CloudName, Endpoint } from './plan.js';

export class GenFlow {
  /** Planted entity index, or -1 for benign traffic (not tracked). */
  entity = -1;
  /** The monitored endpoint that observes the connection. */
  ep!: Endpoint;
  /** The other end when it is a monitored endpoint too (internal traffic): it observes the connection as well. */
  peer: Endpoint | null = null;
  /** True when `ep` is the destination (the connection comes in), false when `ep` opened it. */
  inbound = true;
  src = '';
  dst = '';
  sport = 0;
  dport = 0;
  proto = 6;
  /** src -> dst */
  packets = 1;
  bytes = 40;
  /** dst -> src (the reply); 0 packets = no reply */
  rpackets = 0;
  rbytes = 0;
  start = 0;
  end = 0;
  accept = true;
  /** TCP flags of each direction, in AWS's restricted set (FIN 1, SYN 2, RST 4, SYN-ACK 18). */
  flags = 0;
  rflags = 0;

  reset(ep: Endpoint, entity: number): this {
    this.entity = entity;
    this.ep = ep;
    this.peer = null;
    this.inbound = true;
    this.rpackets = 0;
    this.rbytes = 0;
    this.accept = true;
    this.flags = 0;
    this.rflags = 0;
    return this;
  }
}

/** One record as the engine will normalise it (detection.md §2): what the tracker needs. */
export interface Observed {
  cloud: CloudName;
  account: string;
  region: string;
  src: string;
  dst: string;
  sport: number;
  dport: number;
  proto: number;
  packets: number; // NaN = unknown
  bytes: number; // NaN = unknown
  start: number;
  end: number;
  direction: 'ingress' | 'egress' | '';
  tcpFlags: number; // -1 = not in the format
  /** The interface and instance ids the record carries, as detect reads them ('' = none). */
  iface: string;
  instance: string;
}

export interface Observer {
  observe(entity: number, r: Observed): void;
}

/** Where the scenario sends connections. */
export interface FlowOut {
  flow(f: GenFlow): void;
}
