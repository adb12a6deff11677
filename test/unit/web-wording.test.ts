/**
 * How the web UI words capacity and caching (pure functions of web/src): a throttled run, why a
 * model call is retried, and the share of input the prompt cache served.
 */
import { entries } from '../../web/src/timeline';
import { formatDuration, formatInput } from '../../web/src/format';
import { isThrottled } from '../../contract/run';
import type { RunEvent } from '../../contract/events';

const at = '2026-11-22T10:00:00.000Z';

describe('the web UI’s words for capacity and caching', () => {
  it('says why a model call is retried and how long a run waits for capacity', () => {
    const events: RunEvent[] = [
      { seq: 1, at, type: 'llm.retry', data: { turn: 3, attempt: 2, error: { code: 'overloaded', status: 529, message: 'Overloaded' } } },
      { seq: 2, at, type: 'model.throttled', data: { turn: 3, waitMs: 12_400, limit: 'input_tpm' } },
      { seq: 3, at, type: 'llm.retry', data: { turn: 4, attempt: 2 } },
    ];
    const notes = entries({ events, lastSeq: 3, stream: null }).map((e) => (e.kind === 'note' ? e.text : e.kind));
    expect(notes).toEqual([
      'Retrying the model call of turn 3 (attempt 2): 529 overloaded — Overloaded',
      'Waiting 12s for model capacity (input tokens per minute) before turn 3',
      'Retrying the model call of turn 4 (attempt 2)',
    ]);
  });

  it('shows a running run waiting for capacity as throttled, and nothing else', () => {
    expect(isThrottled({ status: 'running', waitingFor: 'capacity' })).toBe(true);
    expect(isThrottled({ status: 'running', waitingFor: null })).toBe(false);
    expect(isThrottled({ status: 'paused', waitingFor: 'capacity' })).toBe(false);
    expect(isThrottled({ status: 'paused', waitingFor: 'budget' })).toBe(false);
  });

  it('counts all input and says how much of it the cache served', () => {
    expect(formatInput({ inputTokens: 1000, outputTokens: 5, costUsd: 0 })).toBe('1.0k in');
    expect(formatInput({ inputTokens: 500, outputTokens: 5, costUsd: 0, cacheReadTokens: 8500, cacheWriteTokens: 1000 })).toBe('10.0k in (85% cached)');
  });

  const t = (sec: number) => new Date(Date.UTC(2026, 10, 22, 10, 0, sec)).toISOString();
  const call = { id: 'toolu_1', name: 'workspace_write', input: {}, risk: 'write' as const };

  it('puts a time on every entry, a duration on each model call and tool, and names long silences', () => {
    const events: RunEvent[] = [
      { seq: 1, at: t(0), type: 'run.started', data: { model: 'm', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, approvals: 'none' } },
      { seq: 2, at: t(3), type: 'llm.message', data: { turn: 1, model: 'm', text: 'writing', toolCalls: [call], stopReason: 'tool_use', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 } } },
      { seq: 3, at: t(4), type: 'tool.started', data: { turn: 1, toolUseId: 'toolu_1', name: 'workspace_write', input: {}, risk: 'write' } },
      { seq: 4, at: t(5), type: 'tool.completed', data: { turn: 1, toolUseId: 'toolu_1', name: 'workspace_write', output: 'ok', bytes: 2, truncated: false } },
      // A worker died; 49 seconds later the model call was retried elsewhere.
      { seq: 5, at: t(54), type: 'llm.retry', data: { turn: 2, attempt: 2, error: { code: 'interrupted', message: 'x' } } },
    ];
    const out = entries({ events, lastSeq: 5, stream: null });
    expect(out.every((e) => e.at !== null)).toBe(true);
    const assistant = out.find((e) => e.kind === 'assistant')!;
    expect(assistant.kind === 'assistant' && [assistant.ms, assistant.tools[0]!.startedAt, assistant.tools[0]!.endedAt]).toEqual([3000, t(4), t(5)]);
    const gap = out.find((e) => e.kind === 'gap');
    expect(gap).toMatchObject({ ms: 49_000, cause: 'a worker stopped mid-step; the step was retried elsewhere' });
    expect(formatDuration(49_000)).toBe('49 s');
    expect(formatDuration(192_000)).toBe('3 min 12 s');
  });

  it('shows nothing still running or waiting once the run has ended', () => {
    const events: RunEvent[] = [
      { seq: 1, at: t(0), type: 'llm.message', data: { turn: 1, model: 'm', text: '', toolCalls: [call], stopReason: 'tool_use', usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 } } },
      { seq: 2, at: t(1), type: 'tool.started', data: { turn: 1, toolUseId: 'toolu_1', name: 'workspace_write', input: {}, risk: 'write' } },
      { seq: 3, at: t(2), type: 'run.cancelled', data: { turn: 1 } },
    ];
    const out = entries({ events, lastSeq: 3, stream: { turn: 2, text: 'partial' } });
    const assistant = out.find((e) => e.kind === 'assistant');
    expect(assistant?.kind === 'assistant' && assistant.tools[0]!.status).toBe('stopped');
    expect(out.filter((e) => e.kind === 'assistant')).toHaveLength(1); // no half-written message after the end
  });

  it('closes requests still open when the run ends, and leaves decided ones as they were', () => {
    const approval = (id: string) => ({ approvalId: id, kind: 'tool' as const, tool: 'workspace_write', input: {}, risk: 'write' as const, reason: 'r', expiresAt: t(60) });
    const events: RunEvent[] = [
      { seq: 1, at: t(0), type: 'approval.requested', data: approval('apr_1') },
      { seq: 2, at: t(1), type: 'approval.decided', data: { approvalId: 'apr_1', kind: 'tool', tool: 'workspace_write', decision: 'approved', by: 'alice', channel: 'web', comment: null } },
      { seq: 3, at: t(2), type: 'approval.requested', data: approval('apr_2') },
      { seq: 4, at: t(3), type: 'input.requested', data: { requestId: 'inp_1', question: 'Which?', expiresAt: t(60) } },
    ];
    const open = entries({ events, lastSeq: 4, stream: null });
    expect(open.flatMap((e) => (e.kind === 'approval' ? [e.outcome?.decision ?? 'pending'] : e.kind === 'question' ? [e.closed ? 'closed' : 'pending'] : []))).toEqual(['approved', 'pending', 'pending']);
    const ended = entries({ events: [...events, { seq: 5, at: t(4), type: 'run.cancelled', data: { turn: 1 } }], lastSeq: 5, stream: null });
    expect(ended.flatMap((e) => (e.kind === 'approval' ? [e.outcome?.decision] : e.kind === 'question' ? [e.closed ? 'closed' : 'pending'] : []))).toEqual(['approved', 'closed', 'closed']);
  });

  it('says in words when a run moved to its agent’s current version', () => {
    const events: RunEvent[] = [{ seq: 1, at: t(0), type: 'run.upgraded', data: { agent: 'invoice_checker', from: '0123456789abcdef', to: 'fedcba9876543210', turn: 4 } }];
    const notes = entries({ events, lastSeq: 1, stream: null }).map((e) => (e.kind === 'note' ? e.text : e.kind));
    expect(notes).toEqual(['Upgraded invoice_checker from version 01234567 to fedcba98 at turn 4']);
  });
});
