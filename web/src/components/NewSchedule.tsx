/**
 * Create a schedule: its name, what each firing runs (an agent, and its goal or — for an agent with an
 * input schema — the form drawn from that schema, as on the new run form), and when it fires (cron or
 * every so many seconds, in a timezone). The server checks the input against the agent's current
 * version when the schedule is created, so a firing never fails on its input.
 */
import { useEffect, useState, type ReactNode } from 'react';
import { currentVersionOf, inputProblems, sortAgents, type AgentView, type InputProblem } from '../agents';
import { ApiError, client } from '../api';
import { AgentPicker, InputProblemList, RequestForm } from './AgentPick';
import { TeamPicker, useStartableTeams } from './TeamPick';
import { DEFAULT_AGENT } from '../../../contract/agents';

type Timing = 'every' | 'cron';

export function NewSchedule({ onCreated }: { onCreated: () => void }) {
  const [agents, setAgents] = useState<AgentView[] | null>(null);
  const [name, setName] = useState('');
  const [agentName, setAgentName] = useState(DEFAULT_AGENT);
  const [goal, setGoal] = useState('');
  const [input, setInput] = useState<unknown>(undefined);
  const [timing, setTiming] = useState<Timing>('every');
  const [everySec, setEverySec] = useState('3600');
  const [cron, setCron] = useState('');
  const [timezone, setTimezone] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [problems, setProblems] = useState<InputProblem[]>([]);
  const [busy, setBusy] = useState(false);
  const teams = useStartableTeams();
  const [team, setTeam] = useState<string | null | undefined>(undefined);
  const chosenTeam = team === undefined ? (teams?.[0] ?? null) : team;

  useEffect(() => {
    // A server without agents (or an error) leaves the form with a goal only.
    client.agents.list().then(
      (res) => setAgents(sortAgents(res.agents, DEFAULT_AGENT)),
      () => setAgents([]),
    );
  }, []);

  const agent = agents?.find((a) => a.name === agentName);
  const isDefault = agentName === DEFAULT_AGENT;
  const inputSchema = isDefault ? null : ((agent && currentVersionOf(agent)?.inputSchema) ?? null);

  function pickAgent(picked: string) {
    setAgentName(picked);
    setInput(undefined);
    setProblems([]);
    setError(null);
  }

  async function create(structured: unknown) {
    setBusy(true);
    setError(null);
    setProblems([]);
    try {
      await client.schedules.create({
        name,
        ...(isDefault ? {} : { agent: agentName }),
        ...(inputSchema ? { input: structured ?? {} } : { goal }),
        ...(timing === 'cron' ? { cron: cron.trim() } : { everySec: Number(everySec) }),
        ...(timezone.trim() && { timezone: timezone.trim() }),
        ...(teams && teams.length > 0 && { team: chosenTeam }),
      });
      setName('');
      setGoal('');
      setInput(undefined);
      onCreated();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'invalid_input') setProblems(inputProblems(err.details));
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const rest: ReactNode = (
    <>
      {teams && <TeamPicker teams={teams} value={chosenTeam} onPick={setTeam} />}
      <fieldset>
        <legend>Fires</legend>
        <label>
          <input type="radio" name="timing" value="every" checked={timing === 'every'} onChange={() => setTiming('every')} /> Every
        </label>{' '}
        <label>
          <input type="radio" name="timing" value="cron" checked={timing === 'cron'} onChange={() => setTiming('cron')} /> On a cron schedule
        </label>
        {timing === 'every' ? (
          <>
            <label htmlFor="everySec">Seconds between firings</label>
            <input id="everySec" name="everySec" type="number" min={1} step={1} inputMode="numeric" required value={everySec} onChange={(e) => setEverySec(e.target.value)} />
          </>
        ) : (
          <>
            <label htmlFor="cron">Cron (five fields)</label>
            <input id="cron" name="cron" required value={cron} onChange={(e) => setCron(e.target.value)} placeholder="0 9 * * 1-5" />
          </>
        )}
        <label htmlFor="timezone">Timezone</label>
        <input id="timezone" name="timezone" value={timezone} onChange={(e) => setTimezone(e.target.value)} placeholder="UTC" />
      </fieldset>
      {error && (
        <div role="alert" className="error">
          <p>{error}</p>
          <InputProblemList problems={problems} />
        </div>
      )}
      <button type="submit" disabled={busy}>
        {busy ? 'Creating…' : 'Create schedule'}
      </button>
    </>
  );

  return (
    <div className="new-run new-schedule">
      <label htmlFor="schedule-name">Name</label>
      <input id="schedule-name" name="name" required value={name} onChange={(e) => setName(e.target.value)} placeholder="Weekday invoice check" />
      <AgentPicker agents={agents} value={agentName} onPick={pickAgent} />
      <RequestForm
        agentName={agentName}
        inputSchema={inputSchema}
        input={input}
        onInput={setInput}
        problems={problems}
        goal={goal}
        onGoal={setGoal}
        goalRows={3}
        goalPlaceholder="What should each run do?"
        busy={busy}
        onSubmit={(data) => void create(data)}
      >
        {rest}
      </RequestForm>
    </div>
  );
}
