/**
 * Error codes are a closed set: a failure Longhaul raises keeps its own code, and any other thrown
 * error (better-sqlite3's SqliteError here) reaches a run's error and the API as a fixed code,
 * never as its own name (`sqlite_error`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Request, Response } from 'express';
import { ActivityFailure, ApplicationFailure, RetryState, ensureApplicationFailure } from '@temporalio/common';
import { errorHandler } from '../../api/errors';
import { MODEL_CALL_ERROR_CODES, RUN_ERROR_CODES, knownRunErrorCode, runErrorCodeOf, type ModelCallErrorCode, type RunErrorCode } from '../../contract/errors';
import { FailureType } from '../../contract/failures';
import { createLogger } from '../../shared/logger';
import { createStore } from '../../shared/store';
import { loadSqlite } from '../../shared/store/sqlite-binding';
import { describeModelError } from '../../activities/model/classify-error';
import { describeFailure } from '../../workflows/failures';

/** A real SqliteError, as a store call that failed throws it. */
function sqliteError(): Error {
  const db = new (loadSqlite())(':memory:');
  try {
    db.prepare('SELECT * FROM no_such_table').all();
  } catch (err) {
    return err as Error;
  } finally {
    db.close();
  }
  throw new Error('expected the query to fail');
}

/** The error an activity's caller sees when the activity threw `err` (Temporal carries its name as the type). */
const fromActivity = (err: unknown) => new ActivityFailure('activity failed', 'syncRunState', '1', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', ensureApplicationFailure(err));

describe('closed error codes', () => {
  it('a SqliteError thrown by an activity ends the run as internal, with its message', () => {
    const err = sqliteError();
    expect(err.name).toBe('SqliteError');
    expect(describeFailure(fromActivity(err))).toEqual({ code: 'internal', message: err.message });
    expect(describeFailure(fromActivity(new TypeError('x is undefined')))).toEqual({ code: 'internal', message: 'x is undefined' });
  });

  it('a failure Longhaul raises keeps its own code', () => {
    const failure = ApplicationFailure.nonRetryable('the model API key was refused', FailureType.ModelAuthError);
    expect(describeFailure(fromActivity(failure))).toEqual({ code: 'model_auth_error', message: 'the model API key was refused' });
    expect(runErrorCodeOf(FailureType.ModelCallExceedsRateLimit)).toBe('model_call_exceeds_rate_limit');
    expect(runErrorCodeOf(undefined)).toBe('internal');
  });

  it('every failure type has a snake_case code in the list, and nothing else is in it', () => {
    for (const type of Object.values(FailureType)) expect(RUN_ERROR_CODES).toContain(runErrorCodeOf(type));
    expect(RUN_ERROR_CODES).not.toContain('sqlite_error');
    expect(new Set(RUN_ERROR_CODES).size).toBe(RUN_ERROR_CODES.length);
    for (const code of RUN_ERROR_CODES) expect(code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    // Type-level: the union is closed.
    // @ts-expect-error a thrown error's name is not a run error code
    const named: RunErrorCode = 'sqlite_error';
    // @ts-expect-error nor a model call error code
    const modelNamed: ModelCallErrorCode = 'sqlite_error';
    expect([named, modelNamed]).toHaveLength(2);
  });

  it('a model call that failed with some other error says error, not its name', () => {
    const described = describeModelError(sqliteError());
    expect(described.code).toBe('error');
    expect(MODEL_CALL_ERROR_CODES).toContain(described.code);
  });

  it('the API answers a SqliteError as a 500 internal, with no detail of it', () => {
    let status = 0;
    let body: unknown;
    const res = { headersSent: false, status: (s: number) => ((status = s), res), json: (b: unknown) => ((body = b), res) } as unknown as Response;
    errorHandler(createLogger({ level: 'silent' }))(sqliteError(), { method: 'GET', path: '/api/runs/x' } as Request, res, () => undefined);
    expect(status).toBe(500);
    expect(body).toEqual({ error: { code: 'internal', message: 'internal error' } });
  });

  it('a code stored before codes were closed reads as internal', async () => {
    expect(knownRunErrorCode('sqlite_error')).toBe('internal');
    expect(knownRunErrorCode('limit_exceeded')).toBe('limit_exceeded');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-codes-'));
    const store = await createStore({ dataDir: dir });
    try {
      await store.runs.insert({ id: 'run_old', owner: 'local', goal: 'g', model: 'demo', approvals: 'none', limits: { maxSteps: 1, maxCostUsd: 1, maxDurationSec: 60 }, metadata: null, idempotencyKey: null });
      const stored = { code: 'sqlite_error', message: 'no such table: x' } as unknown as { code: RunErrorCode; message: string };
      await store.runs.updateState('run_old', { status: 'failed', statusDetail: null, error: stored, ended: true });
      expect((await store.runs.get('run_old'))?.error).toEqual({ code: 'internal', message: 'no such table: x' });
      await store.events.append('run_old', [{ key: 'failed', type: 'run.failed', data: { error: stored } }]);
      const [failed] = await store.events.list('run_old', { after: 0, limit: 10 });
      expect(failed).toMatchObject({ type: 'run.failed', data: { error: { code: 'internal', message: 'no such table: x' } } });
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
