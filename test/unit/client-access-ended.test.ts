/**
 * The client when access ends while it follows runs: a socket closed 4401 (its credential ended) stops at once with a
 * typed 401 error instead of reconnecting until it gives up; other closes still reconnect. `runs.watch` ends a watch
 * whose run the caller may no longer see with its own code (`run_access_ended`), not a retried `internal`. The CLI's
 * watch says which happened and exits with a code of its own for each.
 */
import { LiveSocket, type SocketLike } from '../../client/live-socket';
import { LonghaulError } from '../../client/errors';
import { Http } from '../../client/http';
import { watchRun, type WatchItem } from '../../client/watch';
import { printWatch } from '../../client/cli/print-watch';
import { EXIT } from '../../client/cli/exit-codes';
import { WS_CLOSE_CREDENTIAL_ENDED } from '../../contract/errors';
import type { LonghaulClient } from '../../client';

/** A socket the test opens and closes by hand. */
class FakeSocket implements SocketLike {
  static all: FakeSocket[] = [];
  readyState = 0;
  sent: unknown[] = [];
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  constructor(readonly url: string) {
    FakeSocket.all.push(this);
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  closedBy(code: number, reason: string): void {
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

describe('the live socket when its credential ends', () => {
  let tickets: number;
  let refuse: LonghaulError | undefined;
  const socket = () =>
    new LiveSocket({
      ticket: async () => {
        tickets += 1;
        if (refuse) throw refuse;
        return `t${tickets}`;
      },
      url: (t) => `ws://api/ws?ticket=${t}`,
      WebSocket: FakeSocket,
    });

  beforeEach(() => {
    jest.useFakeTimers();
    FakeSocket.all = [];
    tickets = 0;
    refuse = undefined;
  });
  afterEach(() => jest.useRealTimers());

  it('stops at a 4401 close, in state unauthorized, and tells its watchers with a 401 error', async () => {
    const live = socket();
    const errors: LonghaulError[] = [];
    const states: string[] = [];
    live.onError((e) => errors.push(e));
    live.onState((s) => states.push(s));
    live.subscribe('run_1', 0, () => undefined);
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.closedBy(WS_CLOSE_CREDENTIAL_ENDED, 'the API key this socket was opened with was revoked');
    await jest.advanceTimersByTimeAsync(60_000);

    expect(tickets).toBe(1);
    expect(FakeSocket.all).toHaveLength(1);
    expect(live.connectionState).toBe('unauthorized');
    expect(states).not.toContain('reconnecting');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(LonghaulError);
    expect(errors[0]).toMatchObject({ status: 401, code: 'unauthorized', message: 'the API key this socket was opened with was revoked' });
    expect(live.error).toBe(errors[0]);
    // A watcher that comes late hears it too.
    const late = jest.fn();
    live.onError(late);
    expect(late).toHaveBeenCalledWith(errors[0]);
    live.close();
  });

  it('keeps reconnecting after any other close', async () => {
    const live = socket();
    const errors: LonghaulError[] = [];
    live.onError((e) => errors.push(e));
    live.subscribe('run_1', 3, () => undefined);
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.all[0]!.open();
    FakeSocket.all[0]!.closedBy(4008, 'too slow');
    expect(live.connectionState).toBe('reconnecting');
    await jest.advanceTimersByTimeAsync(1000);
    expect(tickets).toBe(2);
    FakeSocket.all[1]!.open();
    expect(FakeSocket.all[1]!.sent).toContainEqual({ type: 'subscribe', runId: 'run_1', after: 3 });
    expect(live.connectionState).toBe('live');
    expect(errors).toEqual([]);
    live.close();
  });

  it('stops when a ticket is refused with 401, with the refusal as its error, and starts again when asked', async () => {
    const live = socket();
    const errors: LonghaulError[] = [];
    live.onError((e) => errors.push(e));
    live.subscribe('run_1', 0, () => undefined);
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.all[0]!.open();
    refuse = new LonghaulError(401, 'key_revoked', 'this API key was revoked');
    FakeSocket.all[0]!.closedBy(1006, '');
    await jest.advanceTimersByTimeAsync(60_000);
    expect(tickets).toBe(2);
    expect(live.connectionState).toBe('unauthorized');
    expect(errors.map((e) => e.code)).toEqual(['key_revoked']);

    refuse = undefined;
    live.reconnectNow();
    await jest.advanceTimersByTimeAsync(0);
    FakeSocket.all[1]!.open();
    expect(live.connectionState).toBe('live');
    expect(live.error).toBeUndefined();
    live.close();
  });
});

describe('runs.watch when the caller may no longer see the run', () => {
  it('ends with a run_access_ended error, without reconnecting', async () => {
    let calls = 0;
    const ended = { type: 'error', code: 'run_access_ended', message: 'you may no longer see this run; its feed has stopped', runId: 'run_1' };
    const fetch = (async () => {
      calls += 1;
      return new Response(`event: snapshot\ndata: ${JSON.stringify({ type: 'snapshot', runId: 'run_1', progress: { id: 'run_1' } })}\n\nevent: error\ndata: ${JSON.stringify(ended)}\n\n`, {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
      });
    }) as typeof globalThis.fetch;
    const http = new Http({ baseUrl: 'http://api', fetch });
    const items: WatchItem[] = [];
    const failure = await (async () => {
      for await (const item of watchRun(http, 'run_1', { retryMs: { initial: 1, max: 1 } })) {
        items.push(item);
        if (items.length > 5) break;
      }
    })().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(LonghaulError);
    expect(failure).toMatchObject({ status: 403, code: 'run_access_ended', message: ended.message });
    expect(items.map((i) => i.type)).toEqual(['snapshot']);
    expect(calls).toBe(1);
  });
});

describe('longhaul watch when access ends', () => {
  function clientThat(items: WatchItem[], err: LonghaulError): LonghaulClient {
    return {
      runs: {
        async *watch(): AsyncGenerator<WatchItem> {
          yield* items;
          throw err;
        },
      },
    } as unknown as LonghaulClient;
  }
  const watched = async (items: WatchItem[], err: LonghaulError, json = false) => {
    const out: string[] = [];
    const errs: string[] = [];
    const code = await printWatch(clientThat(items, err), 'run_1', { json, out: (l) => out.push(l), write: (t) => out.push(t), err: (l) => errs.push(l) });
    return { code, out, errs };
  };
  const snapshot = { type: 'snapshot', run: { id: 'run_1' } } as unknown as WatchItem;

  it('says the run may no longer be seen, and exits with its own code', async () => {
    const { code, errs } = await watched([snapshot], new LonghaulError(403, 'run_access_ended', 'you may no longer see this run; its feed has stopped'));
    expect(code).toBe(EXIT.runAccessEnded);
    expect(errs.join('\n')).toMatch(/your roles changed: you may no longer see this run.*\(run_access_ended\)/);
  });

  it('says the token stopped working while watching, and exits with its own code', async () => {
    const { code, errs } = await watched([snapshot, { type: 'reconnecting', attempt: 1, reason: 'the stream ended' }], new LonghaulError(401, 'key_revoked', 'this API key was revoked'));
    expect(code).toBe(EXIT.credentialEnded);
    expect(errs.join('\n')).toMatch(/token stopped working while watching: this API key was revoked \(key_revoked\); set LONGHAUL_TOKEN/);
  });

  it('prints the error as JSON with --json', async () => {
    const { code, errs } = await watched([snapshot], new LonghaulError(401, 'unauthorized', 'invalid token'), true);
    expect(code).toBe(EXIT.credentialEnded);
    expect(JSON.parse(errs.at(-1)!)).toEqual({ error: { status: 401, code: 'unauthorized', message: 'invalid token' } });
  });

  it('leaves a token refused before anything was watched to the command (refused, exit 3)', async () => {
    const refused = new LonghaulError(401, 'unauthorized', 'invalid token');
    await expect(watched([], refused)).rejects.toBe(refused);
    expect(new Set(Object.values(EXIT)).size).toBe(Object.values(EXIT).length);
  });
});
