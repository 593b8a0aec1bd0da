/**
 * A Zeek sensor beside an AWS flow log (`generate --zeek`): every record the AWS writer
 * writes is written again as a Zeek conn.log record (TSV) of a sensor watching that VPC,
 * `zeek/<account>/<region>/conn.<YYYY-MM-DD-HH>.log.gz`, one file an hour. The flow-log
 * direction becomes local_orig/local_resp (v5 logs; v2 logs leave them unset), TCP flags
 * SYN-ACK or RST (backscatter) become conn_state SHR, the rest S0, and the counts are
 * orig_pkts and orig_ip_bytes (what the v2 logs lack, the sensor does not say either). So `detect zeek/<account>/<region> --cloud aws --account
 * <account> --region <region>` gives the verdicts of that stream's AWS files (test:
 * zeek-generated.test.ts). The ground truth is the AWS files'.
 */
import type { Stream } from '../plan.js';
import { utcParts } from '../clock.js';
import { OneFileAnHour, OutFile, type OutputStats } from './output.js';

const HEADER = [
  '#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn',
  '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
  '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]',
].join('\n');
const PROTO: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp' };

export class ZeekSensor extends OneFileAnHour {
  private uid = 0;

  constructor(
    private readonly stream: Stream,
    private readonly out: string,
    private readonly gzipLevel: number,
    private readonly stats: OutputStats,
  ) {
    super();
  }

  /** One record as the AWS writer wrote it; `dir` '' when the log has no direction (v2). */
  record(src: string, dst: string, sport: number, dport: number, proto: number, packets: number, bytes: number, start: number, end: number, flags: number, dir: 'ingress' | 'egress' | '', hour: number): void {
    const name = PROTO[proto];
    if (!name) return; // Zeek logs TCP, UDP and ICMP connections only
    if (!this.file) {
      const p = utcParts(hour);
      const s = this.stream;
      this.file = new OutFile(`${this.out}/zeek/${s.account}/${s.region}/conn.${p.yyyy}-${p.mm}-${p.dd}-${p.hh}.log.gz`, this.gzipLevel, this.stats);
      this.file.write(HEADER + '\n');
    }
    const state = proto === 6 && (flags === 18 || flags === 4 || flags === 22) ? 'SHR' : 'S0';
    const [lo, lr] = dir === 'egress' ? ['T', 'F'] : dir === 'ingress' ? ['F', 'T'] : ['-', '-'];
    // ICMP: Zeek's orig_p is the type and resp_p the code; the AWS records write 0 and 0
    this.file.write(`${start}.000000\tC${(this.uid++).toString(36)}\t${src}\t${sport}\t${dst}\t${dport}\t${name}\t-\t${end - start}.000000\t-\t-\t${state}\t${lo}\t${lr}\t0\tS\t${packets}\t${bytes}\t0\t0\t(empty)\n`);
    this.file.lines++;
  }

  /** The hour's file, closed. */
  async endHour(): Promise<void> {
    await this.closeFile('#close\n');
  }
}
