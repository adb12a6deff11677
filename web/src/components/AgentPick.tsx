/**
 * Choosing what a run is, shared by the new run form and the new schedule form: the agent picker (the
 * default agent first) and the server's `invalid_input` complaints listed under the input form.
 */
import type { AgentView, InputProblem } from '../agents';
import { DEFAULT_AGENT } from '../../../contract/agents';

/** The agent select, with the picked agent's description. Nothing when the server lists no agents. */
export function AgentPicker({ agents, value, onPick }: { agents: AgentView[] | null; value: string; onPick: (name: string) => void }) {
  if (!agents || agents.length === 0) return null;
  const agent = agents.find((a) => a.name === value);
  const isDefault = value === DEFAULT_AGENT;
  return (
    <div className="agent-pick">
      <label htmlFor="agent">Agent</label>
      <select id="agent" name="agent" value={value} onChange={(e) => onPick(e.target.value)} data-testid="agent-select">
        {!agents.some((a) => a.name === DEFAULT_AGENT) && <option value={DEFAULT_AGENT}>{DEFAULT_AGENT}</option>}
        {/* An agent picked before (a run to start from), even when no worker publishes it any more (the server then says so). */}
        {!agent && !isDefault && <option value={value}>{value}</option>}
        {agents.map((a) => (
          <option key={a.name} value={a.name}>
            {a.name}
          </option>
        ))}
      </select>
      {agent?.description && !isDefault && <p className="detail">{agent.description}</p>}
    </div>
  );
}

/** The server's complaints about the input, each with the path it names. */
export function InputProblemList({ problems }: { problems: InputProblem[] }) {
  if (problems.length === 0) return null;
  return (
    <ul data-testid="input-problems">
      {problems.map((p, i) => (
        <li key={i}>
          {p.path && <code>{p.path}</code>} {p.message}
        </li>
      ))}
    </ul>
  );
}
