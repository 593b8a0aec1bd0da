/**
 * The formats JSON blobs' paths name (formatByName), told without opening them: planning
 * (plan.ts) and, before it, detect's start (engine/parse-here.ts, engine/lone-shard.ts), which
 * must not load the format readers to ask. A leaf module: node:fs and node:path only.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { FormatName } from '../formats/types.js';

/**
 * The format a JSON blob's path names: Azure writes a blob `PT1H.json` an hour under a
 * folder named for its category, GCP exports VPC flow logs as NDJSON under `vpc_flows/`.
 * Null for any other path (planned from its head).
 */
export function formatByName(path: string): FormatName | null {
  if (AZURE_BLOB.test(path)) {
    if (AZURE_NSG.test(path)) return 'azure-nsg';
    if (AZURE_VNET.test(path)) return 'azure-vnet';
    return null;
  }
  return GCP_EXPORT.test(path) ? 'gcp' : null;
}

const AZURE_BLOB = /(^|[\\/])PT1H\.json(\.gz)?$/;
const AZURE_NSG = /(^|[\\/])insights-logs-networksecuritygroupflowevent[\\/]/i;
const AZURE_VNET = /(^|[\\/])insights-logs-flowlogflowevent[\\/]/i;
const GCP_EXPORT = /[\\/]vpc_flows[\\/].*\.json(\.gz)?$/;

/** The deepest a folder is walked to its first file (namedJsonFolder): Azure's blobs lie ~12 folders down. */
const FIRST_FILE_DEPTH = 24;

/**
 * The format named by the path of the first file of folder `path` (the first entry of each
 * folder, down to a file) where that file is a plain JSON blob whose path names its format
 * (formatByName): a folder of GCP exports or Azure blobs, told before planning, which
 * reads every name; else null. Planning decides (parsesHereFits); a folder whose first file
 * says otherwise keeps the early parse pool.
 */
export function namedJsonFolder(path: string): FormatName | null {
  let dir = path;
  try {
    if (path === '-' || !statSync(path).isDirectory()) return null;
    for (let depth = 0; depth < FIRST_FILE_DEPTH; depth++) {
      const first = readdirSync(dir, { withFileTypes: true })[0];
      if (!first) return null;
      const full = join(dir, first.name);
      if (first.isDirectory()) dir = full;
      else return first.isFile() && !full.endsWith('.gz') ? formatByName(full) : null;
    }
  } catch {
    return null; // planning reports it
  }
  return null;
}
