/**
 * Faults under the load of test/support/agent-load.ts (issue 26, "Scale out" and "Faults under load"), shared by the
 * `scale-out` bench and its integration test: the check that every run of the load ended once with each of its model
 * and tool calls done once, the API probed while the database is away, and how soon runs moved again after a fault.
 */
import type { RunEvent } from '../../contract/events';
import { ledgerKeys } from '../../contract/keys';
import type { Store } from '../../shared/store';
import { loadTurns, type LoadShape } from './agent-load';
import type { CountingServer } from './counting-server';
import type { FakeRequest } from './fake-anthropic';
import type { LiveClient, ServerMessage } from './live-client';

/** One streaming run of the load: its id and its index (`loadGoal('streaming', index)`). */
export interface LoadRun {
  id: string;
  index: number;
}

export interface OnceReport {
  runs: number;
  completedOnce: number;
  modelCalls: number;
  toolCalls: number;
  /** Model calls the fake answered more than once (a stream cut off and asked again), and those whose *whole* answer went out twice: a paid-for response paid again. */
  modelCallsAskedAgain: number;
  modelCallsAnsweredInFullTwice: number;
  /** Ledger entries (model and tool) that took more than one attempt: retried, and kept to once by the ledger. */
  ledgerRetried: number;
  /** Tool effects sent to the outside system more than once under the same key (deduplicated there), and applied. */
  effectsResent: number;
  effectsApplied: number;
  /** Everything that is not once: a run not completed once, an event gap or repeat, a ledger entry missing or extra, an effect applied twice or missing. */
  problems: string[];
}

/**
 * Every run of the load completed exactly once, and each of its model calls and tool calls happened once: stored
 * events seq 1…n with one `run.completed`; a completed ledger entry for each planned model turn (none beyond) and for
 * each tool call; one effect applied at the outside system per tool call (its key is the ledger key). `requests`:
 * what the fake received for these runs (each request's goal names the run's index; `abandoned` when the client cut
 * the stream).
 */
export async function checkRunsOnce(args: {
  store: Store;
  shape: LoadShape;
  runs: LoadRun[];
  requests: FakeRequest[];
  effects: CountingServer;
  markerOf: (goal: string) => string | undefined;
}): Promise<OnceReport> {
  const { store, shape, runs, requests, effects } = args;
  const report: OnceReport = {
    runs: runs.length,
    completedOnce: 0,
    modelCalls: 0,
    toolCalls: 0,
    modelCallsAskedAgain: 0,
    modelCallsAnsweredInFullTwice: 0,
    ledgerRetried: 0,
    effectsResent: 0,
    effectsApplied: 0,
    problems: [],
  };
  const asked = new Map<string, FakeRequest[]>();
  for (const r of requests) {
    const key = `${args.markerOf(r.goal)}:${r.assistantTurns}`;
    asked.set(key, [...(asked.get(key) ?? []), r]);
  }
  const sentByKey = new Map<string, number>();
  for (const r of effects.requests) if (r.idempotencyKey) sentByKey.set(r.idempotencyKey, (sentByKey.get(r.idempotencyKey) ?? 0) + 1);
  const appliedByKey = new Map<string, number>();
  for (const r of effects.applied) if (r.idempotencyKey) appliedByKey.set(r.idempotencyKey, (appliedByKey.get(r.idempotencyKey) ?? 0) + 1);

  for (const { id, index } of runs) {
    const events = await store.events.list(id, { after: 0, limit: 100_000 });
    const seqs = events.map((e) => e.seq);
    if (seqs.some((s, i) => s !== i + 1)) report.problems.push(`${id}: events not seq 1…${events.length} (${seqs.join(',')})`);
    const completed = events.filter((e) => e.type === 'run.completed').length;
    if (completed === 1) report.completedOnce++;
    else report.problems.push(`${id}: ${completed} run.completed events`);

    const turns = loadTurns(shape, index);
    for (let turn = 1; turn <= turns; turn++) {
      const entry = await store.effects.get(ledgerKeys.modelCall(id, turn));
      if (entry?.status !== 'completed') report.problems.push(`${id}: model call of turn ${turn} is ${entry?.status ?? 'not in the ledger'}`);
      else report.modelCalls++;
      if ((entry?.attempts ?? 0) > 1) report.ledgerRetried++;
      const fakeAsked = asked.get(`load-s${index}:${turn - 1}`) ?? [];
      if (fakeAsked.length === 0) report.problems.push(`${id}: the fake never received turn ${turn}'s model call`);
      if (fakeAsked.length > 1) report.modelCallsAskedAgain++;
      if (fakeAsked.filter((r) => !r.abandoned).length > 1) report.modelCallsAnsweredInFullTwice++;
    }
    if (await store.effects.get(ledgerKeys.modelCall(id, turns + 1))) report.problems.push(`${id}: a model call beyond the planned ${turns} turns`);

    const toolDone = events.filter((e): e is Extract<RunEvent, { type: 'tool.completed' }> => e.type === 'tool.completed');
    if (toolDone.length !== turns - 1) report.problems.push(`${id}: ${toolDone.length} tool.completed events, planned ${turns - 1}`);
    for (const e of toolDone) {
      const key = ledgerKeys.toolCall(id, e.data.turn, e.data.toolUseId);
      const entry = await store.effects.get(key);
      if (entry?.status !== 'completed') report.problems.push(`${id}: tool call ${key} is ${entry?.status ?? 'not in the ledger'}`);
      else report.toolCalls++;
      if ((entry?.attempts ?? 0) > 1) report.ledgerRetried++;
      const applied = appliedByKey.get(key) ?? 0;
      if (applied !== 1) report.problems.push(`${id}: tool call ${key}'s effect applied ${applied} times`);
      else report.effectsApplied++;
      if ((sentByKey.get(key) ?? 0) > 1) report.effectsResent++;
    }
    const keysOfRun = [...appliedByKey.keys()].filter((k) => k.startsWith(`${id}:`));
    if (keysOfRun.length !== toolDone.length) report.problems.push(`${id}: ${keysOfRun.length} distinct effects at the outside system for ${toolDone.length} tool calls`);
  }
  return report;
}

