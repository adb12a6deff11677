/**
 * The quick-steps activity in isolation (MockActivityEnvironment, real SQLite store, a scripted model):
 * it takes turns while they fit, stops where the run would decide something, stops before the model
 * at a failed call, and run again returns what the ledger recorded without running anything twice.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MockActivityEnvironment } from '@temporalio/testing';
import { z } from 'zod';
import { createActivities, type Activities } from '../../activities';
import type { QuickStepsResult } from '../../activities/quick-step-activities';
import type { QuickStepRules, QuickStepView } from '../../workflows/step-placement';
import type { ModelAdapter, ModelRequest } from '../../activities/model/model-adapter';
import { defineTool } from '../../activities/tools/tool';
import { InMemoryBus } from '../../shared/bus/in-memory-bus';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';
import { createActivityDeps } from '../../worker/activity-deps';

describe('quick steps (activity)', () => {
  let dir: string;
  let store: Store;
  let acts: Activities;
  const noted: string[] = [];
  let modelCalls = 0;

  const note = defineTool({
    name: 'note',
    description: 'Notes a word; fails for "fail".',
    input: z.object({ word: z.string() }),
    risk: 'read',
    quick: true,
    async run({ word }) {
      noted.push(word);
      if (word === 'fail') throw new Error('cannot note that');
      return `noted ${word}`;
    },
  });

  /** Asks to note `w<turn>` until turn 4, then answers. A goal containing "fail" asks to note "fail" at turn 2. */
  const model: ModelAdapter = {
    async complete(req: ModelRequest) {
      modelCalls += 1;
      const turn = req.messages.filter((m) => m.role === 'assistant').length + 1;
      const goal = JSON.stringify(req.messages[0]);
      if (turn >= 4) return { content: [{ type: 'text', text: 'done' }], stopReason: 'end_turn', usage: { inputTokens: 10, outputTokens: 2 } };
      const word = goal.includes('fail') && turn === 2 ? 'fail' : `w${turn}`;
      return { content: [{ type: 'tool_use', id: `toolu_${turn}`, name: 'note', input: { word } }], stopReason: 'tool_use', usage: { inputTokens: 10, outputTokens: 2 } };
    },
  };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-quick-'));
    const config = loadConfig({ DATA_DIR: dir });
    store = await createStore(config);
    acts = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: [note], modelFor: () => model }));
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A run whose first model call (turn 1) asked to note `w1`. */
  async function runAtTurnOne(runId: string, goal = 'note words'): Promise<void> {
    await store.runs.insert({ id: runId, owner: 'u', goal, model: 'claude-sonnet-5-5', approvals: 'none', limits: { maxSteps: 10, maxCostUsd: 1, maxDurationSec: 60 } });
    await store.messages.put({ runId, key: 'user:goal', turn: 0, kind: 'user', content: goal });
    await store.messages.put({ runId, key: 'assistant:1', turn: 1, kind: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'note', input: { word: 'w1' } }] });
  }

  const view: QuickStepView = {
    turn: 1,
    segmentTurns: 0,
    usage: { inputTokens: 10, outputTokens: 2, costUsd: 0 },
    costCheckpointsPassed: 0,
    placement: { previous: { tookMs: 5, atMs: Date.now(), local: false }, lastRoundTripAtMs: Date.now() },
  };
  const rules: QuickStepRules = { approvals: 'none', maxSteps: 10, maxCostUsd: 1, segmentMaxTurns: 100, costCheckpointUsd: 0, localStepsMaxMs: 60_000 };
  const quickSteps = (runId: string, r: QuickStepRules = rules) =>
    new MockActivityEnvironment({ attempt: 1 }).run(acts.quickSteps, { runId, model: 'claude-sonnet-5-5', toolUseIds: ['toolu_1'], view, rules: r }) as Promise<QuickStepsResult>;

  it('takes turns while they fit and stops at the final answer, each part recorded as on its own', async () => {
    await runAtTurnOne('run_fit');
    const { steps } = await quickSteps('run_fit');
    expect(steps.map((s) => [s.tools.map((t) => t.isError), s.reply && 'stopReason' in s.reply ? s.reply.stopReason : null])).toEqual([
      [[false], 'tool_use'],
      [[false], 'tool_use'],
      [[false], 'end_turn'],
    ]);
    expect(noted).toEqual(['w1', 'w2', 'w3']);
    const events = await store.events.list('run_fit', { after: 0, limit: 50 });
    expect(events.map((e) => `${e.type}:${(e.data as { turn: number }).turn}`)).toEqual([
      'tool.started:1',
      'tool.completed:1',
      'llm.message:2',
      'tool.started:2',
      'tool.completed:2',
      'llm.message:3',
      'tool.started:3',
      'tool.completed:3',
      'llm.message:4',
    ]);
    for (const key of ['run_fit:turn:1:tool:toolu_1', 'run_fit:turn:2:model', 'run_fit:turn:4:model']) expect((await store.effects.get(key))?.status).toBe('completed');
  });

  it('run again, returns what the ledger recorded without noting or asking anything twice', async () => {
    const [notedBefore, callsBefore] = [noted.length, modelCalls];
    const { steps } = await quickSteps('run_fit');
    expect(steps).toHaveLength(3);
    expect(steps.every((s) => s.tools.every((t) => t.replayed))).toBe(true);
    expect([noted.length, modelCalls]).toEqual([notedBefore, callsBefore]);
  });

  it('stops where the run has to decide: here the step cap, before the turn past it', async () => {
    await runAtTurnOne('run_cap');
    const { steps } = await quickSteps('run_cap', { ...rules, maxSteps: 2 });
    expect(steps).toHaveLength(1);
    expect(steps[0]!.reply).toMatchObject({ stopReason: 'tool_use' }); // turn 2's answer, whose calls the run takes on
  });

  it('ends with the deferral when the books have no room for the next model call: the run waits for it', async () => {
    const config = loadConfig({ DATA_DIR: dir, MODEL_RATE_LIMITS: JSON.stringify({ 'claude-haiku-4-5': { rpm: 1 } }) });
    const metered = createActivities(createActivityDeps({ config, store, bus: new InMemoryBus(), logger: createLogger({ level: 'silent' }), extraTools: [note], modelFor: () => model }));
    await runAtTurnOne('run_books');
    const { steps } = (await new MockActivityEnvironment({ attempt: 1 }).run(metered.quickSteps, {
      runId: 'run_books',
      model: 'claude-haiku-4-5',
      toolUseIds: ['toolu_1'],
      view,
      rules,
    })) as QuickStepsResult;
    // One request a minute: turn 2's call goes, turn 3's must wait.
    expect(steps.map((s) => s.tools.length)).toEqual([1, 1]);
    expect(steps[0]!.reply).toMatchObject({ stopReason: 'tool_use' });
    expect(steps[1]!.reply).toMatchObject({ deferred: 'capacity', limit: 'rpm' });
  });

  it('stops at a failed call, before asking the model', async () => {
    await runAtTurnOne('run_fail', 'note words, then fail');
    const callsBefore = modelCalls;
    const { steps } = await quickSteps('run_fail');
    expect(steps.map((s) => s.tools.map((t) => t.isError))).toEqual([[false], [true]]);
    expect(steps[1]!.reply).toBeUndefined();
    expect(modelCalls - callsBefore).toBe(1); // turn 2's answer only
  });
});
