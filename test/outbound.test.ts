import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { runDetect } from './helpers/run.js';
import { readListFile } from '../dist/src/net/cidr.js';

const T0 = 1700006400;
const HDR = 'version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end flow-direction log-status';

function line(o: { iface?: string; inst?: string; src: string; dst: string; sport?: number; dport: number; proto?: number; packets?: number; bytes?: number; t?: number; dir?: string }) {
  return `5 123456789012 ${o.iface ?? 'eni-1'} ${o.inst ?? 'i-1'} ${o.src} ${o.dst} ${o.sport ?? 50000} ${o.dport} ${o.proto ?? 6} ${o.packets ?? 1} ${o.bytes ?? 40} ${o.t ?? T0} ${o.t ?? T0} ${o.dir ?? 'egress'} OK`;
}

describe('outbound scanning from own hosts (detection.md §4)', () => {
  it('alerts a worm-like host, a vertical scan; not a miner, not a NAT on the allow list', async () => {
    const dir = tempDir();
    const lines = [HDR];
    // worm: 10.0.0.5 probes 23/TCP on 150 public targets, and is itself scanned on 23 by 12 scanners... by one scanner at 12 endpoints incl. it
    for (let k = 0; k < 150; k++) lines.push(line({ iface: 'eni-worm', inst: 'i-worm', src: '10.0.0.5', dst: `81.2.${k >> 8}.${(k & 255) + 1}`, dport: 23 }));
    for (let k = 0; k < 12; k++) lines.push(line({ src: '45.9.9.9', dst: k === 0 ? '10.0.0.5' : `10.0.1.${k}`, dport: 23, dir: 'ingress' }));
    // vertical: 10.0.0.6 probes 120 ports of one target
    for (let p = 0; p < 120; p++) lines.push(line({ iface: 'eni-v', inst: 'i-v', src: '10.0.0.6', dst: '82.1.1.1', dport: 1000 + p }));
    // miner: many flows to one pool, not a scan
    for (let k = 0; k < 500; k++) lines.push(line({ src: '10.0.0.7', dst: '83.1.1.1', dport: 3333, packets: 10 + (k % 7), bytes: 5000 + k, t: T0 + k }));
    // NAT gateway: many targets, ports and protocols, varied traffic; allow-listed by interface id
    for (let k = 0; k < 300; k++) lines.push(line({ iface: 'eni-nat', inst: '-', src: '10.0.0.8', dst: `84.${k % 7}.${k % 13}.${1 + (k % 200)}`, dport: 443, sport: 1024 + k * 37, proto: [6, 17, 1][k % 3]!, packets: 1 + (k % 50), bytes: 100 + k * 97 }));
    // a host at exactly min_targets - 1
    for (let k = 0; k < 99; k++) lines.push(line({ src: '10.0.0.9', dst: `85.1.0.${k + 1}`, dport: 445 }));
    writeFileSync(join(dir, 'a.log'), lines.join('\n') + '\n');
    writeFileSync(join(dir, '..', 'allow.txt'), '# NAT gateways\neni-nat\n');
    const allow = readListFile(join(dir, '..', 'allow.txt'));
    const r = await runDetect([dir], { allow });
    const alerts = r.alerts.map((a: any) => [a.src, a.kind, a.dstPort, a.targets, a.ports, a.instance, a.wormSignature]);
    expect(alerts).toEqual([
      ['10.0.0.5', 'horizontal', 23, 150, 1, 'i-worm', true],
      ['10.0.0.6', 'vertical', null, 1, 120, 'i-v', false],
    ]);
    expect(r.alerts[0].severity).toBe('high'); // log10(150 targets) + worm bonus
    expect(r.alerts[0].iface).toBe('eni-worm');
    // without the allow list the NAT would be alerted: it has enough targets on 443... but its byte CV is high
    const r2 = await runDetect([dir]);
    expect(r2.alerts.some((a: any) => a.src === '10.0.0.8')).toBe(false);
    // min_targets at 99 catches the host just under the default
    const r3 = await runDetect([dir], { outbound: { minTargets: 99, minPorts: 100, maxCvPackets: 0.5, maxCvBytes: 0.5 } });
    expect(r3.alerts.some((a: any) => a.src === '10.0.0.9')).toBe(true);
  });

  it('flags a uniform NAT-looking host as looking like a NAT, and suppresses allow-listed CIDRs', async () => {
    const dir = tempDir();
    const lines = [HDR];
    for (let k = 0; k < 120; k++) lines.push(line({ iface: 'eni-n', src: '10.0.0.20', dst: `86.1.0.${k + 1}`, dport: 53, proto: 17, sport: 1024 + k * 331 }));
    for (let k = 0; k < 40; k++) lines.push(line({ iface: 'eni-n', src: '10.0.0.20', dst: `86.2.0.${k + 1}`, dport: 80, proto: k % 2 ? 6 : 47 }));
    writeFileSync(join(dir, 'n.log'), lines.join('\n') + '\n');
    const r = await runDetect([dir]);
    expect(r.alerts).toHaveLength(1);
    expect(r.alerts[0].looksLikeNat).toBe(true);
    writeFileSync(join(dir, '..', 'allow2.txt'), '10.0.0.0/24\n');
    const r2 = await runDetect([dir], { allow: readListFile(join(dir, '..', 'allow2.txt')) });
    expect(r2.alerts).toHaveLength(0);
    expect(r2.alertsSuppressed).toBe(1);
  });

  it('raises inbound scanners from the user own ranges', async () => {
    const dir = tempDir();
    const lines = [HDR];
    for (let k = 0; k < 10; k++) lines.push(line({ src: '52.1.2.3', dst: `10.0.0.${k + 1}`, dport: 22, dir: 'ingress' }));
    writeFileSync(join(dir, 'o.log'), lines.join('\n') + '\n');
    writeFileSync(join(dir, '..', 'own.txt'), '52.1.2.0/24\n');
    const r = await runDetect([dir], { ownCidrs: readListFile(join(dir, '..', 'own.txt')).cidrs });
    expect(r.alerts.map((a: any) => [a.kind, a.src, a.dstPort])).toEqual([['own-range-scanner', '52.1.2.3', 22]]);
  });
});

