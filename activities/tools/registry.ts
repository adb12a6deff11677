/** The tools a worker offers, by name, and their JSON Schemas for the model. */
import { z } from 'zod';
import type { Risk } from '../../contract/run';
import type { ToolSchema } from '../model/model-adapter';
import type { ToolDefinition } from './tool';

export class ToolRegistry {
  private readonly tools = new Map<string, ToolDefinition<unknown>>();

  constructor(tools: ToolDefinition<any>[]) {
    for (const tool of tools) {
      if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tool.name)) throw new Error(`invalid tool name: ${tool.name}`);
      if (this.tools.has(tool.name)) throw new Error(`duplicate tool name: ${tool.name}`);
      this.tools.set(tool.name, tool as ToolDefinition<unknown>);
    }
  }

  get(name: string): ToolDefinition<unknown> | undefined {
    return this.tools.get(name);
  }

  names(): string[] {
    return [...this.tools.keys()];
  }

  /** Risk of one call; an input that does not parse is treated as the riskiest reading. */
  riskOf(name: string, input: unknown): Risk {
    const tool = this.tools.get(name);
    if (!tool) return 'read';
    if (typeof tool.risk === 'string') return tool.risk;
    const parsed = tool.input.safeParse(input);
    return parsed.success ? tool.risk(parsed.data) : 'irreversible';
  }

  /** Tool definitions in the shape the Messages API takes. */
  schemas(): ToolSchema[] {
    return [...this.tools.values()].map((tool) => {
      const { $schema: _ignored, ...schema } = z.toJSONSchema(tool.input, { io: 'input' }) as Record<string, unknown>;
      return {
        name: tool.name,
        description: tool.description,
        input_schema: { type: 'object', ...schema } as ToolSchema['input_schema'],
      };
    });
  }
}
