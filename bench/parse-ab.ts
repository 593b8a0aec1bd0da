/**
 * Two builds' format readers in one process, timed in alternation (A B B A …) over the
 * same bytes, so the load of a shared machine falls on both alike: what a change to a
 * reader costs per record. Samples: zeek, goflow2 and nfdump lines (generated), and one file a
 * format from the fixtures (FLOWSIEVE_FIXTURES, default ../shared/fixtures).
 *
 *   node dist/bench/parse-ab.js DIST_A DIST_B [--rounds 15] [--mb 2]
 *
 * e.g. `cp -r dist /tmp/before`, change and build, then `node dist/bench/parse-ab.js /tmp/before dist`
 * (a copy outside the repository needs node_modules beside it: keep it under .tmp/).
 */
import { readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { FIXTURES, fixtureFiles } from './fixtures.js';
import { numArg as arg } from './args.js';

interface Build {
  name: string;
  parse(format: string, buf: Uint8Array): number;
  sniff(buf: Uint8Array): string | null;
}

async function load(dist: string): Promise<Build> {
  const root = resolve(dist, 'src');
  const { FlowSink } = await import(join(root, 'flow/sink.js'));
  const { readerFor } = await import(join(root, 'formats/registry.js'));
  const { sniffFormat } = await import(join(root, 'formats/sniff.js'));
  const { readLineBytes } = await import(join(root, 'input/read.js'));
  return {
    name: dist,
    parse(format, buf) {
      const sink = new FlowSink({ shards: 2, batchSize: 16384, maxRejectsKept: 0 }, () => {});
      const reader = readerFor(format);
      const ctx = { sink, file: 'bench', account: '', region: '' };
      if (reader.kind === 'lines') readLineBytes(buf, reader.open(ctx), 1 << 20, 0);
      else reader.parseDocument(buf, ctx);
      sink.flushAll();
      return sink.counters.records;
    },
    sniff: (buf) => sniffFormat(buf.subarray(0, 65536), 'x'),
  };
}

function repeated(lines: string[], bytes: number): Uint8Array {
  const one = Buffer.from(lines.join('\n') + '\n');
  return Buffer.concat(Array.from({ length: Math.max(1, Math.ceil(bytes / one.length)) }, () => one));
}

/** goflow2 and nfdump CSV lines: 1,000 sources scanning a /24 (formats.md §4). */
function generated(bytes: number): Array<{ format: string; name: string; buf: Uint8Array }> {
  const gf: string[] = [];
  const nf = ['firstSeen,duration,proto,srcAddr,srcPort,dstAddr,dstPort,packets,bytes,flows'];
  for (let i = 0; i < 1000; i++) {
    const src = `45.${77 + (i >> 8)}.${i & 255}.${1 + (i % 250)}`;
    const dst = `10.9.${i % 7}.${i & 255}`;
    gf.push(
      `{"type":"NETFLOW_V9","time_received_ns":17000000${String(10 + (i % 89)).padStart(2, '0')}000000000,"time_flow_start_ns":1700000000${String(i % 10)}00000000,` +
        `"src_addr":"${src}","dst_addr":"${dst}","proto":"TCP","src_port":${40000 + i},"dst_port":${[22, 23, 3389][i % 3]},"bytes":60,"packets":1,"sampler_address":"192.0.2.7"}`,
    );
    nf.push(`2023-11-14 22:13:${String(i % 60).padStart(2, '0')}.000,0.500,TCP,${src},${40000 + i},${dst},${[22, 23, 3389][i % 3]},1,60,1`);
  }
  const zeek = [
    '#separator \\x09', '#path\tconn',
    '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents',
  ];
  for (let i = 0; i < 1000; i++) {
    const src = `45.${77 + (i >> 8)}.${i & 255}.${1 + (i % 250)}`;
    zeek.push([(1709287200 + i).toFixed(6), 'CAbc1', src, 40000 + i, `10.9.${i % 7}.${i & 255}`, [22, 23, 3389][i % 3], 'tcp', '-', '-', '0', '0', 'S0', '-', '-', 0, 'S', '1', '44', '0', '0', '(empty)'].join('\t'));
  }
  return [
    { format: 'zeek', name: 'zeek conn.log TSV (generated)', buf: repeated(zeek, bytes) },
    { format: 'goflow2', name: 'goflow2 (generated)', buf: repeated(gf, bytes) },
    { format: 'nfdump-csv', name: 'nfdump-csv (generated)', buf: repeated(nf, bytes) },
  ];
}

/** The first fixture of each format that yields records (line files repeated to `bytes`). */
function fixtures(b: Build, bytes: number, have: Set<string>): Array<{ format: string; name: string; buf: Uint8Array }> {
  const out: Array<{ format: string; name: string; buf: Uint8Array }> = [];
  for (const f of fixtureFiles()) {
    if (/expected|\.ya?ml$|\.md$|\.gz$/.test(f)) continue;
    const buf = readFileSync(f);
    const format = b.sniff(buf);
    if (!format || format === 'replay' || have.has(format) || b.parse(format, buf) < 1) continue;
    have.add(format);
    const text = buf.toString('utf8');
    const lines = text.trimEnd().split('\n');
    const isLines = ['aws-text', 'aws-json', 'gcp', 'goflow2', 'nfdump-csv', 'zeek'].includes(format);
    // a line file repeated without its header line after the first copy would change the sample: repeat whole
    out.push({ format, name: `${format} (${relative(FIXTURES, f)})`, buf: isLines ? repeated(lines, bytes) : buf });
  }
  return out;
}

/** ns per record of one parse (repeated until 20 ms have passed). */
function timeOne(b: Build, format: string, buf: Uint8Array): number {
  let records = 0;
  const t0 = process.hrtime.bigint();
  let t: bigint;
  do {
    records += b.parse(format, buf);
    t = process.hrtime.bigint();
  } while (t - t0 < 20_000_000n);
  return Number(t - t0) / records;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const [distA, distB] = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !all[i - 1]?.startsWith('--'));
  if (!distA || !distB) throw new Error('usage: parse-ab.js DIST_A DIST_B [--rounds N] [--mb M]');
  const a = await load(distA);
  const b = await load(distB);
  const bytes = arg('mb', 2) << 20;
  const samples = [...generated(bytes), ...fixtures(a, bytes, new Set(['goflow2', 'nfdump-csv', 'zeek']))];
  const rounds = arg('rounds', 15);
  console.log(`parse A/B, ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${rounds} rounds alternated, median ns/record`);
  console.log(`A = ${distA}, B = ${distB}\n`);
  console.log('| sample | records | A ns/rec | B ns/rec | B/A |\n|---|---:|---:|---:|---:|');
  for (const s of samples) {
    const records = a.parse(s.format, s.buf);
    if (records === 0 || records !== b.parse(s.format, s.buf)) throw new Error(`${s.name}: no records, or the builds read different counts`);
    for (let w = 0; w < 3; w++) {
      timeOne(a, s.format, s.buf); // warm both
      timeOne(b, s.format, s.buf);
    }
    const ta: number[] = [];
    const tb: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // A B, then B A: neither build always runs second
      const [first, second, into1, into2] = r % 2 === 0 ? [a, b, ta, tb] : [b, a, tb, ta];
      into1.push(timeOne(first, s.format, s.buf));
      into2.push(timeOne(second, s.format, s.buf));
    }
    const ma = median(ta);
    const mb = median(tb);
    console.log(`| ${s.name} | ${records} | ${ma.toFixed(0)} | ${mb.toFixed(0)} | ${(mb / ma).toFixed(3)} |`);
  }
}

await main();
