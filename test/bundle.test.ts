import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tempDir } from './helpers/tmp.js';
import { azureBlobs, writeBlobs } from './helpers/json-blobs.js';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinModules, createRequire } from 'node:module';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every .ts file under a folder of the repository. */
function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** The relative paths a file names from its own module URL: new URL('…', import.meta.url). */
function pathsFromModuleUrl(text: string): string[] {
  return [...text.matchAll(/new URL\(\s*[`'"]([^`'"]+)[`'"]\s*,\s*import\.meta\.url\s*\)/g)].map((m) => m[1]!);
}

describe('module paths and the bundle (scripts/bundle.mjs)', () => {
  // a chunk of the bundle sits in dist/src/bundle/, as deep as every dist/src/<folder>/:
  // a path named from the folder above resolves the same from either place, './x' does not
  it('names every path from a module URL from the folder above', () => {
    const named = sources('src').flatMap((file) => pathsFromModuleUrl(readFileSync(join(ROOT, file), 'utf8')).map((p) => `${file}: ${p}`));
    expect(named.length).toBeGreaterThan(3); // the workers, the data files, the package.json
    expect(named.filter((n) => !/: \.\.\//.test(n))).toEqual([]);
  });

  it('finds a path named from the module URL, and one that is not from the folder above', () => {
    expect(pathsFromModuleUrl("const a = new URL('./report-thread.js', import.meta.url);\nconst b = new URL(`../../workers/${n}.cjs`, import.meta.url);")).toEqual([
      './report-thread.js',
      '../../workers/${n}.cjs',
    ]);
  });

  it("enters the package's bin as CommonJS: no ES module loader, the bundle's version", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: { flowsieve: string } };
    expect(pkg.bin.flowsieve).toBe('dist/src/cli/main.cjs');
    // what Node loaded for the process: an ES entry adds the loader's module jobs
    const probe = join(tempDir(), 'esm-probe.cjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(String(process.moduleLoadList.includes('NativeModule internal/modules/esm/module_job'))));");
    const run = (entry: string) => spawnSync(process.execPath, ['-r', probe, join(ROOT, entry), '--version'], { encoding: 'utf8' });
    // Node 24 loads the loader's module jobs for any CommonJS script too: the bin must load
    // them only where a plain CommonJS script does
    const plain = join(tempDir(), 'plain.cjs');
    writeFileSync(plain, '');
    const baseline = spawnSync(process.execPath, ['-r', probe, plain], { encoding: 'utf8' }).stderr;
    const bin = run(pkg.bin.flowsieve);
    expect([bin.status, bin.stdout, bin.stderr]).toEqual([0, `flowsieve ${pkg.version}\n`, baseline]);
    expect(run('dist/src/cli/main.js').stderr).toBe('true'); // the probe sees the loader where there is one
  });

  it('detect without --state or --findings loads neither the history records nor the findings writers (nor node:crypto)', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'flows.log'), 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n');
    const probe = join(dir, 'module-probe.cjs');
    writeFileSync(probe, "process.on('exit', () => process.stderr.write(JSON.stringify(process.moduleLoadList.includes('NativeModule crypto'))));");
    const run = spawnSync(process.execPath, ['-r', probe, join(ROOT, 'dist/src/cli/main.cjs'), 'detect', join(dir, 'flows.log'), '--out', join(dir, 'out'), '--quiet', '--no-enrich'], { encoding: 'utf8' });
    expect([run.status, run.stderr]).toEqual([0, 'false']);
    const withState = spawnSync(process.execPath, ['-r', probe, join(ROOT, 'dist/src/cli/main.cjs'), 'detect', join(dir, 'flows.log'), '--out', join(dir, 'out2'), '--state', join(dir, 'state'), '--quiet', '--no-enrich'], { encoding: 'utf8' });
    expect([withState.status, withState.stderr]).toEqual([0, 'true']); // the history's file fingerprints need it
  });

  it('detect of Azure blobs at one worker (one thread) loads neither worker_threads nor perf_hooks; with threads it loads worker_threads', () => {
    const dir = tempDir();
    const blobs = writeBlobs(join(dir, 'azure'), azureBlobs().slice(0, 13)); // the readable ones: no error's path
    const probe = join(dir, 'thread-probe.cjs');
    writeFileSync(
      probe,
      "process.on('exit', () => process.stderr.write(JSON.stringify(['worker_threads', 'perf_hooks'].map((m) => process.moduleLoadList.includes('NativeModule ' + m)))));",
    );
    const detect = (out: string, ...more: string[]) =>
      spawnSync(process.execPath, ['-r', probe, join(ROOT, 'dist/src/cli/main.cjs'), 'detect', blobs, '--out', join(dir, out), '--quiet', '--no-enrich', ...more], { encoding: 'utf8' });
    // the sharded pipeline, as on a folder too large to read fused: at one worker the main thread parses and adds
    const one = detect('one', '--workers', '1', '--pipeline', 'sharded');
    expect([one.status, one.stderr]).toEqual([0, '[false,false]']);
    const summary = JSON.parse(readFileSync(join(dir, 'one', 'summary.json'), 'utf8')) as { performance: { wall_seconds: number } };
    expect(summary.performance.wall_seconds).toBeGreaterThan(0); // timed without perf_hooks
    const two = detect('two', '--workers', '2', '--pipeline', 'sharded'); // shard threads: their pools load worker_threads
    expect(two.status).toBe(0);
    expect(JSON.parse(two.stderr)[0]).toBe(true);
    expect(readFileSync(join(dir, 'two', 'scans.csv'), 'utf8')).toBe(readFileSync(join(dir, 'one', 'scans.csv'), 'utf8'));
  });

  it('loads the bundled command line from dist/src/bundle/, and each worker from one CommonJS file, when the build bundled them', () => {
    if (!existsSync(join(ROOT, 'dist/src/bundle'))) return; // built without rolldown: unbundled, as tsc wrote it
    // the package's bin is a stub loading the CommonJS bundle through the loader with V8's code cache
    expect(readFileSync(join(ROOT, 'dist/src/cli/main.js'), 'utf8')).toContain("loader.requireCached(require.resolve('./main.bundle.cjs'))");
    const imports = [...readFileSync(join(ROOT, 'dist/src/cli/main.bundle.cjs'), 'utf8').matchAll(/require(?:\$\d+)?\("(\.[^"]+)"\)/g)].map((m) => m[1]!);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((p) => !/^\.\.\/bundle\/[\w-]+\.cjs$/.test(p))).toEqual([]);
    for (const w of ['parse', 'shard']) {
      // the worker's entry takes the bundle while tsc's output is the stub naming it (scripts/worker-shims.mjs)
      expect(readFileSync(join(ROOT, `dist/workers/${w}.js`), 'utf8')).toContain(`'./${w}.bundle.cjs'`);
      const required = [...readFileSync(join(ROOT, `dist/workers/${w}.bundle.cjs`), 'utf8').matchAll(/require(?:\$\d+)?\("([^"]+)"\)/g)].map((m) => m[1]!);
      // packages and built-ins only: the rest is inside, but for the other worker's module (the
      // shard thread's fused reading), which the loader maps to its bundle (scripts/code-cache.cjs)
      const sibling = (p: string) => ['parse', 'shard'].some((o) => o !== w && p === `./${o}.js`);
      expect(required.filter((p) => (p.startsWith('.') || p.startsWith('/')) && !sibling(p)), w).toEqual([]);
    }
  });

  it("bundles piscina, whose pool starts each thread on the stub loading piscina's worker bundle", () => {
    if (!existsSync(join(ROOT, 'dist/src/bundle'))) return; // built without rolldown: piscina from node_modules
    const pool = readFileSync(join(ROOT, 'dist/workers/piscina.bundle.cjs'), 'utf8');
    expect(pool).toContain('(__dirname, "piscina-worker.cjs")');
    expect(pool).not.toContain("'worker.js'");
    expect(readFileSync(join(ROOT, 'dist/workers/piscina-worker.cjs'), 'utf8')).toContain("requireCached(require.resolve('./piscina-worker.bundle.cjs'))");
    for (const f of ['piscina.bundle.cjs', 'piscina-worker.bundle.cjs']) {
      const required = [...readFileSync(join(ROOT, `dist/workers/${f}`), 'utf8').matchAll(/require(?:\$\d+)?\("([^"]+)"\)/g)].map((m) => m[1]!);
      // built-ins and piscina's optional package only: no module of piscina's left to resolve
      expect(required.filter((p) => !p.startsWith('node:') && p !== '@napi-rs/nice'), f).toEqual([]);
    }
  });

  it("loads piscina's pool without node:assert and its worker without node:perf_hooks; a failing assertion throws assert's error", () => {
    if (!existsSync(join(ROOT, 'dist/src/bundle'))) return; // built without rolldown: piscina from node_modules
    const workers = join(ROOT, 'dist/workers');
    const script = `
      const { Worker } = require('node:worker_threads');
      const loader = require(${JSON.stringify(join(workers, 'code-cache.cjs'))});
      loader.requireCached(${JSON.stringify(join(workers, 'piscina.bundle.cjs'))});
      const pool = process.moduleLoadList.filter((m) => m === 'NativeModule assert' || m === 'NativeModule perf_hooks');
      const w = new Worker(\`
        const { parentPort } = require('node:worker_threads');
        require(${JSON.stringify(join(workers, 'piscina-worker.cjs'))});
        parentPort.postMessage(process.moduleLoadList.filter((m) => m === 'NativeModule assert' || m === 'NativeModule perf_hooks'));
      \`, { eval: true });
      w.once('message', (inWorker) => { console.log(JSON.stringify({ pool, inWorker })); process.exit(0); });
    `;
    const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, FLOWSIEVE_CODE_CACHE: 'off' } });
    expect(r.stderr).toBe('');
    // the pool loads perf_hooks (its timings), never assert; piscina's worker neither
    expect(JSON.parse(r.stdout)).toEqual({ pool: ['NativeModule perf_hooks'], inWorker: [] });
    // the assertions as the bundle has them: node:assert's own error where one fails
    const text = readFileSync(join(workers, 'piscina.bundle.cjs'), 'utf8');
    const at = text.indexOf('const node_assert_1 = ');
    const shim = text.slice(at + 'const node_assert_1 = '.length, text.indexOf('};', at) + 1);
    const assert = (new Function('require', `return ${shim};`) as (r: NodeJS.Require) => { default: ((v: unknown) => void) & { notStrictEqual(a: unknown, b: unknown): void } })(
      createRequire(import.meta.url),
    ).default;
    expect(() => assert(true)).not.toThrow();
    expect(() => assert.notStrictEqual(1, -1)).not.toThrow();
    expect(() => assert(false)).toThrow(expect.objectContaining({ code: 'ERR_ASSERTION' }) as Error);
    expect(() => assert.notStrictEqual(-1, -1)).toThrow(expect.objectContaining({ code: 'ERR_ASSERTION', operator: 'notStrictEqual' }) as Error);
  });

  it('writes every bundle in ASCII, each character outside it as an escape that means the same', async () => {
    // @ts-expect-error: a build script without types
    const { asciiSource } = (await import('../scripts/ascii-source.mjs')) as { asciiSource: (text: string, file?: string) => string };
    const source = 'module.exports = { s: "x\u2026y \u00b5", t: `a${1}\u2192`, r: /[\u2026]/u.test("\u2026"), e: "\ud83d\ude00" }; // \u00a7 4';
    const raw = source.replace(/\\u([0-9a-f]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))); // the same text with the characters themselves
    expect(raw).toMatch(/[\u0080-\uffff]/);
    const escaped = asciiSource(raw);
    expect(escaped).toMatch(/^[^\u0080-\uffff]*$/);
    const load = (text: string) => {
      const m = { exports: {} };
      new Function('module', text)(m);
      return m.exports;
    };
    expect(load(escaped)).toEqual(load(raw));
    expect(() => asciiSource('"\\\u00e9"')).toThrow(/backslash/); // an identity escape: left to the source
    if (!existsSync(join(ROOT, 'dist/src/bundle'))) return; // built without rolldown: nothing bundled
    const bundles = [
      ...readdirSync(join(ROOT, 'dist/src/bundle')).map((f) => `dist/src/bundle/${f}`),
      ...readdirSync(join(ROOT, 'dist/workers')).map((f) => `dist/workers/${f}`),
      'dist/src/cli/main.bundle.cjs',
    ].filter((f) => f.endsWith('.cjs') && f.includes('bundle'));
    expect(bundles.length).toBeGreaterThan(10);
    expect(bundles.filter((f) => /[\u0080-\uffff]/.test(readFileSync(join(ROOT, f), 'utf8')))).toEqual([]);
  });

  it('bundles maxmind with mmdb-lib and tiny-lru, which the enriched runs load', () => {
    if (!existsSync(join(ROOT, 'dist/src/bundle'))) return; // built without rolldown: maxmind from node_modules
    const required = [...readFileSync(join(ROOT, 'dist/workers/maxmind.bundle.cjs'), 'utf8').matchAll(/require(?:\$\d+)?\("([^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.filter((p) => !builtinModules.includes(p.replace(/^node:/, '')))).toEqual([]);
  });
});
