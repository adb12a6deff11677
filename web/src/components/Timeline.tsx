import { useEffect, useRef, useState } from 'react';
import { client } from '../api';
import { formatAge, formatDuration } from '../format';
import { DECIDE_EVENT, type DecideDetail } from '../shortcuts';
import type { Entry, ToolCallView } from '../timeline';
import { isCutInputPreview, type Decision } from '../../../contract/run';
import type { ChildRun } from '../../../contract/api';
import { DecisionConfirm } from './DecisionConfirm';
import { ToolInput } from './ToolInput';
import { ChildRunPanel } from './ChildRunPanel';
import { useAction } from './use-action';

/**
 * Everything the run did, in order. Agent and tool output is shown as text, never as HTML. `childRuns`: the run's
 * children as its view lists them, for the status and spend of the sub-agents still running.
 */
export function Timeline({ entries, runId, onChanged, childRuns }: { entries: Entry[]; runId: string; onChanged: () => void; childRuns?: ChildRun[] }) {
  return (
    <ol className="timeline" aria-label="Timeline" data-testid="timeline">
      {entries.map((e) => (
        <li key={e.key} className={`entry entry-${e.kind}`} data-entry={e.key} data-seq={e.seq ?? undefined}>
          {e.at && e.kind !== 'gap' && <When at={e.at} />}
          {e.kind === 'assistant' && <Assistant entry={e} runId={runId} />}
          {e.kind === 'approval' && <ApprovalCard entry={e} runId={runId} onChanged={onChanged} />}
          {e.kind === 'question' && <QuestionCard entry={e} runId={runId} onChanged={onChanged} />}
          {e.kind === 'subagent' && <ChildRunPanel entry={e} child={childRuns?.find((c) => c.id === e.childRunId)} />}
          {e.kind === 'note' && <p className={`note note-${e.tone}`}>{e.text}</p>}
          {e.kind === 'gap' && (
            <p className="note note-gap" data-testid="gap">
              {formatDuration(e.ms)} with nothing new: {e.cause}
            </p>
          )}
          {e.kind === 'user' && (
            <div>
              <p className="who">{e.by} · follow-up</p>
              <p className="text">{e.text}</p>
            </div>
          )}
        </li>
      ))}
    </ol>
  );
}

/** When an entry happened: relative, the exact time on hover (and to screen readers through dateTime). */
function When({ at }: { at: string }) {
  return (
    <time className="when" dateTime={at} title={new Date(at).toLocaleString()}>
      {formatAge(at)}
    </time>
  );
}

function Assistant({ entry, runId }: { entry: Extract<Entry, { kind: 'assistant' }>; runId: string }) {
  return (
    <div>
      <p className="who">
        Agent · turn {entry.turn}
        {entry.ms !== null && <span className="duration"> · {formatDuration(entry.ms)}</span>}
        {entry.streaming && (
          <span className="streaming" aria-live="polite">
            {' '}
            · writing…
          </span>
        )}
      </p>
      {entry.text && (
        <p className="text" data-testid={entry.streaming ? 'streaming-text' : 'message-text'}>
          {entry.text}
        </p>
      )}
      {entry.tools.length > 0 && (
        <ul className="tools">
          {entry.tools.map((t) => (
            <ToolCall key={t.id} call={t} runId={runId} />
          ))}
        </ul>
      )}
    </div>
  );
}

const TOOL_STATUS: Record<ToolCallView['status'], string> = {
  requested: 'waiting',
  running: 'running…',
  done: 'done',
  failed: 'failed',
  skipped: 'not run',
  stopped: 'stopped with the run',
};

function ToolCall({ call, runId }: { call: ToolCallView; runId: string }) {
  return (
    <li className={`tool tool-${call.status}`} data-tool={call.name}>
      <div className="tool-head">
        <code>{call.name}</code> <span className="risk">{call.risk}</span> <span className="tool-status">{TOOL_STATUS[call.status]}</span>
        {call.startedAt && call.endedAt && <span className="duration"> · {formatDuration(Date.parse(call.endedAt) - Date.parse(call.startedAt))}</span>}
      </div>
      <details>
        <summary>Input</summary>
        <ToolInput tool={call.name} input={call.input} runId={runId} />
      </details>
      {call.output !== null && <Output text={call.output} bytes={call.bytes} truncated={call.truncated} failed={call.status !== 'done'} />}
    </li>
  );
}

const FOLD_AT = 2000;

/** Long output is folded: the first part shows, the rest on request. */
function Output({ text, bytes, truncated, failed }: { text: string; bytes: number | null; truncated: boolean; failed: boolean }) {
  const [all, setAll] = useState(false);
  const long = text.length > FOLD_AT;
  return (
    <details open={!long || failed}>
      <summary>
        {failed ? 'Error' : 'Output'}
        {bytes !== null && ` (${bytes.toLocaleString()} bytes${truncated ? ', truncated' : ''})`}
      </summary>
      <pre className={failed ? 'output output-error' : 'output'}>{long && !all ? `${text.slice(0, FOLD_AT)}…` : text}</pre>
      {long && (
        <button type="button" className="link-button" onClick={() => setAll(!all)}>
          {all ? 'Show less' : `Show all ${text.length.toLocaleString()} characters`}
        </button>
      )}
    </details>
  );
}

