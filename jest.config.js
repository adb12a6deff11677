/**
 * Two layers (`npm run test:unit` runs the first alone):
 *   unit         pure code, the workflows on Temporal's time-skipping test server with mocked activities, and the
 *                replay of recorded histories: no Postgres, no dev server, no UI build (about a minute on two busy
 *                cores, most of it the lint-rule tests, which run eslint as a process per case).
 *   integration  everything else, on one Temporal dev server, one workflow bundle, the built UI and Postgres,
 *                set up once per jest run (test/global-setup.ts).
 * globalSetup sits in the integration project on purpose: a project's global setup runs only when a test of that
 * project is selected, so a unit run never starts the dev server.
 */
const ESM_ONLY = '(jose|openid-client|oauth4webapi)';
const transform = {
  '^.+\\.tsx?$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'commonjs' } }],
  // jose and openid-client ship as ES modules only; Node loads them natively, jest's module system needs them as CommonJS.
  [`/node_modules/${ESM_ONLY}/.+\\.js$`]: ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
};
const common = { testEnvironment: 'node', rootDir: __dirname, transform, transformIgnorePatterns: [`/node_modules/(?!${ESM_ONLY}/)`] };
/** What needs no server: its own processes at most (the test server of test/workflows, a child eslint). */
const UNIT_ROOTS = ['<rootDir>/test/unit', '<rootDir>/test/workflows', '<rootDir>/test/replay'];

module.exports = {
  projects: [
    { ...common, displayName: 'unit', roots: UNIT_ROOTS, testMatch: ['**/*.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', ...UNIT_ROOTS.map((r) => `${r}/`)],
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
  testTimeout: 120_000,
  // Suites share the dev server and two cores; running them one at a time keeps timing honest.
  maxWorkers: 1,
  verbose: true,
};
