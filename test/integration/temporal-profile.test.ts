/**
 * A worker that finds Temporal through a profile of Temporal's client config file (envconfig), with
 * no TEMPORAL_ADDRESS at all: it connects and runs a run. (The profile parsing — TLS, API key, gRPC
 * metadata — is checked in test/unit/config.test.ts; no TLS frontend runs here.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import { startWorkerProcess, type ChildHandle } from '../support/processes';
import { testEnv } from '../support/test-env';

describe('Temporal connection from a profile', () => {
  let h: Harness;
  let dir: string;
  const children: ChildHandle[] = [];
  beforeAll(async () => {
    h = await startHarness({ noWorker: true });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'longhaul-profile-'));
  });
  afterAll(async () => {
    for (const c of children) await c.kill('SIGKILL');
    await h.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('runs a run on a worker connected through TEMPORAL_PROFILE and TEMPORAL_CONFIG_FILE alone', async () => {
    const file = path.join(dir, 'temporal.toml');
    fs.writeFileSync(file, `[profile.local]\naddress = "${testEnv().temporalAddress}"\nnamespace = "${h.config.temporal.namespace}"\n[profile.local.grpc_meta]\nx-longhaul-test = "profile"\n`);
    const worker = await startWorkerProcess({ ...h.env, TEMPORAL_ADDRESS: '', TEMPORAL_NAMESPACE: '', TEMPORAL_PROFILE: 'local', TEMPORAL_CONFIG_FILE: file }, { plain: true });
    children.push(worker);
    expect(worker.output()).toContain(`"address":"${testEnv().temporalAddress}"`); // the resolved config it logged at start
    const id = await h.createRun({ goal: 'Through a profile', model: 'demo', approvals: 'none' });
    expect((await h.waitForStatus(id, 'completed')).status).toBe('completed');
  });
});
