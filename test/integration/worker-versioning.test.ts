/**
 * Worker Deployment Versioning, as a rolling deploy does it: workers of build v1 run a run; build
 * v2's workers start and v2 is made current; v1's worker drains and stops; the run — waiting for a
 * human meanwhile — moves to v2 at its next task (auto-upgrade) and completes there.
 */
import crypto from 'node:crypto';
import { temporal } from '@temporalio/proto';
import { FakeAnthropic } from '../support/fake-anthropic';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { waitFor } from '../support/wait';

describe('worker deployment versioning', () => {
  const fake = new FakeAnthropic();
  let h: Harness;
  const children: ChildHandle[] = [];
  const deploymentName = `longhaul-test-${crypto.randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    await fake.start();
    h = await startHarness({ noWorker: true, env: { ANTHROPIC_API_KEY: fake.apiKey, ANTHROPIC_BASE_URL: fake.url, LLM_MODEL: 'claude-sonnet-5-5' } });
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await h.close();
    await fake.stop();
  });

  async function versionedWorker(buildId: string): Promise<ChildHandle> {
    const w = await startWorkerProcess({ ...h.env, WORKER_VERSIONING: 'true', WORKER_DEPLOYMENT_NAME: deploymentName, WORKER_BUILD_ID: buildId }, { plain: true });
    children.push(w);
    return w;
  }

  /** What an operator does with `temporal worker deployment set-current-version`, once the version's workers poll. */
  async function makeCurrent(buildId: string): Promise<void> {
    await waitFor(
      async () => {
        try {
          await h.client.workflowService.setWorkerDeploymentCurrentVersion({ namespace: h.config.temporal.namespace, deploymentName, buildId, identity: 'test' });
          return true;
        } catch {
          return false; // the version is not registered until its workers have polled
        }
      },
      { what: `${deploymentName}:${buildId} to become current` },
    );
  }

  async function versioningOf(id: string) {
    const { workflowExecutionInfo } = await h.client.workflowService.describeWorkflowExecution({ namespace: h.config.temporal.namespace, execution: { workflowId: id } });
    const info = workflowExecutionInfo?.versioningInfo;
    return { buildId: info?.deploymentVersion?.buildId, behavior: info?.behavior };
  }

  it('moves a waiting run from the drained version to the new current one, where it completes', async () => {
    const v1 = await versionedWorker('v1');
    await makeCurrent('v1');
    fake.script('[versioned]', (req) =>
      req.assistantTurns === 0 ? { toolUses: [{ name: 'workspace_write', input: { path: 'v.md', content: 'deployed' } }] } : { text: `Finished on the new build.` },
    );
    const id = await h.createRun({ goal: 'Outlive a deploy [versioned]', approvals: 'write' });
    const waiting = await h.waitForStatus(id, 'waiting_approval');
    expect(await versioningOf(id)).toEqual({ buildId: 'v1', behavior: temporal.api.enums.v1.VersioningBehavior.VERSIONING_BEHAVIOR_AUTO_UPGRADE });

    // The deploy: v2 up and current, v1 drained (SIGTERM) and gone.
    await versionedWorker('v2');
    await makeCurrent('v2');
    v1.child.kill('SIGTERM');
    expect(await v1.exited).toBe(0);

    await h.request('POST', `/api/runs/${id}/approvals/${waiting.pendingApprovals[0].approvalId}`, { body: { decision: 'approve' } });
    const done = await h.waitForStatus(id, 'completed', { timeoutMs: 60_000 });
    expect(done.result).toBe('Finished on the new build.');
    expect((await versioningOf(id)).buildId).toBe('v2');
  });
});
