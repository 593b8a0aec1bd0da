/** The repository's sibling shared/fixtures, which the parse benchmarks read (FLOWSIEVE_FIXTURES overrides). */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = process.env.FLOWSIEVE_FIXTURES ?? new URL('../../../shared/fixtures/', import.meta.url).pathname;

/** Every file under FIXTURES, sorted; none where it cannot be read. */
export function fixtureFiles(): string[] {
  const walk = (d: string): string[] =>
    readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(d, e.name)) : e.isFile() ? [join(d, e.name)] : []));
  try {
    return walk(FIXTURES).sort();
  } catch {
    return [];
  }
}
