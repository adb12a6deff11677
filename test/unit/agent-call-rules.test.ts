/**
 * How a run of an agent rates and decides one call (activities/agents/run-agent.ts), and the executing worker's
 * gate deciding by the same per-call policy: the stricter risk of the version's and the current code's, the
 * riskiest for what either does not know; a per-tool override as the call's policy, never below the server's
 * MIN_APPROVALS.
 */
import { z } from 'zod';
import type { ActivityDeps } from '../../activities/deps';
import type { RunAgent } from '../../activities/agents/run-agent';
import { createRunAgents } from '../../activities/agents/run-agent';
import { createApprovalGate } from '../../activities/tools/approval-gate';
import { ToolRegistry } from '../../activities/tools/registry';
import { defineTool } from '../../activities/tools/tool';
import type { PublishedTool } from '../../contract/agents';
import { needsApproval, riskCovers, riskier, stricterPolicy, type ApprovalPolicy, type Risk } from '../../contract/run';
import { toolCallHash } from '../../activities/idempotency-keys';
import { FailureType } from '../../contract/failures';
import type { RunRecord } from '../../shared/store/runs';
import type { Store } from '../../shared/store';

const tool = (name: string, risk: 'read' | 'write' | ((i: { n: number }) => 'read' | 'irreversible')) =>
  defineTool({ name, description: name, input: z.object({ n: z.number() }), risk, run: async () => 'ok' });

const published = (name: string, risk: PublishedTool['risk'], approval?: PublishedTool['approval']): PublishedTool => ({
  name,
  description: name,
  inputSchema: { type: 'object' },
  risk,
  source: 'custom',
  ...(approval && { approval }),
});

/** An agent whose version recorded `recorded` and whose current code is `current` (publishing `currentData`, by default what was recorded). */
function agentOf(recorded: PublishedTool[], current: ReturnType<typeof tool>[], currentData: PublishedTool[] = recorded, policies: { recorded: ApprovalPolicy; current: ApprovalPolicy } = { recorded: 'none', current: 'none' }): RunAgent {
  return {
    version: { name: 'a', version: 'v1', data: { approvals: policies.recorded } as never, toolSchemas: [], toolsByName: new Map(recorded.map((t) => [t.name, t])), subagentsByName: new Map(), checkOutput: null },
    served: { name: 'a', definition: {} as never, data: { tools: currentData, approvals: policies.current } as never, version: 'v2', tools: new ToolRegistry(current) },
  };
}

const depsWith = (floor: ApprovalPolicy) => ({ settings: { config: { approvals: { minPolicy: floor } } }, tools: new ToolRegistry([]) }) as unknown as ActivityDeps;

