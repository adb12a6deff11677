/**
 * API keys from the outside: created (shown once), used, refused beyond their scopes (403), refused when expired,
 * listed and revoked by their owner or an admin of every team the owner is on (anyone else's is a 404) — through a key only
 * when it has the admin scope, and a key-made key expires no later than its maker and is revoked with it —, and — the promise
 * that matters — a key revoked through one API process is refused by another API process on the very next request,
 * and a socket ticket it asked for opens nothing once it is revoked. The `longhaul keys` commands run as processes. Postgres, so two processes share one database as replicas do.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { csrfTokenOf } from '../../api/identity/sessions';
import { CLOSE_CREDENTIAL_ENDED } from '../../api/live/ws-server';
import { CSRF_HEADER } from '../../contract/session';
import { LiveClient } from '../support/live-client';
import { freePort } from '../support/ports';
import { startApiProcess, type ChildHandle } from '../support/processes';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const CAROL = 'carol-token-0123456789';
const DORA = 'dora-token-0123456789ab';

describe('API keys', () => {
  let h: Harness;
  let replica: ChildHandle | undefined;
  let replicaUrl = '';

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, database: 'postgres', env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob,${CAROL}:carol,${DORA}:dora`, WS_PING_INTERVAL_SEC: '1' } });
    h.defaultToken = ALICE;
    // carol administers payments; bob is a member of it; alice is on no team.
    await h.store.teamMembers.grant('payments', 'carol', 'admin');
    await h.store.teamMembers.grant('payments', 'bob', 'member');
  });
  afterAll(async () => {
    await replica?.kill('SIGTERM');
    await h.close();
  });

  const create = (body: unknown, token = ALICE) => h.request('POST', '/api/keys', { body, token });
  const atReplica = async (method: string, urlPath: string, token: string) => {
    const res = await fetch(`${replicaUrl}${urlPath}`, { method, headers: { authorization: `Bearer ${token}` } });
    return { status: res.status, body: (await res.json()) as any };
  };

  it('creates a key shown once, which then works as its owner and records its last use', async () => {
    const created = await create({ name: 'ci reader', scopes: ['runs:read'] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ name: 'ci reader', owner: 'alice', scopes: ['runs:read'], expiresAt: null, lastUsedAt: null, revokedAt: null });
    expect(created.body.key).toMatch(new RegExp(`^lh_${created.body.id}_[A-Za-z0-9_-]{43}$`));
    // Only a hash is stored; no answer ever carries the secret again.
    const stored = await h.store.db.selectFrom('api_keys').selectAll().where('id', '=', created.body.id).executeTakeFirstOrThrow();
    // The secret is all after `lh_<id>_` (base64url: it may hold `_` itself, so not the text after the last one).
    const secret = (created.body.key as string).slice(`lh_${created.body.id}_`.length);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(stored)).not.toContain(secret);
    const listed = await h.request('GET', '/api/keys');
    expect(listed.body.keys.map((k: any) => k.id)).toContain(created.body.id);
    expect(JSON.stringify(listed.body)).not.toContain(created.body.key);

    const runs = await h.request('GET', '/api/runs', { token: created.body.key });
    expect(runs.status).toBe(200);
    const mine = await h.createRun({ goal: 'a run of alice', model: 'demo' });
    expect((await h.request('GET', `/api/runs/${mine}`, { token: created.body.key })).body.owner).toBe('alice');
    const after = (await h.request('GET', '/api/keys')).body.keys.find((k: any) => k.id === created.body.id);
    expect(after.lastUsedAt).not.toBeNull();
  });

  it('refuses what the scopes do not allow with 403 scope_missing, and never mints a broader key', async () => {
    const reader = (await create({ name: 'reader', scopes: ['runs:read'] })).body.key as string;
    const refused = await h.request('POST', '/api/runs', { token: reader, body: { goal: 'x', model: 'demo' } });
    expect([refused.status, refused.body.error.code]).toEqual([403, 'scope_missing']);
    // Even on the owner's own run: the key may read it, not steer it or decide its approvals.
    const own = await h.createRun({ goal: 'alice steers this one', model: 'demo' });
    const now = Date.now();
    await h.store.approvals.insert({ id: `apr_${own}`, runId: own, kind: 'tool', turn: 1, tool: 'http_request', reason: 'test', requestedAt: new Date(now).toISOString(), expiresAt: new Date(now + 600_000).toISOString() });
    expect((await h.request('GET', `/api/runs/${own}`, { token: reader })).status).toBe(200);
    for (const [path, body] of [[`/api/runs/${own}/cancel`, undefined], [`/api/runs/${own}/approvals/apr_${own}`, { decision: 'approve' }]] as const) {
      const res = await h.request('POST', path, { token: reader, body });
      expect([path, res.status, res.body.error.code]).toEqual([path, 403, 'scope_missing']);
    }
    expect((await h.store.approvals.get(`apr_${own}`))!.status).toBe('pending');
    // A writer may start runs, and mints no key at all: only a key with the admin scope manages keys.
    const writer = (await create({ name: 'writer', scopes: ['runs:write'] })).body.key as string;
    expect((await h.request('POST', '/api/runs', { token: writer, body: { goal: 'by a key', model: 'demo' } })).status).toBe(202);
    const broader = await create({ name: 'broader', scopes: ['runs:write', 'approvals:decide'] }, writer);
    expect([broader.status, broader.body.error.code]).toEqual([403, 'scope_missing']);
    expect((await create({ name: 'admin', scopes: ['admin'] }, reader)).status).toBe(403);
    expect((await create({ name: 'admin by a person', scopes: ['admin'] })).status).toBe(201);
  });

  it('lets a key manage keys only with the admin scope, and a key-made key lives no longer than its maker', async () => {
    const reader = (await create({ name: 'leaky reader', scopes: ['runs:read'] })).body as { id: string; key: string };
    const sibling = (await create({ name: 'sibling', scopes: ['runs:write'] })).body as { id: string; key: string };
    // A leaked narrow key can neither mint its replacement, nor see nor revoke its owner's other keys: 403, never 400.
    for (const [method, url, body] of [
      ['POST', '/api/keys', { name: 'replacement', scopes: ['runs:read'] }],
      ['POST', '/api/keys', { name: '' }],
      ['GET', '/api/keys', undefined],
      ['GET', '/api/keys?colour=red', undefined],
      ['DELETE', `/api/keys/${sibling.id}`, undefined],
      ['DELETE', `/api/keys/${reader.id}`, undefined],
    ] as const) {
      const res = await h.request(method, url, { token: reader.key, body });
      expect([method, url, res.status, res.body.error.code]).toEqual([method, url, 403, 'scope_missing']);
    }
    expect((await h.request('GET', '/api/runs', { token: sibling.key })).status).toBe(200);

    // An admin key manages keys; what it makes expires with it (or before), and is no broader.
    const ends = new Date(Date.now() + 3_600_000).toISOString();
    const admin = (await create({ name: 'admin, one hour', scopes: ['admin'], expiresAt: ends })).body as { id: string; key: string };
    const made = await create({ name: 'made by a key', scopes: ['runs:read'] }, admin.key);
    expect(made.status).toBe(201);
    expect(made.body.expiresAt).toBe(ends);
    const sooner = new Date(Date.now() + 600_000).toISOString();
    expect((await create({ name: 'sooner', scopes: ['runs:read'], expiresAt: sooner }, admin.key)).body.expiresAt).toBe(sooner);
    const later = await create({ name: 'later', scopes: ['runs:read'], expiresAt: new Date(Date.now() + 7_200_000).toISOString() }, admin.key);
    expect([later.status, later.body.error.code]).toEqual([403, 'scope_missing']);
    expect((await h.request('GET', '/api/keys', { token: admin.key })).body.keys.map((k: any) => k.id)).toContain(made.body.id);
    expect((await h.request('DELETE', `/api/keys/${made.body.id}`, { token: admin.key })).body.revokedBy).toBe('alice');
    // An admin key that never expires makes keys that need not either; a person's keys are as they ask.
    const forever = (await create({ name: 'admin, forever', scopes: ['admin'] })).body.key as string;
    expect((await create({ name: 'made, forever', scopes: ['approvals:decide'] }, forever)).body.expiresAt).toBeNull();
  });

  it('revokes with a key every key made from it, at any depth: a leaked admin key leaves no replacement behind', async () => {
    // A leaked admin key that never expires mints a replacement, which mints another: none of them expires by itself.
    const leaked = (await create({ name: 'admin, leaked', scopes: ['admin'] })).body as { id: string; key: string };
    const replacement = (await create({ name: 'replacement', scopes: ['admin'] }, leaked.key)).body as { id: string; key: string; expiresAt: null; madeBy: string };
    const another = (await create({ name: 'and another', scopes: ['runs:read'] }, replacement.key)).body as { id: string; key: string; madeBy: string };
    expect([replacement.madeBy, replacement.expiresAt, another.madeBy]).toEqual([leaked.id, null, replacement.id]);
    const bystander = (await create({ name: 'made by alice herself', scopes: ['runs:read'] })).body as { id: string; key: string; madeBy: null };
    expect(bystander.madeBy).toBeNull();
    expect((await h.request('GET', '/api/runs', { token: another.key })).status).toBe(200);

    // Revoking the leaked key revokes what it made, and what that made, authored by whoever revoked the first.
    expect((await h.request('DELETE', `/api/keys/${leaked.id}`)).body).toMatchObject({ revokedBy: 'alice' });
    for (const made of [replacement, another]) {
      const refused = await h.request('GET', '/api/runs', { token: made.key });
      expect([made.id, refused.status, refused.body.error.code]).toEqual([made.id, 401, 'key_revoked']);
    }
    const listed = (await h.request('GET', '/api/keys')).body.keys as { id: string; revokedBy: string | null; madeBy: string | null }[];
    expect(listed.filter((k) => [replacement.id, another.id].includes(k.id)).map((k) => k.revokedBy)).toEqual(['alice', 'alice']);
    expect((await h.request('GET', '/api/runs', { token: bystander.key })).status).toBe(200);
  });

  it('refuses bad input with 400 naming the problem', async () => {
    for (const [body, where] of [
      [{ name: '', scopes: ['runs:read'] }, 'name'],
      [{ name: 'x'.repeat(101), scopes: ['runs:read'] }, 'name'],
      [{ name: 'x', scopes: [] }, 'scopes'],
      [{ name: 'x', scopes: ['runs:everything'] }, 'scopes.0'],
      [{ name: 'x', scopes: ['runs:read', 'runs:read'] }, 'scopes'],
      [{ name: 'x', scopes: ['runs:read'], expiresAt: 'tomorrow' }, 'expiresAt'],
      [{ name: 'x', scopes: ['runs:read'], expiresAt: '2001-01-01T00:00:00Z' }, 'expiresAt'],
      [{ name: 'x', scopes: ['runs:read'], owner: 'bob' }, ''],
      [{ scopes: ['runs:read'] }, 'name'],
    ] as const) {
      const res = await create(body);
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([JSON.stringify(body), 400, 'invalid_request']);
      expect(res.body.error.details.map((d: any) => d.path)).toContain(where);
    }
    expect((await h.request('GET', '/api/keys?colour=red')).status).toBe(400);
  });

  it('holds at most 100 working keys per user (429 too_many_keys); revoked and expired ones do not count', async () => {
    const at = Date.now();
    for (let i = 0; i < 98; i++) await h.store.apiKeys.insert({ id: `dddd${String(i).padStart(12, '0')}`, owner: 'dora', name: `k${i}`, scopes: ['runs:read'], secretHash: '00' });
    await h.store.apiKeys.insert({ id: 'dddd100000000000', owner: 'dora', name: 'old', scopes: ['runs:read'], secretHash: '00', expiresAt: new Date(at - 1000).toISOString() });
    await h.store.apiKeys.insert({ id: 'dddd200000000000', owner: 'dora', name: 'gone', scopes: ['runs:read'], secretHash: '00' });
    await h.store.apiKeys.revoke('dddd200000000000', 'dora');
    expect((await create({ name: 'the 99th', scopes: ['runs:read'] }, DORA)).status).toBe(201);
    expect((await create({ name: 'the 100th', scopes: ['runs:read'] }, DORA)).status).toBe(201);
    const over = await create({ name: 'one too many', scopes: ['runs:read'] }, DORA);
    expect([over.status, over.body.error.code]).toEqual([429, 'too_many_keys']);
    expect((await h.request('DELETE', '/api/keys/dddd000000000000', { token: DORA })).status).toBe(200);
    expect((await create({ name: 'in its place', scopes: ['runs:read'] }, DORA)).status).toBe(201);
  });

  it('refuses an unknown, malformed or expired key with 401 and its code', async () => {
    const unknown = await h.request('GET', '/api/runs', { token: `lh_0123456789abcdef_${'a'.repeat(43)}` });
    expect([unknown.status, unknown.body.error.code]).toEqual([401, 'unauthorized']);
    expect((await h.request('GET', '/api/runs', { token: 'lh_nonsense' })).body.error.code).toBe('unauthorized');
    const soon = await create({ name: 'short-lived', scopes: ['runs:read'], expiresAt: new Date(Date.now() + 1500).toISOString() });
    expect((await h.request('GET', '/api/runs', { token: soon.body.key })).status).toBe(200);
    await waitFor(async () => (await h.request('GET', '/api/runs', { token: soon.body.key })).status === 401, { what: 'the key to expire' });
    const expired = await h.request('GET', '/api/runs', { token: soon.body.key });
    expect(expired.body.error.code).toBe('key_expired');
    expect(expired.headers.get('www-authenticate')).toContain('Bearer');
  });

  it("lets only the owner or an admin of the owner's team list and revoke a key; anyone else's (a user on no team's too) is a 404", async () => {
    const bobs = (await create({ name: 'bob ci', scopes: ['runs:read'] }, BOB)).body;
    const alices = (await create({ name: 'alice ci', scopes: ['runs:read'] })).body;
    // alice is on no team of bob's: his key is not hers to see or revoke.
    expect((await h.request('GET', '/api/keys')).body.keys.map((k: any) => k.owner)).not.toContain('bob');
    expect((await h.request('GET', '/api/keys?owner=bob')).body.keys).toEqual([]);
    const notHers = await h.request('DELETE', `/api/keys/${bobs.id}`);
    expect([notHers.status, notHers.body.error.code]).toEqual([404, 'key_not_found']);
    expect((await h.request('DELETE', '/api/keys/0000000000000000')).status).toBe(404);
    // carol administers payments, where bob is a member: she sees and revokes his keys, not alice's.
    const carolSees = (await h.request('GET', '/api/keys', { token: CAROL })).body.keys.map((k: any) => k.id);
    expect(carolSees).toContain(bobs.id);
    expect(carolSees).not.toContain(alices.id);
    expect((await h.request('GET', '/api/keys?owner=bob', { token: CAROL })).body.keys.every((k: any) => k.owner === 'bob')).toBe(true);
    expect((await h.request('DELETE', `/api/keys/${alices.id}`, { token: CAROL })).status).toBe(404);
    const revoked = await h.request('DELETE', `/api/keys/${bobs.id}`, { token: CAROL });
    expect(revoked.status).toBe(200);
    expect(revoked.body).toMatchObject({ id: bobs.id, revokedBy: 'carol' });
    expect((await h.request('GET', '/api/runs', { token: bobs.key })).body.error.code).toBe('key_revoked');
    // An admin's key without the admin scope administers nothing, not even its owner's keys.
    const carolReader = (await create({ name: 'carol reader', scopes: ['runs:read'] }, CAROL)).body.key as string;
    expect((await h.request('GET', '/api/keys', { token: carolReader })).body.error.code).toBe('scope_missing');
    const carolAdmin = (await create({ name: 'carol admin', scopes: ['admin'] }, CAROL)).body.key as string;
    expect((await h.request('GET', '/api/keys', { token: carolAdmin })).body.keys.map((k: any) => k.owner)).toContain('bob');
    // The owner revokes their own; revoking again changes nothing.
    const first = await h.request('DELETE', `/api/keys/${alices.id}`);
    expect(first.body.revokedBy).toBe('alice');
    expect((await h.request('DELETE', `/api/keys/${alices.id}`)).body.revokedAt).toBe(first.body.revokedAt);
  });

  it('lets a team admin manage only the keys of users all of whose teams they administer: a grant draws no one else into reach', async () => {
    // erin is a member of ops, which carol does not administer; her key is made as a sign-in would make it.
    await h.store.teamMembers.grant('ops', 'erin', 'member');
    const erins = await h.store.apiKeys.insert({ id: 'eeee00000000e001', owner: 'erin', name: 'erin ci', scopes: ['runs:read'], secretHash: '00' });
    // carol, admin of payments, adds erin to it without asking her — and so reaches nothing of erin's.
    expect((await h.request('PUT', '/api/teams/payments/members/erin/viewer', { token: CAROL })).status).toBe(200);
    expect((await h.request('GET', '/api/keys?owner=erin', { token: CAROL })).body.keys).toEqual([]);
    expect((await h.request('GET', '/api/keys', { token: CAROL })).body.keys.map((k: any) => k.owner)).not.toContain('erin');
    const refused = await h.request('DELETE', `/api/keys/${erins.id}`, { token: CAROL });
    expect([refused.status, refused.body.error.code]).toEqual([404, 'key_not_found']);
    expect((await h.store.apiKeys.get(erins.id))!.revokedAt).toBeNull();
    // bob, whose only team is carol's, stays hers to manage.
    const bobs = (await create({ name: 'bob, managed', scopes: ['runs:read'] }, BOB)).body as { id: string };
    expect((await h.request('GET', '/api/keys?owner=bob', { token: CAROL })).body.keys.map((k: any) => k.id)).toContain(bobs.id);
    // An admin of both of erin's teams may speak for her keys.
    await h.store.teamMembers.grant('ops', 'carol', 'admin');
    try {
      expect((await h.request('GET', '/api/keys?owner=erin', { token: CAROL })).body.keys.map((k: any) => k.id)).toEqual([erins.id]);
      expect((await h.request('DELETE', `/api/keys/${erins.id}`, { token: CAROL })).body).toMatchObject({ id: erins.id, revokedBy: 'carol' });
    } finally {
      await h.store.teamMembers.revoke('ops', 'carol', 'admin');
      await h.store.teamMembers.revoke('payments', 'erin', 'viewer');
    }
  });

  it('ends the live streams a key opened once it is revoked: the socket closes (4401), the event stream ends', async () => {
    const key = (await create({ name: 'watcher', scopes: ['runs:read'] })).body as { id: string; key: string };
    const run = await h.createRun({ goal: 'watched by a key', model: 'demo', approvals: 'all' });
    const live = await LiveClient.connect(`${h.api.url.replace(/^http/, 'ws')}/ws`, { token: key.key });
    live.subscribe(run);
    await waitFor(() => live.messages.some((m) => m.type === 'snapshot'), { what: 'the snapshot' });
    // A socket opened with a ticket the key asked for acts as the key too.
    const { ticket } = (await h.request('POST', '/api/ws-ticket', { token: key.key })).body as { ticket: string };
    const byTicket = await LiveClient.connect(`${h.api.url.replace(/^http/, 'ws')}/ws?ticket=${ticket}`);
    byTicket.subscribe(run);
    await waitFor(() => byTicket.messages.some((m) => m.type === 'snapshot'), { what: "the ticket socket's snapshot" });
    const stream = await fetch(`${h.api.url}/api/runs/${run}/stream`, { headers: { authorization: `Bearer ${key.key}` } });
    expect(stream.status).toBe(200);
    const ended = stream.text(); // resolves when the server ends the stream

    expect((await h.request('DELETE', `/api/keys/${key.id}`)).status).toBe(200);
    expect(await live.closed).toEqual({ code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('revoked') });
    expect(await byTicket.closed).toEqual({ code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('revoked') });
    await expect(ended).resolves.toEqual(expect.any(String));
  });

  it('refuses a ticket the key asked for once the key is revoked: the socket closes (4401) before any feed, the event stream is 401', async () => {
    const key = (await create({ name: 'ticket asker', scopes: ['runs:read'] })).body as { id: string; key: string };
    const run = await h.createRun({ goal: 'watched through a stale ticket', model: 'demo', approvals: 'all' });
    const ticket = async () => ((await h.request('POST', '/api/ws-ticket', { token: key.key })).body as { ticket: string }).ticket;
    const [forSocket, forStream] = [await ticket(), await ticket()];
    expect((await h.request('DELETE', `/api/keys/${key.id}`)).status).toBe(200);

    const stream = await fetch(`${h.api.url}/api/runs/${run}/stream?ticket=${forStream}`);
    expect(stream.status).toBe(401);
    expect(((await stream.json()) as { error: { code: string } }).error.code).toBe('key_revoked');
    const live = await LiveClient.connect(`${h.api.url.replace(/^http/, 'ws')}/ws?ticket=${forSocket}`);
    live.subscribe(run);
    expect(await live.closed).toEqual({ code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('revoked') });
    // Closed at redemption, not at the first beat: the run's snapshot and history were never sent.
    expect(live.messages).toEqual([]);
  });

  it('is refused by another API process on the very next request after it is revoked', async () => {
    const port = await freePort();
    replica = await startApiProcess({ ...h.env, PORT: String(port) });
    replicaUrl = `http://127.0.0.1:${port}`;
    const key = (await create({ name: 'replicated', scopes: ['runs:read'] })).body;
    // Both replicas accept it (the other one warm: it has checked the key just before).
    expect((await atReplica('GET', '/api/runs', key.key)).status).toBe(200);
    expect((await h.request('GET', '/api/runs', { token: key.key })).status).toBe(200);
    // Revoked through this process; the other refuses it on its very next request, and the other way round.
    expect((await h.request('DELETE', `/api/keys/${key.id}`)).status).toBe(200);
    const next = await atReplica('GET', '/api/runs', key.key);
    expect([next.status, next.body.error.code]).toEqual([401, 'key_revoked']);
    const other = (await create({ name: 'replicated 2', scopes: ['runs:read'] })).body;
    expect((await h.request('GET', '/api/runs', { token: other.key })).status).toBe(200);
    expect((await atReplica('DELETE', `/api/keys/${other.id}`, ALICE)).status).toBe(200);
    expect((await h.request('GET', '/api/runs', { token: other.key })).body.error.code).toBe('key_revoked');
  });

  describe('longhaul keys (the CLI, as a process)', () => {
    function longhaul(args: string[], token: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'client', 'cli', 'main.ts'), ...args], {
        cwd: ROOT,
        env: { ...process.env, LONGHAUL_URL: h.api.url, LONGHAUL_TOKEN: token },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
    }

    it('creates a key (printed once), lists it, uses it, and revokes it', async () => {
      const created = await longhaul(['keys', 'create', 'from the cli', '--scopes', 'runs:read,runs:write'], ALICE);
      expect(created.code).toBe(0);
      const [key, note] = created.stdout.trim().split('\n');
      expect(key).toMatch(/^lh_[0-9a-f]{16}_/);
      expect(note).toContain('the only time it is shown');
      const id = key!.split('_')[1]!;

      expect((await longhaul(['runs'], key!)).code).toBe(0);
      // Listing takes a credential that manages keys (not this key: it lacks the admin scope).
      expect((await longhaul(['keys', 'list'], key!)).stderr).toContain('(scope_missing)');
      const listed = await longhaul(['keys', 'list', '--json'], ALICE);
      expect(listed.code).toBe(0);
      const mine = (JSON.parse(listed.stdout) as { keys: any[] }).keys.find((k) => k.id === id);
      expect(mine).toMatchObject({ name: 'from the cli', scopes: ['runs:read', 'runs:write'], revokedAt: null });
      expect(listed.stdout).not.toContain(key);
      expect((await longhaul(['keys', 'list'], ALICE)).stdout).toMatch(new RegExp(`^${id}  alice  active  runs:read,runs:write  last used \\S+  from the cli$`, 'm'));

      const broader = await longhaul(['keys', 'create', 'broader', '--scopes', 'admin'], key!);
      expect(broader.code).toBe(3);
      expect(broader.stderr).toContain('(scope_missing)');
      const usage = await longhaul(['keys', 'create', 'no scopes'], ALICE);
      expect(usage.code).toBe(2);

      const revoked = await longhaul(['keys', 'revoke', id], ALICE);
      expect(revoked.code).toBe(0);
      expect(revoked.stdout).toMatch(new RegExp(`^${id} revoked `));
      const refused = await longhaul(['runs'], key!);
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('(key_revoked)');
    });
  });
});

/**
 * The same promise for browser sessions, and for roles: a socket, an event stream or a runs feed opened from a session
 * (its cookie, or a ticket it asked for) ends (4401) within one keep-alive beat of the session being signed out (here
 * or everywhere), revoked or expired, and a ticket redeemed after that opens nothing; and a role taken away while a socket is open stops its feed of that team's runs.
 * Sessions are made in the store as a sign-in would (the sign-in itself is test/e2e/sign-in.test.ts); the provider is
 * never asked, so its address is one where nothing listens.
 */
