/**
 * A run's delegations as the web UI's timeline shows them (pure functions of web/src/timeline.ts): one entry per
 * child run from its `subagent.started`, brought up to date (status, spend, why it failed) by the parent's
 * `subagent.completed` / `subagent.failed`, and still running while the parent has said nothing of its end.
 */
import { entries, type SubagentEntry } from '../../web/src/timeline';
import type { RunEvent } from '../../contract/events';

const at = '2026-12-06T04:00:00.000Z';
const about = (toolUseId: string, childRunId: string, agent: string) => ({ turn: 1, toolUseId, childRunId, agent });

describe('the web UI’s timeline of sub-agents', () => {
  it('has one entry per child run, updated by its ending', () => {
    const events: RunEvent[] = [
      { seq: 1, at, type: 'subagent.started', data: { ...about('t1', 'run_sub_a', 'researcher'), agentVersion: 'v1' } },
      { seq: 2, at, type: 'subagent.started', data: { ...about('t2', 'run_sub_b', 'writer'), agentVersion: 'v1' } },
      { seq: 3, at, type: 'subagent.started', data: { ...about('t3', 'run_sub_c', 'writer'), agentVersion: 'v1' } },
      { seq: 4, at, type: 'subagent.completed', data: { ...about('t1', 'run_sub_a', 'researcher'), costUsd: 0.25 } },
      { seq: 5, at, type: 'subagent.failed', data: { ...about('t2', 'run_sub_b', 'writer'), status: 'cancelled', error: 'it was cancelled', costUsd: 0.1 } },
    ];
    const delegations = entries({ events, lastSeq: 5, stream: null }).filter((e): e is SubagentEntry & { at: string } => e.kind === 'subagent');
    expect(delegations.map(({ childRunId, agent, status, costUsd, error }) => ({ childRunId, agent, status, costUsd, error }))).toEqual([
      { childRunId: 'run_sub_a', agent: 'researcher', status: 'completed', costUsd: 0.25, error: null },
      { childRunId: 'run_sub_b', agent: 'writer', status: 'cancelled', costUsd: 0.1, error: 'it was cancelled' },
      { childRunId: 'run_sub_c', agent: 'writer', status: 'running', costUsd: null, error: null },
    ]);
    expect(new Set(delegations.map((d) => d.key)).size).toBe(3);
  });
});
