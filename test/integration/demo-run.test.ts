import { startHarness, type Harness } from '../support/harness';

describe('a demo run, end to end on the dev server', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('completes a multi-tool run with the offline demo model and records its events', async () => {
    const id = await h.createRun({ goal: 'Write a plan for a picnic [demo]', approvals: 'none' });

    const done = await h.waitForStatus(id, ['completed', 'failed']);
    expect(done.status).toBe('completed');
    expect(done.model).toBe('demo');
    expect(done.result).toContain('plan.md');

    const events = await h.events(id);
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('run.queued');
    expect(types).toContain('run.started');
    expect(types.filter((t) => t === 'tool.completed')).toHaveLength(3);
    expect(types[types.length - 1]).toBe('run.completed');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
  });
});
