import { useEffect, useState } from 'react';
import { ApiError, client } from '../api';
import { navigate, queryParam } from '../router';

/**
 * Start a run: the goal, and optionally the model, approval policy and limits. With `?from=<run id>`
 * ("Edit and run again") the form starts filled with that run's goal and options.
 */
export function NewRun() {
  const [goal, setGoal] = useState('');
  const [model, setModel] = useState('');
  const [approvals, setApprovals] = useState<'none' | 'write' | 'all'>('write');
  const [maxSteps, setMaxSteps] = useState('');
  const [maxCostUsd, setMaxCostUsd] = useState('');
  const [maxMinutes, setMaxMinutes] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const from = queryParam('from');

  useEffect(() => {
    if (!from) return;
    client.runs.get(from).then(
      (run) => {
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

  async function submit(e: React.FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const limits: Record<string, number> = {};
    if (maxSteps) limits.maxSteps = Number(maxSteps);
    if (maxCostUsd) limits.maxCostUsd = Number(maxCostUsd);
    if (maxMinutes) limits.maxDurationSec = Math.round(Number(maxMinutes) * 60);
    try {
      const res = await client.runs.start({
        goal,
        ...(model.trim() && { model: model.trim() }),
        approvals,
        ...(Object.keys(limits).length && { limits }),
      });
      navigate(`/runs/${res.id}`);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
      setBusy(false);
    }
  }

  return (
    <section aria-labelledby="new-title" className="new-run">
      <h1 id="new-title">{from ? 'Edit and run again' : 'New run'}</h1>
      <form onSubmit={submit}>
        <label htmlFor="goal">Goal</label>
        <textarea id="goal" name="goal" rows={5} required value={goal} onChange={(e) => setGoal(e.target.value)} placeholder="What should the agent do?" />

        <label htmlFor="model">Model</label>
        <input id="model" name="model" list="models" value={model} onChange={(e) => setModel(e.target.value)} placeholder="Server default" />
        <datalist id="models">
          <option value="demo" />
          <option value="claude-sonnet-5-5" />
          <option value="claude-opus-5-5" />
          <option value="claude-haiku-4-5" />
        </datalist>

        <label htmlFor="approvals">Ask for approval before</label>
        <select id="approvals" name="approvals" value={approvals} onChange={(e) => setApprovals(e.target.value as typeof approvals)}>
          <option value="write">Actions that change something (write)</option>
          <option value="all">Every tool call</option>
          <option value="none">Nothing</option>
        </select>

        <fieldset>
          <legend>Limits (blank: server defaults)</legend>
          <label htmlFor="maxSteps">Max steps</label>
          <input id="maxSteps" name="maxSteps" type="number" min={1} step={1} inputMode="numeric" value={maxSteps} onChange={(e) => setMaxSteps(e.target.value)} />
          <label htmlFor="maxCostUsd">Max cost (USD)</label>
          <input id="maxCostUsd" name="maxCostUsd" type="number" min={0.01} step={0.01} inputMode="decimal" value={maxCostUsd} onChange={(e) => setMaxCostUsd(e.target.value)} />
          <label htmlFor="maxMinutes">Max duration (minutes)</label>
          <input id="maxMinutes" name="maxMinutes" type="number" min={1} step={1} inputMode="numeric" value={maxMinutes} onChange={(e) => setMaxMinutes(e.target.value)} />
        </fieldset>

        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? 'Starting…' : 'Start run'}
        </button>
      </form>
    </section>
  );
}
