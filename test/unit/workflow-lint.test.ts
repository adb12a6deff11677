/** The lint rules that keep workflow code deterministic really reject what they should. */
import { lintAs } from '../support/lint-as';

/** Lints `code` as if it were a file in `folder` (workflows/ by default). */
const lintAsWorkflow = (code: string, folder = 'workflows'): Promise<string[]> => lintAs(`${folder}/lint-probe.ts`, code);

describe('workflow sandbox lint', () => {
  it.each([
    ["import fs from 'node:fs'; export const f = fs;", 'no-restricted-imports'],
    ["import { createActivities } from '../activities'; export const a = createActivities;", 'no-restricted-imports'],
    ["import { Client } from '@temporalio/client'; export const c = Client;", 'no-restricted-imports'],
    ['export const t = Date.now();', 'no-restricted-properties'],
    ['export const r = Math.random();', 'no-restricted-properties'],
    ['export const d = new Date();', 'no-restricted-syntax'],
    ['setTimeout(() => undefined, 1);', 'no-restricted-globals'],
    ["export const x = fetch('http://x');", 'no-restricted-globals'],
    // The contract's zod schemas stay out of the sandbox; its pure modules are welcome (below).
    ["import { runViewSchema } from '../contract/api'; export const s = runViewSchema;", 'no-restricted-imports'],
  ])('rejects %s', async (code, rule) => {
    const messages = await lintAsWorkflow(code);
    expect(messages.some((m) => m.startsWith(rule))).toBe(true);
  });

  it('accepts the SDK, type-only imports and pure workflow modules', async () => {
    const messages = await lintAsWorkflow(
      [
        "import { sleep, uuid4 } from '@temporalio/workflow';",
        "import type { Activities } from '../activities';",
        "import { RunState } from './run-state';",
        'export type A = Activities;',
        'export const go = async () => { await sleep(1); return [uuid4(), RunState, new Date(0)]; };',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('lets workflows use the pure contract modules', async () => {
    const messages = await lintAsWorkflow(
      [
        "import { eventKeys } from '../contract/keys';",
        "import { FailureType } from '../contract/failures';",
        "import { progressQuery } from '../contract/workflow-messages';",
        'export const x = [eventKeys.completed(), FailureType.RunFailed, progressQuery];',
      ].join('\n'),
    );
    expect(messages).toEqual([]);
  });

  it('keeps contract/ on the ground floor: it imports nothing of Longhaul and reads no clock', async () => {
    expect((await lintAsWorkflow("import { loadConfig } from '../shared/config'; export const c = loadConfig;", 'contract')).some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
    expect((await lintAsWorkflow("import { Client } from '@temporalio/client'; export const c = Client;", 'contract')).some((m) => m.startsWith('no-restricted-imports'))).toBe(true);
    expect((await lintAsWorkflow('export const t = Date.now();', 'contract')).some((m) => m.startsWith('no-restricted-properties'))).toBe(true);
    expect(await lintAsWorkflow("import { z } from 'zod'; import { EVENT_TYPES } from './events'; export const s = z.enum(EVENT_TYPES);", 'contract')).toEqual([]);
  });
});
