/**
 * Hashes that bind approvals and loop detection to one exact tool call. (The keys themselves are
 * built in contract/keys.ts.) Not in the contract because hashing needs node:crypto.
 */
import crypto from 'node:crypto';

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
