import { useEffect, useState } from 'react';
import { formatAge, formatDuration } from '../format';
import { useInbox, type InboxItem } from '../inbox';
import { Link } from './Link';

/** Where a request lives on its run's page: the card the header's "Go to request" also jumps to. */
export const requestAnchor = (item: Pick<InboxItem, 'kind' | 'id'>): string => `${item.kind}-${item.id}`;

/** Everything waiting for me, across runs, oldest first, each with the time it has left. */
export function Inbox() {
  const items = useInbox();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const tick = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(tick);
  }, []);

  return (
    <section aria-labelledby="inbox-title">
      <div className="section-head">
        <h1 id="inbox-title">Waiting for you</h1>
      </div>
      {items === null ? (
        <p>Loading…</p>
      ) : items.length === 0 ? (
        <p data-testid="inbox-empty">Nothing waits for you.</p>
      ) : (
        <ul className="inbox" data-testid="inbox">
          {items.map((item) => (
            <li key={`${item.kind}-${item.id}`} className={`inbox-item inbox-${item.kind}`} data-request={item.id}>
              <p className="who">
                {item.kind === 'approval' ? (item.tool ? `Approve ${item.tool}?` : 'Approve continuing?') : 'The agent asks'}
                {item.kind === 'approval' && item.risk && <span className="risk"> · {item.risk}</span>}
              </p>
              <p className="text">{item.kind === 'approval' ? item.reason : item.question}</p>
              <p className="detail">
                <Link href={`/runs/${item.runId}#${requestAnchor(item)}`}>{item.goal.length > 100 ? `${item.goal.slice(0, 100)}…` : item.goal}</Link>
                {' · asked '}
                <time dateTime={item.requestedAt} title={new Date(item.requestedAt).toLocaleString()}>
                  {formatAge(item.requestedAt, now)}
                </time>
                {' · '}
                <Expiry at={item.expiresAt} now={now} />
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
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
