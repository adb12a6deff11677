import { useCallback, useEffect, useState } from 'react';
import { currentSession, loadSession, mustSignIn, onAuthChange, signOut, token } from './auth';
import { Agents } from './components/Agents';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { Inbox } from './components/Inbox';
import { Keys } from './components/Keys';
import { ShortcutsDialog } from './components/ShortcutsDialog';
import { useInbox } from './inbox';
import { useShortcuts } from './shortcuts';
import { Link } from './components/Link';
import { NewRun } from './components/NewRun';
import { RunPage } from './components/RunPage';
import { RunsList } from './components/RunsList';
import { Schedules } from './components/Schedules';
import { SignIn } from './components/SignIn';
import { useRoute } from './router';

export function App() {
  const [, setAuthVersion] = useState(0);
  const [loaded, setLoaded] = useState(false);
  useEffect(() => onAuthChange(() => setAuthVersion((v) => v + 1)), []);
  useEffect(() => {
    void loadSession().finally(() => setLoaded(true));
  }, []);

  // Until the server says how it signs people in, nothing: no flash of a sign-in page for a signed-in user.
  if (!loaded) return null;
  if (mustSignIn()) return <SignIn />;
  return <Shell />;
}

function Shell() {
  const route = useRoute();
  const waiting = useInbox();
  const [help, setHelp] = useState(false);
  useShortcuts(useCallback(() => setHelp(true), []));
  return (
    <>
      <header className="topbar">
        <Link href="/" className="brand">
          Longhaul
        </Link>
        <nav aria-label="Main">
          <Link href="/">Runs</Link>
          <Link href="/runs/new">New run</Link>
          <Link href="/schedules">Schedules</Link>
          <Link href="/agents">Agents</Link>
          <Link href="/keys">Keys</Link>
          <Link href="/inbox" aria-label={`Inbox: ${waiting?.total ?? 0} waiting for you`}>
            Inbox
            {waiting && waiting.total > 0 && (
              <span className="count" data-testid="inbox-count">
                {waiting.total}
              </span>
            )}
          </Link>
        </nav>
        <div className="topbar-right">
          <ConnectionIndicator />
          <button type="button" className="link-button" onClick={() => setHelp(true)} aria-label="Keyboard shortcuts">
            ?
          </button>
          {(token() || currentSession()?.csrfToken) && (
            <button type="button" className="link-button" onClick={() => void signOut()} title={currentSession()?.user?.name ?? currentSession()?.user?.id}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main">
        {route.name === 'list' && <RunsList />}
        {route.name === 'new' && <NewRun />}
        {route.name === 'schedules' && <Schedules />}
        {route.name === 'agents' && <Agents />}
        {route.name === 'inbox' && <Inbox />}
        {route.name === 'keys' && <Keys />}
        {route.name === 'run' && <RunPage key={route.id} id={route.id} />}
        {route.name === 'missing' && (
          <p>
            Nothing here. <Link href="/">Back to the runs</Link>.
          </p>
        )}
      </main>
      <ShortcutsDialog open={help} onClose={() => setHelp(false)} />
    </>
  );
}
