/**
 * A delegation in its parent's timeline: the child run a sub-agent runs, folded to its agent, status and cost.
 * Opened, it follows the child live on the page's socket — its own timeline and the text it is streaming, as
 * its own page would show them (the same subscription, which resumes with no gap and no duplicate) — and a
 * child's own children nest the same way. Closed, it follows nothing but its status, from the runs feed.
 */
import { useEffect, useReducer, useRef, useState } from 'react';
import { client } from '../api';
import { formatCost } from '../format';
import { live } from '../live';
import { applyMessage, emptyTimeline, entries, type SubagentEntry } from '../timeline';
import type { ChildRun } from '../../../contract/api';
import type { RunStatus, RunView, ServerMessage } from '../types';
import { Link } from './Link';
import { StatusBadge } from './StatusBadge';
import { Timeline } from './Timeline';

/** `child`: the child as its parent's view last listed it (status and spend while it runs). */
export function ChildRunPanel({ entry, child }: { entry: SubagentEntry; child?: ChildRun }) {
  const [open, setOpen] = useState(false);
  /** The child's own view while open: the freshest status and spend. */
  const [view, setView] = useState<RunView | null>(null);
  /** Its status as the runs feed last told it (the parent's listing moves only with the parent's events). */
  const [heard, setHeard] = useState<RunStatus | null>(null);
  useEffect(
    () =>
      live.watchRuns((change) => {
        if (change?.runId === entry.childRunId) setHeard(change.status);
      }),
    [entry.childRunId],
  );
  // Its parent's events decide once it has ended; until then its own view, else the feed, else its parent's listing.
  const status = entry.status !== 'running' ? entry.status : (view?.status ?? heard ?? child?.status ?? 'running');
  const cost = entry.costUsd ?? view?.usage.costUsd ?? child?.costUsd ?? 0;
  return (
    <details
      className="subagent"
      data-testid="subagent"
      data-child-run={entry.childRunId}
      data-status={status}
      onToggle={(e) => {
        setOpen(e.currentTarget.open);
        if (!e.currentTarget.open) setView(null);
      }}
    >
      <summary data-testid="subagent-summary">
        <span className="who">Sub-agent</span> <strong data-testid="subagent-agent">{entry.agent}</strong> <StatusBadge status={status} waitingFor={view?.waitingFor ?? null} />{' '}
        <span className="cost" data-testid="subagent-cost">
          {formatCost(cost)}
        </span>{' '}
        <code className="run-id">{entry.childRunId}</code>
      </summary>
      {entry.error && <p className="note note-error">{entry.error}</p>}
      {open && <ChildTimeline runId={entry.childRunId} onView={setView} />}
    </details>
  );
}

/** Events after which the child's view is read again (its status or spend may have moved). */
const VIEW_UNCHANGED = new Set<string>(['run.queued', 'tool.started', 'tool.completed', 'tool.failed', 'llm.retry']);

function ChildTimeline({ runId, onView }: { runId: string; onView: (view: RunView) => void }) {
  const [timeline, dispatch] = useReducer(applyMessage, emptyTimeline);
  const [view, setView] = useState<RunView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const refresh = useRef<ReturnType<typeof setTimeout>>(undefined);

  useEffect(() => {
    const show = (v: RunView) => {
      setView(v);
      onView(v);
    };
    const load = () =>
      client.runs.get(runId).then(show, (err: unknown) => setError(err instanceof Error ? err.message : String(err)));
    const stop = live.subscribe(runId, 0, (msg: ServerMessage) => {
      if (msg.type === 'snapshot') show(msg.progress);
      else if (msg.type === 'error') setError(msg.message);
      else dispatch(msg);
      if (msg.type === 'event' && !VIEW_UNCHANGED.has(msg.event.type)) {
        clearTimeout(refresh.current);
        refresh.current = setTimeout(() => void load(), 150);
      }
    });
    return () => {
      stop();
      clearTimeout(refresh.current);
    };
  }, [runId, onView]);

  return (
    <div className="subagent-body" data-testid="subagent-timeline">
      <p className="detail">
        <Link href={`/runs/${runId}`}>Open the sub-agent’s run</Link>
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <Timeline entries={entries(timeline)} runId={runId} onChanged={() => void client.runs.get(runId).then(setView, () => undefined)} childRuns={view?.children} />
    </div>
  );
}
