/** The lint zones that keep the layers' arrows pointing down really reject what they should. */
import { lintAs } from '../support/lint-as';

describe('layering lint', () => {
  it.each([
    ['activities/lint-probe.ts', "import { describeFailure } from '../workflows/failures'; export const f = describeFailure;"],
    ['activities/lint-probe.ts', "import type { RunContext } from '../workflows/run-context'; export type C = RunContext;"],
    ['activities/model/lint-probe.ts', "import { errorHandler } from '../../api/errors'; export const e = errorHandler;"],
    ['shared/temporal/lint-probe.ts', "import { findTemporalCli } from '../../scripts/temporal-cli'; export const f = findTemporalCli;"],
    ['shared/lint-probe.ts', "import { createActivities } from '../activities'; export const a = createActivities;"],
    ['api/lint-probe-service.ts', "import { runsRouter } from './routes/runs'; export const r = runsRouter;"],
    ['api/live/lint-probe.ts', "import { runsRouter } from '../routes/runs'; export const r = runsRouter;"],
  ])('rejects in %s: %s', async (file, code) => {
    expect((await lintAs(file, code)).some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
  });

  it('lets activities and shared/ build on the contract, and routes on services', async () => {
    expect(await lintAs('activities/lint-probe.ts', "import type { RunToolArgs } from '../contract/activity-io'; import { eventKeys } from '../contract/keys'; export const k = eventKeys; export type A = RunToolArgs;")).toEqual([]);
    expect(await lintAs('shared/store/lint-probe.ts', "import { knownRunErrorCode } from '../../contract/errors'; export const k = knownRunErrorCode;")).toEqual([]);
    expect(await lintAs('api/routes/lint-probe.ts', "import type { RunService } from '../run-service'; export type S = RunService;")).toEqual([]);
  });

  it('lets workflows import the contract error codes and activity arguments', async () => {
    expect(await lintAs('workflows/lint-probe.ts', "import { runErrorCodeOf } from '../contract/errors'; import type { Verdict } from '../contract/activity-io'; export const c = runErrorCodeOf; export type V = Verdict;")).toEqual([]);
  });
});
