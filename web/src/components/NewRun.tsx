import { useEffect, useState, type ReactNode } from 'react';
import { currentVersionOf, inputProblems, sortAgents, type AgentView, type InputProblem } from '../agents';
import { ApiError, client } from '../api';
import { navigate, queryParam } from '../router';
import { AgentPicker, InputProblemList, RequestForm } from './AgentPick';
import { TeamPicker, useStartableTeams } from './TeamPick';
import { DEFAULT_AGENT } from '../../../contract/agents';

const MODELS = ['demo', 'claude-sonnet-5-5', 'claude-opus-5-5', 'claude-haiku-4-5'];

/**
 * Start a run: the agent, its goal (or, for an agent with an input schema, the form drawn from that
 * schema), and optionally the model, approval policy and limits. The default agent is the form as
 * it always was, and starts a run that names no agent. With `?from=<run id>` ("Edit and run again")
 * the form starts filled with that run's agent, goal or input, and options.
 */
export function NewRun() {
  const [agents, setAgents] = useState<AgentView[] | null>(null);
  const [agentName, setAgentName] = useState(DEFAULT_AGENT);
  const [goal, setGoal] = useState('');
  const [input, setInput] = useState<unknown>(undefined);
  const [model, setModel] = useState('');
  const [approvals, setApprovals] = useState<'' | 'none' | 'write' | 'all'>('write');
  const [maxSteps, setMaxSteps] = useState('');
  const [maxCostUsd, setMaxCostUsd] = useState('');
  const [maxMinutes, setMaxMinutes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<InputProblem[]>([]);
  const [busy, setBusy] = useState(false);
  const teams = useStartableTeams();
  // undefined until the user's teams are known: then their first team, or personal.
  const [team, setTeam] = useState<string | null | undefined>(undefined);
  const from = queryParam('from');
  const chosenTeam = team === undefined ? (teams?.[0] ?? null) : team;

  useEffect(() => {
    // A server without agents (or an error) leaves the form as it always was.
    client.agents.list().then(
      (res) => setAgents(sortAgents(res.agents, DEFAULT_AGENT)),
      () => setAgents([]),
    );
  }, []);

  useEffect(() => {
    if (!from) return;
    client.runs.get(from).then(
      (run) => {
        if (run.agent) setAgentName(run.agent);
        setTeam(run.team);
        if (run.input !== undefined && run.input !== null) setInput(run.input);
        setGoal(run.goal);
        setModel(run.model);
        setApprovals(run.approvals);
        setMaxSteps(String(run.limits.maxSteps));
        setMaxCostUsd(String(run.limits.maxCostUsd));
        setMaxMinutes(String(Math.round(run.limits.maxDurationSec / 60)));
      },
      (err: unknown) => setError(`Could not load the run to start from: ${err instanceof Error ? err.message : String(err)}`),
    );
  }, [from]);

  const agent = agents?.find((a) => a.name === agentName);
  const version = agent && currentVersionOf(agent);
  const isDefault = agentName === DEFAULT_AGENT;
  const inputSchema = isDefault ? null : (version?.inputSchema ?? null);

  function pickAgent(name: string) {
    setAgentName(name);
    setInput(undefined);
    setProblems([]);
    setError(null);
    setModel('');
    // An agent brings its own policy; the default agent keeps today's choice.
    setApprovals(name === DEFAULT_AGENT ? 'write' : '');
  }

  async function start(structured: unknown) {
    setBusy(true);
    setError(null);
    setProblems([]);
    const limits: Record<string, number> = {};
    if (maxSteps) limits.maxSteps = Number(maxSteps);
    if (maxCostUsd) limits.maxCostUsd = Number(maxCostUsd);
    if (maxMinutes) limits.maxDurationSec = Math.round(Number(maxMinutes) * 60);
    const options = {
      ...(model.trim() && { model: model.trim() }),
      ...(approvals && { approvals }),
      ...(Object.keys(limits).length && { limits }),
      ...(teams && teams.length > 0 && { team: chosenTeam }),
    };
    try {
      const res = isDefault
        ? await client.runs.start({ goal, ...options })
        : await client.runs.start({ agent: agentName, ...(inputSchema ? { input: structured ?? {} } : { goal }), ...options });
      navigate(`/runs/${res.id}`);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_input') setProblems(inputProblems(err.details));
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  }

  const models = isDefault || !version ? MODELS : version.model.allowed;
  const rest: ReactNode = (
    <>
      {teams && <TeamPicker teams={teams} value={chosenTeam} onPick={setTeam} />}

      <label htmlFor="model">Model</label>
      <input id="model" name="model" list="models" value={model} onChange={(e) => setModel(e.target.value)} placeholder={isDefault || !version ? 'Server default' : `Agent default (${version.model.default})`} />
      <datalist id="models">
        {models.map((m) => (
          <option key={m} value={m} />
        ))}
      </datalist>

      <label htmlFor="approvals">Ask for approval before</label>
      <select id="approvals" name="approvals" value={approvals} onChange={(e) => setApprovals(e.target.value as typeof approvals)}>
        {!isDefault && <option value="">As the agent says ({version?.approvals ?? 'its policy'})</option>}
        <option value="write">Actions that change something (write)</option>
        <option value="all">Every tool call</option>
        <option value="none">Nothing</option>
      </select>

      <fieldset>
        <legend>Limits (blank: {isDefault ? 'server' : 'the agent’s'} defaults)</legend>
        <label htmlFor="maxSteps">Max steps</label>
        <input id="maxSteps" name="maxSteps" type="number" min={1} step={1} inputMode="numeric" value={maxSteps} onChange={(e) => setMaxSteps(e.target.value)} />
        <label htmlFor="maxCostUsd">Max cost (USD)</label>
        <input id="maxCostUsd" name="maxCostUsd" type="number" min={0.01} step={0.01} inputMode="decimal" value={maxCostUsd} onChange={(e) => setMaxCostUsd(e.target.value)} />
        <label htmlFor="maxMinutes">Max duration (minutes)</label>
        <input id="maxMinutes" name="maxMinutes" type="number" min={1} step={1} inputMode="numeric" value={maxMinutes} onChange={(e) => setMaxMinutes(e.target.value)} />
      </fieldset>

      {error && (
        <div role="alert" className="error">
          <p>{error}</p>
          <InputProblemList problems={problems} />
        </div>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Starting…' : 'Start run'}
      </button>
    </>
  );

  return (
    <section aria-labelledby="new-title" className="new-run">
      <h1 id="new-title">{from ? 'Edit and run again' : 'New run'}</h1>
      <AgentPicker agents={agents} value={agentName} onPick={pickAgent} />
      <RequestForm
        agentName={agentName}
        inputSchema={inputSchema}
        input={input}
        onInput={setInput}
        problems={problems}
        goal={goal}
        onGoal={setGoal}
        goalRows={5}
        goalPlaceholder="What should the agent do?"
        busy={busy}
        onSubmit={(data) => void start(data)}
      >
        {rest}
      </RequestForm>
    </section>
  );
}
