/**
 * Where the data files shipped with flowsieve (services.json, actors.json) are found at
 * run time. They live in src/data/ of the package; compiled code runs from dist/src/, so
 * the file is looked for beside this module first and then in the package's src/data/
 * (both named from the folder above, which is also right from dist/src/bundle/: scripts/bundle.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export function dataFile(name: string): string {
  const candidates = [new URL(`../data/${name}`, import.meta.url), new URL(`../../../src/data/${name}`, import.meta.url)];
  for (const c of candidates) {
    const p = fileURLToPath(c);
    if (existsSync(p)) return p;
  }
  throw new Error(`flowsieve data file ${name} is missing (looked in ${candidates.map((c) => fileURLToPath(c)).join(', ')})`);
}

/**
 * dist/wasm/<name>, the WebAssembly modules `npm run build` compiles from assembly/ (looked
 * for from dist/src/<folder>/ or dist/src/bundle/, and from a worker bundle in dist/workers/);
 * null where they were not built (an install without the AssemblyScript compiler), and the
 * caller reads with JavaScript instead.
 */
export function wasmFile(name: string): string | null {
  for (const u of [new URL(`../../wasm/${name}`, import.meta.url), new URL(`../wasm/${name}`, import.meta.url)]) {
    const p = fileURLToPath(u);
    if (existsSync(p)) return p;
  }
  return null;
}

const compiledModules = new Map<string, WebAssembly.Module | null>();

/**
 * dist/wasm/<name> compiled, once a thread (every instance of it shares the one compile);
 * null where it was not built (wasmFile). A caller that an environment variable switches
 * to JavaScript checks it before asking, each time (tests switch it).
 */
export function wasmModule(name: string): WebAssembly.Module | null {
  let m = compiledModules.get(name);
  if (m === undefined) {
    const path = wasmFile(name);
    m = path === null ? null : new WebAssembly.Module(readFileSync(path));
    compiledModules.set(name, m);
  }
  return m;
}
