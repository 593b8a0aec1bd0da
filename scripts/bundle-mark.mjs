// The first line of the stub scripts/bundle.mjs writes over a bundled worker's tsc output
// (dist/workers/<name>.js): the worker's entry (scripts/worker-shims.mjs) requires the
// bundle while the stub is there.
export const BUNDLED_MARK = '// bundled by scripts/bundle.mjs\n';
