/**
 * The access matrix (issue 27): every route of the OpenAPI route table, the WebSocket and SSE, checked for each
 * kind of caller — a team's viewer, member, approver and admin, a key-like credential with narrow scopes, the owner
 * of a personal run, a legacy APPROVER, a stranger, another team's admin, a member of two teams, and no identity at
 * all — against the team's own resources, another team's, and a personal run's. The cases an attacker tries first
 * (ids of another team's runs, approvals, schedules, workspace files, usage) must answer 404 or 403 with a stable
 * code: never data, never a 500.
 *
 * RULES is keyed by RouteName: a route added to contract/routes.ts without a rule here fails to compile, and the
 * first test fails too.
 */
import type { AddressInfo } from 'node:net';
import { startApiServer, type ApiServer } from '../../api/server';
import type { BearerCheck } from '../../api/auth';
import { ApiError } from '../../api/errors';
import { ROUTES, routePath, type RouteName } from '../../contract/routes';
import type { Principal } from '../../contract/identity';
import { startHarness, type Harness } from '../support/harness';
import { LiveClient } from '../support/live-client';
import { waitFor } from '../support/wait';
import { createLonghaulClient } from '../../client';

type Who = 'viewer' | 'member' | 'approver' | 'admin' | 'key' | 'owner' | 'legacy' | 'stranger' | 'other' | 'multi';
const WHO: Who[] = ['viewer', 'member', 'approver', 'admin', 'key', 'owner', 'legacy', 'stranger', 'other', 'multi'];

/** Each caller: their user, their token, and the roles TEAM_ROLES gives them. */
const IDS: Record<Who, { user: string; token: string; roles: string[] }> = {
  viewer: { user: 'vic', token: 'tok-viewer-0123456789', roles: ['payments:viewer'] },
  member: { user: 'mia', token: 'tok-member-0123456789', roles: ['payments:member'] },
  approver: { user: 'amy', token: 'tok-approver-012345678', roles: ['payments:approver'] },
  admin: { user: 'ada', token: 'tok-admin-01234567890', roles: ['payments:admin'] },
  // A payments member through a credential that may only read (an API key with `runs:read`).
  key: { user: 'kay', token: 'lh_matrix_read_only_0123', roles: ['payments:member'] },
  owner: { user: 'pat', token: 'tok-owner-01234567890', roles: [] },
  legacy: { user: 'leo', token: 'tok-legacy-0123456789', roles: [] },
  stranger: { user: 'sam', token: 'tok-stranger-012345678', roles: [] },
  other: { user: 'ollie', token: 'tok-other-01234567890', roles: ['billing:admin'] },
  multi: { user: 'max', token: 'tok-multi-01234567890', roles: ['payments:member', 'billing:member'] },
};

type Resource = 'payments' | 'billing' | 'personal';
const RESOURCES: Resource[] = ['payments', 'billing', 'personal'];

/** Who may see, steer and decide each resource; anyone else cannot tell it exists. */
const SEE: Record<Resource, Who[]> = {
  payments: ['viewer', 'member', 'approver', 'admin', 'key', 'multi'],
  billing: ['other', 'multi'],
  personal: ['owner', 'legacy'],
};
const STEER: Record<Resource, Who[]> = { payments: ['member', 'admin', 'multi'], billing: ['other', 'multi'], personal: ['owner'] };
const DECIDE: Record<Resource, Who[]> = { payments: ['approver', 'admin'], billing: ['other'], personal: ['legacy'] };
const ADMINS: Record<string, Who[]> = { payments: ['admin'], billing: ['other'], nosuch: [] };

type Outcome = 'ok' | 403 | 404 | 400;

/** What a caller gets on a resource guarded by `may`: ok, 403 when they see it but may not, 404 when they cannot see it. */
const guarded = (may: Record<Resource, Who[]>) => (who: Who, r: Resource): Outcome => (!SEE[r].includes(who) ? 404 : may[r].includes(who) ? 'ok' : 403);

