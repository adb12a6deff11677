/** Built-in tools on their own: workspace confinement and caps, the HTTP tool's allowlist and keys. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createHttpRequestTool } from '../../activities/tools/builtin/http-request';
import { workspaceList } from '../../activities/tools/builtin/workspace-list';
import { workspaceRead } from '../../activities/tools/builtin/workspace-read';
import { workspaceWrite } from '../../activities/tools/builtin/workspace-write';
import { ToolRegistry } from '../../activities/tools/registry';
import { ToolError, type ToolContext } from '../../activities/tools/tool';
import { Workspace } from '../../activities/tools/workspace';
import { createLogger } from '../../shared/logger';
import { CountingServer } from '../support/counting-server';

describe('built-in tools', () => {
  let dataDir: string;
  let ctx: ToolContext;

  beforeEach(() => {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-tools-'));
    ctx = {
      runId: 'run_tools',
      run: { runId: 'run_tools', owner: 'alice', agent: 'default', input: null, goal: 'test', metadata: null },
      deps: undefined,
      idempotencyKey: 'run_tools:turn:1:tool:toolu_1',
      signal: new AbortController().signal,
      heartbeat: () => undefined,
      workspace: new Workspace(path.join(dataDir, 'workspaces', 'run_tools'), { maxFileBytes: 100, maxTotalBytes: 150 }),
      logger: createLogger({ level: 'silent' }),
    };
  });
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  describe('workspace', () => {
    it('writes, lists and reads files inside the run folder', async () => {
      await workspaceWrite.run({ path: 'notes/a.txt', content: 'hello' }, ctx);
      expect(await workspaceList.run({}, ctx)).toEqual({ files: [{ path: 'notes/a.txt', bytes: 5 }] });
      expect(await workspaceRead.run({ path: 'notes/a.txt' }, ctx)).toBe('hello');
      expect(fs.readFileSync(path.join(dataDir, 'workspaces', 'run_tools', 'notes', 'a.txt'), 'utf8')).toBe('hello');
    });

    it('lists a large workspace, nested, sorted, giving the event loop back as it goes', async () => {
      const root = ctx.workspace.root;
      for (let d = 0; d < 10; d++) {
        fs.mkdirSync(path.join(root, `d${d}`), { recursive: true });
        for (let f = 0; f < 60; f++) fs.writeFileSync(path.join(root, `d${d}`, `f${String(f).padStart(2, '0')}.txt`), 'x'.repeat(d));
      }
      let turns = 0;
      let counting = true;
      const count = () => {
        turns += 1;
        if (counting) setImmediate(count);
      };
      setImmediate(count);
      const { files } = (await workspaceList.run({}, ctx)) as { files: { path: string; bytes: number }[] };
      counting = false;
      expect(files).toHaveLength(600);
      expect(files[0]).toEqual({ path: 'd0/f00.txt', bytes: 0 });
      expect(files[599]).toEqual({ path: 'd9/f59.txt', bytes: 9 });
      expect(files.map((f) => f.path)).toEqual([...files.map((f) => f.path)].sort());
      // 610 entries, a slice of 128 at a time: the loop came round between slices, not only once at the end.
      expect(turns).toBeGreaterThanOrEqual(4);
    });

    it.each(['../escape.txt', '/etc/passwd', 'a/../../b', 'C:\\windows', ''])('refuses the path %j', async (p) => {
      await expect(workspaceWrite.run({ path: p, content: 'x' }, ctx)).rejects.toBeInstanceOf(ToolError);
      await expect(workspaceRead.run({ path: p }, ctx)).rejects.toBeInstanceOf(ToolError);
    });

    it('refuses to follow a symlink out of the workspace', async () => {
      await ctx.workspace.ensure();
      const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-outside-'));
      fs.writeFileSync(path.join(outside, 'secret'), 'secret');
      fs.symlinkSync(outside, path.join(ctx.workspace.root, 'link'));
      await expect(workspaceRead.run({ path: 'link/secret' }, ctx)).rejects.toThrow(/escapes the workspace/);
      await expect(workspaceWrite.run({ path: 'link/new', content: 'x' }, ctx)).rejects.toThrow(/escapes the workspace/);
      fs.rmSync(outside, { recursive: true, force: true });
    });

    it('enforces the per-file and per-workspace size caps', async () => {
      await expect(workspaceWrite.run({ path: 'big', content: 'x'.repeat(101) }, ctx)).rejects.toThrow(/file limit/);
      await workspaceWrite.run({ path: 'a', content: 'x'.repeat(100) }, ctx);
      await expect(workspaceWrite.run({ path: 'b', content: 'x'.repeat(60) }, ctx)).rejects.toThrow(/workspace would hold/);
      // Replacing a file counts only the difference.
      await workspaceWrite.run({ path: 'a', content: 'y'.repeat(90) }, ctx);
      await expect(workspaceRead.run({ path: 'missing' }, ctx)).rejects.toThrow(/no such file/);
    });

    it('counts every file toward the caps, temporary names included, and keeps them out of the model’s reach', async () => {
      // A leftover temporary file still takes space: it counts.
      await ctx.workspace.ensure();
      fs.writeFileSync(path.join(ctx.workspace.root, '.longhaul-tmp-left-over'), 'x'.repeat(100));
      await expect(workspaceWrite.run({ path: 'b', content: 'x'.repeat(60) }, ctx)).rejects.toThrow(/workspace would hold 160 bytes/);
      expect((await workspaceList.run({}, ctx)) as unknown).toEqual({ files: [{ path: '.longhaul-tmp-left-over', bytes: 100 }] });
      // The model cannot write under the reserved names, to dodge the count or clobber a write in progress.
      await expect(workspaceWrite.run({ path: '.longhaul-tmp-x', content: 'x' }, ctx)).rejects.toThrow(/reserved/);
      await expect(workspaceWrite.run({ path: 'd/.longhaul-tmp-x/y', content: 'x' }, ctx)).rejects.toThrow(/reserved/);
    });

    it.each(['.', './', 'a/..'])('refuses to write the workspace folder itself (%j), leaving nothing outside it', async (p) => {
      await expect(workspaceWrite.run({ path: p, content: 'x' }, ctx)).rejects.toThrow(/not the workspace itself/);
      const parent = path.join(dataDir, 'workspaces');
      expect(fs.existsSync(parent) ? fs.readdirSync(parent).filter((n) => n !== 'run_tools') : []).toEqual([]);
    });
  });

  describe('http_request', () => {
    const server = new CountingServer();
    beforeAll(() => server.start());
    afterAll(() => server.stop());

    it('sends Idempotency-Key on writes only, and reports status, headers and body', async () => {
      const tool = createHttpRequestTool({ allowedHosts: [server.host], timeoutSec: 5, maxResponseBytes: 1000 });
      const post = (await tool.run({ method: 'POST', url: `${server.url}/things`, body: '{}' }, ctx)) as { status: number; headers: Record<string, string>; body: string };
      expect(post.status).toBe(201);
      expect(post.headers['content-type']).toBe('application/json');
      expect(JSON.parse(post.body)).toMatchObject({ ok: true });
      await tool.run({ method: 'GET', url: `${server.url}/things` }, ctx);
      await tool.run({ method: 'DELETE', url: `${server.url}/things/1`, headers: { 'Idempotency-Key': 'forged' } }, ctx);
      // A GET that overrides its method is a write: re-sent after a crash, it must be recognisable as one.
      await tool.run({ method: 'GET', url: `${server.url}/things`, headers: { 'X-HTTP-Method-Override': 'POST' } }, ctx);
      expect(server.requests.map((r) => [r.method, r.idempotencyKey])).toEqual([
        ['POST', ctx.idempotencyKey],
        ['GET', undefined],
        ['DELETE', ctx.idempotencyKey],
        ['GET', ctx.idempotencyKey],
      ]);
    });

    it('is a read for GET and HEAD, a write otherwise', () => {
      const registry = new ToolRegistry([createHttpRequestTool({ allowedHosts: [], timeoutSec: 5, maxResponseBytes: 10 })]);
      expect(registry.riskOf('http_request', { method: 'GET', url: 'http://x.test/' })).toBe('read');
      expect(registry.riskOf('http_request', { method: 'HEAD', url: 'http://x.test/' })).toBe('read');
      expect(registry.riskOf('http_request', { method: 'POST', url: 'http://x.test/' })).toBe('write');
      expect(registry.riskOf('http_request', { method: 'BREW', url: 'http://x.test/' })).toBe('irreversible');
    });

    it('rates a request by the method an override header asks for, not only by its own', () => {
      const registry = new ToolRegistry([createHttpRequestTool({ allowedHosts: [], timeoutSec: 5, maxResponseBytes: 10 })]);
      const get = (headers: Record<string, string>) => registry.riskOf('http_request', { method: 'GET', url: 'http://x.test/', headers });
      expect(get({ 'X-HTTP-Method-Override': 'DELETE' })).toBe('write');
      expect(get({ 'x-http-method': 'put' })).toBe('write');
      expect(get({ 'X-Method-Override': ' patch ' })).toBe('write');
      expect(get({ 'X-HTTP-Method-Override': 'PURGE' })).toBe('irreversible');
      expect(get({ 'X-HTTP-Method-Override': 'GET', 'X-Method-Override': 'POST' })).toBe('write');
      expect(get({ 'X-HTTP-Method-Override': 'HEAD' })).toBe('read');
      expect(get({ Accept: 'application/json' })).toBe('read');
    });

    it('only reaches allowed hosts (none when unset)', async () => {
      const none = createHttpRequestTool({ allowedHosts: [], timeoutSec: 5, maxResponseBytes: 1000 });
      await expect(none.run({ method: 'GET', url: `${server.url}/` }, ctx)).rejects.toThrow(/not in HTTP_TOOL_ALLOWED_HOSTS/);
      const other = createHttpRequestTool({ allowedHosts: ['example.com'], timeoutSec: 5, maxResponseBytes: 1000 });
      await expect(other.run({ method: 'GET', url: `${server.url}/` }, ctx)).rejects.toThrow(/not in HTTP_TOOL_ALLOWED_HOSTS/);
      const byName = createHttpRequestTool({ allowedHosts: ['127.0.0.1'], timeoutSec: 5, maxResponseBytes: 1000 });
      expect(((await byName.run({ method: 'GET', url: `${server.url}/` }, ctx)) as { status: number }).status).toBe(200);
    });

    it('is re-sent after a crash only to a host the operator says honours Idempotency-Key', () => {
      const registry = new ToolRegistry([createHttpRequestTool({ allowedHosts: ['api.example', 'hooks.example:8443'], idempotentHosts: ['api.example'], timeoutSec: 5, maxResponseBytes: 10 })]);
      const post = (url: string) => registry.isIdempotent('http_request', { method: 'POST', url, body: '{}' });
      expect(post('https://api.example/charges')).toBe(true);
      expect(post('https://hooks.example:8443/notify')).toBe(false);
      // Unset: no host is trusted to deduplicate, so an interrupted request goes to a human.
      const unset = new ToolRegistry([createHttpRequestTool({ allowedHosts: ['api.example'], timeoutSec: 5, maxResponseBytes: 10 })]);
      expect(unset.isIdempotent('http_request', { method: 'POST', url: 'https://api.example/charges' })).toBe(false);
      // Anything unsure says no: an input that does not parse, a tool not known here.
      expect(registry.isIdempotent('http_request', { method: 'POST', url: 'not a url' })).toBe(false);
      expect(registry.isIdempotent('no_such_tool', {})).toBe(false);
    });

    it('truncates long bodies', async () => {
      const tool = createHttpRequestTool({ allowedHosts: [server.host], timeoutSec: 5, maxResponseBytes: 10 });
      const res = (await tool.run({ method: 'GET', url: `${server.url}/long/path/that/makes/a/long/body` }, ctx)) as { body: string; truncated?: boolean };
      expect(res.body).toHaveLength(10);
      expect(res.truncated).toBe(true);
    });
  });

  describe('registry', () => {
    it('describes tools to the model as JSON Schema', () => {
      const registry = new ToolRegistry([workspaceWrite]);
      expect(registry.schemas()).toEqual([
        {
          name: 'workspace_write',
          description: expect.any(String),
          input_schema: expect.objectContaining({
            type: 'object',
            properties: { path: expect.objectContaining({ type: 'string' }), content: expect.objectContaining({ type: 'string' }) },
            required: ['path', 'content'],
            additionalProperties: false,
          }),
        },
      ]);
    });

    it('classes a tool it does not know as the riskiest, never as a read', () => {
      const registry = new ToolRegistry([workspaceWrite]);
      expect(registry.riskOf('mcp__files__delete_record', { id: '1' })).toBe('irreversible');
      expect(registry.riskOf('made_up', {})).toBe('irreversible');
      expect(registry.riskOf('workspace_write', { path: 'a', content: 'b' })).toBe('write');
    });

    it('rejects duplicate and malformed tool names', () => {
      expect(() => new ToolRegistry([workspaceWrite, workspaceWrite])).toThrow(/duplicate/);
      expect(() => new ToolRegistry([{ ...workspaceWrite, name: 'bad name' }])).toThrow(/invalid tool name/);
    });
  });
});
