import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { ApiError, client } from '../api';
import { formatCost, formatDuration, formatInput, formatTokens, shortVersion } from '../format';
import { navigate } from '../router';
import { live } from '../live';
import { applyMessage, emptyTimeline, entries } from '../timeline';
import { isTerminalStatus } from '../../../contract/run';
import type { RunView, ServerMessage } from '../types';
import { ConfirmDialog } from './ConfirmDialog';
import { StatusBadge } from './StatusBadge';
import { Timeline } from './Timeline';
import { canMessage, MessageBox } from './MessageBox';
import { WorkspaceFiles } from './WorkspaceFiles';
import { Link } from './Link';
import { Spend } from './Spend';
import { SubagentRequests } from './SubagentRequests';

/** The card of the request waiting now (an approval first), for the header's link to it. */
function pendingAnchor(run: RunView): string | null {
  const approval = run.pendingApprovals[0];
  if (approval) return `approval-${approval.approvalId}`;
  return run.pendingInput ? `question-${run.pendingInput.requestId}` : null;
}

/** Brings a request's card into view and gives it the keyboard (so `a` / `r` mean it). */
function goTo(anchor: string): boolean {
  const el = document.getElementById(anchor);
  if (!el) return false;
  el.scrollIntoView({ block: 'center' });
  el.focus({ preventScroll: true });
  return true;
}

/** Events that change nothing in the header; after any other, it is fetched again (debounced). */
const HEADER_UNCHANGED = new Set<string>(['run.queued', 'llm.retry', 'tool.started', 'tool.completed', 'tool.failed']);

function statusLine(run: RunView): string | null {
  if (run.worker === 'unavailable') return run.statusDetail ?? 'No worker is answering: the run will carry on when one is back.';
  if (run.status === 'failed') return run.error ? `${run.error.message} (${run.error.code})` : run.statusDetail;
  return run.statusDetail;
}

