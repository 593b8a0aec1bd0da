/** Environment switches in tests. */
import { afterEach } from 'vitest';

/** Puts the variable `name` back as it was after each test of the calling describe block. */
export function restoreEnvAfterEach(name: string): void {
  const was = process.env[name];
  afterEach(() => {
    if (was === undefined) delete process.env[name];
    else process.env[name] = was;
  });
}
