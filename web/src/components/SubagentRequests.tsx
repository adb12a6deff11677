import { useEffect, useRef, useState } from 'react';
import { client } from '../api';
import { live } from '../live';
import type { SubagentApproval, SubagentOrigin, SubagentQuestion } from '../../../contract/api';
import type { Decision } from '../../../contract/run';
import type { RunView } from '../types';
import { DecisionConfirm } from './DecisionConfirm';
import { Link } from './Link';
import { ToolInput } from './ToolInput';
import { useAction } from './use-action';

/** Statuses of a run that asks a human for something. */
const ASKING = new Set<string>(['waiting_approval', 'waiting_input']);

/**
 * What the run's sub-agents (and theirs) wait for from a human, on the parent's page: each approval with Approve /
 * Reject, decided through this run's id, and each question with an answer box — the child run resumes. Each says
 * which sub-agent asks. The requests live in the child runs, whose events this page does not follow: the runs feed
 * says when any run changed, and the page reads the run again.
 */
export function SubagentRequests({ run, onChanged }: { run: RunView; onChanged: () => void }) {
  const hasChildren = run.children.length > 0;
  // The runs whose requests are shown: when one of them moves on (decided elsewhere, expired), the list changes.
  const shown = useRef(new Set<string>());
  shown.current = new Set([...run.subagentApprovals, ...run.subagentQuestions].map((r) => r.subagent.runId));
  useEffect(() => {
    if (!hasChildren) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = live.watchRuns((change) => {
      // Read again when some run begins to ask (it may be below this one), or a shown request's run moved on.
      if (change && !ASKING.has(change.status) && !shown.current.has(change.runId)) return;
      clearTimeout(timer);
      timer = setTimeout(onChanged, 300);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }, [hasChildren, onChanged]);

  if (run.subagentApprovals.length === 0 && run.subagentQuestions.length === 0) return null;
  return (
    <section className="subagent-requests" aria-labelledby="subagent-requests-title" data-testid="subagent-requests">
      <h2 id="subagent-requests-title">Its sub-agents ask</h2>
      {run.subagentApprovals.map((a) => (
        <SubagentApprovalCard key={a.approvalId} runId={run.id} approval={a} onChanged={onChanged} />
      ))}
      {run.subagentQuestions.map((q) => (
        <SubagentQuestionCard key={q.requestId} question={q} onChanged={onChanged} />
      ))}
    </section>
  );
}

/** Which sub-agent asks, and (`withRoot`) of which run tree: a line the parent's page and the inbox show. */
export function SubagentLabel({ origin, withRoot = false }: { origin: SubagentOrigin; withRoot?: boolean }) {
  return (
    <p className="detail subagent-label" data-testid="subagent-label">
      Sub-agent <strong>{origin.agent ?? 'unnamed'}</strong> (run <Link href={`/runs/${origin.runId}`}>{origin.runId}</Link>)
      {withRoot && (
        <>
          {' '}
          of run <Link href={`/runs/${origin.rootRunId}`}>{origin.rootRunId}</Link>
        </>
      )}
    </p>
  );
}

function SubagentApprovalCard({ runId, approval, onChanged }: { runId: string; approval: SubagentApproval; onChanged: () => void }) {
  const [comment, setComment] = useState('');
  const [confirming, setConfirming] = useState<Decision | null>(null);
  const { busy, error, run } = useAction(onChanged);
  const id = `comment-${approval.approvalId}`;
  // Through this run's id: the API finds the approval below it and resumes the child run.
  const decide = (decision: Decision) => run(() => client.approvals.decide(runId, approval.approvalId, { decision, ...(comment.trim() && { comment: comment.trim() }) }));
  return (
    <section id={`approval-${approval.approvalId}`} tabIndex={-1} className="card approval" aria-label={`Approval for ${approval.tool ?? 'continuing'}, asked by sub-agent ${approval.subagent.agent ?? approval.subagent.runId}`} data-testid="subagent-approval">
      <h3>{approval.tool ? `Approve ${approval.tool}?` : 'Approve continuing?'}</h3>
      <SubagentLabel origin={approval.subagent} />
      <p>{approval.reason}</p>
      {approval.risk && <p className="risk">Risk: {approval.risk}</p>}
      {approval.input !== null && approval.input !== undefined && (
        <details open>
          <summary>Input</summary>
          <ToolInput tool={approval.tool} input={approval.input} runId={approval.subagent.runId} />
        </details>
      )}
      <DecisionConfirm decision={confirming} tool={approval.tool} reason={approval.reason} onConfirm={(decision) => void decide(decision)} onClose={() => setConfirming(null)} />
      <p className="expires">Expires {new Date(approval.expiresAt).toLocaleString()}</p>
      <label htmlFor={id}>Comment (optional)</label>
      <textarea id={id} rows={2} value={comment} onChange={(e) => setComment(e.target.value)} />
      <div className="actions">
        <button type="button" disabled={busy} onClick={() => setConfirming('approve')}>
          Approve
        </button>
        <button type="button" className="danger" disabled={busy} onClick={() => setConfirming('reject')}>
          Reject
        </button>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </section>
  );
}

function SubagentQuestionCard({ question, onChanged }: { question: SubagentQuestion; onChanged: () => void }) {
  const [text, setText] = useState('');
  const { busy, error, run } = useAction(onChanged);
  const id = `answer-${question.requestId}`;
  const send = (e: React.FormEvent) => {
    e.preventDefault();
    // The child's own route: the typed client answers a run's own question.
    void run(() => client.input.answer(question.subagent.runId, text));
  };
  return (
    <section id={`question-${question.requestId}`} tabIndex={-1} className="card question" aria-label={`Question from sub-agent ${question.subagent.agent ?? question.subagent.runId}`} data-testid="subagent-question">
      <h3>The sub-agent asks</h3>
      <SubagentLabel origin={question.subagent} />
      <p className="text">{question.question}</p>
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
    </section>
  );
}
