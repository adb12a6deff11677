import { afterModelCall, modelCallRunsLocally, type ModelCallHistory } from '../../workflows/step-placement';

const start: ModelCallHistory = { previous: null, lastRoundTripAtMs: null };

describe('where a model call runs (fast steps)', () => {
  it('sends the first call of an execution through the server: nothing says yet how long calls take', () => {
    expect(modelCallRunsLocally(start, 1000)).toBe(false);
  });

  it('runs the next call locally after a fast remote call, and keeps doing so within the stretch', () => {
    let h = afterModelCall(start, { tookMs: 40, atMs: 10_000, local: false });
    expect(h.lastRoundTripAtMs).toBe(10_000);
    expect(modelCallRunsLocally(h, 1000)).toBe(true);
    h = afterModelCall(h, { tookMs: 30, atMs: 10_500, local: true });
    expect(h.lastRoundTripAtMs).toBe(10_000); // a local call is no round trip
    expect(modelCallRunsLocally(h, 1000)).toBe(true);
    // A second past the last round trip: the next call goes through the server, so signals get in.
    h = afterModelCall(h, { tookMs: 30, atMs: 11_000, local: true });
    expect(modelCallRunsLocally(h, 1000)).toBe(false);
    h = afterModelCall(h, { tookMs: 30, atMs: 11_050, local: false });
    expect(h.lastRoundTripAtMs).toBe(11_050);
    expect(modelCallRunsLocally(h, 1000)).toBe(true);
  });

  it('keeps a run whose calls are slow on the server, where they heartbeat', () => {
    const h = afterModelCall(start, { tookMs: 4000, atMs: 10_000, local: false });
    expect(modelCallRunsLocally(h, 1000)).toBe(false);
    // A slow call that ran locally (it was expected fast) sends the next one back to the server too.
    const slowLocal = afterModelCall(afterModelCall(start, { tookMs: 10, atMs: 1_000, local: false }), { tookMs: 1500, atMs: 1_600, local: true });
    expect(modelCallRunsLocally(slowLocal, 1000)).toBe(false);
  });

  it('never runs model calls locally when turned off, or for results recorded before calls were timed', () => {
    const h = afterModelCall(start, { tookMs: 5, atMs: 10_000, local: false });
    expect(modelCallRunsLocally(h, 0)).toBe(false);
    expect(modelCallRunsLocally(afterModelCall(start, { tookMs: undefined, atMs: 10_000, local: false }), 1000)).toBe(false);
  });
});
