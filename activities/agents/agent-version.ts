/**
 * An agent version's name: a hash of its data (contract/agents.ts AgentData), so the same data is the
 * same version on every worker and at every start, and anything in the data that changes makes a new
 * one. Code (tool bodies, an instructions function) is not data and never changes it.
 */
import crypto from 'node:crypto';
import type { AgentData } from '../../contract/agents';

/** JSON with every object's keys sorted (recursively) and undefined members left out: one text per value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The first 16 hex digits of sha256 over the data's canonical JSON. */
export function agentVersionOf(data: AgentData): string {
  return crypto.createHash('sha256').update(canonicalJson(data)).digest('hex').slice(0, 16);
}
