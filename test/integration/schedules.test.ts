/**
 * Scheduled runs on Temporal Schedules: a schedule firing every two seconds starts normal runs with
 * `scheduleId` on them (listed with `?scheduleId=`); pause, resume and trigger act on Temporal's
 * Schedule; delete removes it from Temporal; bad cron, time zone or timing are 400s; another user's
 * schedule is a 404. Schedules are bounded: a shortest interval, a most per user, and their firings
 * meet the same per-user queue cap as `POST /api/runs` (over it a firing is skipped, not queued); a team schedule's
 * firing is skipped while its owner may no longer start runs on the team, and the firing of a schedule an API key
 * created once that key is revoked.
 */
import { ScheduleNotFoundError } from '@temporalio/client';
import { Access } from '../../api/access';
import { RunService } from '../../api/run-service';
import { ScheduleService } from '../../api/schedule-service';
import { startHarness, type Harness } from '../support/harness';
import { actingAs } from '../../testing/test-run';
import type { RunEventOf } from '../../contract/events';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const CAROL = 'carol-token-0123456789';
const DORA = 'dora-token-0123456789ab';

describe('scheduled runs', () => {
  let h: Harness;
  beforeAll(async () => {
    // Bounds small enough to reach: firings at most every 2 s, 3 schedules and 2 queued runs a user, 1 running.
    h = await startHarness({
      env: {
        API_TOKENS: `${ALICE}:alice,${BOB}:bob,${CAROL}:carol,${DORA}:dora`,
        SCHEDULE_MIN_INTERVAL_SEC: '2',
        MAX_SCHEDULES_PER_USER: '3',
        MAX_QUEUED_RUNS_PER_USER: '2',
        MAX_CONCURRENT_RUNS_PER_USER: '1',
      },
    });
    h.defaultToken = ALICE;
  });
  afterAll(async () => {
    await h.close();
  });

  const runsOf = async (scheduleId: string) => (await h.request('GET', `/api/runs?scheduleId=${scheduleId}&limit=100`)).body.runs as { id: string; status: string; scheduleId: string }[];

  it('fires every few seconds, each firing a normal run with its scheduleId; pause, resume, trigger, delete', async () => {
    const created = await h.request('POST', '/api/schedules', { body: { name: 'Every 2s', goal: 'Plan a picnic', everySec: 2, model: 'demo', approvals: 'none' } });
    expect(created.status).toBe(201);
    const schedule = created.body;
    expect(schedule).toMatchObject({ name: 'Every 2s', everySec: 2, cron: null, timezone: 'UTC', overlap: 'skip', paused: false });
    expect(schedule.nextFiringsAt.length).toBeGreaterThan(0);

    await waitFor(async () => (await runsOf(schedule.id)).filter((r) => r.status === 'completed').length >= 2, { timeoutMs: 30_000, what: 'two scheduled runs to complete' });
    const runs = await runsOf(schedule.id);
    for (const r of runs) expect(r.scheduleId).toBe(schedule.id);
    const first = await h.getRun(runs[runs.length - 1]!.id);
    expect(first).toMatchObject({ goal: 'Plan a picnic', owner: 'alice', scheduleId: schedule.id, metadata: { scheduleId: schedule.id, scheduleName: 'Every 2s' } });
    expect((await h.request('GET', '/api/runs?limit=100')).body.runs.length).toBeGreaterThanOrEqual(runs.length);
    expect((await h.request('GET', `/api/schedules/${schedule.id}`)).body.lastFiredAt).not.toBeNull();
    expect((await h.request('GET', '/api/schedules')).body.schedules.map((s: { id: string }) => s.id)).toContain(schedule.id);

    const paused = await h.request('POST', `/api/schedules/${schedule.id}/pause`);
    expect(paused.body.paused).toBe(true);
    expect((await h.client.schedule.getHandle(schedule.id).describe()).state.paused).toBe(true);
    expect((await h.request('POST', `/api/schedules/${schedule.id}/resume`)).body.paused).toBe(false);
    const before = (await runsOf(schedule.id)).length;
    expect((await h.request('POST', `/api/schedules/${schedule.id}/trigger`)).status).toBe(202);
    await waitFor(async () => (await runsOf(schedule.id)).length > before, { what: 'the triggered firing to start a run' });

    expect((await h.request('GET', `/api/schedules/${schedule.id}`, { token: BOB })).status).toBe(404);
    expect((await h.request('DELETE', `/api/schedules/${schedule.id}`, { token: BOB })).status).toBe(404);
    expect((await h.request('DELETE', `/api/schedules/${schedule.id}`)).status).toBe(204);
    expect((await h.request('GET', `/api/schedules/${schedule.id}`)).status).toBe(404);
    await expect(h.client.schedule.getHandle(schedule.id).describe()).rejects.toBeInstanceOf(ScheduleNotFoundError);
  });

  it('starts each run of a shared-workspace series from its predecessor’s workspace, restored before the run begins', async () => {
    // The demo model lists the workspace, writes plan.md, reads it back.
    const created = await h.request('POST', '/api/schedules', { body: { name: 'Shared', goal: 'Keep a plan', everySec: 2, model: 'demo', approvals: 'none', sharedWorkspace: true } });
    expect(created.body).toMatchObject({ sharedWorkspace: true });
    const schedule = created.body;
    await waitFor(async () => (await runsOf(schedule.id)).filter((r) => r.status === 'completed').length >= 2, { timeoutMs: 30_000, what: 'two runs of the series' });
    // The firings' own histories are replay fixtures too (npm run record-histories): they pre-warm the workspace.
    for (const a of (await h.client.schedule.getHandle(schedule.id).describe()).info.recentActions) h.recordAlso(a.action.workflow.workflowId, 'shared-desk-firing');
    expect((await h.request('DELETE', `/api/schedules/${schedule.id}`)).status).toBe(204);
    const [first, second] = (await runsOf(schedule.id)).filter((r) => r.status === 'completed').slice(-2).reverse().map((r) => r.id);
    const listed = async (id: string) => {
      const done = (await h.events(id)).find((e): e is RunEventOf<'tool.completed'> => e.type === 'tool.completed' && e.data.name === 'workspace_list');
      return done!.data.output;
    };
    expect(await listed(first!)).not.toContain('plan.md'); // the first run started from an empty workspace
    expect(await listed(second!)).toContain('"path": "plan.md"'); // the next found what the first left
    // Its workspace was put on a worker before the run's first tool call.
    const types = (await h.events(second!)).map((e) => e.type);
    expect(types.indexOf('workspace.restored')).toBeGreaterThanOrEqual(0);
    expect(types.indexOf('workspace.restored')).toBeLessThan(types.indexOf('tool.started'));
    // Each run has a workspace of its own: the predecessor's is untouched by what its successor writes.
    expect((await h.request('GET', `/api/runs/${first}/workspace`)).body.version).toBe(1);
  });

  it('takes a cron in a time zone, and refuses bad timing with a 400', async () => {
    const cron = await h.request('POST', '/api/schedules', { body: { name: 'Weekdays', goal: 'Report', cron: '0 9 * * 1-5', timezone: 'Europe/Lisbon', model: 'demo' } });
    expect(cron.status).toBe(201);
    expect(cron.body).toMatchObject({ cron: '0 9 * * 1-5', timezone: 'Europe/Lisbon', paused: false });
    const next = new Date(cron.body.nextFiringsAt[0]);
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay());
    expect(new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Lisbon', hour: '2-digit', minute: '2-digit' }).format(next)).toBe('09:00');
    await h.request('DELETE', `/api/schedules/${cron.body.id}`);

    for (const body of [
      { name: 'x', goal: 'g', cron: 'every tuesday', model: 'demo' },
      { name: 'x', goal: 'g', everySec: 10, timezone: 'Mars/Olympus', model: 'demo' },
      { name: 'x', goal: 'g', everySec: 10, cron: '* * * * *', model: 'demo' },
      { name: 'x', goal: 'g', model: 'demo' },
      { name: 'x', goal: 'g', everySec: 0, model: 'demo' },
      { name: 'x', goal: 'g', everySec: 10, overlap: 'sometimes', model: 'demo' },
    ]) {
      const res = await h.request('POST', '/api/schedules', { body });
      expect([JSON.stringify(body), res.status, res.body.error.code]).toEqual([JSON.stringify(body), 400, 'invalid_request']);
    }
    expect((await h.request('GET', '/api/schedules')).body.schedules.every((s: { name: string }) => s.name !== 'x')).toBe(true);
  });

  it('refuses schedules that fire more often than the minimum, and more schedules than a user may have', async () => {
    const tooOften = await h.request('POST', '/api/schedules', { body: { name: 'x', goal: 'g', everySec: 1, model: 'demo' } });
    expect([tooOften.status, tooOften.body.error.code]).toEqual([400, 'schedule_too_frequent']);
    // Cron is five fields (at most once a minute): `@every` and a seconds field would get round the minimum.
    for (const cron of ['@every 1s', '* * * * * *', '*/1 * * * * * *']) {
      const res = await h.request('POST', '/api/schedules', { body: { name: 'x', goal: 'g', cron, model: 'demo' } });
      expect([cron, res.status, res.body.error.code]).toEqual([cron, 400, 'invalid_request']);
    }
    expect((await h.request('POST', '/api/schedules', { body: { name: 'hourly', goal: 'g', cron: '@hourly', model: 'demo' }, token: BOB })).status).toBe(201);
    for (const n of [2, 3]) expect((await h.request('POST', '/api/schedules', { body: { name: `daily ${n}`, goal: 'g', cron: `0 ${n} * * *`, model: 'demo' }, token: BOB })).status).toBe(201);
    const fourth = await h.request('POST', '/api/schedules', { body: { name: 'one more', goal: 'g', cron: '0 4 * * *', model: 'demo' }, token: BOB });
    expect([fourth.status, fourth.body.error.code]).toEqual([429, 'too_many_schedules']);
    const mine = (await h.request('GET', '/api/schedules', { token: BOB })).body.schedules as { id: string }[];
    expect(mine).toHaveLength(3);
    expect((await h.request('GET', '/api/schedules')).body.schedules.length).toBeLessThan(3); // another user's count is their own
    expect((await h.request('DELETE', `/api/schedules/${mine[0]!.id}`, { token: BOB })).status).toBe(204);
    expect((await h.request('POST', '/api/schedules', { body: { name: 'one more', goal: 'g', cron: '0 4 * * *', model: 'demo' }, token: BOB })).status).toBe(201);
    for (const s of (await h.request('GET', '/api/schedules', { token: BOB })).body.schedules as { id: string }[]) await h.request('DELETE', `/api/schedules/${s.id}`, { token: BOB });
  });

  it('holds a cron to a minimum over a minute, over all its firings and not only the next few', async () => {
    const config = { ...h.config, runs: { ...h.config.runs, scheduleMinIntervalSec: 3600 } };
    const runs = new RunService({ store: h.store, client: h.client, config, logger: h.logger, access: new Access(config) });
    const hourlyAtMost = new ScheduleService({ store: h.store, client: h.client, config, logger: h.logger, runs, access: new Access(config) });
    await expect(hourlyAtMost.create(actingAs('dave'), { name: 'half-hourly', goal: 'g', cron: '0,30 * * * *', model: 'demo' })).rejects.toMatchObject({ status: 400, code: 'schedule_too_frequent' });
    await expect(hourlyAtMost.create(actingAs('dave'), { name: 'unreadable', goal: 'g', cron: 'L * * * *', model: 'demo' })).rejects.toMatchObject({ status: 400, code: 'invalid_request' });
    expect(await hourlyAtMost.list(actingAs('dave'))).toEqual([]);
    // Five minutes apart for its first ten firings (all Temporal lists ahead), then every minute from :45: refused.
    const fiveMinutes = { ...config, runs: { ...config.runs, scheduleMinIntervalSec: 300 } };
    const everyFiveAtMost = new ScheduleService({ store: h.store, client: h.client, config: fiveMinutes, logger: h.logger, runs, access: new Access(config) });
    const bypass = `0,5,10,15,20,25,30,35,40,45,46,47,48,49,50,51,52,53,54,55,56,57,58,59 ${(new Date().getUTCHours() + 2) % 24} * * *`;
    await expect(everyFiveAtMost.create(actingAs('dave'), { name: 'bypass', goal: 'g', cron: bypass, model: 'demo' })).rejects.toMatchObject({ status: 400, code: 'schedule_too_frequent' });
    expect(await everyFiveAtMost.list(actingAs('dave'))).toEqual([]);
    const hourly = await hourlyAtMost.create(actingAs('dave'), { name: 'hourly', goal: 'g', cron: '0 * * * *', model: 'demo' });
    expect(hourly.paused).toBe(false);
    await hourlyAtMost.delete(actingAs('dave'), hourly.id);
  });

  it("counts a schedule's runs against its owner's queue cap: a firing over it is skipped, not queued", async () => {
    // Carol's one running slot is held by a run waiting for approval, so her other runs stay queued.
    const holder = await h.createRun({ goal: 'Hold the slot', model: 'demo', approvals: 'all' }, { token: CAROL });
    await h.waitForStatus(holder, 'waiting_approval', { token: CAROL });
    const created = await h.request('POST', '/api/schedules', { body: { name: 'Flood', goal: 'Again', everySec: 2, overlap: 'allow_all', model: 'demo', approvals: 'none' }, token: CAROL });
    expect(created.status).toBe(201);
    const schedule = h.client.schedule.getHandle(created.body.id);
    const firings = async () => (await schedule.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
    await waitFor(async () => (await firings()).length >= 5, { timeoutMs: 30_000, what: 'five firings' });
    await schedule.pause();
    // Two firings started runs, which wait (queued) for the slot; every other firing ended at once, skipped.
    const ids = await firings();
    const closed = async () => (await Promise.all(ids.map(async (wf) => ((await h.client.workflow.getHandle(wf).describe()).status.name === 'COMPLETED' ? wf : undefined)))).filter((wf) => wf !== undefined);
    await waitFor(async () => (await closed()).length >= ids.length - 2, { what: 'the skipped firings to end' });
    const skipped = await closed();
    expect(skipped).toHaveLength(ids.length - 2);
    for (const wf of skipped) expect(await h.client.workflow.getHandle(wf).result()).toEqual({ runId: null, skipped: 'queue_full', queued: 2 });
    const runs = await h.request('GET', `/api/runs?scheduleId=${created.body.id}&limit=100`, { token: CAROL });
    expect(runs.body.runs.map((r: { status: string }) => r.status)).toEqual(['queued', 'queued']); // the cap, and no more
    // The firing says what it is for in Temporal's UI.
    expect(await (await h.client.workflow.getHandle((await firings())[0]!).describe()).staticSummary()).toBe('Schedule "Flood" of carol: one firing, starting a run');
    // A direct POST meets the same cap.
    const direct = await h.request('POST', '/api/runs', { body: { goal: 'One more', model: 'demo' }, token: CAROL });
    expect([direct.status, direct.body.error.code]).toEqual([429, 'queue_full']);
    expect((await h.request('DELETE', `/api/schedules/${created.body.id}`, { token: CAROL })).status).toBe(204);
    for (const r of [...runs.body.runs.map((r: { id: string }) => r.id), holder]) await h.request('POST', `/api/runs/${r}/cancel`, { token: CAROL });
  });
  it("skips a team schedule's firings once its owner may no longer start runs on the team (forbidden), and fires again when they may", async () => {
    await h.store.teamMembers.grant('ops', 'bob', 'member');
    const created = await h.request('POST', '/api/schedules', { body: { name: 'Ops sweep', goal: 'Sweep', everySec: 2, model: 'demo', approvals: 'none', team: 'ops' }, token: BOB });
    expect([created.status, created.body.team]).toEqual([201, 'ops']);
    const schedule = h.client.schedule.getHandle(created.body.id);
    const firings = async () => (await schedule.describe()).info.recentActions.map((a) => a.action.workflow.workflowId);
    const runsOfSchedule = async () => (await h.request('GET', `/api/runs?scheduleId=${created.body.id}&limit=100`, { token: BOB })).body.runs as { id: string; team: string }[];
    await waitFor(async () => (await runsOfSchedule()).length >= 1, { timeoutMs: 30_000, what: 'a run of the team schedule' });
    expect((await runsOfSchedule())[0]!.team).toBe('ops');

    // Left a viewer of ops: he may see its runs, no longer start them, and neither may his schedule.
    await h.store.teamMembers.revoke('ops', 'bob', 'member');
    await h.store.teamMembers.grant('ops', 'bob', 'viewer');
    const before = new Set(await firings());
    const result = async (wf: string) => h.client.workflow.getHandle(wf).result();
    await waitFor(async () => (await firings()).filter((wf) => !before.has(wf)).length >= 2, { timeoutMs: 30_000, what: 'two firings after the role was taken away' });
    const later = (await firings()).filter((wf) => !before.has(wf));
    // The first may have begun just before the change; every one after it is skipped.
    for (const wf of later.slice(1)) expect(await result(wf)).toEqual({ runId: null, skipped: 'forbidden', queued: 0 });
    const runsWhileViewer = (await runsOfSchedule()).length;
    expect(runsWhileViewer).toBeLessThanOrEqual(before.size + 1);

    // A member again: the next firings start runs again.
    await h.store.teamMembers.grant('ops', 'bob', 'member');
    await waitFor(async () => (await runsOfSchedule()).length > runsWhileViewer, { timeoutMs: 30_000, what: 'a run once he is a member again' });
    expect((await h.request('DELETE', `/api/schedules/${created.body.id}`, { token: BOB })).status).toBe(204);
  });

  it('skips the firings of a schedule an API key created once the key is revoked (key_revoked); one a person created fires on', async () => {
    const key = (await h.request('POST', '/api/keys', { body: { name: 'scheduler', scopes: ['runs:read', 'runs:write'] }, token: DORA })).body as { id: string; key: string };
    const body = { goal: 'Report', everySec: 3600, overlap: 'allow_all', model: 'demo', approvals: 'none' };
    const byKey = await h.request('POST', '/api/schedules', { body: { ...body, name: 'Made by a key' }, token: key.key });
    const byDora = await h.request('POST', '/api/schedules', { body: { ...body, name: 'Made by dora' }, token: DORA });
    expect([byKey.status, byKey.body.createdWithKey, byDora.status, byDora.body.createdWithKey]).toEqual([201, key.id, 201, null]);
    /**
     * Triggers one firing of the schedule now, and answers what it did (a firing that starts a run ends with it). A
     * firing is named by the second it is taken in, and two in one second are one firing (the second one's start is
     * the first's, retried): each trigger waits for a second of its own.
     */
    let lastTakenSec = 0;
    const fireOnce = async (id: string) => {
      const schedule = h.client.schedule.getHandle(id);
      const firings = async () => (await schedule.describe()).info.recentActions;
      const before = new Set((await firings()).map((a) => a.action.workflow.workflowId));
      await waitFor(() => Math.floor(Date.now() / 1000) > lastTakenSec, { intervalMs: 20, what: 'a second of its own' });
      await schedule.trigger();
      let fired: Awaited<ReturnType<typeof firings>>[number] | undefined;
      await waitFor(async () => (fired = (await firings()).find((a) => !before.has(a.action.workflow.workflowId))) !== undefined, { timeoutMs: 30_000, what: `a firing of ${id}` });
      lastTakenSec = Math.floor(fired!.takenAt.getTime() / 1000);
      return h.client.workflow.getHandle(fired!.action.workflow.workflowId).result();
    };
    expect(await fireOnce(byKey.body.id)).toEqual({ runId: expect.any(String) });

    // The key leaks and is revoked: the schedule it left behind starts nothing more; dora's own is unaffected.
    expect((await h.request('DELETE', `/api/keys/${key.id}`, { token: DORA })).status).toBe(200);
    expect(await fireOnce(byKey.body.id)).toEqual({ runId: null, skipped: 'key_revoked', queued: 0 });
    expect(await fireOnce(byDora.body.id)).toEqual({ runId: expect.any(String) });
    expect((await h.request('GET', `/api/runs?scheduleId=${byKey.body.id}&limit=100`, { token: DORA })).body.runs).toHaveLength(1);
    for (const s of [byKey, byDora]) expect((await h.request('DELETE', `/api/schedules/${s.body.id}`, { token: DORA })).status).toBe(204);
  });
});
