/**
 * The scripted model of `longhaul/testing`: a stand-in for Claude that gives the answers a test wrote, in
 * order, or the answers a function of each request gives (as pydantic-ai's TestModel and FunctionModel do).
 * It speaks the real ModelAdapter interface, so the run's model activity, its ledger, usage and cost, the
 * streamed text and the stop reasons all go the way they go with a real model. Every request it receives is
 * kept, so a test can assert the instructions and tools the model was given.
 */
import { ApplicationFailure } from '@temporalio/common';
import { OUTPUT_TOOL } from '../contract/agents';
import type { AssistantBlock, MessageParam, ModelAdapter, ModelRequest, ModelResponse, ToolSchema } from '../activities/model/model-adapter';

/** A tool call the model makes. */
export interface ScriptedToolCall {
  name: string;
  input?: Record<string, unknown>;
}

/** One answer of the model: text, tool calls, and/or the final result of an agent with an `output` schema. */
export interface ScriptedAnswer {
  /** Text, streamed to the run's viewers word by word. */
  text?: string;
  toolCalls?: ScriptedToolCall[];
  /**
   * The final result: a `final_result` call (OUTPUT_TOOL) with this input. A value that is not a plain object
   * is sent as `{ result: value }`, as an agent whose output schema is not an object receives it.
   */
  output?: unknown;
  /** The provider's stop reason; default `tool_use` when the answer calls a tool, else `end_turn`. */
  stopReason?: string;
  /** Tokens to report; default a rough count (a token per 4 characters of what was sent and answered). */
  usage?: { inputTokens: number; outputTokens: number };
}

/** What the model was sent on one call (the request without its streaming callback and abort signal). */
export interface ModelRequestRecord {
  model: string;
  /** The system prompt: the agent's instructions. */
  system: string;
  messages: MessageParam[];
  /** The tools offered, as the Messages API receives them (name, description, input_schema). */
  tools: ToolSchema[];
  /** `none` for the relay's hand-off summary, when the model must answer in text. */
  toolChoice: 'auto' | 'none';
  maxTokens: number;
}

/** A function of the request that answers it (may be async). Throwing fails the model call, as a provider error would. */
export type ScriptedAnswerFunction = (request: ModelRequestRecord) => ScriptedAnswer | Promise<ScriptedAnswer>;

/** The model adapter a test environment gives every run, whatever model the run names. */
export interface ScriptedModel extends ModelAdapter {
  /** Every request received so far, oldest first. */
  requests(): ModelRequestRecord[];
}

/** A rough token count: what tokenizers make of English and JSON, about four characters a token. */
function roughTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The relay's hand-off summary, answered for a list of answers without using one of them. */
function summaryOf(request: ModelRequestRecord): ScriptedAnswer {
  return { text: `Summary of the work so far (${request.messages.length} messages; written by the scripted model).` };
}

class ScriptedModelAdapter implements ScriptedModel {
  private readonly received: ModelRequestRecord[] = [];
  /** Calls answered so far, for tool_use ids that differ between calls. */
  private calls = 0;
  private nextAnswer = 0;

  constructor(private readonly script: readonly ScriptedAnswer[] | ScriptedAnswerFunction) {}

  requests(): ModelRequestRecord[] {
    return this.received.map((r) => structuredClone(r));
  }

  async complete(req: ModelRequest): Promise<ModelResponse> {
    const request: ModelRequestRecord = structuredClone({
      model: req.model,
      system: req.system,
      messages: req.messages,
      tools: req.tools,
      toolChoice: req.toolChoice ?? 'auto',
      maxTokens: req.maxTokens,
    });
    this.received.push(request);
    const call = ++this.calls;
    const answer = await this.answerFor(structuredClone(request), call);
    const content = this.contentOf(answer, call);
    for (const block of content) {
      if (block.type !== 'text') continue;
      // Streamed as a model streams: a word at a time, stopping when the call is cancelled.
      for (const word of block.text.match(/\S+\s*|\s+/g) ?? []) {
        if (req.signal.aborted) throw req.signal.reason ?? new Error('aborted');
        req.onText(word);
      }
    }
    const sentChars = request.system.length + JSON.stringify(request.messages).length + JSON.stringify(request.tools).length;
    return {
      content,
      stopReason: answer.stopReason ?? (content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn'),
      usage: answer.usage ?? { inputTokens: roughTokens(sentChars), outputTokens: roughTokens(JSON.stringify(content).length) },
    };
  }

  private async answerFor(request: ModelRequestRecord, call: number): Promise<ScriptedAnswer> {
    if (typeof this.script === 'function') return this.script(request);
    if (request.toolChoice === 'none') return summaryOf(request);
    const answer = this.script[this.nextAnswer];
    if (!answer) {
      // Not retried: asking again cannot give an answer the script does not have.
      throw ApplicationFailure.create({
        message:
          `the scripted model has no answer for model call ${call}: it was given ${this.script.length} answer${this.script.length === 1 ? '' : 's'}, ` +
          'all used. Add answers to scriptedModel([...]), or give it a function of the request',
        type: 'ScriptedModelExhausted',
        nonRetryable: true,
      });
    }
    this.nextAnswer += 1;
    return answer;
  }

  private contentOf(answer: ScriptedAnswer, call: number): AssistantBlock[] {
    const content: AssistantBlock[] = [];
    if (answer.text) content.push({ type: 'text', text: answer.text });
    const toolCalls = [...(answer.toolCalls ?? [])];
    if (answer.output !== undefined) toolCalls.push({ name: OUTPUT_TOOL, input: isPlainObject(answer.output) ? answer.output : { result: answer.output } });
    toolCalls.forEach((c, i) => content.push({ type: 'tool_use', id: `toolu_scripted_${call}_${i + 1}`, name: c.name, input: c.input ?? {} }));
    if (content.length === 0) content.push({ type: 'text', text: '' });
    return content;
  }
}

/**
 * A model that answers from a script: a list of answers, given in order (the relay's hand-off summaries are
 * answered without using one), or a function of each request. Running out of answers fails the model call,
 * and so the run, with an error that says so.
 */
export function scriptedModel(script: readonly ScriptedAnswer[] | ScriptedAnswerFunction): ScriptedModel {
  return new ScriptedModelAdapter(script);
}
