/**
 * Writes the records of bench/records.ts makeRealBatches (the shape of real logs: scanner
 * keys of 100-1,000 endpoints, one tuple in four in a multi-endpoint key) as one AWS v2
 * text file, for whole-run comparisons of two builds (bench/ab.sh) on that shape:
 *   node dist/bench/real-shape-log.js --rows 3000000 --out real.log
 * A v2 line has no region or cloud: those of the records are dropped (every record AWS).
 */
import { createWriteStream } from 'node:fs';
import { formatAddress } from '../src/net/address.js';
import { makeRealBatches } from './records.js';

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const rows = Number(arg('rows', '3000000'));
  const out = createWriteStream(arg('out', 'real-shape.log'));
  const { batches, shape } = makeRealBatches(rows, 11, Number(arg('multi', '0.25')));
  out.write('version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n');
  for (const b of batches) {
    const lines: string[] = [];
    for (let i = 0; i < b.n; i++) {
      const src = formatAddress(b.src, i * 4);
      const dst = formatAddress(b.dst, i * 4);
      lines.push(`2 ${b.strings[b.account[i]!]} eni-0a1b2c3d ${src} ${dst} ${40000 + (i % 20000)} ${b.dport[i]} ${b.proto[i]} ${b.packets[i]} ${b.bytes[i]} ${b.start[i]} ${b.end[i]} ACCEPT OK`);
    }
    if (!out.write(lines.join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  process.stderr.write(`${rows} records, ${shape.tuples} tuples over ${shape.keys} keys (${(shape.tuples / shape.keys).toFixed(2)} a key)\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
