/**
 * PLACEHOLDER on the `library` branch only, so `longhaul/worker` compiles before the `define`
 * branch lands: the `define` engineer's activities/agents/define.ts replaces this file whole
 * (take theirs in the merge). Identity helpers with no validation.
 */
import type { AgentDefinition, WorkerDefinition } from './agent-definition';

/** A definition that cannot be served (duplicate names, an invalid schema, a bad tool name). */
export class AgentDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AgentDefinitionError';
  }
}

export function defineAgent<D = any, I = any, O = any>(def: AgentDefinition<D, I, O>): AgentDefinition<D, I, O> {
  return def;
}

export function defineWorker<D = any>(def: WorkerDefinition<D>): WorkerDefinition<D> {
  return def;
}
