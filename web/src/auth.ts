/**
 * The user's API token, kept in sessionStorage (this tab only, gone when it closes) and sent as a
 * bearer header — never put in a URL. Sockets use single-use tickets instead (live.ts).
 */
const KEY = 'longhaul.token';

type Listener = () => void;
const listeners = new Set<Listener>();
let needSignIn = false;

export function token(): string | null {
  return sessionStorage.getItem(KEY);
}

export function signIn(value: string): void {
  sessionStorage.setItem(KEY, value.trim());
  needSignIn = false;
  for (const l of listeners) l();
}

export function signOut(): void {
  sessionStorage.removeItem(KEY);
  needSignIn = true;
  for (const l of listeners) l();
}

/** Called when the API says 401: the UI shows the sign-in form. */
export function signInRequired(): void {
  if (needSignIn) return;
  needSignIn = true;
  for (const l of listeners) l();
}

export function mustSignIn(): boolean {
  return needSignIn;
}

export function onAuthChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}
