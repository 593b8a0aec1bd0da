/**
 * The outbound table's finalisation alone, one thread, on the shape a shard of the generated
 * bucket holds (about 75,000 outbound entries over 1,800 hosts, some 40 targets a host,
 * nearly every host a candidate), plus a few scanning hosts so that every kind of finding
 * is made: horizontal (one port, 150 targets), vertical (150 ports of one target) and
 * internal (30 private targets). CPU time of the process, least of --rounds, and a digest
 * of the findings to compare two builds (copy this file's .js into the other build's
 * dist/bench/probes/ with args.js beside it in dist/bench/):
 *
 *   node dist/bench/probes/outbound-finalise.js [--hosts 1800] [--rounds 7]
 *
 * The groupings run in WebAssembly where the module is built (src/engine/outbound-wasm.ts);
 * FLOWSIEVE_OUTBOUND=js runs the JavaScript ones. --rounds 1 is a run's case: finalised once, cold.
 */
import { createHash } from 'node:crypto';
import { allocBatch, type FlowBatchData } from '../../src/flow/batch.js';
import { DEFAULT_OUTBOUND, OutboundTable } from '../../src/engine/outbound-table.js';
import { numArg as arg } from '../args.js';

const W = 21600;
const T0 = 1717200000;
let x = 7;
const r = (): number => {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
};

/** One record a (host, target, port): the host's entries are its targets. */
function batchesOf(hosts: number): FlowBatchData[] {
  const rows: Array<[number, number, number]> = []; // host address, target, port
  for (let h = 0; h < hosts; h++) {
    const src = 0x0a000000 + h;
    const targets = 20 + (r() % 40);
    for (let k = 0; k < targets; k++) rows.push([src, 0x34000000 + (r() & 0xffffff), [443, 80, 53, 123, 8443][r() % 5]!]);
  }
  for (let s = 0; s < 6; s++) {
    const src = 0x0a100000 + s;
    for (let k = 0; k < 150; k++) rows.push([src, 0x36000000 + (r() & 0xffffff), 445]); // horizontal
    for (let k = 0; k < 150; k++) rows.push([src + 0x100, 0x37000001 + s, 1 + k * 7]); // vertical
    for (let k = 0; k < 30; k++) rows.push([src + 0x200, 0x0a200000 + k, 22]); // internal
  }
  for (let i = rows.length - 1; i > 0; i--) {
    const j = r() % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  const out: FlowBatchData[] = [];
  for (let from = 0; from < rows.length; from += 16384) {
    const n = Math.min(16384, rows.length - from);
    const b = allocBatch(n);
    for (let j = 0; j < n; j++) {
      const [src, dst, port] = rows[from + j]!;
      b.feed[j] = 2; // outbound
      b.src.set([0, 0, 0xffff, src], j * 4);
      b.dst.set([0, 0, 0xffff, dst], j * 4);
      b.proto[j] = 6;
      b.dport[j] = port;
      b.sport[j] = 32768 + (r() & 0x3fff);
      b.packets[j] = 1 + (r() % 3);
      b.bytes[j] = 60 * b.packets[j]!;
      b.start[j] = T0 + (r() % 20000);
      b.end[j] = b.start[j]! + 1;
    }
    b.n = n;
    b.strings = ['', 'acct', 'eni-x', 'us-east-1', 'i-1'];
    b.account.fill(1, 0, n);
    b.iface.fill(2, 0, n);
    b.region.fill(3, 0, n);
    b.instance.fill(4, 0, n);
    out.push(b);
  }
  return out;
}

const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const batches = batchesOf(arg('hosts', 1800));
const rounds = arg('rounds', 7);
const times: number[] = [];
let digest = '';
let entries = 0;
let findings = 0;
for (let round = 0; round < rounds; round++) {
  const t = new OutboundTable(W, 1 << 17);
  for (const b of batches) t.addBatch(b);
  entries = t.n;
  const t0 = cpuMs();
  const f = t.finalize({ ...DEFAULT_OUTBOUND, homeNet: ['10.0.0.0/8'] });
  times.push(cpuMs() - t0);
  findings = f.length;
  digest = createHash('sha256').update(JSON.stringify(f)).digest('hex').slice(0, 16);
}
const ms = Math.min(...times);
console.log(`outbound finalise: ${entries} entries, ${findings} findings, least of ${rounds}: ${ms.toFixed(1)} ms CPU = ${((ms * 1e6) / entries).toFixed(0)} ns an entry; digest ${digest}`);
