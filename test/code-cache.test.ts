/**
 * The worker bundles' loader with V8's code cache (scripts/code-cache.cjs): a cache written at
 * the end of a run is used by the next, never for a bundle that changed, and never changes
 * what a run finds.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { scanner, writeV2 } from './helpers/aws.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOADER = join(ROOT, 'scripts/code-cache.cjs');
const CLI = join(ROOT, 'dist/src/cli/main.js');
/** The first line of a bundled worker's stub (scripts/bundle-mark.mjs), which the loader looks for too. */
const BUNDLED_MARK = '// bundled by scripts/bundle.mjs\n';

/** A folder with the loader, a "bundle" whose function returns `value`, and a sibling's stub and bundle. */
function bundleDir(value: number): { dir: string; bundle: string } {
  const dir = tempDir('flowsieve-cc-');
  copyFileSync(LOADER, join(dir, 'code-cache.cjs'));
  const bundle = join(dir, 'a.bundle.cjs');
  writeBundle(bundle, value);
  writeFileSync(join(dir, 'b.js'), `${BUNDLED_MARK}export default 0;\n`);
  writeFileSync(join(dir, 'b.bundle.cjs'), 'exports.name = "b from its bundle";\n');
  return { dir, bundle };
}

/** A bundle of fixed length: its function's result is the only thing that changes. */
function writeBundle(file: string, value: number): void {
  writeFileSync(file, `'use strict';\nfunction answer() { return ${String(value).padStart(6, ' ')}; }\nexports.answer = answer;\nexports.sibling = () => require('./b.js').name;\n`);
}

/** In a fresh process: load the bundle, call it, write the caches; what it answered and how it was compiled. */
function load(dir: string, bundle: string, env: Record<string, string> = {}, flags: string[] = []): { answer: number; from: string; written: number; sibling: string } {
  const script = `const c = require(${JSON.stringify(join(dir, 'code-cache.cjs'))}); const m = c.requireCached(${JSON.stringify(bundle)});
    const answer = m.answer(); const sibling = m.sibling(); const from = c.loadedFrom(${JSON.stringify(bundle)});
    process.stdout.write(JSON.stringify({ answer, from, sibling, written: c.writeCodeCaches() }));`;
  const probe = join(dir, 'probe.cjs'); // a file, not -e (which process.execArgv would carry as flags)
  writeFileSync(probe, script);
  return JSON.parse(execFileSync(process.execPath, [...flags, probe], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_CODE_CACHE: '', NODE_OPTIONS: '', ...env } }));
}

