/**
 * Follow-up messages (a run is a conversation): a message to an active run joins at the next turn
 * boundary, never mid-tool; one that arrives while the run is finishing undoes the ending; one to a
 * completed run — after its Temporal execution has closed — continues the same run id with the seq
 * going on; one may raise the caps of a run that ended on a limit; a repeated Idempotency-Key sends
 * once; cancelled runs and other users' runs are refused; continuing ended runs meets the per-user
 * queue cap like a new run.
 */
import { workflowMetadataQuery } from '@temporalio/workflow';
import { FakeAnthropic, type FakeRequest } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
const CAROL = 'carol-token-0123456789';

/** The text blocks of the last user message the model was sent. */
function lastUserTexts(req: FakeRequest): string[] {
  const last = [...req.body.messages].reverse().find((m) => m.role === 'user');
  if (!last) return [];
  if (typeof last.content === 'string') return [last.content];
  return (last.content as { type: string; text?: string }[]).filter((b) => b.type === 'text').map((b) => b.text!);
}

describe('follow-up messages', () => {
  const fake = new FakeAnthropic();
  let h: Harness;

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({
      env: { API_TOKENS: `${ALICE}:alice,${BOB}:bob,${CAROL}:carol`, MAX_QUEUED_RUNS_PER_USER: '3', ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5', MAX_STEPS_LIMIT: '10', DEFAULT_MAX_STEPS: '10' },
    });
    h.defaultToken = ALICE;
  });
  afterAll(async () => {
    await h.close();
    await fake.stop();
  });

  const send = (id: string, body: unknown, opts: { token?: string; key?: string } = {}) =>
    h.request('POST', `/api/runs/${id}/messages`, { body, token: opts.token, headers: opts.key ? { 'Idempotency-Key': opts.key } : {} });

  async function expectGapFree(id: string) {
    const events = await h.events(id);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    return events;
  }

  it('joins an active run at the next turn boundary, after the tool that was waiting', async () => {
    const seen: string[][] = [];
    fake.script('[fu-active]', (req) => {
      seen.push(lastUserTexts(req));
      return req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'plan.md', content: 'plan' } }] } : { text: 'Plan written, with a title.' };
    });
    const id = await h.createRun({ goal: 'write a plan [fu-active]', approvals: 'write' });
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    // The Temporal Web UI says what the run is doing (its current details).
    const metadata = await h.client.workflow.getHandle(id).query(workflowMetadataQuery);
    expect(metadata.currentDetails).toBe('waiting approval: waiting for approval of workspace_write · turn 1');
    const sent = await send(id, { text: 'Also give it a title.' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ runId: id, status: 'pending', continued: false });
    // Nothing joins while the tool waits: the message is pending, the run still waits for approval.
    expect((await h.events(id)).some((e) => e.type === 'user.message')).toBe(false);
    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    await h.waitForStatus(id, 'completed');

    const events = await expectGapFree(id);
    const order = events.map((e) => e.type);
    expect(order.indexOf('tool.completed')).toBeLessThan(order.indexOf('user.message'));
    expect(order.indexOf('user.message')).toBeLessThan(order.lastIndexOf('llm.message'));
    expect(events.find((e) => e.type === 'user.message')!.data).toMatchObject({ text: 'Also give it a title.', by: 'alice', turn: 2 });
    // The model's second call saw the tool result and then the message, in one user turn.
    expect(seen[1]).toEqual(['[Follow-up message from alice]\nAlso give it a title.']);
  });

  it('continues a completed run whose execution has closed: same id, seq goes on, the model sees it all', async () => {
    const requests: FakeRequest[] = [];
    fake.script('[fu-done]', (req) => {
      requests.push(req);
      return { text: req.assistantTurns === 0 ? 'Lisbon is sunny.' : 'Porto is cloudy.' };
    });
    const id = await h.createRun({ goal: 'weather in Lisbon [fu-done]', approvals: 'none' });
    await h.waitForStatus(id, 'completed');
    await waitFor(async () => (await h.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { what: 'the execution to close' });
    const seqBefore = (await h.events(id)).length;

    const sent = await send(id, { text: 'Now Porto, please.' });
    expect(sent.status).toBe(202);
    expect(sent.body).toMatchObject({ continued: true, status: 'pending' });
    await waitFor(async () => (await h.getRun(id)).result === 'Porto is cloudy.', { what: 'the continued run to answer' });
    const run = await h.waitForStatus(id, 'completed');
    expect(run.id).toBe(id);

    const events = await expectGapFree(id);
    expect(events.length).toBeGreaterThan(seqBefore);
    expect(events.filter((e) => e.type === 'run.completed')).toHaveLength(2);
    expect(events.find((e) => e.type === 'user.message')!.data).toMatchObject({ text: 'Now Porto, please.', turn: 2 });
    // The second call carried the whole conversation: goal, first answer, the follow-up.
    const second = requests[1]!;
    expect(second.body.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(lastUserTexts(second)).toEqual(['[Follow-up message from alice]\nNow Porto, please.']);
    let executions = 0;
    for await (const _ of h.client.workflow.list({ query: `WorkflowId = "${id}"` })) executions += 1;
    expect(executions).toBe(2);
  });

  it('undoes the ending when a message arrives while the run is finishing its last turn', async () => {
    let calls = 0;
    // The last turn's answer waits for the message to be taken, whatever the machine's load: it arrives meanwhile.
    let messageTaken!: () => void;
    const taken = new Promise<void>((resolve) => (messageTaken = resolve));
    fake.script('[fu-race]', async () => {
      calls += 1;
      if (calls > 1) return { text: 'Answered the follow-up too.' };
      await taken;
      return { text: 'A long final answer, streamed slowly so a message can arrive meanwhile. '.repeat(2), chunkChars: 6, delayMs: 20 };
    });
    const id = await h.createRun({ goal: 'answer slowly [fu-race]', approvals: 'none' });
    await waitFor(async () => calls === 1, { what: 'the first model call to start' });
    expect((await send(id, { text: 'And one more thing.' })).body).toMatchObject({ continued: false });
    messageTaken();
    await waitFor(async () => (await h.getRun(id)).result === 'Answered the follow-up too.', { what: 'the run to answer the follow-up' });
    const events = await expectGapFree(id);
    // One execution: the ending found the message waiting and went on instead of closing.
    expect(events.filter((e) => e.type === 'run.completed').length).toBe(1);
    let executions = 0;
    for await (const _ of h.client.workflow.list({ query: `WorkflowId = "${id}"` })) executions += 1;
    expect(executions).toBe(1);
  });

  it('raises the caps of a run that ended on a limit, and continues it', async () => {
    fake.script('[fu-capped]', (req) =>
      lastUserTexts(req).some((t) => t.includes('Keep going'))
        ? { text: 'Finished with the extra steps.' }
        : { toolUses: [{ name: 'workspace_list', input: {} }] },
    );
    const id = await h.createRun({ goal: 'loop [fu-capped]', approvals: 'none', limits: { maxSteps: 1 } });
    const capped = await h.waitForStatus(id, 'failed');
    expect(capped.error.code).toBe('limit_exceeded');
    expect((await send(id, { text: 'Keep going.', limits: { maxSteps: 11 } })).status).toBe(400);
    const sent = await send(id, { text: 'Keep going.', limits: { maxSteps: 3 } });
    expect(sent.body).toMatchObject({ continued: true });
    const done = await h.waitForStatus(id, 'completed');
    expect(done.limits.maxSteps).toBe(3);
    expect(done.result).toBe('Finished with the extra steps.');
    expect(done.error).toBeNull();
    await expectGapFree(id);
  });

  it('sends once per Idempotency-Key, and refuses cancelled runs, other users and bad input', async () => {
    fake.script('[fu-idem]', (req) => (req.assistantTurns === 0 ? { toolUses: [{ name: 'ask_user', input: { question: 'Which city?' } }] } : { text: 'ok' }));
    const id = await h.createRun({ goal: 'ask [fu-idem]', approvals: 'none' });
    await h.waitForStatus(id, 'waiting_input');
    const first = await send(id, { text: 'Be brief.' }, { key: 'fu-1' });
    const again = await send(id, { text: 'Be brief.' }, { key: 'fu-1' });
    expect(again.status).toBe(202);
    expect(again.body.messageId).toBe(first.body.messageId);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await send(id, { text: 'Something else.' }, { key: 'fu-1' })).status).toBe(409);
    expect((await send(id, { text: 'hello' }, { token: BOB })).body.error.code).toBe('run_not_found');
    expect((await send(id, { text: '   ' })).body.error.code).toBe('invalid_request');

    await h.request('POST', `/api/runs/${id}/input`, { body: { text: 'Lisbon' } });
    await h.waitForStatus(id, 'completed');
    expect((await h.events(id)).filter((e) => e.type === 'user.message')).toHaveLength(1);

    fake.script('[fu-cancel]', () => ({ toolUses: [{ name: 'ask_user', input: { question: 'Still there?' } }] }));
    const cancelled = await h.createRun({ goal: 'to cancel [fu-cancel]', approvals: 'none' });
    await h.waitForStatus(cancelled, 'waiting_input');
    await h.request('POST', `/api/runs/${cancelled}/cancel`);
    await h.waitForStatus(cancelled, 'cancelled');
    const refused = await send(cancelled, { text: 'go on' });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('run_not_continuable');
  });

  it('meets the per-user queue cap when continuing ended runs: past it, 429 queue_full like a new run', async () => {
    fake.script('[fu-cap]', () => ({ text: 'done' }));
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = await h.createRun({ goal: `run ${i} [fu-cap]`, approvals: 'none' }, { token: CAROL });
      await h.waitForStatus(id, 'completed', { token: CAROL });
      await waitFor(async () => (await h.client.workflow.getHandle(id).describe()).status.name === 'COMPLETED', { what: 'the execution to close' });
      ids.push(id);
    }
    // No worker: every continued run stays queued, so each one counts against the cap.
    await h.stopWorker();
    try {
      const answers = await Promise.all(ids.map((id) => send(id, { text: 'and once more' }, { token: CAROL })));
      expect(answers.map((a) => a.status).sort()).toEqual([202, 202, 202, 429, 429, 429]);
      const refused = answers.filter((a) => a.status !== 202);
      expect(refused.map((a) => [a.status, a.body.error.code])).toEqual([[429, 'queue_full'], [429, 'queue_full'], [429, 'queue_full']]);
      expect(refused[0]!.body.error.message).toBe('you already have 3 runs waiting to start (the limit is 3); try again when some have started');
      expect(await h.store.runs.countQueued('carol')).toBe(3);
      // A refused follow-up leaves nothing behind: no pending message for the run to take in later.
      const refusedIds = ids.filter((_, i) => answers[i]!.status !== 202);
      for (const id of refusedIds) expect(await h.store.userMessages.pending(id)).toEqual([]);
    } finally {
      await h.startWorker();
    }
  });
});
