/**
 * `npm run build`: the compact index of the service-name table (src/stats/services-index.ts)
 * into dist/data/. Without it, or when the source installed later differs, a run reads
 * the source itself, with the same answers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fromSource, sourceStamp } from '../src/stats/services.js';
import { buildServicesIndex, SERVICES_INDEX } from '../src/stats/services-index.js';

try {
  const table = fromSource();
  mkdirSync(dirname(SERVICES_INDEX), { recursive: true });
  writeFileSync(SERVICES_INDEX, buildServicesIndex(table.source, sourceStamp(), table.map));
} catch (err) {
  process.stderr.write(`services-index: ${(err as Error).message} (no index: runs read the source)\n`);
}
