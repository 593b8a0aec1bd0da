import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/** A temporary folder removed after the test file. */
export function tempDir(prefix = 'flowsieve-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** True when ../shared/fixtures exists (it does in CI). */
export const FIXTURES = new URL('../../../shared/fixtures/', import.meta.url).pathname;