describe('a call of a run of an agent', () => {
  const rules = createRunAgents(depsWith('none'));

  it('is rated the stricter of the risk its version recorded and the current code gives', () => {
    const agent = agentOf([published('grew', 'read'), published('shrank', 'write'), published('dynamic', 'by_input')], [tool('grew', 'write'), tool('shrank', 'read'), tool('dynamic', (i) => (i.n > 1 ? 'irreversible' : 'read'))]);
    expect(rules.riskOf(agent, 'grew', { n: 1 })).toBe('write');
    expect(rules.riskOf(agent, 'shrank', { n: 1 })).toBe('write');
    // by_input: the current code decides, per call.
    expect(rules.riskOf(agent, 'dynamic', { n: 1 })).toBe('read');
    expect(rules.riskOf(agent, 'dynamic', { n: 2 })).toBe('irreversible');
  });

  it("is the riskiest when the tool's own rating throws or gives no risk", () => {
    const throwing = defineTool({ name: 'throwing', description: 't', input: z.object({ n: z.number() }), risk: () => { throw new Error('no'); }, run: async () => 'ok' });
    const bogus = defineTool({ name: 'bogus', description: 'b', input: z.object({ n: z.number() }), risk: () => 'harmless' as never, run: async () => 'ok' });
    const agent = agentOf([published('throwing', 'by_input'), published('bogus', 'by_input')], [throwing, bogus]);
    expect(rules.riskOf(agent, 'throwing', { n: 1 })).toBe('irreversible');
    expect(rules.riskOf(agent, 'bogus', { n: 1 })).toBe('irreversible');
    expect(new ToolRegistry([throwing]).riskOf('throwing', { n: 1 })).toBe('irreversible');
  });

  it('is the riskiest when the version does not list the tool or the current code lacks it', () => {
    const agent = agentOf([published('gone', 'read')], [tool('new', 'read')]);
    expect(rules.riskOf(agent, 'gone', { n: 1 })).toBe('irreversible');
    expect(rules.riskOf(agent, 'new', { n: 1 })).toBe('irreversible');
  });

  it("takes its tool's approval override as its policy, raised to the server's minimum", () => {
    const agent = agentOf([published('ask', 'read', 'always'), published('skip', 'write', 'never'), published('plain', 'write', 'by_risk'), published('bare', 'write')], []);
    expect(rules.policyOf(agent, 'ask', 'none')).toBe('all');
    expect(rules.policyOf(agent, 'skip', 'none')).toBe('none');
    expect(rules.policyOf(agent, 'plain', 'none')).toBeUndefined();
    expect(rules.policyOf(agent, 'bare', 'none')).toBeUndefined();
    expect(rules.policyOf(null, 'ask', 'none')).toBeUndefined();
    expect(createRunAgents(depsWith('write')).policyOf(agent, 'skip', 'none')).toBe('write');
  });

  it("takes the stricter of the version's override and the current code's: always in either asks, never needs both", () => {
    const recorded = [published('now_asks', 'write', 'never'), published('was_asked', 'write', 'always'), published('by_risk_now', 'write', 'never'), published('now_skips', 'write')];
    const current = [published('now_asks', 'write', 'always'), published('was_asked', 'write', 'never'), published('by_risk_now', 'write'), published('now_skips', 'write', 'never')];
    const agent = agentOf(recorded, [], current);
    expect(rules.policyOf(agent, 'now_asks', 'none')).toBe('all');
    expect(rules.policyOf(agent, 'was_asked', 'none')).toBe('all');
    // One says never, the other by risk: the run's own policy decides (never below it).
    expect(rules.policyOf(agent, 'by_risk_now', 'none')).toBeUndefined();
    expect(rules.policyOf(agent, 'now_skips', 'none')).toBeUndefined();
  });

  it("asks by the agent's policy, the version's or the current code's, where it is stricter than the run's (an upgrade, a schedule's firing)", () => {
    const tools = [published('edit', 'write'), published('skip', 'write', 'never')];
    const stricterVersion = agentOf(tools, [], tools, { recorded: 'all', current: 'write' });
    expect(rules.policyOf(stricterVersion, 'edit', 'write')).toBe('all');
    expect(rules.policyOf(stricterVersion, 'edit', 'all')).toBeUndefined();
    const stricterCode = agentOf(tools, [], tools, { recorded: 'none', current: 'write' });
    expect(rules.policyOf(stricterCode, 'edit', 'none')).toBe('write');
    expect(rules.policyOf(stricterCode, 'edit', 'write')).toBeUndefined();
    // A tool's `never` in both is the agent's word for that tool…
    expect(rules.policyOf(stricterVersion, 'skip', 'write')).toBe('none');
    expect(rules.policyOf(stricterVersion, 'skip', 'all')).toBe('none');
    // …unless the run asked for more than its agent: then the run's own policy decides.
    const writeAgent = agentOf(tools, [], tools, { recorded: 'write', current: 'write' });
    expect(rules.policyOf(writeAgent, 'skip', 'write')).toBe('none');
    expect(rules.policyOf(writeAgent, 'skip', 'all')).toBeUndefined();
    expect(createRunAgents(depsWith('all')).policyOf(stricterCode, 'edit', 'none')).toBe('all');
  });
});

describe("the executing worker's gate with a call's own policy", () => {
  const store = { approvals: { approvedForToolCall: async () => [] }, runs: { get: async () => ({ approvals: 'all' }) } } as unknown as Store;
  const call = { runId: 'r', turn: 1, toolUseId: 't', name: 'x', input: {} };

  it("decides by the call's policy instead of the run's, never below the server's minimum", async () => {
    expect(await createApprovalGate(store, 'none').check(call, 'irreversible', 'none')).toEqual({ policy: 'none', allowed: true });
    expect(await createApprovalGate(store, 'write').check(call, 'write', 'none')).toEqual({ policy: 'write', allowed: false });
    expect(await createApprovalGate(store, 'none').check(call, 'read', 'all')).toEqual({ policy: 'all', allowed: false });
    // No policy of its own: the run's (`all` here).
    expect(await createApprovalGate(store, 'none').check(call, 'read')).toEqual({ policy: 'all', allowed: false });
  });
});

