/**
 * `longhaul init <dir>`: a starter project a developer can run at once — package.json depending on
 * this package, a worker entry with one agent and one custom tool, a test of the agent with
 * `longhaul/testing`, a README with the two commands. It writes into a new or empty folder only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageVersion, projectRoot } from '../../shared/package-info';

/** The folder exists and holds something: init writes over nothing. */
export class InitRefusedError extends Error {}

interface OwnPackage {
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
}

function ownPackage(): OwnPackage {
  // package.json ships in the package; projectRoot() finds it from dist/ and from the sources alike.
  return JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as OwnPackage;
}

/** An npm package name from a folder name: lower case, letters, digits, - and _. */
export function packageNameFor(dir: string): string {
  const name = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '');
  return name || 'my-agents';
}

export function starterFiles(opts: { name: string; longhaul: string }): Record<string, string> {
  const own = ownPackage();
  const pin = (from: Record<string, string>, dep: string) => from[dep] ?? 'latest';
  const packageJson = {
    name: opts.name,
    version: '0.1.0',
    private: true,
    scripts: {
      dev: 'longhaul dev src/worker.ts',
      worker: 'longhaul worker src/worker.ts',
      api: 'longhaul api',
      test: 'node --import tsx --test test/*.test.ts',
      typecheck: 'tsc --noEmit',
    },
    dependencies: { longhaul: opts.longhaul, zod: pin(own.dependencies, 'zod') },
    devDependencies: {
      '@types/node': pin(own.devDependencies, '@types/node'),
      tsx: pin(own.dependencies, 'tsx'),
      typescript: pin(own.devDependencies, 'typescript'),
    },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022'],
      module: 'node16',
      moduleResolution: 'node16',
      strict: true,
      esModuleInterop: true,
      skipLibCheck: true,
      noEmit: true,
      types: ['node'],
    },
    include: ['src', 'test'],
  };
  return {
    'package.json': `${JSON.stringify(packageJson, null, 2)}\n`,
    'tsconfig.json': `${JSON.stringify(tsconfig, null, 2)}\n`,
    '.gitignore': 'node_modules/\ndata/\n',
    'src/worker.ts': WORKER_TS,
    'test/agent.test.ts': TEST_TS,
    'README.md': README_MD.replaceAll('{{name}}', opts.name),
  };
}

/** Writes the starter project into `dir` (created if missing); refuses a folder that holds anything. */
export function initProject(dir: string, opts: { longhaul?: string } = {}): string[] {
  const root = path.resolve(dir);
  if (fs.existsSync(root)) {
    if (!fs.statSync(root).isDirectory()) throw new InitRefusedError(`${dir} exists and is not a folder`);
    if (fs.readdirSync(root).length > 0) throw new InitRefusedError(`${dir} is not empty: longhaul init writes into a new or empty folder`);
  }
  const files = starterFiles({ name: packageNameFor(root), longhaul: opts.longhaul ?? `^${packageVersion()}` });
  for (const [rel, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text, { flag: 'wx' });
  }
  return Object.keys(files);
}

const WORKER_TS = `/**
 * The worker entry: \`longhaul dev src/worker.ts\` runs it with a local Temporal, API and web UI;
 * \`longhaul worker src/worker.ts\` runs it in a deployment. Its default export is the worker definition.
 */
import { z } from 'zod';
import { defineAgent, defineTool, defineWorker, ToolError } from 'longhaul/worker';

/** What every tool receives as ctx.deps: here an in-memory order book; in your app, your database client. */
export interface Deps {
  orders: Map<string, { status: 'paid' | 'shipped' | 'delivered'; items: string[] }>;
}

const lookupOrder = defineTool<{ orderId: string }, Deps>({
  name: 'lookup_order',
  description: 'Looks up an order by its id: its status and items.',
  input: z.object({ orderId: z.string().describe('The order id, e.g. ORD-1') }),
  risk: 'read', // reads never need an approval
  async run({ orderId }, ctx) {
    const order = ctx.deps.orders.get(orderId);
    if (!order) throw new ToolError(\`no order \${orderId}\`); // the model hears this and can try again
    return order;
  },
});

export const orderStatus = defineAgent<Deps>({
  name: 'order_status',
  description: 'Answers where an order is.',
  instructions: 'You answer customers asking about their order. Look the order up, then give its status in one sentence.',
  tools: [lookupOrder],
  input: z.object({ orderId: z.string() }),
  output: z.object({ status: z.enum(['paid', 'shipped', 'delivered', 'unknown']), answer: z.string() }),
  limits: { defaults: { maxSteps: 10, maxCostUsd: 0.5 } },
});

export default defineWorker<Deps>({
  agents: [orderStatus],
  deps: {
    orders: new Map([
      ['ORD-1', { status: 'shipped', items: ['kettle'] }],
      ['ORD-2', { status: 'paid', items: ['teapot', 'cups'] }],
    ]),
  },
});
`;

const TEST_TS = `/**
 * The agent, offline: the real workflow and activities on a test Temporal server and a temporary
 * store, with a scripted model instead of a paid one. \`npm test\` runs it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestEnvironment, scriptedModel } from 'longhaul/testing';
import worker from '../src/worker';

test('order_status looks the order up and answers with its status', async () => {
  const env = await createTestEnvironment({
    worker,
    model: scriptedModel([
      { toolCalls: [{ name: 'lookup_order', input: { orderId: 'ORD-1' } }] },
      { output: { status: 'shipped', answer: 'Your kettle is on its way.' } },
    ]),
  });
  try {
    const run = await env.startRun({ agent: 'order_status', input: { orderId: 'ORD-1' } });
    const { output } = await run.result();
    assert.deepEqual(output, { status: 'shipped', answer: 'Your kettle is on its way.' });
    // The model was told the agent's instructions and offered its tool.
    const [first] = env.modelRequests();
    assert.match(JSON.stringify(first), /lookup_order/);
  } finally {
    await env.close();
  }
});
`;

const README_MD = `# {{name}}

Agents that run on [Longhaul](https://www.npmjs.com/package/longhaul): durable, long-running, with approvals.

\`\`\`sh
npm install && npm run dev    # Temporal, the API and web UI on http://127.0.0.1:3000, and your worker
npm test                      # the agent offline, with a scripted model
\`\`\`

- \`src/worker.ts\` defines the agent \`order_status\` and its tool \`lookup_order\`. \`npm run dev\` restarts the
  worker when you change it; runs in progress go on.
- \`test/agent.test.ts\` runs the agent against a scripted model: no API key, no network.
- Set \`ANTHROPIC_API_KEY\` to run with Claude (without it, the demo model answers).
- In production run \`longhaul worker src/worker.ts\` (as many as you like) and \`longhaul api\` against your
  Temporal cluster and Postgres (\`TEMPORAL_ADDRESS\`, \`DATABASE_URL\`): see Longhaul's README.
`;
