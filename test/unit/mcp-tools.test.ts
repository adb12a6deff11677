/**
 * How MCP tools are named, which risk their annotations (or the operator's `risk`) give them, what the model
 * reads back, and how a worker lists a real SDK server's tools when the server misbehaves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadMcpTools, mcpToolIdempotent, mcpToolName, mcpToolRisk, resultText, riskFromAnnotations } from '../../activities/tools/mcp-tools';
import { ToolRegistry } from '../../activities/tools/registry';
import { createLogger } from '../../shared/logger';
import { MCP_MAX_LIST_PAGES, MCP_MAX_TOOLS_PER_SERVER, McpPool } from '../../shared/mcp/mcp-pool';
import { startHttpMcpServer } from '../support/mcp-test-server';

describe('MCP tools as Longhaul tools', () => {
  it('names them mcp__<server>__<tool>', () => {
    expect(mcpToolName('crm', 'save_note')).toBe('mcp__crm__save_note');
  });

  it.each([
    [{ readOnlyHint: true }, 'read'],
    [{ readOnlyHint: true, destructiveHint: true }, 'read'],
    [{ destructiveHint: true }, 'irreversible'],
    [{ readOnlyHint: false, destructiveHint: false }, 'write'],
    [undefined, 'write'],
  ] as const)('takes risk from annotations %j → %s', (annotations, risk) => {
    expect(riskFromAnnotations(annotations)).toBe(risk);
  });

  it('reads text parts as text, names other parts, and falls back to structured content', () => {
    expect(resultText({ content: [{ type: 'text', text: 'a' }, { type: 'image', data: 'AAAA', mimeType: 'image/png' }, { type: 'text', text: 'b' }] })).toBe('a\n[image image/png]\nb');
    expect(resultText({ content: [], structuredContent: { ok: true } })).toBe('{\n  "ok": true\n}');
  });

  it('lets the operator’s risk win over annotations, for a whole server or one tool', () => {
    const claimsRead = { name: 'purge_cache', inputSchema: { type: 'object' as const }, annotations: { readOnlyHint: true } };
    expect(mcpToolRisk(claimsRead, undefined)).toBe('read');
    expect(mcpToolRisk(claimsRead, 'irreversible')).toBe('irreversible');
    expect(mcpToolRisk(claimsRead, { purge_cache: 'irreversible' })).toBe('irreversible');
    expect(mcpToolRisk(claimsRead, { other: 'irreversible' })).toBe('read');
  });

  it('reads only the override’s own keys: a tool named like an Object property gets its annotations’ risk', () => {
    for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(mcpToolRisk({ name, inputSchema: { type: 'object' as const }, annotations: { readOnlyHint: true } }, { purge_cache: 'irreversible' })).toBe('read');
    }
  });

  it('does not believe idempotentHint once the operator has set the tool’s risk', () => {
    const claimsIdempotent = { name: 'save_note', inputSchema: { type: 'object' as const }, annotations: { idempotentHint: true } };
    expect(mcpToolIdempotent(claimsIdempotent, undefined)).toBe(true);
    expect(mcpToolIdempotent(claimsIdempotent, { other: 'write' })).toBe(true);
    expect(mcpToolIdempotent(claimsIdempotent, { save_note: 'write' })).toBe(false);
    expect(mcpToolIdempotent(claimsIdempotent, 'write')).toBe(false);
    expect(mcpToolIdempotent({ ...claimsIdempotent, name: 'constructor' }, { save_note: 'write' })).toBe(true);
  });

  describe('listing a real server’s tools', () => {
    const state = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-mcp-list-'));
    let good: Awaited<ReturnType<typeof startHttpMcpServer>>;
    let bad: Awaited<ReturnType<typeof startHttpMcpServer>>;
    let many: Awaited<ReturnType<typeof startHttpMcpServer>>;
    const lines: Record<string, unknown>[] = [];
    const logger = createLogger({ level: 'info', format: 'json', destination: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) } });

    beforeAll(async () => {
      good = await startHttpMcpServer(state);
      bad = await startHttpMcpServer(state, 0, { misbehave: true });
      many = await startHttpMcpServer(state, 0, { listed: MCP_MAX_TOOLS_PER_SERVER + 150 });
    });
    afterAll(async () => {
      await good.stop();
      await bad.stop();
      await many.stop();
      fs.rmSync(state, { recursive: true, force: true });
    });

    it('bounds endless pages, skips a name listed twice and task-only tools, and the registry still builds', async () => {
      const pool = new McpPool({ bad: { url: bad.url } }, logger, { name: 'test', version: '0' });
      try {
        const tools = await loadMcpTools(pool, logger, { timeoutMs: 5000 });
        const names = tools.map((t) => t.name);
        expect(names.filter((n) => n === 'mcp__bad__lookup')).toHaveLength(1);
        expect(names).not.toContain('mcp__bad__background_job');
        expect(names).toContain('mcp__bad__maybe_task');
        expect(names.filter((n) => n.startsWith('mcp__bad__filler_'))).toHaveLength(MCP_MAX_LIST_PAGES - 1);
        expect(() => new ToolRegistry(tools)).not.toThrow();
        const said = lines.map((l) => String(l.msg));
        expect(said).toEqual(expect.arrayContaining([expect.stringMatching(/more than 20 pages/), expect.stringMatching(/listed more than once/), expect.stringMatching(/only as MCP tasks/)]));
        expect(said.filter((m) => /only as MCP tasks/.test(m))).toHaveLength(1);
      } finally {
        await pool.close();
      }
    });

    it('gives a tool the risk the operator configured for it or its server', async () => {
      const pool = new McpPool(
        { plain: { url: good.url }, tool: { url: good.url, risk: { purge_cache: 'irreversible' } }, server: { url: good.url, risk: 'irreversible' } },
        logger,
        { name: 'test', version: '0' },
      );
      try {
        const registry = new ToolRegistry(await loadMcpTools(pool, logger, { timeoutMs: 5000 }));
        expect(registry.riskOf('mcp__plain__purge_cache', {})).toBe('read');
        expect(registry.riskOf('mcp__tool__purge_cache', {})).toBe('irreversible');
        expect(registry.riskOf('mcp__tool__lookup', {})).toBe('read');
        expect(registry.riskOf('mcp__server__lookup', {})).toBe('irreversible');
        // save_note claims idempotentHint: believed only where the operator has not set its risk.
        expect(registry.get('mcp__plain__save_note')?.idempotent).toBe(true);
        expect(registry.get('mcp__tool__save_note')?.idempotent).toBe(true);
        expect(registry.get('mcp__server__save_note')?.idempotent).toBe(false);
      } finally {
        await pool.close();
      }
    });

    it('warns once, at load, of per-tool risk entries naming no tool the server lists', async () => {
      const pool = new McpPool({ typo: { url: good.url, risk: { purge_cach: 'irreversible', delete_record: 'irreversible' } } }, logger, { name: 'test', version: '0' });
      const before = lines.length;
      try {
        const registry = new ToolRegistry(await loadMcpTools(pool, logger, { timeoutMs: 5000 }));
        expect(registry.riskOf('mcp__typo__purge_cache', {})).toBe('read'); // the misspelt entry applies to nothing
        const warned = lines.slice(before).filter((l) => /does not list/.test(String(l.msg)));
        expect(warned).toEqual([expect.objectContaining({ server: 'typo', tools: ['purge_cach'] })]);
      } finally {
        await pool.close();
      }
    });

    it(`takes at most ${MCP_MAX_TOOLS_PER_SERVER} tools from one server, and says so`, async () => {
      const pool = new McpPool({ many: { url: many.url } }, logger, { name: 'test', version: '0' });
      const before = lines.length;
      try {
        const tools = await loadMcpTools(pool, logger, { timeoutMs: 5000 });
        expect(tools.length).toBe(MCP_MAX_TOOLS_PER_SERVER);
        expect(tools.at(-1)?.name).toBe(`mcp__many__tool_${MCP_MAX_TOOLS_PER_SERVER - 1}`);
        expect(lines.slice(before).map((l) => String(l.msg))).toContainEqual(expect.stringMatching(`more than ${MCP_MAX_TOOLS_PER_SERVER} tools`));
      } finally {
        await pool.close();
      }
    });
  });
});
