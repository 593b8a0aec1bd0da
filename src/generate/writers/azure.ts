/**
 * Azure flow logs (formats.md §2): one PT1H.json block blob per flow log, NIC (MAC) and
 * hour, holding {"records":[...]} with one record per minute. NSG flow logs (version 2)
 * group tuples by rule; VNet flow logs (version 4) by ACL and rule. Tuples are
 * bidirectional: an allowed connection is a B tuple (no counts) and an E tuple with
 * both directions' counts; a denied one is a single tuple (NSG D/B, VNet state D).
 * Neither logs ICMP, so ICMP connections are not written.
 */
import { reportedIds, type Endpoint, type Stream } from '../plan.js';
import type { GenFlow } from '../record.js';
import { TimeText, fractionDigits, utcParts } from '../clock.js';
import { OutFile } from './output.js';
import type { WriterContext } from './aws.js';

const MAX_TUPLES_PER_RECORD = 4096;

interface Blob {
  file: OutFile;
  records: number;
  /** rule -> tuples of the current minute (insertion order is the output order) */
  rules: Map<string, string[]>;
  tuples: number;
}

export class AzureWriter {
  private readonly blobs = new Map<Endpoint, Blob>();
  private hour = 0;
  private readonly nsg: boolean;
  private readonly time = new TimeText();
  records = 0;

  constructor(
    private readonly stream: Stream,
    private readonly ctx: WriterContext,
  ) {
    this.nsg = stream.kind === 'azure-nsg';
  }

  beginHour(hourStart: number): void {
    this.hour = hourStart;
  }

  private blobPath(nic: Endpoint): string {
    const s = this.stream;
    const p = utcParts(this.hour);
    const container = this.nsg ? 'insights-logs-networksecuritygroupflowevent/resourceId=' : 'insights-logs-flowlogflowevent/flowLogResourceID=';
    return `${this.ctx.out}/azure/${container}${s.resourceId}/y=${p.yyyy}/m=${p.mm}/d=${p.dd}/h=${p.hh}/m=00/macAddress=${nic.iface}/PT1H.json`;
  }

  private blob(nic: Endpoint): Blob {
    let b = this.blobs.get(nic);
    if (!b) {
      b = { file: new OutFile(this.blobPath(nic), null, this.ctx.stats), records: 0, rules: new Map(), tuples: 0 };
      b.file.write('{"records":[');
      this.blobs.set(nic, b);
    }
    return b;
  }

  flow(f: GenFlow): void {
    if (f.proto !== 6 && f.proto !== 17) return;
    this.tuples(f, f.ep, f.inbound);
    if (f.peer) this.tuples(f, f.peer, !f.inbound);
  }

  /** The tuples of connection f at one NIC; `incoming` = the connection enters that NIC. */
  private tuples(f: GenFlow, nic: Endpoint, incoming: boolean): void {
    const internal = f.peer !== null;
    const rule = ruleName(f, incoming, internal, this.nsg);
    const io = incoming ? 'I' : 'O';
    const head = `${f.src},${f.dst},${f.sport},${f.dport},`;
    const b = this.blob(nic);
    let list = b.rules.get(rule);
    if (!list) b.rules.set(rule, (list = []));
    const minuteEnd = f.start - (f.start % 60) + 59;
    const tEnd = Math.max(f.start, Math.min(f.end, minuteEnd));
    if (this.nsg) {
      const p = f.proto === 6 ? 'T' : 'U';
      if (!f.accept) {
        list.push(`${f.start},${head}${p},${io},D,B,,,,`);
        this.observe(f, nic, f.start, NaN, NaN, incoming);
      } else {
        list.push(`${f.start},${head}${p},${io},A,B,,,,`);
        list.push(`${tEnd},${head}${p},${io},A,E,${f.packets},${f.bytes},${f.rpackets},${f.rbytes}`);
        this.observe(f, nic, f.start, NaN, NaN, incoming);
        this.observe(f, nic, tEnd, f.packets, f.bytes, incoming);
      }
    } else {
      const ms = f.start * 1000 + (this.ctx.rng.u32() % 1000);
      if (!f.accept) {
        list.push(`${ms},${head}${f.proto},${io},D,NX,0,0,0,0`);
        this.observe(f, nic, f.start, NaN, NaN, incoming);
      } else {
        const msEnd = Math.max(ms, tEnd * 1000 + (this.ctx.rng.u32() % 1000));
        list.push(`${ms},${head}${f.proto},${io},B,NX,0,0,0,0`);
        list.push(`${msEnd},${head}${f.proto},${io},E,NX,${f.packets},${f.bytes},${f.rpackets},${f.rbytes}`);
        this.observe(f, nic, f.start, NaN, NaN, incoming);
        this.observe(f, nic, Math.floor(msEnd / 1000), f.packets, f.bytes, incoming);
      }
    }
    b.tuples += f.accept ? 2 : 1;
    if (b.tuples >= MAX_TUPLES_PER_RECORD) this.flushRecord(nic, b, f.start - (f.start % 60));
  }