/**
 * The request `a` / `r` mean: the pending card that holds the focus, or the only pending card on
 * the page when nothing in particular is focused.
 */
function isShortcutTarget(card: HTMLElement | null): boolean {
  if (!card) return false;
  if (card.contains(document.activeElement)) return true;
  const pending = document.querySelectorAll('[data-pending="true"]');
  return pending.length === 1 && pending[0] === card && (document.activeElement === document.body || document.activeElement === null);
}

function ApprovalCard({ entry, runId, onChanged }: { entry: Extract<Entry, { kind: 'approval' }>; runId: string; onChanged: () => void }) {
  const [comment, setComment] = useState('');
  const [confirming, setConfirming] = useState<Decision | null>(null);
  // Events carry a preview of long input; the approval itself has all of it.
  const [input, setInput] = useState<unknown>(entry.input);
  const card = useRef<HTMLElement>(null);
  const { busy, error, run } = useAction(onChanged);
  const id = `comment-${entry.approvalId}`;
  const pending = !entry.outcome;
  const decide = (decision: Decision) =>
    run(() => client.approvals.decide(runId, entry.approvalId, { decision, ...(comment.trim() && { comment: comment.trim() }) }));

  // Only when it matters: a request still to decide, or an input the event shows cut (`… (N characters)`).
  const cut = isCutInputPreview(entry.input);
  useEffect(() => {
    if (!pending && !cut) return;
    let live = true;
    client.approvals.get(entry.approvalId).then(
      (a) => live && setInput(a.input),
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [entry.approvalId, pending, cut]);

  useEffect(() => {
    if (!pending) return;
    const onDecide = (e: Event) => {
      if (isShortcutTarget(card.current)) setConfirming((e as CustomEvent<DecideDetail>).detail.decision);
    };
    addEventListener(DECIDE_EVENT, onDecide);
    return () => removeEventListener(DECIDE_EVENT, onDecide);
  }, [pending]);

  return (
    <section
      ref={card}
      id={`approval-${entry.approvalId}`}
      tabIndex={-1}
      className="card approval"
      aria-label={`Approval for ${entry.tool ?? 'continuing'}`}
      aria-keyshortcuts={pending ? 'a r' : undefined}
      data-testid="approval"
      data-pending={pending}
    >
      <h2>{entry.tool ? `Approve ${entry.tool}?` : 'Approve continuing?'}</h2>
      <p>{entry.reason}</p>
      {entry.risk && <p className="risk">Risk: {entry.risk}</p>}
      {input !== null && input !== undefined && (
        <details open>
          <summary>Input</summary>
          <ToolInput tool={entry.tool} input={input} runId={runId} />
        </details>
      )}
      <DecisionConfirm decision={confirming} tool={entry.tool} reason={entry.reason} onConfirm={(decision) => void decide(decision)} onClose={() => setConfirming(null)} />
      {entry.outcome ? (
        <p className={`outcome outcome-${entry.outcome.decision}`} data-testid="approval-outcome">
          {entry.outcome.decision === 'expired'
            ? 'Expired without a decision, so it was rejected.'
            : entry.outcome.decision === 'closed'
              ? 'Closed undecided: the run ended first.'
            : `${entry.outcome.decision === 'approved' ? 'Approved' : 'Rejected'} by ${entry.outcome.by ?? 'someone'}${entry.outcome.comment ? `: “${entry.outcome.comment}”` : ''}`}
        </p>
      ) : (
        <>
          <p className="expires">Expires {new Date(entry.expiresAt).toLocaleString()}</p>
          <label htmlFor={id}>Comment (optional)</label>
          <textarea id={id} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
          <div className="actions">
            <button type="button" disabled={busy} onClick={() => void decide('approve')}>
              Approve
            </button>
            <button type="button" className="danger" disabled={busy} onClick={() => void decide('reject')}>
              Reject
            </button>
          </div>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
        </>
      )}
    </section>
  );
}

function QuestionCard({ entry, runId, onChanged }: { entry: Extract<Entry, { kind: 'question' }>; runId: string; onChanged: () => void }) {
  const [text, setText] = useState('');
  const { busy, error, run } = useAction(onChanged);
  const id = `answer-${entry.requestId}`;
  const send = (e: React.FormEvent) => {
    e.preventDefault();
    void run(() => client.input.answer(runId, text));
  };

  return (
    <section id={`question-${entry.requestId}`} tabIndex={-1} className="card question" aria-label="Question from the agent" data-testid="question" data-pending={!entry.answer && !entry.expired && !entry.closed}>
      <h2>The agent asks</h2>
      <p className="text">{entry.question}</p>
      {entry.answer ? (
        <p className="outcome">
          Answered by {entry.answer.by}: “{entry.answer.text}”
        </p>
      ) : entry.expired ? (
        <p className="outcome">Expired without an answer.</p>
      ) : entry.closed ? (
        <p className="outcome" data-testid="question-closed">
          Closed unanswered: the run ended first.
        </p>
      ) : (
        <form onSubmit={send}>
          <label htmlFor={id}>Your answer</label>
          <textarea id={id} rows={3} required value={text} onChange={(e) => setText(e.target.value)} />
          <button type="submit" disabled={busy}>
            Send answer
          </button>
          {error && (
            <p role="alert" className="error">
              {error}
            </p>
          )}
        </form>
      )}
    </section>
  );
}
