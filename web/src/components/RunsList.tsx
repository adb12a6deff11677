import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, client } from '../api';
import { formatAge, formatCost, STATUS_LABEL } from '../format';
import { live } from '../live';
import { TERMINAL, type RunStatus, type RunSummary } from '../types';
import { Link } from './Link';
import { StatusBadge } from './StatusBadge';

const FILTERS: (RunStatus | '')[] = ['', 'queued', 'running', 'waiting_approval', 'waiting_input', 'paused', 'completed', 'failed', 'cancelled'];

/** Every run of the user, newest first, kept current: unfinished runs are followed live. */
export function RunsList() {
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [, setTick] = useState(0);
  const refreshTimer = useRef<ReturnType<typeof setTimeout>>(undefined);

  const load = useCallback(async () => {
    try {
      const res = await client.runs.list({ limit: 50, status: status ? [status] : undefined });
      setRuns(res.runs);
      setError(null);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 401)) setError(err instanceof Error ? err.message : String(err));
    }
  }, [status]);

  useEffect(() => {
    void load();
    // New runs started elsewhere (another tab, the API) appear within a few seconds.
    const every = setInterval(() => void load(), 10_000);
    const clock = setInterval(() => setTick((t) => t + 1), 30_000);
    return () => {
      clearInterval(every);
      clearInterval(clock);
    };
  }, [load]);

  // Follow unfinished runs: any event may change a status or a cost; refetch soon after.
  const unfinished = (runs ?? []).filter((r) => !TERMINAL.includes(r.status));
  const followKey = unfinished.map((r) => r.id).join(',');
  useEffect(() => {
    const unsubscribes = unfinished.map((r) =>
      live.subscribe(r.id, r.lastSeq, (msg) => {
        if (msg.type !== 'event') return;
        clearTimeout(refreshTimer.current);
        refreshTimer.current = setTimeout(() => void load(), 250);
      }),
    );
    return () => unsubscribes.forEach((u) => u());
  }, [followKey, load]);

  return (
    <section aria-labelledby="runs-title">
      <div className="section-head">
        <h1 id="runs-title">Runs</h1>
        <label className="inline">
          Status{' '}
          <select value={status} onChange={(e) => setStatus(e.target.value as RunStatus | '')} data-testid="status-filter">
            {FILTERS.map((f) => (
              <option key={f} value={f}>
                {f ? STATUS_LABEL[f] : 'All'}
              </option>
            ))}
          </select>
        </label>
        <Link href="/runs/new" className="button">
          New run
        </Link>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {runs === null ? (
        <p>Loading…</p>
      ) : runs.length === 0 ? (
        <p>No runs yet. <Link href="/runs/new">Start one</Link>.</p>
      ) : (
        <table className="runs" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Goal</th>
              <th scope="col">Model</th>
              <th scope="col">Started</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id} data-run-id={r.id}>
                <td data-label="Status">
                  <StatusBadge status={r.status} detail={r.statusDetail} />
                  {r.statusDetail && <div className="detail">{r.statusDetail}</div>}
                </td>
                <td data-label="Goal" className="goal">
                  <Link href={`/runs/${r.id}`}>{r.goal.length > 140 ? `${r.goal.slice(0, 140)}…` : r.goal}</Link>
                </td>
                <td data-label="Model">{r.model}</td>
                <td data-label="Started">
                  <time dateTime={r.createdAt} title={new Date(r.createdAt).toLocaleString()}>
                    {formatAge(r.createdAt)}
                  </time>
                </td>
                <td data-label="Cost">{formatCost(r.usage.costUsd)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
