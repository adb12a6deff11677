/**
 * The typed Longhaul client (`longhaul/client`): every API call with the contract's types, errors
 * typed by the API's codes, and live following — `runs.watch` (an async iterator that reconnects
 * and resumes by itself) and `live()` (one multiplexed WebSocket for many runs). Plain `fetch`, so
 * it works in Node and in browsers; the web UI and the `longhaul` CLI are built on it.
 */
import type {
  AgentList,
  RunUpgradeAccepted,
  ApprovalList,
  ApprovalView,
  CapacityReport,
  CreateRunBody,
  DecisionBody,
  EventPage,
  Inbox,
  CreateScheduleBody,
  FollowUpAccepted,
  ScheduleView,
  FollowUpBody,
  RunChildren,
  RunControlAccepted,
  RunCreated,
  RunList,
  RunView,
  UsageReport,
  WorkspaceView,
  WsTicket,
  TeamList,
  TeamMembers,
  TeamBudget,
} from '../contract/api';
import type { ApiKeyCreated, ApiKeyList, ApiKeyView, CreateApiKeyBody } from '../contract/api-keys';
import type { Role } from '../contract/identity';
import { routePath } from '../contract/paths';
import { isTerminalStatus, type RunStatus } from '../contract/run';
import { Http, type ClientOptions } from './http';
import { LonghaulError, RunFailedError } from './errors';
import { LiveSocket, type SocketConstructor } from './live-socket';
import { watchRun, type WatchItem, type WatchOptions } from './watch';
import { watchTree, type ChildWatchItem } from './watch-tree';

export type { ClientOptions } from './http';
export { LonghaulError, RunFailedError, isTransient, type ClientErrorCode } from './errors';
export type { WatchItem, WatchOptions } from './watch';
export type { ChildWatchItem } from './watch-tree';
export { LiveSocket, type ConnectionState, type LiveHandler, type RunsChangeHandler, type SocketConstructor } from './live-socket';
export type * from '../contract/api';
export type * from '../contract/api-keys';
export type { RunEvent, RunEventOf, EventType, EventData } from '../contract/events';
export type { ApiErrorCode } from '../contract/errors';
export type { RunStatus, Usage, RunLimits, PendingApproval, PendingInput, RunError } from '../contract/run';

export interface ResultOptions {
  /** Stop waiting (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Give up after this long (a LonghaulError with code `timeout`); default: wait as long as it takes. */
  timeoutMs?: number;
}

/** A completed run's answer: the validated structured output (agents with an output schema), and the final text. */
export interface RunResult {
  status: 'completed';
  output: unknown;
  result: string | null;
}

/** How often `runs.result` looks again: quickly at first, then every few seconds. */
const RESULT_POLL_FIRST_MS = 250;
const RESULT_POLL_MAX_MS = 5000;

export interface StartOptions {
  /** Repeating a call with the same key returns the first answer and does nothing new. */
  idempotencyKey?: string;
}

/** `runs.watch`: with `children: true` the items of child runs come too, as `child` items. */
export interface Watch {
  (id: string, o: WatchOptions & { children: true }): AsyncGenerator<WatchItem | ChildWatchItem>;
  (id: string, o?: WatchOptions): AsyncGenerator<WatchItem>;
}

