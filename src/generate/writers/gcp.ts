/**
 * Google Cloud VPC Flow Logs as exported by a Cloud Storage sink (formats.md §3): one
 * LogEntry JSON per line, hourly shards per project under
 * compute.googleapis.com/vpc_flows/YYYY/MM/DD/HH:00:00_HH:59:59_S0.json. Records are
 * unidirectional and reported by a VM: inbound connections by the destination (DEST),
 * outbound ones by the source (SRC), traffic between two of our VMs by both. int64
 * counts are strings, times RFC 3339 with nanoseconds, unset fields omitted.
 */
import { reportedIds, type Endpoint } from '../plan.js';
import type { GenFlow } from '../record.js';
import { TimeText, fractionDigits, utcParts } from '../clock.js';
import { OneFileAnHour, OutFile } from './output.js';
import type { WriterContext } from './aws.js';

/** Rough origin of the public pools, for src_location / dest_location. */
const LOCATIONS: Record<string, string> = {
  '5': '{"asn":3320,"continent":"Europe","country":"deu"}',
  '31': '{"asn":12389,"continent":"Europe","country":"rus"}',
  '37': '{"asn":6830,"continent":"Europe","country":"nld"}',
  '46': '{"asn":3215,"continent":"Europe","country":"fra"}',
  '78': '{"asn":5089,"continent":"Europe","country":"gbr"}',
  '82': '{"asn":3352,"continent":"Europe","country":"esp"}',
  '91': '{"asn":12322,"continent":"Europe","country":"fra"}',
  '185': '{"asn":202425,"continent":"Europe","country":"nld"}',
  '193': '{"asn":49505,"city":"Saint Petersburg","continent":"Europe","country":"rus","region":"Saint Petersburg"}',
  '45': '{"asn":14061,"continent":"America","country":"usa"}',
  '176': '{"asn":51167,"continent":"Europe","country":"deu"}',
  '89': '{"asn":9009,"continent":"Europe","country":"gbr"}',
  '141': '{"asn":204428,"continent":"Europe","country":"nld"}',
  '104': '{"asn":13335,"continent":"America","country":"usa"}',
  '23': '{"asn":20940,"continent":"America","country":"usa"}',
  '66': '{"asn":7922,"continent":"America","country":"usa"}',
  '2a01': '{"asn":24940,"continent":"Europe","country":"deu"}',
  '2a02': '{"asn":3209,"continent":"Europe","country":"deu"}',
};

function location(ip: string): string | undefined {
  const cut = ip.includes(':') ? ip.indexOf(':') : ip.indexOf('.');
  return LOCATIONS[ip.slice(0, cut)];
}

export class GcpWriter extends OneFileAnHour {
  private hour = 0;
  private readonly time = new TimeText();
  records = 0;

  constructor(
    private readonly project: string,
    private readonly ctx: WriterContext,
  ) {
    super();
  }

  beginHour(hourStart: number): void {
    this.hour = hourStart;
  }

  private open(): OutFile {
    const p = utcParts(this.hour);
    const path = `${this.ctx.out}/gcp/${this.project}/compute.googleapis.com/vpc_flows/${p.yyyy}/${p.mm}/${p.dd}/${p.hh}:00:00_${p.hh}:59:59_S0.json`;
    return new OutFile(path, null, this.ctx.stats);
  }

  flow(f: GenFlow): void {
    // forward direction: src -> dst
    const dstVm = f.inbound ? f.ep : f.peer;
    const srcVm = f.inbound ? f.peer : f.ep;
    this.direction(f, f.src, f.dst, f.sport, f.dport, f.packets, f.bytes, srcVm, dstVm);
    if (f.accept && f.rpackets > 0) this.direction(f, f.dst, f.src, f.dport, f.sport, f.rpackets, f.rbytes, dstVm, srcVm);
  }

