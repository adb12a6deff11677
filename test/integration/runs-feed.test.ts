/**
 * The per-user runs feed on the WebSocket (`watch-runs`), what the UI's live list, inbox and its
 * count stand on: a run created over the API is announced at once to its owner and to approvers,
 * never to anyone else; status changes follow; the client's LiveSocket has its watchers re-read on
 * every (re)connect, when changes may have gone unheard.
 */
import WebSocket from 'ws';
import { createLonghaulClient, type SocketConstructor } from '../../client';
import { startHarness, type Harness } from '../support/harness';
import { LiveClient, wsUrl } from '../support/live-client';
import { waitFor } from '../support/wait';

const ALICE = 'alice-feed-token-0123';
const BOB = 'bob-feed-token-0123456';
const CAROL = 'carol-feed-token-01234';

describe('runs feed', () => {
  let h: Harness;
  const sockets: LiveClient[] = [];
  beforeAll(async () => {
    h = await startHarness({ env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob,${CAROL}:carol`, APPROVERS: 'carol' } });
  });
  afterAll(async () => {
    for (const s of sockets) s.terminate();
    await h.close();
  });

  async function watcher(token: string): Promise<LiveClient> {
    const c = await LiveClient.connect(wsUrl(h.api.url), { token });
    sockets.push(c);
    c.watchRuns();
    return c;
  }

  it('announces a run to its owner and approvers from creation to its end, and to nobody else', async () => {
    const [alice, bob, carol] = [await watcher(ALICE), await watcher(BOB), await watcher(CAROL)];
    // The watch is registered before the run exists: a round trip on each socket proves it.
    for (const c of [alice, bob, carol]) {
      c.subscribe('run_none');
      await c.waitForMessage((m) => m.type === 'error' && m.runId === 'run_none', 'the socket to answer');
    }
    const id = await h.createRun({ goal: 'announce me', model: 'demo', approvals: 'none' }, { token: ALICE });
    await waitFor(() => alice.runChanges(id).length > 0, { what: 'alice to hear of her new run' });
    await waitFor(() => carol.runChanges(id).length > 0, { what: 'the approver to hear of it' });
    await h.waitForStatus(id, 'completed', { token: ALICE });
    await waitFor(() => alice.runChanges(id).at(-1) === 'completed', { what: 'the feed to report the end' });
    await waitFor(() => carol.runChanges(id).at(-1) === 'completed', { what: 'the approver to hear of the end' });
    expect(bob.runChanges(id)).toEqual([]);
    expect(bob.messages.filter((m) => m.type === 'runs.changed')).toEqual([]);
  });

  it('stops when unwatched', async () => {
    const alice = await watcher(ALICE);
    alice.ws.send(JSON.stringify({ type: 'unwatch-runs' }));
    alice.subscribe('run_none');
    await alice.waitForMessage((m) => m.type === 'error' && m.runId === 'run_none', 'the socket to answer');
    const id = await h.createRun({ goal: 'unheard', model: 'demo', approvals: 'none' }, { token: ALICE });
    await h.waitForStatus(id, 'completed', { token: ALICE });
    const other = await watcher(ALICE); // a watcher joined later hears later changes; the unwatched one hears none
    const later = await h.createRun({ goal: 'heard by the other', model: 'demo', approvals: 'none' }, { token: ALICE });
    await waitFor(() => other.runChanges(later).length > 0, { what: 'the other watcher to hear' });
    expect(alice.messages.filter((m) => m.type === 'runs.changed')).toEqual([]);
  });

  it("reaches the client's LiveSocket, which asks its watchers to re-read whenever it (re)connects", async () => {
    const client = createLonghaulClient({ baseUrl: h.api.url, token: ALICE });
    const live = client.live({ WebSocket: WebSocket as unknown as SocketConstructor });
    const heard: (string | null)[] = [];
    const stop = live.watchRuns((change) => heard.push(change ? `${change.runId}:${change.status}` : null));
    await waitFor(() => live.connectionState === 'live', { what: 'the socket to open' });
    await waitFor(() => heard.includes(null), { what: 'the first re-read on connect' });
    const id = await client.runs.start({ goal: 'through the client', model: 'demo', approvals: 'none' }).then((r) => r.id);
    await waitFor(() => heard.includes(`${id}:completed`), { what: 'the client to hear the run complete' });
    stop();
    live.close();
  });
});
