/**
 * The Temporal server a test environment runs on: Temporal's time-skipping test server (the default; a
 * day-long wait passes in milliseconds), or a dev server (`temporal server start-dev`) when a test wants the
 * real server's behaviour and real time. Each environment starts its own and stops it at close.
 *
 * Where the servers come from, without asking: the time-skipping server from $TEMPORAL_TEST_SERVER, else the
 * one `node scripts/temporal-test-server.js` built into Longhaul's cache, else the Temporal SDK downloads it;
 * the dev server from $TEMPORAL_CLI, `temporal` on PATH or ~/go/bin/temporal, else the SDK downloads it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { SEARCH_ATTRIBUTES } from '../contract/search-attributes';
import { startDevServer } from '../shared/temporal/dev-server';
import { findTemporalTestServer } from '../scripts/temporal-test-server';
import { realTime, timeSkipping, type TimeControl } from './time-control';
import { freePort } from '../shared/net/free-port';

export type TestServerKind = 'time-skipping' | 'dev';

export interface TestTemporal {
  kind: TestServerKind;
  address: string;
  namespace: string;
  time: TimeControl;
  stop(): Promise<void>;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Temporal CLI, if one is at hand (nothing is built or downloaded here). */
function findTemporalCli(): string | undefined {
  const fromEnv = (process.env.TEMPORAL_CLI ?? '').trim();
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    return fromEnv;
  }
  const candidates = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((dir) => path.join(dir, 'temporal')), path.join(os.homedir(), 'go', 'bin', 'temporal')];
  return candidates.find(isExecutable);
}

/**
 * Tries at starting the time-skipping server. The SDK gives it 5 s to answer, then kills it and fails "did not start
 * within 5s"; a loaded machine (a CI runner running many suites) can take longer, and the next try usually does not.
 */
const TIME_SKIPPING_START_TRIES = 3;

async function startTimeSkipping(): Promise<TestTemporal> {
  // Never builds (that needs Maven and a download): an existing server, else the SDK's own download.
  const existing = findTemporalTestServer({ build: false });
  const options = existing ? { server: { executable: { type: 'existing-path' as const, path: existing } } } : {};
  let env: TestWorkflowEnvironment;
  for (let attempt = 1; ; attempt += 1) {
    try {
      env = await TestWorkflowEnvironment.createTimeSkipping(options);
      break;
    } catch (err) {
      // The SDK killed the server that did not answer in time: nothing is left running to clean up.
      if (attempt >= TIME_SKIPPING_START_TRIES || !/did not start within/.test(String(err))) throw err;
    }
  }
  const namespace = env.namespace ?? 'default';
  try {
    // Runs stamp their status and owner as search attributes, which the server must know (the dev server is
    // told at start). The test server can add them, but not list them as ensureSearchAttributes would.
    const { INDEXED_VALUE_TYPE_KEYWORD, INDEXED_VALUE_TYPE_DATETIME } = temporal.api.enums.v1.IndexedValueType;
    await env.connection.operatorService.addSearchAttributes({
      namespace,
      searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTES.map((a) => [a.name, a.type === 'KEYWORD' ? INDEXED_VALUE_TYPE_KEYWORD : INDEXED_VALUE_TYPE_DATETIME])),
    });
  } catch (err) {
    await env.teardown();
    throw err;
  }
  return { kind: 'time-skipping', address: env.address, namespace, time: timeSkipping(env.connection), stop: () => env.teardown() };
}

async function startDev(): Promise<TestTemporal> {
  const server = await startDevServer({ port: await freePort(), uiPort: 0, cliPath: findTemporalCli() });
  return { kind: 'dev', address: server.address, namespace: 'default', time: realTime, stop: () => server.stop() };
}

export function startTestTemporal(kind: TestServerKind): Promise<TestTemporal> {
  return kind === 'dev' ? startDev() : startTimeSkipping();
}
