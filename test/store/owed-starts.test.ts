/**
 * The API's owed workflow starts (api/owed-starts.ts), with a client whose start fails as an unreachable Temporal's
 * does: each start is tried again until it is made, and then its owed mark is cleared; a replay joins the start in
 * flight rather than making its own; a start Temporal already has counts as made; closing stops the tries (the
 * sweeper makes what is left), and a steering request's start answers 503 while Temporal cannot take it.
 */
import os from 'node:os';
import { ServiceError, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import { OwedStarts } from '../../api/owed-starts';
import { ApiError } from '../../api/errors';
import { eventKeys } from '../../contract/keys';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import type { RunRecord } from '../../shared/store/runs';
import { openTestStore } from '../support/test-store';
import { waitFor } from '../support/wait';

const LIMITS = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };

/** What the Temporal client throws when the server finds a start invalid: its gRPC error, INVALID_ARGUMENT (3), inside. */
function invalidArgument(details: string): ServiceError {
  const grpc = Object.assign(new Error(`3 INVALID_ARGUMENT: ${details}`), { code: 3, details, metadata: {} });
  return new ServiceError('Failed to start Workflow', { cause: grpc });
}

describe('owed workflow starts', () => {
  let store: Store;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ store, close } = await openTestStore('sqlite'));
  });
  afterAll(() => close());

  /** A client whose workflow starts answer, in turn, with `answers` (an error is thrown; the last one repeats). */
  /**
   * `invalid`: over one of Temporal's limits; `misconfigured`: an INVALID_ARGUMENT of the deployment's. `existing`:
   * the workflows Temporal has (describe finds them).
   */
  function clientAnswering(answers: ('unavailable' | 'started' | 'already' | 'invalid' | 'misconfigured')[], existing: string[] = []) {
    const starts: { workflowId: string; workflowIdReusePolicy?: unknown }[] = [];
    const client = {
      withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
      workflow: {
        start: async (_type: string, options: { workflowId: string; workflowIdReusePolicy?: unknown }) => {
          starts.push(options);
          const answer = answers[Math.min(starts.length, answers.length) - 1];
          if (answer === 'unavailable') throw new Error('14 UNAVAILABLE: connection refused');
          if (answer === 'already') throw new WorkflowExecutionAlreadyStartedError('already started', options.workflowId, 'agentRunWorkflow');
          if (answer === 'invalid') throw invalidArgument('Blob data size exceeds limit.');
          if (answer === 'misconfigured') throw invalidArgument('search attribute LonghaulOwner is not defined');
          return {};
        },
        getHandle: (id: string) => ({
          describe: async () => {
            if (existing.includes(id)) return { workflowId: id };
            throw new WorkflowNotFoundError('not found', id, undefined);
          },
        }),
      },
    } as unknown as Client;
    const owed = new OwedStarts({ client, store, config: loadConfig({ DATA_DIR: os.tmpdir() }), logger: createLogger({ level: 'silent' }) });
    return { owed, starts };
  }

  async function owedRun(id: string): Promise<RunRecord> {
    const queued = await store.queueRun({ id, owner: 'ann', goal: id, model: 'demo', approvals: 'none', limits: LIMITS, startOwed: true, approvalTimeoutSec: 60 }, 100, [
      { key: eventKeys.queued(), type: 'run.queued', data: { goal: id, model: 'demo', approvals: 'none', limits: LIMITS } },
    ]);
    if (!('run' in queued)) throw new Error('queue full');
    return queued.run;
  }

  const owedMark = async (id: string) => (await store.runs.get(id))?.startOwed;

  it('tries again until Temporal takes the start, once for a replay that joins it, then clears the mark', async () => {
    const run = await owedRun('run_owed_retry');
    const { owed, starts } = clientAnswering(['unavailable', 'unavailable', 'started']);
    const first = owed.begin(run);
    expect(owed.begin(run)).toBe(first);
    expect(await first).toBe(true);
    expect(starts).toHaveLength(3);
    expect(starts.every((s) => s.workflowId === run.id && s.workflowIdReusePolicy === 'REJECT_DUPLICATE')).toBe(true);
    // The mark is cleared after the start is reported made.
    await waitFor(async () => (await owedMark(run.id)) === false, { what: 'the owed mark to clear' });
  });

  it('counts a start Temporal already has as made', async () => {
    const run = await owedRun('run_owed_already');
    const { owed } = clientAnswering(['already']);
    expect(await owed.begin(run)).toBe(true);
    await waitFor(async () => (await owedMark(run.id)) === false, { what: 'the owed mark to clear' });
  });

  it('stops trying when closed, and leaves the run owed for the sweeper', async () => {
    const run = await owedRun('run_owed_closed');
    const { owed, starts } = clientAnswering(['unavailable']);
    const made = owed.begin(run);
    while (starts.length === 0) await new Promise((resolve) => setImmediate(resolve));
    await owed.close();
    expect(await made).toBe(false);
    expect(starts).toHaveLength(1);
    expect(await owedMark(run.id)).toBe(true);
  });

  it('holds at most 64 starts in flight, and hands a freed slot to the start that waited longest', async () => {
    const runs = [];
    for (let i = 0; i < 67; i += 1) runs.push(await owedRun(`run_owed_cap_${String(i).padStart(2, '0')}`));
    const begun: string[] = [];
    const finish = new Map<string, () => void>();
    const client = {
      withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
      workflow: {
        start: (_type: string, options: { workflowId: string }) => {
          begun.push(options.workflowId);
          return new Promise((resolve) => finish.set(options.workflowId, () => resolve({})));
        },
      },
    } as unknown as Client;
    const owed = new OwedStarts({ client, store, config: loadConfig({ DATA_DIR: os.tmpdir() }), logger: createLogger({ level: 'silent' }) });
    const made = runs.map((run) => owed.begin(run));
    await waitFor(() => begun.length === 64, { what: '64 starts in flight' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(begun).toHaveLength(64);
    // A newcomer waits behind the three that came before it.
    const late = await owedRun('run_owed_cap_late');
    made.push(owed.begin(late));
    finish.get(runs[0]!.id)!();
    await waitFor(() => begun.length === 65, { what: 'the freed slot taken' });
    expect(begun[64]).toBe(runs[64]!.id);
    for (const run of runs.slice(1, 4)) finish.get(run.id)!();
    await waitFor(() => begun.length === 68, { what: 'every waiter started' });
    expect(begun.slice(65)).toEqual([runs[65]!.id, runs[66]!.id, late.id]);
    for (const id of begun) finish.get(id)?.();
    expect(await Promise.all(made)).toEqual(made.map(() => true));
  });

  it('ends a run failed, without trying again, when Temporal refuses its start for good', async () => {
    const run = await owedRun('run_owed_invalid');
    const { owed, starts } = clientAnswering(['invalid']);
    expect(await owed.begin(run)).toBe(false);
    expect(starts).toHaveLength(1);
    const error = { code: 'start_refused', message: 'Temporal refused to start the run: Blob data size exceeds limit.' };
    expect(await store.runs.get(run.id)).toMatchObject({ status: 'failed', startOwed: false, error });
    expect((await store.runs.get(run.id))!.endedAt).not.toBeNull();
    expect(await store.events.list(run.id, { after: 0, limit: 10 })).toMatchObject([{ type: 'run.queued' }, { type: 'run.failed', data: { error } }]);
    // A steering request that meets such a run fails it too, and says it is not active.
    const steered = await owedRun('run_owed_invalid_steered');
    const answer = await clientAnswering(['invalid']).owed.ensure(steered).catch((err: unknown) => err);
    expect([(answer as ApiError).status, (answer as ApiError).code]).toEqual([409, 'run_not_active']);
    expect(await store.runs.get(steered.id)).toMatchObject({ status: 'failed', error: { code: 'start_refused' } });
  });

  it("tries again after an INVALID_ARGUMENT of the deployment's, or a refusal of a start Temporal already has", async () => {
    // A namespace without Longhaul's search attributes refuses every start until an operator mends it: no run fails.
    const misconfigured = await owedRun('run_owed_misconfigured');
    const first = clientAnswering(['misconfigured', 'started']);
    expect(await first.owed.begin(misconfigured)).toBe(true);
    expect(first.starts).toHaveLength(2);
    expect(await store.runs.get(misconfigured.id)).toMatchObject({ status: 'queued' });
    // Over a limit, but an earlier try started it: the run is its workflow's, not failed.
    const started = await owedRun('run_owed_refused_started');
    const again = clientAnswering(['invalid'], [started.id]);
    const answer = await again.owed.ensure(started).catch((err: unknown) => err);
    expect([(answer as ApiError).status, (answer as ApiError).code]).toEqual([503, 'temporal_unavailable']);
    expect(await store.runs.get(started.id)).toMatchObject({ status: 'queued', error: null });
  });

  it('answers a steering request 503 while Temporal cannot take the start, and makes it once it can', async () => {
    const run = await owedRun('run_owed_steered');
    const { owed } = clientAnswering(['unavailable', 'started']);
    const refused = await owed.ensure(run).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(ApiError);
    expect([(refused as ApiError).status, (refused as ApiError).code]).toEqual([503, 'temporal_unavailable']);
    expect(await owedMark(run.id)).toBe(true);
    await owed.ensure(run);
    // The mark is cleared with others' after the start (nobody waits on it).
    await waitFor(async () => (await owedMark(run.id)) === false, { what: 'the owed mark to clear' });
  });
});
