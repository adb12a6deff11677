/**
 * A run tree to watch: the real API and workflow, hand-built workers serving a `lead` agent that delegates to two
 * sub-agents at once (`researcher` and `writer`), and an in-process model. Each child's answer streams in two
 * lines with a gate between them — the first line, then nothing until the test opens that child's gate, then the
 * second — so a watcher can be shown to see a child's text while it streams, not only once it is final.
 *
 * Each test tree is told apart by a marker in the lead's goal, which the lead passes on in its children's tasks.
 */
import crypto from 'node:crypto';
import type { AgentDefinition } from '../../activities/agents/agent-definition';
import { loadAgentCatalog } from '../../activities/agents/load-agents';
import type { ModelAdapter, ModelRequest, ModelResponse } from '../../activities/model/model-adapter';
import { agentTaskQueue } from '../../contract/agents';
import { DEMO_MODEL } from '../../contract/run';
import { scriptedModel, type ModelRequestRecord, type ScriptedAnswer } from '../../testing/scripted-model';
import { builtinToolsFor, createActivityDeps } from '../../worker/activity-deps';
import { workerIdentity, workerQueueName } from '../../worker/worker-queue';
import { startHandBuiltWorkers } from './hand-built-workers';
import { startHarness, type Harness } from './harness';

export const CHILD_AGENTS = ['researcher', 'writer'] as const;
export type ChildAgent = (typeof CHILD_AGENTS)[number];

const researcher: AgentDefinition = { name: 'researcher', description: 'Finds facts about a topic.', instructions: 'You are the researcher.', model: DEMO_MODEL };
const writer: AgentDefinition = { name: 'writer', description: 'Writes a paragraph.', instructions: 'You are the writer.', model: DEMO_MODEL };
const lead: AgentDefinition = {
  name: 'lead',
  description: 'Leads the work.',
  instructions: 'You are the lead.',
  model: DEMO_MODEL,
  approvals: 'none', // its delegations run unasked
  subagents: ['researcher', 'writer'],
};
const AGENTS = [lead, researcher, writer];

/** What each child writes, in its two streamed parts, for the tree marked `marker`. */
export function childText(agent: ChildAgent, marker: string): { first: string; second: string; whole: string } {
  const first = `${agent} begins on ${marker}.\n`;
  const second = `${agent} finishes ${marker}, with a closing line.`;
  return { first, second, whole: first + second };
}

const markerOf = (text: string): string | undefined => text.match(/m-[0-9a-f]{8}/)?.[0];

export interface SubagentTree {
  h: Harness;
  /** A new marker for one test's tree. */
  marker(): string;
  /** Lets the child `agent` of the tree `marker` write its second line (and end). */
  release(agent: ChildAgent, marker: string): void;
  stop(): Promise<void>;
}

export async function startSubagentTree(opts: { token?: string } = {}): Promise<SubagentTree> {
  const h = await startHarness({ noWorker: true, env: opts.token ? { API_TOKENS: `${opts.token}:alice` } : {} });
  if (opts.token) h.defaultToken = opts.token;
  const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
  const gate = (key: string) => {
    let g = gates.get(key);
    if (!g) {
      let open!: () => void;
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.set(key, (g = { opened, open }));
    }
    return g;
  };

  // The lead: both delegations in one answer, then a report from their results.
  const leadModel = scriptedModel((req: ModelRequestRecord): ScriptedAnswer => {
    const marker = markerOf(JSON.stringify(req.messages[0])) ?? 'm-00000000';
    if (req.messages.length === 1) {
      return { text: 'Delegating both parts.', toolCalls: CHILD_AGENTS.map((agent) => ({ name: agent, input: { task: `${agent === 'researcher' ? 'Research' : 'Write about'} tides ${marker}` } })) };
    }
    return { text: `Report on ${marker} written.` };
  });
  // The children: their first line, the gate, their second line, streamed a word at a time as a model does.
  const model: ModelAdapter = {
    async complete(req: ModelRequest): Promise<ModelResponse> {
      const agent = CHILD_AGENTS.find((a) => req.system === `You are the ${a}.`);
      if (!agent) return leadModel.complete(req);
      const marker = markerOf(JSON.stringify(req.messages[0])) ?? 'm-00000000';
      const { first, second, whole } = childText(agent, marker);
      const stream = (text: string) => {
        for (const word of text.match(/\S+\s*|\s+/g) ?? []) req.onText(word);
      };
      stream(first);
      await Promise.race([gate(`${agent}:${marker}`).opened, new Promise((_, reject) => req.signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true }))]);
      stream(second);
      return { content: [{ type: 'text', text: whole }], stopReason: 'end_turn', usage: { inputTokens: 100, outputTokens: 20 } };
    },
  };

  const agents = loadAgentCatalog({ definition: { agents: AGENTS }, config: { model: h.config.model, approvals: h.config.approvals, tools: { mcpServers: {} } }, builtinTools: builtinToolsFor(h.config) });
  for (const agent of agents.all()) if (agent.name !== 'default') await h.store.agents.publishVersion(agent.name, agent.version, agent.data);
  const identity = workerIdentity();
  const workerQueue = workerQueueName(h.config.temporal.taskQueue, identity);
  const deps = createActivityDeps({ config: h.config, store: h.store, bus: h.bus, logger: h.logger, modelFor: () => model, workerQueue, workerIdentity: identity, agents });
  const workers = await startHandBuiltWorkers(h.config, deps, { workflows: AGENTS.map((a) => agentTaskQueue(h.config.temporal.taskQueue, a.name)), workerQueue });

  return {
    h,
    marker: () => `m-${crypto.randomBytes(4).toString('hex')}`,
    release: (agent, marker) => gate(`${agent}:${marker}`).open(),
    async stop() {
      for (const g of gates.values()) g.open(); // no child left waiting on a gate
      await workers.stop();
      await h.close();
    },
  };
}
