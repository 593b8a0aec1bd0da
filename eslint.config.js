// Lint rules that catch bugs, not style: ESLint's and typescript-eslint's recommended sets
// (without type information, so the whole tree lints in seconds on two cores), less the
// rules that only judge style. No formatting rules: the code keeps the layout it has.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NODE_GLOBALS = Object.fromEntries(
  ['process', 'console', 'Buffer', 'URL', 'performance', 'setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'setImmediate', 'queueMicrotask', 'structuredClone'].map((g) => [g, 'readonly']),
);

export default tseslint.config(
  // what .gitignore leaves out (build output, scratch and benchmark data)
  { ignores: ['dist/**', 'node_modules/**', 'test-artifacts/**', 'coverage/**', '.tmp/**', 'out/**', 'sample/**', 'bench/data/**', 'scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: NODE_GLOBALS },
    rules: {
      // style, not bugs: tests read untyped JSON, and `any` there is deliberate
      '@typescript-eslint/no-explicit-any': 'off',
      // `_name` marks a value left out on purpose (a destructured tuple, an unused argument)
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // the rethrown errors put the cause's message in their own text (the CLI prints messages, not chains)
      'preserve-caught-error': 'off',
    },
  },
  {
    // tsc checks names in TypeScript (and knows Node's globals from @types/node)
    files: ['**/*.ts'],
    rules: { 'no-undef': 'off' },
  },
  {
    // CommonJS files (scripts/code-cache.cjs, which the worker threads load without an ESM loader)
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', exports: 'writable', __dirname: 'readonly', __filename: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // AssemblyScript (assembly/, scripts/wasm.mjs): its 64-bit integer literals are exact
    files: ['assembly/**/*.ts'],
    rules: { 'no-loss-of-precision': 'off' },
  },
);
