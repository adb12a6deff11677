/**
 * Humans in the loop, through the API on the real dev server: approve, reject, expire, who may
 * decide, ask_user, pause/resume, cost checkpoints, and a run waiting for approval that needs no
 * worker while it waits.
 */
import { CountingServer } from '../support/counting-server';
import { FakeAnthropic, type FakeRequest } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const CAROL = 'carol-token-0123456789';

/** A model that POSTs once (a `write` call needing approval), then reports what came back. */
function postThenReport(url: string) {
  return (req: FakeRequest) =>
    req.assistantTurns === 0
      ? { text: 'Sending the report.', toolUses: [{ name: 'http_request', input: { method: 'POST', url, body: '{"report":1}' } }] }
      : { text: `Tool said: ${req.lastToolResults[0]?.content.slice(0, 200)}` };
}

describe('human in the loop', () => {
  const fake = new FakeAnthropic();
  const outside = new CountingServer();
  let h: Harness;
  let strict: Harness; // SELF_APPROVAL=false

  beforeAll(async () => {
    await fake.start();
    await outside.start();
    const env = {
      API_TOKENS: `${ALICE}:alice,${BOB}:bob,${CAROL}:carol`,
      APPROVERS: 'carol',
      ANTHROPIC_API_KEY: fake.apiKey,
      ANTHROPIC_BASE_URL: fake.url,
      LLM_MODEL: 'claude-sonnet-5-5',
      HTTP_TOOL_ALLOWED_HOSTS: outside.host,
    };
    h = await startHarness({ env });
    h.defaultToken = ALICE;
    strict = await startHarness({ env: { ...env, SELF_APPROVAL: 'false' } });
    strict.defaultToken = ALICE;
  });
  afterAll(async () => {
    await h.close();
    await strict.close();
    await fake.stop();
    await outside.stop();
  });

  const decide = (harness: Harness, id: string, approvalId: string, decision: string, token = ALICE, comment?: string) =>
    harness.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision, ...(comment && { comment }) }, token });

  async function startWaitingRun(harness: Harness, marker: string, extra: Record<string, unknown> = {}) {
    fake.script(marker, postThenReport(`${outside.url}/${marker}`));
    const id = await harness.createRun({ goal: `Report ${marker}`, approvals: 'write', ...extra });
    const run = await harness.waitForStatus(id, 'waiting_approval');
    return { id, run, approvalId: run.pendingApprovals[0].approvalId as string };
  }

  it('waits for approval of a write, shows it in progress, and runs the tool once approved', async () => {
    const { id, run, approvalId } = await startWaitingRun(h, '[approve]');
    expect(run.statusDetail).toBe('waiting for approval of http_request');
    expect(run.pendingApprovals).toEqual([
      {
        approvalId,
        kind: 'tool',
        tool: 'http_request',
        input: { method: 'POST', url: `${outside.url}/[approve]`, body: '{"report":1}' },
        risk: 'write',
        reason: 'http_request is a write action',
        requestedAt: expect.any(String),
        expiresAt: expect.any(String),
      },
    ]);
    expect(Date.parse(run.pendingApprovals[0].expiresAt) - Date.parse(run.pendingApprovals[0].requestedAt)).toBe(86400 * 1000);
    expect(outside.requests.filter((r) => r.path.includes('approve'))).toHaveLength(0);
    const requested = await h.waitForEvent(id, 'approval.requested');
    expect(requested.data).toMatchObject({ approvalId, tool: 'http_request', risk: 'write', input: run.pendingApprovals[0].input, expiresAt: run.pendingApprovals[0].expiresAt });

    const res = await decide(h, id, approvalId, 'approve', ALICE, 'looks fine');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ approvalId, status: 'approved', decidedBy: 'alice', channel: 'api', comment: 'looks fine' });

    const done = await h.waitForStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(outside.requests.filter((r) => r.path.includes('approve'))).toHaveLength(1);
    const decided = await h.waitForEvent(id, 'approval.decided');
    expect(decided.data).toMatchObject({ approvalId, decision: 'approved', by: 'alice', channel: 'api', comment: 'looks fine' });

    // Audit: who, channel, when, tool, input hash, comment.
    const trail = await h.store.approvals.auditTrail(approvalId);
    expect(trail).toEqual([
      expect.objectContaining({ actor: 'alice', channel: 'api', decision: 'approved', outcome: 'accepted', tool: 'http_request', input_hash: expect.stringMatching(/^[0-9a-f]{24}$/), comment: 'looks fine', at: expect.any(String) }),
    ]);

    // A second decision cannot flip it.
    const flip = await decide(h, id, approvalId, 'reject', CAROL);
    expect([flip.status, flip.body.error.code]).toEqual([409, 'approval_already_decided']);
    const again = await decide(h, id, approvalId, 'approve', ALICE);
    expect(again.status).toBe(200); // repeating one's own decision changes nothing
    expect((await h.store.approvals.auditTrail(approvalId)).map((a) => a.outcome)).toEqual(['accepted', 'conflict']);
  });

  it('on rejection skips the tool and gives the model the rejection and comment', async () => {
    const { id, approvalId } = await startWaitingRun(h, '[reject]');
    const res = await decide(h, id, approvalId, 'reject', CAROL, 'not this week');
    expect(res.body).toMatchObject({ status: 'rejected', decidedBy: 'carol' });
    const done = await h.waitForStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(outside.requests.filter((r) => r.path.includes('reject'))).toHaveLength(0);
    const toModel = fake.requestsFor('[reject]')[1]!.lastToolResults[0]!;
    expect(toModel.is_error).toBe(true);
    expect(toModel.content).toBe('carol rejected this http_request call, so it did not run. Their comment: not this week');
    const types = (await h.events(id)).map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['approval.requested', 'approval.decided', 'tool.failed']));
    expect(types).not.toContain('tool.started');
  });

  it('lets only approvers and (with SELF_APPROVAL) the owner decide', async () => {
    const { id, approvalId } = await startWaitingRun(h, '[who]');
    const stranger = await decide(h, id, approvalId, 'approve', BOB);
    expect([stranger.status, stranger.body.error.code]).toEqual([404, 'run_not_found']);
    const unknown = await decide(h, id, 'apr_nope', 'approve', ALICE);
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'approval_not_found']);
    const bad = await h.request('POST', `/api/runs/${id}/approvals/${approvalId}`, { body: { decision: 'maybe' } });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'invalid_request']);
    // An approver sees the run and its pending approval.
    const asCarol = await h.request('GET', '/api/approvals?status=pending', { token: CAROL });
    expect(asCarol.body.approvals.map((a: { approvalId: string }) => a.approvalId)).toContain(approvalId);
    expect((await h.request('GET', `/api/runs/${id}`, { token: CAROL })).status).toBe(200);
    expect((await h.request('GET', '/api/approvals', { token: BOB })).body).toEqual({ approvals: [], nextCursor: null });
    // A page at a time: with a second run waiting, a page of one and the next after it hold both, in the order asked;
    // a cursor it did not issue and a page out of bounds are 400s.
    const second = await startWaitingRun(h, '[who-2]');
    const walked: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { approvals: { approvalId: string }[]; nextCursor: string | null } } = await h.request('GET', `/api/approvals?status=pending&limit=1${cursor ? `&cursor=${cursor}` : ''}`, { token: CAROL });
      expect([page.status, page.body.approvals.length]).toEqual([200, 1]);
      walked.push(page.body.approvals[0]!.approvalId);
      cursor = page.body.nextCursor;
    } while (cursor !== null && walked.length < 100);
    expect(walked.slice(-2)).toEqual([approvalId, second.approvalId]);
    expect(new Set(walked).size).toBe(walked.length);
    expect((await h.request('POST', `/api/runs/${second.id}/cancel`)).status).toBe(202);
    for (const q of ['cursor=nonsense', 'limit=0', 'limit=201']) {
      const r = await h.request('GET', `/api/approvals?${q}`, { token: CAROL });
      expect([q, r.status, r.body.error.code]).toEqual([q, 400, 'invalid_query']);
    }
    // ...but may not steer it.
    expect((await h.request('POST', `/api/runs/${id}/cancel`, { token: CAROL })).status).toBe(403);
    expect((await decide(h, id, approvalId, 'approve', CAROL)).status).toBe(200);
    await h.waitForStatus(id, 'completed');

    // Without self-approval the owner sees the run but may not decide it.
    const s = await startWaitingRun(strict, '[strict]');
    const own = await decide(strict, s.id, s.approvalId, 'approve', ALICE);
    expect([own.status, own.body.error.code]).toEqual([403, 'forbidden']);
    expect((await strict.store.approvals.auditTrail(s.approvalId)).map((a) => [a.actor, a.outcome])).toEqual([['alice', 'forbidden']]);
    expect((await decide(strict, s.id, s.approvalId, 'approve', CAROL)).status).toBe(200);
    await strict.waitForStatus(s.id, 'completed');
  });

  it('fails closed when nobody decides in time', async () => {
    const { id, approvalId } = await startWaitingRun(h, '[expire]', { approvalTimeoutSec: 2 });
    const expired = await h.waitForEvent(id, 'approval.expired');
    expect(expired.data).toMatchObject({ approvalId, tool: 'http_request' });
    const done = await h.waitForStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(outside.requests.filter((r) => r.path.includes('expire'))).toHaveLength(0);
    expect(fake.requestsFor('[expire]')[1]!.lastToolResults[0]!.content).toContain('before the approval expired');
    const late = await decide(h, id, approvalId, 'approve');
    expect([late.status, late.body.error.code]).toEqual([409, 'approval_expired']);
    expect((await h.store.approvals.get(approvalId))!.status).toBe('expired');
    expect((await h.store.approvals.auditTrail(approvalId))[0]).toMatchObject({ actor: 'system', channel: 'system', outcome: 'expired' });
  });

  it('asks the user with ask_user and hands the answer to the model', async () => {
    fake.script('[ask]', (req) =>
      req.assistantTurns === 0
        ? { text: 'I need to know something.', toolUses: [{ name: 'ask_user', input: { question: 'Which city?' } }] }
        : { text: `Planning for ${req.lastToolResults[0]?.content}.` },
    );
    const none = await h.request('POST', '/api/runs/run_missing/input', { body: { text: 'x' } });
    expect(none.status).toBe(404);
    const id = await h.createRun({ goal: 'Plan a trip [ask]', approvals: 'write' });
    const waiting = await h.waitForStatus(id, 'waiting_input');
    expect(waiting.pendingInput).toMatchObject({ question: 'Which city?', requestId: expect.stringMatching(/^inp_/) });
    expect(waiting.statusDetail).toBe('waiting for your answer');
    await h.waitForEvent(id, 'input.requested', (e) => e.data.question === 'Which city?');
    expect((await h.request('POST', `/api/runs/${id}/input`, { body: { text: 'Lisbon' }, token: CAROL })).status).toBe(403);
    const res = await h.request('POST', `/api/runs/${id}/input`, { body: { text: 'Lisbon' } });
    expect(res.status).toBe(200);
    const done = await h.waitForStatus(id, 'completed');
    expect(done.result).toBe('Planning for Lisbon.');
    expect((await h.waitForEvent(id, 'input.received')).data).toMatchObject({ text: 'Lisbon', by: 'alice' });
    const twice = await h.request('POST', `/api/runs/${id}/input`, { body: { text: 'Porto' } });
    expect([twice.status, twice.body.error.code]).toEqual([409, 'no_pending_question']);
  });

  it('lets an unanswered question expire (fail closed) and the model carry on', async () => {
    fake.script('[ask-expire]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Anyone there?' } }] } : { text: `Got: ${req.lastToolResults[0]?.content}` },
    );
    const id = await h.createRun({ goal: 'Wait for nobody [ask-expire]', approvalTimeoutSec: 2 });
    await h.waitForEvent(id, 'input.expired');
    const done = await h.waitForStatus(id, 'completed');
    expect(done.result).toContain('did not answer before the question expired');
  });

  it('pauses at the next step boundary, runs nothing while paused, and resumes', async () => {
    let release = false;
    fake.script('[pause]', (req) =>
      req.assistantTurns < 3
        ? { text: `Step ${req.assistantTurns}.`, toolUses: [{ name: 'workspace_list', input: {} }], delayMs: release ? 0 : 30 }
        : { text: 'All steps done.' },
    );
    const id = await h.createRun({ goal: 'Three steps [pause]', approvals: 'none' });
    await h.waitForEvent(id, 'llm.message');
    expect((await h.request('POST', `/api/runs/${id}/pause`)).status).toBe(202);
    const paused = await h.waitForStatus(id, 'paused');
    expect(paused.statusDetail).toBe('paused on request');
    const seen = fake.requestsFor('[pause]').length;
    // Absence can only be observed over time: nothing may run during this second.
    await new Promise((r) => setTimeout(r, 1000));
    expect(fake.requestsFor('[pause]').length).toBe(seen);
    expect((await h.getRun(id)).status).toBe('paused');
    release = true;
    expect((await h.request('POST', `/api/runs/${id}/resume`)).status).toBe(202);
    const done = await h.waitForStatus(id, 'completed');
    expect(done.result).toBe('All steps done.');
    const types = (await h.events(id)).map((e) => e.type);
    expect(types.filter((t) => t === 'run.paused')).toHaveLength(1);
    expect(types.filter((t) => t === 'run.resumed')).toHaveLength(1);
    expect((await h.waitForEvent(id, 'run.paused')).data).toMatchObject({ by: 'alice' });
    const ended = await h.request('POST', `/api/runs/${id}/pause`);
    expect([ended.status, ended.body.error.code]).toEqual([409, 'run_not_active']);
  });

  it('asks to continue each time spend crosses a cost checkpoint, and stops when told no', async () => {
    const cp = await startHarness({
      env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', COST_CHECKPOINT_USD: '0.01' },
    });
    try {
      // Each call costs 5000 × $2/M = $0.01: every turn crosses the next checkpoint.
      fake.script('[costly]', (req) => ({ text: `Turn ${req.assistantTurns}.`, toolUses: [{ name: 'workspace_list', input: {} }], usage: { input_tokens: 5000, output_tokens: 0 } }));
      const id = await cp.createRun({ goal: 'Spend [costly]', approvals: 'none' });
      const first = await cp.waitForStatus(id, 'waiting_approval');
      expect(first.pendingApprovals[0]).toMatchObject({ kind: 'cost_checkpoint', tool: null, reason: expect.stringContaining('passing the $0.01 checkpoint') });
      expect((await cp.request('POST', `/api/runs/${id}/approvals/${first.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } })).status).toBe(200);

      await waitFor(async () => {
        const r = await cp.getRun(id);
        return r.status === 'waiting_approval' && r.pendingApprovals.length === 1 && r.pendingApprovals[0].approvalId !== first.pendingApprovals[0].approvalId;
      }, { what: 'the second checkpoint' });
      const second = await cp.getRun(id);
      expect(second.pendingApprovals[0].reason).toContain('passing the $0.02 checkpoint');
      await cp.request('POST', `/api/runs/${id}/approvals/${second.pendingApprovals[0].approvalId}`, { body: { decision: 'reject', comment: 'enough' } });
      const stopped = await cp.waitForStatus(id, ['cancelled', 'failed', 'completed']);
      expect(stopped.status).toBe('cancelled');
      expect(stopped.statusDetail).toBe('stopped at the $0.02 cost checkpoint by local');
      expect(fake.requestsFor('[costly]')).toHaveLength(2);
    } finally {
      await cp.close();
    }
  });

  it('waits for approval with no worker at all, survives the worker restart, and finishes', async () => {
    const { id, approvalId } = await startWaitingRun(h, '[no-worker]');
    await h.stopWorker();
    // With no worker the API still answers, from the database, and says no worker is there.
    const snapshot = await h.getRun(id);
    expect(snapshot).toMatchObject({ status: 'waiting_approval', worker: 'unavailable' });
    expect(snapshot.pendingApprovals[0].approvalId).toBe(approvalId);
    // The decision is a signal: accepted by Temporal with no worker running.
    expect((await decide(h, id, approvalId, 'approve')).status).toBe(200);
    await h.startWorker();
    const done = await h.waitForStatus(id, 'completed');
    expect(done.worker).toBeNull();
    expect(outside.requests.filter((r) => r.path.includes('no-worker'))).toHaveLength(1);
  });
});