/** A socket's view checked against the store: no violation (gap, repeat, disorder), every stored event seen once, the end seen. */
export async function checkWatcher(store: Store, client: LiveClient): Promise<string[]> {
  const id = (client.messages.find((m) => m.type === 'event') as Extract<ServerMessage, { type: 'event' }> | undefined)?.runId;
  if (!id) return ['a watcher saw no event'];
  const problems = client.violations.map((v) => `watcher of ${id}: ${v}`);
  const stored = await store.events.list(id, { after: 0, limit: 100_000 });
  const seen = client.events(id);
  if (JSON.stringify(seen) !== JSON.stringify(stored)) problems.push(`watcher of ${id}: saw ${seen.length} events, the store holds ${stored.length} (or they differ)`);
  return problems;
}

/** The API's answers while the database is away, counted by `<status> <error code>`; `failures`: every answer that is not a 503 store_unavailable with Retry-After. */
export interface OutageProbe {
  answers: Record<string, number>;
  failures: string[];
}

type Request = (method: string, path: string, opts?: { body?: unknown }) => Promise<{ status: number; headers: Headers; body: any }>;

/** The requests a client makes of a run while the database is away: reads, a start, a decision (on a run not waiting: still must not be a 500). */
export function outageRequests(runId: string): [string, string, unknown][] {
  return [
    ['GET', '/api/runs', undefined],
    ['GET', `/api/runs/${runId}`, undefined],
    ['GET', `/api/runs/${runId}/events?limit=100`, undefined],
    ['GET', '/api/inbox', undefined],
    ['POST', '/api/runs', { goal: 'started during the outage', model: 'demo' }],
    ['POST', `/api/runs/${runId}/input`, { text: 'during the outage' }],
  ];
}

/** Sends `requests` round after round until `until` resolves; what came back. */
export async function probeDuringOutage(request: Request, requests: [string, string, unknown][], until: Promise<unknown>): Promise<OutageProbe> {
  const probe: OutageProbe = { answers: {}, failures: [] };
  let over = false;
  void until.then(() => (over = true));
  while (!over) {
    for (const [method, path, body] of requests) {
      let answer: string;
      try {
        const res = await request(method, path, { body });
        answer = `${res.status} ${res.body?.error?.code ?? ''}`.trim();
        if (res.status !== 503 || res.body?.error?.code !== 'store_unavailable' || !res.headers.get('retry-after')) probe.failures.push(`${method} ${path}: ${answer}`);
      } catch (err) {
        answer = `no answer (${err instanceof Error ? err.message : String(err)})`;
        probe.failures.push(`${method} ${path}: ${answer}`);
      }
      probe.answers[answer] = (probe.answers[answer] ?? 0) + 1;
      if (over) break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return probe;
}

/**
 * How long each run still going at `faultEnd` (epoch ms: the kill, or the database back) took to move again: its
 * first stored event after then. Runs that had ended by then are left out.
 */
export async function resumeAfter(store: Store, runs: LoadRun[], faultEnd: number): Promise<number[]> {
  const out: number[] = [];
  for (const { id } of runs) {
    const events = await store.events.list(id, { after: 0, limit: 100_000 });
    const end = events.find((e) => e.type === 'run.completed');
    if (end && Date.parse(end.at) <= faultEnd) continue;
    const next = events.find((e) => Date.parse(e.at) > faultEnd);
    if (next) out.push(Date.parse(next.at) - faultEnd);
  }
  return out;
}
