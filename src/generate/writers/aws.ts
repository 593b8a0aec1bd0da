/**
 * AWS VPC Flow Logs as delivered to S3 (formats.md §1): one gzip file per flow log and
 * hour (a new one when a file reaches MAX_LINES, as AWS starts a new object at 75 MB),
 * under AWSLogs/<account>/vpcflowlogs/<region>/YYYY/MM/DD/, each starting with its
 * header line. v2 streams use the default format; v5 streams a custom format with a
 * different field order that carries flow-direction, tcp-flags, instance-id and region.
 * Every connection gives one record per direction, at each monitored ENI it crosses.
 */
import { reportedIds, type Endpoint, type Stream } from '../plan.js';
import type { GenFlow, Observer } from '../record.js';
import { utcParts } from '../clock.js';
import { ZeekSensor } from './zeek.js';
import type { Rng } from '../prng.js';
import { OutFile, type OutputStats } from './output.js';

export const AWS_V2_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
/** The custom v5 layout: bytes before packets, region and direction in the middle, on purpose. */
export const AWS_V5_HEADER =
  'version account-id vpc-id subnet-id instance-id interface-id region az-id type srcaddr dstaddr srcport dstport protocol ' +
  'bytes packets start end action tcp-flags flow-direction traffic-path pkt-srcaddr pkt-dstaddr log-status';

const MAX_LINES = 500_000;
const MAX_RECORD_BYTES = 512; // two IPv6 addresses twice plus ids: well under

const ascii = (t: string) => Uint8Array.from(t, (c) => c.charCodeAt(0));
const SP = 32;
const IPV4 = ascii('IPv4 ');
const IPV6 = ascii('IPv6 ');
const ACCEPT = ascii('ACCEPT ');
const REJECT = ascii('REJECT ');
const OK = ascii(' OK\n');
const OK_V2 = ascii('OK\n');
const INGRESS = ascii('ingress - ');
const EGRESS_VPC = ascii('egress 1 '); // traffic-path 1: same VPC
const EGRESS_IGW = ascii('egress 8 '); // traffic-path 8: internet gateway

function isPrivateV4(a: string): boolean {
  return a.startsWith('10.') || a.startsWith('192.168.') || /^172\.(1[6-9]|2\d|3[01])\./.test(a);
}

export interface WriterContext {
  out: string;
  gzipLevel: number;
  observer: Observer;
  stats: OutputStats;
  rng: Rng;
  /** --zeek: write each AWS stream's records again as a Zeek sensor's conn.log (zeek.ts). */
  zeek?: boolean;
}

export class AwsWriter {
  private file: OutFile | null = null;
  private readonly closing: Promise<void>[] = [];
  private hour = 0;
  private readonly v5: boolean;
  private readonly prefix: string;
  private readonly prefixes = new Map<Endpoint, Uint8Array>();
  private readonly zeek: ZeekSensor | null;
  records = 0;

  constructor(
    private readonly stream: Stream,
    private readonly ctx: WriterContext,
  ) {
    this.v5 = stream.kind === 'aws-v5';
    this.prefix = this.v5 ? `5 ${stream.account} ${stream.vpcId} ` : `2 ${stream.account} `;
    this.zeek = ctx.zeek ? new ZeekSensor(stream, ctx.out, ctx.gzipLevel, ctx.stats) : null;
  }

  beginHour(hourStart: number): void {
    this.hour = hourStart;
  }

  private open(minute: number): OutFile {
    const s = this.stream;
    const p = utcParts(minute);
    const name = `${s.account}_vpcflowlogs_${s.region}_${s.flowLogId}_${p.yyyy}${p.mm}${p.dd}T${p.hh}${p.mi}Z_${this.ctx.rng.hex(8)}.log.gz`;
    const f = new OutFile(`${this.ctx.out}/aws/AWSLogs/${s.account}/vpcflowlogs/${s.region}/${p.yyyy}/${p.mm}/${p.dd}/${name}`, this.ctx.gzipLevel, this.ctx.stats);
    f.write((this.v5 ? AWS_V5_HEADER : AWS_V2_HEADER) + '\n');
    return f;
  }

  flow(f: GenFlow): void {
    const fwdDir = f.inbound ? 'ingress' : 'egress';
    const revDir = f.inbound ? 'egress' : 'ingress';
    this.record(f, f.ep, f.src, f.dst, f.sport, f.dport, f.packets, f.bytes, f.flags, fwdDir);
    if (f.peer) this.record(f, f.peer, f.src, f.dst, f.sport, f.dport, f.packets, f.bytes, f.flags, revDir);
    if (f.accept && f.rpackets > 0) {
      this.record(f, f.ep, f.dst, f.src, f.dport, f.sport, f.rpackets, f.rbytes, f.rflags, revDir);
      if (f.peer) this.record(f, f.peer, f.dst, f.src, f.dport, f.sport, f.rpackets, f.rbytes, f.rflags, fwdDir);
    }
  }

