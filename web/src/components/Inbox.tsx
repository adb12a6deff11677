import { useEffect, useState } from 'react';
import { client } from '../api';
import { formatAge, formatDuration } from '../format';
import { dropFromInbox, loadMoreOfInbox, refreshInbox, useInbox, type InboxItem } from '../inbox';
import { isCutInputPreview, type Decision } from '../../../contract/run';
import { DecisionConfirm } from './DecisionConfirm';
import { Link } from './Link';
import { SubagentLabel } from './SubagentRequests';
import { ToolInput } from './ToolInput';

type Approval = Extract<InboxItem, { kind: 'approval' }>;

/** Where a request lives on its run's page: the card the header's "Go to request" also jumps to. */
export const requestAnchor = (item: Pick<InboxItem, 'kind' | 'id'>): string => `${item.kind}-${item.id}`;

/**
 * Everything waiting for me, across runs, oldest first, each with the time it has left, decided or
 * answered right here: an approval after the run page's confirmation, with an optional comment.
 * The request leaves the list (and the count) at once; if the server refuses, it comes back with why.
 * The first page shows; "Show more" reads the next.
 */
export function Inbox() {
  const inbox = useInbox();
  const items = inbox?.items ?? null;
  const [more, setMore] = useState<'idle' | 'loading' | 'failed'>('idle');
  const [now, setNow] = useState(() => Date.now());
  const [typed, setTyped] = useState<Record<string, string>>({});
  const [confirming, setConfirming] = useState<{ item: Approval; decision: Decision } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  const textOf = (item: InboxItem) => typed[requestAnchor(item)] ?? '';
  const setText = (item: InboxItem, text: string) => setTyped((t) => ({ ...t, [requestAnchor(item)]: text }));
  async function act(item: InboxItem, what: string, request: () => Promise<unknown>) {
    setError(null);
    dropFromInbox(item);
    try {
      await request();
    } catch (err) {
      setError(`Could not ${what}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      refreshInbox();
    }
  }
  const decide = (item: Approval, decision: Decision) => {
    const comment = textOf(item).trim();
    void act(item, `${decision} ${item.tool ?? 'continuing'}`, () => client.approvals.decide(item.runId, item.id, { decision, ...(comment && { comment }) }));
  };
  const showMore = () => {
    setMore('loading');
    loadMoreOfInbox().then(
      () => setMore('idle'),
      () => setMore('failed'),
    );
  };
  const answer = (e: React.FormEvent, item: InboxItem) => {
    e.preventDefault();
    void act(item, 'send the answer', () => client.input.answer(item.runId, textOf(item)));
  };

  return (
    <section aria-labelledby="inbox-title">
      <div className="section-head">
        <h1 id="inbox-title">Waiting for you</h1>
      </div>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <DecisionConfirm
        decision={confirming?.decision ?? null}
        tool={confirming?.item.tool ?? null}
        reason={confirming?.item.reason ?? ''}
        onConfirm={(decision) => confirming && decide(confirming.item, decision)}
        onClose={() => setConfirming(null)}
      >
        {confirming && <CallInput item={confirming.item} />}
      </DecisionConfirm>
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        !inbox?.nextCursor && <p data-testid="inbox-empty">Nothing waits for you.</p>
      ) : (
        <ul className="inbox" data-testid="inbox">
          {items.map((item) => (
            <li key={`${item.kind}-${item.id}`} className={`inbox-item inbox-${item.kind}`} data-request={item.id}>
              <p className="who">
                {item.kind === 'approval' ? (item.tool ? `Approve ${item.tool}?` : 'Approve continuing?') : 'The agent asks'}
                {item.kind === 'approval' && item.risk && <span className="risk"> · {item.risk}</span>}
              </p>
              {item.subagent && <SubagentLabel origin={item.subagent} withRoot />}
              <p className="text">{item.kind === 'approval' ? item.reason : item.question}</p>
              {item.kind === 'approval' && <CallInput item={item} />}
              <p className="detail">
                <Link href={`/runs/${item.runId}#${requestAnchor(item)}`}>{item.goal.length > 100 ? `${item.goal.slice(0, 100)}…` : item.goal}</Link>
                {' · asked '}
                <time dateTime={item.requestedAt} title={new Date(item.requestedAt).toLocaleString()}>
                  {formatAge(item.requestedAt, now)}
                </time>
                {' · '}
                <Expiry at={item.expiresAt} now={now} />
              </p>
              {item.kind === 'approval' ? (
                <div className="inbox-act">
                  <label htmlFor={`inbox-${requestAnchor(item)}`}>Comment (optional)</label>
                  <input id={`inbox-${requestAnchor(item)}`} value={textOf(item)} onChange={(e) => setText(item, e.target.value)} />
                  <div className="actions">
                    <button type="button" onClick={() => setConfirming({ item, decision: 'approve' })}>
                      Approve
                    </button>
                    <button type="button" className="danger" onClick={() => setConfirming({ item, decision: 'reject' })}>
                      Reject
                    </button>
                  </div>
                </div>
              ) : (
                <form className="inbox-act" onSubmit={(e) => answer(e, item)}>
                  <label htmlFor={`inbox-${requestAnchor(item)}`}>Your answer</label>
                  <input id={`inbox-${requestAnchor(item)}`} required value={textOf(item)} onChange={(e) => setText(item, e.target.value)} />
                  <button type="submit">Send answer</button>
                </form>
              )}
            </li>
          ))}
        </ul>
      )}
      {inbox?.nextCursor && items && (
        <div className="actions">
          <p className="detail" data-testid="inbox-shown">
            {items.length} of {inbox.total} shown
          </p>
          <button type="button" data-testid="inbox-more" disabled={more === 'loading'} onClick={showMore}>
            {more === 'loading' ? 'Loading…' : 'Show more'}
          </button>
          {more === 'failed' && <p role="alert" className="error">Could not read more; try again.</p>}
        </div>
      )}
    </section>
  );
}

/**
 * What an approval would let run, as the run page shows it: an irreversible call is never approved
 * blind. A long input comes cut; its run page has all of it.
 */
function CallInput({ item }: { item: Approval }) {
  if (item.input === null || item.input === undefined) return null;
  return (
    <details open>
      <summary>Input</summary>
      <ToolInput tool={item.tool} input={item.input} runId={item.runId} />
      {isCutInputPreview(item.input) && (
        <p className="detail">
          Cut here: <Link href={`/runs/${item.runId}#${requestAnchor(item)}`}>the run page</Link> shows all of it.
        </p>
      )}
    </details>
  );
}

function Expiry({ at, now }: { at: string; now: number }) {
  const left = Date.parse(at) - now;
  return (
    <time dateTime={at} title={new Date(at).toLocaleString()} className={left < 5 * 60_000 ? 'expiry soon' : 'expiry'} data-testid="expiry">
      {left > 0 ? `expires in ${formatDuration(left)}` : 'expiring now'}
    </time>
  );
}
