/**
 * The import graph of the sources, from their import statements, and the checks the
 * architecture test makes on it: no circle, and no import up the layers written down in
 * docs/ARCHITECTURE.md. A small parser rather than a tool: the sources use only static
 * `import … from '…'`, `export … from '…'` and `import('…')` with literal specifiers.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** file (relative to the root, e.g. 'src/engine/run.ts') -> the files it imports */
export type ImportGraph = Map<string, string[]>;

/** One rank of the layers: its folders, and whether they may import each other. */
export interface Layer {
  name: string;
  folders: string[];
  peers: boolean;
}

const SPECIFIER = /\b(?:import|export)\s+(?:type\s+)?(?:[\w$*{}\s,]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The relative specifiers a module imports (comments left out). */
export function importSpecifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2]!;
    if (spec.startsWith('.')) out.push(spec);
  }
  return out;
}

/** The graph of every .ts file under the given folders of root. */
export function importGraph(root: string, folders: string[]): ImportGraph {
  const graph: ImportGraph = new Map();
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) {
        const deps = importSpecifiers(readFileSync(path, 'utf8')).map((s) => relative(root, resolve(dirname(path), s.replace(/\.js$/, '.ts'))));
        graph.set(relative(root, path), deps);
      }
    }
  };
  for (const f of folders) walk(join(root, f));
  return graph;
}

/** Every circle of files (strongly connected components of more than one file, or a file importing itself). */
export function importCircles(graph: ImportGraph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const circles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)!.includes(v)) circles.push(scc.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return circles;
}

/**
 * The layers from the block between `<!-- layers -->` and `<!-- /layers -->` in the
 * architecture document: one rank a line, top first, `name: folder folder`, ending in
 * `(peers)` where the rank's folders may import each other.
 */
export function parseLayers(doc: string): Layer[] {
  const block = /<!-- layers -->([\s\S]*?)<!-- \/layers -->/.exec(doc);
  if (!block) throw new Error('no <!-- layers --> block');
  const layers: Layer[] = [];
  for (const line of block[1]!.split('\n')) {
    const m = /^\s*([\w-]+):\s+([\w\s-]+?)\s*(\(peers\))?\s*$/.exec(line);
    if (m) layers.push({ name: m[1]!, folders: m[2]!.split(/\s+/), peers: Boolean(m[3]) });
  }
  return layers.reverse(); // bottom first: a rank may import ranks with a lower index
}

/** The top folder of a file under src/ ('src/engine/run.ts' -> 'engine'), or the first folder ('workers'). */
function folderOf(file: string): string {
  const parts = file.split('/');
  return parts[0] === 'src' ? parts[1]! : parts[0]!;
}

/** Imports that run up the layers, across peers that may not import each other, or into a folder no layer names. */
export function layerViolations(graph: ImportGraph, layers: Layer[]): string[] {
  const rank = new Map<string, number>();
  layers.forEach((l, i) => l.folders.forEach((f) => rank.set(f, i)));
  const out: string[] = [];
  for (const [file, deps] of graph) {
    const from = folderOf(file);
    const r = rank.get(from);
    if (r === undefined) {
      out.push(`${file}: folder '${from}' is in no layer`);
      continue;
    }
    for (const dep of deps) {
      const to = folderOf(dep);
      if (to === from) continue;
      const d = rank.get(to);
      if (d === undefined) out.push(`${file} -> ${dep}: folder '${to}' is in no layer`);
      else if (d > r) out.push(`${file} -> ${dep}: ${from} (${layers[r]!.name}) imports up into ${to} (${layers[d]!.name})`);
      else if (d === r && !layers[r]!.peers) out.push(`${file} -> ${dep}: ${from} and ${to} are peers that may not import each other`);
    }
  }
  return out.sort();
}
