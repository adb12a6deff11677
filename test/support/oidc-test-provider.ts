/**
 * The OpenID Provider process of the sign-in tests (test/support/oidc-provider.mjs) and the keys it signs with.
 * The test holds the private keys too, to make tokens the provider would never issue (expired ones, ones signed with
 * `alg: none`) and to rotate: `rotate()` restarts the provider on the same port with a new key in front.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { waitFor } from './wait';

import type * as JoseModule from 'jose' with { 'resolution-mode': 'import' };

type Jose = typeof JoseModule;
const jose = (): Promise<Jose> => import('jose');

export interface PrivateJwk {
  kid: string;
  alg: string;
  [k: string]: unknown;
}

export const TEST_CLIENT_SECRET = 'test-client-secret-0123456789abcdef';

export class TestOidcProvider {
  private child?: ChildProcess;
  private out = '';
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-op-'));
  keys: PrivateJwk[] = [];
  port = 0;

  constructor(private readonly opts: { redirectUri: string; postLogoutUri: string; audience: string }) {}

  get issuer(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port = await freePort();
    this.keys = [await newKey()];
    await this.spawn();
  }

  /** A new signing key in front; the old one still published (as a provider rotating keys does). */
  async rotate(): Promise<PrivateJwk> {
    await this.stop();
    this.keys = [await newKey(), ...this.keys];
    await this.spawn();
    return this.keys[0]!;
  }

  /** A JWT signed with the provider's current key, with claims of the test's choosing (defaults: valid for alice). */
  async sign(claims: Record<string, unknown>, key: PrivateJwk = this.keys[0]!): Promise<string> {
    const j = await jose();
    const now = Math.floor(Date.now() / 1000);
    return new j.SignJWT({ iss: this.issuer, sub: 'alice', aud: this.opts.audience, iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .sign(await j.importJWK(key, key.alg));
  }

  /** A JWT access token from the provider itself: the `machine` client's, for `resource`. */
  async clientCredentialsToken(resource = this.opts.audience): Promise<string> {
    const res = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`machine:${TEST_CLIENT_SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource, scope: 'api' }).toString(),
    });
    const body = (await res.json()) as { access_token?: string };
    if (!res.ok || !body.access_token) throw new Error(`token endpoint: ${res.status} ${JSON.stringify(body)}`);
    return body.access_token;
  }

  output(): string {
    return this.out;
  }

  private async spawn(): Promise<void> {
    const keysFile = path.join(this.dir, `keys-${this.keys.length}.json`);
    fs.writeFileSync(keysFile, JSON.stringify({ keys: this.keys }));
    const child = spawn(process.execPath, [path.join(__dirname, 'oidc-provider.mjs')], {
      env: {
        ...process.env,
        OP_PORT: String(this.port),
        OP_KEYS_FILE: keysFile,
        OP_REDIRECT_URI: this.opts.redirectUri,
        OP_POST_LOGOUT_URI: this.opts.postLogoutUri,
        OP_CLIENT_SECRET: TEST_CLIENT_SECRET,
        OP_AUDIENCE: this.opts.audience,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    const mark = this.out.length;
    await waitFor(() => this.out.slice(mark).includes('OIDC provider listening') || child.exitCode !== null, { timeoutMs: 30_000, what: 'the OIDC provider to start' });
    if (child.exitCode !== null) throw new Error(`OIDC provider exited:\n${this.out}`);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }

  async close(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Cookies by name, as a browser keeps them for one site (enough for these flows: no paths, no expiry). */
class CookieJar {
  private readonly cookies = new Map<string, Map<string, string>>();

  take(url: string, res: Response): void {
    const origin = new URL(url).origin;
    const jar = this.cookies.get(origin) ?? new Map<string, string>();
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1);
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') jar.delete(pair!.slice(0, eq));
      else jar.set(pair!.slice(0, eq), value);
    }
    this.cookies.set(origin, jar);
  }

  header(url: string): string {
    return [...(this.cookies.get(new URL(url).origin) ?? new Map<string, string>()).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/**
 * Signs in as `login` through the provider's login form without a browser: GET /auth/login, follow the redirects,
 * post the form, up to Longhaul's callback. Returns the callback's own answer (not followed) and the cookies Longhaul set.
 */
export async function signInWithoutBrowser(publicUrl: string, login: string): Promise<{ callback: Response; callbackUrl: string; cookie: string }> {
  const jar = new CookieJar();
  let url = `${publicUrl}/auth/login`;
  let init: RequestInit = {};
  for (let hop = 0; hop < 20; hop++) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(url) } });
    jar.take(url, res);
    if (url.startsWith(`${publicUrl}/auth/callback`)) return { callback: res, callbackUrl: url, cookie: jar.header(publicUrl) };
    const location = res.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      init = {};
      continue;
    }
    // The provider's login form: post login and password to its action.
    const html = await res.text();
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    if (!action || !html.includes('name="login"')) throw new Error(`unexpected page at ${url} (${res.status}): ${html.slice(0, 300)}`);
    url = new URL(action.replace(/&amp;/g, '&'), url).href;
    init = { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ prompt: 'login', login, password: 'any password' }).toString() };
  }
  throw new Error('too many redirects signing in');
}

async function newKey(): Promise<PrivateJwk> {
  const j = await jose();
  const { privateKey } = await j.generateKeyPair('RS256', { extractable: true });
  const jwk = await j.exportJWK(privateKey);
  return { ...jwk, kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' };
}
