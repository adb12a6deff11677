/**
 * Temporal's time-skipping test server for workflow tests: timers fire as soon as nothing else is pending, so a
 * day-long approval expiry takes milliseconds. The SDK would download the server from a host this machine cannot
 * reach; scripts/temporal-test-server.js builds the same server from Maven Central, and the SDK runs that
 * (`existing-path`).
 */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { findTemporalTestServer } from '../../scripts/temporal-test-server';

export async function createTimeSkippingEnv(): Promise<TestWorkflowEnvironment> {
  const path = findTemporalTestServer();
  if (!path) {
    throw new Error('no Temporal test server: install Java 17+ and Maven, run `node scripts/temporal-test-server.js`, or set TEMPORAL_TEST_SERVER');
  }
  return TestWorkflowEnvironment.createTimeSkipping({ server: { executable: { type: 'existing-path', path } } });
}
