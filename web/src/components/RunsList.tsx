import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError, client } from '../api';
import { formatAge, formatCost, formatDuration, shortVersion, STATUS_LABEL } from '../format';
import { live } from '../live';
import { queryParam, replaceQuery } from '../router';
import { isTerminalStatus, RUN_STATUSES } from '../../../contract/run';
import type { RunStatus, RunSummary } from '../types';
import { Link } from './Link';
import { StatusBadge } from './StatusBadge';

/** Every status, after '' for all of them. */
const FILTERS: (RunStatus | '')[] = ['', ...RUN_STATUSES];
const isStatus = (v: string): v is RunStatus => (RUN_STATUSES as readonly string[]).includes(v);

/**
 * Every run of the user, newest first, kept current by the runs feed on the page's socket: a run
 * created anywhere appears at once, and each change re-reads the list. Filter and search live in
 * the address, so a reload or a shared link shows the same list.
 */
export function RunsList() {
  const [status, setStatus] = useState<RunStatus | ''>(() => (isStatus(queryParam('status')) ? (queryParam('status') as RunStatus) : ''));
  const [search, setSearch] = useState(() => queryParam('q'));
  const [q, setQ] = useState(search);
  const [runs, setRuns] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  /** Counts the list's loads: open trees read their children again with each. */
  const [version, setVersion] = useState(0);
  const refreshTimer = useRef<ReturnType<typeof setTimeout>>(undefined);
  /** Counts the loads asked for: only the latest one's answer is shown. */
  const loads = useRef(0);

  const load = useCallback(async () => {
    // A load still out when the filter changes (or a newer one is asked) may answer after the newer one: its list,
    // of the old filter, would replace the right one and stay until the next change.
    const mine = ++loads.current;
    try {
      const res = await client.runs.list({ limit: 50, status: status ? [status] : undefined, q: q.trim() || undefined });
      if (mine !== loads.current) return;
      setRuns(res.runs);
      setVersion((v) => v + 1);
      setError(null);
    } catch (err) {
      if (mine !== loads.current) return;
      if (!(err instanceof ApiError && err.status === 401)) setError(err instanceof Error ? err.message : String(err));
    }
  }, [status, q]);

  useEffect(() => replaceQuery({ status, q: q.trim() }), [status, q]);

  // Typing settles before the list is asked again.
  useEffect(() => {
    const t = setTimeout(() => setQ(search), 250);
    return () => clearTimeout(t);
  }, [search]);

  useEffect(() => {
    void load();
    const stop = live.watchRuns(() => {
      clearTimeout(refreshTimer.current);
      refreshTimer.current = setTimeout(() => void load(), 100);
    });
    const clock = setInterval(() => setNow(Date.now()), 1000);
    return () => {
      stop();
      clearTimeout(refreshTimer.current);
      clearInterval(clock);
    };
  }, [load]);

  return (
    <section aria-labelledby="runs-title">
      <div className="section-head">
        <h1 id="runs-title">Runs</h1>
        <label className="inline">
          Search{' '}
          <input type="search" value={search} onChange={(e) => setSearch(e.target.value)} placeholder="Goal contains…" data-shortcut="search" data-testid="search" aria-keyshortcuts="/" />
        </label>
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
        status || q ? <p>No runs match.</p> : <p>No runs yet. <Link href="/runs/new">Start one</Link>.</p>
      ) : (
        <table className="runs" data-testid="runs-table">
          <thead>
            <tr>
              <th scope="col">Status</th>
              <th scope="col">Goal</th>
              <th scope="col">Model</th>
              <th scope="col">Started</th>
              <th scope="col">Duration</th>
              <th scope="col">Turns</th>
              <th scope="col">Cost</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <RunRows key={r.id} run={r} depth={0} now={now} version={version} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * A run's row and, once opened, its children's rows under it (indented a step a level), each of which opens the
 * same way: the list shows run trees folded to their roots, with the count of each run's children.
 */
function RunRows({ run: r, depth, now, version }: { run: RunSummary; depth: number; now: number; version: number }) {
  const [open, setOpen] = useState(false);
  const [children, setChildren] = useState<RunSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (!open) return;
    let current = true;
    client.runs.children(r.id).then(
      (res) => {
        if (!current) return;
        setChildren(res.children);
        setError(null);
      },
      (err: unknown) => {
        if (current) setError(err instanceof Error ? err.message : String(err));
      },
    );
    return () => {
      current = false;
    };
  }, [open, r.id, version]);

  return (
    <>
      <tr data-run-id={r.id} data-depth={depth} className={depth > 0 ? 'child-run' : undefined}>
        <td data-label="Status">
          <StatusBadge status={r.status} waitingFor={r.waitingFor} />
          {r.worker === 'unavailable' && (
            <span className="status status-worker" data-testid="worker-unavailable">
              ⚠ Worker unavailable
            </span>
          )}
          {r.statusDetail && <div className="detail">{r.statusDetail}</div>}
        </td>
        <td data-label="Goal" className="goal" style={depth > 0 ? { paddingLeft: `${depth * 1.5}rem` } : undefined}>
          {depth > 0 && (
            <span className="tree-branch" aria-hidden="true">
              ↳{' '}
            </span>
          )}
          <Link href={`/runs/${r.id}`}>{r.goal.length > 140 ? `${r.goal.slice(0, 140)}…` : r.goal}</Link>
          <AgentTag run={r} />
          {r.team && (
            <span className="tag" data-testid="run-team" title={`team ${r.team}`}>
              {r.team}
            </span>
          )}
          {r.childCount > 0 && (
            <button type="button" className="link-button tree-toggle" aria-expanded={open} data-testid="toggle-children" onClick={() => setOpen(!open)}>
              {open ? '▾' : '▸'} {r.childCount} sub-agent {r.childCount === 1 ? 'run' : 'runs'}
            </button>
          )}
          {open && error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
        </td>
        <td data-label="Model">{r.model}</td>
        <td data-label="Started">
          <time dateTime={r.createdAt} title={new Date(r.createdAt).toLocaleString()}>
            {formatAge(r.createdAt, now)}
          </time>
        </td>
        <td data-label="Duration" data-testid="duration">
          {formatDuration((r.endedAt ? Date.parse(r.endedAt) : isTerminalStatus(r.status) ? Date.parse(r.updatedAt) : now) - Date.parse(r.createdAt))}
        </td>
        <td data-label="Turns">{r.turn}</td>
        <td data-label="Cost">{formatCost(r.usage.costUsd)}</td>
      </tr>
      {open && children?.map((c) => <RunRows key={c.id} run={c} depth={depth + 1} now={now} version={version} />)}
    </>
  );
}

/** The agent a run was started as and its version, quietly beside the goal (nothing for a run that named none). */
function AgentTag({ run }: { run: RunSummary }) {
  if (!run.agent) return null;
  return (
    <span className="tag" data-testid="run-agent" title={run.agentVersion ? `${run.agent}, version ${run.agentVersion}` : run.agent}>
      {run.agent}
      {run.agentVersion && ` @${shortVersion(run.agentVersion)}`}
    </span>
  );
}
