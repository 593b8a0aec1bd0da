import { defineConfig } from 'vitest/config';

// Tests import the compiled code from dist/ (npm test builds first): the workers the
// engine starts are compiled files, so tests run exactly what users run.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
