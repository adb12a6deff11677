/**
 * The public client and the CLI against a real API when access ends while they follow a run: an API key revoked while
 * `runs.watch` and the client's live socket follow (the socket stops at once with a 401 error instead of
 * reconnecting; `longhaul watch` says the token stopped working and exits 5), and a user taken off a team while they
 * watch a team run (`runs.watch` ends with `run_access_ended`, not a retried `internal`; `longhaul watch` exits 6).
 * Keep-alive beats every second, so each ending reaches the streams within a second or two.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import WebSocket from 'ws';
import { createLonghaulClient, LonghaulError, type ConnectionState, type SocketConstructor, type WatchItem } from '../../client';
import { EXIT } from '../../client/cli/exit-codes';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ROOT = path.join(__dirname, '..', '..');
const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

describe('the client when access ends while it follows a run', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({ noWorker: true, env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob`, WS_PING_INTERVAL_SEC: '1' } });
    h.defaultToken = ALICE;
    await h.store.teamMembers.grant('payments', 'alice', 'admin');
  });
  afterAll(async () => {
    await h.close();
  });

  /** `longhaul watch <run> --json` as a process, with its output as it comes (--json: its first line says it follows). */
  function watchCommand(runId: string, token: string): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'client', 'cli', 'main.ts'), 'watch', runId, '--json'], {
      cwd: ROOT,
      env: { ...process.env, LONGHAUL_URL: h.api.url, LONGHAUL_TOKEN: token },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
    return { child, stdout: () => stdout, stderr: () => stderr, exited };
  }

  /** Follows a watch to its end: every item, and the error it ended with. */
  function follow(items: AsyncGenerator<WatchItem>): { items: WatchItem[]; ended: Promise<unknown> } {
    const seen: WatchItem[] = [];
    const ended = (async () => {
      for await (const item of items) seen.push(item);
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    return { items: seen, ended };
  }

  const within = <T>(p: Promise<T>, ms: number, what: string) =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

  it('stops the live socket of a key revoked under it (401, no reconnect), ends runs.watch with key_revoked, and longhaul watch exits 5', async () => {
    const key = (await h.request('POST', '/api/keys', { body: { name: 'watcher', scopes: ['runs:read'] } })).body as { id: string; key: string };
    const run = await h.createRun({ goal: 'followed by a key', model: 'demo' });
    const client = createLonghaulClient({ baseUrl: h.api.url, token: key.key });

    const live = client.live({ WebSocket: WebSocket as unknown as SocketConstructor });
    const states: ConnectionState[] = [];
    live.onState((s) => states.push(s));
    const errors: LonghaulError[] = [];
    live.onError((e) => errors.push(e));
    const snapshots: string[] = [];
    live.subscribe(run, 0, (m) => m.type === 'snapshot' && snapshots.push(m.runId));
    const watch = follow(client.runs.watch(run));
    const cli = watchCommand(run, key.key);
    await waitFor(() => snapshots.length > 0 && watch.items.some((i) => i.type === 'snapshot') && cli.stdout().includes('"type":"snapshot"'), { what: 'the snapshots' });

    expect((await h.request('DELETE', `/api/keys/${key.id}`)).status).toBe(200);
    await waitFor(() => live.connectionState === 'unauthorized', { timeoutMs: 10_000, what: 'the socket to stop' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ status: 401, code: 'unauthorized', message: expect.stringContaining('revoked') });
    const ended = await within(watch.ended, 10_000, 'runs.watch to end');
    expect(ended).toBeInstanceOf(LonghaulError);
    expect(ended).toMatchObject({ status: 401, code: 'key_revoked' });
    expect(await within(cli.exited, 15_000, 'longhaul watch to exit')).toBe(EXIT.credentialEnded);
    expect(JSON.parse(cli.stderr().trim().split('\n').at(-1)!)).toEqual({ error: { status: 401, code: 'key_revoked', message: expect.any(String) } });

    // Stopped, not retrying: no new socket, no state change, a beat later.
    const statesBefore = states.length;
    await new Promise((r) => setTimeout(r, 1500)); // longer than the first reconnect's backoff (500 ms)
    expect(states.length).toBe(statesBefore);
    expect(states).not.toContain('offline');
    live.close();
  }, 60_000);

  it('ends runs.watch of a team run with run_access_ended once its watcher is taken off the team, and longhaul watch exits 6', async () => {
    await h.store.teamMembers.grant('payments', 'bob', 'member');
    const run = await h.createRun({ goal: 'a payments run bob watches', model: 'demo', team: 'payments' });
    const client = createLonghaulClient({ baseUrl: h.api.url, token: BOB });
    const watch = follow(client.runs.watch(run, { retryMs: { initial: 50, max: 100 } }));
    const cli = watchCommand(run, BOB);
    await waitFor(() => watch.items.some((i) => i.type === 'snapshot') && cli.stdout().includes('"type":"snapshot"'), { what: 'the snapshots' });

    expect((await h.request('DELETE', '/api/teams/payments/members/bob/member')).status).toBe(204);
    const ended = await within(watch.ended, 10_000, 'runs.watch to end');
    expect(ended).toBeInstanceOf(LonghaulError);
    expect(ended).toMatchObject({ status: 403, code: 'run_access_ended' });
    // Ended, not retried: no reconnect.
    expect(watch.items.filter((i) => i.type === 'reconnecting')).toEqual([]);
    expect(await within(cli.exited, 15_000, 'longhaul watch to exit')).toBe(EXIT.runAccessEnded);
    expect(JSON.parse(cli.stderr().trim().split('\n').at(-1)!)).toEqual({ error: { status: 403, code: 'run_access_ended', message: expect.any(String) } });
  }, 60_000);
});