export function RunPage({ id }: { id: string }) {
  const [run, setRun] = useState<RunView | null>(null);
  /** The run's agent's current version (null: no agent, or not known). */
  const [currentVersion, setCurrentVersion] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The server stopped this run's feed: the user's roles changed, and they may no longer see it. */
  const [accessEnded, setAccessEnded] = useState(false);
  const [timeline, dispatch] = useReducer(applyMessage, emptyTimeline);
  const [confirmCancel, setConfirmCancel] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const refresh = useRef<ReturnType<typeof setTimeout>>(undefined);

  const load = useCallback(async () => {
    try {
      setRun(await client.runs.get(id));
      setError(null);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 404 ? 'This run does not exist, or it is not yours.' : err instanceof Error ? err.message : String(err));
    }
  }, [id]);

  useEffect(() => {
    setAccessEnded(false);
    void load();
    return live.subscribe(id, 0, (msg: ServerMessage) => {
      if (msg.type === 'snapshot') setRun(msg.progress);
      else if (msg.type === 'error' && msg.code === 'run_access_ended') setAccessEnded(true);
      else if (msg.type === 'error') setError(msg.message);
      else dispatch(msg);
      if (msg.type === 'event' && !HEADER_UNCHANGED.has(msg.event.type)) {
        clearTimeout(refresh.current);
        refresh.current = setTimeout(() => void load(), 150);
      }
    });
  }, [id, load]);

  // The agent's current version, to offer an upgrade to a run pinned to an older one.
  const agentName = run?.agent ?? null;
  useEffect(() => {
    if (!agentName) return;
    client.agents.list().then(
      (res) => setCurrentVersion(res.agents.find((a) => a.name === agentName)?.currentVersion ?? null),
      () => setCurrentVersion(null),
    );
  }, [agentName]);

  /** The same goal (or input) and options, as a new run. */
  async function rerun() {
    if (!run) return;
    setActionError(null);
    const options = { model: run.model, approvals: run.approvals, limits: run.limits, team: run.team };
    try {
      const created = run.agent
        ? await client.runs.start({ agent: run.agent, ...(run.input !== undefined && run.input !== null ? { input: run.input } : { goal: run.goal }), ...options })
        : await client.runs.start({ goal: run.goal, ...options });
      navigate(`/runs/${created.id}`);
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    }
  }

  async function act(action: 'pause' | 'resume' | 'cancel' | 'upgrade') {
    setActionError(null);
    try {
      await client.runs[action](id);
      void load();
    } catch (err) {
      setActionError(err instanceof Error ? err.message : String(err));
    }
  }

  // A link to a request (the inbox's, the header's) lands on its card once the timeline has it.
  const [landed, setLanded] = useState(false);
  const entryCount = timeline.events.length;
  useEffect(() => {
    if (landed || !location.hash) return;
    if (goTo(decodeURIComponent(location.hash.slice(1)))) setLanded(true);
  }, [entryCount, landed]);

  // What is shown of the run is no longer the user's to see: say so instead of it, not a stale page that looks live.
  if (accessEnded) {
    return (
      <p role="alert" className="error" data-testid="run-access-ended">
        You may no longer see this run: your roles changed, so its live updates have stopped. Ask a team admin if you still need it.
      </p>
    );
  }
  if (error && !run) {
    return (
      <p role="alert" className="error">
        {error}
      </p>
    );
  }
  if (!run) return <p>Loading…</p>;
  const ended = isTerminalStatus(run.status);
  const detail = statusLine(run);
  const waiting = ended ? null : pendingAnchor(run);
  const canUpgrade = !ended && !!run.agent && !!run.agentVersion && !!currentVersion && currentVersion !== run.agentVersion;

  return (
    <article className="run" aria-labelledby="run-goal">
      {/* Outside the header, so it stays in view (sticky) all the way down the timeline. */}
      {waiting && (
        <a
          href={`#${waiting}`}
          className="pending-bar"
          data-testid="go-to-request"
          onClick={(e) => {
            e.preventDefault();
            // The timeline may already hold a newer request than the header knows of: the first card still pending wins.
            const anchor = document.querySelector('[data-pending="true"]')?.id || waiting;
            history.replaceState(null, '', `#${anchor}`);
            goTo(anchor);
          }}
        >
          {run.pendingApprovals.length > 0 ? 'An approval waits for a decision' : 'The agent asks you something'}: go to it ↓
        </a>
      )}
      <header className="run-header">
        <div className="run-status" data-testid="run-status">
          <StatusBadge status={run.status} waitingFor={run.waitingFor} />
          {run.worker === 'unavailable' && !ended && <span className="status status-worker">⚠ Worker unavailable</span>}
          {detail && <p className="detail">{detail}</p>}
        </div>
        <h1 id="run-goal" className="goal-text">
          {run.goal}
        </h1>
        <dl className="facts">
          <div>
            <dt>Run</dt>
            <dd>
              <code data-testid="run-id">{run.id}</code>{' '}
              <button type="button" className="link-button" onClick={() => void navigator.clipboard?.writeText(run.id)} aria-label="Copy the run id">
                Copy
              </button>
            </dd>
          </div>
          <div>
            <dt>Elapsed</dt>
            <dd data-testid="elapsed">
              <Elapsed from={run.createdAt} to={run.endedAt} />
            </dd>
          </div>
          {run.team && (
            <div>
              <dt>Team</dt>
              <dd data-testid="run-team">{run.team}</dd>
            </div>
          )}
          {run.agent && (
            <div>
              <dt>Agent</dt>
              <dd data-testid="run-agent">
                <Link href="/agents">{run.agent}</Link>
                {run.agentVersion && (
                  <>
                    {' '}
                    <code title={run.agentVersion}>{shortVersion(run.agentVersion)}</code>
                  </>
                )}
              </dd>
            </div>
          )}
          <div>
            <dt>Model</dt>
            <dd>{run.model}</dd>
          </div>
          <div>
            <dt>Turn</dt>
            <dd>
              {run.turn} / {run.limits.maxSteps}
            </dd>
          </div>
          <div>
            <dt>Tokens</dt>
            <dd>
              {formatInput(run.usage)} · {formatTokens(run.usage.outputTokens)} out
            </dd>
          </div>
          <div>
            <dt>Cost</dt>
            <dd data-testid="cost">
              {formatCost(run.usage.costUsd)} of {formatCost(run.limits.maxCostUsd)}
            </dd>
          </div>
        </dl>
        {run.input !== undefined && run.input !== null && (
          <details className="run-input" data-testid="run-input">
            <summary>Input</summary>
            <pre>{JSON.stringify(run.input, null, 2)}</pre>
          </details>
        )}
        <div className="actions">
          <button type="button" onClick={() => void rerun()}>
            Run again
          </button>
          <Link href={`/runs/new?from=${encodeURIComponent(run.id)}`} className="button secondary">
            Edit and run again
          </Link>
          {run.temporalUrl && (
            <a href={run.temporalUrl} target="_blank" rel="noreferrer noopener" className="button secondary" data-testid="temporal-link">
              Open in Temporal
            </a>
          )}
        </div>
        <Spend run={run} events={timeline.events} />
        {!ended && (
          <div className="actions">
            {run.status === 'paused' ? (
              <button type="button" onClick={() => void act('resume')}>
                Resume
              </button>
            ) : (
              <button type="button" onClick={() => void act('pause')}>
                Pause
              </button>
            )}
            <button type="button" className="danger" onClick={() => setConfirmCancel(true)}>
              Cancel run
            </button>
          </div>
        )}
        {!ended && run.upgradePending ? (
          <p className="detail" data-testid="upgrade-pending">
            Moving to the agent’s current version at the next turn.
          </p>
        ) : (
          canUpgrade && (
            <div className="actions">
              <button type="button" className="secondary" onClick={() => void act('upgrade')} title={`From ${run.agentVersion} to ${currentVersion}`}>
                Upgrade to current version ({shortVersion(currentVersion)})
              </button>
            </div>
          )
        )}
        {actionError && (
          <p role="alert" className="error">
            {actionError}
          </p>
        )}
      </header>

      <SubagentRequests run={run} onChanged={load} />
      <Timeline entries={entries(timeline)} runId={id} onChanged={() => void load()} childRuns={run.children} />
      {run.result && run.status === 'completed' && (
        <section className="result" aria-label="Result">
          <h2>Result</h2>
          <p className="text">{run.result}</p>
        </section>
      )}
      {run.status === 'completed' && run.output !== undefined && run.output !== null && <Output value={run.output} />}
      {canMessage(run) && <MessageBox run={run} onSent={() => void load()} />}
      <WorkspaceFiles runId={id} version={timeline.events.filter((e) => e.type === 'tool.completed' || e.type.startsWith('workspace.')).length} ended={ended} />

      <ConfirmDialog
        open={confirmCancel}
        title="Cancel this run?"
        message="The run stops now; whatever is in flight is cancelled. This cannot be undone."
        confirmLabel="Cancel run"
        cancelLabel="Keep running"
        onConfirm={() => {
          setConfirmCancel(false);
          void act('cancel');
        }}
        onClose={() => setConfirmCancel(false)}
      />
    </article>
  );
}

/** Time since the run was created, to its end or to now (ticking while it lives). */
function Elapsed({ from, to }: { from: string; to: string | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (to) return;
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, [to]);
  return <>{formatDuration((to ? Date.parse(to) : now) - Date.parse(from))}</>;
}

/** A completed run's structured output (its agent's final result), pretty-printed, with a copy button. */
function Output({ value }: { value: unknown }) {
  const text = JSON.stringify(value, null, 2);
  return (
    <section className="result" aria-label="Output">
      <h2>Output</h2>
      <pre data-testid="run-output">{text}</pre>
      <button type="button" className="link-button" onClick={() => void navigator.clipboard?.writeText(text)} aria-label="Copy the output as JSON">
        Copy
      </button>
    </section>
  );
}
