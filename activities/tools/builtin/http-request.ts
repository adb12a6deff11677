import { z } from 'zod';
import { RISKS, type Risk } from '../../../contract/run';
import { AllowedHosts } from '../../../shared/net/allowed-hosts';
import { defineTool, ToolError, type ToolDefinition } from '../tool';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** Headers by which many servers let a request stand for another method (a GET that deletes). */
const METHOD_OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'];

function riskOfMethod(method: string): Risk {
  if (method === 'GET' || method === 'HEAD') return 'read';
  // A method we do not know (an override says "PURGE") is the riskiest, never a read.
  return (METHODS as readonly string[]).includes(method) ? 'write' : 'irreversible';
}

/** The riskiest of the request's method and every method an override header asks for. */
function riskOfRequest(input: { method: string; headers?: Record<string, string> }): Risk {
  const overrides = Object.entries(input.headers ?? {})
    .filter(([name]) => METHOD_OVERRIDE_HEADERS.includes(name.trim().toLowerCase()))
    .map(([, value]) => value.trim().toUpperCase());
  return [input.method, ...overrides].map(riskOfMethod).reduce((a, b) => (RISKS.indexOf(b) > RISKS.indexOf(a) ? b : a));
}

const inputSchema = z
  .object({
    method: z.enum(METHODS),
    url: z.string().url().max(4096),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.string().max(1_000_000).optional(),
  })
  .strict();

export interface HttpToolOptions {
  /** Hosts the tool may reach, as `host` or `host:port`. Empty: none. */
  allowedHosts: string[];
  /** Of those, the hosts that honour `Idempotency-Key` (absent: none): a request to one re-sends after a crash. */
  idempotentHosts?: string[];
  timeoutSec: number;
  maxResponseBytes: number;
}

/**
 * Calls an HTTP API on an allowed host. Every request not rated `read` (a non-GET/HEAD method, or a GET
 * that overrides its method) carries `Idempotency-Key` (stable across retries of the same tool call). Only
 * the operator knows which servers honour it (`HTTP_TOOL_IDEMPOTENT_HOSTS`): a request to one of those,
 * interrupted by a crash, is re-sent; one to any other host may have taken effect already, so a human is
 * asked before it is sent again.
 */
export function createHttpRequestTool(opts: HttpToolOptions): ToolDefinition<z.infer<typeof inputSchema>> {
  const allowed = new AllowedHosts(opts.allowedHosts);
  const deduplicating = new AllowedHosts(opts.idempotentHosts ?? []);
  return defineTool({
    name: 'http_request',
    description:
      'Make an HTTP request to an allowed host and get { status, headers, body } back (body truncated). ' +
      `Allowed hosts: ${allowed.list.length ? allowed.list.join(', ') : 'none configured'}.`,
    input: inputSchema,
    risk: riskOfRequest,
    idempotent: (input) => deduplicating.refusal(new URL(input.url), 'HTTP_TOOL_IDEMPOTENT_HOSTS') === null,
    async run(input, ctx) {
      const url = new URL(input.url);
      const refusal = allowed.refusal(url, 'HTTP_TOOL_ALLOWED_HOSTS');
      if (refusal) throw new ToolError(refusal);
      const headers = new Headers();
      for (const [name, value] of Object.entries(input.headers ?? {})) {
        if (name.toLowerCase() !== 'idempotency-key') headers.set(name, value);
      }
      // By the request's risk, not its method: a GET overriding its method to POST is a write, re-sent after a crash like one.
      if (riskOfRequest(input) !== 'read') headers.set('Idempotency-Key', ctx.idempotencyKey);

      const signal = AbortSignal.any([ctx.signal, AbortSignal.timeout(opts.timeoutSec * 1000)]);
      let response: Response;
      try {
        response = await fetch(url, {
          method: input.method,
          headers,
          body: input.method === 'GET' || input.method === 'HEAD' ? undefined : input.body,
          redirect: 'manual',
          signal,
        });
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
        throw new ToolError(`request failed: ${err instanceof Error ? err.message : String(err)}${cause}`);
      }
      const { text, truncated } = await readCapped(response, opts.maxResponseBytes, ctx.heartbeat);
      return {
        status: response.status,
        headers: Object.fromEntries(response.headers.entries()),
        body: text,
        ...(truncated && { truncated: true }),
      };
    },
  });
}

async function readCapped(response: Response, maxBytes: number, heartbeat: () => void): Promise<{ text: string; truncated: boolean }> {
  if (!response.body) return { text: '', truncated: false };
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    heartbeat();
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      truncated = true;
      await reader.cancel();
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}
