import { describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { importCircles, importGraph, importSpecifiers, layerViolations, parseLayers } from './helpers/import-graph.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LAYERS = parseLayers(readFileSync(join(ROOT, 'docs/ARCHITECTURE.md'), 'utf8'));

/** A tree of sources under a temporary root: path -> text. */
function tree(files: Record<string, string>): string {
  const root = tempDir();
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

describe('the import graph of src/ and workers/', () => {
  const graph = importGraph(ROOT, ['src', 'workers']);

  it('is read from the real sources', () => {
    // the engine imports the input plan: a parser that found nothing would pass every check below
    expect(graph.get('src/engine/run.ts')).toContain('src/input/plan.ts');
    expect(graph.size).toBeGreaterThan(100);
  });

  it('has no import circle', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('never imports up the layers of docs/ARCHITECTURE.md', () => {
    expect(LAYERS.map((l) => l.name)).toContain('core');
    expect(layerViolations(graph, LAYERS)).toEqual([]);
  });

  it('reaches the sidecar and the cluster from the command line only through their own commands', () => {
    const entries = new Set(['src/cli/commands/serve.ts', 'src/cli/commands/cluster.ts']);
    const reaching = [...graph]
      .filter(([file]) => file.startsWith('src/cli/') && !entries.has(file))
      .flatMap(([file, deps]) => deps.filter((d) => /^src\/(serve|cluster)\//.test(d)).map((d) => `${file} -> ${d}`));
    expect(reaching).toEqual([]);
  });

  it('would fail on one import up, or one import that closes a circle', () => {
    const up = new Map(graph);
    up.set('src/flow/sink.ts', [...graph.get('src/flow/sink.ts')!, 'src/app/settings.ts']);
    expect(layerViolations(up, LAYERS)).toEqual(['src/flow/sink.ts -> src/app/settings.ts: flow (flow) imports up into app (app)']);
    const circle = new Map(graph);
    circle.set('src/engine/types.ts', [...graph.get('src/engine/types.ts')!, 'src/engine/run.ts']); // run.ts imports types.ts
    const found = importCircles(circle);
    expect(found).toHaveLength(1);
    expect(found[0]).toEqual(expect.arrayContaining(['src/engine/run.ts', 'src/engine/types.ts']));
  });
});

describe('the checks fail on what they forbid', () => {
  it('find a circle, even one tied by a type alone', () => {
    const root = tree({
      'src/engine/a.ts': "import type { B } from './b.js';\nexport interface A { b: B }\n",
      'src/engine/b.ts': "import type { A } from './a.js';\nexport interface B { a: A }\n",
      'src/engine/c.ts': "import { x } from './c.js';\n",
    });
    expect(importCircles(importGraph(root, ['src']))).toEqual([['src/engine/a.ts', 'src/engine/b.ts'], ['src/engine/c.ts']]);
  });

  it('find an import up the layers, between peers, and into a folder no layer names', () => {
    const root = tree({
      'src/flow/sink.ts': "import { shardOf } from '../engine/hash.js';\n",
      'src/engine/hash.ts': 'export const shardOf = 1;\n',
      'src/serve/x.ts': "export { y } from '../cluster/y.js';\n",
      'src/cluster/y.ts': "const m = await import('../app/z.js');\nexport const y = m;\n",
      'src/app/z.ts': "import '../nowhere/w.js';\n",
      'src/nowhere/w.ts': '',
    });
    expect(layerViolations(importGraph(root, ['src']), LAYERS)).toEqual([
      "src/flow/sink.ts -> src/engine/hash.ts: flow (flow) imports up into engine (core)",
      "src/app/z.ts -> src/nowhere/w.ts: folder 'nowhere' is in no layer",
      "src/nowhere/w.ts: folder 'nowhere' is in no layer",
      'src/serve/x.ts -> src/cluster/y.ts: serve and cluster are peers that may not import each other',
    ].sort());
  });

  it('read every form of import and leave comments out', () => {
    const source = [
      "import { a } from './a.js';",
      "import type {\n  B,\n  C,\n} from '../b.js';",
      "import * as d from './d.js';",
      "export * from './e.js';",
      "export { f } from './f.js';",
      "import './g.js';",
      "const h = await import('./h.js');",
      "import { readFileSync } from 'node:fs';",
      "// import { x } from './commented.js';",
      "/* import { y } from './block-commented.js'; */",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual(['./a.js', '../b.js', './d.js', './e.js', './f.js', './g.js', './h.js']);
  });
});
