/**
 * A schedule's firing meets the server's `MIN_APPROVALS` as it is at the firing, not as it was when the
 * schedule was made: a schedule made with `approvals: none` before the floor was raised starts runs under
 * the floor (the run's record, its `run.queued` event and the workflow's input all say so). A team schedule fires
 * only while its owner may still start runs on the team, and a schedule an API key created only while that key works.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../activities';
import type { ScheduledRunCreation } from '../../contract/activity-io';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { createActivityDeps } from '../../worker/activity-deps';
import { INVOICE_CHECKER } from '../support/agent-data';

describe('a schedule firing', () => {
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-schedule-fire-'));
    store = await createStore(loadConfig({ DATA_DIR: dir }));
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const fire = (env: Record<string, string>, scheduleId: string, firingId: string): Promise<ScheduledRunCreation> => {
    const acts = createActivities(createActivityDeps({ config: loadConfig({ DATA_DIR: dir, ...env }), store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }) }));
    return new MockActivityEnvironment().run(acts.createScheduledRun, { scheduleId, firingId });
  };

  it('starts its run under the MIN_APPROVALS of the day, if stricter than the schedule’s own policy', async () => {
    await store.schedules.insert({
      id: 'sch_1',
      owner: 'u',
      name: 'nightly',
      goal: 'tidy up',
      request: { model: 'demo', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, approvalTimeoutSec: 60, webhooks: { to: [], publicUrl: null } },
      cron: null,
      everySec: 3600,
      timezone: 'UTC',
      overlap: 'skip',
    });
    const before = await fire({}, 'sch_1', 'firing_1'); // the floor unset: the schedule's own `none`
    expect(before.skipped).toBeUndefined();
    expect(before.skipped === undefined && before.input.approvals).toBe('none');

    const after = await fire({ MIN_APPROVALS: 'write' }, 'sch_1', 'firing_2'); // the floor raised since
    if (after.skipped !== undefined) throw new Error('the firing was skipped');
    expect(after.input.approvals).toBe('write');
    expect((await store.runs.get(after.input.runId))?.approvals).toBe('write');
    const queued = (await store.events.list(after.input.runId, { after: 0, limit: 10 })).find((e) => e.type === 'run.queued');
    expect(queued?.data).toMatchObject({ approvals: 'write' });
  });

  it('sends to the deployment\'s webhooks as they are at the firing (a removed one gets nothing), and to the owner\'s own', async () => {
    const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
    const hooks = { WEBHOOK_SECRET: secret, WEBHOOK_ALLOWED_HOSTS: 'hooks.example,own.example' };
    await store.schedules.insert({
      id: 'sch_2',
      owner: 'u',
      name: 'hourly',
      goal: 'report',
      request: {
        model: 'demo',
        approvals: 'none',
        limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 },
        approvalTimeoutSec: 60,
        // As the schedule was made: the deployment's URL of the day (since rotated), and the owner's own.
        webhooks: { to: [{ url: 'https://hooks.example/old-token' }, { url: 'https://own.example/in', own: true }], publicUrl: null },
      },
      cron: null,
      everySec: 3600,
      timezone: 'UTC',
      overlap: 'skip',
    });
    const fired = await fire({ ...hooks, WEBHOOK_URLS: 'https://hooks.example/new-token' }, 'sch_2', 'firing_3');
    if (fired.skipped !== undefined) throw new Error('the firing was skipped');
    expect((await store.runs.webhooksOf(fired.input.runId))?.to.map((hook) => hook.url)).toEqual(['https://hooks.example/new-token', 'https://own.example/in']);
  });

  it('starts an agent schedule\'s run pinned to the agent\'s current version, with the schedule\'s input and the agent\'s settings', async () => {
    await store.agents.publishVersion('invoice_checker', '1111111111111111', INVOICE_CHECKER);
    await store.schedules.insert({
      id: 'sch_agent',
      owner: 'u',
      name: 'nightly check',
      goal: 'INV-1',
      request: { model: 'demo', approvals: 'write', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, approvalTimeoutSec: 60, webhooks: { to: [], publicUrl: null }, agent: 'invoice_checker', input: { invoiceId: 'INV-1', amountCents: 1 } },
      cron: null,
      everySec: 3600,
      timezone: 'UTC',
      overlap: 'skip',
    });
    const fired = await fire({}, 'sch_agent', 'firing_agent');
    if (fired.skipped !== undefined) throw new Error('the firing was skipped');
    expect(await store.runs.get(fired.input.runId)).toMatchObject({ agent: 'invoice_checker', agentVersion: '1111111111111111', input: { invoiceId: 'INV-1', amountCents: 1 } });
    expect(fired.input.settings).toMatchObject({ segmentMaxTurns: 6, outputRetries: 3 });
    const queued = (await store.events.list(fired.input.runId, { after: 0, limit: 10 })).find((e) => e.type === 'run.queued');
    expect(queued?.data).toMatchObject({ agent: 'invoice_checker', agentVersion: '1111111111111111' });
  });

  it("skips a firing whose kept input the agent's current version no longer takes, and keeps a retried firing's run", async () => {
    await store.agents.publishVersion('invoice_checker', '1111111111111111', INVOICE_CHECKER);
    await store.schedules.insert({
      id: 'sch_changed',
      owner: 'u',
      name: 'nightly check',
      goal: 'INV-2',
      request: { model: 'demo', approvals: 'write', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, approvalTimeoutSec: 60, webhooks: { to: [], publicUrl: null }, agent: 'invoice_checker', input: { invoiceId: 'INV-2', amountCents: 1 } },
      cron: null,
      everySec: 3600,
      timezone: 'UTC',
      overlap: 'skip',
    });
    const before = await fire({}, 'sch_changed', 'firing_changed_1');
    expect(before.skipped).toBeUndefined();

    // A later deploy renames a required field: the kept input no longer matches.
    const schema = INVOICE_CHECKER.inputSchema!;
    const changed = { ...INVOICE_CHECKER, inputSchema: { ...schema, properties: { invoiceId: { type: 'string' }, amount: { type: 'integer' } }, required: ['invoiceId', 'amount'] } };
    await new Promise((resolve) => setTimeout(resolve, 5)); // published later than the first version
    await store.agents.publishVersion('invoice_checker', '2222222222222222', changed);

    expect(await fire({}, 'sch_changed', 'firing_changed_2')).toEqual({ skipped: 'invalid_input', queued: 0 });
    expect(await store.runs.list({ owner: 'u', scheduleId: 'sch_changed', limit: 10 })).toHaveLength(1);
    // The first firing, retried, goes on with the run it already made.
    const retried = await fire({}, 'sch_changed', 'firing_changed_1');
    expect(retried.skipped === undefined && retried.input.runId).toBe(before.skipped === undefined && before.input.runId);
  });
  it('skips (forbidden) the firings of a team schedule whose owner may no longer start runs on the team, and keeps a retried firing\'s run', async () => {
    await store.teamMembers.grant('payments', 'dana', 'member');
    await store.schedules.insert({
      id: 'sch_team',
      owner: 'dana',
      name: 'nightly',
      goal: 'reconcile',
      request: { model: 'demo', approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, approvalTimeoutSec: 60, webhooks: { to: [], publicUrl: null } },
      cron: null,
      everySec: 3600,
      timezone: 'UTC',
      overlap: 'skip',
      team: 'payments',
    });
    const before = await fire({}, 'sch_team', 'firing_team_1');
    if (before.skipped !== undefined) throw new Error('the firing was skipped');
    expect((await store.runs.get(before.input.runId))?.team).toBe('payments');

    // Demoted to viewer: she may see the team's runs but no longer start them, so neither may her schedule.
    await store.teamMembers.revoke('payments', 'dana', 'member');
    await store.teamMembers.grant('payments', 'dana', 'viewer');
    expect(await fire({}, 'sch_team', 'firing_team_2')).toEqual({ skipped: 'forbidden', queued: 0 });
    // An approver may decide the team's approvals, not start its runs.
    await store.teamMembers.grant('payments', 'dana', 'approver');
    expect(await fire({}, 'sch_team', 'firing_team_3')).toEqual({ skipped: 'forbidden', queued: 0 });
    // Taken off the team altogether.
    await store.teamMembers.revoke('payments', 'dana', 'viewer');
    await store.teamMembers.revoke('payments', 'dana', 'approver');
    expect(await fire({}, 'sch_team', 'firing_team_4')).toEqual({ skipped: 'forbidden', queued: 0 });
    expect(await store.runs.list({ owner: 'dana', scheduleId: 'sch_team', limit: 10 })).toHaveLength(1);
    // The first firing, retried, goes on with the run it made while she could.
    const retried = await fire({}, 'sch_team', 'firing_team_1');
    expect(retried.skipped === undefined && retried.input.runId).toBe(before.input.runId);

    // An admin there again: the firings start runs again.
    await store.teamMembers.grant('payments', 'dana', 'admin');
    expect((await fire({}, 'sch_team', 'firing_team_5')).skipped).toBeUndefined();
  });

  it("skips the firings of a schedule an API key created once the key is revoked or expired, and keeps a retried firing's run", async () => {
    const request = { model: 'demo', approvals: 'none' as const, limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 }, approvalTimeoutSec: 60, webhooks: { to: [], publicUrl: null } };
    const schedule = (id: string, keyId: string | null) => store.schedules.insert({ id, owner: 'kim', name: id, goal: 'report', request, cron: null, everySec: 3600, timezone: 'UTC', overlap: 'skip', keyId });
    await store.apiKeys.insert({ id: 'kkkk000000000001', owner: 'kim', name: 'leaked', scopes: ['runs:write'], secretHash: '00' });
    await store.apiKeys.insert({ id: 'kkkk000000000002', owner: 'kim', name: 'short-lived', scopes: ['runs:write'], secretHash: '00', expiresAt: new Date(Date.now() + 60_000).toISOString() });
    await schedule('sch_by_key', 'kkkk000000000001');
    await schedule('sch_by_short_key', 'kkkk000000000002');
    await schedule('sch_by_person', null);

    const before = await fire({}, 'sch_by_key', 'firing_key_1');
    if (before.skipped !== undefined) throw new Error('the firing was skipped');
    expect((await fire({}, 'sch_by_short_key', 'firing_short_1')).skipped).toBeUndefined();

    await store.apiKeys.revoke('kkkk000000000001', 'kim');
    await store.db.updateTable('api_keys').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', 'kkkk000000000002').execute();
    expect(await fire({}, 'sch_by_key', 'firing_key_2')).toEqual({ skipped: 'key_revoked', queued: 0 });
    expect(await fire({}, 'sch_by_short_key', 'firing_short_2')).toEqual({ skipped: 'key_expired', queued: 0 });
    expect(await store.runs.list({ owner: 'kim', scheduleId: 'sch_by_key', limit: 10 })).toHaveLength(1);
    // The first firing, retried, goes on with the run it made while the key worked.
    const retried = await fire({}, 'sch_by_key', 'firing_key_1');
    expect(retried.skipped === undefined && retried.input.runId).toBe(before.input.runId);
    // A schedule a person made (a session, a JWT, a static token) knows no key and fires on.
    expect((await fire({}, 'sch_by_person', 'firing_person_1')).skipped).toBeUndefined();
  });
});
