/**
 * The CLI's local commands without a server: which file changes restart `longhaul dev`'s worker,
 * what `longhaul init` writes and when it refuses. (Running them for real, from the packed tarball:
 * test/package/packed-tarball.test.ts.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { restartsWorker } from '../../client/cli/restart-filter';
import { initProject, InitRefusedError, packageNameFor } from '../../client/cli/init-project';
import { main } from '../../client/cli/main';

describe('longhaul dev restarts the worker', () => {
  test('on a source file change under the entry folder', () => {
    for (const file of ['worker.ts', 'agents/billing.ts', 'lib/util.mjs', 'config.json']) expect(restartsWorker(file)).toBe(true);
  });

  test('not for node_modules, dot-folders, DATA_DIR or files that are not code', () => {
    for (const file of ['node_modules/x/index.js', 'a/node_modules/y.ts', '.git/index', '.cache/x.ts', 'notes.md', 'data/longhaul.sqlite', 'data/workspaces/run_1/a.ts']) {
      expect(restartsWorker(file, ['data'])).toBe(false);
    }
    expect(restartsWorker('database.ts', ['data'])).toBe(true); // a prefix of a name is not the folder
  });
});

describe('longhaul init', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-init-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('writes a starter project depending on this version of longhaul, or the spec given', () => {
    const target = path.join(dir, 'My Agents');
    const files = initProject(target);
    expect(files.sort()).toEqual(['.gitignore', 'README.md', 'package.json', 'src/worker.ts', 'test/agent.test.ts', 'tsconfig.json']);
    const pkg = JSON.parse(fs.readFileSync(path.join(target, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string>; scripts: Record<string, string> };
    const own = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    expect(pkg.name).toBe('my-agents');
    expect(pkg.dependencies.longhaul).toBe(`^${own.version}`);
    expect(pkg.scripts).toMatchObject({ dev: 'longhaul dev src/worker.ts', test: expect.stringContaining('test/') });
    expect(fs.readFileSync(path.join(target, 'README.md'), 'utf8')).toContain('npm install && npm run dev');
    expect(fs.readFileSync(path.join(target, 'test', 'agent.test.ts'), 'utf8')).toContain("from 'longhaul/testing'");

    const other = path.join(dir, 'ci');
    initProject(other, { longhaul: 'file:/tmp/longhaul-0.1.0.tgz' });
    expect((JSON.parse(fs.readFileSync(path.join(other, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies.longhaul).toBe('file:/tmp/longhaul-0.1.0.tgz');
  });

  test('refuses a folder that is not empty, and writes nothing there', () => {
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    expect(() => initProject(dir)).toThrow(InitRefusedError);
    expect(fs.readdirSync(dir)).toEqual(['keep.txt']);
  });

  test('through the CLI: exit 2 and one line for a folder that is not empty', async () => {
    fs.writeFileSync(path.join(dir, 'keep.txt'), 'mine');
    const err: string[] = [];
    const code = await main(['init', dir], {}, { out: () => undefined, write: () => undefined, err: (l) => err.push(l) });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/is not empty/);
  });

  test('names the package after the folder', () => {
    expect(packageNameFor('/x/Invoice Agents!')).toBe('invoice-agents');
    expect(packageNameFor('/x/___')).toBe('my-agents');
  });
});