describe('outbound table: its entry limit (--max-memory)', () => {
  it('keeps the entries of the smallest ranks that fit the limit, in any record order, counts the records left out by host, and interns no IPv6 target of a record it skips', async () => {
    const { OutboundTable } = await import('../dist/src/engine/outbound-table.js');
    const { allocBatch } = await import('../dist/src/flow/batch.js');
    const OUTBOUND = 2; // Feed.outbound (a const enum: not in the compiled module)
    const n = 300;
    const b = allocBatch(n);
    for (let i = 0; i < n; i++) {
      b.feed[i] = OUTBOUND;
      b.src.set([0, 0, 0xffff, 0x0a090005], i * 4); // 10.9.0.5
      // targets: IPv4, and every third an IPv6 address
      if (i % 3 === 2) b.dst.set([0x2a000000, 0, 0, i], i * 4);
      else b.dst.set([0, 0, 0xffff, (0x2d000000 + i) >>> 0], i * 4);
      b.proto[i] = 6;
      b.dport[i] = 23;
      b.sport[i] = 40000 + i;
      b.tcpFlags[i] = -1;
      b.packets[i] = 1;
      b.bytes[i] = 60;
      b.start[i] = T0;
      b.end[i] = T0 + 1;
      b.account[i] = 1;
    }
    b.n = n;
    b.strings = ['', '111122223300'];
    const t = new OutboundTable(3600, 16);
    t.limitEntries = 100;
    t.addBatch(b);
    t.addBatch(b); // the same records again: the 100 entries count them, the rest are dropped again
    expect(t.n).toBe(100);
    expect(t.droppedRecords).toBe(2 * (n - 100));
    expect(t.droppedHosts()).toEqual([{ src: '10.9.0.5', cloud: 'aws', account: '111122223300', window: Math.floor(T0 / 3600), records: 2 * (n - 100) }]);
    // a batch's records are all added, then the table sheds: the first batch's 100 IPv6 targets
    // were interned; the second's records past the rank bound are skipped, interning nothing
    expect(t.v6.n).toBe(100);
    // the same records in the reverse order: the same entries kept, the same records dropped
    const rev = allocBatch(n);
    for (let i = 0; i < n; i++) {
      const j = n - 1 - i;
      rev.feed[i] = b.feed[j]!;
      rev.src.set(b.src.subarray(j * 4, j * 4 + 4), i * 4);
      rev.dst.set(b.dst.subarray(j * 4, j * 4 + 4), i * 4);
      rev.proto[i] = b.proto[j]!;
      rev.dport[i] = b.dport[j]!;
      rev.sport[i] = b.sport[j]!;
      rev.tcpFlags[i] = b.tcpFlags[j]!;
      rev.packets[i] = b.packets[j]!;
      rev.bytes[i] = b.bytes[j]!;
      rev.start[i] = b.start[j]!;
      rev.end[i] = b.end[j]!;
      rev.account[i] = b.account[j]!;
    }
    rev.n = n;
    rev.strings = b.strings;
    const r = new OutboundTable(3600, 16);
    r.limitEntries = 100;
    r.addBatch(rev);
    r.addBatch(rev);
    const targets = (x: InstanceType<typeof OutboundTable>) => {
      const st = x.exportState();
      // F_DST6 (8): an IPv6 target, by its words (intern ids follow the order records came in)
      return Array.from({ length: st.n }, (_, e) => (st.flags[e]! & 8 ? `6:${Array.from(st.v6.subarray(st.dstA[e]! * 4, st.dstA[e]! * 4 + 4))}` : `4:${st.dstA[e]}`) + `:${st.f[e]}`).sort();
    };
    expect(targets(r)).toEqual(targets(t));
    expect(r.droppedHosts()).toEqual(t.droppedHosts());
    // a state merged into a smaller table: its dropped records come along, and what does not fit is dropped and counted too
    // a state merged into a full table: its new entries are dropped and counted too
    const u = new OutboundTable(3600, 16);
    u.limitEntries = 40;
    u.mergeState(t.exportState());
    expect(u.n).toBe(40);
    expect(u.droppedRecords).toBe(2 * (n - 100) + 2 * 60);
    expect(u.droppedHosts()).toEqual([expect.objectContaining({ src: '10.9.0.5', records: 2 * (n - 40) })]);
    // restored into two shards (a checkpoint of another worker count): the host's shard takes its
    // named records, shard 0 the unnamed (none here), and the other shard's table none
    const { hashAddress, shardOf } = await import('../dist/src/flow/hash.js');
    const owner = shardOf(hashAddress([0, 0, 0xffff, 0x0a090005], 0), 2);
    const halves = [0, 1].map((shard) => {
      const h = new OutboundTable(3600, 16);
      h.limitEntries = 100;
      h.mergeState(t.exportState(), { shard, shards: 2 });
      return h;
    });
    expect(halves[owner]!.droppedRecords).toBe(t.droppedRecords);
    expect(halves[owner]!.n).toBe(100);
    expect(halves[1 - owner]!.droppedRecords).toBe(0);
    expect(halves[1 - owner]!.droppedHosts()).toEqual([]);
  });
});