/** The team a new run or schedule asks for: payments, billing, one nobody holds, or none. */
type Asked = 'payments' | 'billing' | 'nosuch' | 'none';
const STARTERS: Record<Exclude<Asked, 'none'>, Who[]> = { payments: ['member', 'admin', 'multi'], billing: ['other', 'multi'], nosuch: [] };
function startOutcome(who: Who, asked: Asked): Outcome {
  if (asked !== 'none') return STARTERS[asked].includes(who) ? 'ok' : 403;
  if (who === 'key') return 403; // may not steer at all
  return who === 'multi' ? 400 : 'ok'; // several teams: team_required
}

interface Fixture {
  run: Record<Resource, string>;
  approval: Record<Resource, string>;
  schedule: Record<Resource, string>;
}

type Rule =
  | { kind: 'public' }
  | { kind: 'any' }
  | { kind: 'ws' }
  | { kind: 'run'; may: Record<Resource, Who[]>; body?: unknown }
  | { kind: 'approval'; may?: Record<Resource, Who[]>; body?: unknown }
  | { kind: 'key' }
  | { kind: 'keys' }
  | { kind: 'schedule'; may: Record<Resource, Who[]>; fresh?: boolean }
  | { kind: 'create'; body: Record<string, unknown> }
  | { kind: 'teamAdmin'; body?: unknown };

const run = (may: Record<Resource, Who[]>, body?: unknown): Rule => ({ kind: 'run', may, body });
const schedule = (may: Record<Resource, Who[]>, fresh = false): Rule => ({ kind: 'schedule', may, fresh });
const SCHEDULE_BODY = { name: 'matrix', goal: 'matrix schedule', cron: '0 4 * * *', model: 'demo' };

const RULES: Record<RouteName, Rule> = {
  createRun: { kind: 'create', body: { goal: 'matrix run', model: 'demo', approvals: 'none' } },
  listRuns: { kind: 'any' },
  getRun: run(SEE),
  listChildren: run(SEE),
  listEvents: run(SEE),
  streamRun: run(SEE),
  cancelRun: run(STEER),
  pauseRun: run(STEER),
  resumeRun: run(STEER),
  decideApproval: run(DECIDE, { decision: 'approve' }),
  answerInput: run(STEER, { text: 'an answer' }),
  postMessage: run(STEER, { text: 'one more thing' }),
  listDeliveries: run(SEE),
  upgradeRun: run(STEER),
  listAgents: { kind: 'any' },
  getWorkspace: run(SEE),
  getWorkspaceFile: run(SEE),
  releaseWorkspace: run(STEER),
  createSchedule: { kind: 'create', body: SCHEDULE_BODY },
  listSchedules: { kind: 'any' },
  getSchedule: schedule(SEE),
  deleteSchedule: schedule(STEER, true),
  pauseSchedule: schedule(STEER),
  resumeSchedule: schedule(STEER),
  triggerSchedule: schedule(STEER),
  listApprovals: { kind: 'any' },
  getApproval: { kind: 'approval' },
  decideApprovalById: { kind: 'approval', may: DECIDE, body: { decision: 'approve' } },
  getInbox: { kind: 'any' },
  getCapacity: { kind: 'any' },
  getUsage: { kind: 'any' },
  wsTicket: { kind: 'any' },
  openapi: { kind: 'public' },
  // Sign-in is not configured here: test/e2e/sign-in.test.ts takes these routes through a real provider.
  getSession: { kind: 'public' },
  signIn: { kind: 'public' },
  signInCallback: { kind: 'public' },
  signOut: { kind: 'public' },
  // A key belongs to a user, not a team: test/integration/api-keys.test.ts takes owners, team admins and strangers.
  // Managing keys through a key takes its admin scope: the read-only key is refused (403) before anything else.
  createApiKey: { kind: 'keys' },
  listApiKeys: { kind: 'keys' },
  revokeApiKey: { kind: 'key' },
  health: { kind: 'public' },
  ready: { kind: 'public' },
  liveSocket: { kind: 'ws' },
  slackInteractions: { kind: 'public' },
  metrics: { kind: 'any' },
  listTeams: { kind: 'any' },
  listTeamMembers: { kind: 'teamAdmin' },
  grantTeamRole: { kind: 'teamAdmin' },
  revokeTeamRole: { kind: 'teamAdmin' },
  getTeamBudget: { kind: 'teamAdmin' },
  setTeamBudget: { kind: 'teamAdmin', body: { dailyUsd: 100 } },
};

