/**
 * MCP tools end to end, against real MCP servers written with the SDK — one over stdio (its own
 * process), one over Streamable HTTP: their tools join the registry as mcp__<server>__<tool> with
 * their schemas; risk comes from annotations (a destructive tool waits for approval); each call
 * carries its ledger key in `_meta`; a server dying mid-call is handled like any tool under the
 * ledger (idempotent: re-sent with the same key; otherwise a human decides); and the worker's
 * pooled connection comes back after the server dies.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ledgerKeys } from '../../contract/keys';
import { FakeAnthropic, type FakeRequest } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { readCalls, startHttpMcpServer } from '../support/mcp-test-server';
import { waitFor } from '../support/wait';

const SERVER_SCRIPT = path.join(__dirname, '..', 'support', 'mcp-test-server.ts');

describe('MCP tools', () => {
  const fake = new FakeAnthropic();
  const stdioState = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-mcp-stdio-'));
  const httpState = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-mcp-http-'));
  let httpServer: Awaited<ReturnType<typeof startHttpMcpServer>>;
  let h: Harness;
  let toolsSeen: FakeRequest['body']['tools'] = [];

  beforeAll(async () => {
    await fake.start();
    httpServer = await startHttpMcpServer(httpState);
    h = await startHarness({
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        MCP_SERVERS: JSON.stringify({
          files: { command: process.execPath, args: ['--import', 'tsx', SERVER_SCRIPT, '--stdio', stdioState] },
          crm: { url: httpServer.url },
        }),
      },
    });
  });
  afterAll(async () => {
    await h.close(); // closes the worker's MCP connections: the stdio server process ends with it
    await httpServer.stop();
    await fake.stop();
    fs.rmSync(stdioState, { recursive: true, force: true });
    fs.rmSync(httpState, { recursive: true, force: true });
  });

  /** A run whose first turn calls `calls`, then answers with the tool results. */
  function script(marker: string, calls: { name: string; input: Record<string, unknown> }[]) {
    fake.script(marker, (req) => {
      toolsSeen = req.body.tools;
      return req.assistantTurns === 0 ? { toolUses: calls } : { text: `Results: ${req.lastToolResults.map((r) => r.content).join(' | ')}` };
    });
  }

  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const stdioPids = () =>
    fs
      .readdirSync(stdioState)
      .filter((f) => f.startsWith('stdio-'))
      .map((f) => Number(/stdio-(\d+)\.pid/.exec(f)![1]));

  it('offers both servers’ tools with their schemas, and calls them with the ledger key in _meta', async () => {
    script('[mcp-basic]', [
      { name: 'mcp__files__lookup', input: { city: 'Lisbon' } },
      { name: 'mcp__crm__save_note', input: { text: 'call Ana' } },
    ]);
    const id = await h.createRun({ goal: 'use MCP [mcp-basic]', approvals: 'none' });
    const run = await h.waitForStatus(id, 'completed');
    expect(run.result).toBe('Results: Sunny in Lisbon | Saved: call Ana');

    const names = (toolsSeen ?? []).map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['mcp__files__lookup', 'mcp__files__delete_record', 'mcp__crm__save_note', 'mcp__crm__append_log']));
    const lookup = (toolsSeen as unknown as { name: string; input_schema: { properties: Record<string, unknown>; required: string[] } }[]).find((t) => t.name === 'mcp__files__lookup')!;
    expect(lookup.input_schema.properties.city).toMatchObject({ type: 'string' });
    expect(lookup.input_schema.required).toEqual(['city']);

    const started = (await h.events(id)).filter((e) => e.type === 'tool.started');
    const [lookupCall, noteCall] = started.map((e) => (e.type === 'tool.started' ? e.data : undefined)!);
    expect(lookupCall!.risk).toBe('read');
    expect(noteCall!.risk).toBe('write');
    expect(readCalls(stdioState).find((c) => c.tool === 'lookup')!.key).toBe(ledgerKeys.toolCall(id, 1, lookupCall!.toolUseId));
    expect(readCalls(httpState).find((c) => c.tool === 'save_note')!.key).toBe(ledgerKeys.toolCall(id, 1, noteCall!.toolUseId));
  });

  it('makes a destructive tool wait for approval', async () => {
    script('[mcp-destroy]', [{ name: 'mcp__files__delete_record', input: { id: 'rec-7' } }]);
    const id = await h.createRun({ goal: 'clean up [mcp-destroy]', approvals: 'write' });
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    expect(waiting.pendingApprovals[0]).toMatchObject({ tool: 'mcp__files__delete_record', risk: 'irreversible', input: { id: 'rec-7' } });
    expect(readCalls(stdioState).some((c) => c.tool === 'delete_record')).toBe(false);
    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    expect((await h.waitForStatus(id, 'completed')).result).toBe('Results: Deleted rec-7');
  });

  it('asks a human before re-running a non-idempotent call whose server died mid-call, then runs it on a new server', async () => {
    const pidsBefore = stdioPids();
    fs.writeFileSync(path.join(stdioState, 'crash-append_log'), '');
    script('[mcp-crash]', [{ name: 'mcp__files__append_log', input: { line: 'paid invoice 42' } }]);
    const id = await h.createRun({ goal: 'log it [mcp-crash]', approvals: 'none' });
    const waiting = await h.waitForStatus(id, 'waiting_approval', { timeoutMs: 60_000 });
    expect(waiting.pendingApprovals[0]).toMatchObject({ kind: 'effect_in_doubt', tool: 'mcp__files__append_log' });
    // The server died, not a worker: the approver is told which.
    expect(waiting.pendingApprovals[0].reason).toBe('The system behind mcp__files__append_log went away while the call was running, so it may or may not have taken effect. Approve to run it again; reject to skip it.');
    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    expect((await h.waitForStatus(id, 'completed')).result).toBe('Results: Appended: paid invoice 42');

    const calls = readCalls(stdioState).filter((c) => c.tool === 'append_log');
    expect(calls.map((c) => c.phase)).toEqual(['crashed', 'done']);
    expect(calls[0]!.key).toBe(calls[1]!.key); // the same idempotency key both times
    expect(calls[1]!.pid).not.toBe(calls[0]!.pid); // the pool started a new server after the crash
    expect(stdioPids().length).toBeGreaterThan(pidsBefore.length);
  });

  it('re-sends an idempotent call with the same key when the HTTP connection is cut mid-call, asking no one', async () => {
    fs.writeFileSync(path.join(httpState, 'crash-save_note'), '');
    script('[mcp-cut]', [{ name: 'mcp__crm__save_note', input: { text: 'renewal due' } }]);
    const id = await h.createRun({ goal: 'note it [mcp-cut]', approvals: 'none' });
    expect((await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 })).result).toBe('Results: Saved: renewal due');
    const calls = readCalls(httpState).filter((c) => c.tool === 'save_note' && c.args.text === 'renewal due');
    expect(calls.map((c) => c.phase)).toEqual(['crashed', 'done']);
    expect(new Set(calls.map((c) => c.key)).size).toBe(1);
    expect((await h.events(id)).some((e) => e.type === 'approval.requested')).toBe(false);
  });

  it('reconnects to a stdio server killed between calls, and to an HTTP server that restarted', async () => {
    // The server running now: the earlier test's crashed one left its pid file too, and file names sort as text
    // ("stdio-9876" after "stdio-10234"), so the last name is not always the live server.
    const [pid] = stdioPids().filter(alive);
    expect(pid).toBeDefined();
    process.kill(pid!, 'SIGKILL');
    await waitFor(() => !alive(pid!), { what: 'the stdio MCP server to die' });
    const port = httpServer.port;
    await httpServer.stop();
    httpServer = await startHttpMcpServer(httpState, port);

    script('[mcp-again]', [
      { name: 'mcp__files__lookup', input: { city: 'Porto' } },
      { name: 'mcp__crm__save_note', input: { text: 'again' } },
    ]);
    const id = await h.createRun({ goal: 'once more [mcp-again]', approvals: 'none' });
    expect((await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 })).result).toBe('Results: Sunny in Porto | Saved: again');
    const porto = readCalls(stdioState).find((c) => c.args.city === 'Porto')!;
    expect(porto.pid).not.toBe(pid);
  });
});
