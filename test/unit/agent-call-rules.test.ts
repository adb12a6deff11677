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
import type { ApprovalPolicy } from '../../contract/run';
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

/** An agent whose version recorded `recorded` and whose current code is `current`. */
function agentOf(recorded: PublishedTool[], current: ReturnType<typeof tool>[]): RunAgent {
  return {
    version: { name: 'a', version: 'v1', data: {} as never, toolSchemas: [], toolsByName: new Map(recorded.map((t) => [t.name, t])), subagentsByName: new Map(), checkOutput: null },
    served: { name: 'a', definition: {} as never, data: {} as never, version: 'v2', tools: new ToolRegistry(current) },
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

  it('is the riskiest when the version does not list the tool or the current code lacks it', () => {
    const agent = agentOf([published('gone', 'read')], [tool('new', 'read')]);
    expect(rules.riskOf(agent, 'gone', { n: 1 })).toBe('irreversible');
    expect(rules.riskOf(agent, 'new', { n: 1 })).toBe('irreversible');
  });

  it("takes its tool's approval override as its policy, raised to the server's minimum", () => {
    const agent = agentOf([published('ask', 'read', 'always'), published('skip', 'write', 'never'), published('plain', 'write', 'by_risk'), published('bare', 'write')], []);
    expect(rules.policyOf(agent, 'ask')).toBe('all');
    expect(rules.policyOf(agent, 'skip')).toBe('none');
    expect(rules.policyOf(agent, 'plain')).toBeUndefined();
    expect(rules.policyOf(agent, 'bare')).toBeUndefined();
    expect(rules.policyOf(null, 'ask')).toBeUndefined();
    expect(createRunAgents(depsWith('write')).policyOf(agent, 'skip')).toBe('write');
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
