// Bundles what tsc wrote for the command line and the two worker threads into a few files,
// after tsc (npm run build): dist/src/cli/main.js, dist/workers/parse.js and
// dist/workers/shard.js are rewritten as bundles, their shared code in dist/src/bundle/.
//
// Why: every thread loads its own copy of its module graph, and Node's ESM loader pays for
// each module it resolves, reads and links (a hundred for detect on the main thread, thirty
// in a parse thread): loading `detect`'s graph as a bundle costs about half the CPU
// (bench/RESULTS.md, start-up). Packages (node_modules) stay outside, loaded as before.
//
// Every other module stays where tsc wrote it (tests and tools import them from there);
// the commands other than detect, the object-store clients and the other lazily loaded
// modules become chunks of the bundle, so that no module is ever loaded twice in one
// thread. The chunks sit in dist/src/bundle/, a folder as deep as every dist/src/<folder>/,
// so that paths named from import.meta.url ('../../workers/', '../../data/') still resolve.
//
// Without rolldown (a platform it has no binary for), the unbundled files are kept: the
// build is slower to start, not broken. tsc rewrites the three entry files on every build,
// so a bundle is never older than the code.
import { existsSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const ENTRIES = ['src/cli/main', 'workers/parse', 'workers/shard'];

let rolldown;
try {
  ({ rolldown } = await import('rolldown'));
} catch (err) {
  process.stderr.write(`bundle: rolldown not available (${err.message.split('\n')[0]}): dist/ left unbundled\n`);
  process.exit(0);
}

rmSync(join(dist, 'src/bundle'), { recursive: true, force: true });
const build = await rolldown({
  input: Object.fromEntries(ENTRIES.map((e) => [e, join(dist, `${e}.js`)])),
  // packages and node: built-ins are loaded from node_modules as before
  external: (id) => !id.startsWith('.') && !id.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(id),
  platform: 'node',
  logLevel: 'warn',
});
await build.write({
  dir: dist,
  format: 'esm',
  entryFileNames: '[name].js',
  chunkFileNames: 'src/bundle/[name]-[hash].js',
  sourcemap: false,
});
await build.close();
for (const e of ENTRIES) if (!existsSync(join(dist, `${e}.js`))) throw new Error(`bundle: ${e}.js was not written`);
