/**
 * How Longhaul makes a model call, for every activity that makes one (a turn's call, the relay's
 * summary): the request it sends, admission by the shared rate limits and budgets first, the call
 * itself (heartbeating, cancellable, its failure classified for Temporal's retries), and the books
 * settled after a failure. One per worker: the admission remembers what each prompt prefix cached.
 */
import crypto from 'node:crypto';
import Anthropic from '@anthropic-ai/sdk';
import { Context } from '@temporalio/activity';
import type { ApplicationFailure } from '@temporalio/common';
import type { ModelCallDeferral } from '../../contract/run';
import type { RunRecord } from '../../shared/store/runs';
import type { ActivityDeps } from '../deps';
import { rethrowIfCancelled } from '../heartbeat';
import { classifyModelError, errorHeaders } from './classify-error';
import { createModelAdmission } from './model-admission';
import type { MessageParam, ModelRequest, ToolSchema } from './model-adapter';
import { SYSTEM_PROMPT } from './prompts';
import { remainingFromHeaders } from './rate-limit-headers';

/** What a run of an agent sends besides its conversation: its version's system prompt and tools, and whether to cache them. */
export interface RunPrompt {
  system: string;
  tools: ToolSchema[];
  promptCaching: boolean;
}

/** System prompts whose prefix key a worker remembers per tool set. */
const REMEMBERED_PREFIXES = 1000;

export function createModelCaller(deps: ActivityDeps) {
  const { store, tools, pricing } = deps;
  const { config } = deps.settings;
  const admission = createModelAdmission({ store, config, pricing, logger: deps.logger });

  /**
   * A request. A run of an agent brings its own `prompt` (system prompt, tools, prompt caching: see
   * RunPrompt); a run that names none sends Longhaul's system prompt and the worker's tools, as always.
   */
  function request(model: string, messages: MessageParam[], opts: { toolChoice?: 'none'; onText?: (text: string) => void; prompt?: RunPrompt }): ModelRequest {
    return {
      model,
      system: opts.prompt?.system ?? SYSTEM_PROMPT,
      messages,
      tools: opts.prompt?.tools ?? tools.schemas(),
      toolChoice: opts.toolChoice,
      maxTokens: deps.settings.maxTokens,
      signal: Context.current().cancellationSignal,
      onText: opts.onText ?? (() => undefined),
      promptCaching: config.model.promptCaching && (opts.prompt?.promptCaching ?? true),
    };
  }

  /**
   * The shared prefix (tools, system) of a request, hashed once per tool set and system prompt: the registry's
   * and each agent version's schemas arrays are stable. An instructions function may give each run its own
   * system prompt, so the prompts remembered per tool set are bounded.
   */
  const prefixKeys = new WeakMap<object, Map<string, string>>();
  const prefixKeyOf = (req: ModelRequest): string => {
    const bySystem = prefixKeys.get(req.tools) ?? new Map<string, string>();
    prefixKeys.set(req.tools, bySystem);
    const id = `${req.model}\u0000${req.system}`;
    let key = bySystem.get(id);
    if (key === undefined) {
      key = crypto.createHash('sha256').update(req.model).update(req.system).update(JSON.stringify(req.tools)).digest('hex');
      if (bySystem.size >= REMEMBERED_PREFIXES) bySystem.delete(bySystem.keys().next().value!);
      bySystem.set(id, key);
    }
    return key;
  };

  /** What a request sends, in characters: the admission estimates its tokens from this. */
  const promptChars = (req: ModelRequest) => req.system.length + JSON.stringify(req.tools).length + JSON.stringify(req.messages).length;

  /** One model call, cancellable (its activity heartbeats throughout); a failure is reported (`onFailure`) and classified for Temporal's retries. */
  async function ask(req: ModelRequest, onFailure?: (err: unknown, failure: ApplicationFailure) => Promise<void>) {
    const adapter = deps.modelFor(req.model);
    try {
      return await adapter.complete(req);
    } catch (err) {
      rethrowIfCancelled(err);
      const failure = classifyModelError(err, adapter.host);
      await onFailure?.(err, failure);
      throw failure;
    }
  }

  /**
   * Where the run stands in its run tree: `tree` — a sub-agent's run, or one with sub-agents' runs below it
   * (its calls are held to the tree's caps before they are made); `children` — it has runs below it (its
   * answers carry the tree's spend). Only runs of agents delegate, so a run of none is asked nothing.
   */
  async function treeRole(run: RunRecord): Promise<{ tree: boolean; children: boolean }> {
    const children = run.agent !== null && (await store.runs.countChildren(run.id)) > 0;
    return { tree: children || run.parentRunId !== null, children };
  }

  /** Asks the books whether `req` may go now (null) or must wait, or is refused (the deferral to return to the workflow). */
  async function admit(key: string, runId: string, req: ModelRequest, tree = false): Promise<ModelCallDeferral | null> {
    const admitted = await admission.admit({
      key,
      runId,
      tree,
      model: req.model,
      promptChars: promptChars(req),
      prefixChars: req.system.length + JSON.stringify(req.tools).length,
      prefixKey: prefixKeyOf(req),
      maxTokens: req.maxTokens,
    });
    if (!('deferred' in admitted)) return null;
    if (admitted.deferred === 'capacity') deps.metrics.modelThrottled({ model: req.model, limit: admitted.limit, waitMs: admitted.waitMs });
    return admitted;
  }

  /** A failed call gives back nothing (it may have been counted), and the provider's headers correct the books. */
  async function settleFailure(key: string, runId: string, req: ModelRequest, metered: boolean, err: unknown): Promise<void> {
    const rateLimited = err instanceof Anthropic.APIError && err.status === 429;
    if (rateLimited) deps.metrics.modelRateLimited(req.model);
    if (!metered && !rateLimited) return;
    await store.transaction((tx) =>
      admission.settle(tx, { key, runId, model: req.model, promptChars: 0, metered, remaining: remainingFromHeaders(errorHeaders(err)), rateLimited }),
    );
  }

  return { admission, request, prefixKeyOf, promptChars, ask, admit, settleFailure, treeRole };
}

export type ModelCaller = ReturnType<typeof createModelCaller>;
