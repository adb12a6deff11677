/** The tools a worker offers, by name, and their JSON Schemas for the model. */
import { z } from 'zod';
import { RISKS, type Risk } from '../../contract/run';
import type { ToolSchema } from '../model/model-adapter';
import type { ToolDefinition } from './tool';

/**
 * The risk of a call this worker cannot judge: a tool it does not know (its MCP server was down at this
 * worker's start, another worker runs a newer deploy, the model invented the name) or an input that does
 * not parse. Fail closed: the riskiest reading, so a call never skips an approval because the worker
 * that looked at it happened to know less than the one that runs it.
 */
export const UNKNOWN_RISK: Risk = 'irreversible';

/** Tool names as the Messages API accepts them. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition<unknown>>();
  /** Computed once per worker: the definitions do not change while it runs. */
  private readonly jsonSchemas: ToolSchema[];

  constructor(tools: ToolDefinition<any>[]) {
    for (const tool of tools) {
      if (!TOOL_NAME.test(tool.name)) throw new Error(`invalid tool name: ${tool.name}`);
      if (this.tools.has(tool.name)) throw new Error(`duplicate tool name: ${tool.name}`);
      this.tools.set(tool.name, tool as ToolDefinition<unknown>);
    }
    this.jsonSchemas = [...this.tools.values()].map(toolSchema);
  }

  get(name: string): ToolDefinition<unknown> | undefined {
    return this.tools.get(name);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  /** Risk of one call; an unknown tool or an input that does not parse is the riskiest reading. */
  riskOf(name: string, input: unknown): Risk {
    const tool = this.tools.get(name);
    if (!tool) return UNKNOWN_RISK;
    if (typeof tool.risk === 'string') return tool.risk;
    const parsed = tool.input.safeParse(input);
    if (!parsed.success) return UNKNOWN_RISK;
    // The tool's own code: a reading that throws or is no risk is no reading (else the paid-for answer it rates is lost, and paid for again).
    try {
      const risk: unknown = tool.risk(parsed.data);
      return RISKS.includes(risk as Risk) ? (risk as Risk) : UNKNOWN_RISK;
    } catch {
      return UNKNOWN_RISK;
    }
  }

  /** Whether re-sending this call has the effect of sending it once (ToolDefinition.idempotent); anything unsure says no. */
  isIdempotent(name: string, input: unknown): boolean {
    const tool = this.tools.get(name);
    if (!tool || tool.idempotent === undefined) return false;
    if (typeof tool.idempotent === 'boolean') return tool.idempotent;
    const parsed = tool.input.safeParse(input);
    if (!parsed.success) return false;
    try {
      return tool.idempotent(parsed.data) === true;
    } catch {
      return false;
    }
  }

  /** Whether calls to this tool run as local activities (see ToolDefinition.quick). */
  isQuick(name: string): boolean {
    return this.tools.get(name)?.quick === true;
  }

  /** Tool definitions in the shape the Messages API takes. */
  schemas(): ToolSchema[] {
    return this.jsonSchemas;
  }
}

function toolSchema(tool: ToolDefinition<unknown>): ToolSchema {
  const { $schema: _ignored, ...schema } = tool.inputSchema ?? (z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>);
  return { name: tool.name, description: tool.description, input_schema: { type: 'object', ...schema } as ToolSchema['input_schema'] };
}