describe('code cache of the worker bundles', () => {
  it('writes the cache after a run and compiles the next run from it', () => {
    const { dir, bundle } = bundleDir(1);
    expect(load(dir, bundle)).toEqual({ answer: 1, from: 'source', sibling: 'b from its bundle', written: 2 }); // and the sibling's
    expect(readFileSync(`${bundle}.v8cache`, 'latin1')).toMatch(/^flowsieve-code-cache 1 v\d+/);
    expect(load(dir, bundle)).toEqual({ answer: 1, from: 'cache', sibling: 'b from its bundle', written: 0 });
  });

  it('never takes the cache of other bytes of the same length (V8 checks the length only)', () => {
    const { dir, bundle } = bundleDir(1);
    load(dir, bundle);
    writeBundle(bundle, 2);
    const later = new Date(Date.now() + 5000);
    utimesSync(bundle, later, later);
    expect(load(dir, bundle)).toMatchObject({ answer: 2, from: 'source', written: 1 }); // the sibling's still fits
    expect(load(dir, bundle)).toMatchObject({ answer: 2, from: 'cache' });
  });

  it('compiles from the source when V8 rejects the cache, and writes it again', () => {
    const { dir, bundle } = bundleDir(3);
    load(dir, bundle);
    const cache = readFileSync(`${bundle}.v8cache`);
    const header = cache.indexOf(10) + 1;
    for (let i = header + 8; i < cache.length; i += 7) cache[i] ^= 0x5a; // damaged after the header
    writeFileSync(`${bundle}.v8cache`, cache);
    expect(load(dir, bundle)).toMatchObject({ answer: 3, from: 'rejected', written: 1 });
    expect(load(dir, bundle)).toMatchObject({ answer: 3, from: 'cache' });
  });

  it('keeps one cache for each set of V8 flags, so that runs with and without a flag do not reject each other\'s', () => {
    const { dir, bundle } = bundleDir(5);
    load(dir, bundle);
    const flag = ['--max-semi-space-size=32'];
    expect(load(dir, bundle, {}, flag)).toMatchObject({ answer: 5, from: 'source', written: 2 });
    expect(load(dir, bundle, {}, flag)).toMatchObject({ answer: 5, from: 'cache', written: 0 });
    expect(load(dir, bundle)).toMatchObject({ answer: 5, from: 'cache', written: 0 });
  });

  it("keeps the cache in the user's cache folder where it cannot be written beside the bundle", () => {
    const { dir, bundle } = bundleDir(6);
    mkdirSync(join(`${bundle}.v8cache`, 'in-the-way'), { recursive: true }); // no file can be renamed into place there
    const home = tempDir('flowsieve-cc-home-');
    expect(load(dir, bundle, { XDG_CACHE_HOME: home })).toMatchObject({ answer: 6, from: 'source', written: 2 });
    expect(readdirSync(join(home, 'flowsieve/code-cache')).filter((f) => f.endsWith('-a.bundle.cjs.v8cache'))).toHaveLength(1);
    expect(load(dir, bundle, { XDG_CACHE_HOME: home })).toMatchObject({ answer: 6, from: 'cache', written: 0 });
  });

  it('knows a bundled stub by the mark the build writes', () => {
    const literal = String.raw`'// bundled by scripts/bundle.mjs\n'`;
    for (const f of ['scripts/bundle-mark.mjs', 'scripts/code-cache.cjs']) expect(readFileSync(join(ROOT, f), 'utf8'), f).toContain(literal);
  });

  it('reads and writes none with FLOWSIEVE_CODE_CACHE=off', () => {
    const { dir, bundle } = bundleDir(4);
    expect(load(dir, bundle, { FLOWSIEVE_CODE_CACHE: 'off' })).toEqual({ answer: 4, from: 'source', sibling: 'b from its bundle', written: 0 });
    expect(existsSync(`${bundle}.v8cache`)).toBe(false);
  });

  it('gives detect the same results with the threads compiled from their caches as without', () => {
    if (!existsSync(join(ROOT, 'dist/workers/code-cache.cjs'))) return; // built without the loader
    const dir = tempDir();
    const input = join(dir, 'a.log');
    writeV2(input, Array.from({ length: 40 }, (_, i) => scanner(`45.9.${i}.7`, 12, { start: 1700006400 + i * 60 })).flat());
    const run = (name: string, env: Record<string, string>, ...args: string[]) => {
      const out = join(dir, name);
      const r = spawnSync(process.execPath, [CLI, 'detect', input, '--out', out, '--quiet', '--no-enrich', ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '', ...env } });
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(out, 'scans.ndjson'), 'utf8');
    };
    const expected = run('off', { FLOWSIEVE_CODE_CACHE: 'off' }, '--pipeline', 'sharded');
    expect(expected.split('\n').length).toBeGreaterThan(10);
    for (const pipeline of ['sharded', 'fused', 'auto']) {
      for (const round of [1, 2]) expect(run(`${pipeline}${round}`, {}, '--pipeline', pipeline), `${pipeline} ${round}`).toBe(expected);
    }
    // piscina's too: the pool's in the main thread, its worker's in each pool thread (scripts/bundle.mjs)
    const bundles = existsSync(join(ROOT, 'dist/workers/piscina.bundle.cjs')) ? ['parse', 'shard', 'piscina', 'piscina-worker'] : ['parse', 'shard'];
    for (const w of bundles) expect(readFileSync(join(ROOT, `dist/workers/${w}.bundle.cjs.v8cache`), 'latin1'), w).toMatch(/^flowsieve-code-cache 1 /);
  });
});
