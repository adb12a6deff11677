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

async function newKey(): Promise<PrivateJwk> {
  const j = await jose();
  const { privateKey } = await j.generateKeyPair('RS256', { extractable: true });
  const jwk = await j.exportJWK(privateKey);
  return { ...jwk, kid: `k-${Math.random().toString(36).slice(2, 10)}`, alg: 'RS256', use: 'sig' };
}
