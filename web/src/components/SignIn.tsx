import { useState } from 'react';
import { currentSession, providerSignInUrl, signIn } from '../auth';

/**
 * Shown when the server wants a credential: a button to sign in at the identity provider when sign-in is configured,
 * and the API token form (API_TOKENS) otherwise or as well. The token stays in this tab's sessionStorage.
 */
export function SignIn() {
  const [value, setValue] = useState('');
  const [showToken, setShowToken] = useState(false);
  const oidc = currentSession()?.signIn === 'oidc';
  return (
    <main id="main" className="signin">
      <h1>Sign in to Longhaul</h1>
      {oidc && (
        <p>
          <a className="button" href={providerSignInUrl()} data-testid="sign-in-provider">
            Sign in
          </a>
        </p>
      )}
      {oidc && !showToken ? (
        <p className="hint">
          A program's API token?{' '}
          <button type="button" className="link-button" onClick={() => setShowToken(true)}>
            Use a token instead
          </button>
        </p>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (value.trim()) signIn(value);
          }}
        >
          <label htmlFor="token">API token</label>
          <input id="token" name="token" type="password" autoComplete="current-password" value={value} onChange={(e) => setValue(e.target.value)} required />
          <p className="hint">Kept in this browser tab only, and never put in a URL.</p>
          <button type="submit">Sign in</button>
        </form>
      )}
    </main>
  );
}
