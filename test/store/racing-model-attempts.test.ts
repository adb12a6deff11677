/**
 * Two live attempts of one model call, on SQLite and Postgres: attempt 1 outlives its heartbeat deadline (its event
 * loop saturated, or cut off from Temporal) and keeps streaming while Temporal starts attempt 2, which finds the
 * ledger entry in doubt and asks the model again. Both get an answer; attempt 1 commits first. Attempt 2 must return
 * the stored answer (the one in the transcript, whose tool calls the next activity loads), not its own, and the run's
 * cost is counted once. On both commit paths: an unmetered call's one write with the event, and a metered call's
 * transaction (which also settles the books); for a run alone (on Postgres, the event's own statement) and one with
 * webhooks (the event's full path). The relay summary, a model call too, races the same way: it has no event of its
 * own, so its ledger entry's completion decides which attempt's summary, cost and spend record are written.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createActivities } from '../../activities';
import type { ModelAdapter, ModelResponse } from '../../activities/model/model-adapter';
import { defineTool } from '../../activities/tools/tool';
import type { ModelTurnResult } from '../../contract/run';
import type { SummaryResult } from '../../contract/activity-io';
import type { SummaryContent } from '../../activities/model/context-builder';
import { ledgerKeys, messageKeys } from '../../contract/keys';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import type { Store } from '../../shared/store';
import { createActivityDeps } from '../../worker/activity-deps';
import { openTestStore } from '../support/test-store';
import { waitFor } from '../support/wait';

const MODEL = 'claude-sonnet-5-5';
/** 1,000 input and 100 output tokens at $2 and $10 per million. */
const CALL_USD = (1000 * 2 + 100 * 10) / 1e6;

const noted: string[] = [];
const note = defineTool({
  name: 'note',
  description: 'notes a word',
  input: z.object({ word: z.string() }),
  risk: 'read',
  async run(input) {
    noted.push(input.word);
    return { noted: input.word };
  },
});

/** The nth call's answer as a turn: it asks for `note` with tool use id `toolu_<n>`. */
const noteCall = (n: number): ModelResponse => ({
  content: [{ type: 'tool_use', id: `toolu_${n}`, name: 'note', input: { word: `from call ${n}` } }],
  stopReason: 'tool_use',
  usage: { inputTokens: 1000, outputTokens: 100 },
});

/** The nth call's answer as a relay summary: a text of its own length, so the stored one is told apart by its size. */
const summaryText = (n: number): string => `summary ${'of the run '.repeat(n)}by call ${n}`;
const summaryAnswer = (n: number): ModelResponse => ({ content: [{ type: 'text', text: summaryText(n) }], stopReason: 'end_turn', usage: { inputTokens: 1000, outputTokens: 100 } });

/** A model whose answers are held until the test lets each go: the nth call answers `answerOf(n)`. */
function heldModel(answerOf: (n: number) => ModelResponse = noteCall) {
  const held: (() => void)[] = [];
  const adapter: ModelAdapter = {
    complete(req) {
      const n = held.length + 1;
      req.onText(`attempt ${n} thinks`);
      const answer = answerOf(n);
      return new Promise((resolve) => held.push(() => resolve(answer)));
    },
  };
  return { adapter, calls: () => held.length, answer: (n: number) => held[n - 1]!() };
}

const commitPaths = [
  { path: 'unmetered, a run alone', env: {}, hooked: false },
  { path: 'unmetered, a run with webhooks', env: {}, hooked: true },
  { path: 'metered, a run alone', env: { MODEL_RATE_LIMITS: JSON.stringify({ [MODEL]: { rpm: 1000 } }) }, hooked: false },
  { path: 'metered, a run with webhooks', env: { MODEL_RATE_LIMITS: JSON.stringify({ [MODEL]: { rpm: 1000 } }) }, hooked: true },
];

