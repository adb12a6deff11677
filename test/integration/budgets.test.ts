/**
 * Daily budgets per user: checked before each model call against what the owner spent today plus
 * what is reserved. A run whose owner is out of budget pauses (limit.exceeded userDailyBudget) on
 * a durable timer until the next UTC day, and goes on when resumed after the budget is raised. The
 * worker runs as its own process, so raising the budget is what an operator does: a new config.
 */
import { msUntilNextUtcDay } from '../../shared/capacity/model-limits';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

const ALICE = 'alice-token-0123456789';
const BOB = 'bob-token-0123456789ab';
// Each call is 100 input and 20 output tokens on Sonnet 5.5: $0.0004. Two calls pass, the third waits.
const CALL_USD = (100 * 2 + 20 * 10) / 1e6;
const BUDGET = 0.0005;

describe('daily budgets', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  let worker: ChildHandle | undefined;

  beforeAll(async () => {
    await fake.start();
    fake.script('[budget]', (req) =>
      req.assistantTurns < 3 ? { toolUses: [{ name: 'workspace_write', input: { path: `n${req.assistantTurns}.txt`, content: 'x' } }] } : { text: 'all written' },
    );
    h = await startHarness({
      noWorker: true,
      bus: 'database',
      env: {
        ANTHROPIC_API_KEY: fake.apiKey,
        ANTHROPIC_BASE_URL: fake.url,
        LLM_MODEL: 'claude-sonnet-5-5',
        API_TOKENS: `${ALICE}:alice,${BOB}:bob`,
        USER_DAILY_BUDGETS: `alice:${BUDGET}`,
      },
    });
    h.defaultToken = ALICE;
    worker = await startWorkerProcess(h.env);
  });
  afterAll(async () => {
    await worker?.kill();
    await h.close();
    await fake.stop();
  });

  it('pauses a run whose owner spent the day’s budget until the next UTC day, and lets it go on once the budget is raised', async () => {
    const created = Date.now();
    const id = await h.createRun({ goal: 'write three notes [budget]', approvals: 'none' });
    const paused = await h.waitForStatus(id, 'paused');
    expect(paused.statusDetail).toMatch(/^alice has spent \$0\.0008 of their \$0\.0005 daily model budget; the run continues when the next UTC day starts/);
    expect(fake.requestsFor('[budget]')).toHaveLength(2);
    const events = await h.events(id);
    expect(events.find((e) => e.type === 'limit.exceeded')?.data).toEqual({ limit: 'userDailyBudget', value: BUDGET });
    expect(events.find((e) => e.type === 'run.paused')?.data).toMatchObject({ by: 'system' });

    // The pause ends by itself on a Temporal timer set for the start of the next UTC day, when the budget was checked:
    // between the run's creation and now (in whole seconds). The paused status is written before the workflow task
    // that starts the timer completes, so the timer is waited for.
    let timers: number[] = [];
    const untilTomorrow = (s: number) => s <= msUntilNextUtcDay(created) / 1000 && s >= msUntilNextUtcDay(Date.now()) / 1000 - 1;
    await waitFor(
      async () => {
        const history = await h.client.workflow.getHandle(id).fetchHistory();
        timers = (history.events ?? []).filter((e) => e.timerStartedEventAttributes).map((e) => Number(e.timerStartedEventAttributes!.startToFireTimeout!.seconds));
        return timers.some(untilTomorrow);
      },
      { timeoutMs: 10_000, what: () => `a timer until the next UTC day in the run's history (timers: ${timers.join(', ') || 'none'})` },
    );

    // What alice spent today, by model; she may not read bob's spend.
    const usage = (await h.request('GET', '/api/usage')).body;
    expect(usage).toMatchObject({ user: 'alice', dailyBudgetUsd: BUDGET, days: [{ model: 'claude-sonnet-5-5', calls: 2 }] });
    expect(usage.totalUsd).toBeCloseTo(2 * CALL_USD, 12);
    expect((await h.request('GET', '/api/usage?user=bob')).status).toBe(403);

    // Bob has no budget: the same work runs through.
    const bobs = await h.createRun({ goal: 'write three notes [budget] bob', approvals: 'none' }, { token: BOB });
    await h.waitForStatus(bobs, 'completed', { token: BOB });

    // Resumed without more budget, the run pauses again at once; after the operator raises it, it finishes.
    expect((await h.request('POST', `/api/runs/${id}/resume`)).status).toBe(202);
    await waitFor(async () => (await h.events(id)).filter((e) => e.type === 'run.paused').length >= 2, { what: 'the second budget pause' });
    expect(fake.requestsFor('[budget]').filter((r) => !r.goal.includes('bob'))).toHaveLength(2);
    await worker!.kill();
    worker = await startWorkerProcess({ ...h.env, USER_DAILY_BUDGETS: 'alice:1' });
    // Resumed at once, as a user who sees it paused would: the pause's event is written before the workflow task
    // that decided it completes, so the killed worker may have taken that task with it, and the new worker's task
    // then takes the resume before the pause. The resume names the pause it ends, so it is not lost.
    expect((await h.request('POST', `/api/runs/${id}/resume`)).status).toBe(202);
    const done = await h.waitForStatus(id, 'completed');
    expect(done.result).toBe('all written');
  });
});