  private observe(f: GenFlow, nic: Endpoint, t: number, packets: number, bytes: number, incoming: boolean): void {
    this.records++;
    if (f.entity < 0) {
      this.stream.benignRecords++;
      return;
    }
    this.ctx.observer.observe(f.entity, {
      cloud: 'azure', account: nic.account, region: nic.region, src: f.src, dst: f.dst, sport: f.sport, dport: f.dport,
      proto: f.proto, packets, bytes, start: t, end: t, direction: incoming ? 'ingress' : 'egress', tcpFlags: -1,
      ...reportedIds(nic),
    });
  }

  /** Write the minute's record of one NIC. */
  private flushRecord(nic: Endpoint, b: Blob, minute: number): void {
    if (b.tuples === 0) return;
    const s = this.stream;
    const time = this.time.at(minute + 30 + (this.ctx.rng.u32() % 30), fractionDigits(this.ctx.rng.u32(), 7));
    let rec: unknown;
    if (this.nsg) {
      rec = {
        time,
        systemId: s.systemId,
        category: 'NetworkSecurityGroupFlowEvent',
        resourceId: s.resourceId,
        operationName: 'NetworkSecurityGroupFlowEvents',
        properties: {
          Version: 2,
          flows: [...b.rules].map(([rule, flowTuples]) => ({ rule, flows: [{ mac: nic.iface, flowTuples }] })),
        },
      };
    } else {
      rec = {
        time,
        flowLogVersion: 4,
        flowLogGUID: s.systemId,
        macAddress: nic.iface,
        category: 'FlowLogFlowEvent',
        flowLogResourceID: s.resourceId,
        targetResourceID: s.targetResourceId,
        operationName: 'FlowLogFlowEvent',
        flowRecords: {
          flows: [{ aclID: s.aclId, flowGroups: [...b.rules].map(([rule, flowTuples]) => ({ rule, flowTuples })) }],
        },
      };
    }
    b.file.write((b.records > 0 ? ',' : '') + JSON.stringify(rec));
    b.records++;
    b.rules = new Map();
    b.tuples = 0;
  }

  endMinute(minute: number): void {
    for (const [nic, b] of this.blobs) this.flushRecord(nic, b, minute);
  }

  needsDrain(): boolean {
    for (const b of this.blobs.values()) if (b.file.needsDrain) return true;
    return false;
  }

  async drain(): Promise<void> {
    for (const b of this.blobs.values()) await b.file.drain();
  }

  async endHour(): Promise<void> {
    const closing: Promise<void>[] = [];
    for (const b of this.blobs.values()) {
      b.file.write(']}');
      closing.push(b.file.close());
    }
    this.blobs.clear();
    await Promise.all(closing);
  }
}

function ruleName(f: GenFlow, incoming: boolean, internal: boolean, nsg: boolean): string {
  if (internal) return incoming ? 'DefaultRule_AllowVnetInBound' : 'DefaultRule_AllowVnetOutBound';
  if (!incoming) return 'DefaultRule_AllowInternetOutBound';
  if (!f.accept) return nsg ? 'DefaultRule_DenyAllInBound' : 'BlockHighRiskTCPPortsFromInternet';
  return nsg ? `UserRule_allow-${f.proto === 6 ? 'tcp' : 'udp'}-${f.dport}` : `AllowInbound-${f.dport}`;
}
