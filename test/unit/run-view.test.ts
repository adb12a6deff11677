/**
 * A client never sees a run `completed` without its result. The race it guards against: the API
 * reads the run's row (still running), the run then ends (database first, then the workflow's own
 * state), and the progress query answers `completed`. Here that interleaving is forced every time:
 * the query itself records the ending before it answers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import { Access } from '../../api/access';
import { RunService } from '../../api/run-service';
import type { Progress } from '../../contract/run';
import { loadConfig } from '../../shared/config';
import { createLogger } from '../../shared/logger';
import { createStore, type Store } from '../../shared/store';

describe('run view', () => {
  let dir: string;
  let store: Store;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-view-'));
    store = await createStore({ dataDir: dir });
  });
  afterAll(async () => {
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('reads the run again when it ended while its progress was being asked for', async () => {
    const limits = { maxSteps: 5, maxCostUsd: 1, maxDurationSec: 60 };
    await store.runs.insert({ id: 'run_race', owner: 'local', goal: 'g', model: 'demo', approvals: 'none', limits, metadata: null, idempotencyKey: null });
    await store.runs.updateState('run_race', { status: 'running', statusDetail: null });
    const config = loadConfig({ DATA_DIR: dir });
    const service = new RunService({ store, client: {} as Client, config, logger: createLogger({ level: 'silent' }), access: new Access(config) });
    const completed: Progress = { ...service.progressFromRecord((await store.runs.get('run_race'))!), status: 'completed' };
    // The workflow finishes exactly between the row read and the query's answer.
    service.reads.queryProgress = async () => {
      await store.runs.updateState('run_race', { status: 'completed', statusDetail: null, progress: completed, result: 'the answer', ended: true });
      return completed;
    };
    const view = await service.view({ user: 'local', roles: [], scopes: 'all', method: 'open' }, 'run_race');
    expect(view.status).toBe('completed');
    expect(view.result).toBe('the answer');
    expect(view.endedAt).not.toBeNull();
    expect(view.worker).toBeNull();
  });
});
