/**
 * A generated Zeek sample (issue 15): the records of one generated AWS flow log (one
 * account and region, planted scanners and compromised hosts included) written as a Zeek
 * sensor's conn.log (TSV: direction as local_orig/local_resp, backscatter as SHR), must give
 * the same scan keys and alerts as the AWS files themselves.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tempDir } from './helpers/tmp.js';
import { parseWith } from './helpers/readers.js';
import { runDetect } from './helpers/run.js';
import { generate, DEFAULT_START } from '../dist/src/generate/index.js';

const FIELDS = 'ts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents';
const PROTO: Record<number, string> = { 6: 'tcp', 17: 'udp', 1: 'icmp', 58: 'icmp' };

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)])).sort();
}

describe('a generated Zeek sample', () => {
  it('gives the verdicts of the AWS flow log it was written from', async () => {
    const dir = tempDir();
    await generate({ out: dir, seed: 5, scale: 0.03, days: 1, start: DEFAULT_START, clouds: ['aws'], windowSeconds: 21600, gzipLevel: 1 });
    // the account and region whose log holds the internal scanner's sweep (ground truth)
    const truth = JSON.parse(readFileSync(join(dir, 'ground-truth.json'), 'utf8'));
    const sweep = truth.outbound.alerts.find((a: any) => a.kind === 'internal');
    const s = { acct: sweep.account, region: sweep.region, dir: join(dir, 'aws', 'AWSLogs', sweep.account, 'vpcflowlogs', sweep.region) };
    const lines = ['#separator \\x09', '#set_separator\t,', '#empty_field\t(empty)', '#unset_field\t-', '#path\tconn', `#fields\t${FIELDS}`];
    let n = 0;
    for (const f of files(s.dir)) {
      for (const r of parseWith('aws-text', gunzipSync(readFileSync(f))).records) {
        if (!PROTO[r.proto]) continue;
        // Zeek writes an ICMP type as orig_p and the code as resp_p; AWS writes 0 and 0
        const state = r.proto === 6 && [18, 4, 22].includes(r.tcpFlags) ? 'SHR' : 'S0';
        const [lo, lr] = r.direction === 2 ? ['T', 'F'] : r.direction === 1 ? ['F', 'T'] : ['-', '-'];
        const count = (x: number) => (Number.isNaN(x) ? '-' : String(x));
        lines.push([`${r.start}.000000`, `C${n++}`, r.src, r.sport, r.dst, r.dport, PROTO[r.proto], '-', `${r.end - r.start}.000000`, '-', '-', state, lo, lr, 0, 'S',
          count(r.packets), count(r.bytes), 0, 0, '(empty)'].join('\t'));
      }
    }
    const zeek = join(dir, 'zeek');
    writeFileSync(`${zeek}.conn.log`, lines.join('\n') + '\n#close\t2024-03-02-00-00-00\n');
    const aws = await runDetect([s.dir]);
    const z = await runDetect([`${zeek}.conn.log`], { account: s.acct, region: s.region, cloud: 'aws' });
    expect(z.files[0].format).toBe('zeek');
    expect(z.rejects).toEqual([]);
    const key = (v: any) => [v.window, v.src, v.protocol, v.dstPort, v.endpoints, v.flows, v.packets, v.bytes, v.cvPackets, v.cvBytes, v.cvFlows, v.firstSeen, v.lastSeen];
    expect(aws.scans.length).toBeGreaterThan(5);
    expect(aws.alerts.map((a: any) => [a.kind, a.src, a.dstPort])).toContainEqual(['internal', sweep.src, 22]);
    expect(z.scans.map(key)).toEqual(aws.scans.map(key));
    const alert = (a: any) => [a.kind, a.window, a.src, a.protocol, a.dstPort, a.target, a.targets, a.flows, a.packets, a.bytes];
    expect(z.alerts.map(alert)).toEqual(aws.alerts.map(alert));
    expect(z.totals.backscatter).toBe(aws.totals.backscatter);
  }, 60_000);
});
