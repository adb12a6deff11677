/**
 * A run's agent, as its model and tool calls use it: the version the run is pinned to (its data read once
 * per worker from the database: a version never changes) and the agent this worker serves (its current
 * code: tool bodies, an instructions function). A run that names no agent (`agent` null) has neither and
 * goes exactly the way runs always went: Longhaul's system prompt and the worker's own tools.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { DEFAULT_AGENT, type AgentData, type PublishedSubagent, type PublishedTool } from '../../contract/agents';
import { riskier, stricterPolicy, type ApprovalPolicy, type Risk } from '../../contract/run';
import { FailureType } from '../../contract/failures';
import type { RunRecord } from '../../shared/store/runs';
import type { ActivityDeps } from '../deps';
import type { ToolSchema } from '../model/model-adapter';
import { UNKNOWN_RISK, type ToolRegistry } from '../tools/registry';
import type { RunInfo } from './agent-definition';
import type { ServedAgent } from './agent-catalog';
import { outputChecker, outputTool, type OutputChecker } from './output-tool';
import { redactText } from '../../shared/redact';

/** A pinned version as this worker uses it: its data, and what is derived from it once. */
export interface PinnedVersion {
  name: string;
  version: string;
  data: AgentData;
  /** The tools the model is offered (the version's, then `final_result` with an output schema). Stable per version. */
  toolSchemas: ToolSchema[];
  toolsByName: Map<string, PublishedTool>;
  /** The agents the version may delegate to, by name (each a tool of that name). */
  subagentsByName: Map<string, PublishedSubagent>;
  /** Checks a `final_result` call (agents with an output schema). */
  checkOutput: OutputChecker | null;
}

/** The run's agent: null for a run that names none. */
export interface RunAgent {
  version: PinnedVersion;
  served: ServedAgent;
}

/** The run a tool call or an instructions function works for. */
export function runInfoOf(record: RunRecord): RunInfo {
  return {
    runId: record.id,
    owner: record.owner,
    agent: record.agent ?? DEFAULT_AGENT,
    input: record.input ?? null,
    goal: record.goal,
    metadata: record.metadata ?? null,
  };
}


/** A delegation's risk: it changes nothing outside, but it spends money, so it reads as a write. */
export const DELEGATION_RISK: Risk = 'write';

function unavailable(message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type: FailureType.AgentUnavailable, nonRetryable: true });
}