  /** One direction of a connection: a DEST entry when the destination is our VM, a SRC entry when the source is. */
  private direction(
    f: GenFlow, src: string, dst: string, sport: number, dport: number, packets: number, bytes: number,
    srcVm: Endpoint | null, dstVm: Endpoint | null,
  ): void {
    if (dstVm) this.entry(f, 'DEST', dstVm, src, dst, sport, dport, packets, bytes, srcVm, dstVm);
    if (srcVm) this.entry(f, 'SRC', srcVm, src, dst, sport, dport, packets, bytes, srcVm, dstVm);
    // the engine counts a connection reported by both ends once, from the destination's side
    if (f.entity >= 0 && dstVm) {
      this.ctx.observer.observe(f.entity, {
        cloud: 'gcp', account: dstVm.account, region: dstVm.region, src, dst, sport, dport, proto: f.proto,
        packets, bytes, start: f.start, end: f.end, direction: 'ingress', tcpFlags: -1, ...reportedIds(dstVm),
      });
    } else if (f.entity >= 0 && srcVm) {
      this.ctx.observer.observe(f.entity, {
        cloud: 'gcp', account: srcVm.account, region: srcVm.region, src, dst, sport, dport, proto: f.proto,
        packets, bytes, start: f.start, end: f.end, direction: 'egress', tcpFlags: -1, ...reportedIds(srcVm),
      });
    }
  }

  private entry(
    f: GenFlow, reporter: 'SRC' | 'DEST', vm: Endpoint, src: string, dst: string, sport: number, dport: number,
    packets: number, bytes: number, srcVm: Endpoint | null, dstVm: Endpoint | null,
  ): void {
    const rng = this.ctx.rng;
    const startFrac = rng.u32() % 1e9;
    const endFrac = f.end > f.start ? rng.u32() % 1e9 : startFrac + ((rng.u32() % 1e9) * (1e9 - 1 - startFrac)) / 1e9;
    const startTime = this.time.at(f.start, fractionDigits(startFrac, 9));
    const endTime = this.time.at(f.end, fractionDigits(Math.floor(endFrac), 9));
    const received = this.time.at(f.end + 5 + (rng.u32() % 300), fractionDigits(rng.u32() % 1e9, 9));
    const ports = f.proto === 6 || f.proto === 17 ? `,"src_port":${sport}` : '';
    const dports = f.proto === 6 || f.proto === 17 ? `,"dest_port":${dport}` : '';
    const dLoc = dstVm ? undefined : location(dst);
    const sLoc = srcVm ? undefined : location(src);
    const rtt = f.proto === 6 && f.accept && reporter === 'SRC' && f.rpackets > 0 ? `"rtt_msec":"${1 + (rng.u32() % 180)}",` : '';
    const line =
      `{"insertId":"${rng.hex(13)}","jsonPayload":{"bytes_sent":"${bytes}","connection":{"dest_ip":"${dst}"${dports},"protocol":${f.proto},"src_ip":"${src}"${ports}},` +
      (dstVm ? dstVm.gcpDest! : '') +
      (dLoc ? `"dest_location":${dLoc},` : '') +
      (dstVm ? dstVm.gcpDestVpc! : '') +
      `"end_time":"${endTime}","packets_sent":"${packets}","reporter":"${reporter}",${rtt}` +
      (srcVm ? srcVm.gcpSrc! : '') +
      (sLoc ? `"src_location":${sLoc},` : '') +
      (srcVm ? srcVm.gcpSrcVpc! : '') +
      `"start_time":"${startTime}"},"logName":"projects/${vm.account}/logs/compute.googleapis.com%2Fvpc_flows",` +
      `"receiveTimestamp":"${received}","resource":${vm.gcpResource},"timestamp":"${received}"}\n`;
    (this.file ??= this.open()).write(line);
    this.records++;
    if (f.entity < 0) vm.stream.benignRecords++;
  }

  endMinute(_minute: number): void {}

  async endHour(): Promise<void> {
    await this.closeFile();
  }
}
