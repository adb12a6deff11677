/**
 * The proof that Longhaul works for someone who has only the package: `npm pack` (from a copy of
 * the sources, so this checkout's dist/ is left alone), a fresh project that installs the tarball,
 * and in it: types of `longhaul/worker`, `longhaul/client` (and `longhaul/testing`), a project made by
 * `longhaul init` that typechecks, `longhaul worker <entry>` polling the test's Temporal dev server on
 * the shipped workflow bundle and publishing its agent, `longhaul api` beside it on the same DATA_DIR, and `longhaul dev
 * <entry>` restarting its worker when the entry changes, and the entry `longhaul worker` forks for a suspect tool
 * call (the tool sandbox) serving that call from the installed package.
 *
 * Measured on the shared two-core machine (2026-12-06): pack 30-65 s (tsc, vite, the workflow bundle),
 * install 15-40 s from npm's cache, the examples' tests about a minute (each test file bundles the
 * workflows again: longhaul/testing does not use the shipped bundle yet), the whole file 1.5-4 minutes
 * depending on the load. better-sqlite3 compiles from source at install (2 min 8 s here: no prebuilt
 * binary is reachable); the install skips install scripts and takes the addon this checkout already
 * compiled for the same better-sqlite3 version and Node (checked), otherwise it compiles. The other
 * skipped scripts (esbuild, @swc/core, protobufjs) only check or optimise.
 *
 * Steps that need other work of issue 24 switch themselves on when it is there: `longhaul/testing`
 * (testing/index.ts: typechecked, the init project's and the examples' own `npm test`), the examples
 * (examples/<name>/package.json).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type * as ForkedToolSandbox from '../../worker/forked-tool-sandbox';
import type * as LoggerModule from '../../shared/logger';
import { freePort } from '../support/ports';
import { testEnv } from '../support/test-env';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const ownPackage = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const HAS_TESTING = fs.existsSync(path.join(ROOT, 'testing', 'index.ts'));
const EXAMPLES = fs.existsSync(path.join(ROOT, 'examples'))
  ? fs.readdirSync(path.join(ROOT, 'examples')).filter((d) => fs.existsSync(path.join(ROOT, 'examples', d, 'package.json')))
  : [];

let tmp: string;
let tarball: string;
let project: string;
const children: ChildProcess[] = [];

function sh(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

function ok(cmd: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  const r = sh(cmd, args, cwd, env);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status}:\n${r.out.slice(-6000)}`);
  return r.out;
}

function timed<T>(what: string, f: () => T): T {
  const t0 = Date.now();
  const result = f();
  process.stderr.write(`[packed-tarball] ${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  return result;
}

/** The files git knows (tracked or new, not ignored), copied: a clean tree to pack, this checkout untouched. */
function copySources(to: string): void {
  const files = ok('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], ROOT).split('\0').filter(Boolean);
  for (const rel of files) {
    const from = path.join(ROOT, rel);
    if (rel === 'node_modules' || !fs.existsSync(from) || !fs.statSync(from).isFile()) continue;
    fs.mkdirSync(path.dirname(path.join(to, rel)), { recursive: true });
    fs.copyFileSync(from, path.join(to, rel));
  }
  fs.symlinkSync(fs.realpathSync(path.join(ROOT, 'node_modules')), path.join(to, 'node_modules'));
}

/**
 * Installs without install scripts, then gives better-sqlite3 the addon this checkout compiled when it
 * is the same version (the ABI is this Node's: the tests run on it); otherwise compiles it.
 */
function installQuickly(dir: string): void {
  timed(`npm install in ${path.basename(dir)}`, () => ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts'], dir));
  const installed = path.join(dir, 'node_modules', 'better-sqlite3');
  const compiled = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const version = (d: string) => (JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as { version: string }).version;
  const addon = path.join('build', 'Release', 'better_sqlite3.node');
  if (fs.existsSync(path.join(compiled, addon)) && version(installed) === version(compiled)) {
    fs.mkdirSync(path.join(installed, 'build', 'Release'), { recursive: true });
    fs.copyFileSync(path.join(compiled, addon), path.join(installed, addon));
  } else {
    timed('compiling better-sqlite3', () => ok('npm', ['rebuild', 'better-sqlite3'], dir));
  }
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/** Starts a packaged CLI command; resolves once `ready` shows in its output. */
async function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(path.join(project, 'node_modules', '.bin', 'longhaul'), args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  await waitFor(() => ready.test(out) || child.exitCode !== null, { timeoutMs: 90_000, what: () => `longhaul ${args.join(' ')} to be ready:\n${out.slice(-3000)}` });
  if (child.exitCode !== null) throw new Error(`longhaul ${args.join(' ')} exited ${child.exitCode}:\n${out.slice(-3000)}`);
  return { child, output: () => out };
}

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve(child.exitCode) : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

beforeAll(() => {
  const t0 = Date.now();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-packed-'));
  const source = path.join(tmp, 'source');
  copySources(source);
  timed('npm pack (prepack builds)', () => ok('npm', ['pack', '--pack-destination', tmp], source));
  tarball = path.join(tmp, fs.readdirSync(tmp).find((f) => f.endsWith('.tgz'))!);

  project = path.join(tmp, 'app');
  fs.mkdirSync(project);
  writeJson(path.join(project, 'package.json'), {
    name: 'packed-app',
    version: '1.0.0',
    private: true,
    dependencies: { longhaul: `file:${tarball}`, zod: ownPackage.dependencies.zod },
    devDependencies: { typescript: ownPackage.devDependencies.typescript, '@types/node': ownPackage.devDependencies['@types/node'] },
  });
  installQuickly(project);
  process.stderr.write(`[packed-tarball] set-up: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
}, 300_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await Promise.all(children.map(exited));
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test('the tarball holds what a user needs and nothing of the tests or tooling', () => {
  const files = ok('tar', ['tzf', tarball], tmp).split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
  for (const needed of [
    'package.json',
    'README.md',
    'dist/worker/index.js',
    'dist/worker/index.d.ts',
    'dist/client/index.js',
    'dist/client/index.d.ts',
    'dist/client/cli/main.js',
    'dist/workflow-bundle.js',
    'dist/shared/store/migrations.js',
    'web/dist/index.html',
  ]) {
    expect(files).toContain(needed);
  }
  expect(files.filter((f) => /^(test|bench|web\/src|scripts)\/|\.map$|(?<!\.d)\.ts$/.test(f))).toEqual([]);
  if (HAS_TESTING) expect(files).toContain('dist/testing/index.js');
});

test('a file using longhaul/worker and longhaul/client typechecks against the installed package', () => {
  fs.mkdirSync(path.join(project, 'src'), { recursive: true });
  fs.writeFileSync(
    path.join(project, 'src', 'uses.ts'),
    `import { z } from 'zod';
import { AgentDefinitionError, defineAgent, defineTool, defineWorker, startWorker, ToolError, type RunInfo, type ToolContext } from 'longhaul/worker';
import { createLonghaulClient } from 'longhaul/client';
${HAS_TESTING ? "import { createTestEnvironment, scriptedModel } from 'longhaul/testing';\nvoid createTestEnvironment; void scriptedModel;" : ''}
const lookup = defineTool({
  name: 'lookup',
  description: 'Looks a thing up',
  input: z.object({ id: z.string() }),
  risk: 'read',
  async run({ id }, ctx: ToolContext) {
    const who: RunInfo = ctx.run;
    if (!id) throw new ToolError('no id');
    return { id, owner: who.owner };
  },
});
export default defineWorker({ agents: [defineAgent({ name: 'lookup_agent', description: 'Looks things up', instructions: 'Look it up.', tools: [lookup] })] });
void startWorker; void AgentDefinitionError;
void createLonghaulClient({ baseUrl: 'http://127.0.0.1:3000' }).runs.list();
`,
  );
  writeJson(path.join(project, 'tsconfig.json'), {
    // skipLibCheck as in `longhaul init`'s tsconfig: without it @temporalio/common's own types want @types/ms, and
    // longhaul/testing's want @types/express and @types/pg (devDependencies of longhaul, not installed for users).
    compilerOptions: { target: 'ES2022', module: 'node16', moduleResolution: 'node16', strict: true, esModuleInterop: true, skipLibCheck: true, noEmit: true, types: ['node'] },
    include: ['src'],
  });
  ok(path.join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], project);
});

describe('a project made by longhaul init', () => {
  let starter: string;

  beforeAll(() => {
    starter = path.join(project, 'starter');
    const out = ok(path.join(project, 'node_modules', '.bin', 'longhaul'), ['init', starter, '--longhaul', `file:${tarball}`], project);
    expect(out).toContain('npm install && npm run dev');
    // Its dependencies are the app's (the same tarball, zod, typescript, @types/node): one install for both.
    fs.symlinkSync(path.join(project, 'node_modules'), path.join(starter, 'node_modules'));
  });

  test('depends on the given longhaul and refuses to write into a folder that is not empty', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(starter, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; scripts: Record<string, string> };
    expect(pkg.dependencies.longhaul).toBe(`file:${tarball}`);
    expect(pkg.scripts.dev).toBe('longhaul dev src/worker.ts');
    const again = sh(path.join(project, 'node_modules', '.bin', 'longhaul'), ['init', starter], project);
    expect(again.status).toBe(2);
    expect(again.out).toMatch(/not empty/);
  });

  test('typechecks (its test too, once longhaul/testing exists)', () => {
    // Until then only src/: the test imports longhaul/testing.
    writeJson(path.join(starter, 'tsconfig.check.json'), { extends: './tsconfig.json', include: HAS_TESTING ? ['src', 'test'] : ['src'] });
    ok(path.join(project, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.check.json'], starter);
  });

  test('longhaul worker <entry> polls on the shipped workflow bundle, longhaul api serves beside it, SIGTERM drains', async () => {
    const dataDir = path.join(tmp, 'data');
    const taskQueue = `packed-${process.pid}-${Date.now()}`;
    const env = { TEMPORAL_ADDRESS: testEnv().temporalAddress, TEMPORAL_TASK_QUEUE: taskQueue, DATA_DIR: dataDir, LOG_LEVEL: 'info', WORKFLOW_BUNDLE_PATH: '' };
    const t0 = Date.now();
    const worker = await startCli(['worker', 'src/worker.ts'], starter, env, /worker polling/);
    process.stderr.write(`[packed-tarball] longhaul worker to first poll: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    // The prebuilt bundle inside the installed package, not webpack at start.
    expect(worker.output()).toContain(path.join('node_modules', 'longhaul', 'dist', 'workflow-bundle.js'));

    const port = await freePort();
    const api = await startCli(['api'], starter, { ...env, PORT: String(port) }, /API listening/);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    // The web UI the package ships (web/dist), found from inside node_modules.
    const page = await fetch(`http://127.0.0.1:${port}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<script[^>]+src="\/assets\/index-/);

    // The worker published its agent: in the store, and as the API lists it.
    const db = new Database(path.join(dataDir, 'longhaul.sqlite'), { readonly: true });
    try {
      await waitFor(() => db.prepare("select 1 from agent_versions where name = 'order_status'").get() !== undefined, { what: 'order_status published' });
    } finally {
      db.close();
    }
    const agents = await fetch(`http://127.0.0.1:${port}/api/agents`);
    expect(agents.status).toBe(200);
    expect(await agents.text()).toContain('"order_status"');

    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    expect(await exited(worker.child)).toBe(0);
    expect(worker.output()).toContain('worker stopped');
    expect(await exited(api.child)).toBe(0);
  }, 180_000);

  test('longhaul dev <entry> serves the API and restarts its worker when the entry changes; Ctrl-C stops both', async () => {
    const port = await freePort();
    const env = {
      TEMPORAL_ADDRESS: testEnv().temporalAddress, // a Temporal is there: dev starts none
      TEMPORAL_TASK_QUEUE: `packed-dev-${process.pid}-${Date.now()}`,
      DATA_DIR: path.join(tmp, 'dev-data'),
      PORT: String(port),
      LOG_LEVEL: 'info',
      WORKFLOW_BUNDLE_PATH: '',
    };
    const polls = (out: string) => out.split('worker polling').length - 1;
    const dev = await startCli(['dev', 'src/worker.ts'], starter, env, /worker polling/);
    expect(dev.output()).toContain('Longhaul is running (dev)');
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);

    fs.appendFileSync(path.join(starter, 'src', 'worker.ts'), '// changed\n');
    await waitFor(() => polls(dev.output()) === 2, { timeoutMs: 60_000, what: () => `the worker to restart:\n${dev.output().slice(-3000)}` });
    expect(dev.output()).toMatch(/restarting the worker: a file changed/);

    dev.child.kill('SIGINT');
    expect(await exited(dev.child)).toBe(0);
    expect(dev.output().split('worker stopped').length - 1).toBe(2); // the first on restart, the second on Ctrl-C
  }, 180_000);

  test('a suspect tool call of `longhaul worker <entry>` runs in a process forked from the installed package', async () => {
    // What the worker's own sandbox does (worker/forked-tool-sandbox.ts, from the installed dist/): fork the entry the
    // worker was started as — the package's CLI with `worker <entry>` — and hand it one call over IPC. The answer
    // shows the child found the user's tool and its deps (from the definition) through the installed package.
    // (A whole suspect call through Temporal — a worker lost mid-call — is tested from the sources: poison-run.test.ts.)
    const installed = path.join(project, 'node_modules', 'longhaul');
    const { forkedToolSandbox } = require(path.join(installed, 'dist', 'worker', 'forked-tool-sandbox.js')) as typeof ForkedToolSandbox;
    const { createLogger } = require(path.join(installed, 'dist', 'shared', 'logger.js')) as typeof LoggerModule;
    const cli = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as { bin: { longhaul: string } };
    const sandbox = forkedToolSandbox({ file: path.join(installed, cli.bin.longhaul), args: ['worker', path.join(starter, 'src', 'worker.ts')], execArgv: [] }, createLogger({ level: 'silent' }));
    const workspaceDir = fs.mkdtempSync(path.join(tmp, 'sandbox-workspace-'));
    const run = { runId: 'run-packed', owner: 'ann', agent: 'order_status', input: { orderId: 'ORD-1' }, goal: 'g', metadata: null };
    const call = { agent: 'order_status', tool: 'lookup_order', runId: 'run-packed', run, idempotencyKey: 'run-packed:turn:1:tool:t1', workspaceDir, workspaceLimits: { maxFileBytes: 1024, maxTotalBytes: 4096 }, toolUseId: 't1', attempt: 2 };
    const output = await sandbox.run({ ...call, input: { orderId: 'ORD-1' } }, { signal: new AbortController().signal, heartbeat: () => undefined });
    expect(JSON.parse(output)).toEqual({ status: 'shipped', items: ['kettle'] });
  }, 120_000);

  (HAS_TESTING ? test : test.skip)('its own npm test passes (longhaul/testing)', () => {
    ok('npm', ['test'], starter);
  }, 180_000);
});

for (const example of HAS_TESTING ? EXAMPLES : []) {
  test(`examples/${example} on the tarball: its own npm test passes`, () => {
    const dir = path.join(tmp, 'examples', example);
    fs.cpSync(path.join(ROOT, 'examples', example), dir, { recursive: true, filter: (src) => !/node_modules|\/\.|\/dist$/.test(path.relative(ROOT, src)) });
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    pkg.dependencies = { ...pkg.dependencies, longhaul: `file:${tarball}` };
    writeJson(path.join(dir, 'package.json'), pkg);
    fs.rmSync(path.join(dir, 'package-lock.json'), { force: true });
    installQuickly(dir);
    ok('npm', ['test'], dir);
  }, 240_000);
}
