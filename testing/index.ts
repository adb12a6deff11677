/**
 * `longhaul/testing`: test an agent offline, on the real workflow and activities, with a scripted model.
 *
 *   const env = await createTestEnvironment({ worker, model: scriptedModel([...answers]) });
 *   const run = await env.startRun({ goal: '...' });
 *   await run.waitForApproval(); await run.approve();
 *   const { output } = await run.result();
 *   await env.close();
 *
 * docs/agents.md ("Testing your agent") explains it all.
 */
export { createTestEnvironment, TEST_USER, type StartRunOptions, type TestConfig, type TestEnvironment, type TestEnvironmentOptions } from './test-environment';
export { scriptedModel, type ModelRequestRecord, type ScriptedAnswer, type ScriptedAnswerFunction, type ScriptedModel, type ScriptedToolCall } from './scripted-model';
export { RunFailedError, TestRun, type PendingQuestion, type RunOutcome, type ToolCallRecord, type WaitOptions } from './test-run';
export type { TestServerKind } from './test-temporal';
export { ApiError } from '../api/errors';
