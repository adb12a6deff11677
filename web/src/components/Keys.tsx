/**
 * API keys for machines: the user's keys (and, for a team admin, those of members on no team they do not
 * administer), each with its scopes, expiry, last use and whether it was revoked; a form to create one, whose secret
 * is shown this once with a button to copy it; and revoking a key, which every API replica refuses from the next
 * request on.
 */
import { useCallback, useEffect, useState, type FormEvent } from 'react';
import { client } from '../api';
import { formatAge } from '../format';
import type { ApiKeyCreated, ApiKeyView } from '../../../contract/api-keys';
import { SCOPES, type Scope } from '../../../contract/identity';
import { ConfirmDialog } from './ConfirmDialog';

const SCOPE_WORDS: Record<Scope, string> = {
  'runs:read': 'see runs',
  'runs:write': 'start and steer runs',
  'approvals:decide': 'decide approvals',
  admin: 'everything you may do',
};

function stateOf(k: ApiKeyView): string {
  if (k.revokedAt) return `revoked ${formatAge(k.revokedAt)}${k.revokedBy && k.revokedBy !== k.owner ? ` by ${k.revokedBy}` : ''}`;
  if (k.expiresAt && Date.parse(k.expiresAt) <= Date.now()) return 'expired';
  return k.expiresAt ? `active, expires ${new Date(k.expiresAt).toLocaleString()}` : 'active';
}

export function Keys() {
  const [keys, setKeys] = useState<ApiKeyView[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<ApiKeyCreated | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);

  const load = useCallback(async () => {
    try {
      setKeys((await client.keys.list()).keys);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }, []);

  useEffect(() => {
    void load();
  }, [load]);

  async function revoke(k: ApiKeyView) {
    setError(null);
    try {
      await client.keys.revoke(k.id);
      await load();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }

  async function copy(text: string) {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
    } catch {
      setError('Could not copy: select the key and copy it yourself.');
    }
  }

  return (
    <section aria-labelledby="keys-title">
      <div className="section-head">
        <h1 id="keys-title">API keys</h1>
      </div>
      <p className="detail">
        Keys let machines call the API as you: <code>Authorization: Bearer lh_…</code>. A key may do only what its scopes allow, and never more than you may.
      </p>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      {created && (
        <div className="new-key" role="status" data-testid="new-key">
          <p>
            <strong>Copy your new key now: it is shown this once.</strong>
          </p>
          <input readOnly className="key-text" aria-label="The new API key" value={created.key} onFocus={(e) => e.currentTarget.select()} />{' '}
          <button type="button" onClick={() => void copy(created.key)}>
            {copied ? 'Copied' : 'Copy'}
          </button>{' '}
          <button type="button" className="link-button" onClick={() => setCreated(null)}>
            Done
          </button>
        </div>
      )}
      <details className="new-key-box" data-testid="create-key" open={keys?.length === 0 ? true : undefined}>
        <summary>New key</summary>
        <NewKey
          onCreated={(k) => {
            setCreated(k);
            setCopied(false);
            void load();
          }}
        />
      </details>
      {keys?.length === 0 && <p className="detail">No keys yet.</p>}
      {keys && keys.length > 0 && (
        <table className="keys" aria-label="Your API keys">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Id</th>
              <th scope="col">Owner</th>
              <th scope="col">Scopes</th>
              <th scope="col">Last used</th>
              <th scope="col">State</th>
              <th scope="col" aria-label="Actions" />
            </tr>
          </thead>
          <tbody>
            {keys.map((k) => (
              <tr key={k.id} data-key-id={k.id}>
                <td>{k.name}</td>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>{k.owner}</td>
                <td>{k.scopes.join(', ')}</td>
                <td>{k.lastUsedAt ? formatAge(k.lastUsedAt) : 'never'}</td>
                <td data-testid="key-state">{stateOf(k)}</td>
                <td>
                  {!k.revokedAt && (
                    <button type="button" className="danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this key?"
        message="Everything using it is refused from its next request on. This cannot be undone."
        confirmLabel="Revoke key"
        cancelLabel="Keep it"
        onConfirm={() => {
          const k = revoking;
          setRevoking(null);
          if (k) void revoke(k);
        }}
        onClose={() => setRevoking(null)}
      />
    </section>
  );
}

function NewKey({ onCreated }: { onCreated: (k: ApiKeyCreated) => void }) {
  const [name, setName] = useState('');
  const [scopes, setScopes] = useState<Scope[]>(['runs:read']);
  const [expires, setExpires] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      // A date picked here ends the key at the end of that day, in the user's own time zone.
      const expiresAt = expires ? new Date(`${expires}T23:59:59`).toISOString() : undefined;
      onCreated(await client.keys.create({ name, scopes, ...(expiresAt && { expiresAt }) }));
      setName('');
      setExpires('');
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  }

  const toggle = (s: Scope) => setScopes((now) => (now.includes(s) ? now.filter((x) => x !== s) : SCOPES.filter((x) => x === s || now.includes(x))));

  return (
    <form onSubmit={(e) => void submit(e)} aria-label="New API key">
      <label>
        Name <input value={name} onChange={(e) => setName(e.target.value)} required maxLength={100} placeholder="nightly reports" />
      </label>
      <fieldset>
        <legend>Scopes</legend>
        {SCOPES.map((s) => (
          <label key={s} className="scope">
            <input type="checkbox" checked={scopes.includes(s)} onChange={() => toggle(s)} /> <code>{s}</code> — {SCOPE_WORDS[s]}
          </label>
        ))}
      </fieldset>
      <label>
        Expires (optional) <input type="date" value={expires} onChange={(e) => setExpires(e.target.value)} />
      </label>
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy || scopes.length === 0 || !name.trim()}>
        Create key
      </button>
    </form>
  );
}
