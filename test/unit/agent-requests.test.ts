/**
 * A run request of an agent, resolved at the API against what workers published: the agent is known or
 * the request is a 400 `unknown_agent`; its input meets the version's JSON Schema or the 400 says where
 * it does not; the agent's model, limits and policy apply within the server's; the workflow input gets
 * the agent's relay and output settings. A request that names no agent resolves as it always has.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Access } from '../../api/access';
import { ApiError } from '../../api/errors';
import { RunService } from '../../api/run-service';
import type { RunRequest } from '../../api/run-starts';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { runInputFor } from '../../shared/runs/run-input';
import { createStore, type Store } from '../../shared/store';
import { agentData, INVOICE_CHECKER } from '../support/agent-data';

describe('resolving a run request of an agent', () => {
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-agent-req-'));
    store = await createStore({ dataDir: dir });
    await store.agents.publishVersion('invoice_checker', 'aaaaaaaaaaaaaaaa', INVOICE_CHECKER);
    await store.agents.publishVersion('careless', 'cccccccccccccccc', agentData({ name: 'careless', inputSchema: { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } } }));
    await store.agents.publishVersion('remote', 'dddddddddddddddd', agentData({ name: 'remote', inputSchema: { type: 'object', properties: { a: { $ref: 'https://example.com/schema.json' } } } }));
    await store.agents.publishVersion('writer', 'bbbbbbbbbbbbbbbb', agentData({ name: 'writer', model: { default: 'demo', allowed: ['demo', 'claude-sonnet-5-5'] }, approvals: 'none', limits: { defaults: { maxSteps: 500, maxCostUsd: 0.5 }, max: {} } }));
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const service = (env: Record<string, string> = {}) => {
    const config = loadConfig({ DATA_DIR: dir, LLM_MODEL: 'demo', ...env });
    return new RunService({ store, client: {} as Client, config, logger: createLogger({ level: 'silent' }), access: new Access(config) });
  };
  const resolve = async (body: RunRequest, env: Record<string, string> = {}) => {
    const runs = service(env);
    return runs.resolveRequest(body, await runs.agentFor(body));
  };
  const refusal = async (body: RunRequest, env: Record<string, string> = {}): Promise<ApiError> => {
    try {
      await resolve(body, env);
    } catch (err) {
      if (err instanceof ApiError) return err;
      throw err;
    }
    throw new Error('the request was accepted');
  };
  const good = { invoiceId: 'INV-1', amountCents: 4200 };

  it('refuses an agent no worker ever published', async () => {
    const err = await refusal({ agent: 'nobody', input: good });
    expect([err.status, err.code]).toEqual([400, 'unknown_agent']);
    expect(err.message).toContain('"nobody"');
  });

  it('validates the input against the version’s schema, naming each problem by path', async () => {
    const err = await refusal({ agent: 'invoice_checker', input: { invoiceId: 'X-1', amountCents: 4.5, extra: true } });
    expect([err.status, err.code]).toEqual([400, 'invalid_input']);
    expect(err.details).toEqual(
      expect.arrayContaining([
        { path: '/invoiceId', message: expect.stringContaining('pattern') },
        { path: '/amountCents', message: 'must be integer' },
        { path: '/extra', message: 'is not a field of this input' },
      ]),
    );
    const missing = await refusal({ agent: 'invoice_checker', input: { invoiceId: 'INV-1' } });
    expect(missing.details).toEqual([{ path: '/amountCents', message: 'is required' }]);
    expect(missing.message).toContain('/amountCents is required');
  });

  it('refuses, within the time limit, an input on which a pattern of the schema would backtrack for minutes', async () => {
    const started = Date.now();
    // `^(a+)+$` on 40 a's and a mismatch: about 2^40 steps; the API's event loop would be held meanwhile.
    const err = await refusal({ agent: 'careless', input: { code: `${'a'.repeat(40)}!` } });
    expect(Date.now() - started).toBeLessThan(10_000);
    expect([err.status, err.code]).toEqual([400, 'invalid_input']);
    expect(err.details).toEqual([{ path: '', message: expect.stringContaining('in time') }]);
    // An ordinary value of the same schema is checked as ever.
    expect((await resolve({ agent: 'careless', input: { code: 'aaa' } })).input).toEqual({ code: 'aaa' });
  });

  it('answers a schema whose $ref points elsewhere with a 400 naming it, never fetching it', async () => {
    const err = await refusal({ agent: 'remote', input: { a: 1 } });
    expect([err.status, err.code]).toEqual([400, 'invalid_input']);
    expect(err.message).toContain("the agent's input schema cannot be used");
  });

  it('asks for input from an agent that takes it, and refuses input to one that does not', async () => {
    const none = await refusal({ agent: 'invoice_checker', goal: 'check INV-1' });
    expect([none.code, none.message]).toEqual(['invalid_input', expect.stringContaining('agent invoice_checker takes structured input')]);
    const unwanted = await refusal({ agent: 'writer', input: good });
    expect([unwanted.code, unwanted.message]).toEqual(['invalid_input', expect.stringContaining('agent writer takes no structured input')]);
    const noGoal = await refusal({ agent: 'writer' });
    expect([noGoal.code, noGoal.message]).toEqual(['invalid_request', expect.stringContaining('goal is required')]);
    expect((await refusal({ input: good })).code).toBe('invalid_input'); // no agent: a goal, never input
    // `input: null` is no input: asked for where the agent takes some, harmless where it takes a goal.
    expect((await refusal({ agent: 'invoice_checker', input: null })).code).toBe('invalid_input');
    expect((await resolve({ agent: 'writer', goal: 'g', input: null })).input).toBeNull();
  });

  it('titles an input run with its input’s JSON, cut to 200 characters, unless a goal is given', async () => {
    const r = await resolve({ agent: 'invoice_checker', input: good });
    expect(r.goal).toBe(JSON.stringify(good));
    expect(r.input).toEqual(good);
    expect(r.agent).toMatchObject({ name: 'invoice_checker', version: 'aaaaaaaaaaaaaaaa' });
    expect((await resolve({ agent: 'invoice_checker', input: good, goal: 'INV-1 for ACME' })).goal).toBe('INV-1 for ACME');
    await store.agents.publishVersion('bulk', 'cccccccccccccccc', agentData({ name: 'bulk', inputSchema: { type: 'object' } }));
    const long = { text: 'x'.repeat(500) };
    expect((await resolve({ agent: 'bulk', input: long })).goal).toBe(JSON.stringify(long).slice(0, 200));
  });

  it('takes the agent’s model by default and refuses one outside its list or beyond the server', async () => {
    expect((await resolve({ agent: 'invoice_checker', input: good })).model).toBe('demo');
    const outside = await refusal({ agent: 'invoice_checker', input: good, model: 'claude-sonnet-5-5' });
    expect([outside.code, outside.message]).toEqual(['unknown_model', expect.stringContaining('agent invoice_checker runs on "demo"')]);
    // In the agent's list, but this server has no key for it.
    const unservable = await refusal({ agent: 'writer', goal: 'g', model: 'claude-sonnet-5-5' });
    expect([unservable.code, unservable.message]).toEqual(['unknown_model', expect.stringContaining('ANTHROPIC_API_KEY')]);
  });

  it('takes the agent’s limit defaults, within the stricter of its maxima and the server’s, saying whose', async () => {
    const r = await resolve({ agent: 'invoice_checker', input: good }, { DEFAULT_MAX_COST_USD: '5', MAX_COST_USD_LIMIT: '10' });
    expect(r.limits).toMatchObject({ maxSteps: 8, maxCostUsd: 2 }); // the server's default cost, brought down to the agent's maximum
    const byAgent = await refusal({ agent: 'invoice_checker', input: good, limits: { maxSteps: 21 } });
    expect([byAgent.code, byAgent.message]).toEqual(['limit_out_of_range', 'limits.maxSteps is 21; agent invoice_checker allows at most 20']);
    const byServer = await refusal({ agent: 'invoice_checker', input: good, limits: { maxSteps: 15 } }, { MAX_STEPS_LIMIT: '10', DEFAULT_MAX_STEPS: '5' });
    expect(byServer.message).toBe('limits.maxSteps is 15; this server allows at most 10');
    // An agent default above the server's maximum is brought down to it, not refused.
    expect((await resolve({ agent: 'writer', goal: 'g' }, { MAX_STEPS_LIMIT: '100', DEFAULT_MAX_STEPS: '5' })).limits).toMatchObject({ maxSteps: 100, maxCostUsd: 0.5 });
  });

  it('gives the agent’s policy unless the request asks for a stricter one, and never below MIN_APPROVALS', async () => {
    expect((await resolve({ agent: 'invoice_checker', input: good, approvals: 'none' })).approvals).toBe('write');
    expect((await resolve({ agent: 'invoice_checker', input: good, approvals: 'all' })).approvals).toBe('all');
    expect((await resolve({ agent: 'writer', goal: 'g' })).approvals).toBe('none');
    expect((await resolve({ agent: 'writer', goal: 'g' }, { MIN_APPROVALS: 'write' })).approvals).toBe('write');
  });

  it('resolves a request that names no agent as before', async () => {
    const r = await resolve({ goal: 'plain', approvals: 'none' }, { DEFAULT_MAX_STEPS: '7' });
    expect(r).toMatchObject({ goal: 'plain', input: null, agent: null, model: 'demo', approvals: 'none', limits: { maxSteps: 7 } });
    expect((await refusal({})).code).toBe('invalid_request');
  });

  it('puts the agent’s turns per segment and output retries into the run’s settings', async () => {
    const config = loadConfig({ DATA_DIR: dir, SEGMENT_MAX_TURNS: '40' });
    const run = { id: 'run_x', owner: 'u', model: 'demo', approvals: 'write' as const, limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } };
    const agent = runInputFor(config, run, 60, INVOICE_CHECKER).settings;
    expect([agent.segmentMaxTurns, agent.outputRetries]).toEqual([6, 3]);
    const plain = runInputFor(config, run, 60, agentData({ name: 'plain' })).settings;
    expect([plain.segmentMaxTurns, 'outputRetries' in plain]).toEqual([40, false]); // no output schema: no retries
    expect('outputRetries' in runInputFor(config, run, 60).settings).toBe(false);
  });

  it('keeps a child run riding on its root’s slot however it is started again (a follow-up continues it)', () => {
    const config = loadConfig({ DATA_DIR: dir });
    const run = { id: 'run_child', owner: 'u', model: 'demo', approvals: 'write' as const, limits: { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 } };
    expect(runInputFor(config, { ...run, parentRunId: 'run_root', depth: 2 }, 60)).toMatchObject({ parentRunId: 'run_root', depth: 2 });
    const root = runInputFor(config, { ...run, parentRunId: null, depth: 0 }, 60);
    expect(['parentRunId' in root, 'depth' in root]).toEqual([false, false]);
  });
});
