/**
 * Choosing what a run is, shared by the new run form and the new schedule form: the agent picker (the
 * default agent first), the goal or the agent's input form, and the server's `invalid_input` complaints.
 */
import { lazy, Suspense, type ReactNode } from 'react';
import type { AgentView, InputProblem } from '../agents';
import { DEFAULT_AGENT, type JsonSchema } from '../../../contract/agents';

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

// rjsf only loads when an agent with an input schema is picked.
const SchemaForm = lazy(() => import('./SchemaForm'));

/**
 * What a run is asked to do: the form drawn from the agent's input schema, or — for an agent without one — the
 * goal box. `onSubmit` gets the form's data (undefined for a goal); `children` are the fields and buttons after it.
 */
export function RequestForm(props: {
  agentName: string;
  inputSchema: JsonSchema | null;
  input: unknown;
  onInput: (input: unknown) => void;
  problems: InputProblem[];
  goal: string;
  onGoal: (goal: string) => void;
  goalRows: number;
  goalPlaceholder: string;
  busy: boolean;
  onSubmit: (input: unknown) => void;
  children: ReactNode;
}) {
  const { agentName, inputSchema, input, onInput, problems, goal, onGoal, goalRows, goalPlaceholder, busy, onSubmit, children } = props;
  if (inputSchema) {
    return (
      <Suspense fallback={<p>Loading the form…</p>}>
        <SchemaForm key={agentName} schema={inputSchema} formData={input} problems={problems} disabled={busy} onChange={onInput} onSubmit={onSubmit}>
          {children}
        </SchemaForm>
      </Suspense>
    );
  }
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        onSubmit(undefined);
      }}
    >
      <label htmlFor="goal">Goal</label>
      <textarea id="goal" name="goal" rows={goalRows} required value={goal} onChange={(e) => onGoal(e.target.value)} placeholder={goalPlaceholder} />
      {children}
    </form>
  );
}
