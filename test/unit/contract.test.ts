/**
 * The contract is one typed thing: a misspelt event type, wrong event data, a misspelt failure type
 * or key builder is a compile error (`npm test` type-checks this file; each `@ts-expect-error`
 * fails the check if the line below it ever compiles). The runtime half checks the lists agree.
 */
import type { z } from 'zod';
import { runEventSchema } from '../../contract/api';
import { EVENT_TYPES, draft, type EventDraft, type RunEvent } from '../../contract/events';
import { FailureType } from '../../contract/failures';
import { eventKeys, ledgerKeys, messageKeys } from '../../contract/keys';
import { DECISION_OUTCOME, INPUT_PREVIEW_CHARS, inputPreview, isCutInputPreview } from '../../contract/run';

/** Never called: it exists to be type-checked. Each line under `@ts-expect-error` must not compile. */
function compileTimeChecks(): unknown[] {
  const ok: EventDraft = { key: eventKeys.completed(), type: 'run.completed', data: { turns: 2, usage: { inputTokens: 1, outputTokens: 1, costUsd: 0 } } };
  // @ts-expect-error a misspelt event type
  const misspelt: EventDraft = { key: 'k', type: 'run.complete', data: { turns: 2 } };
  // @ts-expect-error data of another event type
  const wrongData: EventDraft = { key: 'k', type: 'run.failed', data: { turns: 2 } };
  // @ts-expect-error a limit that does not exist
  const wrongLimit = draft('k', 'limit.exceeded', { limit: 'maxTokens', value: 1 });
  // @ts-expect-error a failure type that does not exist
  const noSuchFailure: string = FailureType.EffectsInDoubt;
  // @ts-expect-error a key builder that does not exist
  const noSuchKey = eventKeys.finished();
  const reader = (e: RunEvent): number | undefined => {
    // @ts-expect-error data is only readable once the type is narrowed
    const unnarrowed: number = e.data.turn;
    void unnarrowed;
    return e.type === 'llm.message' ? e.data.turn : undefined;
  };
  return [ok, misspelt, wrongData, wrongLimit, noSuchFailure, noSuchKey, reader];
}
void compileTimeChecks;

describe('the contract', () => {
  it('builds the same keys that runs already store', () => {
    expect(ledgerKeys.modelCall('run_1', 3)).toBe('run_1:turn:3:model');
    expect(ledgerKeys.toolCall('run_1', 3, 'toolu_9')).toBe('run_1:turn:3:tool:toolu_9');
    expect(ledgerKeys.summary('run_1', 2)).toBe('run_1:segment:2:summary');
    expect(messageKeys.assistant(4)).toBe('assistant:4');
    expect(messageKeys.toolResult('toolu_9')).toBe('tool_result:toolu_9');
    expect(eventKeys.limitExceeded('maxSegments', 6)).toBe('limit.exceeded:maxSegments:6');
    expect(eventKeys.paused(1, 2, 3)).toBe('run.paused:1:2:3');
  });

  it('has one schema per event type, and maps each decision word to one outcome', () => {
    const members = (runEventSchema as unknown as z.ZodDiscriminatedUnion).options.map((o) => (o as z.ZodObject).shape.type.value);
    expect(members).toEqual([...EVENT_TYPES]);
    expect(DECISION_OUTCOME).toEqual({ approve: 'approved', reject: 'rejected', expire: 'expired' });
  });

  it('previews a tool input whole when short and cut, saying so, when long (progress, events and the inbox carry it)', () => {
    const short = { path: 'a.txt', content: 'hello' };
    expect(inputPreview(short)).toBe(short);
    expect(isCutInputPreview(inputPreview(short))).toBe(false);
    const long = { path: 'big.txt', content: 'x'.repeat(INPUT_PREVIEW_CHARS) };
    const cut = inputPreview(long);
    expect(typeof cut === 'string' && cut.length < INPUT_PREVIEW_CHARS + 30).toBe(true);
    expect(cut).toMatch(new RegExp(`… \\(${JSON.stringify(long).length} characters\\)$`));
    expect(isCutInputPreview(cut)).toBe(true);
  });
});
