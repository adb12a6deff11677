/**
 * The box under a run's timeline for follow-up messages: on a running run the message joins at the
 * next turn; on a run that completed or ended on a limit it continues the run. Hidden where a
 * message cannot go (cancelled, or failed for another reason).
 */
import { useState } from 'react';
import { client } from '../api';
import type { RunView } from '../types';

export function canMessage(run: RunView): boolean {
  if (run.status === 'cancelled') return false;
  return run.status !== 'failed' || run.error?.code === 'limit_exceeded';
}

export function MessageBox({ run, onSent }: { run: RunView; onSent: () => void }) {
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ended = run.status === 'completed' || run.status === 'failed';

  async function send() {
    if (!text.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await client.runs.message(run.id, { text: text.trim() });
      setText('');
      onSent();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form
      className="message-box"
      aria-label="Send a follow-up message"
      onSubmit={(e) => {
        e.preventDefault();
        void send();
      }}
    >
      <label htmlFor="follow-up">{ended ? 'Continue this run with a message' : 'Add a message (joins at the next turn)'}</label>
      <textarea id="follow-up" data-testid="follow-up" value={text} rows={2} onChange={(e) => setText(e.target.value)} placeholder="Now also check…" />
      <button type="submit" disabled={busy || !text.trim()}>
        {ended ? 'Continue' : 'Send'}
      </button>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </form>
  );
}