const NOT_FOUND_CODES = ['run_not_found', 'approval_not_found', 'schedule_not_found', 'key_not_found'];
const FORBIDDEN_CODES = ['forbidden', 'scope_missing'];

/** A key-like credential: `lh_` tokens of the key identity, with its stored roles and only `runs:read`. */
function readOnlyKey(h: Harness): BearerCheck {
  return {
    accepts: (token) => token.startsWith('lh_'),
    async principal(token): Promise<Principal> {
      if (token !== IDS.key.token) throw new ApiError(401, 'unauthorized', 'unknown key');
      return { user: IDS.key.user, roles: await h.store.teamMembers.rolesOf(IDS.key.user), scopes: ['runs:read'], method: 'key' }; // no keyId: no row in api_keys for a live stream to re-check
    },
  };
}

interface Answer {
  status: number;
  body: any;
  contentType: string;
}

describe('access matrix: role × route × own team / other team / personal / no identity', () => {
  let h: Harness;
  let api: ApiServer;
  let fx: Fixture;

  async function call(method: string, path: string, who: Who | null, body?: unknown): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (who) headers.authorization = `Bearer ${IDS[who].token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const abort = new AbortController();
    const res = await fetch(`${api.url}${path}`, { method: method.toUpperCase(), headers, body: body === undefined ? undefined : JSON.stringify(body), signal: abort.signal });
    const contentType = res.headers.get('content-type') ?? '';
    if (contentType.startsWith('text/event-stream')) {
      abort.abort(); // a live stream: its status and type are the answer
      return { status: res.status, body: undefined, contentType };
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON
    }
    return { status: res.status, body: parsed, contentType };
  }

  const as = (who: Who) => ({ call: (method: string, path: string, body?: unknown) => call(method, path, who, body) });

  async function pendingApproval(runId: string, who: Who): Promise<string> {
    let approvalId: string | undefined;
    await waitFor(
      async () => {
        const view = await as(who).call('get', `/api/runs/${runId}`);
        approvalId = view.body?.pendingApprovals?.[0]?.approvalId;
        return approvalId !== undefined;
      },
      { what: `a pending approval on ${runId}` },
    );
    return approvalId!;
  }

  async function createRunAs(who: Who, team: string | undefined, approvals = 'all'): Promise<string> {
    const res = await as(who).call('post', '/api/runs', { goal: `matrix ${team ?? 'personal'}`, model: 'demo', approvals, ...(team && { team }) });
    if (res.status !== 202) throw new Error(`create run as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  async function createScheduleAs(who: Who, team: string | undefined): Promise<string> {
    const res = await as(who).call('post', '/api/schedules', { ...SCHEDULE_BODY, ...(team && { team }) });
    if (res.status !== 201) throw new Error(`create schedule as ${who}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.id as string;
  }

  const RESOURCE_OWNER: Record<Resource, { who: Who; team: string | undefined }> = {
    payments: { who: 'member', team: 'payments' },
    billing: { who: 'other', team: 'billing' },
    personal: { who: 'owner', team: undefined },
  };

  beforeAll(async () => {
    h = await startHarness({
      env: {
        API_TOKENS: WHO.filter((w) => w !== 'key').map((w) => `${IDS[w].token}:${IDS[w].user}`).join(','),
        TEAM_ROLES: WHO.flatMap((w) => IDS[w].roles.map((r) => `${IDS[w].user}:${r}`)).join(','),
        APPROVERS: IDS.legacy.user,
        SELF_APPROVAL: 'false',
        MAX_SCHEDULES_PER_USER: '100',
        MAX_QUEUED_RUNS_PER_USER: '200',
        MAX_CONCURRENT_RUNS_PER_USER: '100',
      },
    });
    // The same deployment behind a second API process that also knows the key-like credential.
    api = await startApiServer({ config: { ...h.config, api: { ...h.config.api, port: 0 } }, store: h.store, client: h.client, bus: h.bus, logger: h.logger, bearers: [readOnlyKey(h)] });
    expect((api.server.address() as AddressInfo).port).toBeGreaterThan(0);

    const runs = {} as Record<Resource, string>;
    const schedules = {} as Record<Resource, string>;
    for (const r of RESOURCES) {
      const { who, team } = RESOURCE_OWNER[r];
      runs[r] = await createRunAs(who, team);
      schedules[r] = await createScheduleAs(who, team);
    }
    const approvals = {} as Record<Resource, string>;
    for (const r of RESOURCES) approvals[r] = await pendingApproval(runs[r], RESOURCE_OWNER[r].who);
    fx = { run: runs, approval: approvals, schedule: schedules };
  }, 120_000);

  afterAll(async () => {
    await api?.close();
    await h?.close();
  });

  it('has a rule for every route of the OpenAPI route table', () => {
    for (const name of Object.keys(ROUTES) as RouteName[]) expect([name, RULES[name]?.kind]).toEqual([name, expect.any(String)]);
  });

  it('gives runs and schedules the team they were started on, and the one team a caller may steer on when none is named', async () => {
    expect((await as('member').call('get', `/api/runs/${fx.run.payments}`)).body.team).toBe('payments');
    expect((await as('owner').call('get', `/api/runs/${fx.run.personal}`)).body.team).toBeNull();
    expect((await as('member').call('get', `/api/schedules/${fx.schedule.payments}`)).body.team).toBe('payments');
    const implicit = await createRunAs('member', undefined, 'none');
    expect((await as('member').call('get', `/api/runs/${implicit}`)).body.team).toBe('payments');
    expect(await as('multi').call('post', '/api/runs', { goal: 'which team?', model: 'demo' })).toMatchObject({ status: 400, body: { error: { code: 'team_required' } } });
    // A schedule's firings take the schedule's team.
    expect((await as('member').call('post', `/api/schedules/${fx.schedule.payments}/trigger`)).status).toBe(202);
    let fired: any[] = [];
    await waitFor(async () => (fired = (await as('member').call('get', `/api/runs?scheduleId=${fx.schedule.payments}`)).body.runs).length > 0, { what: 'the firing' });
    expect(fired.map((r) => r.team)).toEqual(fired.map(() => 'payments'));
  });

  it('lists only what the caller may see or decide, and refuses another team or user by name', async () => {
    const readTeams = (who: Who) => IDS[who].roles.map((r) => r.split(':')[0]!);
    for (const who of WHO) {
      const runs = (await as(who).call('get', '/api/runs?limit=100&children=include')).body.runs as { id: string; team: string | null }[];
      for (const r of runs) {
        const owner = (await h.store.runs.get(r.id))!.owner;
        expect([who, r.id, owner === IDS[who].user || (r.team !== null && readTeams(who).includes(r.team))]).toEqual([who, r.id, true]);
      }
      for (const res of RESOURCES) expect([who, res, runs.some((r) => r.id === fx.run[res])]).toEqual([who, res, SEE[res].includes(who) && (res !== 'personal' || who === 'owner')]);

      const schedules = (await as(who).call('get', '/api/schedules')).body.schedules as { id: string }[];
      for (const res of RESOURCES) expect([who, res, schedules.some((s) => s.id === fx.schedule[res])]).toEqual([who, res, SEE[res].includes(who) && (res !== 'personal' || who === 'owner')]);

      // Approvals and the inbox: exactly the pending approvals the caller may decide.
      const approvals = (await as(who).call('get', '/api/approvals')).body.approvals as { approvalId: string }[];
      const inbox = (await as(who).call('get', '/api/inbox')).body.items as { kind: string; id: string }[];
      for (const res of RESOURCES) {
        expect([who, res, approvals.some((a) => a.approvalId === fx.approval[res])]).toEqual([who, res, DECIDE[res].includes(who)]);
        expect([who, res, inbox.some((i) => i.kind === 'approval' && i.id === fx.approval[res])]).toEqual([who, res, DECIDE[res].includes(who)]);
      }

      for (const team of ['payments', 'billing', 'nosuch']) {
        const listed = await as(who).call('get', `/api/runs?team=${team}`);
        if (readTeams(who).includes(team)) expect([who, team, listed.status]).toEqual([who, team, 200]);
        else expect([who, team, listed.status, listed.body.error.code, Object.keys(listed.body)]).toEqual([who, team, 403, 'forbidden', ['error']]);
      }

      // Another user's spend: only a legacy APPROVER or an admin of one of that user's teams.
      const usage = await as(who).call('get', `/api/usage?user=${IDS.other.user}`);
      const mayRead = who === 'legacy' || who === 'other';
      expect([who, usage.status]).toEqual([who, mayRead ? 200 : 403]);
      if (!mayRead) expect(Object.keys(usage.body)).toEqual(['error']);

      const teams = (await as(who).call('get', '/api/teams')).body.teams as { team: string; roles: string[] }[];
      expect([who, teams.flatMap((t) => t.roles.map((role) => `${t.team}:${role}`)).sort()]).toEqual([who, [...IDS[who].roles].sort()]);
    }
  });

  it('checks every route for every caller on every resource: ok, 403 with a stable code, or 404 — never data, never a 500', async () => {
    const failures: string[] = [];
    const expectOutcome = (label: string, got: Answer, want: Outcome | 401) => {
      if (got.status >= 500) return failures.push(`${label}: ${got.status} ${JSON.stringify(got.body)}`);
      if (want === 'ok') {
        // Reached the route's own logic: anything but an identity refusal (a state conflict or a missing file is fine).
        const code = got.body?.error?.code;
        if (got.status === 401 || got.status === 403 || NOT_FOUND_CODES.includes(code)) failures.push(`${label}: wanted ok, got ${got.status} ${code}`);
        return;
      }
      const code = got.body?.error?.code;
      const codes = want === 404 ? NOT_FOUND_CODES : want === 403 ? FORBIDDEN_CODES : want === 401 ? ['unauthorized'] : ['team_required'];
      if (got.status !== want || !codes.includes(code)) failures.push(`${label}: wanted ${want}, got ${got.status} ${code}`);
      else if (Object.keys(got.body).join() !== 'error') failures.push(`${label}: a refusal carried more than its error: ${JSON.stringify(got.body)}`);
    };

    for (const [name, rule] of Object.entries(RULES) as [RouteName, Rule][]) {
      const { method } = ROUTES[name];
      const auth = ROUTES[name].auth;
      const paramsFor = (r: Resource, scheduleId = fx.schedule[r]): Record<string, string> => ({
        id: name.toLowerCase().includes('schedule') ? scheduleId : fx.run[r],
        approvalId: fx.approval[r],
        path: 'report.txt',
      });

      if (rule.kind === 'public' || rule.kind === 'ws') continue;

      // No identity: every route that needs one answers 401, whatever the ids.
      if (auth) {
        const path = rule.kind === 'teamAdmin' ? routePath(name, { team: 'payments', user: 'zed', role: 'viewer' }) : rule.kind === 'key' ? routePath(name, { id: 'key_matrix_nosuch' }) : routePath(name, paramsFor('payments'));
        expectOutcome(`${name} with no identity`, await call(method, path, null, 'body' in rule ? rule.body : undefined), 401);
      }

      for (const who of WHO) {
        if (rule.kind === 'any') {
          expectOutcome(`${name} as ${who}`, await call(method, routePath(name), who), 'ok');
        } else if (rule.kind === 'keys') {
          expectOutcome(`${name} as ${who}`, await call(method, routePath(name), who), who === 'key' ? 403 : 'ok');
        } else if (rule.kind === 'run') {
          for (const r of RESOURCES) expectOutcome(`${name} as ${who} on the ${r} run`, await call(method, routePath(name, paramsFor(r)), who, rule.body), guarded(rule.may)(who, r));
        } else if (rule.kind === 'approval') {
          for (const r of RESOURCES) expectOutcome(`${name} as ${who} on the ${r} approval`, await call(method, routePath(name, paramsFor(r)), who, rule.body), guarded(rule.may ?? SEE)(who, r));
        } else if (rule.kind === 'key') {
          // Nobody's key by this id: not found, for everyone who may manage keys, whatever their roles.
          expectOutcome(`${name} as ${who}`, await call(method, routePath(name, { id: 'key_matrix_nosuch' }), who), who === 'key' ? 403 : 404);
        } else if (rule.kind === 'schedule') {
          for (const r of RESOURCES) {
            const want = guarded(rule.may)(who, r);
            // Deleting is once only: each caller who may gets a schedule of their own to delete.
            const id = rule.fresh && want === 'ok' ? await createScheduleAs(RESOURCE_OWNER[r].who, RESOURCE_OWNER[r].team) : fx.schedule[r];
            expectOutcome(`${name} as ${who} on the ${r} schedule`, await call(method, routePath(name, paramsFor(r, id)), who), want);
          }
        } else if (rule.kind === 'create') {
          for (const asked of ['payments', 'billing', 'nosuch', 'none'] as Asked[]) {
            const body = { ...rule.body, ...(asked !== 'none' && { team: asked }) };
            expectOutcome(`${name} as ${who} on team ${asked}`, await call(method, routePath(name), who, body), startOutcome(who, asked));
          }
        } else {
          for (const team of Object.keys(ADMINS)) {
            const path = routePath(name, { team, user: 'zed', role: 'viewer' });
            expectOutcome(`${name} as ${who} on team ${team}`, await call(method, path, who, rule.body), ADMINS[team]!.includes(who) ? 'ok' : 403);
          }
        }
      }
    }
    expect(failures).toEqual([]);
  }, 300_000);

  it('the WebSocket and its runs feed: no identity is refused, another team\'s run is not found, its changes are not told', async () => {
    const wsUrl = `${api.url.replace(/^http/, 'ws')}/ws`;
    await expect(LiveClient.connect(wsUrl)).rejects.toMatchObject({ status: 401 });
    const viewer = await LiveClient.connect(wsUrl, { token: IDS.viewer.token });
    const key = await LiveClient.connect(wsUrl, { token: IDS.key.token });
    try {
      for (const live of [viewer, key]) {
        live.subscribe(fx.run.billing);
        live.subscribe(fx.run.personal);
        live.subscribe(fx.run.payments);
        live.watchRuns();
      }
      for (const live of [viewer, key]) {
        await waitFor(() => live.messages.some((m) => m.type === 'snapshot' && m.runId === fx.run.payments), { what: 'the payments snapshot' });
        await waitFor(() => live.messages.filter((m) => m.type === 'error' && m.code === 'run_not_found').length === 2, { what: 'two refusals' });
      }
      // Another team's new run, then our own: the feed tells of ours only.
      const theirs = await createRunAs('other', 'billing', 'none');
      const ours = await createRunAs('member', 'payments', 'none');
      for (const live of [viewer, key]) {
        await waitFor(() => live.messages.some((m) => m.type === 'runs.changed' && m.runId === ours), { what: 'our run on the feed' });
        const told = live.messages.filter((m) => 'runId' in m && m.type !== 'error').map((m) => (m as { runId: string }).runId);
        expect(told).not.toContain(theirs);
        expect(told).not.toContain(fx.run.billing);
        expect(told).not.toContain(fx.run.personal);
      }
    } finally {
      viewer.ws.close();
      key.ws.close();
    }
  });

  it('SSE and the WebSocket by single-use ticket act with the ticket user\'s roles: another team\'s run is not found', async () => {
    const ticket = async () => (await as('key').call('post', '/api/ws-ticket')).body.ticket as string;
    expect((await call('get', `/api/runs/${fx.run.billing}/stream?ticket=${await ticket()}`, null)).status).toBe(404);
    expect((await call('get', `/api/runs/${fx.run.personal}/stream?ticket=${await ticket()}`, null)).status).toBe(404);
    const own = await call('get', `/api/runs/${fx.run.payments}/stream?ticket=${await ticket()}`, null);
    expect([own.status, own.contentType]).toEqual([200, expect.stringContaining('text/event-stream')]);
    const live = await LiveClient.connect(`${api.url.replace(/^http/, 'ws')}/ws?ticket=${await ticket()}`);
    try {
      live.subscribe(fx.run.billing);
      live.subscribe(fx.run.payments);
      await waitFor(() => live.messages.some((m) => m.type === 'snapshot' && m.runId === fx.run.payments), { what: 'the payments snapshot' });
      await waitFor(() => live.messages.some((m) => m.type === 'error' && m.runId === fx.run.billing && m.code === 'run_not_found'), { what: 'the billing refusal' });
    } finally {
      live.ws.close();
    }
  });

  it('counts a team budget an admin sets before each model call of the team\'s runs', async () => {
    expect((await as('other').call('put', '/api/teams/billing/budget', { dailyUsd: 0 })).body).toMatchObject({ team: 'billing', dailyUsd: 0, source: 'api' });
    const capped = await createRunAs('other', 'billing', 'none');
    // Out of budget, the run pauses until the next UTC day, as for its owner's budget.
    let view: any;
    await waitFor(async () => (view = (await as('other').call('get', `/api/runs/${capped}`)).body).status === 'paused', { what: () => `the billing run to pause for its budget (${view?.status} ${view?.statusDetail})` });
    expect((await h.events(capped)).find((e) => e.type === 'limit.exceeded')?.data).toEqual({ limit: 'teamDailyBudget', value: 0 });
    expect(view.statusDetail).toMatch(/^team billing has spent \$0\.00 of its \$0\.00 daily model budget/);
    // A run of another team is not held by billing's budget.
    const free = await createRunAs('member', 'payments', 'none');
    await waitFor(async () => (await as('member').call('get', `/api/runs/${free}`)).body.status === 'completed', { what: 'the payments run to complete' });
    expect((await as('other').call('put', '/api/teams/billing/budget', { dailyUsd: null })).body).toMatchObject({ dailyUsd: null, source: null });
    await as('other').call('post', `/api/runs/${capped}/cancel`);
  });

  it("shows a team admin only what a member of two teams spent on the admin's team; the member sees all of their own", async () => {
    const model = 'matrix-spend';
    const spent: Record<string, number> = { payments: 1, billing: 2, personal: 4 };
    for (const team of ['payments', 'billing', 'personal']) {
      const started = await as('multi').call('post', '/api/runs', { goal: `spend on ${team}`, model: 'demo', approvals: 'none', team: team === 'personal' ? null : team });
      expect([team, started.status]).toEqual([team, 202]);
      const usage = { inputTokens: 10, outputTokens: 10, costUsd: spent[team]! };
      await h.store.modelCalls.record({ key: `${started.body.id}:matrix-spend`, runId: started.body.id, model, atMs: Date.now(), day: new Date().toISOString().slice(0, 10), usage });
    }
    const spendOf = async (who: Who) => {
      const res = await as(who).call('get', `/api/usage?user=${IDS.multi.user}`);
      expect([who, res.status]).toEqual([who, 200]);
      const days = res.body.days as { model: string; costUsd: number }[];
      return { teams: res.body.teams as string[] | undefined, usd: days.filter((d) => d.model === model).reduce((sum, d) => sum + d.costUsd, 0) };
    };
    expect(await spendOf('admin')).toEqual({ teams: ['payments'], usd: 1 });
    expect(await spendOf('other')).toEqual({ teams: ['billing'], usd: 2 });
    expect(await spendOf('multi')).toEqual({ teams: undefined, usd: 7 });
    expect(await spendOf('legacy')).toEqual({ teams: undefined, usd: 7 });
  });

  it('gives the typed client the team calls', async () => {
    const admin = createLonghaulClient({ baseUrl: api.url, token: IDS.admin.token });
    expect(await admin.teams.list()).toEqual({ teams: [{ team: 'payments', roles: ['admin'] }] });
    expect((await admin.teams.grant('payments', 'zoe', 'viewer')).members).toContainEqual(expect.objectContaining({ user: 'zoe', role: 'viewer' }));
    await admin.teams.revoke('payments', 'zoe', 'viewer');
    expect((await admin.teams.members('payments')).members.some((m) => m.user === 'zoe')).toBe(false);
    expect(await admin.teams.setBudget('payments', 12)).toMatchObject({ dailyUsd: 12, source: 'api' });
    expect(await admin.teams.budget('payments')).toMatchObject({ dailyUsd: 12 });
    await admin.teams.setBudget('payments', null);
    expect((await admin.runs.list({ team: 'payments', limit: 5 })).runs.every((r) => r.team === 'payments')).toBe(true);
    const viewer = createLonghaulClient({ baseUrl: api.url, token: IDS.viewer.token });
    await expect(viewer.teams.budget('payments')).rejects.toMatchObject({ status: 403, code: 'forbidden' });
  });
});
