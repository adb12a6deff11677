// Lint: TypeScript rules everywhere, plus the workflow sandbox rules — workflow files import only
// @temporalio/workflow, type-only imports, and other pure workflow modules; no clocks, randomness,
// timers, I/O or Node APIs (time comes from activities, ids from uuid4(), waits from sleep()).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

/** The workflow sandbox's rules (also held by contract/, which the sandbox loads): allowed imports, no clocks, randomness, timers or I/O. */
function sandboxRules(files, allowedImports) {
  return [
    {
      files,
      rules: {
        'no-restricted-imports': ['error', { patterns: [{ regex: allowedImports.regex, allowTypeImports: true, message: allowedImports.message }] }],
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
  ];
}

module.exports = tseslint.config(
  // examples/ are projects of their own (package.json, tsconfig, tests), run on the packed tarball by test/package/.
  { ignores: ['dist/**', 'web/dist/**', 'node_modules/**', 'test/.artifacts/**', 'coverage/**', 'data/**', 'examples/**'] },
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
  ...sandboxRules(['workflows/**/*.ts'], {
    // Workflow code may reach the pure contract, but not its zod schemas (contract/api.ts).
    regex: '^(?!@temporalio/workflow$|\\./|\\.\\./contract/(run|events|failures|errors|activity-io|keys|workflow-messages|search-attributes|workspace|agents)$)',
    message: 'Workflow code may import only @temporalio/workflow, pure workflow modules, the pure contract modules, and types.',
  }),
  ...sandboxRules(['worker/tracing-workflow-interceptors.ts'], {
    // Bundled into the sandbox with the workflows: the workflow API and OpenTelemetry's workflow interceptors only.
    regex: '^(?!@temporalio/workflow$|@temporalio/interceptors-opentelemetry/lib/workflow$)',
    message: 'Sandbox code: only @temporalio/workflow and OpenTelemetry\'s workflow interceptors.',
  }),
  ...sandboxRules(['contract/**/*.ts'], {
    // The contract is the ground floor: it imports nothing of Longhaul's, only zod and workflow definitions.
    regex: '^(?!@temporalio/workflow$|zod$|\\./)',
    message: 'contract/ imports nothing of Longhaul: only zod, @temporalio/workflow (definitions), other contract modules and types.',
  }),
  {
    // Arrows point down: activities build on the contract and shared/'s adapters, never on the
    // workflows that schedule them (what both need is in contract/), the processes, or the UI.
    files: ['activities/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(workflows|api|worker|scripts|web|client)(/|$)', allowTypeImports: false, message: 'activities/ imports contract/, shared/ and its own modules: what it shares with workflows belongs in contract/.' }] },
      ],
    },
  },
  {
    // shared/ is the adapters and infrastructure under every process: it reaches up into none of them.
    files: ['shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+(scripts|api|worker|workflows|activities|web|client)(/|$)', allowTypeImports: false, message: 'shared/ imports only contract/ and itself: callers pass in what it needs from the layers above.' }] },
      ],
    },
  },
  {
    // Services do the API's work; the HTTP layer (routes/) calls them, never the other way round. Only the
    // server, which mounts the routes, imports them.
    files: ['api/**/*.ts'],
    ignores: ['api/server.ts', 'api/routes/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ regex: '^(\\./|(\\.\\./)+)routes(/|$)', message: 'Services import no routes: what both need goes in the service or contract/.' }] }],
    },
  },
  {
    // The client runs in browsers too: the contract and itself only, no Node built-ins. (Its CLI is the exception.)
    files: ['client/**/*.ts'],
    ignores: ['client/cli/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./|\\.\\./contract/)', allowTypeImports: false, message: 'client/ imports only the contract and its own modules, so it runs in browsers.' }] },
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
