// Lint: TypeScript rules everywhere, plus the workflow sandbox rules — workflow files import only
// @temporalio/workflow, type-only imports, and other pure workflow modules; no clocks, randomness,
// timers, I/O or Node APIs (time comes from activities, ids from uuid4(), waits from sleep()).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'test/.artifacts/**', 'coverage/**', 'data/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!@temporalio/workflow$|\\./)',
              allowTypeImports: true,
              message: 'Workflow code may import only @temporalio/workflow, other pure workflow modules, and types.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['setTimeout', 'setInterval', 'setImmediate', 'clearTimeout', 'clearInterval', 'fetch', 'process', 'require', 'Buffer', 'crypto', 'performance'].map((name) => ({
          name,
          message: 'Not deterministic or not available in the workflow sandbox: use sleep(), condition(), uuid4() or an activity.',
        })),
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Date', property: 'now', message: 'No clocks in workflows: take timestamps from activities, use timers for deadlines.' },
        { object: 'Math', property: 'random', message: 'No randomness in workflows: use uuid4() from @temporalio/workflow.' },
      ],
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'No clocks in workflows: new Date() reads the time.' },
        { selector: "CallExpression[callee.name='Date']", message: 'No clocks in workflows: Date() reads the time.' },
      ],
    },
  },
  {
    files: ['web/**/*.{ts,tsx}'],
    languageOptions: { sourceType: 'module', globals: { window: 'readonly', document: 'readonly', sessionStorage: 'readonly', localStorage: 'readonly', WebSocket: 'readonly', fetch: 'readonly' } },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
