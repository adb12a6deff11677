/**
 * Every ordinary activity heartbeats for its whole attempt (activities/heartbeat.ts), not only while the model
 * streams or the tool works: a wait before that (a pooled connection, a slow read) longer than the heartbeat
 * timeout would otherwise lose the attempt on a live worker.
 */
import { MockActivityEnvironment } from '@temporalio/testing';
import { heartbeatingThroughout } from '../../activities/heartbeat';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function beatsOf(env: MockActivityEnvironment): { count: number } {
  const beats = { count: 0 };
  env.on('heartbeat', () => (beats.count += 1));
  return beats;
}

describe('heartbeatingThroughout', () => {
  const acts = heartbeatingThroughout({ wait: async ({ ms }: { ms: number }) => (await sleep(ms), 'done') });

  it('beats through a wait of several heartbeat intervals, and not after the attempt ends', async () => {
    // On the test's own clock: a busy machine's late timers (CI) made real ones miss beats.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
      const beats = beatsOf(env);
      const done = env.run(acts.wait, { ms: 550 });
      await jest.advanceTimersByTimeAsync(550);
      expect(await done).toBe('done');
      expect(beats.count).toBe(5); // every 100 ms: a third of the timeout
      await jest.advanceTimersByTimeAsync(250);
      expect(beats.count).toBe(5);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends nothing for an attempt that ends before the first beat is due', async () => {
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 3_000 });
    const beats = beatsOf(env);
    await env.run(acts.wait, { ms: 5 });
    expect(beats.count).toBe(0);
  });

  it('leaves local activities and activities scheduled with no heartbeat timeout alone', async () => {
    const local = new MockActivityEnvironment({ heartbeatTimeoutMs: 300, isLocal: true });
    const untimed = new MockActivityEnvironment({ heartbeatTimeoutMs: undefined });
    const beats = [beatsOf(local), beatsOf(untimed)];
    await Promise.all([local.run(acts.wait, { ms: 350 }), untimed.run(acts.wait, { ms: 350 })]);
    expect(beats.map((b) => b.count)).toEqual([0, 0]);
  });

  it('stops beating when the attempt fails', async () => {
    const failing = heartbeatingThroughout({ fail: async () => (await sleep(150), Promise.reject(new Error('no'))) });
    const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 300 });
    const beats = beatsOf(env);
    await expect(env.run(failing.fail, {})).rejects.toThrow('no');
    const atEnd = beats.count;
    await sleep(250);
    expect(beats.count).toBe(atEnd);
  });
});