describe.each(['sqlite', 'postgres'] as const)('two live attempts of one model call on %s', (dialect) => {
  let store: Store;
  let close: () => Promise<void>;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-racing-attempts-'));

  beforeAll(async () => {
    ({ store, close } = await openTestStore(dialect));
  });
  afterAll(async () => {
    await close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it.each(commitPaths)('the attempt that commits second returns the stored answer and counts nothing again ($path)', async ({ path: commitPath, env, hooked }) => {
    const runId = `run_race_${commitPaths.findIndex((p) => p.path === commitPath)}`;
    await store.runs.insert({
      id: runId,
      owner: `owner_${runId}`,
      goal: 'g',
      model: MODEL,
      approvals: 'none',
      limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 },
      ...(hooked && { webhooks: { to: [{ url: 'https://hooks.example/a' }], publicUrl: null } }),
    });
    const model = heldModel();
    const config = loadConfig({ DATA_DIR: dir, ...env });
    const acts = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: [note], modelFor: () => model.adapter }));
    const args = { runId, turn: 1, model: MODEL };

    // Neither is deferred (no budgets, and the books have room): both are answers.
    const call = (attempt: number) => new MockActivityEnvironment({ attempt }).run(acts.callModel, args) as unknown as Promise<ModelTurnResult>;
    const first = call(1);
    await waitFor(() => model.calls() === 1, { what: 'attempt 1 to ask the model' });
    // Attempt 1 missed its heartbeat deadline but is still streaming: Temporal starts attempt 2.
    const second = call(2);
    await waitFor(() => model.calls() === 2, { what: 'attempt 2 to ask the model again' });
    model.answer(1);
    const committed = await first;
    model.answer(2);
    const late = await second;

    const stored = (await store.effects.get(ledgerKeys.modelCall(runId, 1)))!;
    expect(stored.status).toBe('completed');
    expect(committed.toolCalls.map((c) => c.toolUseId)).toEqual(['toolu_1']);
    // The late attempt's answer is the transcript's: the stored one, with the tool calls the stored message holds.
    expect(late).toEqual(stored.result);
    const message = await store.messages.get(runId, messageKeys.assistant(1));
    expect(message!.content).toEqual([expect.objectContaining({ type: 'tool_use', id: 'toolu_1' })]);
    // What the workflow does next with the answer it was given: run its tool calls, loaded from that message.
    const outcome = await new MockActivityEnvironment({ attempt: 1 }).run(acts.runTool, { runId, turn: 1, toolUseId: late.toolCalls[0]!.toolUseId });
    expect(outcome).toMatchObject({ isError: false });
    expect(noted.at(-1)).toBe('from call 1');

    // Two calls were made, but the run's answer is one: its cost, its spend record and its event once.
    const run = (await store.runs.get(runId))!;
    expect(run.usage).toMatchObject({ inputTokens: 1000, outputTokens: 100 });
    expect(run.usage.costUsd).toBeCloseTo(CALL_USD, 12);
    expect(await store.modelCalls.spentOn(`owner_${runId}`, new Date().toISOString().slice(0, 10))).toBeCloseTo(CALL_USD, 12);
    const events = await store.events.list(runId, { after: 0, limit: 50 });
    expect(events.filter((e) => e.type === 'llm.message')).toHaveLength(1);
  });

  // The summary writes no event, so webhooks change nothing of its commit: unmetered and metered.
  const summaryPaths = commitPaths.filter((p) => !p.hooked);

  it.each(summaryPaths)('the relay summary attempt that commits second returns the stored summary and counts nothing again ($path)', async ({ path: commitPath, env }) => {
    const runId = `run_race_summary_${summaryPaths.findIndex((p) => p.path === commitPath)}`;
    await store.runs.insert({ id: runId, owner: `owner_${runId}`, goal: 'g', model: MODEL, approvals: 'none', limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } });
    const model = heldModel(summaryAnswer);
    const config = loadConfig({ DATA_DIR: dir, ...env });
    const acts = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), modelFor: () => model.adapter }));
    const args = { runId, segment: 0, throughTurn: 3, model: MODEL };

    const call = (attempt: number) => new MockActivityEnvironment({ attempt }).run(acts.summarize, args) as unknown as Promise<SummaryResult>;
    const first = call(1);
    await waitFor(() => model.calls() === 1, { what: 'attempt 1 to ask for the summary' });
    // Attempt 1 missed its heartbeat deadline but is still waiting for the model: Temporal starts attempt 2.
    const second = call(2);
    await waitFor(() => model.calls() === 2, { what: 'attempt 2 to ask for it again' });
    model.answer(1);
    const committed = await first;
    model.answer(2);
    const late = await second;

    // The late attempt's result is the stored one, which says of the summary the next segment starts from.
    const stored = (await store.effects.get(ledgerKeys.summary(runId, 0)))!;
    expect(stored.status).toBe('completed');
    expect(committed.summaryChars).toBe(summaryText(1).length);
    expect(stored.result).toEqual(committed);
    expect(late).toEqual(committed);
    const summary = await store.messages.get(runId, messageKeys.summary(0));
    expect((summary!.content as SummaryContent).text).toBe(summaryText(1));

    // Two calls were made, but the run's summary is one: its cost and its spend record once.
    const run = (await store.runs.get(runId))!;
    expect(run.usage).toMatchObject({ inputTokens: 1000, outputTokens: 100 });
    expect(run.usage.costUsd).toBeCloseTo(CALL_USD, 12);
    expect(await store.modelCalls.spentOn(`owner_${runId}`, new Date().toISOString().slice(0, 10))).toBeCloseTo(CALL_USD, 12);
  });
});
