/**
 * The user's schedules: when each fires next and last fired, what it starts, its latest runs, and
 * pause / resume / run now / delete, and a form to create one (an agent and its input, or a goal). Refreshed every few seconds; a schedule fires on Temporal's
 * clock whether or not this page is open.
 */
import { useCallback, useEffect, useState } from 'react';
import { client } from '../api';
import { formatAge } from '../format';
import type { RunSummary } from '../types';
import type { ScheduleView } from '../../../contract/api';
import { ConfirmDialog } from './ConfirmDialog';
import { Link } from './Link';
import { NewSchedule } from './NewSchedule';
import { StatusBadge } from './StatusBadge';

const RECENT_RUNS = 5;

function timing(s: ScheduleView): string {
  const when = s.cron ? `cron ${s.cron}` : `every ${s.everySec} s`;
  return s.timezone === 'UTC' ? when : `${when} (${s.timezone})`;
}

const inFuture = (iso: string): string => {
  const s = Math.max(0, Math.round((Date.parse(iso) - Date.now()) / 1000));
  return s < 60 ? `in ${s}s` : s < 3600 ? `in ${Math.round(s / 60)} min` : new Date(iso).toLocaleString();
};

export function Schedules() {
  const [schedules, setSchedules] = useState<ScheduleView[] | null>(null);
  const [runs, setRuns] = useState<Record<string, RunSummary[]>>({});
  const [error, setError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ScheduleView | null>(null);

  const load = useCallback(async () => {
    try {
      const list = (await client.schedules.list()).schedules;
      setSchedules(list);
      const recent = await Promise.all(list.map(async (s) => [s.id, (await client.runs.list({ scheduleId: s.id, limit: RECENT_RUNS })).runs] as const));
      setRuns(Object.fromEntries(recent));
      setError(null);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);

  useEffect(() => {
    void load();
    const every = setInterval(() => void load(), 5_000);
    return () => clearInterval(every);
  }, [load]);

  async function act(s: ScheduleView, action: 'pause' | 'resume' | 'trigger' | 'delete') {
    setError(null);
    try {
      await client.schedules[action](s.id);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section aria-labelledby="schedules-title">
      <div className="section-head">
        <h1 id="schedules-title">Schedules</h1>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <details className="new-schedule-box" data-testid="new-schedule">
        <summary>New schedule</summary>
        <NewSchedule onCreated={() => void load()} />
      </details>
      {schedules?.length === 0 && <p className="detail">No schedules yet. Create one above, with POST /api/schedules or with the `longhaul` CLI.</p>}
      {schedules?.map((s) => (
        <article key={s.id} className="schedule" data-schedule-id={s.id} aria-label={s.name}>
          <h2>
            {s.name} {s.paused && <span className="status status-paused">‖ Paused</span>}
            {s.team && (
              <span className="tag" data-testid="schedule-team">
                {s.team}
              </span>
            )}
          </h2>
          <p className="goal-text">{s.goal}</p>
          {s.input !== undefined && s.input !== null && (
            <details className="run-input" data-testid="schedule-input">
              <summary>Input</summary>
              <pre>{JSON.stringify(s.input, null, 2)}</pre>
            </details>
          )}
          <dl className="facts">
            {s.agent && (
              <div>
                <dt>Agent</dt>
                <dd data-testid="schedule-agent">
                  <Link href="/agents">{s.agent}</Link>
                </dd>
              </div>
            )}
            <div>
              <dt>Fires</dt>
              <dd>{timing(s)}</dd>
            </div>
            <div>
              <dt>Next</dt>
              <dd data-testid="next-firing">{s.paused || !s.nextFiringsAt[0] ? '—' : inFuture(s.nextFiringsAt[0])}</dd>
            </div>
            <div>
              <dt>Last</dt>
              <dd data-testid="last-firing">{s.lastFiredAt ? formatAge(s.lastFiredAt) : 'never'}</dd>
            </div>
            {s.sharedWorkspace && (
              <div>
                <dt>Workspace</dt>
                <dd>shared across its runs</dd>
              </div>
            )}
          </dl>
          <div className="actions">
            {s.paused ? (
              <button type="button" onClick={() => void act(s, 'resume')}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => void act(s, 'pause')}>
                Pause
              </button>
            )}
            <button type="button" onClick={() => void act(s, 'trigger')}>
              Run now
            </button>
            <button type="button" className="danger" onClick={() => setDeleting(s)}>
              Delete
            </button>
          </div>
          {(runs[s.id] ?? []).length > 0 && (
            <ul className="schedule-runs" aria-label={`Latest runs of ${s.name}`}>
              {(runs[s.id] ?? []).map((r) => (
                <li key={r.id}>
                  <StatusBadge status={r.status} waitingFor={r.waitingFor} /> <Link href={`/runs/${r.id}`}>{formatAge(r.createdAt)}</Link>
                </li>
              ))}
            </ul>
          )}
        </article>
      ))}
      <ConfirmDialog
        open={deleting !== null}
        title="Delete this schedule?"
        message="It stops firing; runs it already started are kept."
        confirmLabel="Delete schedule"
        cancelLabel="Keep it"
        onConfirm={() => {
          const s = deleting;
          setDeleting(null);
          if (s) void act(s, 'delete');
        }}
        onClose={() => setDeleting(null)}
      />
    </section>
  );
}
