#!/usr/bin/env node
// node scripts/generate.mjs --out DIR [options]: the same as `flowsieve generate` (build first: npm run build).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('scripts/generate.mjs: dist/ is missing; run `npm run build` first\n');
  process.exit(1);
}
process.argv.splice(2, 0, 'generate');
await import(main.href);
