/**
 * How the web UI words capacity and caching (pure functions of web/src): a throttled run, why a
 * model call is retried, and the share of input the prompt cache served.
 */
import { entries } from '../../web/src/timeline';
import { formatInput } from '../../web/src/format';
import { CAPACITY_WAIT_DETAIL, isThrottled } from '../../contract/run';
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
    expect(isThrottled({ status: 'running', statusDetail: CAPACITY_WAIT_DETAIL })).toBe(true);
    expect(isThrottled({ status: 'running', statusDetail: null })).toBe(false);
    expect(isThrottled({ status: 'paused', statusDetail: CAPACITY_WAIT_DETAIL })).toBe(false);
  });

  it('counts all input and says how much of it the cache served', () => {
    expect(formatInput({ inputTokens: 1000, outputTokens: 5, costUsd: 0 })).toBe('1.0k in');
    expect(formatInput({ inputTokens: 500, outputTokens: 5, costUsd: 0, cacheReadTokens: 8500, cacheWriteTokens: 1000 })).toBe('10.0k in (85% cached)');
  });
});
