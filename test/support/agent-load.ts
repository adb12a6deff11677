/**
 * A realistic agent workload on the fake Messages API (issue 26), for the `load` bench and its
 * scaled-down integration test: every turn streams its text after a time to first token at a
 * steady token rate, then asks for a tool that takes its time (`slow_step`, test/support/test-tools.ts),
 * until the run's last turn answers. Some runs instead wait for a person: an approval (a
 * `workspace_write`, under `approvals: 'write'`) or a question (`ask_user`), then answer once decided.
 *
 * Everything is drawn from a seeded generator keyed by the run's marker and turn, so a model call
 * retried by Temporal gets the same answer, and a run of the bench can be repeated exactly.
 */
import type { FakeAnthropic, FakeReply, FakeRequest } from './fake-anthropic';
import { seededRandom } from './random';

/** What a run does: streams its turns, or parks on an approval or a question first. */
export type LoadRunKind = 'streaming' | 'approval' | 'question';

export interface LoadShape {
  /** Time to first token, ms: drawn uniformly from [min, max]. */
  firstTokenMs: [number, number];
  tokensPerSecond: number;
  /** Output tokens of each turn's text. */
  outputTokens: [number, number];
  /** Model turns of a streaming run, its final answer included. */
  turns: [number, number];
  /** How long each tool call works, ms. */
  toolMs: [number, number];
  /** Tokens per text delta (the real API sends a few at a time). */
  tokensPerDelta: number;
  seed: number;
}

/** The workload, as the real API behaves under load. */
export const REALISTIC_LOAD: LoadShape = {
  firstTokenMs: [500, 2000],
  tokensPerSecond: 50,
  outputTokens: [200, 1000],
  turns: [5, 20],
  toolMs: [10, 2000],
  tokensPerDelta: 3,
  seed: 26,
};

/** The same workload shortened in time (first token, token rate, tools) and turns, not in kind: for CI and smoke runs. */
export const QUICK_LOAD: LoadShape = { firstTokenMs: [20, 150], tokensPerSecond: 2000, outputTokens: [20, 120], turns: [2, 6], toolMs: [1, 60], tokensPerDelta: 3, seed: 2026 };

/** Every load run's goal carries this, then its kind's letter and its number: `[load-s12]`. */
export const LOAD_MARKER = '[load-';
const KIND_LETTER: Record<LoadRunKind, string> = { streaming: 's', approval: 'a', question: 'q' };
const MARKER = /\[load-([saq])(\d+)\]/;

export function loadGoal(kind: LoadRunKind, index: number): string {
  return `Work through task ${index} ${LOAD_MARKER}${KIND_LETTER[kind]}${index}]`;
}

/** The marker of a load run's goal (`load-s12`), or undefined. */
export function loadMarkerOf(goal: string): string | undefined {
  const m = MARKER.exec(goal);
  return m ? `load-${m[1]}${m[2]}` : undefined;
}

/** A stable 32-bit seed from the shape's seed and a key. */
function seedOf(seed: number, key: string): number {
  let h = seed >>> 0;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function between(random: () => number, [min, max]: [number, number]): number {
  return Math.round(min + random() * (max - min));
}

/** How many model turns a streaming run takes (its final answer included). */
export function loadTurns(shape: LoadShape, index: number): number {
  return between(seededRandom(seedOf(shape.seed, `turns:${index}`)), shape.turns);
}

/** Text of `tokens` tokens (4 characters each, as the fake counts them). */
function text(tokens: number, turn: number): string {
  const word = `t${turn} w `.padEnd(4, ' ').slice(0, 4);
  return word.repeat(tokens);
}

/** The fake's answer to one model call of a load run. */
export function loadReply(shape: LoadShape, goal: string, turn: number): FakeReply {
  const m = MARKER.exec(goal);
  if (!m) return { text: 'not a load run' };
  const [letter, index] = [m[1]!, Number(m[2])];
  const random = seededRandom(seedOf(shape.seed, `${letter}${index}:${turn}`));
  const tokens = between(random, shape.outputTokens);
  const paced = { firstTokenMs: between(random, shape.firstTokenMs), tokensPerSecond: shape.tokensPerSecond, chunkChars: shape.tokensPerDelta * 4 };
  const usage = { input_tokens: 1000 + 400 * turn, output_tokens: tokens };
  const last = (t: number): FakeReply => ({ ...paced, text: text(tokens, t), usage });
  if (letter === 'a') {
    // Parks at once on a write that needs approval, then answers.
    return turn === 0 ? { text: 'Saving the report.', toolUses: [{ name: 'workspace_write', input: { path: `report-${index}.md`, content: 'report' } }], usage: { input_tokens: 1000, output_tokens: 20 } } : last(turn);
  }
  if (letter === 'q') {
    return turn === 0 ? { text: 'One question first.', toolUses: [{ name: 'ask_user', input: { question: `Which way for task ${index}?` } }], usage: { input_tokens: 1000, output_tokens: 20 } } : last(turn);
  }
  if (turn >= loadTurns(shape, index) - 1) return last(turn);
  return { ...paced, text: text(tokens, turn), usage, toolUses: [{ name: 'slow_step', input: { ms: between(random, shape.toolMs), label: `${index}:${turn}` } }] };
}

/** Answers every load run's model calls on `fake` with `shape`. */
export function scriptLoad(fake: FakeAnthropic, shape: LoadShape): void {
  fake.script(LOAD_MARKER, (req: FakeRequest) => loadReply(shape, req.goal, req.assistantTurns));
}
