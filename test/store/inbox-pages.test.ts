/**
 * The inbox a page at a time (issue 26), on SQLite and Postgres: the store reads each page in the inbox's order under
 * the caller's access, so a walk of the pages shows exactly what the caller may decide or answer, each item once, in
 * order, however items arrive and are decided meanwhile; `total` counts it all; a malformed cursor is a 400.
 */
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { Access } from '../../api/access';
import { ApiError } from '../../api/errors';
import { HumanService } from '../../api/human-service';
import type { InboxItem } from '../../contract/api';
import type { Principal, TeamRole } from '../../contract/identity';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { compareInboxKeys } from '../../shared/store/run-scope';
import { openTestStore } from '../support/test-store';

const LIMITS = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
const EXPIRES = '2027-01-01T00:00:00.000Z';
const at = (s: number) => new Date(Date.parse('2026-12-06T08:00:00.000Z') + s * 1000).toISOString();
const who = (user: string, roles: TeamRole[] = [], scopes: Principal['scopes'] = 'all'): Principal => ({ user, roles, scopes, method: 'token' });
const keyOf = (i: InboxItem) => `${i.kind}:${i.id}`;

describe.each(['sqlite', 'postgres'] as const)('the inbox in pages (%s)', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  const logger = createLogger({ level: 'silent' });
  const humansWith = (env: Record<string, string>) => {
    const access = new Access(loadConfig({ DATA_DIR: os.tmpdir(), APPROVERS: 'lee', ...env }));
    return { access, humans: new HumanService({ store, client: {} as Client, access, logger }) };
  };
  let seq = 0;
  const approval = (runId: string, s: number, id = `apr_${++seq}`) =>
    store.approvals.insert({ id, runId, kind: 'tool', turn: 1, tool: 'workspace_write', input: { path: id }, reason: 'write', requestedAt: at(s), expiresAt: EXPIRES });
  const question = (runId: string, s: number, id = `ask_${++seq}`) =>
    store.inputs.insert({ id, runId, turn: 1, toolUseId: `tu_${id}`, question: `${id}?`, requestedAt: at(s), expiresAt: EXPIRES });

  /** Every page from the first, `limit` at a time; `between` runs after each page (items arriving, decided). */
  async function walk(humans: HumanService, caller: Principal, limit: number, between?: (page: number, shown: InboxItem[]) => Promise<void>) {
    const items: InboxItem[] = [];
    const totals: number[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const res = await humans.inbox(caller, { limit, cursor });
      expect(res.items.length).toBeLessThanOrEqual(limit);
      items.push(...res.items);
      totals.push(res.total);
      if (res.nextCursor === null) return { items, totals };
      cursor = res.nextCursor;
      await between?.(page, items);
    }
    throw new Error('the walk did not end');
  }

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
    const run = (id: string, owner: string, team: string | null) => store.runs.insert({ id, owner, goal: `goal of ${id}`, model: 'demo', approvals: 'write', limits: LIMITS, team });
    await run('run_a1', 'mia', 'alpha');
    await run('run_a2', 'ollie', 'alpha');
    await run('run_b1', 'ollie', 'beta');
    await run('run_p1', 'vic', null);
    await run('run_p2', 'mia', null);
    const runs = ['run_a1', 'run_b1', 'run_a2', 'run_p1', 'run_p2'];
    // 60 of each kind over 40 seconds: many share an instant, an approval and a question often the same one.
    for (let i = 0; i < 60; i++) {
      await approval(runs[i % runs.length]!, Math.floor(i / 3));
      await question(runs[(i + 2) % runs.length]!, Math.floor(i / 3));
    }
  });
  afterAll(() => close());

  it('walks the pages oldest first, each item once, exactly what the caller may decide or answer, total counting it all', async () => {
    const callers: Principal[] = [
      who('alpha-approver', [{ team: 'alpha', role: 'approver' }]),
      who('alpha-admin', [{ team: 'alpha', role: 'admin' }]),
      who('beta-member', [{ team: 'beta', role: 'member' }]),
      who('viewer', [{ team: 'alpha', role: 'viewer' }, { team: 'beta', role: 'viewer' }]),
      who('lee'), // the legacy APPROVERS: personal runs' approvals
      who('vic'), // an owner: their own run's questions, and its approvals (SELF_APPROVAL)
      who('mia', [{ team: 'beta', role: 'approver' }]),
      who('alpha-admin', [{ team: 'alpha', role: 'admin' }], ['runs:read']),
      who('alpha-admin', [{ team: 'alpha', role: 'admin' }], ['approvals:decide']),
      who('lee', [], ['runs:write']),
    ];
    for (const selfApproval of ['true', 'false']) {
      const { access, humans } = humansWith({ SELF_APPROVAL: selfApproval });
      const allRuns = new Map((await store.runs.getMany(['run_a1', 'run_a2', 'run_b1', 'run_p1', 'run_p2'])).map((r) => [r.id, r]));
      const pendingApprovals = await store.approvals.listPending();
      const pendingQuestions = await store.inputs.listPendingOf([...allRuns.keys()]);
      for (const caller of callers) {
        // What canDecide and canSteer, run by run, say waits for this caller.
        const expected = [
          ...pendingApprovals.filter((a) => access.canDecide(caller, allRuns.get(a.runId)!)).map((a) => ({ requestedAt: a.requestedAt, kind: 'approval' as const, id: a.id })),
          ...pendingQuestions.filter((q) => access.canSteer(caller, allRuns.get(q.runId)!)).map((q) => ({ requestedAt: q.requestedAt, kind: 'question' as const, id: q.id })),
        ].sort(compareInboxKeys);
        const { items, totals } = await walk(humans, caller, 7);
        const label = `${caller.user} ${JSON.stringify(caller.roles)} ${JSON.stringify(caller.scopes)} self=${selfApproval}`;
        expect([label, items.map(keyOf)]).toEqual([label, expected.map((k) => `${k.kind}:${k.id}`)]);
        expect([label, new Set(totals)]).toEqual([label, new Set([expected.length])]);
      }
    }
    // The walk is not vacuous: the approver of alpha sees alpha's approvals over several pages and nothing of beta's.
    const { humans } = humansWith({});
    const alpha = await walk(humans, who('alpha-approver', [{ team: 'alpha', role: 'approver' }]), 7);
    expect(alpha.items.length).toBeGreaterThan(14);
    expect(alpha.items.every((i) => i.kind === 'approval' && (i.runId === 'run_a1' || i.runId === 'run_a2'))).toBe(true);
    expect(alpha.items[0]).toMatchObject({ goal: expect.stringMatching(/^goal of run_a/), subagent: null, input: { path: expect.any(String) } });
  });

  it('goes on after the last item shown while items arrive and are decided: none twice, none skipped', async () => {
    const { humans } = humansWith({});
    const admin = who('alpha-admin', [{ team: 'alpha', role: 'admin' }]);
    const before = await walk(humans, admin, 1000);
    const decided = new Set<string>();
    const arrivedLater: string[] = [];
    const olderLater: string[] = [];
    const { items, totals } = await walk(humans, admin, 6, async (page, shownSoFar) => {
      // A newer approval and question (they belong on a later page), an older one (behind the cursor: the next
      // read of the first page shows it), and the next item not yet shown decided.
      const newer = await approval('run_a1', 100 + page);
      const newerQuestion = await question('run_a2', 100 + page);
      arrivedLater.push(`approval:${newer.id}`, `question:${newerQuestion.id}`);
      olderLater.push(`approval:${(await approval('run_a2', -1 - page)).id}`);
      const shown = new Set(shownSoFar.map(keyOf));
      const next = before.items.find((i) => i.kind === 'approval' && !decided.has(keyOf(i)) && !shown.has(keyOf(i)) && i.requestedAt >= at(10));
      if (next && page % 2 === 0) {
        await store.approvals.settle(next.id, { outcome: 'approved', by: 'alpha-admin', channel: 'api' });
        decided.add(keyOf(next));
      }
    });
    const keys = items.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    // In order across the pages: each item after the one before it.
    for (let i = 1; i < items.length; i++) expect([keys[i], compareInboxKeys(items[i - 1]!, items[i]!)]).toEqual([keys[i], -1]);
    for (const k of before.items.map(keyOf)) expect([k, keys.includes(k)]).toEqual([k, !decided.has(k)]);
    for (const k of arrivedLater) expect([k, keys.includes(k)]).toEqual([k, true]);
    for (const k of olderLater) expect([k, keys.includes(k)]).toEqual([k, false]);
    expect(decided.size).toBeGreaterThan(0);
    // Each page's total is what waited then: it grows with what arrived, older items included.
    expect(totals[totals.length - 1]).toBe((await walk(humans, admin, 1000)).items.length);
    expect(totals[totals.length - 1]).toBeGreaterThan(totals[0]!);
  });

  it('answers 400 invalid_query for a cursor it did not issue', async () => {
    const { humans } = humansWith({});
    const admin = who('alpha-admin', [{ team: 'alpha', role: 'admin' }]);
    const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
    for (const cursor of ['nonsense', '', b64(['2026-12-06T08:00:00.000Z', 'schedule', 'x']), b64({ requestedAt: 'x' }), b64(['x'.repeat(100), 'approval', 'y'])]) {
      await expect(humans.inbox(admin, { limit: 5, cursor })).rejects.toMatchObject({ constructor: ApiError, status: 400, code: 'invalid_query' });
      await expect(humans.pendingViewsFor(admin, { limit: 5, cursor })).rejects.toMatchObject({ constructor: ApiError, status: 400, code: 'invalid_query' });
    }
  });

  it('pages GET /api/approvals as the inbox pages its approvals: oldest first, each once, exactly what the caller may decide', async () => {
    const callers: Principal[] = [
      who('alpha-approver', [{ team: 'alpha', role: 'approver' }]),
      who('beta-member', [{ team: 'beta', role: 'member' }]),
      who('lee'), // the legacy APPROVERS: personal runs' approvals
      who('vic'), // an owner: their own run's approvals with SELF_APPROVAL
      who('mia', [{ team: 'beta', role: 'approver' }]),
      who('viewer', [{ team: 'alpha', role: 'viewer' }, { team: 'beta', role: 'viewer' }]),
      who('alpha-admin', [{ team: 'alpha', role: 'admin' }], ['runs:read']),
      who('alpha-admin', [{ team: 'alpha', role: 'admin' }], ['approvals:decide']),
      who('lee', [], ['runs:write']),
    ];
    const allRuns = new Map((await store.runs.getMany(['run_a1', 'run_a2', 'run_b1', 'run_p1', 'run_p2'])).map((r) => [r.id, r]));
    for (const selfApproval of ['true', 'false']) {
      const { access, humans } = humansWith({ SELF_APPROVAL: selfApproval });
      const pending = await store.approvals.listPending();
      for (const caller of callers) {
        const expected = pending
          .filter((a) => access.canDecide(caller, allRuns.get(a.runId)!))
          .map((a) => ({ requestedAt: a.requestedAt, kind: 'approval' as const, id: a.id }))
          .sort(compareInboxKeys)
          .map((k) => k.id);
        const shown: string[] = [];
        let pages = 0;
        let cursor: string | undefined;
        do {
          const page = await humans.pendingViewsFor(caller, { limit: 4, cursor });
          expect(page.approvals.length).toBeLessThanOrEqual(4);
          shown.push(...page.approvals.map((a) => a.approvalId));
          cursor = page.nextCursor ?? undefined;
          pages++;
        } while (cursor !== undefined && pages < 1000);
        const label = `${caller.user} ${JSON.stringify(caller.roles)} ${JSON.stringify(caller.scopes)} self=${selfApproval}`;
        expect([label, shown]).toEqual([label, expected]);
        // As many pages as it takes, no empty one after the last (a page ending on the last approval says so).
        expect([label, pages]).toEqual([label, Math.max(1, Math.ceil(expected.length / 4))]);
        // The store's read alone, before the service checks each approval again, is already exactly this.
        const scope = access.decideScope(caller);
        const read = scope ? await store.approvals.pendingPageIn(scope, { limit: 10_000 }) : [];
        expect([label, read.map((a) => a.id)]).toEqual([label, expected]);
      }
    }
    const { humans } = humansWith({});
    // Not vacuous: the approver of alpha decides enough for several pages.
    const first = await humans.pendingViewsFor(who('alpha-approver', [{ team: 'alpha', role: 'approver' }]), { limit: 3 });
    expect(first.approvals).toHaveLength(3);
    expect(first.approvals[0]).toMatchObject({ runId: expect.stringMatching(/^run_a/), status: 'pending', subagent: null, input: { path: expect.any(String) } });
    expect(first.nextCursor).toEqual(expect.any(String));
  });
});