export function createLonghaulClient(opts: ClientOptions) {
  const http = new Http(opts);
  const post = <T>(path: string, body?: unknown, headers?: Record<string, string>) => http.json<T>('POST', path, { body, headers });

  const runs = {
    start: (body: CreateRunBody, o: StartOptions = {}) =>
      post<RunCreated>(routePath('createRun'), body, o.idempotencyKey ? { 'Idempotency-Key': o.idempotencyKey } : undefined),
    get: (id: string) => http.json<RunView>('GET', routePath('getRun', { id })),
    /** The run's child runs (its sub-agents' runs), oldest first, each with its own `childCount`. */
    children: (id: string) => http.json<RunChildren>('GET', routePath('listChildren', { id })),
    /** `q`: only runs whose goal contains this text; `team`: only that team's runs; `children`: list child runs too (by default a run tree is listed as its root). */
    list: (q: { status?: RunStatus[]; scheduleId?: string; q?: string; limit?: number; cursor?: string; team?: string; children?: boolean } = {}) =>
      http.json<RunList>('GET', routePath('listRuns'), {
        query: { status: q.status?.join(','), scheduleId: q.scheduleId, q: q.q || undefined, limit: q.limit, cursor: q.cursor, team: q.team, children: q.children ? 'include' : undefined },
      }),
    events: (id: string, q: { after?: number; limit?: number } = {}) => http.json<EventPage>('GET', routePath('listEvents', { id }), { query: q }),
    cancel: (id: string) => post<RunControlAccepted>(routePath('cancelRun', { id })),
    pause: (id: string) => post<RunControlAccepted>(routePath('pauseRun', { id })),
    resume: (id: string) => post<RunControlAccepted>(routePath('resumeRun', { id })),
    /**
     * A follow-up message: joins an active run at its next turn boundary, or continues a run that
     * completed or ended on a limit (`limits` may raise its caps).
     */
    message: (id: string, body: FollowUpBody, o: StartOptions = {}) =>
      post<FollowUpAccepted>(routePath('postMessage', { id }), body, o.idempotencyKey ? { 'Idempotency-Key': o.idempotencyKey } : undefined),
    /** Follow a run live; see watch.ts (and watch-tree.ts for `children: true`). */
    watch: ((id: string, o?: WatchOptions) => (o?.children ? watchTree(http, id, o) : watchRun(http, id, o))) as Watch,
    /**
     * Waits for the run to end: resolves with its output and final text when it completed, throws a
     * RunFailedError carrying its error code when it failed or was cancelled.
     */
    result: (id: string, o: ResultOptions = {}) => waitForResult(id, o),
    /** Moves a run to its agent's current version at its next model call (`run.upgraded` says when). */
    upgrade: (id: string) => post<RunUpgradeAccepted>(routePath('upgradeRun', { id })),
  };

  async function waitForResult(id: string, o: ResultOptions): Promise<RunResult> {
    const deadline = o.timeoutMs === undefined ? Infinity : Date.now() + o.timeoutMs;
    for (let pause = RESULT_POLL_FIRST_MS; ; pause = Math.min(RESULT_POLL_MAX_MS, Math.round(pause * 1.5))) {
      o.signal?.throwIfAborted();
      const run = await runs.get(id);
      if (run.status === 'completed') return { status: 'completed', output: run.output ?? null, result: run.result };
      if (isTerminalStatus(run.status)) {
        const status = run.status as 'failed' | 'cancelled';
        const code = status === 'cancelled' ? 'cancelled' : (run.error?.code ?? 'internal');
        throw new RunFailedError(id, status, code, run.error?.message ?? `run ${id} was ${status}`, run.error);
      }
      if (Date.now() + pause > deadline) throw new LonghaulError(0, 'timeout', `run ${id} had not ended after ${o.timeoutMs} ms (it is ${run.status})`);
      await sleep(pause, o.signal);
    }
  }

  /** The agents workers published: versions, tools with risk, the live workers serving each. */
  const agents = {
    list: () => http.json<AgentList>('GET', routePath('listAgents')),
  };

  /** A run's workspace: its files, one file's bytes, and releasing it. */
  const workspaces = {
    get: (runId: string) => http.json<WorkspaceView>('GET', routePath('getWorkspace', { id: runId })),
    /** One file's bytes, with its content type. */
    file: async (runId: string, filePath: string): Promise<Blob> => {
      const url = http.url(routePath('getWorkspaceFile', { id: runId, path: 'PATH' }).replace('PATH', filePath.split('/').map(encodeURIComponent).join('/')));
      const res = await http.fetch(url, { method: 'GET', headers: http.headers() });
      if (!res.ok) throw await http.failure(res);
      return res.blob();
    },
    release: (runId: string) => post<WorkspaceView>(routePath('releaseWorkspace', { id: runId })),
  };

  const approvals = {
    /**
     * The pending approvals the caller may decide, oldest first, a page at a time (default 50, at most 200).
     * `cursor`: the previous page's `nextCursor` (null on the last page).
     */
    list: (q: { limit?: number; cursor?: string } = {}) => http.json<ApprovalList>('GET', routePath('listApprovals'), { query: { limit: q.limit, cursor: q.cursor } }),
    /** One approval with its full input (events carry a preview when it is long). */
    get: (approvalId: string) => http.json<ApprovalView>('GET', routePath('getApproval', { approvalId })),
    /**
     * What waits for the caller, a page at a time (default 50, at most 200): approvals they may decide, questions of
     * runs they may steer. `cursor`: the previous page's `nextCursor`; `total` counts all of it.
     */
    inbox: (q: { limit?: number; cursor?: string } = {}) => http.json<Inbox>('GET', routePath('getInbox'), { query: { limit: q.limit, cursor: q.cursor } }),
    decide: (runId: string, approvalId: string, body: DecisionBody) => post<ApprovalView>(routePath('decideApproval', { id: runId, approvalId }), body),
  };

  const schedules = {
    create: (body: CreateScheduleBody) => post<ScheduleView>(routePath('createSchedule'), body),
    list: () => http.json<{ schedules: ScheduleView[] }>('GET', routePath('listSchedules')),
    get: (id: string) => http.json<ScheduleView>('GET', routePath('getSchedule', { id })),
    delete: (id: string) => http.json<void>('DELETE', routePath('deleteSchedule', { id })),
    pause: (id: string) => post<ScheduleView>(routePath('pauseSchedule', { id })),
    resume: (id: string) => post<ScheduleView>(routePath('resumeSchedule', { id })),
    trigger: (id: string) => post<ScheduleView>(routePath('triggerSchedule', { id })),
  };

  const input = {
    /** Answers the run's open question, or with `requestId` one asked by a run below it in its tree (a sub-agent's). */
    answer: (runId: string, text: string, opts: { requestId?: string } = {}) => post<{ requestId: string }>(routePath('answerInput', { id: runId }), { text, ...(opts.requestId !== undefined && { requestId: opts.requestId }) }),
  };

  /** Model capacity (limits, use, waiting runs, 429s) and spend by day. */
  const models = {
    capacity: () => http.json<CapacityReport>('GET', routePath('getCapacity')),
    usage: (q: { from?: string; to?: string; user?: string } = {}) => {
      const params = new URLSearchParams(Object.entries(q).filter((e): e is [string, string] => e[1] !== undefined));
      return http.json<UsageReport>('GET', `${routePath('getUsage')}${params.size ? `?${params}` : ''}`);
    },
  };

  /** API keys for machines: created (the key shown once), listed (yours, and, if you administer a team, its members' who are on no team you do not administer), revoked. */
  const keys = {
    create: (body: CreateApiKeyBody) => post<ApiKeyCreated>(routePath('createApiKey'), body),
    list: (q: { owner?: string } = {}) => http.json<ApiKeyList>('GET', routePath('listApiKeys'), { query: q }),
    revoke: (id: string) => http.json<ApiKeyView>('DELETE', routePath('revokeApiKey', { id })),
  };

  /** The caller's teams and roles; a team's members and daily budget (its admins only). */
  const teams = {
    list: () => http.json<TeamList>('GET', routePath('listTeams')),
    members: (team: string) => http.json<TeamMembers>('GET', routePath('listTeamMembers', { team })),
    grant: (team: string, user: string, role: Role) => http.json<TeamMembers>('PUT', routePath('grantTeamRole', { team, user, role })),
    revoke: (team: string, user: string, role: Role) => http.json<void>('DELETE', routePath('revokeTeamRole', { team, user, role })),
    budget: (team: string) => http.json<TeamBudget>('GET', routePath('getTeamBudget', { team })),
    /** `null`: back to TEAM_DAILY_BUDGETS (or none). */
    setBudget: (team: string, dailyUsd: number | null) => http.json<TeamBudget>('PUT', routePath('setTeamBudget', { team }), { body: { dailyUsd } }),
  };

  const wsTicket = () => post<WsTicket>(routePath('wsTicket'));

  /** One WebSocket for following many runs at once (a UI's list and pages). */
  function live(o: { WebSocket?: SocketConstructor } = {}): LiveSocket {
    return new LiveSocket({
      ticket: async () => (await wsTicket()).ticket,
      url: (ticket) => {
        const base = new URL(http.url('/ws'), (globalThis as { location?: { href: string } }).location?.href);
        base.protocol = base.protocol === 'https:' ? 'wss:' : 'ws:';
        base.searchParams.set('ticket', ticket);
        return base.toString();
      },
      WebSocket: o.WebSocket,
    });
  }

  return { runs, agents, approvals, schedules, input, models, workspaces, keys, teams, wsTicket, live, openapi: () => http.json<Record<string, unknown>>('GET', routePath('openapi')) };
}

export type LonghaulClient = ReturnType<typeof createLonghaulClient>;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', aborted);
      resolve();
    }
    function aborted() {
      clearTimeout(timer);
      reject(signal!.reason);
    }
    signal?.addEventListener('abort', aborted, { once: true });
  });
}
