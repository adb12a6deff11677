/**
 * GET /api/agents: the agents this deployment knows, as workers published them — each version's data
 * (schemas, model, policy, limits, tools with risk) and the live workers serving each. The API never
 * loads agent code; this is all it knows of agents.
 */
import { DEFAULT_AGENT, type AgentVersion, type AgentWorker } from '../contract/agents';
import type { AgentList, AgentView } from '../contract/api';
import type { Store } from '../shared/store';

/** Said of the built-in agent before any worker published it (workers from before agents). */
const DEFAULT_AGENT_DESCRIPTION = "The built-in agent: Longhaul's own instructions, every built-in tool and every MCP server's tools.";

export class AgentService {
  constructor(private readonly deps: { store: Store }) {}

  async list(): Promise<AgentList> {
    const { store } = this.deps;
    const [versions, workers] = await Promise.all([store.agents.versions(), store.agents.workers()]);
    const names = [...new Set([DEFAULT_AGENT, ...versions.map((v) => v.name)])].sort();
    return { agents: names.map((name) => agentView(name, versions.filter((v) => v.name === name), workers.filter((w) => w.agent === name))) };
  }
}

/**
 * One agent: its versions oldest first, and the current one as store.agents.current picks it — the version
 * the most recently started live worker serves, else the latest published.
 */
function agentView(name: string, versions: AgentVersion[], workers: AgentWorker[]): AgentView {
  const served = workers.map((w) => versions.find((v) => v.version === w.version)).find((v) => v !== undefined);
  const current = served ?? versions.at(-1);
  return {
    name,
    description: current?.data.description ?? (name === DEFAULT_AGENT ? DEFAULT_AGENT_DESCRIPTION : ''),
    currentVersion: current?.version ?? null,
    versions: versions.map(({ version, publishedAt, data }) => ({
      version,
      publishedAt,
      inputSchema: data.inputSchema,
      outputSchema: data.outputSchema,
      model: data.model,
      approvals: data.approvals,
      limits: data.limits,
      tools: data.tools.map((t) => ({ name: t.name, description: t.description, risk: t.risk, approval: t.approval ?? 'by_risk', source: t.source })),
    })),
    workers: workers.map((w) => ({ identity: w.identity, version: w.version, seenAt: w.seenAt })),
  };
}