  private record(
    f: GenFlow, ep: Endpoint, src: string, dst: string, sport: number, dport: number,
    packets: number, bytes: number, flags: number, dir: 'ingress' | 'egress',
  ): void {
    let file = this.file;
    if (file === null || file.lines >= MAX_LINES) {
      if (file) this.closing.push(file.close());
      file = this.file = this.open(file ? f.start - (f.start % 60) : this.hour);
    }
    const flagsOut = f.proto === 6 ? flags : 0;
    file.reserve(MAX_RECORD_BYTES);
    file.bytes(this.prefixOf(ep));
    if (this.v5) {
      file.bytes(src.includes(':') ? IPV6 : IPV4);
      file.ascii(src);
      file.byte(SP);
      file.ascii(dst);
      file.byte(SP);
      this.numbers(file, sport, dport, f.proto, bytes, packets, f.start, f.end);
      file.bytes(f.accept ? ACCEPT : REJECT);
      file.uint(flagsOut);
      file.byte(SP);
      file.bytes(dir === 'ingress' ? INGRESS : isPrivateV4(dst) ? EGRESS_VPC : EGRESS_IGW);
      file.ascii(src);
      file.byte(SP);
      file.ascii(dst);
      file.bytes(OK);
    } else {
      file.ascii(src);
      file.byte(SP);
      file.ascii(dst);
      file.byte(SP);
      this.numbers(file, sport, dport, f.proto, packets, bytes, f.start, f.end);
      file.bytes(f.accept ? ACCEPT : REJECT);
      file.bytes(OK_V2);
    }
    file.lines++;
    this.records++;
    this.zeek?.record(src, dst, sport, dport, f.proto, packets, bytes, f.start, f.end, this.v5 ? flagsOut : 0, this.v5 ? dir : '', this.hour);
    if (f.entity < 0) {
      this.stream.benignRecords++;
      return;
    }
    this.ctx.observer.observe(f.entity, {
      cloud: 'aws', account: ep.account, region: ep.region, src, dst, sport, dport, proto: f.proto,
      packets, bytes, start: f.start, end: f.end,
      direction: this.v5 ? dir : '',
      tcpFlags: this.v5 ? flagsOut : -1,
      ...reportedIds(ep),
    });
  }

  /** Seven space-terminated numbers (the two counts come in the order of the format). */
  private numbers(file: OutFile, sport: number, dport: number, proto: number, c1: number, c2: number, start: number, end: number): void {
    file.uint(sport);
    file.byte(SP);
    file.uint(dport);
    file.byte(SP);
    file.uint(proto);
    file.byte(SP);
    file.uint(c1);
    file.byte(SP);
    file.uint(c2);
    file.byte(SP);
    file.uint(start);
    file.byte(SP);
    file.uint(end);
    file.byte(SP);
  }

  /** The fields of a record that depend only on the ENI, pre-encoded once. */
  private prefixOf(ep: Endpoint): Uint8Array {
    let p = this.prefixes.get(ep);
    if (!p) {
      const text = this.v5 ? `${this.prefix}${ep.subnet} ${ep.instance} ${ep.iface} ${ep.region} ${ep.zone} ` : `${this.prefix}${ep.iface} `;
      this.prefixes.set(ep, (p = ascii(text)));
    }
    return p;
  }

  /** Idle ENIs report NODATA for the interval (formats.md §1.4): a few per file. */
  private noData(): void {
    const file = this.file!;
    const rng = this.ctx.rng;
    const n = rng.int(0, 2);
    for (let i = 0; i < n; i++) {
      const ep = rng.pick(this.stream.endpoints);
      const start = this.hour + rng.int(0, 3000);
      const status = rng.chance(0.1) ? 'SKIPDATA' : 'NODATA';
      if (this.v5) {
        file.write(`${this.prefix}${ep.subnet} ${ep.instance} ${ep.iface} ${ep.region} ${ep.zone} - - - - - - - - ${start} ${start + 600} - - - - - - ${status}\n`);
      } else {
        file.write(`${this.prefix}${ep.iface} - - - - - - - ${start} ${start + 600} - ${status}\n`);
      }
      file.lines++;
    }
  }

  needsDrain(): boolean {
    return (this.file?.needsDrain ?? false) || (this.zeek?.needsDrain() ?? false);
  }

  async drain(): Promise<void> {
    await this.file?.drain();
    await this.zeek?.drain();
  }

  async endHour(): Promise<void> {
    if (this.file) {
      this.noData();
      this.closing.push(this.file.close());
      this.file = null;
    }
    if (this.zeek) this.closing.push(this.zeek.endHour());
    await Promise.all(this.closing.splice(0));
  }
}
