import { RunState } from '../../workflows/run-state';
import type { RunInput } from '../../contract/run';

const input: RunInput = {
  runId: 'run_s',
  owner: 'u',
  model: 'demo',
  approvals: 'write',
  approvalTimeoutSec: 60,
  limits: { maxSteps: 10, maxCostUsd: 1, maxDurationSec: 60 },
  settings: {
    heartbeatTimeoutSec: 10,
    modelCallTimeoutSec: 60,
    toolCallTimeoutSec: 60,
    maxAttempts: 3,
    segmentMaxTurns: 10,
    maxSegments: 3,
    loopDetectionThreshold: 3,
    costCheckpointUsd: 0,
    maxConcurrentPerUser: 5,
    progressStampSec: 60,
  },
};

describe('RunState', () => {
  it('detects the same failing call repeated, and forgets on success or a different call', () => {
    const s = new RunState(input);
    expect(s.noteToolCall('a', true, 3)).toBe(false);
    expect(s.noteToolCall('a', true, 3)).toBe(false);
    expect(s.noteToolCall('b', true, 3)).toBe(false);
    expect(s.noteToolCall('b', true, 3)).toBe(false);
    expect(s.noteToolCall('b', false, 3)).toBe(false);
    expect(s.noteToolCall('b', true, 3)).toBe(false);
    expect(s.noteToolCall('b', true, 3)).toBe(false);
    expect(s.noteToolCall('b', true, 3)).toBe(true);
  });

  it('lets only the first decision on a pending approval count', () => {
    const s = new RunState(input);
    s.pendingApprovals.set('ap1', { approvalId: 'ap1', kind: 'tool', tool: 't', input: {}, risk: 'write', reason: '', requestedAt: '', expiresAt: '' });
    expect(s.recordDecision({ approvalId: 'nope', decision: 'approve', by: 'x', channel: 'api' })).toBe(false);
    expect(s.recordDecision({ approvalId: 'ap1', decision: 'reject', by: 'x', channel: 'api' })).toBe(true);
    expect(s.recordDecision({ approvalId: 'ap1', decision: 'approve', by: 'y', channel: 'slack' })).toBe(false);
    expect(s.decisionFor('ap1')!.decision).toBe('reject');
  });

  it('carries counters and usage into the next segment', () => {
    const s = new RunState(input);
    s.turn = 7;
    s.addUsage({ inputTokens: 5, outputTokens: 2, costUsd: 0.25 });
    s.startedAtMs = 1000;
    const next = new RunState({ ...input, carried: s.carry() });
    expect(next.progress()).toMatchObject({ status: 'running', turn: 7, segment: 1, usage: { inputTokens: 5, outputTokens: 2, costUsd: 0.25 } });
    expect(next.startedAtMs).toBe(1000);
  });

  it("counts its tree's spend from answers and children's endings, never lowered by a stale settle, and carries it into the next segment", () => {
    const s = new RunState(input);
    expect(s.carry().treeCostUsd).toBeUndefined(); // a run with no tree carries none
    s.addAnswer({ usage: { inputTokens: 1, outputTokens: 1, costUsd: 0.01 }, treeCostUsd: 0.3 });
    s.takeTreeSpend(0.5);
    s.takeTreeSpend(0.4); // read before the one above, reaching the workflow after it
    expect(s.countedCostUsd).toBeCloseTo(0.5);
    s.addUsage({ inputTokens: 1, outputTokens: 1, costUsd: 0.02 }); // the relay's summary, the run's own
    const next = new RunState({ ...input, carried: s.carry() });
    expect(next.treeCostUsd).toBeCloseTo(0.52);
    expect(next.countedCostUsd).toBeCloseTo(0.52);
  });

  it('carries follow-ups not taken in yet into the next segment, which takes them in at its first turn boundary', () => {
    const s = new RunState(input);
    expect(s.carry()).not.toHaveProperty('followUpsWaiting'); // none waiting: the input as before
    s.followUpsWaiting = true; // signalled during the hand-off
    expect(new RunState({ ...input, carried: s.carry() }).followUpsWaiting).toBe(true);
    // The replay of a history recorded before follow-ups rode the relay: left behind, as that history did.
    expect(s.carry({ followUps: false })).not.toHaveProperty('followUpsWaiting');
    expect(new RunState({ ...input, carried: s.carry({ followUps: false }) }).followUpsWaiting).toBe(false);
  });

  it('says what it waits for with the status it waits in, and nothing once it steps again', () => {
    const s = new RunState(input);
    s.setStatus('running', 'waiting for model capacity', 'capacity');
    expect(s.progress()).toMatchObject({ status: 'running', statusDetail: 'waiting for model capacity', waitingFor: 'capacity' });
    s.setStatus('running', null);
    expect(s.progress()).toMatchObject({ status: 'running', statusDetail: null, waitingFor: null });
    expect(s.progress('paused', 'no money left', 'budget').waitingFor).toBe('budget');
  });
});
