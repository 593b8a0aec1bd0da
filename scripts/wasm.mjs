// Compiles the WebAssembly modules (assembly/*.ts, AssemblyScript) into dist/wasm/*.wasm, in
// npm run build. The compiler is a devDependency (assemblyscript, with binaryen as
// WebAssembly): nothing is downloaded and no binary is committed. A module has no runtime
// (`--runtime stub`: it allocates nothing) and imports nothing but, where MEMORY says so, its
// memory; its JavaScript side (src/formats/aws-wasm.ts, src/engine/scan-wasm.ts, ...) compiles
// it once per thread, when first needed (src/data/files.ts wasmModule, or a loader of its own).
import { mkdirSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'dist', 'wasm');
mkdirSync(out, { recursive: true });

let asc;
try {
  ({ default: asc } = await import('assemblyscript/asc'));
} catch (err) {
  // an install without devDependencies: the JavaScript readers run instead (aws-wasm.ts)
  process.stderr.write(`wasm: assemblyscript not available (${err.message.split('\n')[0]}): no dist/wasm/\n`);
  process.exit(0);
}

// memory flags of a module other than the default (a memory of its own, 64 pages at first)
const MEMORY = {
  // the inbound table (src/engine/scan-wasm.ts) is given a memory of the size it needs and a
  // new one when it needs more: growing a memory detaches its buffer, and one detached
  // buffer makes V8 check every typed-array access of the thread for detaching from then on
  'scan-held': ['--importMemory', '--initialMemory', '1'],
  // the outbound finalisation (src/engine/outbound-wasm.ts): the table's memory (outbound-adds'), or a memory sized for it
  'outbound-groups': ['--importMemory', '--initialMemory', '1'],
  // the outbound table's add loop (src/engine/outbound-adds.ts): the table's memory, a new one when it grows
  'outbound-adds': ['--importMemory', '--initialMemory', '1'],
  // the endpoint-days of a finalisation (src/engine/endpoint-days-wasm.ts): a memory sized for them
  'endpoint-days': ['--importMemory', '--initialMemory', '1'],
};

// modules built a second time, with other memory flags, into dist/wasm/<name>.wasm
const VARIANTS = {
  // scan-held.ts importing a shared memory (src/engine/scan-wasm.ts newMemory): V8 does not count
  // a shared memory as the isolate's external memory, so the shard's first table and held buffer
  // (~230 MB at once on the bucket) no longer set off collections "for external memory pressure"
  'scan-held-shared': ['scan-held', ['--importMemory', '--initialMemory', '1', '--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads']],
};

const builds = readdirSync(join(root, 'assembly')).filter((n) => n.endsWith('.ts')).map((f) => [f.slice(0, -3), f.slice(0, -3)]);
builds.push(...Object.entries(VARIANTS).map(([name, [source]]) => [name, source]));
for (const [name, source] of builds) {
  const flags = VARIANTS[name]?.[1] ?? MEMORY[name] ?? ['--initialMemory', '64'];
  const { error } = await asc.main([
    join('assembly', `${source}.ts`), '-O3', '--noAssert', '--runtime', 'stub', '--enable', 'simd', ...flags,
    '--outFile', join('dist', 'wasm', `${name}.wasm`),
  ], { stdout: process.stdout, stderr: process.stderr, baseDir: root });
  if (error) {
    throw new Error(`wasm: ${source}.ts (${name}) did not compile: ${error.message}`);
  }
}
