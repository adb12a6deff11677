/** Values global-setup publishes to every suite through the environment. */
import path from 'node:path';

export const ARTIFACTS_DIR = path.join(__dirname, '..', '.artifacts');

export function testEnv(): { temporalAddress: string; workflowBundlePath: string; postgresUrl: string; temporalCli: string } {
  const temporalAddress = process.env.LONGHAUL_TEST_TEMPORAL_ADDRESS;
  const workflowBundlePath = process.env.LONGHAUL_TEST_WORKFLOW_BUNDLE;
  const postgresUrl = process.env.LONGHAUL_TEST_POSTGRES_URL;
  const temporalCli = process.env.LONGHAUL_TEST_TEMPORAL_CLI ?? '';
  if (!temporalAddress || !workflowBundlePath || !postgresUrl) {
    throw new Error('test environment missing: run the tests through jest (npm test) so global-setup runs');
  }
  return { temporalAddress, workflowBundlePath, postgresUrl, temporalCli };
}
