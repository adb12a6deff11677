/**
 * Agents as the UI reads them: `GET /api/agents`, a run started as an agent with structured input,
 * and a run moved to its agent's current version. The shapes are the API's (issue 24); they are
 * declared here until contract/api.ts carries them, and must match it field for field.
 */
import type { JsonSchema, ToolApproval, ToolSource } from '../../contract/agents';
import { routePath } from '../../contract/paths';
import type { ApprovalPolicy, Risk, RunLimits } from '../../contract/run';
import type { RunCreated, RunSummary, RunView } from './types';
import { http } from './api';

export interface AgentToolView {
  name: string;
  description: string;
  risk: Risk | 'by_input';
  /** The tool's own approval override (`by_risk`, or null from an older server: as the policy says). */
  approval: ToolApproval | null;
  source: ToolSource;
}

export interface AgentVersionView {
  version: string;
  publishedAt: string;
  inputSchema: JsonSchema | null;
  outputSchema: JsonSchema | null;
  model: { default: string; allowed: string[] };
  approvals: ApprovalPolicy;
  limits: { defaults: Partial<RunLimits>; max: Partial<RunLimits> };
  tools: AgentToolView[];
}

export interface AgentWorkerView {
  identity: string;
  version: string;
  seenAt: string;
}

export interface AgentView {
  name: string;
  description: string;
  /** The version new runs get (null: none published yet, as the default agent before any worker said so). */
  currentVersion: string | null;
  /** Oldest first. */
  versions: AgentVersionView[];
  /** The live workers serving it. */
  workers: AgentWorkerView[];
}

export interface AgentList {
  agents: AgentView[];
}

/** What a run carries about its agent (absent on a server from before agents). */
export interface RunAgentFields {
  agent?: string | null;
  agentVersion?: string | null;
  input?: unknown;
  output?: unknown;
}
export type AgentRunSummary = RunSummary & RunAgentFields;
export type AgentRunView = RunView & RunAgentFields & { upgradePending?: boolean };

/** The body of a run started as an agent: `input` for an agent with an input schema, else `goal`. */
export interface AgentRunBody {
  agent: string;
  input?: unknown;
  goal?: string;
  model?: string;
  approvals?: ApprovalPolicy;
  limits?: Partial<RunLimits>;
}

/** One complaint of the agent's input schema, as the API's 400 `invalid_input` lists them. */
export interface InputProblem {
  path: string;
  message: string;
}

export const agentsApi = {
  list: () => http.json<AgentList>('GET', '/api/agents'),
  start: (body: AgentRunBody) => http.json<RunCreated>('POST', routePath('createRun'), { body }),
  /** Moves the run to its agent's current version at its next turn (202). */
  upgrade: (runId: string) => http.json<unknown>('POST', `/api/runs/${encodeURIComponent(runId)}/upgrade`),
};

/** The API's `details` of an `invalid_input` answer, when they have the documented shape. */
export function inputProblems(details: unknown): InputProblem[] {
  if (!Array.isArray(details)) return [];
  return details.filter((d): d is InputProblem => typeof d === 'object' && d !== null && typeof (d as InputProblem).message === 'string').map((d) => ({ path: String(d.path ?? ''), message: d.message }));
}

/** Agents in the order people pick them: the default agent first, then by name. */
export function sortAgents(agents: AgentView[], defaultName: string): AgentView[] {
  return [...agents].sort((a, b) => (a.name === defaultName ? -1 : b.name === defaultName ? 1 : a.name.localeCompare(b.name)));
}

/** The data of an agent's current version (or its newest when none is current). */
export function currentVersionOf(agent: AgentView): AgentVersionView | undefined {
  return agent.versions.find((v) => v.version === agent.currentVersion) ?? agent.versions.at(-1);
}
