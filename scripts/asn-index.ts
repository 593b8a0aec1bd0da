/**
 * `npm run build`: the compact indexes of the bundled ASN range files (src/enrich/asn-index.ts)
 * into dist/data/. Without them (no @ip-location-db/asn, or a file the index cannot stand
 * for) enrichment scans the CSV files, with the same answers.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { buildAsnIndex, indexPathFor } from '../src/enrich/asn-index.js';

let dir: string;
try {
  dir = dirname(createRequire(import.meta.url).resolve('@ip-location-db/asn/package.json'));
} catch {
  process.stderr.write('asn-index: @ip-location-db/asn is not installed: no index (enrichment scans the CSV files)\n');
  process.exit(0);
}
for (const [name, family] of [['asn-ipv4-num.csv', 4], ['asn-ipv6.csv', 6]] as const) {
  const csv = join(dir, name);
  if (!existsSync(csv)) continue;
  try {
    const idx = buildAsnIndex(csv, family);
    const out = indexPathFor(csv);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, idx);
  } catch (err) {
    process.stderr.write(`asn-index: ${(err as Error).message}\n`);
  }
}