export function createRunAgents(deps: ActivityDeps) {
  const { store } = deps;
  const floor = deps.settings.config.approvals.minPolicy;
  const versions = new Map<string, Promise<PinnedVersion>>();

  async function load(name: string, version: string): Promise<PinnedVersion> {
    const stored = await store.agents.version(name, version);
    if (!stored) throw unavailable(`version ${version} of agent "${name}" is not in the database`);
    const { data } = stored;
    const toolSchemas: ToolSchema[] = data.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.inputSchema as ToolSchema['input_schema'] }));
    const subagents = data.subagents ?? [];
    for (const sub of subagents) toolSchemas.push({ name: sub.agent, description: sub.description, input_schema: sub.inputSchema as ToolSchema['input_schema'] });
    if (data.outputSchema) toolSchemas.push(outputTool(data.outputSchema));
    return {
      name,
      version,
      data,
      toolSchemas,
      toolsByName: new Map(data.tools.map((t) => [t.name, t])),
      subagentsByName: new Map(subagents.map((sub) => [sub.agent, sub])),
      checkOutput: data.outputSchema ? outputChecker(data.outputSchema) : null,
    };
  }

  /** A version's data, read once per worker (a failed read is not remembered). */
  function pinned(name: string, version: string): Promise<PinnedVersion> {
    const id = `${name}@${version}`;
    let p = versions.get(id);
    if (!p) {
      p = load(name, version);
      versions.set(id, p);
      p.catch(() => versions.delete(id));
    }
    return p;
  }

  /** The agent of this name as this worker serves it; not served here: the run cannot go on on this worker. */
  function served(name: string): ServedAgent {
    const agent = deps.agents.get(name);
    if (!agent) throw unavailable(`agent "${name}" is not served by this worker`);
    return agent;
  }

  /** The run's agent (null: a run that names none). */
  async function of(record: RunRecord): Promise<RunAgent | null> {
    if (record.agent === null) return null;
    const current = served(record.agent);
    if (!record.agentVersion) throw unavailable(`run ${record.id} of agent "${record.agent}" is pinned to no version`);
    return { served: current, version: await pinned(record.agent, record.agentVersion) };
  }

  /** Whether a call of `name` is a delegation to a sub-agent of the run's version (a child run, not a tool). */
  function isDelegation(agent: RunAgent | null, name: string): boolean {
    return agent?.version.subagentsByName.has(name) ?? false;
  }

  /** The tools a run's calls run with, by this worker's current code. */
  function registryOf(agent: RunAgent | null): ToolRegistry {
    return agent ? agent.served.tools : deps.tools;
  }

  /**
   * A call's risk: the stricter of the version's recorded risk and this worker's current code's reading
   * (`by_input`: the current code alone). A tool the version does not list, or the current code lacks, is
   * the riskiest.
   */
  function riskOf(agent: RunAgent | null, name: string, input: unknown): Risk {
    if (isDelegation(agent, name)) return DELEGATION_RISK;
    const current = registryOf(agent).riskOf(name, input);
    if (!agent) return current;
    const recorded = agent.version.toolsByName.get(name)?.risk;
    if (recorded === undefined) return UNKNOWN_RISK;
    return recorded === 'by_input' ? current : riskier(recorded, current);
  }

  /**
   * The policy one call is decided by when it is not the run's own (`runPolicy`); undefined: the run's own.
   * A per-tool override (`always` → `all`, `never` → `none`), the stricter of the version's and the current
   * code's, as with risk: `always` in either asks, `never` skips only when both say it (a deploy that made a
   * tool `always` is obeyed by runs pinned to an older version too) and the run asks no more than its agent. Else the agent's policy, the version's and
   * the current code's, when it asks more than the run's: a run is created with at least its agent's policy,
   * but one moved to a version that asks more (an upgrade, a schedule firing at today's version) keeps the
   * policy it was created with. Always raised to the server's minimum.
   */
  function policyOf(agent: RunAgent | null, name: string, runPolicy: ApprovalPolicy): ApprovalPolicy | undefined {
    if (!agent) return undefined;
    const recorded = agent.version.toolsByName.get(name)?.approval;
    const current = agent.served.data.tools.find((t) => t.name === name)?.approval;
    if (recorded === 'always' || current === 'always') return stricterPolicy('all', floor);
    const agentPolicy = stricterPolicy(agent.version.data.approvals, agent.served.data.approvals);
    // A run that asks more than its agent (its request said `all`) is not talked out of it by the developer's `never`.
    const runAsksMore = runPolicy !== agentPolicy && stricterPolicy(runPolicy, agentPolicy) === runPolicy;
    if (recorded === 'never' && current === 'never' && !runAsksMore) return stricterPolicy('none', floor);
    if (stricterPolicy(runPolicy, agentPolicy) === runPolicy) return undefined;
    return stricterPolicy(agentPolicy, floor);
  }

  /** The system prompt: the version's text, or its instructions function evaluated by the current code. */
  async function instructionsOf(agent: RunAgent, record: RunRecord): Promise<string> {
    if (agent.version.data.instructions !== null) return agent.version.data.instructions;
    const { instructions } = agent.served.definition;
    if (typeof instructions === 'string') return instructions;
    // The developer's code: what it throws reaches Temporal's history and the run's error, so it goes redacted
    // (an error of a database client names its URL, credentials and all), typed, and without the original as cause.
    let text: unknown;
    try {
      text = await instructions({ run: runInfoOf(record), deps: deps.workerDeps });
    } catch (err) {
      const message = redactText(`the instructions function of agent ${agent.served.name} failed: ${err instanceof Error ? err.message : String(err)}`);
      throw ApplicationFailure.create({ message, type: FailureType.AgentInstructionsFailed });
    }
    if (typeof text !== 'string') {
      throw ApplicationFailure.create({ message: `the instructions function of agent ${agent.served.name} gave ${text === null ? 'null' : typeof text}, not a string`, type: FailureType.AgentInstructionsFailed, nonRetryable: true });
    }
    return text;
  }

  return { of, pinned, served, registryOf, riskOf, policyOf, instructionsOf, isDelegation };
}

export type RunAgents = ReturnType<typeof createRunAgents>;
