import { afterModelCall, modelCallRunsLocally, quickStepFits, type ModelCallHistory } from '../../workflows/step-placement';
import { ASK_USER_TOOL } from '../../contract/run';

const start: ModelCallHistory = { previous: null, lastRoundTripAtMs: null };

describe('where a model call runs (fast steps)', () => {
  it('sends the first call of an execution through the server: nothing says yet how long calls take', () => {
    expect(modelCallRunsLocally(start, 1000)).toBe(false);
  });

  it('runs the next call locally after a fast remote call, and keeps doing so within the stretch', () => {
    let h = afterModelCall(start, { tookMs: 40, atMs: 10_000, local: false });
    expect(h.lastRoundTripAtMs).toBe(10_000);
    expect(modelCallRunsLocally(h, 1000)).toBe(true);
    h = afterModelCall(h, { tookMs: 30, atMs: 10_500, local: true });
    expect(h.lastRoundTripAtMs).toBe(10_000); // a local call is no round trip
    expect(modelCallRunsLocally(h, 1000)).toBe(true);
    // A second past the last round trip: the next call goes through the server, so signals get in.
    h = afterModelCall(h, { tookMs: 30, atMs: 11_000, local: true });
    expect(modelCallRunsLocally(h, 1000)).toBe(false);
    h = afterModelCall(h, { tookMs: 30, atMs: 11_050, local: false });
    expect(h.lastRoundTripAtMs).toBe(11_050);
    expect(modelCallRunsLocally(h, 1000)).toBe(true);
  });

  it('keeps a run whose calls are slow on the server, where they heartbeat', () => {
    const h = afterModelCall(start, { tookMs: 4000, atMs: 10_000, local: false });
    expect(modelCallRunsLocally(h, 1000)).toBe(false);
    // A slow call that ran locally (it was expected fast) sends the next one back to the server too.
    const slowLocal = afterModelCall(afterModelCall(start, { tookMs: 10, atMs: 1_000, local: false }), { tookMs: 1500, atMs: 1_600, local: true });
    expect(modelCallRunsLocally(slowLocal, 1000)).toBe(false);
  });

  it('never runs model calls locally when turned off, or for results recorded before calls were timed', () => {
    const h = afterModelCall(start, { tookMs: 5, atMs: 10_000, local: false });
    expect(modelCallRunsLocally(h, 0)).toBe(false);
    expect(modelCallRunsLocally(afterModelCall(start, { tookMs: undefined, atMs: 10_000, local: false }), 1000)).toBe(false);
  });
});

describe('when quick steps take a turn (quickStepFits)', () => {
  const quick = (name = 'workspace_list', risk: 'read' | 'write' = 'read') => ({ toolUseId: `t-${name}`, name, risk, inputHash: 'h', quick: true as const });
  const answer = { stopReason: 'tool_use', toolCalls: [quick()] };
  const placement = afterModelCall(start, { tookMs: 20, atMs: 10_000, local: false });
  const view = { turn: 3, segmentTurns: 2, usage: { inputTokens: 10, outputTokens: 2, costUsd: 0.5 }, costCheckpointsPassed: 0, placement };
  const rules = { approvals: 'none' as const, maxSteps: 10, maxCostUsd: 5, segmentMaxTurns: 100, costCheckpointUsd: 0, localStepsMaxMs: 200 };

  it('takes quick calls needing no one, with room for the next turn and a local model call', () => {
    expect(quickStepFits(answer, view, rules)).toBe(true);
    expect(quickStepFits({ ...answer, toolCalls: [quick(), quick('workspace_read')] }, view, rules)).toBe(true);
  });

  it('leaves the turn to the run when a call is not quick, is the user question, or needs approval', () => {
    expect(quickStepFits({ ...answer, toolCalls: [quick(), { ...quick('http_get'), quick: undefined }] }, view, rules)).toBe(false);
    expect(quickStepFits({ ...answer, toolCalls: [quick(ASK_USER_TOOL)] }, view, rules)).toBe(false);
    expect(quickStepFits({ ...answer, toolCalls: [quick('quick_charge', 'write')] }, view, { ...rules, approvals: 'write' })).toBe(false);
    expect(quickStepFits({ ...answer, toolCalls: [quick('quick_charge', 'write')] }, view, rules)).toBe(true);
  });

  it('stops where the run would stop or ask: the final answer, a cap on the next turn, a cost checkpoint due', () => {
    expect(quickStepFits({ stopReason: 'end_turn', toolCalls: [] }, view, rules)).toBe(false);
    expect(quickStepFits(answer, { ...view, turn: 10 }, rules)).toBe(false); // the next turn would be the 11th of 10
    expect(quickStepFits(answer, { ...view, turn: 9 }, rules)).toBe(true);
    expect(quickStepFits(answer, { ...view, usage: { ...view.usage, costUsd: 5 } }, rules)).toBe(false);
    expect(quickStepFits(answer, { ...view, segmentTurns: 99 }, rules)).toBe(false); // the segment hands off first
    expect(quickStepFits(answer, view, { ...rules, costCheckpointUsd: 0.25 })).toBe(false); // $0.50 crossed two checkpoints
    expect(quickStepFits(answer, { ...view, costCheckpointsPassed: 2 }, { ...rules, costCheckpointUsd: 0.25 })).toBe(true);
  });

  it('stops where the next model call would go through the server', () => {
    expect(quickStepFits(answer, { ...view, placement: start }, rules)).toBe(false);
    expect(quickStepFits(answer, { ...view, placement: afterModelCall(placement, { tookMs: 20, atMs: 10_250, local: true }) }, rules)).toBe(false);
    expect(quickStepFits(answer, view, { ...rules, localStepsMaxMs: 0 })).toBe(false);
  });
});
