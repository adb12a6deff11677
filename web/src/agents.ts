/**
 * Agents as the UI reads them (issue 24): the contract's shapes (`GET /api/agents`, a run's agent
 * fields, `invalid_input`'s details) and the few things the pages do with them. The calls are the
 * client's (`client.agents.list`, `client.runs.start`, `client.runs.upgrade`).
 */
import type { AgentList, AgentView, InputProblem } from '../../contract/api';

export type { AgentList, AgentView, InputProblem };
/** One published version of an agent, as `GET /api/agents` lists it. */
export type AgentVersionView = AgentView['versions'][number];

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
