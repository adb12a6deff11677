/**
 * Presence and attention: who watches a run is counted across API replicas (two API processes on
 * one Postgres database), a dead socket stops counting within the ping interval, and a run that
 * starts waiting for its owner asks for attention — an `attention.needed` event, its webhook and a
 * Slack direct message — only when the owner is not watching.
 */
import crypto from 'node:crypto';
import { FakeAnthropic } from '../support/fake-anthropic';
import { FakeSlack } from '../support/fake-slack';
import { startHarness, type Harness } from '../support/harness';
import { listenLocally, type LocalServer } from '../support/http-server';
import { LiveClient, wsUrl } from '../support/live-client';
import { freePort } from '../support/ports';
import { startApiProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';

describe('presence and attention', () => {
  const fake = new FakeAnthropic();
  const slack = new FakeSlack();
  const hooks: { type: string; data: Record<string, unknown> }[] = [];
  const clients: LiveClient[] = [];
  let receiver: LocalServer;
  let other: ChildHandle | undefined;
  let otherUrl: string;
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    await slack.start();
    receiver = await listenLocally((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.writeHead(204).end();
      });
    });
    h = await startHarness({
      database: 'postgres',
      bus: 'database',
      env: {
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        APPROVERS: 'bob',
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        WS_PING_INTERVAL_SEC: '1',
        WEBHOOK_SECRET: `whsec_${crypto.randomBytes(32).toString('base64')}`,
        WEBHOOK_ALLOWED_HOSTS: `127.0.0.1:${receiver.port}`,
        WEBHOOK_URLS: `${receiver.url}/hooks`,
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'presence-secret',
        SLACK_CHANNEL: 'C_APPROVALS',
        SLACK_USERS: 'U_ALICE:alice',
        SLACK_API_URL: slack.url,
      },
    });
    h.defaultToken = ALICE;
    const port = await freePort();
    other = await startApiProcess({ ...h.env, PORT: String(port) });
    otherUrl = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    for (const c of clients) c.terminate();
    await other?.kill('SIGKILL');
    await h.close();
    await receiver.stop();
    await slack.stop();
    await fake.stop();
  });

  async function watcher(apiUrl: string, token: string, opts: { autoPong?: boolean } = {}): Promise<LiveClient> {
    const c = await LiveClient.connect(wsUrl(apiUrl), { token, origin: apiUrl, ...opts });
    clients.push(c);
    return c;
  }

  function waitsForApproval(marker: string) {
    fake.script(marker, (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'w.txt', content: 'w' } }] } : { text: 'done' }));
  }

  it('counts watchers across two API replicas and drops a dead socket within the ping interval', async () => {
    waitsForApproval('[presence-count]');
    const id = await h.createRun({ goal: 'watch me [presence-count]', approvals: 'write' });
    await h.waitForStatus(id, 'waiting_approval');
    const a = await watcher(h.api.url, ALICE);
    a.subscribe(id, 0);
    const b = await watcher(otherUrl, BOB, { autoPong: false }); // stops answering pings: a dead socket
    b.subscribe(id, 0);
    // Read once: the dead socket may stop counting at the next ping, any moment now.
    let view: { watchers: { count: number; users: string[] } } | undefined;
    await waitFor(async () => (view = await h.getRun(id)).watchers.count === 2, { what: 'two watchers on two replicas' });
    expect(view!.watchers.users).toEqual(['alice', 'bob']);
    await waitFor(async () => (await h.getRun(id)).watchers.users.join() === 'alice', { timeoutMs: 10_000, what: 'the dead socket to stop counting' });
    a.close();
    await waitFor(async () => (await h.getRun(id)).watchers.count === 0, { what: 'no watchers left' });
  });

  it('asks for attention only when the owner is not watching: event, webhook and Slack DM', async () => {
    // The watched run's model answers only once its owner is counted watching: its approval is asked for after that.
    let ownerWatching!: () => void;
    const watched = new Promise<void>((resolve) => (ownerWatching = resolve));
    fake.script('[presence-seen]', async (req) =>
      req.assistantTurns === 0 ? (await watched, { toolUses: [{ name: 'workspace_write', input: { path: 'w.txt', content: 'w' } }] }) : { text: 'done' },
    );
    const seen = await h.createRun({ goal: 'watched [presence-seen]', approvals: 'write' });
    const a = await watcher(otherUrl, ALICE); // the owner watches from the other replica
    a.subscribe(seen, 0);
    await waitFor(async () => (await h.getRun(seen)).watchers.count === 1, { what: 'the owner to be watching' });
    ownerWatching();
    await h.waitForStatus(seen, 'waiting_approval');
    expect((await h.events(seen)).some((e) => e.type === 'attention.needed')).toBe(false);

    waitsForApproval('[presence-away]');
    const away = await h.createRun({ goal: 'unwatched [presence-away]', approvals: 'write' });
    const waiting = await h.waitForStatus(away, 'waiting_approval');
    const attention = await h.waitForEvent(away, 'attention.needed');
    expect(attention.data).toMatchObject({ kind: 'approval', requestId: waiting.pendingApprovals[0].approvalId, owner: 'alice' });
    await waitFor(() => hooks.some((x) => x.type === 'attention.needed' && x.data.runId === away), { what: 'the attention webhook' });
    expect(hooks.some((x) => x.type === 'attention.needed' && x.data.runId === seen)).toBe(false);
    await waitFor(() => slack.callsTo('chat.postMessage').some((c) => c.args.channel === 'U_ALICE' && String(c.args.text).includes(away)), { what: 'a direct message to the owner' });
  });

  it('reminds an owner who is away at half the expiry, for approvals and questions, once each', async () => {
    waitsForApproval('[presence-remind]');
    const approvalRun = await h.createRun({ goal: 'remind me [presence-remind]', approvals: 'write', approvalTimeoutSec: 4 });
    fake.script('[presence-ask]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Which colour?' } }] } : { text: 'ok' }));
    const questionRun = await h.createRun({ goal: 'ask me [presence-ask]', approvals: 'none', approvalTimeoutSec: 4 });
    for (const id of [approvalRun, questionRun]) {
      await waitFor(async () => (await h.events(id)).some((e) => e.type === 'attention.needed' && e.data.reminder === true), { what: `the reminder of ${id}` });
      const asks = (await h.events(id)).filter((e) => e.type === 'attention.needed');
      expect(asks.map((e) => Boolean((e.data as { reminder?: boolean }).reminder))).toEqual([false, true]);
      // The reminder came halfway: after the first notice, before the request expired.
      const [first, reminder] = asks.map((e) => Date.parse(e.at));
      expect(reminder! - first!).toBeGreaterThanOrEqual(1500);
      await waitFor(() => hooks.filter((x) => x.type === 'attention.needed' && x.data.runId === id).length >= 2, { what: `both attention webhooks of ${id}` });
    }
    // Slack: the question's notice and each reminder reached the owner directly.
    const dms = () => slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'U_ALICE').map((c) => String(c.args.text));
    await waitFor(() => dms().some((t) => t.includes(questionRun) && t.includes('Which colour?')), { what: 'the question DM' });
    await waitFor(() => dms().filter((t) => t.startsWith('Reminder:')).length >= 2, { what: 'two reminder DMs' });
  });
});