describe("the executing worker's gate with an approval given at another risk", () => {
  const call = { runId: 'r', turn: 1, toolUseId: 't', name: 'x', input: {} };
  const approvedAt = (risk: Risk | null) =>
    ({ approvals: { approvedForToolCall: async () => [{ id: 'apr', kind: 'tool', turn: 1, tool: 'x', inputHash: toolCallHash('x', {}), risk }] }, runs: { get: async () => ({ approvals: 'all' }) } }) as unknown as Store;

  it('runs the call only when the approver was shown at least the risk this worker reads', async () => {
    // Another worker read the tool as a write and the approver approved a write; this one reads it irreversible.
    expect(await createApprovalGate(approvedAt('write'), 'none').check(call, 'irreversible')).toEqual({ policy: 'all', allowed: false });
    expect(await createApprovalGate(approvedAt('write'), 'none').check(call, 'write')).toEqual({ policy: 'all', allowed: true });
    expect(await createApprovalGate(approvedAt('irreversible'), 'none').check(call, 'read')).toEqual({ policy: 'all', allowed: true });
    // An approval with no risk recorded was shown none: it covers only a read.
    expect(await createApprovalGate(approvedAt(null), 'none').check(call, 'write')).toEqual({ policy: 'all', allowed: false });
    expect(await createApprovalGate(approvedAt(null), 'none').check(call, 'read')).toEqual({ policy: 'all', allowed: true });
  });
});

describe('risk and policy values this version does not know', () => {
  const unknownRisk = 'catastrophic' as Risk;
  const unknownPolicy = 'four-eyes' as ApprovalPolicy;

  it('rank above every known one, and a call under an unknown policy asks', () => {
    expect(riskier(unknownRisk, 'irreversible')).toBe(unknownRisk);
    expect(riskier('read', unknownRisk)).toBe(unknownRisk);
    expect(riskCovers('irreversible', unknownRisk)).toBe(false);
    expect(riskCovers(unknownRisk, 'irreversible')).toBe(true);
    expect(stricterPolicy(unknownPolicy, 'all')).toBe(unknownPolicy);
    expect(stricterPolicy('none', unknownPolicy)).toBe(unknownPolicy);
    expect(needsApproval(unknownPolicy, 'read')).toBe(true);
  });
});

describe("an agent's instructions function", () => {
  const rules = createRunAgents(depsWith('none'));
  const record = { id: 'r', owner: 'o', agent: 'a', input: null, goal: 'g', metadata: null } as unknown as RunRecord;
  const withInstructions = (instructions: unknown): RunAgent => ({
    version: { name: 'a', version: 'v1', data: { instructions: null } as never, toolSchemas: [], toolsByName: new Map(), subagentsByName: new Map(), checkOutput: null },
    served: { name: 'a', definition: { instructions } as never, data: { tools: [] } as never, version: 'v1', tools: new ToolRegistry([]) },
  });

  it('that throws fails the call typed, its message redacted (a client error names its URL with credentials)', async () => {
    const failing = withInstructions(async () => {
      throw new Error('connect failed: postgres://app:hunter2secret@db.internal:5432/crm');
    });
    const err = await rules.instructionsOf(failing, record).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: FailureType.AgentInstructionsFailed, nonRetryable: false });
    expect((err as Error).message).toContain('instructions function of agent a failed');
    expect((err as Error).message).not.toContain('hunter2secret');
    expect((err as Error & { cause?: unknown }).cause).toBeUndefined();
  });

  it('that gives no string fails the call at once, naming what it gave', async () => {
    const err = await rules.instructionsOf(withInstructions(() => undefined), record).catch((e: unknown) => e);
    expect(err).toMatchObject({ type: FailureType.AgentInstructionsFailed, nonRetryable: true, message: expect.stringContaining('gave undefined') });
    expect(await rules.instructionsOf(withInstructions(() => 'Be brief.'), record)).toBe('Be brief.');
  });
});
