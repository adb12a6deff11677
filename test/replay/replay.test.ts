/**
 * Determinism: histories recorded from real integration runs (test/fixtures/histories) replay
 * against today's workflow code. A change that would break runs already in flight fails here;
 * make such changes compatible with patched() instead of re-recording.
 */
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { workflowBundlePath } from '../support/workflow-bundle-cache';

const FIXTURES = path.join(__dirname, '..', 'fixtures', 'histories');

/** Every recorded history, from every recording (one folder per recording date). */
function loadFixtures() {
  return fs
    .readdirSync(FIXTURES, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({ file: path.basename(file), workflowId: file, history: historyFromJSON(JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'))) }));
}

describe('workflow replay', () => {
  it('replays every recorded history with the current workflow code', async () => {
    const fixtures = loadFixtures();
    // Enough, and varied enough, that passing means something.
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
    const kinds = new Set(fixtures.flatMap((f) => f.history.events!.map((e) => e.eventType)));
    expect(kinds.size).toBeGreaterThanOrEqual(15);

    const failures: string[] = [];
    const results = Worker.runReplayHistories(
      { workflowBundle: { codePath: await workflowBundlePath() } },
      fixtures.map(({ workflowId, history }) => ({ workflowId, history })),
    );
    let replayed = 0;
    for await (const result of results) {
      replayed += 1;
      if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
    }
    expect(failures).toEqual([]);
    expect(replayed).toBe(fixtures.length);
  });

  it('catches a change that is not replay-safe', async () => {
    // A workflow whose first step differs from the recorded one must be reported, not pass silently.
    const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./fixtures/incompatible-workflows') });
    const [first] = loadFixtures().filter((f) => f.file.startsWith('demo-run'));
    expect(first).toBeDefined();
    const results = Worker.runReplayHistories({ workflowBundle: { code } }, [{ workflowId: first!.workflowId, history: first!.history }]);
    const replayed = [];
    for await (const result of results) replayed.push(result);
    // Exactly the one history, reported as what it is: a command the recorded history does not have where it has
    // another (the timer where the run first scheduled an activity).
    expect(replayed).toHaveLength(1);
    const [{ workflowId, error }] = replayed as [(typeof replayed)[number]];
    expect(workflowId).toBe(first!.workflowId);
    expect(error).toBeInstanceOf(DeterminismViolationError);
    expect(error!.message).toMatch(/\[TMPRL1100\] Nondeterminism error: Timer machine does not handle this event: HistoryEvent\(id: \d+, ActivityTaskScheduled\)/);
  });
});