describe('the live streams of a browser session', () => {
  let h: Harness;
  const COOKIE = 'longhaul_session';

  beforeAll(async () => {
    const port = await freePort();
    h = await startHarness({
      noWorker: true,
      env: {
        PORT: String(port),
        PUBLIC_URL: `http://127.0.0.1:${port}`,
        OIDC_ISSUER: `http://127.0.0.1:${await freePort()}`,
        OIDC_CLIENT_ID: 'longhaul',
        API_TOKENS: `${CAROL}:carol`,
        WS_PING_INTERVAL_SEC: '1',
      },
    });
    h.defaultToken = CAROL;
    // carol administers payments (her static token starts its runs); erin is a member there, signed in by a session.
    await h.store.teamMembers.grant('payments', 'carol', 'admin');
  });
  afterAll(async () => {
    await h.close();
  });

  const wsUrl = () => `${h.api.url.replace(/^http/, 'ws')}/ws`;
  const signIn = async (user: string) => {
    const { secret } = await h.store.sessions.create(user, 3600);
    return { secret, cookie: `${COOKIE}=${secret}` };
  };
  /** The socket's close, or a failure after a few beats (without the check, an open socket never closes). */
  const closedSoon = (live: LiveClient) =>
    Promise.race([live.closed, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the socket is still open after 10 s')), 10_000).unref())]);
  /** The event stream's end, or a failure after a few beats. */
  const endedSoon = (ended: Promise<string>) =>
    Promise.race([ended, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('the event stream is still open after 10 s')), 10_000).unref())]);
  const ticketOf = async (cookie: string) => {
    const res = await h.request('POST', '/api/ws-ticket', { token: '', headers: { cookie, [CSRF_HEADER]: csrfTokenOf(cookie.split('=')[1]!) } });
    expect(res.status).toBe(201);
    return res.body.ticket as string;
  };
  const signOut = (secret: string, everywhere = false) =>
    h.request('POST', `/auth/logout${everywhere ? '?everywhere=true' : ''}`, { token: '', headers: { cookie: `${COOKIE}=${secret}`, [CSRF_HEADER]: csrfTokenOf(secret) } });

  it('ends the socket, the ticket socket and the event streams a session opened when it signs out (4401)', async () => {
    const { secret, cookie } = await signIn('erin');
    const run = await h.createRun({ goal: 'erin watches her run', model: 'demo' }, { token: '', headers: { cookie, [CSRF_HEADER]: csrfTokenOf(secret) } });
    const live = await LiveClient.connect(wsUrl(), { cookie });
    live.subscribe(run);
    const byTicket = await LiveClient.connect(`${wsUrl()}?ticket=${await ticketOf(cookie)}`);
    byTicket.watchRuns();
    byTicket.subscribe(run);
    await waitFor(() => live.messages.some((m) => m.type === 'snapshot') && byTicket.messages.some((m) => m.type === 'snapshot'), { what: 'both snapshots' });
    const stream = await fetch(`${h.api.url}/api/runs/${run}/stream`, { headers: { cookie } });
    const ticketStream = await fetch(`${h.api.url}/api/runs/${run}/stream?ticket=${await ticketOf(cookie)}`);
    expect([stream.status, ticketStream.status]).toEqual([200, 200]);
    const ended = [stream.text(), ticketStream.text()]; // each resolves when the server ends its stream

    expect((await signOut(secret)).status).toBe(200);
    const signedOut = { code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('signed out') };
    expect(await closedSoon(live)).toEqual(signedOut);
    expect(await closedSoon(byTicket)).toEqual(signedOut);
    for (const e of ended) await expect(endedSoon(e)).resolves.toEqual(expect.any(String));
  });

  it('refuses a ticket the session asked for once it has signed out: the socket closes (4401) before any feed, the event stream is 401', async () => {
    const { secret, cookie } = await signIn('erin');
    const run = await h.createRun({ goal: "erin's run, watched through a stale ticket", model: 'demo' }, { token: '', headers: { cookie, [CSRF_HEADER]: csrfTokenOf(secret) } });
    const [forSocket, forStream] = [await ticketOf(cookie), await ticketOf(cookie)];
    expect((await signOut(secret)).status).toBe(200);

    const stream = await fetch(`${h.api.url}/api/runs/${run}/stream?ticket=${forStream}`);
    expect(stream.status).toBe(401);
    expect(((await stream.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
    const live = await LiveClient.connect(`${wsUrl()}?ticket=${forSocket}`);
    live.watchRuns();
    live.subscribe(run);
    expect(await closedSoon(live)).toEqual({ code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('signed out') });
    // Closed at redemption, not at the first beat: no snapshot, no history, no runs feed.
    expect(live.messages).toEqual([]);
  });

  it('ends every socket of a user signed out everywhere, and a session past its absolute or idle expiry', async () => {
    const here = await signIn('erin');
    const there = await signIn('erin');
    const sockets = [await LiveClient.connect(wsUrl(), { cookie: here.cookie }), await LiveClient.connect(wsUrl(), { cookie: there.cookie })];
    expect((await signOut(here.secret, true)).status).toBe(200);
    for (const live of sockets) expect(await closedSoon(live)).toEqual({ code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('signed out') });

    const hash = (secret: string) => crypto.createHash('sha256').update(secret).digest('hex');
    const old = await signIn('erin');
    const idle = await signIn('erin');
    const oldSocket = await LiveClient.connect(wsUrl(), { cookie: old.cookie });
    const idleSocket = await LiveClient.connect(`${wsUrl()}?ticket=${await ticketOf(idle.cookie)}`);
    const past = new Date(Date.now() - 1000).toISOString();
    await h.store.db.updateTable('sessions').set({ expires_at: past }).where('id', '=', hash(old.secret)).execute();
    // Unused for longer than SESSION_IDLE_SEC (8 hours by default): an open socket is no use of the session.
    await h.store.db.updateTable('sessions').set({ seen_at: new Date(Date.now() - 9 * 3600_000).toISOString() }).where('id', '=', hash(idle.secret)).execute();
    for (const live of [oldSocket, idleSocket]) expect(await closedSoon(live)).toEqual({ code: CLOSE_CREDENTIAL_ENDED, reason: expect.stringContaining('expired') });
  });

  it("stops an open socket's and event stream's feed of a team's runs once the user's role there is taken away", async () => {
    await h.store.teamMembers.grant('payments', 'erin', 'member');
    const { secret, cookie } = await signIn('erin');
    const teamRun = await h.createRun({ goal: 'a payments run', model: 'demo', team: 'payments' });
    const live = await LiveClient.connect(wsUrl(), { cookie });
    live.watchRuns();
    live.subscribe(teamRun);
    await waitFor(() => live.messages.some((m) => m.type === 'snapshot' && m.runId === teamRun), { what: 'the team run snapshot' });
    const stream = await fetch(`${h.api.url}/api/runs/${teamRun}/stream`, { headers: { cookie } });
    expect(stream.status).toBe(200);
    const streamed = stream.text();
    const before = await h.createRun({ goal: 'another payments run', model: 'demo', team: 'payments' });
    await waitFor(() => live.runChanges(before).length > 0, { what: 'the runs feed to report the team run' });

    // Taken off the team while the socket is open: the next beat drops the team run, and the feed says no more of the team.
    expect((await h.request('DELETE', '/api/teams/payments/members/erin/member')).status).toBe(204);
    await waitFor(() => live.messages.some((m) => m.type === 'error' && m.code === 'run_access_ended' && m.runId === teamRun), { timeoutMs: 10_000, what: 'run_access_ended' });
    const text = await endedSoon(streamed);
    expect(text).toContain('run_access_ended');
    const after = await h.createRun({ goal: 'a payments run she may no longer see', model: 'demo', team: 'payments' });
    const own = await h.createRun({ goal: 'her own run', model: 'demo' }, { token: '', headers: { cookie, [CSRF_HEADER]: csrfTokenOf(secret) } });
    await waitFor(() => live.runChanges(own).length > 0, { what: 'the runs feed to report her own run' });
    expect(live.runChanges(after)).toEqual([]);
    // The socket itself goes on (her credential holds), and she may subscribe to what she still may see.
    live.subscribe(own);
    await waitFor(() => live.messages.some((m) => m.type === 'snapshot' && m.runId === own), { what: 'her own run snapshot' });
  });
});
