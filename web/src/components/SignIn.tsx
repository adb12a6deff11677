import { useState } from 'react';
import { signIn } from '../auth';

/** Shown when the server requires API_TOKENS. The token stays in this tab's sessionStorage. */
export function SignIn() {
  const [value, setValue] = useState('');
  return (
    <main id="main" className="signin">
      <h1>Sign in to Longhaul</h1>
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
    </main>
  );
}
