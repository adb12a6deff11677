import { useEffect, useState } from 'react';
import { mustSignIn, onAuthChange, signOut, token } from './auth';
import { ConnectionIndicator } from './components/ConnectionIndicator';
import { Link } from './components/Link';
import { NewRun } from './components/NewRun';
import { RunPage } from './components/RunPage';
import { RunsList } from './components/RunsList';
import { Schedules } from './components/Schedules';
import { SignIn } from './components/SignIn';
import { useRoute } from './router';

export function App() {
  const route = useRoute();
  const [, setAuthVersion] = useState(0);
  useEffect(() => onAuthChange(() => setAuthVersion((v) => v + 1)), []);

  if (mustSignIn()) return <SignIn />;
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
        </nav>
        <div className="topbar-right">
          <ConnectionIndicator />
          {token() && (
            <button type="button" className="link-button" onClick={() => signOut()}>
              Sign out
            </button>
          )}
        </div>
      </header>
      <main id="main">
        {route.name === 'list' && <RunsList />}
        {route.name === 'new' && <NewRun />}
        {route.name === 'schedules' && <Schedules />}
        {route.name === 'run' && <RunPage key={route.id} id={route.id} />}
        {route.name === 'missing' && (
          <p>
            Nothing here. <Link href="/">Back to the runs</Link>.
          </p>
        )}
      </main>
    </>
  );
}
