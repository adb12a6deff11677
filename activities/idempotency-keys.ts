/**
 * Idempotency keys, built only from stable workflow data (run id = workflow id, turn, tool_use id),
 * never from the Temporal run id or anything random: a retry, a replacement worker or a new
 * segment after continue-as-new all derive the same key for the same call.
 */
import crypto from 'node:crypto';

export const modelCallKey = (runId: string, turn: number): string => `${runId}:turn:${turn}:model`;

export const toolCallKey = (runId: string, turn: number, toolUseId: string): string => `${runId}:turn:${turn}:tool:${toolUseId}`;

export const summaryKey = (runId: string, segment: number): string => `${runId}:segment:${segment}:summary`;

/** JSON with sorted keys, so equal inputs hash equally whatever order the model wrote them in. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Binds approvals and loop detection to one exact call: same tool, same input. */
export function toolCallHash(name: string, input: unknown): string {
  return crypto.createHash('sha256').update(`${name}\n${canonicalJson(input)}`).digest('hex').slice(0, 24);
}
